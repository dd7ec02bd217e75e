/* c4.c - C4 quality (Raffel et al. 2020, as in datatrove's C4QualityFilter)
 * and C4 bad words.
 *
 * C4 quality walks the lines (Python splitlines()), strips each, and per
 * line, in order: drops it if a whitespace-separated word is longer than
 * max_word_length characters; removes citations ([12], [], [edit],
 * [citation needed]); drops it without terminal punctuation (. ? ! " ')
 * or ending in "..." (when terminal_punct is on); drops it with fewer than
 * min_words_per_line words (counted before citation removal); drops the
 * document on "lorem ipsum" (lorem_ipsum); drops the line on "javascript";
 * drops the document on "{" (curly_bracket); drops the line on a policy
 * phrase. The case-insensitive tests fold ASCII letters only. Kept lines
 * are counted in sentences (text.c count_sentences); fewer than
 * min_num_sentences drops the document (too_few_sentences), else the text
 * becomes the kept lines joined by "\n".
 *
 * C4 bad words: a word list (one entry per line, matched in lower case) from
 * the user; a document containing an entry between non-word characters (or
 * anywhere, for the languages in no_boundary_langs) is dropped
 * (document_removed_with_badwords). */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "clean_impl.h"

/* Citation removal: \[\d*]|\[edit]|\[citation needed] -> "" (left to right). */
static size_t citation_len(const char *s, size_t i, size_t e)
{
    /* s[i] == '[' */
    size_t j = i + 1;
    while (j < e) {
        unsigned c = (unsigned char)s[j];
        if (c >= '0' && c <= '9') { j++; continue; }
        if (c >= 128) {
            size_t q = j;
            uint32_t cp = u8_next(s, e, &q);
            if (utf8proc_category((utf8proc_int32_t)cp) == UTF8PROC_CATEGORY_ND) { j = q; continue; }
        }
        break;
    }
    if (j < e && s[j] == ']') return j + 1 - i;
    static const char *const lits[] = { "[edit]", "[citation needed]" };
    for (int k = 0; k < 2; k++) {
        size_t n = strlen(lits[k]);
        if (e - i >= n && memcmp(s + i, lits[k], n) == 0) return n;
    }
    return 0;
}

/* The case-insensitive phrase tests of one line, in one pass. Each phrase
 * is tried only around an "anchor": a rarer letter it contains at a known
 * offset (j, k, v, f, p), so most bytes cost one table lookup. */
enum { PH_LOREM = 1, PH_JS = 2, PH_POLICY = 4 };

static int at_ci(const char *s, size_t len, size_t i, size_t back, const char *lit, size_t n)
{
    if (i < back) return 0;
    i -= back;
    if (len - i < n) return 0;
    for (size_t k = 0; k < n; k++) {
        unsigned char x = (unsigned char)s[i + k];
        if (x >= 'A' && x <= 'Z') x += 32;
        if (x != (unsigned char)lit[k]) return 0;
    }
    return 1;
}

static const unsigned char anchor[256] = {
    ['j'] = 'j', ['J'] = 'j', ['k'] = 'k', ['K'] = 'k', ['v'] = 'v', ['V'] = 'v',
    ['f'] = 'f', ['F'] = 'f', ['p'] = 'p', ['P'] = 'p',
};

static unsigned phrases(const char *s, size_t len)
{
    unsigned found = 0;
    const unsigned char *u = (const unsigned char *)s;
#define AT(back, lit) at_ci(s, len, i, back, lit, sizeof lit - 1)
    for (size_t i = 0; i < len; i++) {
        if (!anchor[u[i]]) continue;
        switch (anchor[u[i]]) {
        case 'j': if (AT(0, "javascript")) found |= PH_JS; break;
        case 'k':
            if (AT(3, "cookie policy") || AT(8, "uses cookies") || AT(10, "use of cookies") ||
                AT(7, "use cookies"))
                found |= PH_POLICY;
            break;
        case 'v': if (AT(3, "privacy policy")) found |= PH_POLICY; break;
        case 'f': if (AT(7, "terms of use")) found |= PH_POLICY; break;
        case 'p': if (AT(7, "lorem ipsum")) found |= PH_LOREM; break;
        default: break;
        }
    }
#undef AT
    return found;
}

