#!/usr/bin/env bash
# Untrusted-input limits through the real binary:
#   - only http(s) is fetched: file://, ftp://, gopher:// and scp:// inputs are
#     refused (exit 1, one error line), and so are redirects to them (a local
#     server answers 302 with such a Location); a redirect to http is followed;
#   - names taken from the input never place a file outside the output
#     directory: the download cache (--cache DIR) for URLs whose path tries
#     ../ (plain and percent-encoded) writes only inside DIR;
#   - size limits are options with safe defaults: ingest --max-record-bytes,
#     the WARC header limit (2 MiB, refused with an error), clean's
#     size.max_bytes (16 MiB by default; a lower one drops with doc_too_large).
source tests/e2e/lib.bash
cd "$WORK"
D=$TESTDATA
mkdir -p www
head -n 5 "$D/common/docs-en.jsonl" > www/data.jsonl
cp "$D/ingest/samples/cc.warc.gz" www/crawl.warc.gz
cat > server.py <<'PY'
import http.server, os, sys, threading
root, port_file = sys.argv[1], sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        p = self.path
        redirects = {"/to-file": "file:///etc/passwd", "/to-ftp": "ftp://127.0.0.1/data.jsonl",
                     "/to-gopher": "gopher://127.0.0.1/data.jsonl", "/to-http": "/data.jsonl"}
        if p in redirects:
            self.send_response(302); self.send_header("Location", redirects[p])
            self.send_header("Content-Length", "0"); self.end_headers(); return
        name = "crawl.warc.gz" if p.endswith(".warc.gz") else os.path.basename(p)
        path = os.path.join(root, name)
        if not os.path.isfile(path):
            self.send_response(404); self.send_header("Content-Length", "0"); self.end_headers(); return
        data = open(path, "rb").read()
        self.send_response(200); self.send_header("Content-Length", str(len(data))); self.end_headers()
        self.wfile.write(data)
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
open(port_file + ".tmp", "w").write(str(s.server_address[1])); os.rename(port_file + ".tmp", port_file)
threading.Timer(180, s.shutdown).start()
s.serve_forever()
PY
"$PYTHON" server.py "$WORK/www" "$WORK/port" &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do [ -s port ] && break; sleep 0.1; done
[ -s port ] || fail "server did not start"
BASE=http://127.0.0.1:$(cat port)

one_error() { # stage rc-want input... : exit code, one error line naming the input, no output
  local st=$1 want=$2; shift 2
  local rc=0
  timeout 60 "$QUERN" "$st" --retries 0 "$@" > out 2> err || rc=$?
  [ $rc -eq "$want" ] || fail "$st $*: exit $rc, expected $want ($(cat err))"
  [ "$(grep -c . err)" -eq 1 ] || fail "$st $*: expected one error line: $(cat err)"
  grep -q "^quern $st: " err || fail "$st $*: error line form: $(cat err)"
  [ ! -s out ] || fail "$st $*: wrote output"
  echo "refused ($st, exit $rc): $(cat err)"
}
# cat has no --retries: a wrapper without it
one_error_cat() {
  local rc=0
  timeout 60 "$QUERN" cat "$@" > out 2> err || rc=$?
  [ $rc -eq 1 ] || fail "cat $*: exit $rc, expected 1 ($(cat err))"
  [ "$(grep -c . err)" -eq 1 ] || fail "cat $*: expected one error line: $(cat err)"
  [ ! -s out ] || fail "cat $*: wrote output"
  echo "refused (cat, exit $rc): $(cat err)"
}

# 1. schemes other than http(s), given directly and by redirect
for u in file:///etc/passwd ftp://127.0.0.1/data.jsonl gopher://127.0.0.1/x scp://127.0.0.1/x; do
  one_error ingest 1 "$u"
  one_error_cat "$u"
done
for r in to-file to-ftp to-gopher; do
  one_error ingest 1 "$BASE/$r"
  one_error_cat "$BASE/$r"
done
"$QUERN" cat "$BASE/to-http" > redirected.jsonl
"$QUERN" cat www/data.jsonl > local.jsonl
same_file redirected.jsonl local.jsonl

# 2. the download cache stays inside its directory whatever the URL path
mkdir -p sandbox/cache
before=$(cd "$WORK" && find . -path ./sandbox -prune -o -print | LC_ALL=C sort)
for p in "a/../../../../escape.warc.gz" "a/..%2F..%2F..%2Fescape.warc.gz" "..%2f..%2fescape2.warc.gz" \
         "a/%2e%2e/%2e%2e/escape3.warc.gz"; do
  timeout 60 "$QUERN" ingest --retries 0 --cache sandbox/cache -o /dev/null "$BASE/$p" 2> err \
    || fail "cached download of $p failed: $(cat err)"
done
after=$(cd "$WORK" && find . -path ./sandbox -prune -o -print | LC_ALL=C sort)
[ "$before" = "$after" ] || fail "files appeared outside the cache directory: $(diff <(echo "$before") <(echo "$after"))"
[ "$(find sandbox -type f | grep -vc '^sandbox/cache/[^/]*$')" -eq 0 ] || fail "cache files outside sandbox/cache: $(find sandbox -type f)"
[ "$(find sandbox/cache -type f | wc -l)" -ge 1 ] || fail "nothing cached"
echo "cache: $(find sandbox/cache -type f | wc -l) files, all inside the cache directory"

# 3. size limits with defaults
"$QUERN" ingest --help > help.txt
grep -q -- '--max-record-bytes SIZE .*default 16M' help.txt || fail "ingest: no --max-record-bytes default"
"$QUERN" ingest --max-record-bytes 1K --stats st.json -o small.jsonl www/crawl.warc.gz
"$QUERN" ingest -o all.jsonl www/crawl.warc.gz
[ "$(wc -l < small.jsonl)" -lt "$(wc -l < all.jsonl)" ] || fail "--max-record-bytes 1K skipped nothing"
grep -q 'too_large' st.json || fail "records over the limit are not counted: $(cat st.json)"
{ printf 'WARC/1.0\r\nWARC-Type: resource\r\nX-Long: '; head -c $((3 << 20)) /dev/zero | tr '\0' 'x'; printf '\r\n\r\n'; } > longheader.warc
rc=0; "$QUERN" ingest -o /dev/null longheader.warc 2> err || rc=$?
[ $rc -eq 1 ] || fail "a 3 MiB WARC header: exit $rc"
grep -q '^quern ingest: longheader.warc:0: ' err || fail "header limit message: $(cat err)"
"$QUERN" clean --list > list.txt
grep -q 'max_bytes=16777216' list.txt || fail "clean: size.max_bytes default is not 16 MiB"
"$PYTHON" -c 'import json; print(json.dumps({"id": "big", "text": "word " * 50000})); print(json.dumps({"id": "small", "text": "a short text"}))' > sizes.jsonl
"$QUERN" clean --only size --set size.max_bytes=100000 --stats cs.json sizes.jsonl > kept.jsonl
[ "$(wc -l < kept.jsonl)" -eq 1 ] && grep -q '"small"' kept.jsonl || fail "size.max_bytes did not drop the large document"
grep -q 'doc_too_large' cs.json || fail "doc_too_large not counted: $(cat cs.json)"
echo "limits: record, header and document sizes enforced with defaults"
