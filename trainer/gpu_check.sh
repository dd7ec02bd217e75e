#!/usr/bin/env bash
# gpu_check.sh - `make gpu-check`: the CUDA backend on a machine with a GPU,
# in one call, well under 8 minutes on an H100/H200 with 16 cores.
#
#   1. build everything (make -j16: quern and the quern-cuda.so plugin) plus
#      the parity test and the speed bench
#   2. parity (tests/test_trainer_cuda_parity.c): tiny models, CUDA vs the C
#      reference - logits, loss, every gradient tensor, 20 training steps -
#      in the exact fp32 mode and the bf16 mode, with and without cuBLASLt
#      epilogues and with recomputation, head sizes 16..128
#   3. `quern train` end to end on byte-level shards: --device cpu and
#      --device cuda (exact and bf16) give the same plan, data order and loss
#      curve; a run stopped on the GPU resumes on the CPU
#   4. speed: d12 at seq 1024, batch 32 (16 or 8 if memory is short), 50 timed
#      steps: tokens/s and MFU (peak by device name); then 10 with --recompute
#      and 10 with the SIMT attention instead of the tensor-core one
#
# `gpu_check.sh --emulate` needs no GPU: it compiles the same .cu sources with
# g++ against trainer/cuda_emu.h (CUDA, WMMA and cuBLASLt emulated on the CPU)
# into a plugin like quern-cuda.so, and runs the parity test and quern train
# --device cuda through it via QUERN_CUDA_PLUGIN (a few minutes; indexing,
# barriers, shapes, the plugin loader).
#
# Logs go to $OUT (set by the device tool; default ./gpu-check-out):
# build.log, parity.log, train_*.log, bench*.log, summary.txt.
# Exit status: 0 when every stage passed, 1 otherwise (the summary says which).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=${OUT:-$ROOT/gpu-check-out}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
BUILD=${BUILD:-build}
JOBS=${JOBS:-16}
PYTHON=${PYTHON:-/usr/bin/python3}
SUMMARY=$OUT/summary.txt
: >"$SUMMARY"
status=0
T0=$SECONDS

note() { echo "$*" | tee -a "$SUMMARY"; }
stage() { # name, result code
  if [ "$2" -eq 0 ]; then note "PASS $1 ($((SECONDS - T0))s elapsed)"
  elif [ "$2" -eq 77 ]; then note "SKIP $1"; status=1
  else note "FAIL $1 (exit $2; see $OUT)"; status=1; fi
}

# ---- --emulate: the CUDA sources on the CPU (trainer/cuda_emu.h), no GPU ----
if [ "${1:-}" = "--emulate" ]; then
  E=$ROOT/$BUILD/cuda-emu
  rm -rf "$E" && mkdir -p "$E/shim" "$E/src" "$E/obj"
  for h in cuda_runtime.h cuda_bf16.h cublasLt.h mma.h; do echo '#include "cuda_emu.h"' >"$E/shim/$h"; done
  make -s -j"$JOBS" BUILD="$BUILD" all "$BUILD/tests/test_trainer_cuda_parity" \
    "$BUILD/trainer/model.pic.o" >"$OUT/emu_build.log" 2>&1 ||
    { tail -20 "$OUT/emu_build.log"; exit 1; }
  # launches and dynamic shared memory into plain C++ (see cuda_emu.h)
  for f in trainer/cuda_*.cu; do
    "$PYTHON" - "$f" "$E/src/$(basename "$f" .cu).cc" <<'PY'
import re, sys
src = open(sys.argv[1]).read()
src = re.sub(r'extern\s+__shared__\s+(?:__align__\(\d+\)\s+)?([\w ]+?)\s+(\w+)\[\];',
             r'\1 *\2 = (\1 *)emu_dyn_smem();', src)
launch = re.compile(r'([\w:]+(?:<[^;<>]*>)?)<<<(.*?)>>>\((.*?)\);', re.S)
src, n = launch.subn(lambda m: 'emu_launch_cfg(%s, [=]() { %s(%s); });'
                     % (m.group(2), m.group(1), m.group(3)), src)
