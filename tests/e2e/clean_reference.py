#!/usr/bin/python3
"""An independent, slow re-implementation of quern clean's quality filters
in Python, written from /work/shared/filters.md and clean/README.md (word,
line and sentence splitting), used to check the C code document by document.

    clean_reference.py INPUT.jsonl QUERN_TAGGED.jsonl

It runs the fineweb preset without language ID (normalize, gopher_repetition,
gopher_quality, c4_quality with terminal_punct=0, fineweb_quality) and
compares, per document, the first reason (or "kept") and the final text of
kept documents with what `quern clean --tag` wrote (one line per input line,
in order). Exit 1 on any difference."""
import json
import re
import sys
import unicodedata
from collections import Counter

SPACE = set("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000") | {
    chr(c) for c in range(0x2000, 0x200B)}


def is_punct(ch):
    o = ord(ch)
    if o < 128:
        return o < 32 or o == 127 or ch in "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
    if o < 0xA0:
        return True
    return unicodedata.category(ch).startswith("P")


STERM = set()


def load_sterm():
    try:
        with open("/usr/share/unicode/PropList.txt", encoding="utf-8") as f:
            for line in f:
                line = line.split("#", 1)[0].strip()
                if not line:
                    continue
                cps, prop = [x.strip() for x in line.split(";")]
                if prop == "Sentence_Terminal":
                    lo, _, hi = cps.partition("..")
                    for c in range(int(lo, 16), int(hi or lo, 16) + 1):
                        STERM.add(chr(c))
    except OSError:  # without unicode-data: the common ones
        STERM.update(".!?\u3002\uff01\uff1f\uff61\u061f\u0964\u0965")


def words(text):
    out = []
    for chunk in text.split():
        idx = [i for i, ch in enumerate(chunk) if not is_punct(ch)]
        if not idx:
            out += runs(chunk)
            continue
        b, e = idx[0], idx[-1] + 1
        out += runs(chunk[:b]) + [chunk[b:e]] + runs(chunk[e:])
    return out


def runs(s):
    out, i = [], 0
    while i < len(s):
        j = i
        while j < len(s) and s[j] == s[i]:
            j += 1
        out.append(s[i:j])
        i = j
    return out


def strip(s):
    return s.strip()   # Python's whitespace: the definition the C code follows


ABBREV = set("mr mrs ms dr prof sr jr st vs etc inc ltd co no fig vol pp ed approx dept est gen gov "
             "jan feb mar apr jun jul aug sep sept oct nov dec mt corp".split())
CLOSERS = set("\"')]\u201d\u2019\u00bb\u300d\u300f\uff09")
CJK_END = set("\u3002\uff01\uff1f\uff61")


def sentences(line):
    line = strip(line)
    if not line:
        return 0
    n, i, tok_b = 1, 0, 0
    while i < len(line):
        ch = line[i]
        if ch in SPACE:
            i += 1
            tok_b = i
            continue
        if ch not in STERM:
            i += 1
            continue
        run_b, j, cjk = i, i + 1, ch in CJK_END
        while j < len(line) and line[j] in STERM:
            cjk = cjk or line[j] in CJK_END
            j += 1
        k = j
        while k < len(line) and line[k] in CLOSERS:
            k += 1
        i = k
        if k >= len(line):
            break
        if line[k] not in SPACE and not cjk:
            continue
        tok = line[tok_b:run_b]
        if ch == "." and j - run_b == 1 and not cjk and (
                (len(tok) == 1 and tok.isascii() and tok.isalpha()) or "." in tok or tok.lower() in ABBREV):
            continue
        n += 1
    return n


def find_duplicates(xs):
    seen, dup, chars = set(), 0, 0
    for x in xs:
        if x in seen:
            dup += 1
            chars += len(x)
        else:
            seen.add(x)
    return dup, chars


def ratio(a, b):
    return a / b if b else 0.0


def gopher_repetition(text):
    paras = re.split(r"\n{2,}", strip(text))
    d, c = find_duplicates(paras)
    if ratio(d, len(paras)) > 0.3:
        return "dup_para_frac"
    if ratio(c, len(text)) > 0.2:
        return "dup_para_char_frac"
    lines = re.split(r"\n+", text)
    d, c = find_duplicates(lines)
    if ratio(d, len(lines)) > 0.3:
        return "dup_line_frac"
    if ratio(c, len(text)) > 0.2:
        return "dup_line_char_frac"
    w = words(text)
    for n, thr in ((2, 0.2), (3, 0.18), (4, 0.16)):
        grams = [tuple(w[i:i + n]) for i in range(len(w) - n + 1)]
        if not grams:
            continue
        g, cnt = Counter(grams).most_common(1)[0]
        if ratio(len(" ".join(g)) * cnt, len(text)) > thr:
            return "top_%d_gram" % n
    for n, thr in ((5, 0.15), (6, 0.14), (7, 0.13), (8, 0.12), (9, 0.11), (10, 0.10)):
        seen, rep, i = set(), 0, 0
        while i < len(w) - n + 1:
            g = tuple(w[i:i + n])   # word sequences (clean/README.md)
            if g in seen:
                rep += len("".join(g))
                i += n
            else:
                seen.add(g)
                i += 1
        if ratio(rep, len(text)) > thr:
            return "duplicated_%d_n_grams" % n
    return None


