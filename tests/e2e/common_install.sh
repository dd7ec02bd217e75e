#!/usr/bin/env bash
# `make install` puts quern in PREFIX/bin and the CUDA plugin in
# PREFIX/lib/quern, where an installed quern finds it (trainer/cuda_plugin.c:
# ../lib/quern/ relative to the executable); DESTDIR stages the tree for a
# package. The installed binary must run from there, and `uninstall` must
# remove exactly what install wrote.
source tests/e2e/lib.bash
unset QUERN_CUDA_PLUGIN
BUILD_DIR=$(cd "$(dirname "$QUERN")" && pwd)
# the ASan pass's build is made with SAN=1; installing it again here without
# those flags would rebuild, so only the normal build is installed
deps=$(ldd "$QUERN")   # not piped into grep -q: an early exit is a SIGPIPE under pipefail
case $deps in *libasan*) skip "sanitizer build: install is checked in the normal pass" ;; esac
# a make calling this test (make check) passes its flags and variables down:
# not to this one
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES
MK=(make --no-print-directory -s BUILD="$BUILD_DIR" PREFIX=/usr DESTDIR="$WORK/stage")
# a build without the plugin (NO_CUDA, no nvcc) must not grow one at install time
[ -e "$BUILD_DIR/quern-cuda.so" ] || MK+=(NO_CUDA=1)
# install builds what is out of date first; this test installs the binary
# under test, so only a build directory of this tree that is current
[ -f "$BUILD_DIR/libcommon.a" ] || skip "$BUILD_DIR is not a build directory of this tree"
"${MK[@]}" -q all 2>/dev/null || skip "the build in $BUILD_DIR is not current (make would rebuild it)"

"${MK[@]}" install >"$WORK/install.log" 2>&1 || { cat "$WORK/install.log"; fail "make install failed"; }
Q=$WORK/stage/usr/bin/quern
[ -x "$Q" ] || fail "no $Q after make install"
cmp -s "$Q" "$QUERN" || fail "the installed quern differs from the build's"
assert_eq "$("$Q" --version)" "$("$QUERN" --version)" "installed quern --version"
printf '{"text":"installed"}\n' | "$Q" count --json >"$WORK/count.json" || fail "installed quern count failed"
grep -q '"docs":1' "$WORK/count.json" || { cat "$WORK/count.json"; fail "installed count: wrong result"; }

if [ -e "$BUILD_DIR/quern-cuda.so" ]; then
  P=$WORK/stage/usr/lib/quern/quern-cuda.so
  cmp -s "$P" "$BUILD_DIR/quern-cuda.so" || fail "no identical plugin at $P"
  # the installed quern finds the installed plugin: without a GPU that is
  # "no CUDA GPU available" (the plugin loaded), never "cannot open ... quern-cuda.so"
  "$PYTHON" tests/data/trainer/make_shards.py tests/data/trainer/text.jsonl "$WORK/data" >/dev/null
  set +e
  "$Q" train --data "$WORK/data/manifest.json" --layers 1 --heads 2 --dim 32 --seq 32 --batch 2 \
    --steps 1 --print-every 0 --vocab-pad 64 -j 1 -o "$WORK/run" --device cuda >"$WORK/train.out" 2>"$WORK/train.err"
  rc=$?
  set -e
  cat "$WORK/train.err"
  # trained on a GPU, or the plugin loaded and found none; never "no CUDA plugin"
  [ $rc -eq 0 ] || grep -q -- '--device cuda: no CUDA GPU available' "$WORK/train.err" ||
    fail "the installed quern did not load its plugin (exit $rc)"
else
  [ ! -e "$WORK/stage/usr/lib/quern" ] || fail "install made lib/quern without a plugin"
fi

"${MK[@]}" uninstall >>"$WORK/install.log" 2>&1 || { cat "$WORK/install.log"; fail "make uninstall failed"; }
left=$(find "$WORK/stage" -type f)
assert_eq "$left" "" "files left after uninstall"
echo "installed to DESTDIR/usr, ran from there, uninstalled"
