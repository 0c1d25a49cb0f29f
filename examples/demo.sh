#!/usr/bin/env bash
# Build both example cases through the CLI, show what the check finds, complete them and export.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-out}
echo "== Example 1: individual request, late CE renewal of a class III implant"
CASE=$(bash examples/individual/build.sh | tail -1)
derogation check "$CASE" | grep -v not_approved
bash examples/individual/complete.sh "$CASE" "$OUT"
echo
echo "== Example 2: global request, paediatric implant never CE-marked"
GLOBAL=$(bash examples/global/build.sh | tail -1)
derogation check "$GLOBAL" | grep -v not_approved
bash examples/global/complete.sh "$GLOBAL" "$OUT"
echo
derogation cases
echo
echo "Exports are in $OUT/. Read a draft with: derogation draft $CASE --lang en"
