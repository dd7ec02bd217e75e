#!/usr/bin/env bash
# Documents out of real archives: same bytes at any -j and with -o DIR/;
# extraction quality against Common Crawl's own WET text of the same page;
# Debian documentation pages with their furniture gone and their structure
# kept; WET conversion records; the selection options and --stats.
source tests/e2e/lib.bash
S=$TESTDATA/ingest/samples

# 1. deterministic at any -j, and -o DIR/ holds the same lines
"$QUERN" ingest -j1 "$S/pubdocs-00001.warc.gz" > "$WORK/j1.jsonl"
"$QUERN" ingest -j4 "$S/pubdocs-00001.warc.gz" "$S/debian-docs.warc.gz" > "$WORK/j4.jsonl"
"$QUERN" ingest -j1 "$S/debian-docs.warc.gz" > "$WORK/dd.jsonl"
same_file "$WORK/j4.jsonl" <(cat "$WORK/j1.jsonl" "$WORK/dd.jsonl")
"$QUERN" ingest -j3 -o "$WORK/outdir/" "$S/pubdocs-00001.warc.gz"
ls "$WORK"/outdir/*.jsonl.zst >/dev/null || fail "no shards in -o DIR/"
same_file <(zstd -dc "$WORK"/outdir/*.jsonl.zst) "$WORK/j1.jsonl"
[ "$(wc -l < "$WORK/j1.jsonl")" -ge 250 ] || fail "too few documents from pubdocs-00001"

# plain, gzip (per record, or one stream) and zstd input give the same documents
zcat "$S/dolma-sample-0000.warc.gz" > "$WORK/dolma.warc"
zstd -q -c "$WORK/dolma.warc" > "$WORK/dolma.warc.zst"
gzip -c "$WORK/dolma.warc" > "$WORK/dolma-one-stream.warc.gz"
"$QUERN" ingest --source d "$S/dolma-sample-0000.warc.gz" > "$WORK/d-gz.jsonl"
[ "$(wc -l < "$WORK/d-gz.jsonl")" -ge 20 ] || fail "dolma sample: too few documents"
for f in dolma.warc dolma.warc.zst dolma-one-stream.warc.gz; do
  "$QUERN" ingest --source d "$WORK/$f" > "$WORK/d-$f.jsonl"
  same_file "$WORK/d-$f.jsonl" "$WORK/d-gz.jsonl"
done

# 2. quality against CC's WET text of the same page (whirlwind: one page, WARC + WET)
"$QUERN" ingest "$S/whirlwind.warc.gz" > "$WORK/ww_main.jsonl"
"$QUERN" ingest --no-boilerplate-removal "$S/whirlwind.warc.gz" > "$WORK/ww_all.jsonl"
"$QUERN" ingest "$S/whirlwind.warc.wet.gz" > "$WORK/ww_wet.jsonl"
$PYTHON - "$WORK" <<'PY' || fail "extraction quality vs CC WET"
import json, re, sys
w = sys.argv[1]
words = lambda t: re.findall(r"\w+", t.lower())
wet = json.loads(open(f"{w}/ww_wet.jsonl").readline())
assert wet["metadata"]["content_language"] == "spa" and wet["metadata"]["url"] == "https://an.wikipedia.org/wiki/Escopete"
cc = words(wet["text"]); ccs = set(cc)
res = {}
for mode in ("main", "all"):
    d = json.loads(open(f"{w}/ww_{mode}.jsonl").readline())
    assert d["metadata"]["title"] == "Escopete - Biquipedia, a enciclopedia libre", d["metadata"]
    ours = words(d["text"]); os_ = set(ours)
    p = sum(x in ccs for x in ours) / len(ours)
    r = sum(x in os_ for x in cc) / len(cc)
    res[mode] = (p, r)
    print(f"{mode}: {len(ours)} words, CC WET {len(cc)} words: precision {p:.3f} recall {r:.3f}")
assert res["main"][0] >= 0.95 and res["all"][0] >= 0.95, res
# CC's WET keeps menus and the language list; main content mode keeps the article
assert res["main"][1] >= 0.35 and res["all"][1] >= 0.6 and res["all"][1] > res["main"][1], res
main = json.loads(open(f"{w}/ww_main.jsonl").readline())["text"]
assert "Escopete ye un municipio d'a provincia de Guadalachara" in main
assert "Menú principal" not in main and "Descargar como PDF" not in main
PY

# 3. Debian documentation pages (Sphinx, DocBook, texinfo): furniture gone, structure kept
$PYTHON - "$WORK/dd.jsonl" <<'PY' || fail "Debian documentation pages"
import json, sys
docs = {json.loads(l)["metadata"]["url"].split("/pub/")[1]: json.loads(l) for l in open(sys.argv[1])}
assert len(docs) == 14, sorted(docs)
furniture = ["Quick search", "Created using", "Navigation", "Next topic", "Previous topic", "This Page",
             "Show Source", "Prev\n", "| Next", "Prev |", "Home |", "| Up |"]
for url, d in docs.items():
    t = d["text"]
    assert d["metadata"].get("title"), url
    for f in furniture:
        assert f not in t, (url, f)
    assert "\n\n\n" not in t and t == t.strip(), url
def text(k): return docs[k]["text"]
# headings and paragraphs
assert text("policy/policy.html/ch-scope.html").startswith("1. About this manual\n\n1.1. Scope\n\nThis manual describes")
assert text("policy/perl-policy.html/ch-perl.html").startswith("Chapter 2. Perl Packaging\n\n2.1. Versions\n\n")
assert "\n\n4.1. control\n\n" in text("maint-guide-en/dreq.en.html")
# code keeps its layout
assert "\n 1 Source: gentoo\n 2 Section: unknown\n" in text("maint-guide-en/dreq.en.html")
assert '<xsl:param name="insert.xref.page.number">no</xsl:param>' in text("docbook-xsl/fo/insert.xref.page.number.html")
# lists: one item per line
cf = text("policy/policy.html/ch-controlfields.html")
assert sum(1 for l in cf.split("\n") if l.startswith("- ")) >= 20
assert "\n- " in text("maint-guide-en/first.en.html")
# tables: rows on lines, cells joined
assert sum(1 for l in text("devref/resources.html").split("\n") if " | " in l) >= 5
# non-Latin text and legacy charsets
ja = docs["history/intro.ja.html"]
assert "Debian プロジェクト" in ja["text"]
assert docs["docbook-xsl/html/chunking.html"]["metadata"]["charset"] == "windows-1252"
print("ok:", len(docs), "pages")
PY

# 4. selection options and --stats
stat() { $PYTHON -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {}, d))' "$@"; }
"$QUERN" ingest --stats "$WORK/s.json" -o /dev/null "$S/whirlwind.warc.gz" "$S/whirlwind.warc.wet.gz"
assert_eq "$(stat "$WORK/s.json" 'docs_out, records_in, skipped["type"], records_by_type["conversion"]')" "(2, 6, 4, 1)" "default stats"
"$QUERN" ingest --types response --stats "$WORK/s.json" -o /dev/null "$S/whirlwind.warc.gz" "$S/whirlwind.warc.wet.gz"
assert_eq "$(stat "$WORK/s.json" 'docs_out, skipped["type"]')" "(1, 5)" "--types response"
"$QUERN" ingest --min-chars 100000 --stats "$WORK/s.json" -o /dev/null "$S/debian-docs.warc.gz"
assert_eq "$(stat "$WORK/s.json" 'docs_out, skipped["too_short"]')" "(0, 14)" "--min-chars"
"$QUERN" ingest --max-record-bytes 20K --stats "$WORK/s.json" -o /dev/null "$S/debian-docs.warc.gz"
[ "$(stat "$WORK/s.json" 'skipped["too_large"]')" -ge 5 ] || fail "--max-record-bytes"
"$QUERN" ingest --mime text/plain --stats "$WORK/s.json" -o /dev/null "$S/debian-docs.warc.gz"
assert_eq "$(stat "$WORK/s.json" 'docs_out, skipped["mime"]')" "(0, 14)" "--mime text/plain"
"$QUERN" ingest --stats "$WORK/s.json" -o /dev/null "$S/debian-docs.warc.gz"
assert_eq "$(stat "$WORK/s.json" 'bytes_in, docs_out > 0, bytes_out > 0, bytes_warc > bytes_in')" "(132625, True, True, True)" "bytes"
main_len=$(wc -c < "$WORK/dd.jsonl")
all_len=$("$QUERN" ingest --no-boilerplate-removal "$S/debian-docs.warc.gz" | wc -c)
[ "$all_len" -gt "$main_len" ] || fail "--no-boilerplate-removal keeps more"
"$QUERN" ingest --source mycrawl "$S/cc.warc.gz" | grep -q '"source":"mycrawl"' || fail "--source"

# 5. invalid UTF-8 in HTML: every document is valid UTF-8
"$QUERN" ingest --stats "$WORK/s.json" "$TESTDATA/ingest/bad/invalid-utf8-in-html.warc.gz" > "$WORK/u.jsonl"
assert_eq "$(stat "$WORK/s.json" 'records_in, errors')" "(16, 0)" "invalid-utf8 records"
$PYTHON -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1], encoding="utf-8", errors="strict")]' "$WORK/u.jsonl" \
  || fail "invalid UTF-8 in output"
[ "$(wc -l < "$WORK/u.jsonl")" -ge 5 ] || fail "documents lost to invalid bytes"
"$QUERN" ingest --help | grep -q -- '--no-boilerplate-removal' || fail "--help"
expect_exit 2 "$QUERN" ingest --types nonsense "$S/cc.warc.gz"
echo ok
