#!/usr/bin/env bash
# make bench: every side-by-side benchmark in bench/, one after another, each
# with its own log under bench/out/ (BENCH_OUT). Scripts that compare with the
# anchor tools (tiktoken, Hugging Face tokenizers, warcio, llm.c) need them
# installed first: cp -r ../shared/anchors /tmp/anchors && /tmp/anchors/setup.sh
# Run one benchmark with BENCH=name (e.g. BENCH=tokenize_encode). Speed is never
# asserted: read the figures (medians and ratios) in the logs.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export QUERN=${QUERN:-$ROOT/build/quern}
export BENCH_OUT=${BENCH_OUT:-$ROOT/bench/out}
mkdir -p "$BENCH_OUT"
status=0
for s in "$ROOT"/bench/*.sh; do
  name=$(basename "$s" .sh)
  [ "$name" = run ] && continue
  [ -n "${BENCH:-}" ] && [ "$name" != "$BENCH" ] && continue
  echo "== bench/$name.sh (log: $BENCH_OUT/$name.log)"
  if bash "$s" >"$BENCH_OUT/$name.log" 2>&1; then
    tail -n 15 "$BENCH_OUT/$name.log"
  else
    echo "   failed (exit $?); last lines:"; tail -n 15 "$BENCH_OUT/$name.log" | sed 's/^/   /'
    status=1
  fi
done
exit $status
