#!/usr/bin/env bash
# Example 1, second part: attach the signed precautions certificate (the last blocker),
# have a consultant approve two sections, and export DOCX and Markdown.
# Usage: bash examples/individual/complete.sh CASE [OUT_DIR]
set -euo pipefail
D=${DEROGATION:-derogation}
CASE=$1
OUT=${2:-out}
EVIDENCE=${EVIDENCE_DIR:-$(mktemp -d)/evidence}
${PYTHON:-python} "$(dirname "$0")/../make_evidence.py" "$EVIDENCE" >/dev/null
$D attach "$CASE" "$EVIDENCE/individual/attestation-precautions.pdf" --kind precautions_certificate
$D --role consultant --by "j.durand (consultant)" approve "$CASE" need
$D --role consultant --by "j.durand (consultant)" approve "$CASE" regulatory_status
$D export "$CASE" --format docx --out "$OUT/$CASE.docx"
$D export "$CASE" --format md --out "$OUT/$CASE.md"
$D export "$CASE" --format md --lang en --out "$OUT/$CASE.en.md"
$D export "$CASE" --format pdf --out "$OUT/$CASE.pdf"
$D export "$CASE" --format docx --lang en --out "$OUT/$CASE.en.docx"
$D export "$CASE" --pack review --format docx --out "$OUT/$CASE.review.docx"
$D export "$CASE" --pack review --format md --out "$OUT/$CASE.review.md"
