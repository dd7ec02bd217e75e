# Sourced by tests/e2e/pipeline_*.sh (after lib.bash): the sample pipeline,
# a private Slurm cluster, and comparing two work directories.
ROOT=$(pwd)
PL_DATA=$TESTDATA/pipeline

# pl_prepare DIR: inputs (copies of the public samples) and a small BPE
# vocabulary trained on the common test documents, under DIR.
pl_prepare() {
  mkdir -p "$1/in"
  cp "$PL_DATA"/*.warc.gz "$1/in/"
  "$QUERN" bpe train --vocab-size 512 -o "$1/vocab" "$TESTDATA/common/docs-en.jsonl" 2>/dev/null \
    || fail "quern bpe train failed"
}

# pl_write FILE WORKDIR DATADIR [extra lines]: the whole pipeline on DATADIR/in.
# Small dedup bands and token counts keep the Slurm arrays and the run short.
pl_write() {
  local file=$1 wd=$2 data=$3
  shift 3
  cat > "$file" <<EOF
# the quern pipeline on the public WARC samples (tests/data/pipeline)
[pipeline]
name = e2e
workdir = $wd
inputs = $data/in/*.warc.gz

[ingest]
[clean]
options = --preset fineweb

[dedup]
options = --bands 4 --rows 8

[tokenize]
options = --vocab $data/vocab --shard-tokens 20000

[mix]
options = -D 30000 --shard-tokens 10000 --seed 7

[train]
options = --layers 1 --heads 1 --dim 32 --seq 64 --batch 2 --steps 3 --ckpt-every 2 --device cpu

[slurm]
time = 0:10:00
mem = 100M
EOF
  for line in "$@"; do echo "$line" >> "$file"; done
}

# pl_reference DIR: inputs and vocabulary under DIR, the pipeline file DIR/p.pipeline
# (work dir DIR/w), run locally and moved to DIR/ref as the expected outputs;
# DIR/w is then free for the run under test (the work dir path is part of
# mix's manifest, so every run uses the same path).
pl_reference() {
  pl_prepare "$1"
  pl_write "$1/p.pipeline" "$1/w" "$1"
  "$QUERN" pipeline run "$1/p.pipeline" 2> "$1/local.log" || { cat "$1/local.log"; fail "local run"; }
  mv "$1/w" "$1/ref"
}

# pl_outputs WORKDIR: every file that is data (not logs, markers or dedup's
# scratch directory, which records absolute input paths), relative, sorted.
pl_outputs() {
  (cd "$1" && find clean dedup/filtered tokens mix train/run -type f \
      ! -name 'log.jsonl' ! -name 'loss.svg' 2>/dev/null | LC_ALL=C sort)
}

# pl_same WORKDIR_A WORKDIR_B: the same files with the same bytes.
pl_same() {
  local a=$1 b=$2 n=0 f
  [ "$(pl_outputs "$a")" = "$(pl_outputs "$b")" ] \
    || { diff <(pl_outputs "$a") <(pl_outputs "$b") >&2; fail "$a and $b hold different files"; }
  for f in $(pl_outputs "$a"); do
    cmp -s "$a/$f" "$b/$f" || fail "$f differs between $a and $b"
    n=$((n + 1))
  done
  [ "$n" -ge 20 ] || fail "only $n output files in $a"
  echo "identical: $n files ($(cd "$a" && cat $(pl_outputs .) | wc -c) bytes)"
}

# pl_need_slurm: skip (77) unless a real Slurm cluster can be started here.
pl_need_slurm() {
  case "${QUERN_E2E_SLURM:-auto}" in
    0|no) skip "QUERN_E2E_SLURM=0: Slurm tests switched off" ;;
  esac
  # Under ASan+UBSan the same orchestration would run a second time, only
  # slower; the lead can force it with QUERN_E2E_SLURM=1.
  if [ "${QUERN_E2E_SLURM:-auto}" = auto ] && [[ "${BUILD:-}$QUERN" == *asan* ]]; then
    skip "Slurm end-to-end tests run once, in the normal build (QUERN_E2E_SLURM=1 runs them under ASan too)"
  fi
  [ "$(id -u)" = 0 ] || skip "needs root to run slurmd/munged (CI runs as root)"
  local b
  for b in slurmctld slurmd munged sbatch squeue scontrol; do
    command -v "$b" >/dev/null || skip "$b not installed (deps/test.txt: slurm-wlm munge)"
  done
  # slurmd 22.05 initialises its cgroup plugin even with proctrack/linuxproc
  # and task/none, and exits when no cgroup filesystem is mounted (e.g. inside
  # a bare chroot); real machines and CI VMs have one.
  [ -n "$(ls -A /sys/fs/cgroup 2>/dev/null)" ] || skip "slurmd needs a mounted cgroup filesystem (/sys/fs/cgroup is empty here)"
}

# slurm_up NODES CPUS: start a private cluster in a short /tmp directory
# (the munge socket path must stay short), stopped by PID on exit.
SLURM_DIRS=()
slurm_up() {
  local dir
  dir=$(mktemp -d /tmp/qslurm.XXXXXX)
  SLURM_DIRS+=("$dir")
  trap 'slurm_down_all' EXIT
  local t0=$SECONDS
  local env
  env=$("$ROOT/scripts/slurm/start.sh" -n "$1" -c "$2" "$dir") || fail "Slurm did not start (logs in $dir/log)"
  eval "$env"
  echo "slurm: $1 node(s) x $2 CPUs up in $((SECONDS - t0)) s ($dir)"
  SLURM_DIR=$dir
}
slurm_down() {
  "$ROOT/scripts/slurm/stop.sh" "$1" || echo "warning: stop.sh $1 failed" >&2
  rm -rf "$1"
}
slurm_down_all() {
  local d
  for d in "${SLURM_DIRS[@]+"${SLURM_DIRS[@]}"}"; do [ -d "$d" ] && slurm_down "$d"; done
  SLURM_DIRS=()
}

# pl_slurm_wait FILE [options]: submit and wait, with a limit so that a stuck
# cluster fails the test with its state instead of hanging it.
pl_slurm_wait() {
  local file=$1 rc=0
  shift
  timeout 300 "$QUERN" pipeline slurm --wait --poll 0.2 "$@" "$file" || rc=$?
  if [ $rc = 124 ]; then
    squeue >&2 || true
    sinfo -N >&2 || true
    tail -n 20 "$SLURM_DIR"/log/slurmctld.log >&2 || true
    fail "quern pipeline slurm --wait did not finish in 300 s"
  fi
  return $rc
}
