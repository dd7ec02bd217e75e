#!/usr/bin/env bash
# CPU training speed: `quern train` (the C reference) against llm.c's CPU
# reference train_gpt2.c, same model (d6: 6 layers, 6 heads, width 384, GPT-2's
# 50257-token vocabulary padded to 50304), same initial weights, batch 4 x 256,
# same optimizer arithmetic (AdamW, constant lr 1e-4, betas 0.9/0.999, no weight
# decay, no clipping). Reports, for 1 thread and for all cores, the median wall
# time per step after the first, and the CPU time per step (user + system time
# of a STEPS-step run minus that of a 2-step run, over STEPS - 2 steps), from
# which tokens/s per core follows; on a shared, busy machine the CPU time is
# the steadier of the two.
#
# llm.c is not vendored: the script takes train_gpt2.c + llmc/ from LLMC_DIR (a
# checkout) or from a local git mirror (LLMC_GIT, default
# /work/.mirror/karpathy+llm.c/repo), builds it in a temporary directory with
# llm.c's own flags (-Ofast -march=native -fopenmp), and changes only its main():
# T = 256, STEPS steps, no periodic validation or sampling. Without a copy of
# llm.c it measures quern alone and says so.
#
# env: QUERN (default build/quern), PYTHON, STEPS (default 10), THREADS (default
# "1 <all cores>"), LLMC_DIR, LLMC_GIT.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
QUERN=${QUERN:-$ROOT/build/quern}
PYTHON=${PYTHON:-/usr/bin/python3}
STEPS=${STEPS:-10}
THREADS=${THREADS:-"1 $(nproc)"}
LLMC_GIT=${LLMC_GIT:-/work/.mirror/karpathy+llm.c/repo}
W=$(mktemp -d "${TMPDIR:-/tmp}/quern-bench-trainer.XXXXXX")
trap 'rm -rf "$W"' EXIT

"$PYTHON" tests/data/trainer/make_shards.py tests/data/trainer/text.jsonl "$W/data" --gpt2-ids \
  --shard-tokens 100000000 >/dev/null
COMMON=(--data "$W/data/manifest.json" --model d6 --seq 256 --batch 4
        --lr 1e-4 --schedule constant --warmup 0 --beta2 0.999 --weight-decay 0 --clip 0
        --eval-tokens 1024 --print-every 0 --keep 1)

median_ms() { sort -n | awk '{a[NR]=$1} END {if (NR==0) {print "nan"; exit} m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; print m}'; }

# the initial weights, for llm.c too
"$QUERN" train "${COMMON[@]}" --steps 2 -o "$W/q0" --trace "$W/trace" --stop-at 1 -j 1 >/dev/null

have_llmc=0
mkdir -p "$W/llmc"
if [ -n "${LLMC_DIR:-}" ] && [ -f "$LLMC_DIR/train_gpt2.c" ]; then
  cp -r "$LLMC_DIR/train_gpt2.c" "$LLMC_DIR/llmc" "$W/llmc/" && have_llmc=1
elif [ -d "$LLMC_GIT" ] && git --git-dir="$LLMC_GIT" archive HEAD train_gpt2.c llmc 2>/dev/null | tar -x -C "$W/llmc"; then
  have_llmc=1
  LLMC_REV=$(git --git-dir="$LLMC_GIT" rev-parse --short HEAD)
fi
if [ $have_llmc = 1 ]; then
  cd "$W/llmc"
  # main() only: sequence length, number of steps, no validation/sampling inside the loop
  sed -i -e 's/int T = 64;/int T = 256;/' -e 's/step <= 40;/step < atoi(getenv("STEPS"));/' \
         -e 's/if (step % 10 == 0) {/if (0) {/' -e 's/if (step > 0 \&\& step % 20 == 0) {/if (0) {/' train_gpt2.c
  grep -q 'int T = 256;' train_gpt2.c || { echo "llm.c's main() changed; cannot patch it"; have_llmc=0; }
  gcc -Ofast -march=native -fopenmp -DOMP -Wno-unused-result train_gpt2.c -lm -o train_gpt2 2>"$W/llmc.build" \
    || { echo "llm.c did not build:"; cat "$W/llmc.build"; have_llmc=0; }
  mkdir -p dev/data/tinyshakespeare
  cp "$W/data/train_000000.bin" dev/data/tinyshakespeare/tiny_shakespeare_train.bin
  cp "$W/data/val_000000.bin" dev/data/tinyshakespeare/tiny_shakespeare_val.bin
  # llm.c checkpoint (version 3): header, then the same flat fp32 layout as quern's
  "$PYTHON" - "$W/trace/params0.f32" gpt2_124M.bin <<'PY'
import struct, sys
hdr = [20240326, 3, 256, 50257, 6, 6, 384, 50304] + [0] * 248
with open(sys.argv[2], "wb") as f:
    f.write(struct.pack("<256i", *hdr))
    f.write(open(sys.argv[1], "rb").read())
PY
  cd "$ROOT"
else
  echo "llm.c: no copy found (set LLMC_DIR to a checkout of github.com/karpathy/llm.c); measuring quern alone"
fi

echo "d6 (6 layers, width 384, vocab 50304 padded), batch 4 x 256, $STEPS steps, median ms/step after the first"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-8s %-22s %12s %12s %10s %16s\n' threads program "wall ms/step" "CPU ms/step" tokens/s tokens/s/core
cpu_of() { sed -n 's/^cpu \([0-9.]*\) \([0-9.]*\)$/\1 \2/p' "$1" | awk '{print $1 + $2}'; }
report() { # threads program wall_ms cpu_long cpu_short
  local c; c=$(echo "($4 - $5) * 1000 / ($STEPS - 2)" | bc -l)
  printf '%-8s %-22s %12.1f %12.1f %10.0f %16.0f\n' "$1" "$2" "$3" "$c" "$(echo "1024000 / $3" | bc -l)" \
    "$(echo "1024000 / $c" | bc -l)"
}
for t in $THREADS; do
  for n in 2 "$STEPS"; do
    rm -rf "$W/q"
    /usr/bin/time -f 'cpu %U %S' -o "$W/time.$n" "$QUERN" train "${COMMON[@]}" --steps "$n" -o "$W/q" -j "$t" >/dev/null
  done
  q=$(grep '"loss"' "$W/q/log.jsonl" | tail -n +2 | sed 's/.*"ms":\([0-9.]*\).*/\1/' | median_ms)
  report "$t" "quern train" "$q" "$(cpu_of "$W/time.$STEPS")" "$(cpu_of "$W/time.2")"
  if [ $have_llmc = 1 ]; then
    ok=1
    for n in 2 "$STEPS"; do
      (cd "$W/llmc" && STEPS=$n OMP_NUM_THREADS=$t /usr/bin/time -f 'cpu %U %S' -o "$W/ltime.$n" ./train_gpt2 >"$W/llmc.out" 2>&1) \
        || { echo "llm.c failed:"; tail -5 "$W/llmc.out"; ok=0; }
    done
    [ $ok = 1 ] || continue
    l=$(grep '^step' "$W/llmc.out" | tail -n +2 | sed 's/.*(took \([0-9.]*\) ms)/\1/' | median_ms)
    report "$t" "llm.c ${LLMC_REV:-} CPU" "$l" "$(cpu_of "$W/ltime.$STEPS")" "$(cpu_of "$W/ltime.2")"
  fi
done
