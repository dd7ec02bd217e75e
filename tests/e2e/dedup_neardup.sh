#!/usr/bin/env bash
# Accuracy of `quern dedup` (fineweb preset) on real near-duplicates with
# exact word-5-gram Jaccard ground truth (tests/data/dedup/neardup, method in
# its METHOD.md). Bars (issue 5): recall >= 0.95 of ground-truth pairs with
# J >= 0.8, with and without --verify; precision >= 0.99 with --verify 0.8.
# The ground truth tokenises ASCII-only (A-Z lowered, [0-9a-z] and bytes >=
# 0x80 form words); quern's normalisation also folds digits to 0, strips
# diacritics and splits on Unicode punctuation (dedup/README.md), so a few
# pairs are a little more similar for quern than for the ground truth.
source tests/e2e/lib.bash
D=$TESTDATA/dedup/neardup
for verify in "" "--verify 0.8"; do
  tag=${verify:+verify}
  tag=${tag:-lsh}
  $QUERN dedup $verify --pairs "$WORK/pairs-$tag.tsv" --clusters "$WORK/clusters-$tag.jsonl" \
    --stats "$WORK/stats-$tag.json" "$D/docs.jsonl" > "$WORK/kept-$tag.jsonl"
  score=$($PYTHON "$TESTDATA/dedup/eval_neardup.py" "$D/docs.jsonl" "$D/pairs_j05.tsv" \
    "$WORK/pairs-$tag.tsv" "$WORK/clusters-$tag.jsonl")
  echo "fineweb ${verify:-(no verify)}: $score"
  $PYTHON - "$score" "$tag" "$WORK/stats-$tag.json" "$WORK/kept-$tag.jsonl" <<'PY'
import json, sys
s = json.loads(sys.argv[1]); tag = sys.argv[2]
st = json.load(open(sys.argv[3]))
kept = sum(1 for _ in open(sys.argv[4]))
assert s["gt_pairs_j08"] >= 10, s
assert s["recall_j08"] >= 0.95, ("recall at J>=0.8 below 0.95", s)
if tag == "verify":
    assert s["precision_j08"] >= 0.99, ("precision with --verify below 0.99", s)
    assert st["verify"]["false_positives_removed"] > 0, st
assert st["docs_in"] == 136 and st["docs_out"] == kept, (st, kept)
assert st["docs_in"] - st["docs_out"] == st["removed"]["exact"] + st["removed"]["near"], st
assert st["removed"]["exact"] >= 1 and st["candidate_pairs"] >= s["joined_pairs"] - st["removed"]["exact"], st
PY
done
