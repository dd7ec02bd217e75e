/* text.c - the text analysis every quality filter shares: character
 * classes, word splitting (done once per text and cached in the worker),
 * Python-compatible line splitting and stripping, sentence counting, and the
 * small hash table used for duplicate lines, paragraphs and n-grams.
 *
 * Word splitting (pinned; ratios depend on it, see clean/README.md):
 *   1. The text is cut into chunks at whitespace (Python str.isspace()).
 *   2. In a chunk, the characters from the first to the last one that is not
 *      punctuation form one word token ("don't", "e-mail", "3.14", "U.S").
 *   3. Punctuation before and after that core becomes punctuation tokens, one
 *      per run of the same character ("...", "--", "(" and ")" separately).
 *      A chunk made only of punctuation gives only punctuation tokens.
 *   Punctuation = ASCII punctuation, control characters, and the Unicode
 *   categories P* (Pc Pd Ps Pe Pi Pf Po). A token is a "symbol word" when all
 *   its characters are punctuation, i.e. exactly the punctuation tokens.
 * Lengths are in code points, as Python's len(). */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>
#define XXH_INLINE_ALL   /* short tokens: inlining beats a library call */
#include <xxhash.h>

#include "clean_impl.h"

#include "unicode_tables.h"

/* ---- character classes ---- */
#define C_SPACE CC_SPACE
#define C_PUNCT CC_PUNCT
#define C_ALPHA CC_ALPHA
#define C_WORD CC_WORD
#define C_STERM CC_STERM
unsigned char clean_ascii_class[128];
#define ascii_class clean_ascii_class

__attribute__((constructor)) static void ascii_init(void)
{
    for (int c = 0; c < 128; c++) {
        unsigned char k = 0;
        if ((c >= 9 && c <= 13) || (c >= 0x1C && c <= 0x20)) k |= C_SPACE;
        else if (c < 0x20 || c == 0x7F) k |= C_PUNCT;   /* controls count as punctuation */
        else if ((c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') ||
                 (c >= '{' && c <= '~'))
            k |= C_PUNCT;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) k |= C_ALPHA | C_WORD;
        if ((c >= '0' && c <= '9') || c == '_') k |= C_WORD;
        if (c == '.' || c == '!' || c == '?') k |= C_STERM;
        ascii_class[c] = k;
    }
}
static inline unsigned aclass(unsigned c) { return ascii_class[c]; }

int cp_is_space(uint32_t cp)
{
    if (cp < 128) return (aclass(cp) & C_SPACE) != 0;
    return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
           cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

int cp_is_punct(uint32_t cp)
{
    if (cp < 128) return (aclass(cp) & C_PUNCT) != 0;
    if (cp < 0xA0) return 1;   /* C1 controls */
    switch (utf8proc_category((utf8proc_int32_t)cp)) {
    case UTF8PROC_CATEGORY_PC: case UTF8PROC_CATEGORY_PD: case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE: case UTF8PROC_CATEGORY_PI: case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO:
        return 1;
    default:
        return 0;
    }
}

int cp_is_alpha(uint32_t cp)
{
    if (cp < 128) return (aclass(cp) & C_ALPHA) != 0;
    utf8proc_category_t k = utf8proc_category((utf8proc_int32_t)cp);
    return k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_LO;
}

int cp_is_word(uint32_t cp)
{
    if (cp < 128) return (aclass(cp) & C_WORD) != 0;
    utf8proc_category_t k = utf8proc_category((utf8proc_int32_t)cp);
    return (k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_LO) ||
           (k >= UTF8PROC_CATEGORY_ND && k <= UTF8PROC_CATEGORY_NO);
}

static int in_ranges(const uint32_t (*r)[2], size_t n, uint32_t cp)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cp < r[mid][0]) hi = mid;
        else if (cp > r[mid][1]) lo = mid + 1;
        else return 1;
    }
    return 0;
}

int cp_is_sterm(uint32_t cp)
{
    if (cp < 128) return (aclass(cp) & C_STERM) != 0;
    return in_ranges(sterm_ranges, sizeof sterm_ranges / sizeof sterm_ranges[0], cp);
}

