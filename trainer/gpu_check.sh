#!/usr/bin/env bash
# gpu_check.sh - `make gpu-check`: the CUDA backend on a machine with a GPU,
# in one call, well under 8 minutes on an H100/H200 with 16 cores.
#
#   1. build everything (make -j16: quern and the quern-cuda.so plugin, code
#      for the present GPU only) plus the parity test and the speed bench;
#      where quern cannot be built (project libraries missing on the GPU
#      machine) the plugin, parity test and bench still are
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
#   5. compute-sanitizer (memcheck, racecheck on attention) on a small model,
#      where the sanitizer runs and time is left
# Stage timeouts are cut to fit DEADLINE (default 450 s). CUDA_INTEGRATION.md
# ("Running make gpu-check") says what the GPU machine needs.
#
# `gpu_check.sh --emulate` needs no GPU: it compiles the same .cu sources with
# g++ against trainer/cuda_emu.h (CUDA, WMMA and cuBLASLt emulated on the CPU)
# into a plugin like quern-cuda.so, and runs the parity test and quern train
# --device cuda through it via QUERN_CUDA_PLUGIN (a few minutes; indexing,
# barriers, shapes, the plugin loader).
#
# Logs go to $OUT (set by the device tool; default ./gpu-check-out):
# summary.txt, parity.log, bench_d12.log and every log (build, train_*,
# bench*, sanitizer_*) in gpu-check-logs.tar.gz.
# Exit status: 0 when every stage passed, 1 otherwise (the summary says which).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=${OUT:-$ROOT/gpu-check-out}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
# The device tool brings back at most 8 files from $OUT: every log goes to
# $OUT/logs, packed at exit into $OUT/gpu-check-logs.tar.gz, with copies of
# summary.txt and the logs read first (parity, speed) beside it.
TOP=$OUT
OUT=$TOP/logs
rm -rf "$OUT" && mkdir -p "$OUT"
rm -f "$TOP"/{summary.txt,parity.log,parity_emulated.log,bench_d12.log,gpu-check-logs.tar.gz}
W=
finish() {
  [ -n "$W" ] && rm -rf "$W"
  for f in summary.txt parity.log parity_emulated.log bench_d12.log; do
    [ -f "$OUT/$f" ] && cp "$OUT/$f" "$TOP/"
  done
  tar -C "$TOP" -czf "$TOP/gpu-check-logs.tar.gz" logs && rm -rf "$OUT"
}
trap finish EXIT
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
  else note "FAIL $1 (exit $2; see its log in gpu-check-logs.tar.gz)"; status=1; fi
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

# Time: every stage's timeout is cut to what is left before DEADLINE seconds
# (default 450, so the whole check stays inside 8 minutes even when stages
# hang), and a stage that cannot get the time it needs is skipped.
DEADLINE=${DEADLINE:-${BUDGET:-450}}
left() { echo $((DEADLINE - (SECONDS - T0))); }
tmo() { local l; l=$(left); if [ "$l" -lt "$1" ]; then echo $((l > 5 ? l : 5)); else echo "$1"; fi; }
enough() { [ "$(left)" -ge "$1" ]; }
[ -x "$PYTHON" ] || PYTHON=$(command -v python3 || echo "$PYTHON")

# ---- 1. build ----
NVCC_BIN=$(command -v nvcc 2>/dev/null || ls /usr/local/cuda/bin/nvcc 2>/dev/null)
if [ -z "$NVCC_BIN" ]; then
  note "FAIL no nvcc (PATH or /usr/local/cuda/bin): the CUDA backend cannot be built here"
  exit 1
fi
# Code for the GPU present only (the Makefile's default is sm_80 + sm_90 +
# PTX: about twice the nvcc time), unless CUDA_ARCHS is set by the caller.
if [ -z "${CUDA_ARCHS:-}" ]; then
  cap=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d ' .')
  if [[ "$cap" =~ ^[0-9]+$ ]] && [ "$cap" -ge 80 ]; then
    export CUDA_ARCHS="-gencode arch=compute_$cap,code=sm_$cap"
  fi
