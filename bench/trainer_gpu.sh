#!/usr/bin/env bash
# GPU training speed of the CUDA backend: tokens/s and MFU of a preset model
# (default d12, GPT-2 124M, vocabulary 50257 padded to 50304) at one context
# length for several micro-batch sizes, bf16, with and without activation
# recomputation, through the backend interface the train loop uses (random
# tokens: no loader in the measurement). MFU counts 6 N + 6 L C T FLOPs per
# token against the device's dense bf16 peak (trainer/cuda_device.cu's table,
# or PEAK=FLOPS).
#
# env: BUILD (default build), MODEL (d12), SEQ (1024), BATCHES ("8 16 32"),
#      STEPS (30), PEAK. Needs a GPU; exits 77 (skip) without one.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
MODEL=${MODEL:-d12}
SEQ=${SEQ:-1024}
BATCHES=${BATCHES:-"8 16 32"}
STEPS=${STEPS:-30}
make -s -j"$(nproc)" BUILD="$BUILD" all >/dev/null
LDLIBS_ALL=$(make --no-print-directory -s BUILD="$BUILD" --eval 'print-ldlibs: ; @echo $(LDLIBS)' print-ldlibs)
cc -O2 -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -DQUERN_CUDA -I. -fopenmp \
   bench/trainer_gpu_bench.c -o "$BUILD/trainer_gpu_bench" \
   -Wl,--start-group "$BUILD"/lib*.a -Wl,--end-group $LDLIBS_ALL
peak=()
[ -n "${PEAK:-}" ] && peak=(--peak "$PEAK")
printf '%-6s %-5s %-6s %-10s %12s %10s %8s\n' model seq batch mode "tokens/s" "ms/step" MFU
for B in $BATCHES; do
  for mode in plain recompute; do
    extra=()
    [ $mode = recompute ] && extra=(--recompute)
    set +e
    out=$("$BUILD/trainer_gpu_bench" --model "$MODEL" --seq "$SEQ" --batch "$B" --steps "$STEPS" \
          --warmup 3 "${extra[@]}" "${peak[@]}" 2>&1)
    rc=$?
    set -e
    [ $rc -eq 77 ] && { echo "$out" | tail -1; exit 77; }
    if [ $rc -ne 0 ]; then
      printf '%-6s %-5s %-6s %-10s %s\n' "$MODEL" "$SEQ" "$B" "$mode" "failed: $(echo "$out" | tail -1)"
      continue
    fi
    line=$(echo "$out" | grep '^summary')
    tps=$(echo "$line" | sed -E 's/.*: ([0-9]+) tokens\/s.*/\1/')
    ms=$(echo "$line" | sed -E 's/.*\(([0-9.]+) ms\/step\).*/\1/')
    mfu=$(echo "$line" | grep -oE 'MFU [0-9.]+%' | cut -d' ' -f2 || true)
    printf '%-6s %-5s %-6s %-10s %12s %10s %8s\n' "$MODEL" "$SEQ" "$B" "$mode" "$tps" "$ms" "${mfu:--}"
  done
done
echo "$out" | grep '^device ' | head -1
