#!/usr/bin/env bash
# quern tokenize: JSONL -> llm.c shards + .idx + manifest.json, read back by an
# independent numpy reader (llm.c's layout); identical at -j 1 and -j 2; shard
# cutting, a document longer than a shard, uint32 shards for big vocabularies,
# tokens inspect/decode round trip, rerun skipping and bad input exit codes.
# Uses a vocabulary trained here, so it needs no network.
source tests/e2e/lib.bash
"$PYTHON" -c 'import numpy' 2>/dev/null || skip "numpy missing for $PYTHON (apt-get install python3-numpy)"
DOCS=$TESTDATA/tokenize/docs.jsonl
"$QUERN" bpe train --vocab-size 600 -o "$WORK/vocab" -j 2 "$DOCS" 2>/dev/null
V=$WORK/vocab/bpe.tiktoken

# 1. tokens equal `bpe encode` with EOT before every document, at -j 1 and -j 2
"$QUERN" tokenize --vocab "$V" -o "$WORK/t1" -j 1 "$DOCS"
"$QUERN" tokenize --vocab "$V" -o "$WORK/t2" -j 2 "$DOCS"
for f in "$WORK"/t1/*; do same_file "$f" "$WORK/t2/$(basename "$f")"; done
"$QUERN" bpe encode --jsonl --vocab "$V" "$DOCS" > "$WORK/expect.ids"
cat > "$WORK/read.py" <<'EOF'
import json, sys, os
import numpy as np
d, expect = sys.argv[1], sys.argv[2]
man = json.load(open(os.path.join(d, "manifest.json")))
eot = man["tokenizer"]["eot"]
want = []
for line in open(expect):
    want.append(eot)
    want.extend(int(x) for x in line.split())
got, docs = [], 0
for sh in man["shards"]:
    path = os.path.join(d, sh["name"])
    header = np.fromfile(path, dtype="<i4", count=256)          # llm.c: 256 int32
    assert header[0] == 20240520, header[0]
    assert header[1] in (1, 2), header[1]
    dtype = "<u2" if header[1] == 1 else "<u4"
    toks = np.fromfile(path, dtype=dtype, offset=256 * 4)
    assert len(toks) == header[2] == sh["tokens"], (len(toks), header[2], sh["tokens"])
    ends = np.fromfile(path[:-4] + ".idx", dtype="<u8")
    assert len(ends) == sh["docs"] and (len(ends) == 0 or ends[-1] == len(toks)), (len(ends), sh["docs"])
    assert np.all(np.diff(ends.astype(np.int64)) > 0)
    got.extend(toks.tolist())
    docs += len(ends)
    print(sh["name"], "version", header[1], "tokens", header[2], "docs", len(ends))
assert got == want, "tokens differ from bpe encode"
print("shards:", len(man["shards"]), "tokens:", len(got), "documents:", docs, "eot:", eot)
EOF
out=$("$PYTHON" "$WORK/read.py" "$WORK/t1" "$WORK/expect.ids") || fail "numpy reader disagrees"
echo "$out"
"$PYTHON" - "$WORK/t1/manifest.json" <<'EOF' || fail "manifest fields"
import json, sys
m = json.load(open(sys.argv[1]))
t = m["tokenizer"]
assert m["kind"] == "tokenize" and t["name"] == "bpe" and t["vocab_size"] == 600 and t["eot"] == 599, t
assert len(t["hash"]) == 16 and all(len(s["xxh3"]) == 16 for s in m["shards"])
assert m["sources"][0]["name"] == "docs" and m["sources"][0]["available_tokens"] == sum(s["tokens"] for s in m["shards"])
EOF

# 2. small shards: cut at --shard-tokens; a document longer than a shard is split, no endless loop
"$QUERN" tokenize --vocab "$V" -o "$WORK/small" --shard-tokens 3000 -j 2 "$DOCS" 2> "$WORK/small.err"
grep -q 'split' "$WORK/small.err" || fail "no split reported: $(cat "$WORK/small.err")"
n=$(ls "$WORK"/small/*.bin | wc -l)
[ "$n" -gt 10 ] || fail "expected many shards, got $n"
"$PYTHON" - "$WORK/small/manifest.json" <<'EOF' || fail "a shard exceeds --shard-tokens"
import json, sys
m = json.load(open(sys.argv[1]))
assert all(0 < s["tokens"] <= 3000 for s in m["shards"]), [s["tokens"] for s in m["shards"]]
EOF
"$PYTHON" "$WORK/read.py" "$WORK/small" "$WORK/expect.ids" > /dev/null || fail "split shards do not concatenate to the same tokens"

# 3. vocabulary above 65536 ids -> version 2 (uint32) shards
mkdir -p "$WORK/big"
cp "$V" "$WORK/big/big.tiktoken"
"$PYTHON" - "$WORK/vocab/bpe.tiktoken.json" "$WORK/big/big.tiktoken.json" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
s["name"] = "big"; s["special_tokens"] = {"<|endoftext|>": 70000}; s["eot"] = 70000; s["vocab_size"] = 70001
json.dump(s, open(sys.argv[2], "w"))
EOF
"$QUERN" tokenize --vocab "$WORK/big" -o "$WORK/t32" "$DOCS" 2>/dev/null
"$QUERN" bpe encode --jsonl --vocab "$WORK/big" "$DOCS" > "$WORK/expect32.ids"
out=$("$PYTHON" "$WORK/read.py" "$WORK/t32" "$WORK/expect32.ids") || fail "uint32 shards unreadable"
[[ "$out" == *"version 2"* ]] || fail "expected uint32 shards: $out"

# 4. inspect and decode: the documents come back byte for byte
"$QUERN" tokens inspect --vocab "$V" "$WORK/t1/train_000000.bin" > "$WORK/inspect.txt"
grep -q 'magic 20240520, version 1' "$WORK/inspect.txt" || fail "inspect header: $(head -3 "$WORK/inspect.txt")"
grep -q 'xxh3: .* (matches the manifest)' "$WORK/inspect.txt" || fail "inspect checksum"
"$QUERN" tokens inspect "$WORK/t1" > /dev/null 2>&1 || fail "inspect of a directory"
# no --vocab: the manifest's tokenizer.path leads to the vocabulary
"$PYTHON" -c 'import json,sys; p = json.load(open(sys.argv[1]))["tokenizer"]["path"]; assert p.startswith("/"), p' \
  "$WORK/t1/manifest.json" || fail "manifest lacks tokenizer.path"
"$QUERN" tokens decode --jsonl "$WORK/t1/train_000000.bin" > "$WORK/decoded.jsonl"
"$PYTHON" - "$DOCS" "$WORK/decoded.jsonl" <<'EOF' || fail "decoded documents differ from the input"
import json, sys
a = [json.loads(l)["text"] for l in open(sys.argv[1]) if l.strip()]
b = [json.loads(l)["text"] for l in open(sys.argv[2])]
assert a == b, (len(a), len(b))
EOF
"$QUERN" tokens decode --vocab "$V" --doc 1 "$WORK/t1/train_000000.bin" > "$WORK/doc1.txt"
[ -s "$WORK/doc1.txt" ] || fail "decode --doc 1 is empty"

# 5. a rerun skips a complete output; --force redoes it identically
out=$("$QUERN" tokenize --vocab "$V" -o "$WORK/t1" "$DOCS" 2>&1)
[[ "$out" == *skipping* ]] || fail "rerun did not skip: $out"
"$QUERN" tokenize --vocab "$V" -o "$WORK/t1" --force -j 2 "$DOCS" 2>/dev/null
for f in "$WORK"/t1/*; do same_file "$f" "$WORK/t2/$(basename "$f")"; done

# 6. errors: bad lines are reported and exit 1; usage errors exit 2
printf '{"text":"ok"}\nnot json\n{"text":"fine"}\n' > "$WORK/bad.jsonl"
expect_exit 1 "$QUERN" tokenize --vocab "$V" -o "$WORK/bad" "$WORK/bad.jsonl"
"$PYTHON" - "$WORK/bad/manifest.json" <<'EOF' || fail "good documents of a bad input were not kept"
import json, sys
assert sum(s["docs"] for s in json.load(open(sys.argv[1]))["shards"]) == 2
EOF
expect_exit 2 "$QUERN" tokenize -o "$WORK/x" "$DOCS"
expect_exit 2 "$QUERN" tokenize --vocab "$WORK/nope.tiktoken" -o "$WORK/x" "$DOCS"
expect_exit 1 "$QUERN" tokenize --vocab "$V" -o "$WORK/y" "$WORK/missing.jsonl"
[[ "$("$QUERN" tokenize --help)" == *shard-tokens* ]] || fail "tokenize --help"
[[ "$("$QUERN" tokens --help)" == *inspect* ]] || fail "tokens --help"
for cmd in tokenize bpe "bpe train" tokens; do   # every --help states its exit codes
  [[ "$("$QUERN" $cmd --help)" == *"Exit: 0 ok; 1 "*"; 2 bad usage"* ]] || fail "$cmd --help does not state the exit codes"
done
# 7. a rerun after a killed run: the killed run's shard temporaries
# (PREFIX_NNNNNN.{bin,idx}.tmp.<pid>, pid gone) are removed, so DIR ends with
# exactly the files of an uninterrupted run; a live process's temps and other
# files are left alone
sleep 0 & dead=$!; wait $dead
mkdir -p "$WORK/rerun"
for f in train_000000.bin train_000000.idx train_000007.bin train_000123.idx; do
  echo partial > "$WORK/rerun/$f.tmp.$dead"
done
touch "$WORK/rerun/train_000001.bin.tmp.$$" "$WORK/rerun/notes.tmp.$dead"
"$QUERN" tokenize --vocab "$V" -o "$WORK/rerun" --shard-tokens 3000 -j 2 "$DOCS" 2>/dev/null
rm "$WORK/rerun/train_000001.bin.tmp.$$" "$WORK/rerun/notes.tmp.$dead" || fail "removed a live process's temp or a file it does not own"
assert_eq "$(ls "$WORK/rerun" | grep '\.tmp\.' | tr '\n' ' ')" "" "temporaries left after a rerun"
assert_eq "$(ls "$WORK/rerun" | md5sum)" "$(ls "$WORK/small" | md5sum)" "file list after a rerun over stale temporaries"
for f in "$WORK"/small/*; do same_file "$f" "$WORK/rerun/$(basename "$f")"; done
echo "tokenize shards: ok"
