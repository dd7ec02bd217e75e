#!/usr/bin/env bash
# Replays every fuzz target's kept crash inputs (tests/fuzz/regress/<target>/)
# and seeds (tests/fuzz/seeds/<target>/ plus those built from tests/data by
# tests/fuzz/seeds.py) through the target's checks, compiled with the normal
# compiler against this build's libraries (tests/fuzz/replay_main.c instead of
# libFuzzer). In the ASan+UBSan suite the targets are built with the same
# sanitizers, so a crash fixed once stays fixed in `make test` even where
# clang is not installed. Fuzzing itself is `make fuzz` (tests/fuzz/run.sh).
source tests/e2e/lib.bash
ROOT=$PWD
B=${BUILD:-$(dirname "$QUERN")}
CC=${CC:-cc}
command -v "$CC" >/dev/null || skip "no C compiler ($CC)"
SAN=()
if [ "$(nm "$QUERN" 2>/dev/null | grep -c '__asan_init')" -gt 0 ]; then
  SAN=(-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
fi
LDLIBS=$(make -s --no-print-directory -f Makefile -f - print-fuzz-ldlibs NO_CUDA=1 <<'EOF'
print-fuzz-ldlibs: ; @echo $(LDLIBS)
EOF
)
total=0
for src in tests/fuzz/fuzz_*.c; do
  t=$(basename "$src" .c)
  mods=$(sed -n 's/.*FUZZ_MODULES:[[:space:]]*\([a-z ]*\).*/\1/p' "$src" | head -n 1)
  [ -n "$mods" ] || fail "$src: no FUZZ_MODULES line"
  libs=()
  for m in $mods; do
    [ -f "$B/lib$m.a" ] || fail "$B/lib$m.a missing (build first)"
    libs+=("$B/lib$m.a")
  done
  "$CC" -std=gnu11 -O1 -g -D_GNU_SOURCE -I. -Wall -fopenmp "${SAN[@]}" "$src" tests/fuzz/replay_main.c \
    -Wl,--start-group "${libs[@]}" -Wl,--end-group $LDLIBS -fopenmp -o "$WORK/$t" 2> "$WORK/$t.cc.log" \
    || { cat "$WORK/$t.cc.log" >&2; fail "$t: does not build"; }
  dirs=()
  [ -d "tests/fuzz/regress/$t" ] && dirs+=("tests/fuzz/regress/$t")
  [ -d "tests/fuzz/seeds/$t" ] && dirs+=("tests/fuzz/seeds/$t")
  "$PYTHON" tests/fuzz/seeds.py "$t" "$WORK/seeds-$t" 4096 > /dev/null
  dirs+=("$WORK/seeds-$t")
  out=$(cd "$WORK" && timeout 300 "./$t" "${dirs[@]/#tests/$ROOT/tests}" 2>&1) \
    || { echo "$out" | tail -n 30 >&2; fail "$t: an input fails its checks"; }
  n=$(echo "$out" | sed -n 's/^replayed \([0-9]*\) inputs$/\1/p')
  echo "$t: $n inputs pass${SAN:+ (ASan+UBSan)}"
  total=$((total + n))
done
echo "replayed $total inputs"
