#!/usr/bin/env bash
# Example 2, second part: the signed precautions certificate is not available yet, so the
# manufacturer records a conscious exception (it appears in the exported annex), then exports.
# Usage: bash examples/global/complete.sh CASE [OUT_DIR]
set -euo pipefail
D=${DEROGATION:-derogation}
CASE=$1
OUT=${2:-out}
$D waive "$CASE" precautions_certificate --reason "Attestation signée par le responsable affaires réglementaires à joindre au dépôt ; projet transmis pour relecture interne."
$D export "$CASE" --format docx --out "$OUT/$CASE.docx"
$D export "$CASE" --format md --out "$OUT/$CASE.md"
$D export "$CASE" --format pdf --out "$OUT/$CASE.pdf"
$D export "$CASE" --pack review --format docx --out "$OUT/$CASE.review.docx"
