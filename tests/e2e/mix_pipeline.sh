#!/usr/bin/env bash
# tokenize -> mix -> train: real tokenize output mixed by weight, then read
# by the trainer (which verifies every shard's checksum against the manifest
# and takes its run length from the manifest's budget).
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
assert m["tokenizer"]["name"] == json.load(open("en/manifest.json"))["tokenizer"]["name"]
t = {s["name"]: s["tokens_taken"] for s in m["sources"]}
assert t == {"en": 28000, "multi": 12000}, t
assert sum(s["tokens"] for s in m["shards"] if s["split"] == "val") == 3000
PY
"$Q" train --data mixed/manifest.json -o run --layers 1 --heads 1 --dim 32 --seq 32 --steps 2 \
  --eval-every 2 --eval-tokens 1K -j 1 >train.log 2>&1 || { cat train.log; fail "quern train rejected the mixed shards"; }
grep -q "train 40,000 tokens" train.log || { cat train.log; fail "the trainer did not see the 40,000 mixed train tokens"; }
grep -q "validation 3,000 tokens" train.log || { cat train.log; fail "the trainer did not see the 3,000 validation tokens"; }
echo ok
