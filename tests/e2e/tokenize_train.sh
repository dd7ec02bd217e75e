#!/usr/bin/env bash
# quern bpe train: the files it writes, identical output at -j 1 and -j 2, the demo
# path (train then tokenize with the result), exact round trips, tokenizer.json
# equal to the .tiktoken, --max-memory pruning reported, text input, usage errors.
source tests/e2e/lib.bash
DOCS=$TESTDATA/tokenize/docs.jsonl
"$QUERN" bpe train --vocab-size 1024 -o "$WORK/v1" -j 1 --stats "$WORK/stats.json" "$DOCS" 2> "$WORK/train.err"
cat "$WORK/train.err"
"$QUERN" bpe train --vocab-size 1024 -o "$WORK/v2" -j 2 "$DOCS" 2>/dev/null
for f in bpe.tiktoken bpe.tiktoken.json tokenizer.json; do
  [ -s "$WORK/v1/$f" ] || fail "$f not written"
  same_file "$WORK/v1/$f" "$WORK/v2/$f"
done
[ "$(wc -l < "$WORK/v1/bpe.tiktoken")" -eq 1023 ] || fail "expected 1023 ranks + 1 special"
"$PYTHON" - "$WORK/v1/bpe.tiktoken.json" "$WORK/stats.json" <<'PY' || fail "sidecar or stats"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["vocab_size"] == 1024 and s["eot"] == 1023 and s["special_tokens"] == {"<|endoftext|>": 1023}, s
st = json.load(open(sys.argv[2]))
assert st["merges"] == 1023 - 256 and st["docs_in"] == 80 and st["vocab_size"] == 1024, st
PY

# the demo path: train, then tokenize with the directory or the file
"$QUERN" tokenize --vocab "$WORK/v1" -o "$WORK/tok" -j 2 "$DOCS" 2>/dev/null
"$QUERN" tokenize --vocab "$WORK/v1/bpe.tiktoken" -o "$WORK/tok2" -j 1 "$DOCS" 2>/dev/null
same_file "$WORK/tok/train_000000.bin" "$WORK/tok2/train_000000.bin"

# round trip: decode(encode(x)) == x, for every document and for adversarial bytes
"$QUERN" tokens decode --vocab "$WORK/v1" --jsonl "$WORK/tok/train_000000.bin" > "$WORK/back.jsonl"
"$PYTHON" - "$DOCS" "$WORK/back.jsonl" <<'PY' || fail "round trip"
import json, sys
a = [json.loads(l)["text"] for l in open(sys.argv[1]) if l.strip()]
b = [json.loads(l)["text"] for l in open(sys.argv[2])]
assert a == b
PY
"$PYTHON" "$TESTDATA/tokenize/make_adversarial.py" | "$PYTHON" -c '
import sys; d = sys.stdin.buffer.read().decode("utf-8", "replace"); sys.stdout.buffer.write(d.encode())' > "$WORK/adv.txt"
"$QUERN" bpe encode --whole --vocab "$WORK/v1" "$WORK/adv.txt" > "$WORK/adv.ids"
"$QUERN" bpe decode --vocab "$WORK/v1" < "$WORK/adv.ids" > "$WORK/adv.back"
same_file "$WORK/adv.txt" "$WORK/adv.back"

# tokenizer.json gives the same ids as the .tiktoken
"$QUERN" bpe encode --jsonl --vocab "$WORK/v1/bpe.tiktoken" "$DOCS" > "$WORK/a.ids"
"$QUERN" bpe encode --jsonl --vocab "$WORK/v1/tokenizer.json" "$DOCS" > "$WORK/b.ids"
same_file "$WORK/a.ids" "$WORK/b.ids"

# a memory bound small enough to prune: reported, and still a full vocabulary
"$QUERN" bpe train --vocab-size 700 --max-memory 300K -o "$WORK/small" "$DOCS" 2> "$WORK/small.err"
grep -q 'pruned' "$WORK/small.err" || fail "pruning not reported: $(cat "$WORK/small.err")"
[ "$(wc -l < "$WORK/small/bpe.tiktoken")" -eq 699 ] || fail "pruned training did not reach 700"

# plain text input, another pattern, several special tokens
"$QUERN" bpe train --vocab-size 400 --format text --pattern o200k_base --special '<|a|>' --special '<|b|>' \
  -o "$WORK/text" "$TESTDATA/tokenize/train_small.txt" 2>/dev/null
"$PYTHON" - "$WORK/text/bpe.tiktoken.json" <<'PY' || fail "text training sidecar"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["special_tokens"] == {"<|a|>": 398, "<|b|>": 399} and s["pattern"].startswith("[^\\r\\n\\p{L}"), s
PY

# usage errors exit 2, unreadable input exits 1
expect_exit 2 "$QUERN" bpe train --vocab-size 100 -o "$WORK/x" "$DOCS"
expect_exit 2 "$QUERN" bpe train -o "$WORK/x" "$DOCS"
expect_exit 2 "$QUERN" bpe train --vocab-size 500 --pattern '(' -o "$WORK/x" "$DOCS"
expect_exit 1 "$QUERN" bpe train --vocab-size 500 -o "$WORK/x" "$WORK/missing.jsonl"
expect_exit 2 "$QUERN" bpe nosuch
echo "bpe train: ok"
