#!/usr/bin/env bash
# Fetching over HTTP: a real server on 127.0.0.1 (tests/e2e/ingest_http_server.py)
# that drops the connection half-way through the first download, so the
# output must come from a Range resume and still equal reading the file
# locally. Also: HTTP errors, a redirect to ftp:// refused, --cache, and a
# Common Crawl path listing with --base-url and --shard.
source tests/e2e/lib.bash
WWW=$WORK/www
mkdir -p "$WWW"
cp "$TESTDATA/ingest/samples/dolma-sample-0000.warc.gz" "$WWW/drop-sample.warc.gz"
cp "$TESTDATA/ingest/samples/dolma-sample-0000.warc.gz" "$WWW/drop-norange.warc.gz"
cp "$TESTDATA/ingest/samples/whirlwind.warc.wet.gz" "$WWW/whirlwind.warc.wet.gz"
cp "$TESTDATA/ingest/samples/example-wget-1-14.warc.gz" "$WWW/wget.warc.gz"
$PYTHON tests/e2e/ingest_http_server.py --root "$WWW" --port-file "$WORK/port" --log "$WORK/log" --lifetime 120 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do [ -s "$WORK/port" ] && break; sleep 0.1; done
[ -s "$WORK/port" ] || fail "server did not start"
BASE=http://127.0.0.1:$(cat "$WORK/port")

# 1. dropped connection, resumed with Range; same bytes out as the local file
"$QUERN" ingest --retries 3 -j2 -o "$WORK/local.jsonl" "$WWW/drop-sample.warc.gz"
timeout 60 "$QUERN" ingest --retries 3 -j2 -o "$WORK/http.jsonl" "$BASE/drop-sample.warc.gz"
same_file "$WORK/http.jsonl" "$WORK/local.jsonl"
[ "$(wc -l < "$WORK/local.jsonl")" -ge 20 ] || fail "too few documents"
grep -q 'GET /drop-sample.warc.gz range=bytes=[1-9][0-9]*-' "$WORK/log" || fail "no Range request: $(cat "$WORK/log")"
[ "$(grep -c 'GET /drop-sample.warc.gz' "$WORK/log")" -eq 2 ] || fail "expected one drop and one resume"
# a server that ignores Range: the second attempt starts over, the bytes already had are dropped
timeout 60 "$QUERN" ingest --retries 3 --source drop-sample -o "$WORK/norange.jsonl" "$BASE/drop-norange.warc.gz"
same_file "$WORK/norange.jsonl" "$WORK/local.jsonl"
[ "$(grep -c 'GET /drop-norange.warc.gz' "$WORK/log")" -ge 2 ] || fail "no retry for the Range-less server"

# 2. a missing file and a redirect to another scheme: one error line each, exit 1
set +e
"$QUERN" ingest -o /dev/null "$BASE/missing.warc.gz" 2>"$WORK/err"; rc=$?
set -e
[ $rc -eq 1 ] || fail "404: exit $rc"
grep -q "$BASE/missing.warc.gz: HTTP 404" "$WORK/err" || fail "404 message: $(cat "$WORK/err")"
set +e
"$QUERN" ingest -o /dev/null "$BASE/redirect-ftp" 2>"$WORK/err"; rc=$?
set -e
[ $rc -eq 1 ] || fail "ftp redirect: exit $rc"
grep -qi 'protocol\|scheme\|not supported\|disabled' "$WORK/err" || fail "ftp redirect message: $(cat "$WORK/err")"
expect_exit 1 "$QUERN" ingest -o /dev/null "ftp://127.0.0.1/x.warc.gz" 2>/dev/null

# 3. --cache: the second run is served from the cache, same output
before=$(grep -c 'GET /wget.warc.gz' "$WORK/log" || true)
"$QUERN" ingest --cache "$WORK/cache" -o "$WORK/c1.jsonl" "$BASE/wget.warc.gz"
"$QUERN" ingest --cache "$WORK/cache" -o "$WORK/c2.jsonl" "$BASE/wget.warc.gz"
after=$(grep -c 'GET /wget.warc.gz' "$WORK/log")
[ $((after - before)) -eq 1 ] || fail "cache not used ($before -> $after requests)"
same_file "$WORK/c1.jsonl" "$WORK/c2.jsonl"
ls "$WORK/cache" | grep -q 'wget.warc.gz$' || fail "no cache file"
ls "$WORK/cache" | grep -q '\.tmp\.' && fail "temporary cache file left"

# 4. a path listing expands against --base-url; --shard picks every 2nd archive
printf 'drop-sample.warc.gz\nwhirlwind.warc.wet.gz\nwget.warc.gz\n' | gzip > "$WORK/wet.paths.gz"
"$QUERN" ingest --base-url "$BASE/" --shard 1/2 --stats "$WORK/s.json" -o "$WORK/shard.jsonl" "$WORK/wet.paths.gz"
$PYTHON - "$WORK/s.json" "$WORK/shard.jsonl" <<'PY' || fail "listing/shard"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["inputs"] == 1 and s["records_in"] == 2, s          # only whirlwind.warc.wet.gz
docs = [json.loads(l) for l in open(sys.argv[2])]
assert len(docs) == 1 and docs[0]["source"] == "whirlwind" and docs[0]["metadata"]["content_language"], docs
PY
echo ok
