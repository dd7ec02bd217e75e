# quern cat: same JSON values out as in; byte-identical on its own output;
# gzip (multi-member) / zstd / stdin inputs; same bytes at -j 1 and -j 2,
# for stdout and for -o DIR shards.
source tests/e2e/lib.bash
command -v gzip >/dev/null && command -v zstd >/dev/null || skip "needs gzip and zstd"
D=$TESTDATA/common
cd "$WORK"
cat "$D/docs-en.jsonl" "$D/docs-multi.jsonl" > in.jsonl

"$QUERN" cat -j 2 "$D/docs-en.jsonl" "$D/docs-multi.jsonl" > out1.jsonl
# Same JSON values, document by document, in order.
"$PYTHON" - in.jsonl out1.jsonl <<'PY'
import json, sys
a = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
b = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8")]
assert len(a) == len(b) == 55, (len(a), len(b))
assert a == b, "values differ"
# quern's form: no whitespace between members, one document per line
for l in open(sys.argv[2], encoding="utf-8"):
    assert l.endswith("}\n") and not l.startswith("{ ")
PY
# Already in quern's form -> byte for byte.
"$QUERN" cat out1.jsonl > out2.jsonl
same_file out1.jsonl out2.jsonl

# Compressed inputs, detected by content (names chosen to mislead).
gzip -c "$D/docs-en.jsonl" > part1.gz
gzip -c "$D/docs-multi.jsonl" > part2.gz
cat part1.gz part2.gz > multi-member.data
zstd -q -c in.jsonl > in.gz
"$QUERN" cat multi-member.data > from-gz.jsonl
same_file out1.jsonl from-gz.jsonl
"$QUERN" cat in.gz > from-zst.jsonl
same_file out1.jsonl from-zst.jsonl
"$QUERN" cat - < part1.gz > from-stdin.jsonl
"$QUERN" cat < multi-member.data > from-stdin-all.jsonl
same_file out1.jsonl from-stdin-all.jsonl
assert_eq "$(wc -l < from-stdin.jsonl)" 25 "stdin docs"

# Globs and directories expand sorted.
mkdir -p indir && cp part1.gz indir/a.jsonl.gz && cp part2.gz indir/b.jsonl.gz
"$QUERN" cat 'indir/*.gz' > from-glob.jsonl
same_file out1.jsonl from-glob.jsonl
"$QUERN" cat indir > from-dir.jsonl
same_file out1.jsonl from-dir.jsonl

# -j 1 vs -j 2: stdout and sharded directory output are identical.
"$QUERN" cat -j 1 in.jsonl > j1.jsonl
"$QUERN" cat -j 2 in.jsonl > j2.jsonl
same_file j1.jsonl j2.jsonl
same_file out1.jsonl j1.jsonl
"$QUERN" cat -j 1 -o shards1/ --shard-bytes 100K in.gz
"$QUERN" cat -j 2 -o shards2/ --shard-bytes 100K in.gz --stats stats.json
n=$(ls shards1 | wc -l)
[ "$n" -ge 4 ] || fail "expected several shards, got $n"
assert_eq "$(ls shards1)" "$(ls shards2)" "shard names"
for f in shards1/*; do same_file "$f" "shards2/$(basename "$f")"; done
ls shards1 | grep -qv '^part-[0-9]\{6\}\.jsonl\.zst$' && fail "unexpected shard name: $(ls shards1)"
# The shards, read back in order, are the documents.
"$QUERN" cat shards1 > from-shards.jsonl
same_file out1.jsonl from-shards.jsonl
zstd -q -d -c shards1/*.jsonl.zst | cmp - out1.jsonl || fail "shards are not zstd JSONL of the documents"
"$QUERN" cat --no-compress -o plain/ in.jsonl
same_file out1.jsonl plain/part-000000.jsonl
"$QUERN" cat -o single.jsonl.zst in.jsonl
zstd -q -d -c single.jsonl.zst | cmp - out1.jsonl || fail "single .zst output differs"

# --stats is JSON with the counts.
"$PYTHON" - stats.json <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
assert s["command"] == "cat" and s["docs_in"] == 55 and s["docs_out"] == 55, s
assert s["bad_lines"] == 0 and s["failed_inputs"] == 0 and s["seconds"] >= 0, s
PY

# A rerun with bigger shards leaves no stale shards from the first run.
"$QUERN" cat -o shards1/ --shard-bytes 1G in.jsonl
assert_eq "$(ls shards1)" "part-000000.jsonl.zst" "shards after a rerun"

# --shard I/N splits the inputs; together the slices are everything.
# Array tasks writing one directory get distinct shard names.
"$QUERN" cat --shard 0/2 -o arr/ part1.gz part2.gz
"$QUERN" cat --shard 1/2 -o arr/ part1.gz part2.gz
assert_eq "$(ls arr | tr '\n' ' ')" "part-00000-000000.jsonl.zst part-00001-000000.jsonl.zst " "array task shards"
"$QUERN" cat arr | cmp - out1.jsonl || fail "array task shards do not add up"
"$QUERN" cat --shard 0/2 part1.gz part2.gz > s0.jsonl
"$QUERN" cat --shard 1/2 part1.gz part2.gz > s1.jsonl
cat s0.jsonl s1.jsonl | cmp - out1.jsonl || fail "shards do not add up"

# count agrees with Python.
"$QUERN" count --json in.gz > count.json
"$PYTHON" - count.json in.jsonl <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
docs = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8")]
assert c["docs"] == len(docs), c
assert c["chars"] == sum(len(d["text"]) for d in docs), c
assert c["text_bytes"] == sum(len(d["text"].encode()) for d in docs), c
PY
"$QUERN" cat --help | grep -q -- '--shard-bytes' || fail "--help"
expect_exit 2 "$QUERN" cat --bogus
echo ok