int c4_quality_apply(clean_ctx *cx)
{
    const clean_config *c = &cx->cc->cfg;
    const char *s = sb_str(&cx->doc->text);
    size_t len = cx->doc->text.len;
    strbuf *out = &cx->tmp, *line = &cx->tmp2;
    sb_reset(out);
    uint64_t sentences = 0, dropped = 0;
    size_t pos = 0, lb, le;
    while ((pos = next_line(s, len, pos, &lb, &le)) <= len) {
        strip_span(s, &lb, &le);
        /* words (split()) and the longest one, in characters */
        uint64_t words = 0, longest = 0, cur = 0;
        int in_word = 0;
        for (size_t i = lb; i < le;) {
            unsigned ch = (unsigned char)s[i];
            int space;
            if (ch < 128) {
                space = clean_ascii_class[ch] & CC_SPACE;
                i++;
            } else {
                space = cp_is_space(u8_next(s, le, &i));
            }
            if (space) {
                if (in_word && cur > longest) longest = cur;
                in_word = 0;
                continue;
            }
            if (!in_word) { words++; in_word = 1; cur = 0; }
            cur++;
        }
        if (in_word && cur > longest) longest = cur;
        if (c->c4.max_word_length != -1 && longest > (uint64_t)c->c4.max_word_length) {
            dropped++;
            continue;
        }
        const char *l = s + lb;
        size_t ll = le - lb;
        if (c->c4.remove_citations && memchr(l, '[', ll)) {
            sb_reset(line);
            size_t i = 0, from = 0;
            while (i < ll) {
                if (l[i] == '[') {
                    size_t n = citation_len(l, i, ll);
                    if (n) {
                        sb_add(line, l + from, i - from);
                        i += n;
                        from = i;
                        continue;
                    }
                }
                i++;
            }
            sb_add(line, l + from, ll - from);
            l = line->buf;
            ll = line->len;
        }
        if (c->c4.terminal_punct) {
            char last = ll ? l[ll - 1] : 0;
            int ok = last == '.' || last == '?' || last == '!' || last == '"' || last == '\'';
            if (!ok || (ll >= 3 && memcmp(l + ll - 3, "...", 3) == 0)) {
                dropped++;
                continue;
            }
        }
        if ((int64_t)words < c->c4.min_words_per_line) {
            dropped++;
            continue;
        }
        unsigned ph = phrases(l, ll);
        if (c->c4.lorem_ipsum && (ph & PH_LOREM)) return CR_LOREM_IPSUM;
        if (c->c4.javascript && (ph & PH_JS)) {
            dropped++;
            continue;
        }
        if (c->c4.curly_bracket && memchr(l, '{', ll)) return CR_CURLY_BRACKET;
        if (c->c4.policy && (ph & PH_POLICY)) {
            dropped++;
            continue;
        }
        if (c->c4.min_num_sentences != -1) sentences += count_sentences(l, ll);
        if (out->len) sb_addc(out, '\n');
        sb_add(out, l, ll);
    }
    if (c->c4.min_num_sentences != -1 && (int64_t)sentences < c->c4.min_num_sentences)
        return CR_TOO_FEW_SENTENCES;
    /* the joined text is stripped once more (lines were already stripped,
     * but a line made only of a removed citation leaves an empty line) */
    size_t b = 0, e = out->len;
    strip_span(sb_str(out), &b, &e);
    if (b > 0 || e < out->len) {
        memmove(out->buf, out->buf + b, e - b);
        sb_setlen(out, e - b);
    }
    cx->doc->lines_dropped[CF_C4_QUALITY] += dropped;
    cx_set_text(cx, CF_C4_QUALITY, out);
    return CR_NONE;
}

/* ---- bad words: a byte trie over lower-cased entries ---- */
struct badwords_res {
    /* node i's children live in an open-addressing map keyed by (i << 8 | byte) */
    uint64_t *keys;
    uint32_t *child;
    size_t cap;
    unsigned char *terminal;   /* per node */
    size_t n_nodes, cap_nodes;
    char **no_boundary;        /* languages matched without word boundaries */
    size_t n_no_boundary;
};

static size_t bw_find(const badwords_res *b, uint64_t key)
{
    size_t mask = b->cap - 1, i = (size_t)mix64(key) & mask;
    while (b->keys[i] && b->keys[i] != key) i = (i + 1) & mask;
    return i;
}

