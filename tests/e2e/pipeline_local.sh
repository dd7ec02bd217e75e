#!/usr/bin/env bash
# quern pipeline run|plan|status and slurm --dry-run on the public samples,
# without Slurm: every stage runs, the output does not depend on -j, a rerun
# does nothing, a lost unit is redone alone, and bad files are refused.
source tests/e2e/lib.bash
source tests/e2e/pipeline_common.bash

pl_prepare "$WORK"
# One pipeline file, one work dir path: runs to compare are moved aside
# (mix's manifest records its sources' directories, so the path must match).
P=$WORK/p1.pipeline
pl_write "$P" "$WORK/w1" "$WORK"

# plan: the stage graph and the exact commands
"$QUERN" pipeline plan "$P" > "$WORK/plan.txt"
grep -q '^stage clean: 4 units' "$WORK/plan.txt" || fail "plan: 4 clean units expected"
grep -q '^stage pairs: 5 units' "$WORK/plan.txt" || fail "plan: 4 bands + exact-text = 5 pairs units expected"
grep -q 'quern ingest -j1 .*/in/dolma-sample-0000.warc.gz | .*quern clean -j1 --preset fineweb -o .*/w1/clean/00000/docs.jsonl.zst' \
  "$WORK/plan.txt" || fail "plan: ingest | clean command"
grep -q 'quern dedup filter -j1 --bands 4 --rows 8 --shard=2/4 --dir .*/w1/dedup/work' "$WORK/plan.txt" \
  || fail "plan: dedup filter command"

# status before anything ran: all missing, exit 1
expect_exit 1 "$QUERN" pipeline status --no-slurm "$P" > "$WORK/status0.txt"
grep -Eq '^pairs +5 +0 +0 +0 +0 +5$' "$WORK/status0.txt" || { cat "$WORK/status0.txt"; fail "status: 5 pairs missing"; }

# --until: only the first stage
"$QUERN" pipeline run --until clean "$P" 2> "$WORK/run0.log" || { cat "$WORK/run0.log"; fail "run --until clean"; }
expect_exit 1 "$QUERN" pipeline status "$P" > "$WORK/status00.txt"
grep -Eq '^clean +4 +4 +0 +0 +0 +0$' "$WORK/status00.txt" || fail "--until clean: clean done"
grep -Eq '^signatures +4 +0 +0 +0 +0 +4$' "$WORK/status00.txt" || fail "--until clean: nothing after it"

# run with -j 1 and -j 2: byte-identical outputs
"$QUERN" pipeline run -j 1 "$P" 2> "$WORK/run1.log" || { cat "$WORK/run1.log"; fail "run -j 1"; }
grep -q '24 units, 20 to run' "$WORK/run1.log" || fail "the clean units are done already"
grep -q 'all 24 units done' "$WORK/run1.log" || fail "24 units expected"
mv "$WORK/w1" "$WORK/ref"
"$QUERN" pipeline run -j 2 "$P" 2> "$WORK/run2.log" || { cat "$WORK/run2.log"; fail "run -j 2"; }
pl_same "$WORK/ref" "$WORK/w1"
"$QUERN" pipeline status "$P" > "$WORK/status1.txt" || fail "status after run: not all done"
grep -Eq '^mix +1 +1 +0 +0 +0 +0$' "$WORK/status1.txt" || fail "status: mix done"
ls "$WORK"/w1/train/run/ckpt_*.bin >/dev/null || fail "no checkpoint from the train stage"
# the token shards mix made are listed in its manifest, with checksums
for f in "$WORK"/w1/mix/train_*.bin; do
  grep -q "\"$(basename "$f")\"" "$WORK/w1/mix/manifest.json" || fail "$f not in the mix manifest"
done
# dedup removed the documents duplicated across the overlapping inputs
docs_in=$(cat "$WORK"/w1/clean/*/docs.jsonl.zst | zstd -dc | wc -l)
docs_out=$(cat "$WORK"/w1/dedup/filtered/*/docs.jsonl.zst | zstd -dc | wc -l)
[ "$docs_out" -lt "$docs_in" ] && [ "$docs_out" -gt 0 ] || fail "dedup kept $docs_out of $docs_in documents"