int cp_nfc_maybe(uint32_t cp)
{
    if (cp < 0x300) return 0;
    if (in_ranges(nfc_qc_ranges, sizeof nfc_qc_ranges / sizeof nfc_qc_ranges[0], cp)) return 1;
    return utf8proc_get_property((utf8proc_int32_t)cp)->combining_class != 0;
}

uint64_t u8_chars(const char *s, size_t len)
{
    /* count continuation bytes (10xxxxxx) eight at a time */
    uint64_t cont = 0;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t v;
        memcpy(&v, s + i, 8);
        uint64_t m = (v & ~(v << 1) & 0x8080808080808080ULL) >> 7;   /* 1 per continuation byte */
        cont += (m * 0x0101010101010101ULL) >> 56;                       /* sum of the 8 bytes */
    }
    for (; i < len; i++) cont += ((unsigned char)s[i] & 0xC0) == 0x80;
    return len - cont;
}

/* ---- hashing ---- */
uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

uint64_t hash_bytes(const char *s, size_t n) { return XXH3_64bits(s, n); }

/* ---- hash table ---- */
void htab_prepare(htab *t, size_t items)
{
    size_t want = 16;
    while (want < items * 2) want <<= 1;
    if (want > t->cap) {
        free(t->e);
        free(t->b);
        t->e = calloc(want, sizeof *t->e);
        t->b = malloc(want * sizeof *t->b);
        if (!t->e || !t->b) abort();
        t->cap = want;
        t->cur = 0;
        t->shift = 64 - (unsigned)__builtin_ctzll(want);
    }
    if (++t->cur == 0) {   /* generation wrapped: clear for real */
        memset(t->e, 0, t->cap * sizeof *t->e);
        t->cur = 1;
    }
}

size_t htab_slot(htab *t, uint64_t key, int *found)
{
    /* keys are already hashes: Fibonacci hashing spreads them enough */
    size_t mask = t->cap - 1, i = (size_t)((key * 0x9E3779B97F4A7C15ULL) >> t->shift);
    for (;;) {
        htab_entry *e = &t->e[i];
        if (e->gen != t->cur) {
            e->gen = t->cur;
            e->key = key;
            *found = 0;
            return i;
        }
        if (e->key == key) {
            *found = 1;
            return i;
        }
        i = (i + 1) & mask;
    }
}

void htab_free(htab *t)
{
    free(t->e);
    free(t->b);
    memset(t, 0, sizeof *t);
}

/* ---- words ---- */
static void words_grow(cx_words *w)
{
    size_t cap = w->cap ? w->cap * 2 : 1024;
#define GROW(f) do { void *p = realloc(w->f, (cap + 1) * sizeof *w->f); if (!p) abort(); w->f = p; } while (0)
    GROW(off); GROW(blen); GROW(cum); GROW(h); GROW(flags);
#undef GROW
    w->cap = cap;
}

void cx_words_free(cx_words *w)
{
    free(w->off); free(w->blen); free(w->cum); free(w->h); free(w->flags);
    memset(w, 0, sizeof *w);
}

static inline void push_token(cx_words *w, const char *s, size_t b, size_t e, uint32_t chars,
                              unsigned flags)
{
    if (w->n == w->cap) words_grow(w);
    size_t i = w->n++;
    w->off[i] = (uint32_t)b;
    w->blen[i] = (uint32_t)(e - b);
    w->h[i] = XXH3_64bits(s + b, e - b);
    w->flags[i] = (uint8_t)flags;
    w->cum[i + 1] = w->cum[i] + chars;
}

/* Punctuation tokens in [b, e): one per run of the same code point. */
static void push_punct_runs(cx_words *w, const char *s, size_t b, size_t e)
{
    size_t i = b;
    while (i < e) {
        size_t rb = i;
        u8_next(s, e, &i);
        uint32_t chars = 1;
        size_t cl = i - rb;
        while (i + cl <= e && memcmp(s + i, s + rb, cl) == 0) {
            i += cl;
            chars++;
        }
        push_token(w, s, rb, i, chars, WF_SYMBOL);
    }
}

