#!/usr/bin/env bash
# A tiny model trained on a real tokenized sample (byte-level tokens of 160
# Debian manual pages) gets well below the unigram entropy of that data (which
# the test computes itself), consumes exactly the planned tokens, and writes
# its log, loss plot and a sample decoded through tokenize's tokenizer.h.
source tests/e2e/lib.bash
# spin less at OpenMP barriers: same results, and no collapse on a busy machine
export GOMP_SPINCOUNT=${GOMP_SPINCOUNT:-10000}
"$PYTHON" tests/data/trainer/make_shards.py tests/data/trainer/text.jsonl "$WORK/data" >/dev/null
"$QUERN" train --data "$WORK/data/manifest.json" -o "$WORK/run" --layers 2 --heads 4 --dim 64 \
  --seq 64 --batch 8 --steps 300 --lr 3e-3 --eval-every 100 --eval-tokens 8192 --print-every 50 \
  --vocab-pad 64 \
  --tokenizer "$WORK/data/bytes.tiktoken" -j 2 | tee "$WORK/train.out"
# the unigram entropy of the training tokens, computed independently
H=$("$PYTHON" - "$WORK/data" <<'PY'
import json, math, sys, collections
import numpy as np
d = sys.argv[1]
m = json.load(open(d + "/manifest.json"))
counts = collections.Counter()
for s in m["shards"]:
    if s["split"] == "train":
        toks = np.fromfile(d + "/" + s["name"], dtype="<u2", offset=1024)
        counts.update(toks.tolist())
n = sum(counts.values())
print("%.6f" % -sum(c / n * math.log(c / n) for c in counts.values()))
PY
)
echo "unigram entropy (python): $H nats/token"
grep -q "unigram entropy $(printf '%.4f' "$H")" "$WORK/train.out" || fail "the trainer's unigram entropy differs from $H"
"$PYTHON" - "$WORK/run/log.jsonl" "$H" <<'PY' || fail "loss did not fall well below the unigram entropy"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
H = float(sys.argv[2])
val = [r["val_loss"] for r in recs if "val_loss" in r]
steps = [r for r in recs if "loss" in r]
print("validation losses", val, "unigram", H)
assert len(val) == 3 and val[0] > val[1] > val[2], "validation loss must fall at every evaluation"
assert val[-1] < H - 0.5, "final validation loss %.3f is not well below %.3f" % (val[-1], H)
assert steps[0]["loss"] > H, "the untrained model should start above the unigram entropy"
plan = [r for r in recs if r.get("event") == "plan"][0]
assert steps[-1]["tokens"] == plan["tokens"] == 300 * 8 * 64, "tokens consumed != plan"
PY
grep -q "tokens consumed (plan 153600)" "$WORK/train.out" || fail "no consumed = plan line"
grep -q "^done: 300 steps, 153600 tokens consumed" "$WORK/train.out" || fail "consumed tokens differ from the plan"
grep -q "<svg" "$WORK/run/loss.svg" && grep -q "polyline" "$WORK/run/loss.svg" || fail "no loss plot"
[ -f "$WORK/run/ckpt_00000300.bin" ] || fail "no final checkpoint"
"$QUERN" sample --ckpt "$WORK/run" --prompt "The " -n 60 --seed 7 -j 2 >"$WORK/sample.txt"
cat "$WORK/sample.txt"
[ "$(wc -c <"$WORK/sample.txt")" -gt 20 ] || fail "the sample is too short"
# the same seed gives the same text
"$QUERN" sample --ckpt "$WORK/run" --prompt "The " -n 60 --seed 7 -j 1 | cmp -s - "$WORK/sample.txt" || fail "sampling is not reproducible"