open(sys.argv[2], "w").write('#line 1 "%s"\n' % sys.argv[1] + src)
PY
  done
  printf '#define QUERN_CUDA_EMU_IMPL\n#include "cuda_emu.h"\n' >"$E/src/emu_impl.cc"
  objs=()
  for f in "$E"/src/*.cc; do
    o=$E/obj/$(basename "$f" .cc).o
    g++ -std=gnu++17 -O2 -g -fPIC -D_GNU_SOURCE -I"$E/shim" -Itrainer -I. -Wall -Wextra -Werror \
        -Wno-unused-parameter -Wno-unknown-pragmas -c "$f" -o "$o" >>"$OUT/emu_build.log" 2>&1 ||
      { note "FAIL emulated build of $f"; tail -30 "$OUT/emu_build.log"; exit 1; }
    objs+=("$o")
  done
  # the emulated backend as a plugin, linked like the Makefile's quern-cuda.so
  # and loaded by the ordinary quern and parity test through QUERN_CUDA_PLUGIN:
  # the dlopen path is exercised too
  g++ -shared -fopenmp -Wl,-z,defs -Wl,--version-script=trainer/cuda_plugin.map -o "$E/quern-cuda.so" \
      "${objs[@]}" "$BUILD/trainer/model.pic.o" >>"$OUT/emu_build.log" 2>&1 ||
    { note "FAIL emulated plugin link"; tail -30 "$OUT/emu_build.log"; exit 1; }
  export QUERN_CUDA_PLUGIN=$E/quern-cuda.so
  QUERN_REQUIRE_GPU=1 QUERN_PARITY_QUICK=${QUERN_PARITY_QUICK:-1} "$BUILD/tests/test_trainer_cuda_parity" 2>&1 |
    tee "$OUT/parity_emulated.log"
  rc=${PIPESTATUS[0]}
  stage "parity under CPU emulation of the CUDA sources (plugin $E/quern-cuda.so)" $rc
  # quern train --device cuda (emulated, bf16, head size 64) stopped and resumed vs the CPU
  W=$(mktemp -d "${TMPDIR:-/tmp}/quern-emu.XXXXXX")
  trap 'rm -rf "$W"' EXIT
  "$PYTHON" tests/data/trainer/make_shards.py tests/data/trainer/text.jsonl "$W/data" >/dev/null
  A=(--data "$W/data/manifest.json" --layers 2 --heads 1 --dim 64 --seq 64 --batch 4 --steps 8
     --lr 3e-3 --eval-every 4 --eval-tokens 1024 --print-every 1 --vocab-pad 64 -j 2)
  { "$BUILD/quern" train "${A[@]}" -o "$W/gpu" --device cuda --stop-at 4 &&
    "$BUILD/quern" train --resume "$W/gpu" --device cuda -j 2 &&
    "$BUILD/quern" train "${A[@]}" -o "$W/cpu" --device cpu; } >"$OUT/train_emulated.log" 2>&1
  rc=$?
  if [ $rc -eq 0 ]; then
    g=$(grep -h '^done' "$OUT/train_emulated.log" | sed -n 1p | grep -oE 'final training loss [0-9.]+' | grep -oE '[0-9.]+$')
    c=$(grep -h '^done' "$OUT/train_emulated.log" | sed -n 2p | grep -oE 'final training loss [0-9.]+' | grep -oE '[0-9.]+$')
    note "emulated cuda (stopped at 4, resumed) final loss $g, cpu $c"
    awk -v g="$g" -v c="$c" 'BEGIN { d = g - c; if (d < 0) d = -d; exit !(d / c < 3e-2) }' || rc=1
  fi
  stage "quern train --device cuda under emulation: stop, resume, same loss as the CPU" $rc
  exit $status
fi

{ date -u; uname -a; command -v nvidia-smi >/dev/null && nvidia-smi; } >"$OUT/machine.txt" 2>&1
note "gpu-check: $(command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | head -1 || echo 'no nvidia-smi')"

# every stage has a timeout; a later stage is skipped once the budget is spent
BUDGET=${BUDGET:-450}
time_left() { [ $((SECONDS - T0)) -lt "$1" ]; }

# ---- 1. build ----
if ! command -v nvcc >/dev/null 2>&1 && [ ! -x /usr/local/cuda/bin/nvcc ]; then
  note "FAIL no nvcc (PATH or /usr/local/cuda/bin): the CUDA backend cannot be built here"
  exit 1
fi
LDLIBS_ALL=$(make --no-print-directory -s BUILD="$BUILD" --eval 'print-ldlibs: ; @echo $(LDLIBS)' print-ldlibs)
make -j"$JOBS" BUILD="$BUILD" all >"$OUT/build.log" 2>&1
rc=$?
stage "build (make -j$JOBS)" $rc
if [ $rc -ne 0 ]; then tail -30 "$OUT/build.log"; exit 1; fi
[ -f "$BUILD/quern-cuda.so" ] ||
  { note "FAIL no $BUILD/quern-cuda.so: make found nvcc but not the CUDA libraries? (see build.log)"; exit 1; }
# the parity test (cmocka) and the speed bench: each may fail alone
make -j"$JOBS" BUILD="$BUILD" "$BUILD/tests/test_trainer_cuda_parity" >>"$OUT/build.log" 2>&1 ||
  note "FAIL building the parity test (libcmocka-dev missing?): see build.log"
cc -O2 -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -I. -fopenmp \
   bench/trainer_gpu_bench.c -o "$BUILD/trainer_gpu_bench" \
   -Wl,--start-group "$BUILD"/lib*.a -Wl,--end-group $LDLIBS_ALL >>"$OUT/build.log" 2>&1 ||
  note "FAIL building bench/trainer_gpu_bench.c: see build.log"

# ---- 2. parity ----
QUERN_REQUIRE_GPU=1 timeout -k 5 150 "$BUILD/tests/test_trainer_cuda_parity" >"$OUT/parity.log" 2>&1
rc=$?
stage "parity: CUDA vs C reference (logits, loss, gradients, 20 steps)" $rc
grep -E "FAIL|PASSED|FAILED" "$OUT/parity.log" | head -40 | tee -a "$SUMMARY"

# ---- 3. quern train on both devices ----
Q=$ROOT/$BUILD/quern
W=$(mktemp -d "${TMPDIR:-/tmp}/quern-gpu-check.XXXXXX")
trap 'rm -rf "$W"' EXIT
"$PYTHON" tests/data/trainer/make_shards.py tests/data/trainer/text.jsonl "$W/data" >/dev/null 2>"$OUT/make_shards.log"
TRAIN=(--data "$W/data/manifest.json" --layers 2 --heads 2 --dim 128 --seq 128 --batch 8
       --steps 40 --lr 3e-3 --eval-every 20 --print-every 10 --vocab-pad 64 -j 8)
timeout 45 env "$Q" train "${TRAIN[@]}" -o "$W/cpu" --device cpu >"$OUT/train_cpu.log" 2>&1; r1=$?
timeout 45 env QUERN_CUDA_FP32=1 "$Q" train "${TRAIN[@]}" -o "$W/cuda32" --device cuda >"$OUT/train_cuda_fp32.log" 2>&1; r2=$?
timeout 45 "$Q" train "${TRAIN[@]}" -o "$W/cuda16" --device cuda >"$OUT/train_cuda_bf16.log" 2>&1; r3=$?
timeout 45 "$Q" train "${TRAIN[@]}" -o "$W/auto" >"$OUT/train_auto.log" 2>&1; r4=$?
# stopped on the GPU at step 20, finished on the CPU
timeout 45 env QUERN_CUDA_FP32=1 "$Q" train "${TRAIN[@]}" -o "$W/split" --device cuda --stop-at 20 >"$OUT/train_split_gpu.log" 2>&1; r5=$?
timeout 45 "$Q" train --resume "$W/split" --device cpu -j 8 >"$OUT/train_split_cpu.log" 2>&1; r6=$?
rc=0
for r in $r1 $r2 $r3 $r4 $r5 $r6; do [ "$r" -eq 0 ] || rc=1; done
if [ $rc -eq 0 ]; then
  "$PYTHON" - "$W" >"$OUT/train_compare.log" 2>&1 <<'PY'
import json, sys
w = sys.argv[1]
def losses(run):
    recs = [json.loads(l) for l in open(f"{w}/{run}/log.jsonl")]
    tr = {r["step"]: r["loss"] for r in recs if "loss" in r and "step" in r}
    va = {r["step"]: r["val_loss"] for r in recs if "val_loss" in r}
    plan = [r for r in recs if r.get("event") == "plan"]
    return tr, va, plan
cpu, cpu_v, cpu_plan = losses("cpu")
ok = True
for run, tol in (("cuda32", 1e-3), ("cuda16", 3e-2), ("auto", 3e-2)):
    tr, va, plan = losses(run)
    assert sorted(tr) == sorted(cpu), f"{run}: different steps"
    worst = max(abs(tr[s] - cpu[s]) / cpu[s] for s in cpu)
    vworst = max(abs(va[s] - cpu_v[s]) / cpu_v[s] for s in cpu_v) if cpu_v else 0
    print(f"{run}: worst relative training-loss difference {worst:.2e}, validation {vworst:.2e} (bound {tol})")
    for s in sorted(cpu)[::10]:
        print(f"   step {s:3d} cpu {cpu[s]:.5f} {run} {tr[s]:.5f}")
    ok &= worst <= tol and vworst <= tol
    if plan and cpu_plan:
        for key in ("tokens", "steps"):
            if key in plan[0] and plan[0].get(key) != cpu_plan[0].get(key):
                print(f"{run}: plan differs in {key}"); ok = False
split, split_v, _ = losses("split")
last = max(cpu)
d = abs(split[last] - cpu[last]) / cpu[last]
print(f"GPU(fp32) to step 20 then CPU: final loss {split[last]:.5f} vs cpu-only {cpu[last]:.5f} (rel {d:.2e}, bound 1e-3)")
ok &= d <= 1e-3
sys.exit(0 if ok else 1)
PY
  rc=$?
fi
stage "quern train --device cpu|cuda|auto: same loss curves; GPU checkpoint resumes on CPU" $rc
cat "$OUT/train_compare.log" 2>/dev/null | tee -a "$SUMMARY"
grep -h "device" "$OUT"/train_*.log | sort | uniq -c | head -5 >>"$SUMMARY"

# ---- 4. speed: d12, seq 1024 ----
rc=1
time_left $BUDGET || { note "SKIP speed: out of time budget"; exit 1; }
for B in 32 16 8; do
  timeout -k 5 150 "$BUILD/trainer_gpu_bench" --model d12 --batch $B --seq 1024 --steps 50 \
    --warmup 3 >"$OUT/bench_d12.log" 2>&1
  rc=$?
  [ $rc -eq 0 ] && break
  grep -q "out of GPU memory" "$OUT/bench_d12.log" || break
done
stage "speed: d12, seq 1024, 50 steps" $rc
grep -E "^device|^summary|peak" "$OUT/bench_d12.log" | tee -a "$SUMMARY"
if [ $rc -eq 0 ] && time_left 380; then
  timeout -k 5 60 "$BUILD/trainer_gpu_bench" --model d12 --batch $B --seq 1024 --steps 10 \
    --warmup 2 --recompute >"$OUT/bench_d12_recompute.log" 2>&1
  stage "speed: d12 with --recompute, 10 steps" $?
  grep -E "^device memory|^summary" "$OUT/bench_d12_recompute.log" | tee -a "$SUMMARY"
fi
if [ $rc -eq 0 ] && time_left 420; then
  QUERN_CUDA_ATTN=simt timeout -k 5 60 "$BUILD/trainer_gpu_bench" --model d12 --batch $B --seq 1024 \
    --steps 10 --warmup 2 >"$OUT/bench_d12_simt_attention.log" 2>&1
  stage "speed: d12 with the SIMT attention kernels (for comparison), 10 steps" $?
  grep -E "^summary" "$OUT/bench_d12_simt_attention.log" | tee -a "$SUMMARY"
fi
note "gpu-check finished in $((SECONDS - T0))s: $([ $status -eq 0 ] && echo ALL PASSED || echo SOME FAILED)"
exit $status
