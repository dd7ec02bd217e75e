#!/usr/bin/env bash
# bench/tokenize_train.sh - BPE training time, side by side in one run on the same
# file: quern bpe train vs Hugging Face tokenizers' trainer (npm, native, its
# default BpeTrainer: vocab 30000, min_frequency 0, GPT-2 byte-level regex).
# quern runs with the same settings (GPT-2 pattern, every line with its newline
# one document, no special tokens, --min-count 1) at 30000 and at 32000 (the
# issue's 32k), one thread, then -j 2 for the scaling of the counting phase.
#
#   bench/tokenize_train.sh [FILE.txt]
#
# Needs the anchors (cp -r /work/shared/anchors /tmp/anchors && /tmp/anchors/setup.sh).
# FILE defaults to the public text sample (/work/shared/corpus/text/*.jsonl, the
# texts written out as plain lines); the anchors' data/corpus.txt (46.8 MB, built
# by their make_corpus.sh) is the bigger choice.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
QUERN=${QUERN:-$ROOT/build/quern}
ANCHORS=${ANCHORS:-/tmp/anchors}
OUT=${BENCH_OUT:-/tmp/quern-bench-tokenize}
PY=${PYTHON:-/usr/bin/python3}
mkdir -p "$OUT"
[ -f "$ANCHORS/hf_tokenizers.mjs" ] && [ -d "$ANCHORS/node/node_modules/tokenizers" ] || {
  echo "bench/tokenize_train.sh: anchors missing: cp -r /work/shared/anchors /tmp/anchors && /tmp/anchors/setup.sh" >&2
  exit 77; }
FILE=${1:-$OUT/sample.txt}
if [ -z "${1:-}" ]; then
  cat /work/shared/corpus/text/en.sample.jsonl /work/shared/corpus/text/multi.sample.jsonl |
    "$PY" -c 'import json,sys
for l in sys.stdin: sys.stdout.write(json.loads(l)["text"] + "\n")' > "$FILE"
fi
echo "file: $FILE ($(stat -c %s "$FILE") bytes), $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"

hf=$(node "$ANCHORS/hf_tokenizers.mjs" train "$FILE" --out "$OUT/hf_train.json" --threads 1 | grep '^RESULT')
hf_s=$("$PY" -c 'import json,sys; print(json.loads(sys.argv[1][7:])["seconds"])' "$hf")
hf_v=$("$PY" -c 'import json,sys; print(json.loads(sys.argv[1][7:])["trained_vocab"])' "$hf")
echo "hf-tokenizers train (1 thread): vocab $hf_v, $hf_s s"
hf2=$(node "$ANCHORS/hf_tokenizers.mjs" train "$FILE" --out "$OUT/hf_train2.json" --threads 2 | grep '^RESULT')
echo "hf-tokenizers train (2 threads): $("$PY" -c 'import json,sys; print(json.loads(sys.argv[1][7:])["seconds"])' "$hf2") s"

for v in 30000 32000; do
  for j in 1 2; do
    rm -rf "$OUT/qtrain"
    /usr/bin/time -f '%e' -o "$OUT/qtrain.time" "$QUERN" bpe train --vocab-size "$v" --format text --pattern gpt2 \
      --no-special --min-count 1 -j "$j" -o "$OUT/qtrain" "$FILE" 2> "$OUT/qtrain.err"
    t=$(tail -1 "$OUT/qtrain.time")
    detail=$(grep 'quern bpe train:' "$OUT/qtrain.err" | sed 's/.*; counting/counting/')
    echo "quern bpe train --vocab-size $v -j $j: $t s wall ($detail)"
    if [ "$v" = 30000 ] && [ "$j" = 1 ]; then
      echo "  quern / hf-tokenizers (1 thread, vocab 30000): $(awk "BEGIN{printf \"%.1fx faster\", $hf_s/$t}")"
    fi
  done
done

# the trained vocabulary through Hugging Face tokenizers (tokenizer.json as quern
# wrote it) gives the same ids as quern's encoder (a check of the export)
rm -rf "$OUT/qtrain"
"$QUERN" bpe train --vocab-size 32000 --format text --pattern gpt2 --min-count 1 -o "$OUT/qtrain" "$FILE" 2>/dev/null
"$QUERN" bpe encode --vocab "$OUT/qtrain" "$FILE" > "$OUT/qtrain.quern.ids"
node "$ANCHORS/hf_tokenizers.mjs" encode "$OUT/qtrain/tokenizer.json" "$FILE" --mode docs --threads 1 \
  --dump "$OUT/qtrain.hf.ids" > /dev/null
cmp -s "$OUT/qtrain.quern.ids" "$OUT/qtrain.hf.ids" && echo "trained 32k vocabulary: HF tokenizers (our tokenizer.json) and quern give identical ids" \
  || echo "trained 32k vocabulary: HF and quern ids DIFFER"
