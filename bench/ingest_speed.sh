#!/usr/bin/env bash
# quern ingest speed, side by side (DESIGN.md section 5: parsing a .warc.gz
# costs under 10% more than just inflating it; several times warcio).
#
#   QUERN=build/quern bash bench/ingest_speed.sh [copies]
#
# Input: BENCH_INPUT=file.warc.gz, else the anchors' man-html.warc.gz if it
# was built (/tmp/anchors*/data), else the corpus's Debian documentation WARCs
# (/work/shared/corpus/warc/pubdocs-0000{0,1}.warc.gz, one gzip member per
# record) concatenated `copies` times (default 4, ~19 MB). Each case runs REPS
# times (default 3); the best wall time and the best CPU time are reported.
#  1. inflate only, with zlib, libdeflate and ISA-L (bench/ingest_inflate.c)
#  2. quern parsing every record without extraction (--types warcinfo: every
#     header parsed, every other block skipped), -j1
#  3. warcio.js on the same file (anchors; skipped if not installed)
#  4. quern with HTML extraction, -j1 and -j2: HTML MB/s per core of CPU time
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
QUERN=${QUERN:-$ROOT/build/quern}
REPS=${REPS:-3}
COPIES=${1:-4}
OUT=${BENCH_OUT:-$ROOT/bench/out}/ingest
mkdir -p "$OUT"
IN=${BENCH_INPUT:-}
if [ -z "$IN" ]; then
  for a in /tmp/anchors/data/man-html.warc.gz /tmp/anchors-ingest/data/man-html.warc.gz; do
    [ -s "$a" ] && IN=$a && break
  done
fi
if [ -z "$IN" ]; then
  IN=$OUT/ingest_input.warc.gz
  : > "$IN"
  for _ in $(seq "$COPIES"); do cat /work/shared/corpus/warc/pubdocs-0000{0,1}.warc.gz >> "$IN"; done
fi
bytes=$(stat -c %s "$IN")
cc -O2 -o "$OUT/ingest_inflate" "$ROOT/bench/ingest_inflate.c" -lz -ldeflate -lisal 2>/dev/null ||
  { echo "(libisal-dev not installed: ISA-L left out)"; cc -O2 -DNO_ISAL -o "$OUT/ingest_inflate" "$ROOT/bench/ingest_inflate.c" -lz -ldeflate; }
cat "$IN" > /dev/null   # page cache

echo "input: $IN ($bytes bytes); load average: $(cut -d' ' -f1-3 /proc/loadavg); cores: $(nproc)"
echo "== 1. inflate only (best of $REPS): name wall_s cpu_s decoded_bytes"
"$OUT/ingest_inflate" "$IN" "$REPS" | tee "$OUT/ingest_inflate.txt"
fast=$(sort -k2 -g "$OUT/ingest_inflate.txt" | head -1)
fast_name=$(echo "$fast" | cut -d' ' -f1); fast_wall=$(echo "$fast" | cut -d' ' -f2); fast_cpu=$(echo "$fast" | cut -d' ' -f3)
decoded=$(echo "$fast" | cut -d' ' -f4)

timed() { # command...: best wall and best cpu (user+sys, from getrusage) of REPS runs -> "wall cpu"
  /usr/bin/python3 - "$REPS" "$@" <<'PY'
import resource, subprocess, sys, time
reps, cmd = int(sys.argv[1]), sys.argv[2:]
bw = bc = 1e9
for _ in range(reps):
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN); t0 = time.monotonic()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    t1 = time.monotonic(); r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    bw = min(bw, t1 - t0)
    bc = min(bc, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime))
print(f"{bw:.4f} {bc:.4f}")
PY
}
echo "== 2. quern ingest, parse only (-j1 --types warcinfo)"
"$QUERN" ingest -j1 --types warcinfo --stats "$OUT/ingest_parse.json" -o /dev/null "$IN"
records=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["records_in"])' "$OUT/ingest_parse.json")
read -r pw pc <<<"$(timed "$QUERN" ingest -j1 --types warcinfo -o /dev/null "$IN")"
awk -v pw="$pw" -v pc="$pc" -v fw="$fast_wall" -v fc="$fast_cpu" -v n="$fast_name" -v r="$records" -v b="$bytes" -v d="$decoded" 'BEGIN {
  printf "quern parse: %.3f s wall, %.3f s cpu, %d records, %.0f records/s, %.1f MB/s of file, %.1f MB/s decoded\n", pw, pc, r, r/pw, b/1e6/pw, d/1e6/pw;
  printf "ratio to %s inflate only: wall %.3f, cpu %.3f (bar: <= 1.10)\n", n, pw/fw, pc/fc }'

echo "== 3. warcio.js (anchors), same file"
node_dir=
for a in /tmp/anchors /tmp/anchors-ingest; do [ -d "$a/node/node_modules/warcio" ] && node_dir=$a && break; done
if [ -n "$node_dir" ]; then
  for mode in skip raw; do
    (cd "$node_dir" && node warc_iter.mjs "$IN" --content $mode) | grep -E '^records=|^seconds=' | tr '\n' ' '
    echo "(content=$mode)"
  done
else
  echo "skipped: warcio not installed (cp -r /work/shared/anchors /tmp/anchors && /tmp/anchors/setup.sh)"
fi

echo "== 4. quern ingest with HTML extraction"
for j in 1 2; do
  "$QUERN" ingest -j$j --stats "$OUT/ingest_extract.json" -o /dev/null "$IN"
  read -r ew ec <<<"$(timed "$QUERN" ingest -j$j -o /dev/null "$IN")"
  /usr/bin/python3 - "$OUT/ingest_extract.json" "$ew" "$ec" "$j" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); w = float(sys.argv[2]); c = float(sys.argv[3]); j = sys.argv[4]
print(f"-j{j}: {w:.3f} s wall, {c:.3f} s cpu; {s['docs_out']} docs, {s['html_bytes']/1e6:.1f} MB HTML -> "
      f"{s['text_bytes']/1e6:.1f} MB text; HTML {s['html_bytes']/1e6/c:.1f} MB/s per core (cpu), "
      f"{s['html_bytes']/1e6/w:.1f} MB/s wall; {s['records_in']/w:.0f} records/s")
PY
done
