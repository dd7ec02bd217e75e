#!/usr/bin/env bash
# Build and run the libFuzzer targets (tests/fuzz/fuzz_*.c); `make fuzz`.
#
#   tests/fuzz/run.sh [TARGET...]        all targets when none is named
#
# Environment:
#   FUZZ_SECONDS  seconds per target (default 60; CI uses 45)
#   FUZZ_BUILD    build directory (default build-fuzz): libraries, targets,
#                 the growing corpus (corpus/<target>), crashes/<target>/
#   FUZZ_JOBS     parallel fuzzing processes per target (default 1)
#   FUZZ_MAXLEN   -max_len (default 8192)
#   FUZZ_RSS_MB   memory limit per process (default 2048)
#   FUZZ_BUILD_ONLY=1  build and replay regressions, do not fuzz
#
# Per target: first every input under tests/fuzz/regress/<target>/ is
# replayed (each once crashed; they must pass now), then the fuzzer runs from
# the corpus + seeds (tests/fuzz/seeds/<target>/ and seeds built from
# tests/data by seeds.py). Any crash, leak, timeout, out-of-memory or
# sanitizer report fails the run (exit 1); the input is kept under
# $FUZZ_BUILD/crashes/<target>/ and the command to replay it is printed.
# A summary table (target, seconds, executions, corpus, result) ends the
# output and is written to $FUZZ_BUILD/summary.tsv.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
SECONDS_PER=${FUZZ_SECONDS:-60}
B=${FUZZ_BUILD:-build-fuzz}
JOBS=${FUZZ_JOBS:-1}
MAXLEN=${FUZZ_MAXLEN:-8192}
RSS=${FUZZ_RSS_MB:-2048}
PY=${PYTHON:-/usr/bin/python3}
[ -x "$PY" ] || PY=python3

if ! command -v "${FCC:-clang}" >/dev/null; then
  echo "fuzz: clang not found (apt-get install clang libclang-rt-14-dev; deps/test.txt lists them)" >&2
  exit 1
fi

if [ $# -gt 0 ]; then targets=("$@")
else targets=($(ls tests/fuzz/fuzz_*.c | xargs -n1 basename | sed 's/\.c$//')); fi

# The link libraries of the main Makefile, so a library added there is here too.
LDLIBS=$(make -s --no-print-directory -f Makefile -f - print-fuzz-ldlibs NO_CUDA=1 <<'EOF'
print-fuzz-ldlibs: ; @echo $(LDLIBS)
EOF
)
mkdir -p "$B"
echo "== building ${#targets[@]} fuzz targets in $B (clang, ASan+UBSan+libFuzzer)"
if ! make -f tests/fuzz/fuzz.mk FUZZ_BUILD="$B" LDLIBS="$LDLIBS" -j"${FUZZ_MAKE_JOBS:-2}" \
     $(printf "$B/%s " "${targets[@]}") > "$B/build.log" 2>&1; then
  tail -n 40 "$B/build.log" >&2
  echo "fuzz: build failed (log: $B/build.log)" >&2
  exit 1
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
status=0
summary="$B/summary.tsv"
printf "target\tseconds\texecutions\tcorpus\tresult\n" > "$summary"
for t in "${targets[@]}"; do
  bin=$B/$t
  corpus=$B/corpus/$t seeds=$B/seeds/$t crashes=$B/crashes/$t
  mkdir -p "$corpus" "$crashes"
  rm -rf "$seeds"
  "$PY" tests/fuzz/seeds.py "$t" "$seeds" "$MAXLEN" >/dev/null || { echo "fuzz: seeds for $t failed" >&2; status=1; }
  dirs=("$corpus" "$seeds")
  [ -d "tests/fuzz/seeds/$t" ] && dirs+=("tests/fuzz/seeds/$t")
  result=ok
  # 1. regressions: every kept crash input must pass now
  if [ -d "tests/fuzz/regress/$t" ] && ls "tests/fuzz/regress/$t"/* >/dev/null 2>&1; then
    dirs+=("tests/fuzz/regress/$t")
    if ! "$bin" -rss_limit_mb="$RSS" -timeout=30 "tests/fuzz/regress/$t"/* > "$B/$t.regress.log" 2>&1; then
      echo "FAIL $t: a regression input crashes again (log: $B/$t.regress.log)"
      grep -m3 -E "ERROR|runtime error|SUMMARY" "$B/$t.regress.log" | sed 's/^/    /'
      result=regression; status=1
    fi
  fi
  # 2. fuzz
  execs=0
  if [ "${FUZZ_BUILD_ONLY:-0}" != 1 ] && [ $result = ok ]; then
    log=$B/$t.log
    args=(-max_total_time="$SECONDS_PER" -timeout=20 -rss_limit_mb="$RSS" -max_len="$MAXLEN"
          -artifact_prefix="$crashes/" -print_final_stats=1 -use_value_profile=1)
    if [ "$JOBS" -gt 1 ]; then args+=(-fork="$JOBS" -ignore_crashes=0); fi
    "$bin" "${args[@]}" "${dirs[@]}" > "$log" 2>&1
    rc=$?
    execs=$(grep -E '^stat::number_of_executed_units:' "$log" | awk '{s += $2} END {print s + 0}')
    [ "$execs" -gt 0 ] || execs=$(grep -oE '^#[0-9]+' "$log" | tail -n 1 | tr -d '#')
    if [ $rc -ne 0 ]; then
      result=crash; status=1
      art=$(grep -oE "Test unit written to [^ ]+" "$log" | tail -n 1 | sed 's/Test unit written to //')
      echo "FAIL $t (exit $rc): $(grep -m1 -E 'ERROR: |runtime error|deadly signal|timeout|out-of-memory' "$log")"
      grep -m5 -E '^    #[0-9]+ .* in ' "$log" | sed 's/^/    /'
      [ -n "$art" ] && echo "    input: $art  (replay: $bin $art; keep it as tests/fuzz/regress/$t/<name> once fixed)"
      echo "    log: $log"
    fi
  fi
  n_corpus=$(ls "$corpus" | wc -l)
  printf "%s\t%s\t%s\t%s\t%s\n" "$t" "$SECONDS_PER" "${execs:-0}" "$n_corpus" "$result" >> "$summary"
  echo "$(printf '%-26s' "$t") ${execs:-0} executions, corpus $n_corpus: $result"
done
echo
column -t -s $'\t' "$summary" 2>/dev/null || cat "$summary"
exit $status
