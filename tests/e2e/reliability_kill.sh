#!/usr/bin/env bash
# Kill tests: every stage that writes `-o DIR` (cat, clean, ingest, dedup,
# tokenize, mix) is SIGKILLed at a random point of a run, then rerun with the
# same command. Checked each time:
#   - right after the kill, every file under DIR with a final name (not a
#     *.tmp.* temporary) is byte-identical to the same file of an
#     uninterrupted run: a killed run never leaves a file that looks complete
#     and is not;
#   - the rerun exits 0 and DIR then holds exactly the uninterrupted run's
#     files, byte for byte (temporaries left by the killed process aside:
#     they are listed, and must not carry a final name).
# The kill delays are drawn from [0, 1.2 x the reference run's time], seeded
# by RELIABILITY_SEED (printed, so a failure can be replayed); KILL_ROUNDS
# kills per stage (default 3); the table is copied to $RELIABILITY_KILL_TABLE
# when set.
source tests/e2e/lib.bash
cd "$WORK"
SEED=${RELIABILITY_SEED:-$(( $(date +%s) % 100000 ))}
ROUNDS=${KILL_ROUNDS:-3}
RANDOM=$SEED
echo "kill test seed: $SEED (RELIABILITY_SEED=$SEED to replay), $ROUNDS kills per stage"
D=$TESTDATA
table=$WORK/kill.tsv
printf 'stage\tround\tdelay_ms\tfinal files at kill\ttemporaries at kill\ttemporaries after rerun\tresult\n' > "$table"

# ---- inputs: ~12 MB of distinct documents, ~3 MB of WARC, a vocabulary ----
"$PYTHON" - "$D" > docs.jsonl <<'PY'
import json, sys
d = sys.argv[1]
src = [l for f in ("common/docs-en.jsonl", "common/docs-multi.jsonl", "tokenize/docs.jsonl", "clean/text-en.jsonl")
       for l in open(d + "/" + f, "rb")]
n = i = 0
while n < 12 << 20:
    for l in src:
        doc = json.loads(l)
        doc["id"] = "k%d" % i
        doc["text"] = "v%d %s" % (i // len(src), doc["text"])
        i += 1
        b = (json.dumps(doc, ensure_ascii=False) + "\n").encode()
        sys.stdout.buffer.write(b)
        n += len(b)
PY
S=$D/ingest/samples
for i in 1 2 3; do
  cat "$S/pubdocs-00001.warc.gz" "$S/dolma-sample-0000.warc.gz" "$S/debian-docs.warc.gz" \
      "$S/warcfile.warc.gz" "$S/IAH-urls-wget.warc.gz"
done > crawl.warc.gz
head -n 200 docs.jsonl > vocab-docs.jsonl
"$QUERN" bpe train --vocab-size 400 -o vocab vocab-docs.jsonl 2>/dev/null
"$QUERN" tokenize -j 2 --vocab vocab --shard-tokens 400000 -o tokens docs.jsonl 2>/dev/null

now_ms() { date +%s%3N; }
# run_out DIR cmd... : the command with @OUT@ replaced by DIR
subst() { local out=$1; shift; local a; for a in "$@"; do printf '%s\0' "${a//@OUT@/$out}"; done; }
final_files() { (cd "$1" 2>/dev/null && find . -type f ! -name '*.tmp.*' ! -path '*.tmp.*/*' | LC_ALL=C sort) || true; }
tmp_files() { (cd "$1" 2>/dev/null && find . -name '*.tmp.*' | LC_ALL=C sort) || true; }

kill_stage() { # stage cmd... (with @OUT@)
  local stage=$1; shift
  local ref=$WORK/$stage.ref
  mapfile -d '' -t cmd < <(subst "$ref" "$@")
  local t0 t1
  t0=$(now_ms)
  "${cmd[@]}" > /dev/null 2> "$WORK/$stage.ref.err" || fail "$stage: reference run failed: $(tail -n 3 "$WORK/$stage.ref.err")"
  t1=$(now_ms)
  local tref=$((t1 - t0 + 1))
  [ -n "$(final_files "$ref")" ] || fail "$stage: the reference run wrote nothing"
  echo "$stage: reference run ${tref} ms, $(final_files "$ref" | wc -l) files"
  local r
  for ((r = 1; r <= ROUNDS; r++)); do
    local out=$WORK/$stage.run$r
    rm -rf "$out"
    local delay=$((RANDOM * 12 * tref / 10 / 32768))
    mapfile -d '' -t cmd < <(subst "$out" "$@")
    "${cmd[@]}" > /dev/null 2> "$WORK/$stage.kill.err" &
    local pid=$!
    sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    # 1. nothing with a final name unless it is the finished file
    local f n_final=0 bad=""
    while IFS= read -r f; do
      [ -n "$f" ] || continue
      n_final=$((n_final + 1))
      cmp -s "$out/$f" "$ref/$f" || bad="$bad $f"
    done < <(final_files "$out")
    local n_tmp
    n_tmp=$(tmp_files "$out" | wc -l)
    local result=ok
    [ -z "$bad" ] || result="looks complete but differs:$bad"
    # 2. the rerun completes it, identical to the uninterrupted run
    if [ "$result" = ok ]; then
      if ! "${cmd[@]}" > /dev/null 2> "$WORK/$stage.rerun.err"; then
        result="rerun failed: $(tail -n 2 "$WORK/$stage.rerun.err" | tr '\n' ' ')"
      elif [ "$(final_files "$out")" != "$(final_files "$ref")" ]; then
        result="rerun: files differ from the uninterrupted run: $(diff <(final_files "$out") <(final_files "$ref") | tr '\n' ' ')"
      else
        while IFS= read -r f; do
          cmp -s "$out/$f" "$ref/$f" || { result="rerun: $f differs from the uninterrupted run"; break; }
        done < <(final_files "$ref")
      fi
    fi
    local n_tmp_after
    n_tmp_after=$(tmp_files "$out" | wc -l)
    printf '%s\t%d\t%d\t%d\t%d\t%d\t%s\n' "$stage" "$r" "$delay" "$n_final" "$n_tmp" "$n_tmp_after" "$result" >> "$table"
    [ "$result" = ok ] || echo "FAIL: $stage round $r (kill after ${delay} ms): $result" >&2
    rm -rf "$out"
  done
  rm -rf "$ref"
}

kill_stage cat "$QUERN" cat -j 2 --shard-bytes 2M -o @OUT@/ docs.jsonl
kill_stage clean "$QUERN" clean -j 2 --preset fineweb -o @OUT@/ docs.jsonl
kill_stage ingest "$QUERN" ingest -j 2 -o @OUT@/ crawl.warc.gz
kill_stage dedup "$QUERN" dedup -j 2 -o @OUT@/ docs.jsonl
kill_stage tokenize "$QUERN" tokenize -j 2 --vocab vocab --shard-tokens 400000 -o @OUT@ docs.jsonl
kill_stage mix "$QUERN" mix -j 2 -D 3M --shard-tokens 300k --val-tokens 100k -o @OUT@ web=tokens:1

echo
column -t -s $'\t' "$table" 2>/dev/null || cat "$table"
n_fail=$(awk -F'\t' 'NR > 1 && $7 != "ok"' "$table" | wc -l)
[ "$n_fail" -eq 0 ] || fail "$n_fail kill round(s) failed (seed $SEED)"
[ -n "${RELIABILITY_KILL_TABLE:-}" ] && cp "$table" "$RELIABILITY_KILL_TABLE"
echo "all $(($(wc -l < "$table") - 1)) kill rounds pass (seed $SEED)"