fi
note "nvcc: $NVCC_BIN, targets: ${CUDA_ARCHS:-the Makefile default}"
# The whole of quern needs the project's libraries (deps/build.txt), which a
# GPU machine's image may lack; the GPU stages need only the plugin (nvcc and
# the CUDA libraries), the parity test (cmocka) and the bench (libc). So a
# failed full build costs only the 'quern train' stage, unless a quern is
# carried in $GPU_DEPS (below).
# $GPU_DEPS (default .gpu-deps, made here by trainer/gpu_deps.sh and carried):
# cmocka (include/, lib/) and a quern built on the developer's machine
# (bin/quern, its libraries in lib/), used when quern cannot be built here.
GPU_DEPS=${GPU_DEPS:-$ROOT/.gpu-deps}
full=0
# the build too is bounded, so that a slow nvcc cannot eat the later stages' time
timeout -k 5 "$(tmo 240)" make -j"$JOBS" BUILD="$BUILD" all >"$OUT/build.log" 2>&1 || full=1
if [ $full -ne 0 ]; then
  timeout -k 5 "$(tmo 200)" make -j"$JOBS" BUILD="$BUILD" "$BUILD/quern-cuda.so" >>"$OUT/build.log" 2>&1
  if [ -x "$GPU_DEPS/bin/quern" ] &&
     LD_LIBRARY_PATH=$GPU_DEPS/lib "$GPU_DEPS/bin/quern" --version >>"$OUT/build.log" 2>&1; then
    # beside the plugin built here, so that quern finds it as it would its own
    cp "$GPU_DEPS/bin/quern" "$BUILD/quern"
    export LD_LIBRARY_PATH=$GPU_DEPS/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    full=2
    note "NOTE the full build failed (project libraries missing here? see build.log): the plugin, parity test and bench are built here, quern is the carried $GPU_DEPS/bin/quern"
  else
    note "NOTE the full build failed (project libraries missing here? see build.log) and no carried quern runs ($GPU_DEPS/bin/quern: trainer/gpu_deps.sh): the 'quern train' stage is skipped"
  fi
fi
if [ ! -f "$BUILD/quern-cuda.so" ]; then
  note "FAIL no $BUILD/quern-cuda.so (nvcc error, or nvcc without the CUDA libraries: see build.log)"
  tail -30 "$OUT/build.log"
  exit 1
fi
case $full in
  0) built='quern and the plugin' ;;
  2) built='the plugin; quern carried' ;;
  *) built='the plugin only' ;;
esac
stage "build (make -j$JOBS: $built)" 0
# The parity test and the bench are linked from the C reference's sources
# alone (no project library). cmocka: the system's, or one carried in
# $GPU_DEPS (include/ and lib/; see CUDA_INTEGRATION.md).
dep=()
[ -d "$GPU_DEPS" ] && dep=(-I"$GPU_DEPS/include" -L"$GPU_DEPS/lib" -Wl,-rpath,"$GPU_DEPS/lib")
CPU_REF=(trainer/backend_cpu.c trainer/cpu.c trainer/cpu_gemm.c trainer/cpu_layers.c trainer/model.c
         trainer/optim.c trainer/cuda_plugin.c)
CCF=(-O2 -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -fopenmp -I. -Itests)
mkdir -p "$BUILD/tests"
rm -f "$BUILD/tests/test_trainer_cuda_parity" "$BUILD/trainer_gpu_bench" # never a stale one
cc "${CCF[@]}" "${dep[@]}" tests/test_trainer_cuda_parity.c "${CPU_REF[@]}" \
   -o "$BUILD/tests/test_trainer_cuda_parity" -lcmocka -ldl -lm >"$OUT/build_tests.log" 2>&1 &
p1=$!
cc "${CCF[@]}" bench/trainer_gpu_bench.c "${CPU_REF[@]}" -o "$BUILD/trainer_gpu_bench" -ldl -lm \
   >"$OUT/build_bench.log" 2>&1 &
p2=$!
wait $p1 || note "FAIL building the parity test (cmocka missing? carry it in .gpu-deps, see CUDA_INTEGRATION.md): build_tests.log"
wait $p2 || note "FAIL building bench/trainer_gpu_bench.c: build_bench.log"

