#!/usr/bin/env bash
# Record counts of real archives (wget, Common Crawl WARC/WET/WAT, warcio and
# other tools' samples, damaged files) against tests/data/ingest/expected_counts.tsv,
# whose "warcio" column was produced by an independent reader (warcio.js).
# For well-formed files quern must count exactly what warcio counts.
source tests/e2e/lib.bash
D=$TESTDATA/ingest
n=0
while IFS=$'\t' read -r file warcio expected errors note; do
  [[ "$file" == \#* || "$file" == file || -z "$file" ]] && continue
  stats=$WORK/stats.json
  rm -f "$stats"
  set +e
  timeout 60 "$QUERN" ingest --skip-bad -j2 --stats "$stats" -o "$WORK/out.jsonl" "$D/$file" 2>"$WORK/err.txt"
  rc=$?
  set -e
  [ $rc -eq 0 ] || fail "$file: exit $rc with --skip-bad: $(cat "$WORK/err.txt")"
  got=$($PYTHON -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["records_in"], d["errors"])' "$stats")
  assert_eq "$got" "$expected $errors" "$file: records errors (warcio: $warcio; $note)"
  if [[ "$note" == "= warcio"* ]]; then assert_eq "$expected" "$warcio" "$file: quern vs warcio"; fi
  # every output line is a JSON object with text (documents are well formed)
  $PYTHON - "$WORK/out.jsonl" <<'PY' || fail "$file: bad JSONL output"
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    d = json.loads(line)
    assert isinstance(d["text"], str) and d["text"], d
PY
  n=$((n + 1))
done < "$D/expected_counts.tsv"
[ $n -ge 25 ] || fail "only $n files checked"
echo "ok: $n archives counted as expected"
