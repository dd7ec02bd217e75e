#!/usr/bin/env bash
# Damaged input (tests/data/ingest/bad, from /work/shared/corpus/bad, see its
# MANIFEST.tsv): each file gives exactly one error line naming the file and a
# byte offset that points at the damage, keeps the documents before it,
# resynchronises where possible, never hangs, and exits 1 (0 with --skip-bad).
source tests/e2e/lib.bash
D=$TESTDATA/ingest/bad
cd "$D"
# file | what must be at the reported offset (python bytes literal prefix, or - for none)
check() {
  local f=$1 at=$2 want=$3
  set +e
  timeout 30 "$QUERN" ingest -j2 -o "$WORK/$f.jsonl" "$f" 2>"$WORK/err"
  local rc=$?
  set -e
  [ $rc -ne 124 ] || fail "$f: hangs"
  [ $rc -eq 1 ] || fail "$f: exit $rc, expected 1"
  [ "$(wc -l < "$WORK/err")" -eq 1 ] || fail "$f: expected one error line, got: $(cat "$WORK/err")"
  local line
  line=$(cat "$WORK/err")
  [[ "$line" =~ ^quern\ ingest:\ $f:([0-9]+):\ (.+)$ ]] || fail "$f: error line format: $line"
  local off=${BASH_REMATCH[1]} what=${BASH_REMATCH[2]}
  [ "$off" = "$at" ] || fail "$f: offset $off, expected $at ($line)"
  [[ "$what" == *"$want"* ]] || fail "$f: message '$what' lacks '$want'"
  expect_exit 0 timeout 30 "$QUERN" ingest --skip-bad -o /dev/null "$f" 2>/dev/null
  echo "ok: $line"
}
# gzip damage is reported at the start of the damaged member
check bad-crc.warc.gz 144013 "CRC mismatch"
check trunc-mid-member.warc.gz 144013 "truncated"
check garbage-between-members.warc.gz 144013 "garbage"
check binary-ls.warc 0 "expected a WARC/ version line"
check empty.warc 0 "empty input"
check content-length-beyond-eof.warc 26359 "truncated record"
check content-length-too-large.warc 18727 "expected a WARC/ version line, found '.style.html>'"
check missing-version-line.warc 15473 "found 'WARC-Type: response'"

# The offsets point at the damage itself.
$PYTHON - <<'PY' || fail "offsets do not point at the damage"
d = open("bad-crc.warc.gz", "rb").read()
assert d[144013:144015] == b"\x1f\x8b"                        # the damaged member starts there
g = open("garbage-between-members.warc.gz", "rb").read()
assert g[144013:144015] != b"\x1f\x8b" and g[144013 + 27:144013 + 29] == b"\x1f\x8b"   # 27 garbage bytes
m = open("missing-version-line.warc", "rb").read()
assert m[15473:].startswith(b"WARC-Type: response") and m[15471:15473] == b"\r\n"
e = open("content-length-beyond-eof.warc", "rb").read()
assert e[26359:].startswith(b"WARC/1.0")                       # the record whose block is cut
PY

# Keep every document before the damage: the three gzip files derive from the
# same 33 records; garbage-between-members has all of them intact.
$PYTHON - "$WORK" <<'PY' || fail "documents before the damage were lost"
import json, sys
w = sys.argv[1]
ids = lambda f: [json.loads(l)["id"] for l in open(f"{w}/{f}.jsonl")]
full, trunc, crc = ids("garbage-between-members.warc.gz"), ids("trunc-mid-member.warc.gz"), ids("bad-crc.warc.gz")
assert len(full) >= 5, full
assert trunc == full[:len(trunc)] and len(trunc) >= 4, (trunc, full)
assert len(crc) == len(full) - 1 and set(crc) < set(full), (crc, full)   # only member 31's document is lost
PY

# Intact: a whole-file gzip stream, and stdin.
expect_exit 0 "$QUERN" ingest -o "$WORK/single.jsonl" single-gzip-stream.warc.gz
set +e
"$QUERN" ingest - < bad-crc.warc.gz > "$WORK/stdin.jsonl" 2>"$WORK/err"
rc=$?
set -e
[ $rc -eq 1 ] || fail "stdin: exit $rc"
grep -q '^quern ingest: <stdin>:144013: ' "$WORK/err" || fail "stdin error line: $(cat "$WORK/err")"
same_file "$WORK/stdin.jsonl" <(sed 's/"source":"bad-crc"/"source":"stdin"/' "$WORK/bad-crc.warc.gz.jsonl")
# An unreadable input is an error of its own and the others are still read.
set +e
"$QUERN" ingest -o "$WORK/two.jsonl" no-such-file.warc single-gzip-stream.warc.gz 2>"$WORK/err"
rc=$?
set -e
[ $rc -eq 1 ] || fail "missing file: exit $rc"
grep -q 'no-such-file.warc' "$WORK/err" || fail "missing file not named"
same_file "$WORK/two.jsonl" "$WORK/single.jsonl"
echo "ok"
