#!/usr/bin/env bash
# A run stopped at step 15 and resumed from its checkpoint gives the same
# losses, bit for bit, as an uninterrupted run, and the same final checkpoint
# (model, optimizer state, data position). Also: keep-K, the budget from the
# manifest, rounding to whole steps, and the plan's arithmetic.
source tests/e2e/lib.bash
# spin less at OpenMP barriers: same results, and no collapse on a busy machine
export GOMP_SPINCOUNT=${GOMP_SPINCOUNT:-10000}
"$PYTHON" tests/data/trainer/make_shards.py tests/data/trainer/text.jsonl "$WORK/data" \
  --budget-tokens 15000 >/dev/null
M="$WORK/data/manifest.json"
A=(--layers 2 --heads 4 --dim 32 --seq 32 --batch 4 --batch-tokens 256 --lr 3e-3
   --eval-every 10 --eval-tokens 1024 --ckpt-every 7 --keep 2 --print-every 0 --vocab-pad 64 -j 2)
# the budget (15000 tokens) in steps of 256 tokens: 59 steps = 15104 tokens
"$QUERN" train --data "$M" -o "$WORK/full" "${A[@]}" >"$WORK/full.out"
grep -q "tokens      D = 15,104 (.*from the manifest's budget, rounded to whole steps)" "$WORK/full.out" \
  || fail "plan does not take D from the budget: $(grep 'tokens ' "$WORK/full.out")"
grep -q "^done: 59 steps, 15104 tokens consumed (plan 15104)" "$WORK/full.out" || fail "consumed != plan"
"$QUERN" train --data "$M" -o "$WORK/split" "${A[@]}" --stop-at 25 >"$WORK/a.out"
grep -q "stopped at step 25 of 59" "$WORK/a.out" || fail "did not stop at 25"
ls "$WORK/split"
[ "$(ls "$WORK/split" | grep -c '^ckpt_')" = 2 ] || fail "keep 2 did not hold"
# a run that died after its last checkpoint: its log has steps past it (cut on resume)
echo '{"step":26,"tokens":1,"loss":1}' >>"$WORK/split/log.jsonl"
# resumed on one thread: the kernels' results do not depend on the thread count
"$QUERN" train --resume "$WORK/split" -j 1 --print-every 0 >"$WORK/b.out"
grep -q "resuming from .*ckpt_00000025.bin at step 25 of 59" "$WORK/b.out" || fail "did not resume at 25"
strip() { grep -v '"event"' "$1" | sed 's/,"ms":.*//'; }
diff <(strip "$WORK/full/log.jsonl") <(strip "$WORK/split/log.jsonl") || fail "resumed losses differ"
cmp "$WORK/full/ckpt_00000059.bin" "$WORK/split/ckpt_00000059.bin" || fail "final checkpoints differ"
# resuming a finished run does nothing more; changing the plan is refused
expect_exit 2 "$QUERN" train --resume "$WORK/split" --steps 100
# no budget in the manifest: D = 20 N (N printed in the plan)
sed -i 's/"budget"/"no_budget"/' "$M"
"$QUERN" train --data "$M" -o "$WORK/chin" "${A[@]}" --stop-at 1 --no-verify >"$WORK/c.out"
N=$(sed -n 's/.*parameters  N = \([0-9,]*\).*/\1/p' "$WORK/c.out" | tr -d ,)
D=$(sed -n 's/.*tokens      D = \([0-9,]*\).*/\1/p' "$WORK/c.out" | tr -d ,)
echo "N=$N D=$D"
[ $(( (20 * N + 128) / 256 * 256 )) = "$D" ] || fail "D = $D is not 20 N = $((20 * N)) in whole steps"
# a damaged checkpoint is refused with its name
printf 'garbage' | dd of="$WORK/full/ckpt_00000059.bin" bs=1 seek=5000 conv=notrunc 2>/dev/null
expect_exit 1 "$QUERN" sample --ckpt "$WORK/full/ckpt_00000059.bin" -n 5
# a fresh run refuses a directory with another run's checkpoints unless --force
expect_exit 2 "$QUERN" train --data "$M" -o "$WORK/split" "${A[@]}" --steps 2
"$QUERN" train --data "$M" -o "$WORK/split" "${A[@]}" --steps 2 --force --no-verify >/dev/null
[ "$(ls "$WORK/split" | grep '^ckpt_')" = ckpt_00000002.bin ] || fail "--force left old checkpoints"
# --device cuda without a usable GPU (or without a CUDA build) is a clear error, not a CPU run
if ! command -v nvidia-smi >/dev/null || ! nvidia-smi -L >/dev/null 2>&1; then
  set +e; "$QUERN" train --data "$M" -o "$WORK/gpu" "${A[@]}" --steps 1 --device cuda 2>"$WORK/gpu.err"; rc=$?; set -e
  cat "$WORK/gpu.err"
  [ $rc -ne 0 ] && grep -qi cuda "$WORK/gpu.err" || fail "--device cuda did not fail clearly"
fi
