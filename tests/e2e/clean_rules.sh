#!/usr/bin/env bash
# quern clean's rule options end to end: URL blocklist (subdomains), banned
# URL substrings, URL and text regex files, bad words, --pii replace,
# --lang, --only/--skip, --set.
source tests/e2e/lib.bash
cd "$WORK"
PROSE="The committee met on Tuesday to review the proposal for a new library in the northern district. Members raised questions about the budget, the timeline and the choice of architect, and asked the planning office to publish its traffic study before the next meeting. Residents who attended were mostly in favour, although several shop owners worried that two years of construction would keep customers away from the high street. The council will vote on the plan in March. It was a long evening for everyone."
"$PYTHON" - "$PROSE" <<'PY'
import json, sys
p = sys.argv[1]
docs = [
    ("keep", p, "https://news.example.org/a"),
    ("blocked-sub", p, "https://www.ads.bad.com/x"),
    ("blocked", p, "http://bad.com"),
    ("similar-name", p, "https://notbad.com/"),
    ("banned", p, "https://shop.example.org/casino-night"),
    ("regex", p, "https://example.org/?utm_source=mail"),
    ("textrule", p + " Click here to buy now!", "https://example.org/b"),
    ("lines", "Share on Twitter\n" + p + "\nShare on Facebook", "https://example.org/c"),
    ("pii", p + " Write to jane.doe@example.net or visit 93.184.216.34, not 192.168.0.1.", "https://example.org/d"),
    ("badword", p + " What a flurbish idea.", "https://example.org/e"),
    ("nourl", p, None),
]
with open("in.jsonl", "w") as f:
    for i, t, u in docs:
        d = {"id": i, "text": t}
        if u:
            d["metadata"] = {"url": u}
        f.write(json.dumps(d) + "\n")
open("domains.txt", "w").write("# blocked\nbad.com\n")
open("banned.txt", "w").write("casino\n")
open("url_regex.txt", "w").write("[?&]utm_[a-z]+=\n")
open("text_rules.txt", "w").write("drop-doc (?i)buy now\ndrop-line ^Share on \\w+$\n")
open("badwords.txt", "w").write("flurbish\n")
PY
"$QUERN" clean --url-blocklist domains.txt --url-banned banned.txt --url-regex url_regex.txt \
    --text-regex text_rules.txt --badwords badwords.txt --pii replace --stats s.json \
    --rejected rej.jsonl in.jsonl > out.jsonl
"$PYTHON" - <<'PY'
import json
out = {d["id"]: d for d in map(json.loads, open("out.jsonl"))}
rej = {d["id"]: d["metadata"]["clean_reason"] for d in map(json.loads, open("rej.jsonl"))}
want = {"blocked-sub": "url_domain", "blocked": "url_domain", "banned": "url_substring",
        "regex": "url_regex", "textrule": "text_regex", "badword": "document_removed_with_badwords"}
assert rej == want, rej
assert set(out) == {"keep", "similar-name", "lines", "pii", "nourl"}, sorted(out)
assert "Share on" not in out["lines"]["text"], out["lines"]["text"]
t = out["pii"]["text"]
assert "jane.doe" not in t and "email@example.com" in t, t
assert "93.184.216.34" not in t and "0.0.0.0" in t and "192.168.0.1" in t, t
s = json.load(open("s.json"))
assert s["pii"] == {"emails": 1, "ipv4": 1}, s["pii"]
assert s["filters"]["text_regex"]["lines_dropped"] == 2, s["filters"]["text_regex"]
print("rules ok")
PY
# --lang: a German text is dropped by default and kept with --lang en,de
"$PYTHON" -c '
import json
t = "Der Ausschuss traf sich am Dienstag, um den Vorschlag für eine neue Bibliothek im nördlichen Bezirk zu prüfen. Die Mitglieder stellten Fragen zum Haushalt, zum Zeitplan und zur Wahl des Architekten und baten das Planungsamt, seine Verkehrsstudie vor der nächsten Sitzung zu veröffentlichen. Die meisten Anwohner waren dafür, obwohl einige Ladenbesitzer befürchteten, dass zwei Jahre Bauzeit die Kunden fernhalten würden. Der Rat stimmt im März über den Plan ab."
print(json.dumps({"id": "de", "text": t}))' > de.jsonl
[ "$("$QUERN" clean --only lang de.jsonl | wc -l)" -eq 0 ] || fail "German kept with the default lang en"
"$QUERN" clean --lang en,de --only lang de.jsonl > de.out   # (Gopher stop words are English)
"$PYTHON" -c 'import json; d=json.loads(open("de.out").readline()); assert d["metadata"]["lang"]=="de", d' || fail "--lang en,de"
# --only / --set: with gopher_quality alone and a high word minimum, prose is short
[ "$("$QUERN" clean --only gopher_quality --set gopher_quality.min_doc_words=500 in.jsonl | wc -l)" -eq 0 ] \
    || fail "--only/--set"
[ "$("$QUERN" clean --preset none in.jsonl | wc -l)" -eq 11 ] || fail "--preset none keeps all"
echo ok
