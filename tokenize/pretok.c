/* pretok.c - PCRE2 pre-tokeniser (see pretok.h for the why of each choice). */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "pretok.h"

#include <pcre2.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/strbuf.h"
#include "unicode_delta.h"

/* The patterns exactly as tiktoken ships them (npm tiktoken 1.0.22 and
 * tiktoken_ext/openai_public.py). */
const char QPRETOK_GPT2[] =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
const char QPRETOK_CL100K[] =
    "'(?i:[sdmt]|ll|ve|re)|[^\\r\\n\\p{L}\\p{N}]?+\\p{L}++|\\p{N}{1,3}+| ?[^\\s\\p{L}\\p{N}]++[\\r\\n]*+"
    "|\\s++$|\\s*[\\r\\n]|\\s+(?!\\S)|\\s";
const char QPRETOK_O200K[] =
    "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+"
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
    "|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*"
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
    "|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

const char *qpretok_builtin(const char *name)
{
    static const struct { const char *name, *pat; } tab[] = {
        { "gpt2", QPRETOK_GPT2 },         { "r50k_base", QPRETOK_GPT2 },
        { "p50k_base", QPRETOK_GPT2 },    { "p50k_edit", QPRETOK_GPT2 },
        { "r50k", QPRETOK_GPT2 },         { "p50k", QPRETOK_GPT2 },
        { "cl100k_base", QPRETOK_CL100K }, { "cl100k", QPRETOK_CL100K },
        { "o200k_base", QPRETOK_O200K },   { "o200k", QPRETOK_O200K },
    };
    if (!name) return NULL;
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (!strcmp(name, tab[i].name)) return tab[i].pat;
    return NULL;
}

/* Unicode White_Space, the set Rust's and Python's \s use. */
#define WS_CLASS_BODY "\\t-\\r \\x{85}\\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}" \
                      "\\x{202f}\\x{205f}\\x{3000}"

/* \p{X} for a category in unicode_delta.h: append the code points it gained
 * after Unicode 14. Returns the bytes of pat consumed, 0 if not such a \p. */
static size_t put_property(strbuf *out, const char *pat, int in_class)
{
    for (size_t i = 0; i < sizeof QUNI_DELTA / sizeof QUNI_DELTA[0]; i++) {
        char want[16];
        int n = snprintf(want, sizeof want, "\\p{%s}", QUNI_DELTA[i].prop);
        if (strncmp(pat, want, (size_t)n)) continue;
        if (!in_class) sb_addc(out, '[');
        sb_add(out, want, (size_t)n);
        sb_adds(out, QUNI_DELTA[i].items);
        if (!in_class) sb_addc(out, ']');
        return (size_t)n;
    }
    return 0;
}

char *qpretok_rewrite(const char *pat, int unicode_delta, char *err, size_t errlen)
{
    strbuf out = STRBUF_INIT;
    int in_class = 0;
    size_t n = strlen(pat);
    for (size_t i = 0; i < n; i++) {
        char c = pat[i];
        if (c == '\\' && i + 1 < n) {
            char e = pat[i + 1];
            if (e == 'Q') {            /* \Q...\E: literal text, copied as is */
                const char *end = strstr(pat + i + 2, "\\E");
                size_t stop = end ? (size_t)(end - pat) + 2 : n;
                sb_add(&out, pat + i, stop - i);
                i = stop - 1;
                continue;
            }
            size_t used;
            if (e == 'p' && unicode_delta && (used = put_property(&out, pat + i, in_class))) {
                i += used - 1;
                continue;
            }
            if (e == 's') {
                sb_adds(&out, in_class ? WS_CLASS_BODY : "[" WS_CLASS_BODY "]");
            } else if (e == 'S') {
                if (in_class) {
                    snprintf(err, errlen, "pattern: \\S inside a character class is not supported");
                    sb_free(&out);
                    return NULL;
                }
                sb_adds(&out, "[^" WS_CLASS_BODY "]");
            } else {
                sb_add(&out, pat + i, 2);
            }
            i++;
            continue;
        }
        if (!in_class && c == '[') {
            in_class = 1;
            sb_addc(&out, c);
            /* a ']' right after '[' or '[^' is a literal member */
            if (i + 1 < n && pat[i + 1] == '^') sb_addc(&out, pat[++i]);
            if (i + 1 < n && pat[i + 1] == ']') sb_addc(&out, pat[++i]);
            continue;
        }
        if (in_class && c == '[' && i + 1 < n && pat[i + 1] == ':') {   /* [:alpha:] */
            const char *end = strstr(pat + i + 2, ":]");
            if (end) {
                size_t stop = (size_t)(end - pat) + 2;
                sb_add(&out, pat + i, stop - i);
                i = stop - 1;
                continue;
            }
        }
        if (in_class && c == ']') in_class = 0;
        sb_addc(&out, c);
    }
    return sb_detach(&out, NULL);
}

