#!/usr/bin/env bash
# quern mix on small real sources (written by mix_tool.py, independently of
# quern's shard writer): realised fractions within 0.5% of the weights (also
# per shard), every document of an under-sized source seen floor/ceil(epochs)
# times, no validation document in train, byte-identical output for the same
# seed at any -j, every shard accepted by an llm.c header check, and the
# Megatron / datatrove exports holding the same tokens.
source tests/e2e/lib.bash
Q=$QUERN
T="$PYTHON tests/e2e/mix_tool.py"
"$PYTHON" -c "import numpy" 2>/dev/null || skip "python3-numpy is not installed"
S=$WORK/src
$T make "$S/web" 1 3000 3 11          # ~330K tokens: sampled without replacement
$T make "$S/books" 2 400 2 12         # ~44K tokens: repeated ~2.4 times
$T make "$S/wiki" 3 150 1 13 20 120   # ~10K tokens: repeated ~3 times
SRCS=(web="$S/web":0.6 books="$S/books":0.3 wiki="$S/wiki":0.1:5)
ARGS=(--tokens 300K --val-tokens 6K --shard-tokens 40K --seed 99)

"$Q" mix -o "$WORK/a" -j 1 "${ARGS[@]}" "${SRCS[@]}"
"$Q" mix -o "$WORK/b" -j 3 "${ARGS[@]}" "${SRCS[@]}"
diff -r "$WORK/a" "$WORK/b" >/dev/null || fail "same seed, different output at -j 1 and -j 3"
"$Q" mix -o "$WORK/c" "${ARGS[@]/--seed/--seed}" --seed 100 "${SRCS[@]}"
cmp -s "$WORK/a/train_000000.bin" "$WORK/c/train_000000.bin" && fail "another seed gave the same shard"

