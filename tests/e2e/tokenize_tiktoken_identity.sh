#!/usr/bin/env bash
# Token identity with OpenAI's tiktoken (the npm build of its Rust core) for gpt2,
# cl100k_base and o200k_base: real documents (JSONL), documents with invalid UTF-8,
# adversarial Unicode (tests/data/tokenize/make_adversarial.py), one whole file,
# and special tokens allowed. Every id must be equal. The gpt2 vocabulary must also
# give the same ids when loaded from tokenizer.json and from encoder.json + vocab.bpe
# (both written by quern from the .tiktoken).
# Needs npm (the package is installed once into a cache under the build directory).
source tests/e2e/lib.bash
command -v npm >/dev/null && command -v node >/dev/null || skip "npm/node not installed: cannot run tiktoken"
CACHE=${QUERN_NPM_DIR:-${BUILD:-$WORK}/npm-tiktoken-1.0.22}
DATA=$WORK/data
scripts/vocab-from-npm.sh --npm-dir "$CACHE" --quern "$QUERN" "$DATA/tokenizers" \
  || fail "could not install npm tiktoken into $CACHE / convert its vocabularies"
export QUERN_DATA=$DATA
DUMP=tests/e2e/tokenize_tiktoken_dump.js
"$PYTHON" "$TESTDATA/tokenize/make_adversarial.py" > "$WORK/adversarial.txt"
# a file with special-token text, to encode with specials allowed and not
printf 'a<|endoftext|>b <|endofprompt|>\n<|fim_prefix|>x<|fim_suffix|>y<|fim_middle|>\n<|endoftext|><|endoftext|>\n' > "$WORK/special.txt"

total=0
check() { # name encoding [flags...] file
  local name=$1 enc=$2; shift 2
  local file=${*: -1}; local flags=("${@:1:$#-1}")
  node "$DUMP" "$CACHE" "$enc" "$file" "${flags[@]+"${flags[@]}"}" > "$WORK/ref.ids" || fail "$name: tiktoken failed"
  "$QUERN" bpe encode --vocab "${VOCAB:-$enc}" "${flags[@]+"${flags[@]}"}" "$file" > "$WORK/q.ids" 2>"$WORK/q.err" \
    || { [ "$file" = "$TESTDATA/tokenize/invalid-utf8.jsonl" ] || { cat "$WORK/q.err"; fail "$name: quern failed"; }; }
  local docs tokens
  docs=$(wc -l < "$WORK/ref.ids"); tokens=$(wc -w < "$WORK/ref.ids")
  [ "$docs" -gt 0 ] || fail "$name: no documents"
  if ! cmp -s "$WORK/ref.ids" "$WORK/q.ids"; then
    diff "$WORK/ref.ids" "$WORK/q.ids" | head -6 >&2
    fail "$name ($enc): ids differ from tiktoken"
  fi
  echo "identical: $name $enc${VOCAB:+ via $(basename "$VOCAB")}: $docs documents, $tokens tokens"
  total=$((total + tokens))
}

for enc in gpt2 cl100k_base o200k_base; do
  check docs.jsonl "$enc" --jsonl "$TESTDATA/tokenize/docs.jsonl"
  check invalid-utf8.jsonl "$enc" --jsonl "$TESTDATA/tokenize/invalid-utf8.jsonl"
  check adversarial.txt "$enc" "$WORK/adversarial.txt"
  check adversarial.txt-whole "$enc" --whole "$WORK/adversarial.txt"
  check special.txt "$enc" "$WORK/special.txt"
  check special.txt-allowed "$enc" --allow-special "$WORK/special.txt"
done

# gpt2 through the Hugging Face and GPT-2 file formats must equal the .tiktoken path
"$QUERN" bpe convert --vocab gpt2 -o "$WORK/hf/tokenizer.json"
"$QUERN" bpe convert --vocab gpt2 --to gpt2 -o "$WORK/gpt2files"
[ -s "$WORK/gpt2files/encoder.json" ] && [ -s "$WORK/gpt2files/vocab.bpe" ] || fail "gpt2 files not written"
[ "$(head -1 "$WORK/gpt2files/vocab.bpe")" = "#version: 0.2" ] || fail "vocab.bpe header"
[ "$(wc -l < "$WORK/gpt2files/vocab.bpe")" -eq 50001 ] || fail "vocab.bpe should hold 50000 merges"
for v in "$WORK/hf/tokenizer.json" "$WORK/gpt2files/encoder.json"; do
  VOCAB=$v check docs.jsonl gpt2 --jsonl "$TESTDATA/tokenize/docs.jsonl"
  VOCAB=$v check adversarial.txt gpt2 "$WORK/adversarial.txt"
done
echo "all identical to tiktoken: $total tokens compared"
