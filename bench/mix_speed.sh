#!/usr/bin/env bash
# quern mix: output throughput (GB/s of shard bytes written) against the
# disk's own speed, and peak memory against source size.
#
#   QUERN=build/quern bash bench/mix_speed.sh [OUT_TOKENS]
#
# Three synthetic sources (bench/mix_gen.py: log-normal document lengths,
# ~700 tokens mean) at two scales, 1x (sum ~1.5x the output) and 4x; the
# output is the same OUT_TOKENS (default 300M tokens = 600 MB) either way,
# so a memory that does not depend on source size shows as equal peak RSS.
# Page cache is warm (sources read once first): this measures mix, not the
# source disk. Floor: dd of the same bytes with fsync (what writing costs).
# Reported: wall GB/s of output, CPU seconds (user + sys; GB per CPU-second is
# the figure that does not depend on the disk), peak RSS.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
QUERN=${QUERN:-$ROOT/build/quern}
PY=${PYTHON:-/usr/bin/python3}
OUT_TOKENS=${1:-300000000}
OUT=${BENCH_OUT:-$ROOT/bench/out}/mix/t$OUT_TOKENS
mkdir -p "$OUT"
gen() { # dir tokens tag seed
  [ -s "$1/manifest.json" ] || "$PY" "$ROOT/bench/mix_gen.py" "$1" "$2" "$3" "$4"
}
for scale in 1 4; do
  gen "$OUT/s$scale/web"   $((OUT_TOKENS * scale)) 1 $((scale * 10 + 1))
  gen "$OUT/s$scale/books" $((OUT_TOKENS * scale / 4)) 2 $((scale * 10 + 2))
  gen "$OUT/s$scale/wiki"  $((OUT_TOKENS * scale / 20)) 3 $((scale * 10 + 3))
done
src_bytes() { du -sb "$OUT/s$1" | cut -f1; }
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(free -g | awk '/Mem:/{print $2}') GiB RAM"
echo "output: $OUT_TOKENS tokens ($((OUT_TOKENS * 2 / 1000000)) MB) per run; weights web 0.6, books 0.3, wiki 0.1"

# Floor: writing the same number of bytes with dd and fsync (the disk's speed).
cat "$OUT"/s1/*/*.bin > /dev/null
bytes=$((OUT_TOKENS * 2))
t0=$(date +%s.%N)
{ cat "$OUT"/s1/*/*.bin || true; } | dd of="$OUT/dd.out" bs=4M count=$((bytes / 4194304)) iflag=fullblock conv=fsync status=none
t1=$(date +%s.%N)
rm -f "$OUT/dd.out"
echo "$t0 $t1 $bytes" | awk '{printf "%-34s %7.2f GB/s  %6.2f s\n", "dd | fsync, same bytes (floor)", $3/($2-$1)/1e9, $2-$1}'

run() { # label scale jobs
  local label=$1 scale=$2 jobs=$3
  cat "$OUT/s$scale"/*/*.bin "$OUT/s$scale"/*/*.idx > /dev/null   # warm cache
  rm -rf "$OUT/mixed"
  local t0 t1
  t0=$(date +%s.%N)
  /usr/bin/time -f "%M %U %S" -o "$OUT/time.txt" "$QUERN" mix -o "$OUT/mixed" -j "$jobs" --tokens "$OUT_TOKENS" \
    --val-tokens 1M --shard-tokens 100M --force \
    web="$OUT/s$scale/web":0.6 books="$OUT/s$scale/books":0.3 wiki="$OUT/s$scale/wiki":0.1
  t1=$(date +%s.%N)
  local outb
  outb=$(du -cb "$OUT"/mixed/*.bin | tail -1 | cut -f1)
  echo "$t0 $t1 $outb $(cat "$OUT/time.txt") $(src_bytes "$scale")" | awk -v l="$label" \
    '{printf "%-34s %7.2f GB/s  %6.2f s  cpu %5.2f s (%5.2f GB/s per cpu-s)  peak RSS %5.1f MB  sources %.2f GB\n",
      l, $3/($2-$1)/1e9, $2-$1, $5+$6, $3/($5+$6)/1e9, $4/1024, $7/1e9}'
}
run "mix -j 1, sources 1x" 1 1
run "mix -j $(nproc), sources 1x" 1 "$(nproc)"
run "mix -j 1, sources 4x" 4 1
run "mix -j $(nproc), sources 4x" 4 "$(nproc)"
rm -rf "$OUT/mixed"
