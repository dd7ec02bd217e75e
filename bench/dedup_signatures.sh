#!/usr/bin/env bash
# MinHash signature speed of `quern dedup` per core (DESIGN.md bar: >= 100 MB/s
# per core for the fineweb preset, 112 hashes).
#
#   QUERN=build/quern bash bench/dedup_signatures.sh [SIZE_MB]
#
# Input: the public text sample (/work/shared/corpus/text when present, else
# tests/data/common) repeated to SIZE_MB (default 64) MB; BENCH_INPUT=file to
# use your own. Reported, each the best of REPS (3) runs at -j 1:
#   signature MB/s  text bytes / CPU seconds of the signing thread spent in
#                   normalisation + shingling + xxh3 + 112 permutations + band
#                   keys (from --stats: signature.mb_per_cpu_second)
#   whole run MB/s  JSONL bytes / wall seconds of `quern dedup -j 1` (adds JSON
#                   parsing, the bucket index and output)
# plus the same for the nemo preset (character 24-grams, 260 hashes).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
QUERN=${QUERN:-$ROOT/build/quern}
SIZE_MB=${1:-64}
REPS=${REPS:-3}
OUT=${BENCH_OUT:-$ROOT/bench/out}
mkdir -p "$OUT"
SRC=(/work/shared/corpus/text/en.sample.jsonl)
[ -r "${SRC[0]}" ] || SRC=("$ROOT"/tests/data/common/docs-en.jsonl)
IN=${BENCH_INPUT:-$OUT/dedup_sig_input.jsonl}
if [ -z "${BENCH_INPUT:-}" ] && { [ ! -s "$IN" ] || [ "$(stat -c %s "$IN")" -lt $((SIZE_MB << 20)) ]; }; then
  : > "$IN"
  while [ "$(stat -c %s "$IN")" -lt $((SIZE_MB << 20)) ]; do cat "${SRC[@]}" >> "$IN"; done
fi
bytes=$(stat -c %s "$IN")
cat "$IN" > /dev/null
echo "input: $IN ($((bytes >> 20)) MiB), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
for preset in fineweb nemo; do
  best_sig=0 best_wall=0
  for _ in $(seq "$REPS"); do
    t0=$(date +%s.%N)
    "$QUERN" dedup -j 1 --preset $preset --stats "$OUT/dedup_sig_stats.json" "$IN" > /dev/null
    t1=$(date +%s.%N)
    sig=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["signature"]["mb_per_cpu_second"])' "$OUT/dedup_sig_stats.json")
    wall=$(echo "$t0 $t1 $bytes" | awk '{print $3/1e6/($2-$1)}')
    best_sig=$(echo "$sig $best_sig" | awk '{print ($1>$2)?$1:$2}')
    best_wall=$(echo "$wall $best_wall" | awk '{print ($1>$2)?$1:$2}')
  done
  kernel=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["signature"]["kernel"])' "$OUT/dedup_sig_stats.json")
  printf 'dedup signatures %-8s kernel %-7s signature %6.1f MB/s per core   whole run (-j 1) %6.1f MB/s\n' \
    "$preset" "$kernel" "$best_sig" "$best_wall"
done