# a rerun runs nothing
"$QUERN" pipeline run "$P" 2> "$WORK/run3.log" || fail "rerun"
grep -q '24 units, 0 to run' "$WORK/run3.log" || { cat "$WORK/run3.log"; fail "rerun should run nothing"; }

# a train job stopped after its first checkpoint continues from it
rm "$WORK/w1/train/done" "$WORK/w1/train/run/ckpt_00000003.bin"
"$QUERN" pipeline run "$P" 2> "$WORK/run-train.log" || { cat "$WORK/run-train.log"; fail "train resume"; }
grep -q '24 units, 1 to run' "$WORK/run-train.log" || fail "only train should run"
grep -q 'quern train -j[0-9]* --batch 2 --ckpt-every 2 --device cpu --resume .*/w1/train/run -o .*/w1/train/run' \
  "$WORK/w1/logs/local/train_00000.log" || { cat "$WORK/w1/logs/local/train_00000.log"; fail "train --resume"; }
same_file "$WORK/ref/train/run/ckpt_00000003.bin" "$WORK/w1/train/run/ckpt_00000003.bin"

# a lost shard: only it and what depends on it are redone, the rest stays put
before=$(stat -c '%i %Y' "$WORK"/w1/tokens/00001/manifest.json "$WORK"/w1/clean/00002/docs.jsonl.zst)
rm -rf "$WORK/w1/tokens/00002" "$WORK/w1/mix" "$WORK/w1/train/done"
"$QUERN" pipeline run "$P" 2> "$WORK/run4.log" || { cat "$WORK/run4.log"; fail "resume"; }
grep -q '24 units, 3 to run' "$WORK/run4.log" || { cat "$WORK/run4.log"; fail "resume should run 3 units"; }
after=$(stat -c '%i %Y' "$WORK"/w1/tokens/00001/manifest.json "$WORK"/w1/clean/00002/docs.jsonl.zst)
assert_eq "$after" "$before" "done units were rewritten"
pl_same "$WORK/ref" "$WORK/w1"

# a failing unit: reported with its log, dependants not run, exit 1
mv "$WORK/w1" "$WORK/w1.done"
cp "$WORK/in/pubdocs-part1.warc.gz" "$WORK/part1.good"
head -c 50000 "$WORK/part1.good" > "$WORK/in/pubdocs-part1.warc.gz"    # truncated gzip
expect_exit 1 "$QUERN" pipeline run -j 2 --keep-going "$P" 2> "$WORK/run5.log"
grep -q 'clean shard 2 (.*pubdocs-part1.warc.gz) failed (exit 1); log: .*/w1/logs/local/clean_00002.log' \
  "$WORK/run5.log" || { cat "$WORK/run5.log"; fail "failure report"; }
expect_exit 1 "$QUERN" pipeline status "$P" > "$WORK/status3.txt"
grep -q '^failed: clean shard 2 .*quern ingest exited with 1 .*log: .*clean_00002.log' "$WORK/status3.txt" \
  || { cat "$WORK/status3.txt"; fail "status should list the failed unit"; }
[ ! -e "$WORK/w1/mix" ] || fail "mix ran although a shard failed"
cp "$WORK/part1.good" "$WORK/in/pubdocs-part1.warc.gz"
"$QUERN" pipeline run "$P" 2> "$WORK/run6.log" || { cat "$WORK/run6.log"; fail "run after the fix"; }
grep -q '24 units, 21 to run' "$WORK/run6.log" || { cat "$WORK/run6.log"; fail "the failed shard, then dedup (all shards) onwards"; }
pl_same "$WORK/ref" "$WORK/w1"

# slurm --dry-run: the scripts, chained with afterok, nothing submitted
"$QUERN" pipeline slurm --dry-run "$P" > "$WORK/dry-done.txt"
grep -q '^# ---- stage' "$WORK/dry-done.txt" && fail "dry-run: nothing is missing, nothing to submit"
rm -rf "$WORK/w1/tokens/00003" "$WORK/w1/mix" "$WORK/w1/train/done"
"$QUERN" pipeline slurm --dry-run --array-max 2 --partition debug --time 0:30:00 "$P" > "$WORK/dry.txt"
grep -q '^# ---- stage tokenize: sbatch --parsable .*tokenize.sbatch' "$WORK/dry.txt" || fail "dry-run: tokenize job"
grep -q '^# ---- stage mix: sbatch --parsable --dependency=afterok:<job of tokenize>' "$WORK/dry.txt" \
  || fail "dry-run: mix after tokenize"
