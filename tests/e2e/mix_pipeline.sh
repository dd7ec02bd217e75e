#!/usr/bin/env bash
# tokenize -> mix -> train -> sample: real tokenize output mixed by weight,
# then read by the trainer (which verifies every shard's checksum against the
# manifest and takes its run length from the manifest's budget). The
# vocabulary file tokenize used travels in the manifests (tokenizer.path), so
# neither train nor sample needs --tokenizer; a vocabulary that has moved
# since costs only a note from train and a clear error from sample.
source tests/e2e/lib.bash
Q=$QUERN
D=$TESTDATA/common
cd "$WORK"
"$Q" bpe train --vocab-size 600 -o voc "$D/docs-en.jsonl" "$D/docs-multi.jsonl" 2>/dev/null \
  || skip "quern bpe train is not available"
"$Q" tokenize --vocab voc -o en --shard-tokens 20K "$D/docs-en.jsonl" 2>/dev/null || skip "quern tokenize is not available"
"$Q" tokenize --vocab voc -o multi --shard-tokens 20K "$D/docs-multi.jsonl" 2>/dev/null
# N = 2K parameters -> D = 40K train tokens (as the budget block says).
"$Q" mix -o mixed --params 2K --val-tokens 3K --shard-tokens 15K en=en:0.7 multi=multi:0.3
"$PYTHON" - <<'PY'
import json
m = json.load(open("mixed/manifest.json"))
assert m["budget"]["tokens"] == 40000 and m["budget"]["params"] == 2000, m["budget"]
en = json.load(open("en/manifest.json"))["tokenizer"]
assert m["tokenizer"]["name"] == en["name"]
import os
assert os.path.isabs(en["path"]) and os.path.samefile(en["path"], "voc/bpe.tiktoken"), en
assert m["tokenizer"]["path"] == en["path"], m["tokenizer"]
t = {s["name"]: s["tokens_taken"] for s in m["sources"]}
assert t == {"en": 28000, "multi": 12000}, t
assert sum(s["tokens"] for s in m["shards"] if s["split"] == "val") == 3000
PY
"$Q" train --data mixed/manifest.json -o run --layers 1 --heads 1 --dim 32 --seq 32 --steps 2 \
  --eval-every 2 --eval-tokens 1K -j 1 >train.log 2>&1 || { cat train.log; fail "quern train rejected the mixed shards"; }
grep -q "train 40,000 tokens" train.log || { cat train.log; fail "the trainer did not see the 40,000 mixed train tokens"; }
grep -q "validation 3,000 tokens" train.log || { cat train.log; fail "the trainer did not see the 3,000 validation tokens"; }
# the run recorded the manifest's vocabulary: sample decodes without --tokenizer
grep -q "note: the manifest's tokenizer" train.log && fail "train could not use the manifest's tokenizer"
"$Q" sample --ckpt run --prompt "The " -n 8 --seed 1 -j 1 >sample.txt 2>sample.err ||
  { cat sample.err; fail "quern sample needed --tokenizer"; }
grep -q '^The ' sample.txt || fail "the sample does not start with its prompt"
# `quern tokens` finds the vocabulary through the manifest too (decoded text, not ids)
"$Q" tokens decode --doc 0 en/train_000000.bin >tokens.txt 2>tokens.err || { cat tokens.err; fail "quern tokens"; }
[ -s tokens.txt ] || fail "quern tokens decode gave no text"
# the vocabulary moved away: train still trains (one note), sample asks for --tokenizer
mv voc voc.moved
"$Q" train --data mixed/manifest.json -o run2 --layers 1 --heads 1 --dim 32 --seq 32 --steps 1 \
  --eval-every 1 --eval-tokens 1K -j 1 >train2.log 2>&1 || { cat train2.log; fail "train failed without the vocabulary file"; }
grep -q "note: the manifest's tokenizer .*voc/bpe.tiktoken" train2.log || { cat train2.log; fail "no note about the missing vocabulary"; }
expect_exit 1 "$Q" sample --ckpt run2 --prompt "The " -n 4 -j 1
"$Q" sample --ckpt run2 --prompt "The " -n 4 -j 1 --tokenizer voc.moved/bpe.tiktoken >/dev/null ||
  fail "sample with --tokenizer failed"
# another vocabulary of the same size and EOT at the recorded path (retrained
# in place): its hash differs, so it is not adopted
"$Q" bpe train --vocab-size 600 -o voc "$D/docs-en.jsonl" 2>/dev/null
"$Q" train --data mixed/manifest.json -o run3 --layers 1 --heads 1 --dim 32 --seq 32 --steps 1 \
  --eval-every 1 --eval-tokens 1K -j 1 >train3.log 2>&1 || { cat train3.log; fail "train failed with another vocabulary"; }
grep -q "note: the manifest's tokenizer .*not the vocabulary the data was tokenized with" train3.log ||
  { cat train3.log; fail "a different vocabulary at the recorded path was not noticed"; }
expect_exit 1 "$Q" sample --ckpt run3 --prompt "The " -n 4 -j 1
echo ok