# ---- 2. parity ----
QUERN_REQUIRE_GPU=1 timeout -k 5 "$(tmo 150)" "$BUILD/tests/test_trainer_cuda_parity" >"$OUT/parity.log" 2>&1
rc=$?
stage "parity: CUDA vs C reference (logits, loss, gradients, 20 steps)" $rc
grep -E "FAIL|PASSED|FAILED|CUDA error" "$OUT/parity.log" | head -40 | tee -a "$SUMMARY"
# A fault inside a kernel surfaces at the next synchronisation, far from the
# kernel: run once more synchronising after every launch, to name it.
if [ $rc -ne 0 ] && grep -q "CUDA error" "$OUT/parity.log" && enough 90; then
  QUERN_CUDA_SYNC=1 QUERN_REQUIRE_GPU=1 timeout -k 5 "$(tmo 120)" \
    "$BUILD/tests/test_trainer_cuda_parity" >"$OUT/parity_sync.log" 2>&1
  note "parity again with QUERN_CUDA_SYNC=1 (the failing launch): $(grep -m1 'CUDA error' "$OUT/parity_sync.log" || echo 'no CUDA error this time')"
fi

# ---- 3. quern train on both devices ----
Q=$ROOT/$BUILD/quern
if [ $full -eq 1 ] || [ ! -x "$Q" ]; then
  note "SKIP quern train --device cpu|cuda|auto: quern was not built here"
  status=1
elif ! enough 120; then
  note "SKIP quern train --device cpu|cuda|auto: out of time"
  status=1
else
W=$(mktemp -d "${TMPDIR:-/tmp}/quern-gpu-check.XXXXXX")
"$PYTHON" tests/data/trainer/make_shards.py tests/data/trainer/text.jsonl "$W/data" >/dev/null 2>"$OUT/make_shards.log"
TRAIN=(--data "$W/data/manifest.json" --layers 2 --heads 2 --dim 128 --seq 128 --batch 8
       --steps 40 --lr 3e-3 --eval-every 20 --print-every 10 --vocab-pad 64 -j 8)
timeout "$(tmo 45)" env "$Q" train "${TRAIN[@]}" -o "$W/cpu" --device cpu >"$OUT/train_cpu.log" 2>&1; r1=$?
timeout "$(tmo 45)" env QUERN_CUDA_FP32=1 "$Q" train "${TRAIN[@]}" -o "$W/cuda32" --device cuda >"$OUT/train_cuda_fp32.log" 2>&1; r2=$?
timeout "$(tmo 45)" "$Q" train "${TRAIN[@]}" -o "$W/cuda16" --device cuda >"$OUT/train_cuda_bf16.log" 2>&1; r3=$?
timeout "$(tmo 45)" "$Q" train "${TRAIN[@]}" -o "$W/auto" >"$OUT/train_auto.log" 2>&1; r4=$?
# stopped on the GPU at step 20, finished on the CPU
timeout "$(tmo 45)" env QUERN_CUDA_FP32=1 "$Q" train "${TRAIN[@]}" -o "$W/split" --device cuda --stop-at 20 >"$OUT/train_split_gpu.log" 2>&1; r5=$?
timeout "$(tmo 45)" "$Q" train --resume "$W/split" --device cpu -j 8 >"$OUT/train_split_cpu.log" 2>&1; r6=$?
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
fi

# ---- 4. speed: d12, seq 1024 ----
# Batch 32 is the largest whose logits (B x T x 50304) stay under 2^31
# elements, the backend's limit; it holds about 16 GiB. 16 and 8 only if a
# smaller GPU runs out of memory.
rc=1
enough 40 || { note "SKIP speed: out of time"; note "gpu-check finished in $((SECONDS - T0))s: SOME FAILED"; exit 1; }
for B in 32 16 8; do
  QUERN_CUDA_VERBOSE=1 timeout -k 5 "$(tmo 150)" "$BUILD/trainer_gpu_bench" --model d12 --batch $B \
    --seq 1024 --steps 50 --warmup 3 >"$OUT/bench_d12.log" 2>&1
  rc=$?
  [ $rc -eq 0 ] && break
  grep -q "out of GPU memory" "$OUT/bench_d12.log" || break
