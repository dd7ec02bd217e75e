#!/usr/bin/env bash
# make demo: the whole pipeline on the bundled sample (grows as stages land).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${QUERN:=build/quern}"
OUT=${DEMO_OUT:-demo-out}
rm -rf "$OUT"; mkdir -p "$OUT"
echo "== quern demo: output in $OUT/"
echo "(stages are being built; see README)"
