#!/usr/bin/env bash
# The C trainer against PyTorch (Debian's python3-torch): same tiny model, same
# weights and batches -> logits, loss and every parameter gradient agree to
# 1e-5 relative, and 10 AdamW steps (gradient accumulation and clipping
# included) give the same losses. tests/trainer_torch_ref.py does the checking.
source tests/e2e/lib.bash
# spin less at OpenMP barriers: same results, and no collapse on a busy machine
export GOMP_SPINCOUNT=${GOMP_SPINCOUNT:-10000}
"$PYTHON" -c 'import torch' 2>/dev/null || skip "python3-torch is not installed (apt-get install python3-torch)"
"$PYTHON" tests/data/trainer/make_shards.py tests/data/trainer/text.jsonl "$WORK/data" >/dev/null
# lr 1e-2 with clip 1: the first steps are clipped, so clipping is compared too
"$QUERN" train --data "$WORK/data/manifest.json" -o "$WORK/run" --layers 2 --heads 2 --dim 32 \
  --seq 32 --batch 2 --batch-tokens 128 --steps 10 --lr 1e-2 --warmup 2 --clip 1 \
  --vocab-pad 64 --print-every 0 --trace "$WORK/trace" -j 2 >"$WORK/train.out"
grep -q '"grad_norm":[1-9]' "$WORK/run/log.jsonl" || fail "no step had a gradient norm above the clip"
"$PYTHON" tests/trainer_torch_ref.py "$WORK/trace" "$WORK/run/log.jsonl" --tol 1e-5