static void tokenize(const clean_cascade *cc, const char *s, size_t len, cx_words *w)
{
    w->n = 0;
    w->n_nonsym = w->nonsym_chars = w->n_alpha = 0;
    w->stop_mask = 0;
    if (w->cap == 0) words_grow(w);
    w->cum[0] = 0;
    size_t i = 0;
    while (i < len) {
        /* skip whitespace */
        unsigned c = (unsigned char)s[i];
        if (c < 128) {
            if (ascii_class[c] & C_SPACE) { i++; continue; }
        } else {
            size_t j = i;
            uint32_t cp = u8_next(s, len, &j);
            if (cp_is_space(cp)) { i = j; continue; }
        }
        /* one chunk [cb, ce): leading punctuation, a core, trailing punctuation */
        size_t cb = i, core_b = (size_t)-1, core_e = 0;
        uint32_t chars = 0, core_chars = 0;
        unsigned seen = 0, core_seen = 0;
        /* fast path: an ASCII chunk */
        size_t j = i;
        unsigned all = 0;
        while (j < len) {
            unsigned ch = (unsigned char)s[j];
            if (ch >= 128) break;
            unsigned k = ascii_class[ch];
            if (k & C_SPACE) break;
            all |= k;
            j++;
        }
        if (j == len || ((unsigned char)s[j] < 128)) {
            size_t b = i, e = j;
            while (b < e && (ascii_class[(unsigned char)s[b]] & C_PUNCT)) b++;
            if (b < e) {
                while (ascii_class[(unsigned char)s[e - 1]] & C_PUNCT) e--;
                core_b = b;
                core_e = e;
                core_chars = (uint32_t)(e - b);
                core_seen = all;   /* letters can only sit in the core */
            }
            i = j;
        }
        else while (i < len) {
            /* general path: a chunk with non-ASCII characters */
            size_t start = i;
            c = (unsigned char)s[i];
            unsigned k;
            if (c < 128) {
                k = ascii_class[c];
                if (k & C_SPACE) break;
                i++;
            } else {
                uint32_t cp = u8_next(s, len, &i);
                if (cp_is_space(cp)) { i = start; break; }
                k = cp_is_punct(cp) ? C_PUNCT : (cp_is_alpha(cp) ? C_ALPHA : 0);
            }
            if (core_b == (size_t)-1) {
                if (k & C_PUNCT) continue;
                core_b = start;
            }
            chars++;
            seen |= k;
            if (!(k & C_PUNCT)) {
                core_e = i;
                core_chars = chars;
                core_seen = seen;
            }
        }
        size_t ce = i;
        if (core_b == (size_t)-1) {
            push_punct_runs(w, s, cb, ce);
            continue;
        }
        if (cb < core_b) push_punct_runs(w, s, cb, core_b);
        int alpha = (core_seen & C_ALPHA) != 0;
        push_token(w, s, core_b, core_e, core_chars, alpha ? WF_ALPHA : 0);
        w->n_nonsym++;
        w->nonsym_chars += core_chars;
        if (alpha) w->n_alpha++;
        size_t tl = core_e - core_b;
        if (tl <= cc->stop_max_len && cc->stop_first[(unsigned char)s[core_b]])
            for (size_t k = 0; k < cc->n_stop_words; k++)
                if (cc->stop_len[k] == tl && memcmp(cc->stop_words[k], s + core_b, tl) == 0)
                    w->stop_mask |= 1ULL << k;
        if (core_e < ce) push_punct_runs(w, s, core_e, ce);
    }
}

uint64_t count_words(const char *s, size_t len)
{
    uint64_t n = 0;
    size_t i = 0;
    while (i < len) {
        size_t start = i;
        unsigned c = (unsigned char)s[i];
        uint32_t cp = c < 128 ? (i++, c) : u8_next(s, len, &i);
        if (cp_is_space(cp)) continue;
        /* chunk */
        size_t cb = start, core_b = (size_t)-1, core_e = 0;
        i = start;
        while (i < len) {
            size_t st = i;
            c = (unsigned char)s[i];
            cp = c < 128 ? (i++, c) : u8_next(s, len, &i);
            if (cp_is_space(cp)) { i = st; break; }
            if (!cp_is_punct(cp)) {
                if (core_b == (size_t)-1) core_b = st;
                core_e = i;
            }
        }
        size_t ce = i;
        /* punctuation runs are counted like push_punct_runs */
        size_t spans[2][2] = { { cb, core_b == (size_t)-1 ? ce : core_b }, { core_e, ce } };
        for (int k = 0; k < (core_b == (size_t)-1 ? 1 : 2); k++) {
            size_t p = spans[k][0], e = spans[k][1];
            while (p < e) {
                size_t rb = p;
                u8_next(s, e, &p);
                size_t cl = p - rb;
                while (p + cl <= e && memcmp(s + p, s + rb, cl) == 0) p += cl;
                n++;
            }
        }
        if (core_b != (size_t)-1) n++;
    }
    return n;
}

