#!/usr/bin/env bash
# Resuming on Slurm: one array task is killed mid-way (scancel while its
# ingest is blocked half-way through a FIFO input) and another fails (a
# truncated archive). The failures are reported with their logs, the
# dependent jobs are cancelled by Slurm instead of pending forever, and a
# resubmission with a different array size recomputes only the two missing
# shards (and what follows them), giving the same bytes as a local run.
source tests/e2e/lib.bash
source tests/e2e/pipeline_common.bash
pl_need_slurm

# the reference: the same pipeline file run locally, in $WORK/ref
pl_reference "$WORK"
P=$WORK/p.pipeline

slurm_up 3 1
writer=''
cleanup() {
  [ -n "$writer" ] && kill "$writer" 2>/dev/null
  slurm_down_all
}
trap cleanup EXIT

# shard 2 fails (truncated gzip: ingest exits 1); shard 3 reads a FIFO that
# delivers the first 100 kB and then stalls, so its task is caught mid-way
mkdir "$WORK/good"
mv "$WORK/in/pubdocs-part1.warc.gz" "$WORK/in/pubdocs-part2.warc.gz" "$WORK/good/"
head -c 50000 "$WORK/good/pubdocs-part1.warc.gz" > "$WORK/in/pubdocs-part1.warc.gz"
mkfifo "$WORK/in/pubdocs-part2.warc.gz"
# (the subshell becomes the sleep, so killing $writer ends the writer for good)
( head -c 100000 "$WORK/good/pubdocs-part2.warc.gz"; exec sleep 300 ) > "$WORK/in/pubdocs-part2.warc.gz" &
writer=$!

pl_slurm_wait "$P" --array-max 4 > "$WORK/first.out" 2>&1 &
submitter=$!
# wait until shard 3 is running, then cancel that one array task
for _ in $(seq 300); do
  "$QUERN" pipeline status -v "$P" > "$WORK/st.txt" 2>/dev/null || true
  grep -q '^running: clean shard 3 ' "$WORK/st.txt" && break
  sleep 0.2
done
grep -q '^running: clean shard 3 ' "$WORK/st.txt" || { cat "$WORK/st.txt" "$WORK/first.out"; fail "shard 3 never ran"; }
cat "$WORK/st.txt"
# while the jobs are queued: the later stages show as queued, and neither a
# second submission nor a local run may start on the same work dir
grep -Eq '^signatures +4 +0 +0 +4 +0 +0$' "$WORK/st.txt" || fail "status: signatures queued"
expect_exit 1 "$QUERN" pipeline slurm "$P" 2> "$WORK/twice.txt"
grep -q 'jobs of an earlier submission are still in the queue' "$WORK/twice.txt" || fail "second submission refused"
expect_exit 1 "$QUERN" pipeline run "$P" 2> /dev/null
sleep 1   # let it read and process what the FIFO has given so far
job=$(awk '$1 == "clean" {print $2}' "$WORK/w/.pipeline/slurm/jobs.tsv")
scancel "${job}_3"
rc=0
wait "$submitter" || rc=$?
cat "$WORK/first.out"
assert_eq "$rc" 1 "the first submission's exit status"
kill "$writer" 2>/dev/null; writer=''
[ -z "$(squeue -h)" ] || { squeue; fail "jobs left in the queue"; }

# the report: which tasks failed, with logs; the dependants cancelled
grep -Eq "^clean +job $job: 2 completed 2 failed; logs: .*/w/logs/clean_${job}_\*.log$" "$WORK/first.out" \
  || grep -Eq "^clean +job $job: 2 completed 1 failed 1 cancelled" "$WORK/first.out" || fail "clean job report"
grep -Eq '^signatures +job [0-9]+: 1 cancelled \(DependencyNeverSatisfied\)$' "$WORK/first.out" \
  || fail "signatures should be cancelled by Slurm (kill_invalid_depend)"
grep -Eq '^train +job [0-9]+: 1 cancelled \(DependencyNeverSatisfied\)$' "$WORK/first.out" || fail "train cancelled"
grep -Eq '^clean +4 +2 +0 +0 +2 +0$' "$WORK/first.out" || fail "status: 2 clean done, 2 failed"
grep -q "^failed: clean shard 2 (.*pubdocs-part1.warc.gz): quern ingest exited with 1 (slurm job ${job}_2 on n[123]); log: .*/w/logs/clean_${job}_2.log$" \
  "$WORK/first.out" || fail "shard 2's failure and log"
# The cancelled task either records the signal itself or, when scancel wins the
# race on a loaded machine, is found gone without a report ("lost"); both
# must name the job, the node and the log.
grep -Eq "^failed: clean shard 3 \(.*pubdocs-part2.warc.gz\): (stopped by signal 15|lost: the Slurm job ended without a report \(killed\?\)) \(slurm job ${job}_3 on n[123]\); log: .*/w/logs/clean_${job}_3.log$" \
  "$WORK/first.out" || fail "shard 3's cancellation and log"
grep -q 'quern ingest: .*pubdocs-part1.warc.gz' "$WORK/w/logs/clean_${job}_2.log" || fail "ingest's error is in the log"
ls -a "$WORK/w/clean" | grep -q '\.tmp\.' && fail "a staging directory was left behind"
[ ! -e "$WORK/w/clean/00003" ] || fail "the killed unit must not look done"

# fix the inputs; resubmit with a different array size: only shards 2 and 3
# of clean run again, the finished ones are not touched
rm "$WORK/in/pubdocs-part1.warc.gz" "$WORK/in/pubdocs-part2.warc.gz"
mv "$WORK"/good/*.warc.gz "$WORK/in/"
before=$(stat -c '%n %i %Y' "$WORK"/w/clean/0000[01]/docs.jsonl.zst)
pl_slurm_wait "$P" --array-max 1 > "$WORK/second.out" 2>&1 || { cat "$WORK/second.out"; fail "resubmission"; }
cat "$WORK/second.out"
grep -Eq '^clean +job [0-9]+: 2 of 4 units in 1 array tasks$' "$WORK/second.out" || fail "only 2 clean units resubmitted"
grep -q '^units=(2 3)$' "$WORK/w/.pipeline/slurm/clean.sbatch" || fail "clean.sbatch should hold units 2 and 3"
job2=$(awk '$1 == "clean" {print $2}' "$WORK/w/.pipeline/slurm/jobs.tsv")
ran=$(grep -ho 'clean unit [0-9]* on' "$WORK"/w/logs/clean_"${job2}"_*.log | awk '{print $3}' | sort | tr '\n' ' ')
assert_eq "$ran" "2 3 " "clean units run by the resubmission"
assert_eq "$(stat -c '%n %i %Y' "$WORK"/w/clean/0000[01]/docs.jsonl.zst)" "$before" "finished clean shards were redone"
pl_same "$WORK/ref" "$WORK/w"
echo "pipeline_resume: ok"
