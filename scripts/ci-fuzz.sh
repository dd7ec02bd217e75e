#!/usr/bin/env bash
# CI's fuzz smoke run: every libFuzzer target for FUZZ_SECONDS (default 45)
# after the test suite; fails on any crash, leak, timeout or sanitizer report
# (tests/fuzz/run.sh). About 1.5 min of building plus 45 s per target (the reliability issue asks for 30-60 s).
# Needs clang and libclang-rt-14-dev (deps/test.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
export FUZZ_SECONDS=${FUZZ_SECONDS:-45}
export FUZZ_BUILD=${FUZZ_BUILD:-build/fuzz}
exec bash tests/fuzz/run.sh "$@"