const cx_words *cx_words_get(clean_ctx *cx)
{
    if (!cx->have_words) {
        tokenize(cx->cc, cx->doc->text.buf ? cx->doc->text.buf : "", cx->doc->text.len, &cx->w);
        cx->have_words = 1;
    }
    return &cx->w;
}

uint64_t cx_nchars(clean_ctx *cx)
{
    if (!cx->have_chars) {
        cx->nchars = u8_chars(sb_str(&cx->doc->text), cx->doc->text.len);
        cx->have_chars = 1;
    }
    return cx->nchars;
}

void cx_text_changed(clean_ctx *cx)
{
    cx->have_chars = 0;
    cx->have_words = 0;
}

void cx_set_text(clean_ctx *cx, int filter, strbuf *newtext)
{
    strbuf *t = &cx->doc->text;
    if (newtext->len == t->len && (t->len == 0 || memcmp(newtext->buf, t->buf, t->len) == 0))
        return;
    strbuf old = *t;
    *t = *newtext;
    *newtext = old;   /* the caller's scratch takes the old buffer */
    sb_reset(newtext);
    cx->doc->rewritten |= 1u << filter;
    cx_text_changed(cx);
}

/* ---- lines, stripping ---- */
/* bytes that may start a line break: \n \v \f \r 1C-1E, C2 (U+0085), E2 (U+2028/9) */
static const unsigned char break_lead[256] = {
    ['\n'] = 1, [0x0B] = 1, [0x0C] = 1, ['\r'] = 1, [0x1C] = 1, [0x1D] = 1, [0x1E] = 1,
    [0xC2] = 1, [0xE2] = 1,
};

size_t next_line(const char *s, size_t len, size_t pos, size_t *b, size_t *e)
{
    if (pos >= len) return len + 1;
    *b = pos;
    size_t i = pos;
    const unsigned char *u = (const unsigned char *)s;
    for (;;) {
        while (i < len && !break_lead[u[i]]) i++;
        if (i >= len) break;
        unsigned c = u[i];
        if (c == '\r') {
            *e = i;
            return (i + 1 < len && s[i + 1] == '\n') ? i + 2 : i + 1;
        }
        if (c < 0x20) {
            *e = i;
            return i + 1;
        }
        if (c == 0xC2 && i + 1 < len && u[i + 1] == 0x85) {
            *e = i;
            return i + 2;
        }
        if (c == 0xE2 && i + 2 < len && u[i + 1] == 0x80 && (u[i + 2] == 0xA8 || u[i + 2] == 0xA9)) {
            *e = i;
            return i + 3;
        }
        i++;
    }
    *e = len;
    return len;
}

size_t lstrip_pos(const char *s, size_t b, size_t e)
{
    while (b < e) {
        unsigned c = (unsigned char)s[b];
        if (c < 128) {
            if (!(aclass(c) & C_SPACE)) break;
            b++;
        } else {
            size_t j = b;
            if (!cp_is_space(u8_next(s, e, &j))) break;
            b = j;
        }
    }
    return b;
}

size_t rstrip_pos(const char *s, size_t b, size_t e)
{
    while (e > b) {
        unsigned c = (unsigned char)s[e - 1];
        if (c < 128) {
            if (!(aclass(c) & C_SPACE)) break;
            e--;
        } else {
            size_t p = u8_prev(s, e);
            if (p < b) break;
            size_t j = p;
            if (!cp_is_space(u8_next(s, e, &j))) break;
            e = p;
        }
    }
    return e;
}