done
stage "speed: d12, seq 1024, 50 steps" $rc
grep -E "^device|^summary|peak|CUDA error|^quern" "$OUT/bench_d12.log" | tee -a "$SUMMARY"
if [ $rc -eq 0 ] && enough 45; then
  timeout -k 5 "$(tmo 60)" "$BUILD/trainer_gpu_bench" --model d12 --batch $B --seq 1024 --steps 10 \
    --warmup 2 --recompute >"$OUT/bench_d12_recompute.log" 2>&1
  stage "speed: d12 with --recompute, 10 steps" $?
  grep -E "^device memory|^summary" "$OUT/bench_d12_recompute.log" | tee -a "$SUMMARY"
fi
if [ $rc -eq 0 ] && enough 45; then
  QUERN_CUDA_ATTN=simt timeout -k 5 "$(tmo 60)" "$BUILD/trainer_gpu_bench" --model d12 --batch $B --seq 1024 \
    --steps 10 --warmup 2 >"$OUT/bench_d12_simt_attention.log" 2>&1
  stage "speed: d12 with the SIMT attention kernels (for comparison), 10 steps" $?
  grep -E "^summary" "$OUT/bench_d12_simt_attention.log" | tee -a "$SUMMARY"
fi

# ---- 5. compute-sanitizer on a small model (what the CPU emulation cannot see) ----
# memcheck: out-of-bounds and misaligned accesses on the real hardware, our
# kernels and cuBLASLt's; racecheck: shared-memory hazards in the attention
# kernels (the other kernels' barriers are plain). Where the sanitizer does
# not run (some virtual machines) or time is short, an INFO line says so and
# the check's result does not change; errors it reports fail the check.
CS=$(command -v compute-sanitizer 2>/dev/null || ls "$(dirname "$NVCC_BIN")/compute-sanitizer" 2>/dev/null)
SB=("$BUILD/trainer_gpu_bench" --model d6 --batch 2 --seq 128 --steps 1 --warmup 0)
sanitize() { # name, needed seconds, command...
  local name=$1 need=$2 r
  shift 2
  if ! enough "$need"; then note "INFO sanitizer $name: skipped, out of time"; return; fi
  timeout -k 5 "$(tmo 90)" "$@" >"$OUT/sanitizer_$name.log" 2>&1
  r=$?
  if [ $r -eq 0 ]; then note "PASS sanitizer $name ($((SECONDS - T0))s elapsed)"
  elif [ $r -eq 3 ]; then note "FAIL sanitizer $name: errors reported (sanitizer_$name.log)"; status=1
    grep -m5 -E "^=+ +(Invalid|Error|Race|.*hazard)" "$OUT/sanitizer_$name.log" | tee -a "$SUMMARY"
  else note "INFO sanitizer $name: did not finish (exit $r; sanitizer_$name.log)"; fi
}
if [ -z "$CS" ]; then
  note "INFO no compute-sanitizer: sanitizer runs skipped"
elif [ -x "${SB[0]}" ]; then
  sanitize memcheck_bf16 60 "$CS" --tool memcheck --error-exitcode 3 --print-limit 20 "${SB[@]}"
  sanitize memcheck_fp32 60 env QUERN_CUDA_FP32=1 "$CS" --tool memcheck --error-exitcode 3 --print-limit 20 "${SB[@]}"
  sanitize racecheck_attention_tc 60 "$CS" --tool racecheck --error-exitcode 3 --print-limit 20 \
    --kernel-name kns=attention "${SB[@]}"
  sanitize racecheck_attention_simt 60 env QUERN_CUDA_ATTN=simt "$CS" --tool racecheck --error-exitcode 3 \
    --print-limit 20 --kernel-name kns=attention "${SB[@]}"
fi
note "gpu-check finished in $((SECONDS - T0))s: $([ $status -eq 0 ] && echo ALL PASSED || echo SOME FAILED)"
exit $status
