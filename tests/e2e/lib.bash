# Sourced by e2e scripts: helpers for driving the real binary.
set -euo pipefail
fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "skipped: $*"; exit 77; }
# expect_exit CODE cmd... : run cmd, require its exit code.
expect_exit() {
  local want=$1; shift
  set +e; "$@"; local got=$?; set -e
  [ "$got" -eq "$want" ] || fail "expected exit $want, got $got: $*"
}
# assert_eq A B message
assert_eq() { [ "$1" = "$2" ] || fail "$3: '$1' != '$2'"; }
same_file() { cmp -s "$1" "$2" || fail "files differ: $1 $2"; }