def gopher_quality(text):
    w = words(text)
    nonsym = [x for x in w if any(not is_punct(ch) for ch in x)]
    if len(nonsym) < 50:
        return "gopher_short_doc"
    if len(nonsym) > 100000:
        return "gopher_long_doc"
    avg = sum(map(len, nonsym)) / len(nonsym)
    if avg < 3:
        return "gopher_below_avg_threshold"
    if avg > 10:
        return "gopher_above_avg_threshold"
    if ratio(text.count("#"), len(w)) > 0.1:
        return "gopher_too_many_hashes"
    if ratio(text.count("...") + text.count("\u2026"), len(w)) > 0.1:
        return "gopher_too_many_ellipsis"
    lines = text.splitlines()
    if ratio(sum(s.lstrip().startswith(("\u2022", "-")) for s in lines), len(lines)) > 0.9:
        return "gopher_too_many_bullets"
    if ratio(sum(s.rstrip().endswith(("...", "\u2026")) for s in lines), len(lines)) > 0.3:
        return "gopher_too_many_end_ellipsis"
    if w and sum(any(ch.isalpha() for ch in x) for x in w) / len(w) < 0.8:
        return "gopher_below_alpha_threshold"
    if len({"the", "be", "to", "of", "and", "that", "have", "with"} & set(w)) < 2:
        return "gopher_enough_stop_words"
    return None


CITATION = re.compile(r"\[\d*]|\[edit]|\[citation needed]")
POLICY = ("terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies", "use cookies")


def ascii_lower(s):
    return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in s)


def c4_quality(text):
    kept, n_sent = [], 0
    for line in text.splitlines():
        line = strip(line)
        ws = line.split()
        if any(len(x) > 1000 for x in ws):
            continue
        line = CITATION.sub("", line)
        if len(ws) < 3:
            continue
        low = ascii_lower(line)
        if "lorem ipsum" in low:
            return "lorem_ipsum", None
        if "javascript" in low:
            continue
        if "{" in line:
            return "curly_bracket", None
        if any(p in low for p in POLICY):
            continue
        n_sent += sentences(line)
        kept.append(line)
    if n_sent < 5:
        return "too_few_sentences", None
    return None, strip("\n".join(kept))


def fineweb_quality(text):
    lines = [x for x in text.split("\n") if strip(x) != ""]
    if not lines:
        return "empty"
    if sum(1 for x in lines if x[-1] in STERM) / len(lines) < 0.12:
        return "line_punct_ratio"
    if sum(1 for x in lines if len(x) <= 30) / len(lines) > 0.67:
        return "short_line_ratio"
    den = len(text.replace("\n", ""))
    if den and find_duplicates(lines)[1] / den > 0.01:
        return "char_dup_ratio"
    w = words(text)
    if w and text.count("\n") / len(w) > 0.3:
        return "list_ratio"
    return None


def normalize(text):
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x85", "\n")
    text = "".join(ch for ch in text if not (unicodedata.category(ch) == "Cc" and ch not in "\t\n"))
    return unicodedata.normalize("NFC", text)


def cascade(text):
    if len(text.encode("utf-8", "surrogatepass")) > 16 << 20:
        return "doc_too_large", None
    text = normalize(text)
    for f in (gopher_repetition, gopher_quality):
        r = f(text)
        if r:
            return r, None
    r, text = c4_quality(text)
    if r:
        return r, None
    r = fineweb_quality(text)
    return (r, None) if r else ("kept", text)


def main():
    load_sterm()
    inp, tagged = sys.argv[1:3]
    n = bad = 0
    reasons = Counter()
    with open(inp, encoding="utf-8") as fi, open(tagged, encoding="utf-8") as ft:
        for line, tline in zip(fi, ft):
            d, t = json.loads(line), json.loads(tline)
            rs = t["metadata"]["clean_reasons"]
            have = (rs[0], None) if rs else ("kept", t["text"])
            want = cascade(d["text"])
            n += 1
            reasons[want[0]] += 1
            if have != want:
                bad += 1
                if bad <= 10:
                    print("DIFF line %d (%s): reference %s, quern %s" % (n, d.get("id"), want[0], have[0]))
                    if want[0] == "kept" and have[0] == "kept":
                        a, b = want[1], have[1]
                        k = next((i for i in range(min(len(a), len(b))) if a[i] != b[i]), min(len(a), len(b)))
                        print("  texts differ at %d: %r / %r" % (k, a[k:k + 40], b[k:k + 40]))
    print("%d documents, %d differ; reference reasons: %s" % (n, bad, dict(reasons.most_common())))
    sys.exit(1 if bad else 0)


main()
