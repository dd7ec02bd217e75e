#!/usr/bin/env bash
# quern cat / count throughput on a 50 MB+ JSONL file (DESIGN.md: JSON
# parsing must not be the bottleneck; the bar is >= 300 MB/s per core).
#
#   QUERN=build/quern bash bench/cat_speed.sh [SIZE_MB]
#
# The input is the repository's sample documents (tests/data/common)
# repeated to SIZE_MB (default 64), so it is the same everywhere; set
# BENCH_INPUT=file.jsonl to use your own. Each case runs REPS times (default
# 3); the best wall time and the best CPU time (user+sys) are reported as MB/s
# of decoded JSONL input. On a shared, loaded machine the CPU figure is the
# one that says "per core"; -j 2 rows use up to two cores.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
QUERN=${QUERN:-$ROOT/build/quern}
SIZE_MB=${1:-64}
REPS=${REPS:-3}
OUT=${BENCH_OUT:-$ROOT/bench/out}
mkdir -p "$OUT"
IN=${BENCH_INPUT:-$OUT/cat_input.jsonl}
if [ -z "${BENCH_INPUT:-}" ] && { [ ! -s "$IN" ] || [ "$(stat -c %s "$IN")" -lt $((SIZE_MB << 20)) ]; }; then
  : > "$IN"
  while [ "$(stat -c %s "$IN")" -lt $((SIZE_MB << 20)) ]; do
    cat "$ROOT"/tests/data/common/docs-en.jsonl "$ROOT"/tests/data/common/docs-multi.jsonl >> "$IN"
  done
fi
bytes=$(stat -c %s "$IN")
"$QUERN" cat -j 1 "$IN" > "$OUT/cat_canonical.jsonl"     # quern's own form
zstd -q -f -3 "$IN" -o "$OUT/cat_input.jsonl.zst"
gzip -c -6 "$IN" > "$OUT/cat_input.jsonl.gz"
cat "$IN" > /dev/null                                     # warm the page cache

best() { # label, command...: best of REPS runs -> wall s, MB/s by wall, MB/s per CPU second
  local label=$1; shift
  local bw= bc=
  for _ in $(seq "$REPS"); do
    /usr/bin/time -f "%e %U %S" -o "$OUT/time.txt" "$@" > /dev/null
    read -r wall usr sys < "$OUT/time.txt"
    bw=$(echo "$wall ${bw:-999999}" | awk '{print ($1<$2)?$1:$2}')
    bc=$(echo "$usr $sys ${bc:-999999}" | awk '{c=$1+$2; if (c<0.001) c=0.001; print (c<$3)?c:$3}')
  done
  printf '%-44s %7.3f s %8.1f MB/s wall %8.1f MB/s per CPU-s\n' "$label" "$bw" \
    "$(echo "$bytes $bw" | awk '{print $1/($2>0?$2:0.001)/1e6}')" "$(echo "$bytes $bc" | awk '{print $1/$2/1e6}')"
}

echo "input: $IN ($(echo "$bytes" | awk '{printf "%.1f MB", $1/1e6}')), $(nproc) cores, best of $REPS"
echo "machine load: $(cut -d' ' -f1-3 /proc/loadavg)"
best "cat (coreutils, floor)"                      cat "$IN"
best "quern cat -j 1 (input with spaces)"          "$QUERN" cat -j 1 "$IN"
best "quern cat -j 1 (quern's own form)"           "$QUERN" cat -j 1 "$OUT/cat_canonical.jsonl"
best "quern count -j 1"                            "$QUERN" count -j 1 "$IN"
best "quern cat -j 1 .zst input"                   "$QUERN" cat -j 1 "$OUT/cat_input.jsonl.zst"
best "quern cat -j 1 .gz input"                    "$QUERN" cat -j 1 "$OUT/cat_input.jsonl.gz"
best "quern cat -j 2"                              "$QUERN" cat -j 2 "$IN"
rm -rf "$OUT/cat_shards"
best "quern cat -j 1 -o DIR (zstd shards)"         "$QUERN" cat -j 1 -o "$OUT/cat_shards/" "$IN"
if [ -x /usr/bin/python3 ]; then
  best "python3 json.loads+dumps per line (ref)"   /usr/bin/python3 -c '
import json, sys
w = sys.stdout.write
for l in open(sys.argv[1], encoding="utf-8"):
    w(json.dumps(json.loads(l), ensure_ascii=False, separators=(",", ":")) + "\n")' "$IN"
fi