int qpretok_unicode_major(void)
{
    char v[32] = "";
    if (pcre2_config(PCRE2_CONFIG_UNICODE_VERSION, v) < 0) return 0;
    return atoi(v);
}

/* Two compiled forms when the linked PCRE2 predates Unicode 16: `fast`
 * (plain \p{..}) and `wide` (\p{..} plus the code points of unicode_delta.h).
 * The wide classes are several times slower to match, and they differ from
 * the plain ones only on those code points, so a subject uses `wide` only if
 * it contains one (qpretok_prepare checks, in one pass). */
struct qpretok {
    char *pattern;
    pcre2_code *fast, *wide;   /* wide is NULL when PCRE2 already knows Unicode 16 */
    int fast_jit, wide_jit;
};

struct qpretok_scratch {
    pcre2_match_data *md;
    pcre2_jit_stack *stack;      /* larger than the 32 KiB default: long runs backtrack */
    pcre2_match_context *mctx;
    const char *subject;         /* the text qpretok_prepare looked at */
    size_t subject_len;
    int use_wide;
};

/* The union of the delta code points, as sorted ranges (built once). */
typedef struct { uint32_t lo, hi; } cprange;
static cprange *delta_ranges;
static size_t n_delta_ranges;
static pthread_once_t delta_once = PTHREAD_ONCE_INIT;

static int cmp_range(const void *a, const void *b)
{
    const cprange *x = a, *y = b;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static void build_delta_ranges(void)
{
    size_t cap = 256;
    delta_ranges = malloc(cap * sizeof *delta_ranges);
    for (size_t i = 0; i < sizeof QUNI_DELTA / sizeof QUNI_DELTA[0]; i++) {
        const char *q = QUNI_DELTA[i].items;
        while ((q = strstr(q, "\\x{"))) {   /* "\x{lo}" or "\x{lo}-\x{hi}" */
            char *e;
            uint32_t lo = (uint32_t)strtoul(q + 3, &e, 16), hi = lo;
            q = e + 1;
            if (!strncmp(q, "-\\x{", 4)) {
                hi = (uint32_t)strtoul(q + 4, &e, 16);
                q = e + 1;
            }
            if (n_delta_ranges == cap) delta_ranges = realloc(delta_ranges, (cap *= 2) * sizeof *delta_ranges);
            delta_ranges[n_delta_ranges++] = (cprange){ lo, hi };
        }
    }
    qsort(delta_ranges, n_delta_ranges, sizeof *delta_ranges, cmp_range);
}

static int in_delta(uint32_t cp)
{
    size_t lo = 0, hi = n_delta_ranges;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cp < delta_ranges[mid].lo) hi = mid;
        else if (cp > delta_ranges[mid].hi) lo = mid + 1;
        else return 1;
    }
    return 0;
}

/* Does valid UTF-8 text contain a code point of the delta? All of them are
 * >= U+1C89, i.e. 3- or 4-byte sequences with a lead byte >= 0xE1. */
static int text_has_delta(const char *text, size_t n)
{
    const unsigned char *s = (const unsigned char *)text;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < 0xE1) continue;
        uint32_t cp;
        size_t l;
        if (s[i] < 0xF0) {
            if (i + 2 >= n) break;
            cp = (uint32_t)(s[i] & 0x0F) << 12 | (uint32_t)(s[i + 1] & 0x3F) << 6 | (s[i + 2] & 0x3F);
            l = 3;
        } else {
            if (i + 3 >= n) break;
            cp = (uint32_t)(s[i] & 0x07) << 18 | (uint32_t)(s[i + 1] & 0x3F) << 12 |
                 (uint32_t)(s[i + 2] & 0x3F) << 6 | (s[i + 3] & 0x3F);
            l = 4;
        }
        if (cp >= 0x1C89 && in_delta(cp)) return 1;
        i += l - 1;
    }
    return 0;
}

static pcre2_code *compile(const char *pattern, int delta, char *err, size_t errlen)
{
    char *rew = qpretok_rewrite(pattern, delta, err, errlen);
    if (!rew) return NULL;
    int ec;
    PCRE2_SIZE eoff;
    pcre2_code *code = pcre2_compile((PCRE2_SPTR)rew, PCRE2_ZERO_TERMINATED,
                                     PCRE2_UTF | PCRE2_UCP | PCRE2_DOLLAR_ENDONLY, &ec, &eoff, NULL);
    free(rew);
    if (!code) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(ec, msg, sizeof msg);
        snprintf(err, errlen, "pattern: %s (near offset %zu of the rewritten pattern)", (char *)msg,
                 (size_t)eoff);
    }
    return code;
}

