#!/usr/bin/env bash
# gpu_deps.sh - prepare .gpu-deps/, the folder a session carries to a GPU
# machine (the device tool's `carry`) so that `make gpu-check` runs every
# stage there even when that machine's image lacks this project's Debian
# libraries (gumbo, cld2, libarchive... : deps/build.txt) and cmocka:
#
#   .gpu-deps/include, lib   cmocka's header and library (the parity test)
#   .gpu-deps/bin/quern      quern as built here (make), and in lib/ the
#                            shared libraries it needs beyond the C and C++
#                            runtimes, which any newer glibc system has
#
# gpu_check.sh builds quern there when it can; when it cannot, it uses
# .gpu-deps/bin/quern with the plugin it built (the 'quern train' stage then
# still runs). Run here, in the repository root, after `make`:
#
#   bash trainer/gpu_deps.sh        # then: run(carry=[".gpu-deps"], command="make gpu-check")
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
D=.gpu-deps
[ -x "$BUILD/quern" ] || { echo "gpu_deps.sh: no $BUILD/quern: run make first" >&2; exit 2; }
# ignored, so it travels only when carried (git rev-parse: also in a worktree)
EXCLUDE=$(git rev-parse --git-path info/exclude)
mkdir -p "$(dirname "$EXCLUDE")"
grep -qx "/$D/" "$EXCLUDE" 2>/dev/null || echo "/$D/" >>"$EXCLUDE"
rm -rf "$D" && mkdir -p "$D/include" "$D/lib" "$D/bin"
cp /usr/include/cmocka*.h "$D/include/"
cp -P /usr/lib/x86_64-linux-gnu/libcmocka.so* "$D/lib/"
cp "$BUILD/quern" "$D/bin/quern"
# every library quern loads, less the runtimes a newer system brings itself
# (an older copy of libc or libstdc++ there would break other programs)
ldd "$BUILD/quern" | awk '$3 ~ /^\// { print $3 }' | while read -r lib; do
  case $(basename "$lib") in
    libc.so*|libm.so*|libpthread.so*|libdl.so*|librt.so*|libresolv.so*|libgcc_s.so*|libstdc++.so*|ld-linux*) continue ;;
  esac
  cp -L "$lib" "$D/lib/$(basename "$lib")"
done
echo "gpu_deps.sh: $D holds $(ls "$D/lib" | wc -l) libraries, cmocka and quern ($(du -sh "$D" | cut -f1)); carry it: run(carry=[\"$D\"], command=\"make gpu-check\")"
