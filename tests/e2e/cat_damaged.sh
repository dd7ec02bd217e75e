# quern cat on damaged inputs: a truncated .gz gives one error line naming
# the file and the offset, keeps every complete document, exits 1; bad lines
# are reported with file:line and skipped (or stop the run with --strict);
# invalid UTF-8 is repaired.
source tests/e2e/lib.bash
command -v gzip >/dev/null || skip "needs gzip"
D=$TESTDATA/common
cd "$WORK"
cat "$D/docs-en.jsonl" "$D/docs-multi.jsonl" > in.jsonl
gzip -c "$D/docs-en.jsonl" > a.gz
gzip -c "$D/docs-multi.jsonl" > b.gz
cat a.gz b.gz > ab.gz
size=$(stat -c %s ab.gz)
cut=$(( $(stat -c %s a.gz) + ($(stat -c %s b.gz) / 2) ))   # mid second member
head -c $cut ab.gz > trunc.jsonl.gz

set +e
"$QUERN" cat trunc.jsonl.gz > out.jsonl 2> err.txt
rc=$?
set -e
assert_eq "$rc" 1 "exit code on a truncated input"
assert_eq "$(wc -l < err.txt)" 1 "error lines"
grep -q "^quern cat: trunc.jsonl.gz:$cut: truncated gzip" err.txt || fail "error line: $(cat err.txt)"
# Every complete document before the damage, exactly: as many as Python can
# decode complete lines from the same truncated stream.
"$PYTHON" - trunc.jsonl.gz out.jsonl in.jsonl <<'PY'
import json, sys, zlib
data = open(sys.argv[1], "rb").read()
out = b""
while data:
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    out += d.decompress(data)
    data = d.unused_data if d.eof else b""
complete = out.count(b"\n")
got = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8")]
ref = [json.loads(l) for l in open(sys.argv[3], encoding="utf-8")]
assert len(got) == complete and 25 < complete < 55, (len(got), complete)
assert got == ref[:complete]
PY
# Later inputs are still read; the run still fails.
set +e
"$QUERN" cat trunc.jsonl.gz "$D/docs-en.jsonl" > out2.jsonl 2> /dev/null
rc=$?
set -e
assert_eq "$rc" 1 "exit code with a later good input"
assert_eq "$(wc -l < out2.jsonl)" "$(( $(wc -l < out.jsonl) + 25 ))" "docs after a failed input"
# Missing input: exit 1, named.
set +e
"$QUERN" cat nonexistent.jsonl 2> err2.txt
rc=$?
set -e
assert_eq "$rc" 1 "exit code for a missing input"
grep -q "nonexistent.jsonl" err2.txt || fail "missing file not named"

# Bad lines: the first reported with file:line, the other 6 counted in one
# summary line, every one counted in --stats, good ones kept, exit 0.
"$QUERN" cat -j 2 "$D/malformed.jsonl" --stats st.json > good.jsonl 2> err3.txt
assert_eq "$(wc -l < good.jsonl)" 3 "good lines of malformed.jsonl"
assert_eq "$(wc -l < err3.txt)" 2 "bad line report lines"
grep -q "^quern cat: $D/malformed.jsonl:line 2: " err3.txt || fail "first bad line not reported: $(cat err3.txt)"
grep -q "^quern cat: $D/malformed.jsonl: 6 more bad lines skipped$" err3.txt || fail "no summary: $(cat err3.txt)"
"$PYTHON" -c "import json,sys; s=json.load(open('st.json')); assert s['bad_lines']==7 and s['docs_out']==3, s"
# --strict stops at the first bad line (line 2), after writing line 1.
set +e
"$QUERN" cat --strict "$D/malformed.jsonl" > strict.jsonl 2> err4.txt
rc=$?
set -e
assert_eq "$rc" 1 "--strict exit code"
assert_eq "$(wc -l < strict.jsonl)" 1 "--strict output"
assert_eq "$(wc -l < err4.txt)" 1 "--strict error lines"

# Invalid UTF-8 is repaired to U+FFFD: output is valid UTF-8 JSON.
"$QUERN" cat --stats u.json "$D/invalid-utf8.jsonl" > fixed.jsonl 2> /dev/null
"$PYTHON" - fixed.jsonl u.json <<'PY'
import json, sys
raw = open(sys.argv[1], "rb").read()
text = raw.decode("utf-8")            # strict: raises on any invalid byte
docs = [json.loads(l) for l in text.splitlines()]
assert len(docs) >= 10, len(docs)
assert sum("\ufffd" in d["text"] for d in docs) >= 5
s = json.load(open(sys.argv[2]))
assert s["utf8_repairs"] > 0, s
PY
echo ok
