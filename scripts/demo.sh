#!/usr/bin/env bash
# make demo: the whole quern pipeline on the bundled sample, end to end, in a few
# minutes on 2 cores:
#   ingest (WARC -> documents) | clean (fineweb preset) | dedup (exact + MinHash)
#   -> bpe train (a 1024-token vocabulary) -> tokenize -> mix (two weighted
#   sources, validation split) -> train (a tiny GPT on the CPU) -> sample.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${QUERN:=build/quern}"
Q=$QUERN
OUT=${DEMO_OUT:-demo-out}
J=${JOBS:-$(nproc)}
# OpenMP threads spin at barriers by default; on a shared machine that slows
# the trainer many times over (results are the same either way).
export GOMP_SPINCOUNT=${GOMP_SPINCOUNT:-10000}
rm -rf "$OUT"; mkdir -p "$OUT"
step() { printf '\n== %s\n' "$*"; }
summary() { # stats.json key...
  "${PYTHON:-/usr/bin/python3}" - "$@" <<'PY' 2>/dev/null || true
import json, sys
s = json.load(open(sys.argv[1]))
def get(d, k):
    for p in k.split('.'):
        d = d.get(p, {}) if isinstance(d, dict) else {}
    return d
print('   ' + ', '.join(f"{k}={get(s, k)}" for k in sys.argv[2:]))
PY
}

WARCS="tests/data/ingest/samples/pubdocs-00001.warc.gz tests/data/pipeline/pubdocs-part0.warc.gz tests/data/pipeline/pubdocs-part1.warc.gz tests/data/pipeline/pubdocs-part2.warc.gz"
MAN="tests/data/trainer/text.jsonl tests/data/common/docs-en.jsonl"

step "1. web source: ingest | clean | dedup, one Unix pipeline"
$Q ingest -j "$J" --source debian-docs --stats "$OUT/ingest.json" $WARCS \
  | $Q clean -j "$J" --preset fineweb --lang en --stats "$OUT/clean-web.json" \
  | $Q dedup -j "$J" --stats "$OUT/dedup-web.json" -o "$OUT/web.jsonl"
summary "$OUT/ingest.json" records_in docs_out bytes_warc bytes_out
summary "$OUT/clean-web.json" docs_in docs_out
summary "$OUT/dedup-web.json" docs_in docs_out removed

step "2. second source (manual pages, already plain text): Unicode repair and PII only | dedup"
$Q clean -j "$J" --preset none --pii replace --stats "$OUT/clean-man.json" $MAN \
  | $Q dedup -j "$J" --stats "$OUT/dedup-man.json" -o "$OUT/man.jsonl"
summary "$OUT/clean-man.json" docs_in docs_out
summary "$OUT/dedup-man.json" docs_in docs_out removed
$Q count "$OUT/web.jsonl" "$OUT/man.jsonl"

step "3. train a 1024-token byte-level BPE vocabulary on both sources"
$Q bpe train -j "$J" --vocab-size 1024 --name demo -o "$OUT/vocab" "$OUT/web.jsonl" "$OUT/man.jsonl"

step "4. tokenize each source into llm.c shards"
$Q tokenize -j "$J" --vocab "$OUT/vocab" --source web -o "$OUT/tok-web" "$OUT/web.jsonl"
$Q tokenize -j "$J" --vocab "$OUT/vocab" --source man -o "$OUT/tok-man" "$OUT/man.jsonl"
$Q tokens inspect --docs 1 "$OUT/tok-web" | head -n 20

step "5. budget and mix: 20% web (repeated over ~3 epochs) / 80% man pages, 299,008 train tokens (292 steps of 1,024), 16K validation"
$Q budget -N 0.93M -D 299008 --accel h100 --mfu 0.4
$Q mix -o "$OUT/mix" --tokens 299008 --val-tokens 16K --shard-tokens 100K --seed 7 \
  web="$OUT/tok-web:0.2:4" man="$OUT/tok-man:0.8:4"

step "6. train a tiny GPT on the CPU (exactly the mixed token budget)"
$Q train --data "$OUT/mix/manifest.json" -o "$OUT/run" --tokenizer "$OUT/vocab" \
  --layers 4 --heads 4 --dim 128 --seq 128 --batch 8 --lr 2e-3 \
  --eval-every 50 --eval-tokens 8192 --ckpt-every 100 --print-every 25 -j "$J"

step "7. sample from the trained model"
$Q sample --ckpt "$OUT/run" --prompt "The" -n 120 --temperature 0.8 --top-k 40 --seed 1 -j "$J"

echo
echo "demo done: documents, vocabulary, shards, mix, checkpoints, log.jsonl and loss.svg in $OUT/"