static void lower_utf8(const char *s, size_t len, strbuf *out)
{
    sb_reset(out);
    sb_grow(out, len + 8);
    for (size_t i = 0; i < len;) {
        unsigned c = (unsigned char)s[i];
        if (c < 128) {
            sb_addc(out, (char)(c >= 'A' && c <= 'Z' ? c + 32 : c));
            i++;
            continue;
        }
        uint32_t cp = u8_next(s, len, &i);
        char enc[4];
        utf8proc_ssize_t n = utf8proc_encode_char(utf8proc_tolower((utf8proc_int32_t)cp),
                                                  (utf8proc_uint8_t *)enc);
        sb_add(out, enc, (size_t)n);
    }
}

int badwords_load(clean_cascade *cc, char *err, size_t errlen)
{
    const char *path = cc->cfg.bw.file;
    if (!path || !*path) {
        snprintf(err, errlen, "c4_badwords needs a word list: --set c4_badwords.file=PATH");
        return -1;
    }
    char **items;
    size_t n;
    if (read_list_file(path, &items, &n, 0, err, errlen)) return -1;
    badwords_res *b = calloc(1, sizeof *b);
    if (!b) abort();
    size_t total = 1;
    for (size_t i = 0; i < n; i++) total += strlen(items[i]) * 2 + 8;
    b->cap = 16;
    while (b->cap < total * 2) b->cap <<= 1;
    b->keys = calloc(b->cap, sizeof *b->keys);
    b->child = calloc(b->cap, sizeof *b->child);
    b->cap_nodes = total;
    b->terminal = calloc(total, 1);
    if (!b->keys || !b->child || !b->terminal) abort();
    b->n_nodes = 1;
    strbuf low = STRBUF_INIT;
    for (size_t i = 0; i < n; i++) {
        lower_utf8(items[i], strlen(items[i]), &low);
        if (!low.len) continue;
        uint32_t node = 0;
        for (size_t k = 0; k < low.len; k++) {
            uint64_t key = ((uint64_t)node << 8 | (unsigned char)low.buf[k]) + 1;
            size_t slot = bw_find(b, key);
            if (!b->keys[slot]) {
                b->keys[slot] = key;
                b->child[slot] = (uint32_t)b->n_nodes++;
            }
            node = b->child[slot];
        }
        b->terminal[node] = 1;
    }
    sb_free(&low);
    free_list(items, n);
    split_csv(cc->cfg.bw.no_boundary_langs, &b->no_boundary, &b->n_no_boundary);
    cc->badwords = b;
    return 0;
}

void badwords_free(badwords_res *b)
{
    if (!b) return;
    free(b->keys); free(b->child); free(b->terminal);
    free_list(b->no_boundary, b->n_no_boundary);
    free(b);
}

static int word_at(const char *s, size_t len, size_t i)
{
    if (i >= len) return 0;
    uint32_t cp = u8_next(s, len, &i);
    return cp_is_word(cp);
}

int c4_badwords_apply(clean_ctx *cx)
{
    const badwords_res *b = cx->cc->badwords;
    if (!b) return CR_NONE;
    const clean_doc *d = cx->doc;
    const char *lang = d->lang_set ? d->lang : (d->lang_in ? d->lang_in : cx->cc->cfg.bw.default_lang);
    int boundaries = 1;
    for (size_t k = 0; k < b->n_no_boundary; k++)
        if (lang && strcmp(lang, b->no_boundary[k]) == 0) boundaries = 0;
    lower_utf8(sb_str(&d->text), d->text.len, &cx->tmp);
    const char *s = cx->tmp.buf;
    size_t len = cx->tmp.len;
    int prev_word = 0;
    for (size_t i = 0; i < len;) {
        size_t start = i;
        unsigned c = (unsigned char)s[i];
        uint32_t cp = c < 128 ? (i++, c) : u8_next(s, len, &i);
        int here_word = cp_is_word(cp);
        if (boundaries && prev_word) {
            prev_word = here_word;
            continue;
        }
        prev_word = here_word;
        /* walk the trie from start */
        uint32_t node = 0;
        for (size_t k = start; k < len; k++) {
            uint64_t key = ((uint64_t)node << 8 | (unsigned char)s[k]) + 1;
            size_t slot = bw_find(b, key);
            if (!b->keys[slot]) break;
            node = b->child[slot];
            if (b->terminal[node] && (!boundaries || !word_at(s, len, k + 1))) return CR_BADWORDS;
        }
    }
    return CR_NONE;
}