qpretok *qpretok_new(const char *pattern, char *err, size_t errlen)
{
    const char *b = qpretok_builtin(pattern);
    if (b) pattern = b;
    pcre2_code *fast = compile(pattern, 0, err, errlen), *wide = NULL;
    if (!fast) return NULL;
    if (qpretok_unicode_major() < 16) {
        wide = compile(pattern, 1, err, errlen);
        if (!wide) {
            pcre2_code_free(fast);
            return NULL;
        }
        pthread_once(&delta_once, build_delta_ranges);
    }
    qpretok *p = calloc(1, sizeof *p);
    if (!p) abort();
    p->pattern = strdup(pattern);
    p->fast = fast;
    p->wide = wide;
    p->fast_jit = pcre2_jit_compile(fast, PCRE2_JIT_COMPLETE) == 0;
    p->wide_jit = wide && pcre2_jit_compile(wide, PCRE2_JIT_COMPLETE) == 0;
    return p;
}

void qpretok_free(qpretok *p)
{
    if (!p) return;
    pcre2_code_free(p->fast);
    pcre2_code_free(p->wide);
    free(p->pattern);
    free(p);
}

const char *qpretok_pattern(const qpretok *p) { return p->pattern; }

qpretok_scratch *qpretok_scratch_new(void)
{
    qpretok_scratch *s = calloc(1, sizeof *s);
    s->md = pcre2_match_data_create(4, NULL);
    s->stack = pcre2_jit_stack_create(64 * 1024, 64 * 1024 * 1024, NULL);
    s->mctx = pcre2_match_context_create(NULL);
    pcre2_jit_stack_assign(s->mctx, NULL, s->stack);
    /* The default limits (10 million backtracking steps, 20 MB of heap for
     * the interpreter) stop e.g. \s*[\r\n] on a 10 MB run of spaces, where
     * the backtracking is long but linear: lift them. */
    pcre2_set_match_limit(s->mctx, UINT32_MAX);
    pcre2_set_depth_limit(s->mctx, UINT32_MAX);
    pcre2_set_heap_limit(s->mctx, 4u << 20);   /* KiB: 4 GiB */
    return s;
}

void qpretok_scratch_free(qpretok_scratch *s)
{
    if (!s) return;
    pcre2_match_data_free(s->md);
    pcre2_match_context_free(s->mctx);
    pcre2_jit_stack_free(s->stack);
    free(s);
}

void qpretok_prepare(const qpretok *p, qpretok_scratch *s, const char *text, size_t n)
{
    s->subject = text;
    s->subject_len = n;
    s->use_wide = p->wide && text_has_delta(text, n);
}

static size_t utf8_step(const char *s, size_t n, size_t pos)
{
    size_t i = pos + 1;
    while (i < n && ((unsigned char)s[i] & 0xC0) == 0x80) i++;
    return i;
}

int qpretok_next(const qpretok *p, qpretok_scratch *s, const char *text, size_t n, size_t pos,
                 size_t *start, size_t *end)
{
    if (s->subject != text || s->subject_len != n) qpretok_prepare(p, s, text, n);
    const pcre2_code *code = s->use_wide ? p->wide : p->fast;
    int jit = s->use_wide ? p->wide_jit : p->fast_jit;
    size_t from = pos;   /* text from here on not yet in a piece */
    while (pos < n) {
        int rc = jit ? pcre2_jit_match(code, (PCRE2_SPTR)text, n, pos, 0, s->md, s->mctx)
                     : PCRE2_ERROR_JIT_BADOPTION;
        if (rc < 0 && rc != PCRE2_ERROR_NOMATCH)   /* no JIT, or its stack ran out */
            rc = pcre2_match(code, (PCRE2_SPTR)text, n, pos, PCRE2_NO_UTF_CHECK, s->md, s->mctx);
        if (rc == PCRE2_ERROR_NOMATCH) break;
        if (rc < 0) return -1;
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(s->md);
        if (ov[1] > ov[0]) {
            *start = ov[0] > from ? from : ov[0];   /* a gap first, then (next call) the match */
            *end = ov[0] > from ? ov[0] : ov[1];
            return 1;
        }
        pos = utf8_step(text, n, ov[0]);   /* empty match: step one character */
    }
    if (from < n) {   /* trailing text no alternative matched */
        *start = from;
        *end = n;
        return 1;
    }
    return 0;
}
