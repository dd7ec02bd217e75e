#!/usr/bin/env bash
# `quern dedup` in a pipe: exact dedup on the normalised text (first wins),
# near duplicates, URL keys, --no-near, usage errors, --stats contents.
source tests/e2e/lib.bash
W=$WORK
$PYTHON - "$W/docs.jsonl" <<'PY'
import json, sys
base = ("The committee met on Tuesday to discuss the budget for the coming year and "
        "agreed that the library, the swimming pool and the two parks would keep their "
        "funding while the road repairs were moved to the spring, after a long debate "
        "about the state of the bridge over the river near the old mill and the costs.")
docs = [
    {"id": "a", "text": base, "metadata": {"url": "http://x/1"}},
    {"id": "b", "text": "Completely different words about gardening: tomatoes need sun, "
                        "water in the morning, and patience while the fruit ripens slowly.",
     "metadata": {"url": "http://x/2"}},
    # exact after normalisation: case, punctuation, spacing, digits, diacritics
    {"id": "c", "text": base.upper().replace(",", " ;").replace("Tuesday", "TUESDAY!!"),
     "metadata": {"url": "http://x/3"}},
    # near: one word added at the end (so also longer)
    {"id": "d", "text": base.replace("the costs.", "the total costs."), "metadata": {"url": "http://x/4"}},
    # same URL as b, different text
    {"id": "e", "text": "A fresh text about astronomy: the moon rises late tonight and "
                        "Jupiter shines bright in the east before dawn.",
     "metadata": {"url": "http://x/2"}},
    {"id": "f", "text": "  ...  ", "metadata": {"url": "http://x/6"}},
]
with open(sys.argv[1], "w") as f:
    for d in docs:
        f.write(json.dumps(d) + "\n")
PY
ids() { $PYTHON -c 'import json,sys; print(" ".join(json.loads(l)["id"] for l in sys.stdin))'; }

got=$(cat "$W/docs.jsonl" | $QUERN dedup --stats "$W/st.json" | ids)
assert_eq "$got" "a b e f" "default (exact text + fineweb near), from stdin"
$PYTHON - "$W/st.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
assert s["docs_in"] == 6 and s["docs_out"] == 4, s
assert s["removed"]["exact"] == 1 and s["removed"]["near"] == 1, s
assert s["docs_without_shingles"] == 1, s
assert s["memory"]["bytes_per_doc"] > 0 and s["memory"]["target_bytes_per_doc"] == 8 * 14 + 8, s
# the default keeps only keys: it cannot name candidates or clusters
assert s["memory"]["index"] == "keys" and "clusters" not in s and "candidate_pairs" not in s, s
for k in ("verify", "signature", "bytes_in", "bytes_out", "seconds"):
    assert k in s, k
PY
# --clusters keeps representatives: the same documents, and clusters counted
got=$($QUERN dedup --clusters "$W/cl.jsonl" --stats "$W/st2.json" "$W/docs.jsonl" | ids)
assert_eq "$got" "a b e f" "--clusters keeps the same documents"
$PYTHON - "$W/st.json" "$W/st2.json" <<'PY'
import json, sys
s, t = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert t["memory"]["index"] == "keys+representatives", t
assert t["candidate_pairs"] >= 1 and t["clusters"] == 1 and t["clustered_docs"] == 3, t
assert t["removed"] == s["removed"] and t["docs_out"] == s["docs_out"], (s, t)
assert t["memory"]["bytes_per_doc"] > s["memory"]["bytes_per_doc"], (s, t)
PY
got=$($QUERN dedup --no-near "$W/docs.jsonl" | ids)
assert_eq "$got" "a b d e f" "--no-near keeps the near duplicate"
got=$($QUERN dedup --exact none --verify 0.5 "$W/docs.jsonl" | ids)
assert_eq "$got" "a b e f" "near only: the exact copy is also a near duplicate"
got=$($QUERN dedup --exact url --no-near "$W/docs.jsonl" | ids)
assert_eq "$got" "a b c d f" "--exact url drops the second document of a URL"
got=$($QUERN dedup --exact text,url "$W/docs.jsonl" | ids)
assert_eq "$got" "a b f" "--exact text,url"
got=$($QUERN dedup --keep longest "$W/docs.jsonl" | ids)
assert_eq "$got" "b d e f" "--keep longest keeps the longest of the cluster (d is longer than a)"
got=$($QUERN dedup --preset nemo "$W/docs.jsonl" | ids)
assert_eq "$got" "a b e f" "nemo preset"
# output to a file, atomically
$QUERN dedup -o "$W/out.jsonl.zst" "$W/docs.jsonl"
[ -s "$W/out.jsonl.zst" ] || fail "no zstd output"
# usage
expect_exit 0 $QUERN dedup --help
expect_exit 2 $QUERN dedup --preset nope "$W/docs.jsonl"
expect_exit 2 $QUERN dedup --verify 1.5 "$W/docs.jsonl"
expect_exit 2 $QUERN dedup --bands 100 --rows 20 "$W/docs.jsonl"
expect_exit 2 sh -c "cat '$W/docs.jsonl' | $QUERN dedup --keep longest"
expect_exit 2 $QUERN dedup signatures --shard 0/1 -o "$W/s" - < "$W/docs.jsonl"
expect_exit 1 $QUERN dedup "$W/does-not-exist.jsonl"
# a bad line is reported with its position and skipped; --strict stops
printf '{"id":"z","text":"ok text here"}\nnot json\n' > "$W/bad.jsonl"
$QUERN dedup "$W/bad.jsonl" > "$W/o.jsonl" 2> "$W/err.txt"
grep -q "bad.jsonl:line 2" "$W/err.txt" || fail "bad line not reported: $(cat "$W/err.txt")"
[ "$(wc -l < "$W/o.jsonl")" = 1 ] || fail "good line lost"
expect_exit 1 $QUERN dedup --strict "$W/bad.jsonl"
# --strict keeps every kept document before the bad line (as cat --strict
# does), reports only that line, and looks at nothing after it; the same with
# --keep longest (its second pass stops there too), at -j 1 and -j 4, to a file
{ head -n 4 "$W/docs.jsonl"; echo 'not json'; echo '{"id":"y","text":"after the bad line"}'; } > "$W/strict.jsonl"
for keep in first longest; do
  for j in 1 4; do
    rc=0
    $QUERN dedup --strict --keep $keep -j $j "$W/strict.jsonl" > "$W/o.jsonl" 2> "$W/err.txt" || rc=$?
    assert_eq "$rc" 1 "--strict --keep $keep -j $j exit"
    want="a b"; [ $keep = longest ] && want="b d"
    assert_eq "$(ids < "$W/o.jsonl")" "$want" "--strict --keep $keep -j $j keeps the documents before the bad line"
    assert_eq "$(wc -l < "$W/err.txt")" 1 "--strict --keep $keep -j $j: one error line"
    grep -q "strict.jsonl:line 5: " "$W/err.txt" || fail "--strict: error does not name line 5: $(cat "$W/err.txt")"
  done
done
rm -f "$W/o2.jsonl"
expect_exit 1 $QUERN dedup --strict -o "$W/o2.jsonl" "$W/strict.jsonl"
assert_eq "$(ids < "$W/o2.jsonl")" "a b" "--strict -o FILE commits the documents before the bad line"
