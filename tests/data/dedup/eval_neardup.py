#!/usr/bin/env python3
"""Score quern dedup against exact-Jaccard ground truth (corpus/neardup).

usage: eval_neardup.py DOCS.jsonl PAIRS_J05.tsv OUR_PAIRS.tsv OUR_CLUSTERS.jsonl
Documents are named INPUT:LINE by quern; DOCS.jsonl is input 0.

recall@t    = ground-truth pairs with J >= t whose two documents ended in the
              same cluster / ground-truth pairs with J >= t
precision@t = pairs quern joined (exact or near edges) whose ground-truth
              J >= t / pairs quern joined   (pairs absent from the J >= 0.5
              list count as J < 0.5)
Prints one JSON object.
"""
import json
import sys

docs, gt_path, pairs_path, clusters_path = sys.argv[1:5]
ids = {}
with open(docs, encoding="utf-8") as f:
    for ln, line in enumerate(f, 1):
        if line.strip():
            ids["0:%d" % ln] = json.loads(line)["id"]
gt = {}
with open(gt_path) as f:
    next(f)
    for line in f:
        a, b, _j, inter, union = line.rstrip("\n").split("\t")
        gt[(a, b)] = int(inter) / int(union)
label = {}
with open(clusters_path) as f:
    for line in f:
        c = json.loads(line)
        for m in c["members"]:
            label[ids[m]] = c["cluster"]
joined = set()
with open(pairs_path) as f:
    next(f)
    for line in f:
        rep, doc, _kind, _j = line.rstrip("\n").split("\t")
        joined.add(tuple(sorted((ids[rep], ids[doc]))))
out = {"joined_pairs": len(joined)}
for t in (0.8, 0.7):
    want = [p for p, j in gt.items() if j >= t]
    hit = [p for p in want if p[0] in label and label.get(p[0]) == label.get(p[1])]
    key = "%02d" % round(t * 10)
    out["gt_pairs_j" + key] = len(want)
    out["recall_j" + key] = len(hit) / len(want) if want else 1.0
for t in (0.8, 0.7, 0.5):
    good = [p for p in joined if gt.get(p, 0.0) >= t]
    out["precision_j%02d" % round(t * 10)] = len(good) / len(joined) if joined else 1.0
print(json.dumps(out, sort_keys=True))
