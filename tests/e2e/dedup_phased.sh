#!/usr/bin/env bash
# The phased mode (signatures -> pairs -> clusters -> filter, 3 shards) keeps
# byte-for-byte the documents the in-memory mode keeps, and reports the same
# clusters and pairs, for several settings; the in-memory mode's output does
# not depend on -j.
source tests/e2e/lib.bash
ND=$TESTDATA/dedup/neardup/docs.jsonl
# three inputs over the public samples, with duplicates across inputs (and
# one gzip input): input i is the whole of shard i when there are 3 shards
head -n 70 "$ND" > "$WORK/a.jsonl"
cat "$TESTDATA/common/docs-en.jsonl" >> "$WORK/a.jsonl"
tail -n +71 "$ND" | gzip -c > "$WORK/b.jsonl.gz"
{ cat "$TESTDATA/common/docs-multi.jsonl"; sed -n '1,5p;60,66p' "$ND"; } > "$WORK/c.jsonl"
IN=("$WORK/a.jsonl" "$WORK/b.jsonl.gz" "$WORK/c.jsonl")

run_case() { # name, in-memory/clusters options..., -- signatures options...
  local name=$1; shift
  local opts=() sigopts=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  sigopts=("$@")
  local w=$WORK/$name dir=$WORK/$name/sig
  mkdir -p "$w"
  $QUERN dedup -j 2 "${opts[@]}" "${sigopts[@]}" --clusters "$w/mem-clusters.jsonl" \
    --pairs "$w/mem-pairs.tsv" "${IN[@]}" > "$w/mem.jsonl"
  for i in 0 1 2; do
    $QUERN dedup signatures --shard $i/3 -o "$dir" "${sigopts[@]}" "${IN[@]}"
  done
  for b in all; do $QUERN dedup pairs --band $b "$dir"; done
  $QUERN dedup clusters "${opts[@]}" --clusters "$w/ph-clusters.jsonl" --pairs "$w/ph-pairs.tsv" "$dir"
  for i in 0 1 2; do
    $QUERN dedup filter --shard $i/3 --dir "$dir" -o "$w/out-$i.jsonl" "${IN[@]}"
  done
  cat "$w"/out-{0,1,2}.jsonl > "$w/phased.jsonl"
  same_file "$w/mem.jsonl" "$w/phased.jsonl"
  same_file "$w/mem-clusters.jsonl" "$w/ph-clusters.jsonl"
  same_file "$w/mem-pairs.tsv" "$w/ph-pairs.tsv"
  local kept removed
  kept=$(wc -l < "$w/mem.jsonl")
  removed=$(grep -c . "$w/mem-clusters.jsonl" || true)
  echo "$name: kept $kept documents, $removed clusters"
  [ "$removed" -gt 0 ] || fail "$name: no clusters found: the test data should have duplicates"
}

run_case default
run_case verify --verify 0.8 -- --keep-shingles
run_case longest-url --keep longest -- --exact text,url
run_case nemo -- --preset nemo

# -j does not change the in-memory output
$QUERN dedup -j 1 --verify 0.8 "${IN[@]}" > "$WORK/j1.jsonl"
$QUERN dedup -j 3 --verify 0.8 "${IN[@]}" > "$WORK/j3.jsonl"
same_file "$WORK/j1.jsonl" "$WORK/j3.jsonl"
same_file "$WORK/j1.jsonl" "$WORK/verify/mem.jsonl"
# without --clusters/--pairs/--verify/--keep longest the in-memory mode keeps
# only keys (no representatives): the same documents, at any -j
for j in 1 3; do
  $QUERN dedup -j $j "${IN[@]}" > "$WORK/keys-default-$j.jsonl"
  same_file "$WORK/keys-default-$j.jsonl" "$WORK/default/mem.jsonl"
  $QUERN dedup -j $j --preset nemo "${IN[@]}" > "$WORK/keys-nemo-$j.jsonl"
  same_file "$WORK/keys-nemo-$j.jsonl" "$WORK/nemo/mem.jsonl"
done
$QUERN dedup --exact text,url "${IN[@]}" > "$WORK/keys-url.jsonl"
$QUERN dedup --exact text,url --clusters "$WORK/url-clusters.jsonl" "${IN[@]}" > "$WORK/reps-url.jsonl"
same_file "$WORK/keys-url.jsonl" "$WORK/reps-url.jsonl"
