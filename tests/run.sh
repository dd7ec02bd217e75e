#!/usr/bin/env bash
# Run unit test binaries (given as arguments) and every tests/e2e/*.sh script.
# An e2e script gets QUERN (the binary), TESTDATA (tests/data), PYTHON
# (Debian's python3), a private WORK directory, and exits 0 (pass), 77 (skip:
# it must print why) or anything else (fail). Every test runs under a timeout.
# Set E2E=pattern to run only matching scripts, UNIT=0 to skip unit tests.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export TESTDATA=$ROOT/tests/data
export PYTHON=${PYTHON:-/usr/bin/python3}
: "${QUERN:?QUERN must name the binary}"
export QUERN
TIMEOUT=${TEST_TIMEOUT:-600}
pass=0 fail=0 skip=0 failed=()
tmp_root=$(mktemp -d "${TMPDIR:-/tmp}/quern-tests.XXXXXX")
trap 'rm -rf "$tmp_root"' EXIT

run_one() { # name, command...
  local name=$1; shift
  local log=$tmp_root/$(echo "$name" | tr '/' '_').log
  local start=$SECONDS
  timeout -k 10 "$TIMEOUT" "$@" >"$log" 2>&1
  local rc=$?
  local secs=$((SECONDS - start))
  # A test must never replace /dev/null (renaming a temp file onto it as root
  # turns the device into a plain file and breaks every later command).
  if [ ! -c /dev/null ]; then
    echo "    $name replaced /dev/null with a regular file" >>"$log"
    rc=99
    if [ "$(id -u)" -eq 0 ]; then rm -f /dev/null && mknod -m 666 /dev/null c 1 3; fi
  fi
  if [ $rc -eq 0 ]; then
    pass=$((pass + 1)); echo "PASS $name (${secs}s)"
  elif [ $rc -eq 77 ]; then
    skip=$((skip + 1)); echo "SKIP $name: $(tail -n 1 "$log")"
  else
    fail=$((fail + 1)); failed+=("$name")
    [ $rc -eq 124 ] && echo "FAIL $name (timed out after ${TIMEOUT}s)" || echo "FAIL $name (exit $rc, ${secs}s)"
    tail -n 40 "$log" | sed 's/^/    /'
  fi
}

if [ "${UNIT:-1}" != 0 ]; then
  for t in "$@"; do
    [ -n "${E2E:-}" ] && continue
    run_one "unit/$(basename "$t")" bash -c "cd '$ROOT' && '$t'"
  done
fi
for s in "$ROOT"/tests/e2e/*.sh; do
  [ -e "$s" ] || continue
  name=e2e/$(basename "$s" .sh)
  [ -n "${E2E:-}" ] && [[ "$name" != *$E2E* ]] && continue
  work=$tmp_root/work-$(basename "$s" .sh)
  mkdir -p "$work"
  run_one "$name" env WORK="$work" bash -c "cd '$ROOT' && bash '$s'"
done
echo
for f in "${failed[@]+"${failed[@]}"}"; do echo "failed: $f"; done
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