# Epochs as the manifest records them, for the repetition check.
read -r e_books e_wiki < <("$PYTHON" -c "
import json; m = json.load(open('$WORK/a/manifest.json'))
e = {s['name']: s['epochs'] for s in m['sources']}; print(e['books'], e['wiki'])")
cat >"$WORK/expect.json" <<JSON
{"tags": {"web": 1, "books": 2, "wiki": 3}, "weights": {"web": 0.6, "books": 0.3, "wiki": 0.1},
 "tolerance": 0.005, "train_tokens": 300000, "val_tokens": 6000,
 "shard_check_min_tokens": 30000, "shard_tolerance": 0.01,
 "repeats": {"books": {"docs": 400, "epochs": $e_books}, "wiki": {"docs": 150, "epochs": $e_wiki}}}
JSON
$T check "$WORK/a" "$WORK/expect.json"

# The manifest: per source weight, available, taken, epochs, realised fraction; budget; seed.
"$PYTHON" - "$WORK/a/manifest.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
assert m["kind"] == "mix" and m["seed"] == 99
assert m["budget"]["tokens"] == 300000
assert sum(s["tokens_taken"] for s in m["sources"]) == 300000
for s in m["sources"]:
    assert abs(s["epochs"] - s["tokens_taken"] / s["available_tokens"]) < 1e-9
    assert abs(s["realised_fraction"] - s["weight"]) < 1e-9
assert {sh["split"] for sh in m["shards"]} == {"train", "val"}
assert all(len(sh["xxh3"]) == 16 for sh in m["shards"])
assert all(sh["tokens"] <= 40000 for sh in m["shards"])
PY

# A rerun skips a complete output; --force redoes it identically.
"$Q" mix -o "$WORK/a" "${ARGS[@]}" "${SRCS[@]}" 2>"$WORK/err"
grep -q "skipping" "$WORK/err" || fail "rerun did not skip"
"$Q" mix -o "$WORK/a" --force "${ARGS[@]}" "${SRCS[@]}"
diff -r "$WORK/a" "$WORK/b" >/dev/null || fail "--force rerun differs"

# --shard I/N: three "array tasks" write every third shard each; the last
# one to finish writes the manifest; together they equal the single run.
for i in 0 1 2; do
  [ ! -e "$WORK/parts/manifest.json" ] || fail "manifest written before every part was done"
  "$Q" mix -o "$WORK/parts" --shard $i/3 "${ARGS[@]}" "${SRCS[@]}" 2>"$WORK/err"
done
diff -r -x '.mix-part-*' "$WORK/a" "$WORK/parts" >/dev/null || fail "--shard parts differ from the single run"

# Exporters: the same documents in Megatron and datatrove layouts.
"$Q" mix -o "$WORK/meg" --format megatron "${ARGS[@]}" "${SRCS[@]}"
"$Q" mix -o "$WORK/dt" --format datatrove "${ARGS[@]}" "${SRCS[@]}"
"$PYTHON" - "$WORK/a" "$WORK/meg" "$WORK/dt" <<'PY'
import json, os, sys
import numpy as np
a, meg, dt = sys.argv[1:4]
ma = json.load(open(os.path.join(a, "manifest.json")))
assert json.load(open(os.path.join(meg, "manifest.json")))["kind"] == "mix-megatron"
assert json.load(open(os.path.join(dt, "manifest.json")))["kind"] == "mix-datatrove"
for sh in ma["shards"]:
    stem = sh["name"][:-4]
    toks = np.fromfile(os.path.join(a, stem + ".bin"), dtype=np.uint16)[512:]
    ends = np.fromfile(os.path.join(a, stem + ".idx"), dtype=np.uint64)
    # Megatron: MMIDIDX header, version 1, dtype 8 (uint16), counts, lengths, pointers, doc indices.
    idx = open(os.path.join(meg, stem + ".idx"), "rb").read()
    assert idx[:9] == b"MMIDIDX\x00\x00"
    ver, = np.frombuffer(idx[9:17], np.uint64); assert ver == 1
    assert idx[17] == 8
    n, nd = (int(x) for x in np.frombuffer(idx[18:34], np.uint64))
    assert n == len(ends) and nd == n + 1
    o = 34
    lens = np.frombuffer(idx[o:o + 4 * n], np.int32); o += 4 * n
    ptrs = np.frombuffer(idx[o:o + 8 * n], np.int64); o += 8 * n
    docidx = np.frombuffer(idx[o:o + 8 * (n + 1)], np.int64)
    assert np.array_equal(np.cumsum(lens), ends.astype(np.int64))
    assert np.array_equal(ptrs, 2 * np.concatenate([[0], ends[:-1]]).astype(np.int64))
    assert np.array_equal(docidx, np.arange(n + 1))
    assert np.array_equal(np.fromfile(os.path.join(meg, stem + ".bin"), np.uint16), toks)
    # datatrove: raw uint16 tokens, uint64 document ends.
    assert np.array_equal(np.fromfile(os.path.join(dt, stem + ".ds"), np.uint16), toks)
    assert np.array_equal(np.fromfile(os.path.join(dt, stem + ".ds.index"), np.uint64), ends)
print("exports ok")
PY

# The total from a budget file (quern budget --json): D = 20 N for N = 15K.
"$Q" budget --json -N 15K >"$WORK/budget.json"
"$Q" mix -o "$WORK/bud" --budget "$WORK/budget.json" --val-tokens 1K "${SRCS[@]}"
"$PYTHON" -c "
import json; m = json.load(open('$WORK/bud/manifest.json'))
b = m['budget']
assert b['tokens'] == 300000 and b['params'] == 15000 and abs(b['flops'] - 6 * 15000 * 300000) < 1, b"

# Errors: over max_epochs says by how much; a bad source is bad input.
expect_exit 1 "$Q" mix -o "$WORK/x" --tokens 300K web="$S/web":0.6 books="$S/books":0.3 wiki="$S/wiki":0.1:1 2>"$WORK/err"
grep -q "over its max_epochs 1" "$WORK/err" || { cat "$WORK/err"; fail "max_epochs error"; }
[ ! -e "$WORK/x/manifest.json" ] || fail "a failed mix left a manifest"
expect_exit 1 "$Q" mix -o "$WORK/x" --tokens 1K nope="$WORK/nonexistent":1
# Writing the mix into a source's own directory is refused.
expect_exit 2 "$Q" mix -o "$S/wiki" --tokens 1K wiki="$S/wiki":1

# A source whose document lacks its leading EOT (a piece of a document that
# tokenize split across shards) is mixed as it is, with a note.
cp -r "$S/wiki" "$WORK/cut"
"$PYTHON" -c "
import numpy as np
t = np.memmap('$WORK/cut/shard_000000.bin', dtype=np.uint16, mode='r+', offset=1024)
e = np.fromfile('$WORK/cut/shard_000000.idx', dtype=np.uint64)
t[int(e[0])] = 7
t.flush()"
"$Q" mix -o "$WORK/cutmix" --tokens 30K --max-epochs 10 cut="$WORK/cut":1 2>"$WORK/err"
grep -q "[0-9] documents do not start with the EOT" "$WORK/err" || { cat "$WORK/err"; fail "no note on a document without EOT"; }
echo ok
