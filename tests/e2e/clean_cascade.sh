#!/usr/bin/env bash
# quern clean end to end on real documents (Debian texts + a WARC sample):
# the fineweb preset; stats add up; output bytes equal at -j1 and -j3;
# kept + rejected = input; --tag keeps all with reasons; --list; usage errors.
source tests/e2e/lib.bash
D=$TESTDATA/clean
IN=("$D/text-en.jsonl" "$D/text-multi.jsonl" "$D/warc-dolma.jsonl")

"$QUERN" clean -j1 --stats "$WORK/s1.json" --rejected "$WORK/rej.jsonl" "${IN[@]}" > "$WORK/out1.jsonl"
"$QUERN" clean -j3 "${IN[@]}" > "$WORK/out3.jsonl"
same_file "$WORK/out1.jsonl" "$WORK/out3.jsonl"
"$QUERN" clean -j2 --tag --stats "$WORK/st.json" "${IN[@]}" > "$WORK/tag.jsonl"
cat "${IN[@]}" | "$QUERN" clean -j2 -o "$WORK/pipe.jsonl.zst"
zstd -dc "$WORK/pipe.jsonl.zst" | cmp -s - "$WORK/out1.jsonl" || fail "stdin -> .zst output differs"

"$PYTHON" - "$WORK" "${IN[@]}" <<'PY'
import json, sys
work, inputs = sys.argv[1], sys.argv[2:]
n_in = sum(1 for f in inputs for _ in open(f))
out = [json.loads(l) for l in open(work + "/out1.jsonl")]
rej = [json.loads(l) for l in open(work + "/rej.jsonl")]
tag = [json.loads(l) for l in open(work + "/tag.jsonl")]
s = json.load(open(work + "/s1.json"))
st = json.load(open(work + "/st.json"))
def check(c, msg):
    if not c:
        sys.exit("FAIL: " + msg)
check(s["docs_in"] == n_in, "docs_in %d != %d lines" % (s["docs_in"], n_in))
check(s["docs_out"] == len(out), "docs_out")
check(len(out) + len(rej) == n_in, "kept + rejected != input")
check(sum(v["docs"] for v in s["dropped"].values()) == len(rej), "dropped per reason do not add up")
check(sum(v["dropped_docs"] for v in s["filters"].values()) == len(rej), "dropped per filter do not add up")
check(0 < len(out) < n_in, "the cascade should keep some and drop some (kept %d)" % len(out))
for want in ("lang_not_allowed", "gopher_short_doc", "gopher_below_alpha_threshold", "top_3_gram"):
    check(want in s["dropped"], "expected drops for " + want)
for d in out:
    m = d["metadata"]
    check(m["lang"] == "en" and m["lang_score"] > 0.65, "kept doc with lang %s %s" % (m["lang"], m["lang_score"]))
reasons = {}
for d in rej:
    m = d["metadata"]
    check("clean_reason" in m and "clean_filter" in m, "rejected doc without reason")
    reasons[m["clean_reason"]] = reasons.get(m["clean_reason"], 0) + 1
check(reasons == {k: v["docs"] for k, v in s["dropped"].items()}, "rejected reasons != stats")
# rejected documents are written as read: their text is the input text
texts = {}
for f in inputs:
    for l in open(f):
        d = json.loads(l)
        texts[d.get("id")] = d["text"]
for d in rej:
    check(texts.get(d.get("id")) == d["text"], "rejected text was modified")
# tag mode: every document, reasons in metadata, empty exactly for the kept ones
check(len(tag) == n_in, "tag mode dropped documents")
clean_ids = [d.get("id") for d in tag if d["metadata"]["clean_reasons"] == []]
check(clean_ids == [d.get("id") for d in out], "tag mode: untagged docs != kept docs")
first = {}
for d in tag:
    r = d["metadata"]["clean_reasons"]
    if r:
        first[r[0]] = first.get(r[0], 0) + 1
check(first == reasons, "tag mode: first reasons != filter mode reasons")
check(sum(st["tagged"].values()) >= len(rej), "tagged counts")
print("ok: %d in, %d kept, reasons %s" % (n_in, len(out), reasons))
PY

"$QUERN" clean --list > "$WORK/list.txt"
grep -q "gopher_quality" "$WORK/list.txt" || fail "--list misses gopher_quality"
grep -q "min_doc_words=50" "$WORK/list.txt" || fail "--list misses a default"
"$QUERN" clean --help | grep -q -- "--preset" || fail "--help"
expect_exit 2 "$QUERN" clean --preset nope "${IN[0]}"
expect_exit 2 "$QUERN" clean --set gopher_quality.nope=1 "${IN[0]}"
expect_exit 2 "$QUERN" clean --only bogus "${IN[0]}"
expect_exit 2 "$QUERN" clean --pii maybe "${IN[0]}"
expect_exit 2 "$QUERN" clean --badwords /nonexistent/list "${IN[0]}"
expect_exit 1 "$QUERN" clean "$WORK/does-not-exist.jsonl"
echo ok