grep -q '^# ---- stage train: sbatch --parsable --dependency=afterok:<job of mix>' "$WORK/dry.txt" || fail "dry-run: train"
grep -q '^# ---- stage clean' "$WORK/dry.txt" && fail "dry-run: clean is done and must not be submitted"
grep -q '^#SBATCH --array=0-0$' "$WORK/dry.txt" || fail "dry-run: a one-task array for the missing tokenize unit"
grep -q '^units=(3)$' "$WORK/dry.txt" || fail "dry-run: only unit 3 of tokenize"
grep -q '^#SBATCH --kill-on-invalid-dep=yes$' "$WORK/dry.txt" || fail "dry-run: kill-on-invalid-dep"
grep -q '^#SBATCH --partition=debug$' "$WORK/dry.txt" || fail "dry-run: --partition"
grep -q '^#SBATCH --time=0:30:00$' "$WORK/dry.txt" || fail "dry-run: --time overrides the file"
grep -q '^#SBATCH --mem=100M$' "$WORK/dry.txt" || fail "dry-run: mem from [slurm]"
[ ! -e "$WORK/w1/.pipeline/slurm/jobs.tsv" ] || fail "dry-run must not submit"

# an edited pipeline file must not mix old and new work: a changed stage
# with done units (its own or later ones) is refused, until they are removed
"$QUERN" pipeline run "$P" 2> /dev/null || fail "completing the run again"
sed 's/--seed 7/--seed 8/' "$P" > "$WORK/p-edit.pipeline"
expect_exit 2 "$QUERN" pipeline run "$WORK/p-edit.pipeline" 2> "$WORK/edit.txt"
grep -q 'stage mix changed since its outputs were made' "$WORK/edit.txt" || { cat "$WORK/edit.txt"; fail "edit refused"; }
rm -rf "$WORK/w1/mix" "$WORK/w1/train"
"$QUERN" pipeline run "$WORK/p-edit.pipeline" 2> "$WORK/edit-run.log" || { cat "$WORK/edit-run.log"; fail "edited run"; }
grep -q '24 units, 2 to run' "$WORK/edit-run.log" || { cat "$WORK/edit-run.log"; fail "edited run: mix and train"; }
cmp -s "$WORK/w1/mix/manifest.json" "$WORK/ref/mix/manifest.json" && fail "another seed should give another mix"
# and a changed input list is refused outright
cp "$WORK/in/pubdocs-part0.warc.gz" "$WORK/in/pubdocs-part0b.warc.gz"
expect_exit 2 "$QUERN" pipeline run "$WORK/p-edit.pipeline" 2> "$WORK/edit2.txt"
grep -q 'the inputs differ from those the done units' "$WORK/edit2.txt" || { cat "$WORK/edit2.txt"; fail "inputs"; }
rm "$WORK/in/pubdocs-part0b.warc.gz"

# bad pipeline files: exit 2, the file and line named
printf '[pipeline]\nworkdir = w\ninputs = %s/in/*.warc.gz\n[clean]\noptoins = x\n' "$WORK" > "$WORK/bad.pipeline"
expect_exit 2 "$QUERN" pipeline run "$WORK/bad.pipeline" 2> "$WORK/bad.txt"
grep -q "quern pipeline: .*bad.pipeline:line 5: unknown key 'optoins' in \[clean\]" "$WORK/bad.txt" \
  || { cat "$WORK/bad.txt"; fail "error message for a typo"; }
expect_exit 2 "$QUERN" pipeline frobnicate "$P"
expect_exit 2 "$QUERN" pipeline run
"$QUERN" pipeline --help | grep -q 'quern pipeline slurm' || fail "--help"
echo "pipeline_local: ok"
