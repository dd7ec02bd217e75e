#!/usr/bin/env bash
# Bad input through the real binary, for every stage that reads documents
# (cat, clean, dedup, tokenize), ingest, and the readers of token directories
# (mix, train). Each case checks:
#   - the exit code is the documented one;
#   - the first line on stderr is one clear error line in the agreed form
#     `quern <cmd>: <file>:<offset or line N>: <what>` (or names the shard);
#   - everything complete before the damage is kept: the output is exactly a
#     prefix of the output on the undamaged input, at least as long as the
#     output on the part before the damage;
#   - nothing hangs (every command under `timeout`).
# Damage sits in the second gzip member / zstd frame of a two-part file, so
# "before the damage" is exact. The table of cases and outcomes is printed at
# the end (and copied to $RELIABILITY_TABLE when set).
# RELIABILITY_BIG_MB sets the size of the single-line document (default 100).
source tests/e2e/lib.bash
command -v gzip >/dev/null || skip "needs gzip"
command -v zstd >/dev/null || skip "needs the zstd tool"
BIG_MB=${RELIABILITY_BIG_MB:-100}
D=$TESTDATA
cd "$WORK"
T=timeout
LIMIT=${RELIABILITY_TIMEOUT:-300}
table=$WORK/table.tsv
printf 'case\tstage\texit\terror line (first)\tverdict\n' > "$table"
failures=0

# Known bugs in modules still being finished (reported to their owners):
# "case|stage" -> the bug. Such a case prints KNOWN in the table instead of
# failing; remove the entry once fixed (the case then has to pass).
declare -A KNOWN=(
)
row() { # case stage rc errfile verdict
  local first verdict=$5
  first=$(head -n 1 "$4" 2>/dev/null | cut -c1-150)
  if [ "$verdict" != ok ] && [ -n "${KNOWN["$1|$2"]:-}" ]; then
    verdict="KNOWN BUG (${KNOWN["$1|$2"]}): $verdict"
    echo "known bug, not counted: $1 / $2: $5" >&2
  elif [ "$verdict" != ok ]; then
    failures=$((failures + 1)); echo "FAIL: $1 / $2: $5 (stderr: $(head -c 300 "$4"))" >&2
  elif [ -n "${KNOWN["$1|$2"]:-}" ]; then
    echo "note: $1 / $2 passes now: remove it from KNOWN" >&2
  fi
  printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "${first:--}" "$verdict" >> "$table"
}

# ---- inputs -----------------------------------------------------------------
head -n 12 "$D/common/docs-en.jsonl" > part1.jsonl
{ tail -n +13 "$D/common/docs-en.jsonl"; cat "$D/common/docs-multi.jsonl"; } > part2.jsonl
cat part1.jsonl part2.jsonl > all.jsonl
gzip -c part1.jsonl > p1.gz; gzip -c part2.jsonl > p2.gz
zstd -q -c part1.jsonl > p1.zst; zstd -q -c part2.jsonl > p2.zst
s1g=$(stat -c %s p1.gz); s2g=$(stat -c %s p2.gz)
s1z=$(stat -c %s p1.zst); s2z=$(stat -c %s p2.zst)
{ cat p1.gz; head -c $((s2g / 2)) p2.gz; } > trunc.jsonl.gz
{ cat p1.zst; head -c $((s2z / 2)) p2.zst; } > trunc.jsonl.zst
cat p1.gz p2.gz > corrupt.jsonl.gz
cat p1.zst p2.zst > corrupt.jsonl.zst
# flip one byte in the middle of the second member / frame
"$PYTHON" - corrupt.jsonl.gz $((s1g + s2g / 2)) corrupt.jsonl.zst $((s1z + s2z / 2)) <<'PY'
import sys
for path, at in ((sys.argv[1], int(sys.argv[2])), (sys.argv[3], int(sys.argv[4]))):
    d = bytearray(open(path, "rb").read()); d[at] ^= 0x55; open(path, "wb").write(bytes(d))
