#!/usr/bin/env bash
# The whole in-memory `quern dedup` (exact + fineweb MinHash LSH): throughput
# and peak memory per million documents.
#
#   QUERN=build/quern bash bench/dedup_memory.sh [DOCS]
#
# 1. the public text sample as it is (/work/shared/corpus/text/*.jsonl, or
#    tests/data/common): MB/s at -j 1 and -j all;
# 2. DOCS (default 1,000,000) synthetic documents of 40-80 words drawn at
#    random from the same sample's vocabulary (so unrelated to each other);
#    5% are near copies of an earlier document with one word replaced, 1%
#    exact copies: MB/s, peak RSS (GNU time), RSS per million documents, and
#    quern's own memory.bytes_per_doc (index only) from --stats, for the
#    default (keys only), --clusters (keys and representatives) and --verify.
# Peak RSS includes what the quern binary holds before reading anything
# (compare `/usr/bin/time -f %M $QUERN dedup --help`).
# MB/s is given per wall second and per CPU second (user+sys), since a shared
# machine's wall time is noisy.
# Each timing is the best of REPS (default 2) runs.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
QUERN=${QUERN:-$ROOT/build/quern}
DOCS=${1:-1000000}
REPS=${REPS:-2}
OUT=${BENCH_OUT:-$ROOT/bench/out}
mkdir -p "$OUT"
SRC=(/work/shared/corpus/text/en.sample.jsonl /work/shared/corpus/text/multi.sample.jsonl)
[ -r "${SRC[0]}" ] || SRC=("$ROOT"/tests/data/common/docs-en.jsonl "$ROOT"/tests/data/common/docs-multi.jsonl)
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "GNU time (/usr/bin/time) is needed for peak memory" >&2; exit 77; }

run() { # label, bytes, docs, args...: best wall of REPS, peak RSS of the last
  local label=$1 bytes=$2 docs=$3; shift 3
  local best=999999 rss=0 cpu=0 cpu_u cpu_s
  for _ in $(seq "$REPS"); do
    local t0 t1
    t0=$(date +%s.%N)
    "$TIME" -f '%M %U %S' -o "$OUT/dedup_time.txt" "$QUERN" dedup --stats "$OUT/dedup_mem_stats.json" "$@" > /dev/null
    t1=$(date +%s.%N)
    best=$(echo "$t0 $t1 $best" | awk '{d=$2-$1; print (d<$3)?d:$3}')
    read -r rss cpu_u cpu_s < <(tail -n 1 "$OUT/dedup_time.txt")
    cpu=$(echo "$cpu_u $cpu_s" | awk '{print $1+$2}')
  done
  /usr/bin/python3 - "$label" "$bytes" "$docs" "$best" "$rss" "$OUT/dedup_mem_stats.json" "$cpu" <<'PY'
import json, sys
label, nbytes, docs, secs, rss_kb, stats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
cpu = float(sys.argv[7])
s = json.load(open(stats))
print("%-34s %7.1f MB/s wall %6.1f MB/cpu-s  %6.2fs  docs %d -> %d (exact -%d, near -%d)  peak RSS %.0f MiB = %.0f MiB per 1M docs  index (%s) %.0f B/doc (target %d)"
      % (label, nbytes / 1e6 / secs, nbytes / 1e6 / max(cpu, 1e-3), secs, s["docs_in"], s["docs_out"], s["removed"]["exact"], s["removed"]["near"],
         rss_kb / 1024, rss_kb / 1024 / docs * 1e6, s["memory"].get("index", "?"), s["memory"]["bytes_per_doc"], s["memory"]["target_bytes_per_doc"]))
PY
}

echo "$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
cat "${SRC[@]}" > "$OUT/dedup_public.jsonl"
pb=$(stat -c %s "$OUT/dedup_public.jsonl"); pd=$(wc -l < "$OUT/dedup_public.jsonl")
run "public sample, -j 1" "$pb" "$pd" -j 1 "$OUT/dedup_public.jsonl"
run "public sample, -j $(nproc)" "$pb" "$pd" "$OUT/dedup_public.jsonl"

SYN=$OUT/dedup_synthetic_$DOCS.jsonl
if [ ! -s "$SYN" ]; then
  /usr/bin/python3 - "$DOCS" "$SYN" "${SRC[@]}" <<'PY'
import json, random, sys
n, out, srcs = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
vocab = set()
for p in srcs:
    for line in open(p, encoding="utf-8"):
        vocab.update(json.loads(line)["text"].split())
vocab = sorted(vocab)
rng = random.Random(5)
made = []
with open(out, "w", encoding="utf-8") as f:
    for i in range(n):
        r = rng.random()
        if made and r < 0.05:     # near copy: one word replaced
            w = list(rng.choice(made)); w[rng.randrange(len(w))] = "changed%d" % i
        elif made and r < 0.06:   # exact copy
            w = list(rng.choice(made))
        else:                     # fresh: words drawn from the sample's vocabulary
            w = rng.choices(vocab, k=rng.randint(40, 80))
        if len(made) < 20000: made.append(w)
        elif rng.random() < 0.01: made[rng.randrange(len(made))] = w
        f.write(json.dumps({"id": str(i), "text": " ".join(w)}, ensure_ascii=False) + "\n")
PY
fi
sb=$(stat -c %s "$SYN")
run "synthetic $DOCS docs, -j $(nproc)" "$sb" "$DOCS" "$SYN"
run "synthetic $DOCS docs, --clusters" "$sb" "$DOCS" --clusters "$OUT/dedup_clusters.jsonl" "$SYN"
run "synthetic $DOCS docs, --verify 0.8" "$sb" "$DOCS" --verify 0.8 "$SYN"
