#!/usr/bin/env bash
# A small end-to-end run under valgrind's memcheck: ingest of one archive,
# cat, clean, dedup, bpe train, tokenize of a few documents, mix, and the
# error paths of a truncated gzip input, a corrupt WARC and bad JSON lines.
# Any invalid read/write, use of uninitialised memory, or definite/possible
# leak fails the test (--error-exitcode). Skipped for sanitizer builds
# (valgrind cannot run ASan binaries; that suite has ASan's own checks).
source tests/e2e/lib.bash
command -v valgrind >/dev/null || skip "valgrind not installed (apt-get install valgrind)"
if [ "$(nm "$QUERN" 2>/dev/null | grep -c '__asan_init')" -gt 0 ]; then
  skip "sanitizer build: memcheck runs on the plain build"
fi
D=$TESTDATA
SUPP=$PWD/tests/e2e/valgrind_gomp.supp
cd "$WORK"
VG=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,possible
    --track-origins=yes --suppressions="$SUPP" --log-file="$WORK/vg.%p.log")
vg() { # want-rc name cmd... : run under memcheck, require the exit code
  local want=$1 name=$2; shift 2
  local rc=0
  timeout 300 "${VG[@]}" "$@" > "$WORK/$name.out" 2> "$WORK/$name.err" || rc=$?
  if [ $rc -eq 99 ] || [ -n "$(cat "$WORK"/vg.*.log 2>/dev/null)" ]; then
    cat "$WORK"/vg.*.log >&2
    fail "$name: memcheck errors"
  fi
  [ $rc -eq "$want" ] || fail "$name: exit $rc, expected $want: $(tail -n 3 "$WORK/$name.err")"
  echo "memcheck clean: $name (exit $rc)"
}

head -n 20 "$D/common/docs-en.jsonl" > docs.jsonl
head -n 5 docs.jsonl > few.jsonl
gzip -c docs.jsonl > docs.gz
head -c $(($(stat -c %s docs.gz) / 2)) docs.gz > trunc.jsonl.gz
{ head -n 2 docs.jsonl; echo 'not json'; echo '{"id":"x"}'; } > bad.jsonl

vg 0 ingest "$QUERN" ingest -j 2 "$D/ingest/samples/cc.warc.gz"
[ -s "$WORK/ingest.out" ] || fail "ingest wrote no documents"
vg 1 ingest-bad "$QUERN" ingest -j 1 "$D/ingest/bad/trunc-mid-member.warc.gz"
vg 0 cat "$QUERN" cat -j 2 -o catdir/ docs.jsonl
vg 1 cat-trunc "$QUERN" cat -j 1 trunc.jsonl.gz
vg 0 cat-badlines "$QUERN" cat -j 1 bad.jsonl
vg 0 clean "$QUERN" clean -j 2 docs.jsonl
vg 0 dedup "$QUERN" dedup -j 2 docs.jsonl
vg 0 bpe-train "$QUERN" bpe train --vocab-size 300 -o vocab -j 1 docs.jsonl
vg 0 tokenize "$QUERN" tokenize -j 2 --vocab vocab --shard-tokens 20000 -o tokens few.jsonl
vg 1 tokenize-badlines "$QUERN" tokenize -j 1 --vocab vocab -o tokens-bad bad.jsonl
vg 0 mix "$QUERN" mix -j 2 -D 20000 --shard-tokens 8000 -o mixed web=tokens:1
echo "memcheck: every run clean"
