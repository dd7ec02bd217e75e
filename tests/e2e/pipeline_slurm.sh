#!/usr/bin/env bash
# quern pipeline slurm on a real Slurm cluster started here (Debian slurm-wlm
# + munge, daemons started by scripts/slurm/start.sh on 127.0.0.1 and stopped
# by PID): the whole pipeline as chained job arrays gives byte-identical
# outputs to `quern pipeline run` on the same inputs, first on one node, then
# on three slurmd nodes with the arrays spread over them.
source tests/e2e/lib.bash
source tests/e2e/pipeline_common.bash
pl_need_slurm

# the reference: the same pipeline file run locally, in $WORK/ref
pl_reference "$WORK"
P=$WORK/p.pipeline

# ---- one node
slurm_up 1 2
t0=$SECONDS
pl_slurm_wait "$P" > "$WORK/slurm1.out" 2>&1 || { cat "$WORK/slurm1.out"; fail "slurm run on 1 node"; }
echo "1 node: pipeline in $((SECONDS - t0)) s"
cat "$WORK/slurm1.out"
# one job per stage, each after the previous one
[ "$(wc -l < "$WORK/w/.pipeline/slurm/jobs.tsv")" = 8 ] || fail "8 jobs expected"
grep -Eq '^signatures +job [0-9]+: 4 of 4 units in 4 array tasks, after [0-9]+$' "$WORK/slurm1.out" || fail "signatures job"
grep -Eq '^pairs +job [0-9]+: 5 completed$' "$WORK/slurm1.out" || fail "pairs: 5 tasks completed"
grep -Eq '^train +job [0-9]+: 1 completed$' "$WORK/slurm1.out" || fail "train job"
grep -Eq '^mix +1 +1 +0 +0 +0 +0$' "$WORK/slurm1.out" || fail "status after the run"
ls "$WORK"/w/logs/clean_*_3.log >/dev/null || fail "no per-task log"
pl_same "$WORK/ref" "$WORK/w"
# nothing left to do: nothing is submitted
"$QUERN" pipeline slurm "$P" > "$WORK/again.out" || fail "resubmitting a finished pipeline"
[ "$(grep -c 'units done: nothing to submit' "$WORK/again.out")" = 8 ] || { cat "$WORK/again.out"; fail "nothing to submit"; }
mv "$WORK/w" "$WORK/w1"
slurm_down "$SLURM_DIR"
SLURM_DIRS=()

# ---- three nodes of one CPU each, at most 3 tasks per array (so clean's 4
# units go to 3 tasks, one of which runs two)
slurm_up 3 1
[ "$(sinfo -h -N -o %N | sort -u | tr '\n' ' ')" = "n1 n2 n3 " ] || fail "3 nodes expected"
t0=$SECONDS
pl_slurm_wait "$P" --array-max 3 > "$WORK/slurm3.out" 2>&1 || { cat "$WORK/slurm3.out"; fail "slurm run on 3 nodes"; }
echo "3 nodes: pipeline in $((SECONDS - t0)) s"
cat "$WORK/slurm3.out"
grep -Eq '^clean +job [0-9]+: 4 of 4 units in 3 array tasks$' "$WORK/slurm3.out" || fail "clean in 3 tasks"
grep -Eq '^pairs +job [0-9]+: 3 completed$' "$WORK/slurm3.out" || fail "pairs: 3 tasks completed"
pl_same "$WORK/ref" "$WORK/w"
# the units really ran on several nodes
nodes=$(grep -ho 'unit [0-9]* on n[0-9]' "$WORK"/w/logs/*.log | awk '{print $4}' | sort -u | tr '\n' ' ')
echo "units ran on: $nodes"
[ "$(echo "$nodes" | wc -w)" -ge 2 ] || fail "all units ran on one node ($nodes)"
echo "pipeline_slurm: ok"
