#!/usr/bin/env bash
# MinHash signature speed of `quern dedup` per core (DESIGN.md bar: >= 100 MB/s
# per core for the fineweb preset, 112 hashes).
#
#   QUERN=build/quern bash bench/dedup_signatures.sh [SIZE_MB]
#
# Input: the public text sample (/work/shared/corpus/text when present, else
# tests/data/common) repeated to SIZE_MB (default 64) MB; BENCH_INPUT=file to
# use your own. Reported over REPS (default 5) runs at -j 1, median and best:
#   signature MB/s  text bytes / CPU seconds of the signing thread spent in
#                   normalisation + shingling + xxh3 + 112 permutations + band
#                   keys (from --stats: signature.mb_per_cpu_second)
#   whole run MB/s  JSONL bytes / wall seconds of `quern dedup -j 1` (adds JSON
#                   parsing, the bucket index and output)
# for the presets in PRESETS (default "fineweb nemo": nemo is character
# 24-grams, 260 hashes) and the MinHash kernels in KERNELS (default: the one
# the CPU picks; e.g. KERNELS="scalar avx2 avx512" runs each through
# QUERN_MINHASH_KERNEL, which only changes the speed, never a signature).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
QUERN=${QUERN:-$ROOT/build/quern}
SIZE_MB=${1:-64}
REPS=${REPS:-5}
PRESETS=${PRESETS:-fineweb nemo}
KERNELS=${KERNELS:-auto}
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
echo "input: $IN ($((bytes >> 20)) MiB), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), load $(cut -d' ' -f1-3 /proc/loadavg)"
json() { /usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["signature"][sys.argv[2]])' "$@"; }
# "median best" of the numbers on stdin
median_best() { sort -g | awk '{v[NR]=$1} END {m=(NR%2)?v[(NR+1)/2]:(v[NR/2]+v[NR/2+1])/2; printf "%6.1f %6.1f\n", m, v[NR]}'; }
for preset in $PRESETS; do
  for kernel in $KERNELS; do
    sigs=() walls=()
    for _ in $(seq "$REPS"); do
      t0=$(date +%s.%N)
      if [ "$kernel" = auto ]; then
        "$QUERN" dedup -j 1 --preset "$preset" --stats "$OUT/dedup_sig_stats.json" "$IN" > /dev/null
      else
        QUERN_MINHASH_KERNEL=$kernel "$QUERN" dedup -j 1 --preset "$preset" --stats "$OUT/dedup_sig_stats.json" "$IN" > /dev/null
      fi
      t1=$(date +%s.%N)
      sigs+=("$(json "$OUT/dedup_sig_stats.json" mb_per_cpu_second)")
      walls+=("$(echo "$t0 $t1 $bytes" | awk '{print $3/1e6/($2-$1)}')")
    done
    used=$(json "$OUT/dedup_sig_stats.json" kernel)
    read -r sig_med sig_best < <(printf '%s\n' "${sigs[@]}" | median_best)
    read -r wall_med wall_best < <(printf '%s\n' "${walls[@]}" | median_best)
    printf 'dedup signatures %-8s kernel %-7s signature %6.1f MB/s per core (best %6.1f)   whole run (-j 1) %6.1f MB/s (best %6.1f)\n' \
      "$preset" "$used" "$sig_med" "$sig_best" "$wall_med" "$wall_best"
  done
done