PY
"$PYTHON" - > invalid-utf8.jsonl <<'PY'
import sys
w = sys.stdout.buffer
bad = [b"\xff", b"\xc3", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xe2\x82", b"\x80\x80"]
for i in range(12):
    text = b"document %d: caf\xc3\xa9 " % i + bad[i % len(bad)] + b" and more text " + bad[(i + 3) % len(bad)] + b" end"
    w.write(b'{"id":"u%d","text":"' % i + text + b'"}\n')
PY
: > empty.jsonl
"$PYTHON" -c 'import random,sys; r=random.Random(11); sys.stdout.buffer.write(bytes(r.randrange(256) for _ in range(65536)))' > binary.jsonl
{ head -n 3 part1.jsonl; echo 'this line is not JSON'; tail -n +4 part1.jsonl; } > notjson.jsonl
# part1 with 40 bad lines after its 3rd document (the first at line 4)
{ head -n 3 part1.jsonl; for i in $(seq 40); do echo "not JSON either, number $i"; done
  tail -n +4 part1.jsonl; } > manybad.jsonl
{ head -n 3 part1.jsonl; echo '{"id":"no-text","body":"the text is elsewhere"}'; tail -n +4 part1.jsonl; } > notext.jsonl
head -n 3 part1.jsonl > notjson.before.jsonl
"$PYTHON" - "$BIG_MB" > bigline.jsonl <<'PY'
import sys
mb = int(sys.argv[1]); w = sys.stdout.buffer
w.write(b'{"id":"a","text":"first small document"}\n{"id":"big","text":"')
chunk = b"the one very long line goes on and on, word after word; " * 2048
n = 0
while n < mb << 20:
    w.write(chunk); n += len(chunk)
w.write(b'"}\n{"id":"c","text":"last small document"}\n')
PY

"$QUERN" bpe train --vocab-size 300 -o vocab part1.jsonl 2>/dev/null
VOCAB=$WORK/vocab

# ---- stage runners: stdout stages and tokenize ----------------------------------
stage_args() { # stage -> extra args
  case $1 in
    clean) echo "--preset none" ;;   # keep every document: prefixes stay comparable
    dedup) echo "" ;;
    *) echo "" ;;
  esac
}
run_stage() { # stage out err input... ; prints rc
  local st=$1 out=$2 err=$3; shift 3
  local rc=0
  if [ "$st" = tokenize ]; then
    rm -rf "$out"
    $T "$LIMIT" "$QUERN" tokenize -j 2 --vocab "$VOCAB" -o "$out" "$@" > /dev/null 2> "$err" || rc=$?
  else
    $T "$LIMIT" "$QUERN" "$st" -j 2 $(stage_args "$st") "$@" > "$out" 2> "$err" || rc=$?
  fi
  echo $rc
}
# prefix OUT REF MIN: OUT (file of JSON lines or tokenize dir) is a prefix of
# REF with at least as many documents as MIN (a file/dir of the same kind).
prefix_ok() {
  "$PYTHON" - "$1" "$2" "$3" <<'PY'
import os, struct, sys
def docs(p):
    if os.path.isdir(p):      # tokenize output: documents from the shards' .idx
        out = []
        for name in sorted(f for f in os.listdir(p) if f.endswith(".bin")):
            b = open(os.path.join(p, name), "rb").read()
            h = struct.unpack("<3i", b[:12]); w = 2 if h[1] == 1 else 4
            toks = b[1024:]
            ends = open(os.path.join(p, name[:-4] + ".idx"), "rb").read()
            ends = struct.unpack("<%dQ" % (len(ends) // 8), ends)
            prev = 0
            for e in ends:
                out.append(toks[prev * w:e * w]); prev = e
        return out
    return open(p, "rb").read().splitlines()
out, ref, least = docs(sys.argv[1]), docs(sys.argv[2]), docs(sys.argv[3])
if out != ref[:len(out)]:
    sys.exit("output is not a prefix of the undamaged output (%d docs)" % len(out))
if len(out) < len(least):
    sys.exit("kept %d documents, but %d were complete before the damage" % (len(out), len(least)))
if len(sys.argv) > 4 and out != least:
    sys.exit("kept %d documents, expected exactly the %d before the damaged part" % (len(out), len(least)))
PY
}
# same_docs OUT REF: exactly the same documents (byte for byte)
same_docs() { prefix_ok "$1" "$2" "$2" exact; }
err_form() { # stage errfile file -> 0 if the first line is `quern ST: FILE:(N|line N): ...`
  head -n 1 "$2" | grep -Eq "^quern $1: $3:(line )?[0-9]+: ."
}

STAGES="cat clean dedup tokenize"
for st in $STAGES; do
  run_stage "$st" "ref.$st" ref.err all.jsonl > /dev/null
  run_stage "$st" "p1.$st" p1.err part1.jsonl > /dev/null
  run_stage "$st" "nj.$st" nj.err notjson.before.jsonl > /dev/null
done

# damage in the second part: exit 1, one error line with the offset, prefix kept
for f in trunc.jsonl.gz corrupt.jsonl.gz trunc.jsonl.zst corrupt.jsonl.zst; do
  for st in $STAGES; do
    rc=$(run_stage "$st" "o.$st" e.$st "$f")
    v=ok
    [ "$rc" = 1 ] || v="exit $rc, expected 1"
    [ $v = ok ] && ! err_form "$st" e.$st "$f" && v="first error line not in the agreed form"
    if [ $v = ok ] && [ "$(grep -c -E 'truncated|corrupt' e.$st)" != 1 ]; then
      v="expected exactly one line about the damage"
    fi
    located=$(grep -c -E "^quern $st: $f:(line )?[0-9]+: " e.$st)
    [ $v = ok ] && [ "$located" != 1 ] && v="$located error lines naming a position, expected 1"
    [ $v = ok ] && { msg=$(prefix_ok "o.$st" "ref.$st" "p1.$st" 2>&1) || v=$msg; }
    case $f in
      corrupt.*)
        # the damaged member / frame is checked before any of it is used:
        # one line naming where it starts, no bad-line reports, and exactly
        # the documents of the first part
        start=$s1g; unit="gzip member"
        [ "${f%.zst}" != "$f" ] && { start=$s1z; unit="zstd frame"; }
        [ "$v" = ok ] && ! head -n 1 e.$st | grep -q "^quern $st: $f:$start: corrupt $unit" &&
          v="first error line does not name the damaged unit at offset $start"
        [ "$v" = ok ] && [ "$(grep -c "^quern $st: $f" e.$st)" != 1 ] && v="$(grep -c "^quern $st: $f" e.$st) error lines, expected 1"
        [ "$v" = ok ] && { msg=$(same_docs "o.$st" "p1.$st" 2>&1) || v=$msg; }
        ;;
    esac
    if [ $v = ok ] && [ "$st" = tokenize ] && [ -e o.tokenize/manifest.json ]; then
      v="manifest.json written for an input that could not be read"
    fi
    row "$f" "$st" "$rc" e.$st "$v"
  done
done

# a member over the verification limit (QUERN_VERIFY_LIMIT) is passed on as
# it decodes: the damage is still reported (exit 1), and the error says that
# part of the member was already passed on
s2d=$(wc -c < part2.jsonl)
if [ "$s2d" -gt 65536 ]; then
  rc=0
  QUERN_VERIFY_LIMIT=64K $T "$LIMIT" "$QUERN" cat corrupt.jsonl.gz > o.cat 2> e.cat || rc=$?
  v=ok
  [ "$rc" = 1 ] || v="exit $rc, expected 1"
  [ "$v" = ok ] && ! grep -q "^quern cat: corrupt.jsonl.gz:$s1g: corrupt gzip member: .*already passed on" e.cat &&
    v="no error line saying the member was partly passed on"
  # (what came out of the damaged member before its end is not checked: it
  # may hold damaged documents, which is what the limit trades for memory)
  [ "$v" = ok ] && { head -c "$(wc -c < p1.cat)" o.cat | cmp -s - p1.cat || v="documents of the first member changed"; }
  row "corrupt.jsonl.gz, member > QUERN_VERIFY_LIMIT" cat "$rc" e.cat "$v"
fi

# invalid UTF-8: repaired, every document kept, exit 0
for st in $STAGES; do
  rc=$(run_stage "$st" o.$st e.$st invalid-utf8.jsonl)
  v=ok
  [ "$rc" = 0 ] || v="exit $rc, expected 0"
  if [ $v = ok ] && [ "$st" != tokenize ]; then
    "$PYTHON" -c 'import sys; open(sys.argv[1],"rb").read().decode("utf-8")' o.$st 2>/dev/null || v="output is not valid UTF-8"
    n_in=$(grep -c . invalid-utf8.jsonl); n_out=$(wc -l < o.$st)
    [ "$st" = dedup ] || [ "$n_in" = "$n_out" ] || v="$n_out of $n_in documents"
  fi
  row invalid-utf8.jsonl "$st" "$rc" e.$st "$v"
done

# 0-byte input: nothing out, no error, exit 0 (tokenize: an empty manifest)
for st in $STAGES; do
  rc=$(run_stage "$st" o.$st e.$st empty.jsonl)
  v=ok
  [ "$rc" = 0 ] || v="exit $rc, expected 0"
  if [ "$st" = tokenize ]; then
    [ -s o.tokenize/manifest.json ] || v="no manifest for an empty input"
  else
    [ ! -s o.$st ] || v="output from an empty input"
  fi
  grep -q "^quern $st: .*error\|^quern $st: empty" e.$st && v="error reported for an empty input"
  row empty.jsonl "$st" "$rc" e.$st "$v"
done

# binary input / many bad lines: the first bad line is reported as
# file:line N, the others of that input in one line "FILE: N more bad lines
# skipped" (so two lines, not one per "line"); the good documents are kept
# (binary: none); exit 0 (tokenize: 1, it has no --strict and reports skipped
# lines by its exit status); with --strict exactly one line and exit 1
bad_lines_ok() { # stage errfile file first-line-no -> verdict
  local st=$1 e=$2 f=$3 n=$4
  if ! head -n 1 "$e" | grep -q "^quern $st: $f:line $n: "; then
    echo "first error line does not name line $n"
  elif [ "$(grep -c "^quern $st: $f:" "$e")" != 2 ]; then
    echo "$(grep -c "^quern $st: $f:" "$e") lines about $f, expected 2 (the first bad line and a summary)"
  elif ! grep -Eq "^quern $st: $f: [0-9]+ more bad lines skipped$" "$e"; then
    echo "no summary line 'FILE: N more bad lines skipped'"
  else
    echo ok
  fi
}
for st in $STAGES; do
  rc=$(run_stage "$st" o.$st e.$st binary.jsonl)
  want=0; [ "$st" = tokenize ] && want=1
  v=ok
  [ "$rc" = $want ] || v="exit $rc, expected $want"
  [ "$v" = ok ] && ! err_form "$st" e.$st binary.jsonl && v="first error line not in the agreed form"
  if [ "$st" = tokenize ]; then
    [ "$(cat o.tokenize/*.idx 2>/dev/null | wc -c)" = 0 ] || v="documents from binary input"
  else
    [ ! -s o.$st ] || v="documents from binary input"
  fi
  [ "$v" = ok ] && v=$(bad_lines_ok "$st" e.$st binary.jsonl 1)
  row binary.jsonl "$st" "$rc" e.$st "$v"
  rc=$(run_stage "$st" o.$st e.$st manybad.jsonl)
  v=ok
  [ "$rc" = $want ] || v="exit $rc, expected $want"
  [ "$v" = ok ] && v=$(bad_lines_ok "$st" e.$st manybad.jsonl 4)
  [ "$v" = ok ] && grep -q "^quern $st: manybad.jsonl: 39 more bad lines skipped$" e.$st || { [ "$v" = ok ] && v="summary does not count 39 more"; }
  [ "$v" = ok ] && { msg=$(same_docs "o.$st" "p1.$st" 2>&1) || v=$msg; }
  row manybad.jsonl "$st" "$rc" e.$st "$v"
  [ "$st" = tokenize ] && continue
  rc=$(run_stage "$st" o.$st e.$st --strict binary.jsonl)
  v=ok
  [ "$rc" = 1 ] || v="exit $rc, expected 1"
  [ "$v" = ok ] && ! err_form "$st" e.$st binary.jsonl && v="first error line not in the agreed form"
  row "binary.jsonl --strict" "$st" "$rc" e.$st "$v"
done

# a line that is not JSON / lacks the text field: reported with its line,
# skipped, the others kept (exit 0; tokenize 1); --strict stops there (exit 1)
# keeping the documents before it
for f in notjson.jsonl notext.jsonl; do
  for st in $STAGES; do
    rc=$(run_stage "$st" o.$st e.$st "$f")
    want=0; [ "$st" = tokenize ] && want=1
    v=ok
    [ "$rc" = $want ] || v="exit $rc, expected $want"
    [ $v = ok ] && ! head -n 1 e.$st | grep -q "^quern $st: $f:line 4: " && v="first error line does not name line 4"
    [ $v = ok ] && [ "$(wc -l < e.$st)" -le 2 ] || { [ $v = ok ] && v="more than one error line"; }
    if [ $v = ok ]; then  # every document but the bad one: same as on part1
      msg=$(prefix_ok "o.$st" "p1.$st" "p1.$st" 2>&1) || v=$msg
    fi
    row "$f" "$st" "$rc" e.$st "$v"
    [ "$st" = tokenize ] && continue
    rc=$(run_stage "$st" o.$st e.$st --strict "$f")
    v=ok
    [ "$rc" = 1 ] || v="exit $rc, expected 1"
    [ $v = ok ] && ! head -n 1 e.$st | grep -q "^quern $st: $f:line 4: " && v="first error line does not name line 4"
    if [ $v = ok ]; then
      msg=$(prefix_ok "o.$st" "nj.$st" "nj.$st" 2>&1) || v="--strict: $msg"
    fi
    row "$f --strict" "$st" "$rc" e.$st "$v"
  done
done

# one document of BIG_MB on a single line: read whole, exit 0, all 3 kept
for st in $STAGES; do
  rc=$(run_stage "$st" o.$st e.$st bigline.jsonl)
  v=ok
  [ "$rc" = 0 ] || v="exit $rc, expected 0"
  if [ $v = ok ]; then
    if [ "$st" = tokenize ]; then n=$(($(cat o.tokenize/*.idx | wc -c) / 8)); else n=$(wc -l < o.$st); fi
    [ "$n" = 3 ] || v="$n of 3 documents"
  fi
  [ $v = ok ] && [ "$st" = cat ] && ! cmp -s o.cat bigline.jsonl && v="cat changed the documents"
  row "${BIG_MB}MB single line" "$st" "$rc" e.$st "$v"
done
rm -f o.cat o.clean o.dedup; rm -rf o.tokenize

# ---- ingest -----------------------------------------------------------------------
S=$D/ingest/samples
zcat "$S/example.warc.gz" > ex.warc 2>/dev/null || gzip -dc "$S/example.warc.gz" > ex.warc
"$PYTHON" - ex.warc <<'PY'
import gzip, re, sys
data = open(sys.argv[1], "rb").read()
# records: split at every "WARC/1." at a line start
starts = [m.start() for m in re.finditer(rb"(?m)^WARC/1\.", data)]
recs = [data[a:b] for a, b in zip(starts, starts[1:] + [len(data)])]
open("recs.count", "w").write(str(len(recs)))
# per-record gzip members, then the damaged variants
members = [gzip.compress(r, mtime=0) for r in recs]
open("ok.warc.gz", "wb").write(b"".join(members))
half = len(members) // 2
open("head.warc.gz", "wb").write(b"".join(members[:half]))
last = members[-1]
open("trunc.warc.gz", "wb").write(b"".join(members[:-1]) + last[:len(last) // 2])
m = bytearray(last); m[len(m) // 2] ^= 0x55
open("corrupt.warc.gz", "wb").write(b"".join(members[:-1]) + bytes(m))
open("head-1.warc.gz", "wb").write(b"".join(members[:-1]))
# Content-Length wrong: the last response record claims more / fewer bytes
def set_len(rec, delta):
    m = re.search(rb"Content-Length: (\d+)", rec)
    return rec[:m.start(1)] + str(int(m.group(1)) + delta).encode() + rec[m.end(1):]
open("cl-long.warc", "wb").write(b"".join(recs[:-1]) + set_len(recs[-1], 100000))
open("cl-short.warc", "wb").write(b"".join(recs[:-1]) + set_len(recs[-1], -40) + recs[-1])
open("head-1.warc", "wb").write(b"".join(recs[:-1]))
open("ok.warc", "wb").write(data)
PY
run_ingest() { # out err args... ; prints rc
  local out=$1 err=$2; shift 2
  local rc=0
  $T "$LIMIT" "$QUERN" ingest -j 2 --min-chars 1 --source s "$@" > "$out" 2> "$err" || rc=$?
  echo $rc
}
run_ingest ing.ref ing.err ok.warc.gz > /dev/null
run_ingest ing.head1 ing.err head-1.warc.gz > /dev/null
run_ingest ing.headp ing.err head-1.warc > /dev/null
for f in trunc.warc.gz corrupt.warc.gz cl-long.warc cl-short.warc; do
  rc=$(run_ingest o.ing e.ing "$f")
  v=ok
  [ "$rc" = 1 ] || v="exit $rc, expected 1"
  [ $v = ok ] && ! err_form ingest e.ing "$f" && v="first error line not in the agreed form"
  [ $v = ok ] && [ "$(wc -l < e.ing)" != 1 ] && v="$(wc -l < e.ing) error lines, expected 1"
  least=ing.head1; [ "${f%.gz}" = "$f" ] && least=ing.headp
  [ $v = ok ] && { msg=$(prefix_ok o.ing ing.ref $least 2>&1) || v=$msg; }
  row "$f" ingest "$rc" e.ing "$v"
done
# (ingest treats an input without a single WARC record as damaged: exit 1)
for f in empty.jsonl binary.jsonl; do
  rc=$(run_ingest o.ing e.ing "$f")
  want=1
  v=ok
  [ "$rc" = $want ] || v="exit $rc, expected $want"
  [ ! -s o.ing ] || v="documents from $f"
  [ $want = 1 ] && [ $v = ok ] && ! err_form ingest e.ing "$f" && v="first error line not in the agreed form"
  [ $want = 1 ] && [ $v = ok ] && [ "$(wc -l < e.ing)" != 1 ] && v="$(wc -l < e.ing) error lines, expected 1"
  row "$f (as WARC)" ingest "$rc" e.ing "$v"
done
# a single line of BIG_MB without a line end: refused at once (header limit)
head -c $((BIG_MB << 20)) /dev/zero | tr '\0' 'a' > bigline.warc
rc=$(run_ingest o.ing e.ing bigline.warc)
v=ok
[ "$rc" = 1 ] || v="exit $rc, expected 1"
[ $v = ok ] && ! err_form ingest e.ing bigline.warc && v="first error line not in the agreed form"
row "${BIG_MB}MB single line (as WARC)" ingest "$rc" e.ing "$v"
# one record of BIG_MB: over --max-record-bytes (16M) it is skipped, under a
# raised limit it is one document; never more memory than the limit allows
{ printf 'WARC/1.0\r\nWARC-Type: resource\r\nWARC-Record-ID: <urn:x:big>\r\nWARC-Target-URI: http://example.com/big\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n' $((BIG_MB << 20))
  cat bigline.warc; printf '\r\n\r\n'; } > bigrec.warc
rm -f bigline.warc
rc=$(run_ingest o.ing e.ing --stats st.json bigrec.warc)
v=ok
[ "$rc" = 0 ] || v="exit $rc, expected 0"
[ ! -s o.ing ] || v="a record over --max-record-bytes became a document"
grep -q 'too_large\|too large' st.json || v="skip not counted in --stats"
row "${BIG_MB}MB record > --max-record-bytes" ingest "$rc" e.ing "$v"
rc=$(run_ingest o.ing e.ing --max-record-bytes $((BIG_MB + 1))M bigrec.warc)
v=ok
[ "$rc" = 0 ] || v="exit $rc, expected 0"
[ "$(wc -l < o.ing)" = 1 ] || v="expected one document"
row "${BIG_MB}MB record, limit raised" ingest "$rc" e.ing "$v"
rm -f bigrec.warc o.ing

# ---- token directories: mix and train -------------------------------------------
head -n 8 part1.jsonl > few.jsonl
"$QUERN" tokenize -j 2 --vocab "$VOCAB" --shard-tokens 4000 -o tok few.jsonl 2>/dev/null
n_shards=$(ls tok/*.bin | wc -l)
[ "$n_shards" -ge 3 ] || fail "expected several shards, got $n_shards"
cp -r tok tok-missing; rm tok-missing/train_000001.bin
cp -r tok tok-badsum; printf '\x07' | dd of=tok-badsum/train_000001.bin bs=1 seek=2000 conv=notrunc 2>/dev/null
cp -r tok tok-short; truncate -s -2 tok-short/train_000001.bin
run_mix() { local rc=0; $T "$LIMIT" "$QUERN" mix -j 2 "$@" > /dev/null 2> e.mix || rc=$?; echo $rc; }
run_train() {
  local rc=0
  $T "$LIMIT" "$QUERN" train --device cpu --layers 1 --heads 1 --dim 16 --seq 32 --batch 2 --steps 1 \
    -j 2 "$@" > /dev/null 2> e.train || rc=$?
  echo $rc
}
mix_case() { # case dir want-rc [mix options]
  local name=$1 dir=$2 want=$3; shift 3
  rm -rf mixout
  local rc
  rc=$(run_mix -o mixout -D 3000 "$@" "web=$dir:1")
  local v=ok
  [ "$rc" = "$want" ] || v="exit $rc, expected $want"
  [ $want = 1 ] && [ $v = ok ] && ! head -n 1 e.mix | grep -q "^quern mix: .*$dir/train_000001.bin" && v="error does not name the shard"
  [ $want = 1 ] && [ -e mixout/manifest.json ] && v="manifest written despite a bad source"
  row "$name" mix "$rc" e.mix "$v"
}
mix_case "manifest names a missing shard" tok-missing 1
mix_case "shard checksum fails (--verify-sources)" tok-badsum 1 --verify-sources
mix_case "shard shorter than its header says" tok-short 1
for d in tok-missing tok-badsum tok-short; do
  rm -rf run
  rc=$(run_train --data $d/manifest.json -o run)
  v=ok
  [ "$rc" = 1 ] || v="exit $rc, expected 1"
  [ $v = ok ] && ! grep -v '^ *$' e.train | head -n 1 | grep -q "$d/train_000001.bin" && v="error does not name the shard"
  grep -v '^ *$' e.train | head -n 1 > e.train1
  case $d in tok-missing) c="manifest names a missing shard" ;; tok-badsum) c="shard checksum fails" ;; *) c="shard shorter than its header says" ;; esac
  row "$c" train "$rc" e.train1 "$v"
done

echo
column -t -s $'\t' "$table" 2>/dev/null || cat "$table"
[ -n "${RELIABILITY_TABLE:-}" ] && cp "$table" "$RELIABILITY_TABLE"
[ $failures -eq 0 ] || fail "$failures bad-input case(s) failed (table above)"
echo "all $(($(wc -l < "$table") - 1)) bad-input cases pass"