void strip_span(const char *s, size_t *b, size_t *e)
{
    *b = lstrip_pos(s, *b, *e);
    *e = rstrip_pos(s, *b, *e);
}

/* ---- sentences ----
 * Pinned rule (clean/README.md): a line holds one sentence plus one more for
 * every sentence end inside it. A sentence end is a run of Sentence_Terminal
 * characters, optionally followed by closing quotes or brackets, then
 * whitespace, then more text. Not an end: a single "." after a one-letter
 * token ("J. Smith"), after a token with an inner "." ("e.g."), or after a
 * listed abbreviation. CJK full stops (U+3002, U+FF01, U+FF1F, U+FF61) end a
 * sentence without needing whitespace. */
static const char *const abbrevs[] = {
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "etc", "inc", "ltd", "co",
    "no", "fig", "vol", "pp", "ed", "approx", "dept", "est", "gen", "gov", "jan", "feb",
    "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "mt", "corp",
};

static int is_abbrev(const char *s, size_t b, size_t e)
{
    /* [b, e) is the token before the '.' */
    size_t n = e - b;
    if (n == 0) return 0;
    if (n == 1 && (aclass((unsigned char)s[b]) & C_ALPHA)) return 1;
    if (memchr(s + b, '.', n)) return 1;
    if (n > 6) return 0;
    char low[8];
    for (size_t i = 0; i < n; i++) {
        unsigned c = (unsigned char)s[b + i];
        if (c >= 128) return 0;
        low[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    for (size_t k = 0; k < sizeof abbrevs / sizeof abbrevs[0]; k++)
        if (strlen(abbrevs[k]) == n && memcmp(abbrevs[k], low, n) == 0) return 1;
    return 0;
}

static int is_closer(uint32_t cp)
{
    return cp == '"' || cp == '\'' || cp == ')' || cp == ']' || cp == 0x201D || cp == 0x2019 ||
           cp == 0xBB || cp == 0x300D || cp == 0x300F || cp == 0xFF09;
}

size_t count_sentences(const char *s, size_t len)
{
    size_t b = 0, e = len;
    strip_span(s, &b, &e);
    if (b == e) return 0;
    size_t n = 1, i = b, tok_b = b;
    while (i < e) {
        unsigned c = (unsigned char)s[i];
        if (c < 128 && !(ascii_class[c] & (C_SPACE | C_STERM))) {
            i++;
            continue;
        }
        size_t st = i;
        uint32_t cp = c < 128 ? (i++, c) : u8_next(s, e, &i);
        if (c < 128 && (aclass(c) & C_SPACE)) { tok_b = i; continue; }
        if (c >= 128 && cp_is_space(cp)) { tok_b = i; continue; }
        if (!cp_is_sterm(cp)) continue;
        int cjk = cp == 0x3002 || cp == 0xFF01 || cp == 0xFF1F || cp == 0xFF61;
        size_t run_b = st, run_chars = 1;
        /* the rest of the terminal run */
        size_t j = i;
        while (j < e) {
            size_t q = j;
            uint32_t c2 = u8_next(s, e, &q);
            if (!cp_is_sterm(c2)) break;
            if (c2 == 0x3002 || c2 == 0xFF01 || c2 == 0xFF1F || c2 == 0xFF61) cjk = 1;
            j = q;
            run_chars++;
        }
        size_t k = j;
        while (k < e) {
            size_t q = k;
            if (!is_closer(u8_next(s, e, &q))) break;
            k = q;
        }
        i = k;
        if (k >= e) break;   /* the line's end: already counted */
        size_t q = k;
        uint32_t after = u8_next(s, e, &q);
        if (!cp_is_space(after) && !cjk) continue;
        if (cp == '.' && run_chars == 1 && !cjk && is_abbrev(s, tok_b, run_b)) continue;
        n++;
    }
    return n;
}

/* ---- substring helpers ---- */
uint64_t count_sub(const char *s, size_t len, const char *needle, size_t nlen)
{
    uint64_t n = 0;
    size_t i = 0;
    while (i + nlen <= len) {
        const char *p = memmem(s + i, len - i, needle, nlen);
        if (!p) break;
        n++;
        i = (size_t)(p - s) + nlen;
    }
    return n;
}
