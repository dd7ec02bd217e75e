#!/usr/bin/env bash
# CI's fuzz smoke run: every libFuzzer target for FUZZ_SECONDS (default 20)
# after the test suite; fails on any crash, leak, timeout or sanitizer report
# (tests/fuzz/run.sh). About 1.5 min of building plus 20 s per target.
# Needs clang and libclang-rt-14-dev (deps/test.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
export FUZZ_SECONDS=${FUZZ_SECONDS:-20}
export FUZZ_BUILD=${FUZZ_BUILD:-build/fuzz}
exec bash tests/fuzz/run.sh "$@"
