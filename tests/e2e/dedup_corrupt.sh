#!/usr/bin/env bash
# Each phased step verifies its inputs and refuses damaged ones with a clear
# one-line error (exit 1) instead of trusting them; complete outputs are
# skipped on rerun; settings never mix; --max-memory fails cleanly.
source tests/e2e/lib.bash
ND=$TESTDATA/dedup/neardup/docs.jsonl
head -n 60 "$ND" > "$WORK/a.jsonl"
tail -n +61 "$ND" > "$WORK/b.jsonl"
IN=("$WORK/a.jsonl" "$WORK/b.jsonl")
D=$WORK/sig
for i in 0 1; do $QUERN dedup signatures --shard $i/2 --keep-shingles -o "$D" "${IN[@]}"; done

expect_error() { # pattern, command...: exit 1 and one error line matching pattern
  local pat=$1; shift
  set +e; "$@" 2> "$WORK/err.txt" > /dev/null; local rc=$?; set -e
  [ $rc -eq 1 ] || { cat "$WORK/err.txt"; fail "expected exit 1, got $rc: $*"; }
  grep -q "$pat" "$WORK/err.txt" || { cat "$WORK/err.txt"; fail "error should mention '$pat': $*"; }
  grep -q "^quern dedup: " "$WORK/err.txt" || fail "error line format: $(cat "$WORK/err.txt")"
  echo "refused as expected: $(head -n 1 "$WORK/err.txt")"
}
flip_byte() { # file, offset: invert one byte in place
  $PYTHON - "$1" "$2" <<'PY'
import sys
p, off = sys.argv[1], int(sys.argv[2])
b = bytearray(open(p, "rb").read()); b[off] ^= 0xFF; open(p, "wb").write(bytes(b))
PY
}

# a flipped byte in a band file: pairs refuses it (order or checksum) and writes nothing
band=$D/sig/band-003/shard-00001-of-00002.qdd
cp "$band" "$WORK/band.bak"
flip_byte "$band" 100
expect_error "shard-00001-of-00002.qdd" $QUERN dedup pairs --band 3 "$D"
[ ! -e "$D/pairs/band-003.qdd" ] || fail "pairs committed output from a corrupt input"
# the same with a byte of the checksum itself
cp "$WORK/band.bak" "$band"
size=$(stat -c %s "$band")
flip_byte "$band" $((size - 12))
expect_error "checksum" $QUERN dedup pairs --band 3 "$D"
# truncated
cp "$WORK/band.bak" "$band"
head -c $((size - 40)) "$WORK/band.bak" > "$band"
expect_error "shard-00001-of-00002.qdd" $QUERN dedup pairs --band 3 "$D"
cp "$WORK/band.bak" "$band"
# a missing shard
mv "$D/sig/band-005/shard-00000-of-00002.qdd" "$WORK/moved.qdd"
expect_error "missing" $QUERN dedup pairs --band 5 "$D"
mv "$WORK/moved.qdd" "$D/sig/band-005/shard-00000-of-00002.qdd"

$QUERN dedup pairs --band all "$D"
# rerun skips complete outputs: the file is not rewritten
before=$(stat -c %Y.%s "$D/pairs/band-000.qdd"); ino=$(stat -c %i "$D/pairs/band-000.qdd")
$QUERN dedup pairs --band all "$D"
[ "$ino" = "$(stat -c %i "$D/pairs/band-000.qdd")" ] || fail "complete pairs file was rewritten"
[ "$before" = "$(stat -c %Y.%s "$D/pairs/band-000.qdd")" ] || fail "complete pairs file changed"
sig_ino=$(stat -c %i "$D/docs/shard-00000-of-00002.qdd")
$QUERN dedup signatures --shard 0/2 --keep-shingles -o "$D" "${IN[@]}"
[ "$sig_ino" = "$(stat -c %i "$D/docs/shard-00000-of-00002.qdd")" ] || fail "complete signatures were redone"

# a corrupt pairs file: clusters refuses it
p=$D/pairs/band-002.qdd
cp "$p" "$WORK/pairs.bak"
psize=$(stat -c %s "$p")
flip_byte "$p" $((psize - 30))
expect_error "band-002.qdd" $QUERN dedup clusters "$D"
cp "$WORK/pairs.bak" "$p"
# a corrupt shingle file: clusters --verify refuses it
s=$D/shingles/shard-00001-of-00002.qdd
cp "$s" "$WORK/sh.bak"
flip_byte "$s" 200
expect_error "shard-00001-of-00002.qdd" $QUERN dedup clusters --verify 0.8 "$D"
cp "$WORK/sh.bak" "$s"

$QUERN dedup clusters --verify 0.8 "$D"
# a corrupt removal list: filter refuses it and leaves no output
r=$D/remove/shard-00000-of-00002.qdd
cp "$r" "$WORK/rm.bak"
flip_byte "$r" 64
expect_error "shard-00000-of-00002.qdd" $QUERN dedup filter --shard 0/2 --dir "$D" -o "$WORK/out0.jsonl" "${IN[@]}"
[ ! -e "$WORK/out0.jsonl" ] || fail "filter wrote output from a corrupt removal list"
cp "$WORK/rm.bak" "$r"
# other inputs than the signatures saw
expect_exit 2 $QUERN dedup filter --shard 0/2 --dir "$D" -o "$WORK/out0.jsonl" "$WORK/b.jsonl" "$WORK/a.jsonl"
$QUERN dedup filter --shard 0/2 --dir "$D" -o "$WORK/out0.jsonl" "${IN[@]}"
[ -s "$WORK/out0.jsonl" ] || fail "filter wrote nothing"

# signatures with other settings into the same directory are refused
expect_error "other settings" $QUERN dedup signatures --shard 1/2 --bands 10 --rows 5 -o "$D" "${IN[@]}"
# a phase file from another band is refused by its header
cp "$D/sig/band-004/shard-00000-of-00002.qdd" "$D/sig/band-006/shard-00000-of-00002.qdd"
expect_error "another band" $QUERN dedup pairs --band 6 --force "$D"

# --max-memory: a clean error, not an out-of-memory kill
expect_error "max-memory" $QUERN dedup --max-memory 20K "${IN[@]}"
expect_error "max-memory" $QUERN dedup signatures --shard 0/1 --max-memory 20K -o "$WORK/sig2" "${IN[@]}"
