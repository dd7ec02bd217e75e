#!/usr/bin/env bash
# quern clean throughput: the whole fineweb preset (size, normalize, URL,
# CLD2 language ID, Gopher repetition, Gopher quality, C4 without the
# terminal-punctuation rule, FineWeb) against the bar of >= 50 MB/s per core
# (DESIGN.md section 5), plus the scaling at -j 2 and the cost of each filter.
#
#   QUERN=build/quern bash bench/clean_speed.sh [SIZE_MB]
#
# Input: the public text sample (/work/shared/corpus/text/*.jsonl, English
# and multilingual documents) repeated to SIZE_MB (default 64); when that
# folder is absent, the repository's tests/data/clean sample; BENCH_INPUT=file
# to use your own. MB/s per core = input JSONL bytes / CPU seconds (user+sys)
# of a -j 1 run, best of REPS (default 3); scaling = wall time at -j 1 over
# wall time at -j 2. Numbers are only as quiet as the machine (load shown).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
QUERN=${QUERN:-$ROOT/build/quern}
SIZE_MB=${1:-64}
REPS=${REPS:-3}
OUT=${BENCH_OUT:-$ROOT/bench/out}
mkdir -p "$OUT"
SRC_DIR=/work/shared/corpus/text
if [ -d "$SRC_DIR" ]; then SRC=("$SRC_DIR"/*.jsonl); else SRC=("$ROOT"/tests/data/clean/*.jsonl); fi
make_input() { # file, sources...: repeat the sources up to SIZE_MB
  local f=$1; shift
  : > "$f"
  while [ "$(stat -c %s "$f")" -lt $((SIZE_MB << 20)) ]; do cat "$@" >> "$f"; done
}
if [ -n "${BENCH_INPUT:-}" ]; then
  IN=$BENCH_INPUT
else
  IN=$OUT/clean_input.jsonl
  make_input "$IN" "${SRC[@]}"
fi
bytes=$(stat -c %s "$IN")
cat "$IN" > /dev/null   # warm the page cache

# run label args...: best CPU seconds and wall seconds over REPS runs
run() {
  local label=$1; shift
  local best_cpu=999999 best_wall=999999
  for _ in $(seq "$REPS"); do
    local line
    line=$( { /usr/bin/time -f "%U %S %e" "$QUERN" clean "$@" "$IN" > /dev/null; } 2>&1 | tail -n 1)
    read -r u s e <<< "$line"
    best_cpu=$(echo "$u $s $best_cpu" | awk '{c=$1+$2; print (c<$3)?c:$3}')
    best_wall=$(echo "$e $best_wall" | awk '{print ($1<$2)?$1:$2}')
  done
  printf '%-46s cpu %7.2f s  wall %7.2f s  %7.1f MB/s per core\n' "$label" "$best_cpu" "$best_wall" \
    "$(echo "$bytes $best_cpu" | awk '{print $1/$2/1e6}')"
  LAST_WALL=$best_wall
}

echo "input: $IN ($(echo "$bytes" | awk '{printf "%.1f MB", $1/1e6}') of JSONL), $(nproc) cores, best of $REPS"
echo "machine load: $(cut -d' ' -f1-3 /proc/loadavg)"
run "read + write only (--preset none) -j 1" -j 1 --preset none
run "fineweb preset -j 1" -j 1
w1=$LAST_WALL
run "fineweb preset -j 2" -j 2
w2=$LAST_WALL
echo "scaling -j 1 -> -j 2: $(echo "$w1 $w2" | awk '{printf "%.2fx", $1/$2}') (wall)"
run "fineweb preset, lang reads whole texts -j 1" -j 1 --set lang.max_bytes=0
echo "cost of each filter alone (-j 1):"
for f in normalize lang gopher_repetition gopher_quality c4_quality fineweb_quality; do
  run "  --only $f" -j 1 --only "$f" --set lang.keep=all
done
run "  --only pii (--pii replace)" -j 1 --only pii
