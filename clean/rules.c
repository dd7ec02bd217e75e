/* rules.c - user rules: URL blocklists and PCRE2 regular expressions.
 *
 * url.domains     file, one domain per line: a document whose URL host is
 *                 that domain or any subdomain of it is dropped (url_domain).
 * url.substrings  file, one string per line: dropped when the lower-cased
 *                 URL contains one (url_substring).
 * url.regex       file, one PCRE2 pattern per line: dropped when the URL
 *                 matches one (url_regex).
 * text_regex.file file of rules "drop-doc PATTERN" or "drop-line PATTERN"
 *                 (a bare PATTERN means drop-doc): a match anywhere in the
 *                 text drops the document (text_regex); a line ("\n"-split)
 *                 matching a drop-line rule is removed.
 * In every file, blank lines and lines starting with "#" are ignored.
 * Patterns are compiled once with PCRE2_UTF (and JIT when available); match
 * data is per worker. Documents without a URL pass the URL rules. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "../common/utf8.h"
#include "clean_impl.h"

typedef struct rx_list {
    pcre2_code **code;
    size_t n;
} rx_list;

struct rules_res {
    /* domain set: open addressing over hashes, entries compared exactly */
    char **domains;
    size_t n_domains;
    uint64_t *dkeys;
    uint32_t *didx;
    size_t dcap;
    char **substrings;
    size_t n_substrings;
    rx_list url_rx, doc_rx, line_rx;
};

struct rules_scratch {
    pcre2_match_data *md;
    strbuf url;
};

static int compile_into(rx_list *l, const char *pat, const char *file, size_t line_no, char *err,
                        size_t errlen)
{
    int code;
    PCRE2_SIZE off;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &code,
                                   &off, NULL);
    if (!re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(code, msg, sizeof msg);
        snprintf(err, errlen, "%s:%zu: bad pattern at offset %zu: %s", file, line_no, (size_t)off,
                 (const char *)msg);
        return -1;
    }
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);   /* falls back to the interpreter if absent */
    pcre2_code **p = realloc(l->code, (l->n + 1) * sizeof *p);
    if (!p) abort();
    l->code = p;
    l->code[l->n++] = re;
    return 0;
}

static void rx_free(rx_list *l)
{
    for (size_t i = 0; i < l->n; i++) pcre2_code_free(l->code[i]);
    free(l->code);
}

static size_t domain_slot(const rules_res *r, uint64_t h)
{
    size_t mask = r->dcap - 1, i = (size_t)h & mask;
    while (r->dkeys[i] && r->dkeys[i] != h) i = (i + 1) & mask;
    return i;
}

static int domain_listed(const rules_res *r, const char *host, size_t n)
{
    uint64_t h = hash_bytes(host, n) | 1;
    size_t i = domain_slot(r, h);
    if (!r->dkeys[i]) return 0;
    const char *d = r->domains[r->didx[i]];
    return strlen(d) == n && memcmp(d, host, n) == 0;
}

int rules_load(clean_cascade *cc, char *err, size_t errlen)
{
    const clean_config *c = &cc->cfg;
    rules_res *r = calloc(1, sizeof *r);
    if (!r) abort();
    cc->rules = r;
    if (cc->cfg.enabled[CF_URL]) {
        if (c->url.domains && *c->url.domains) {
            if (read_list_file(c->url.domains, &r->domains, &r->n_domains, 1, err, errlen)) return -1;
            r->dcap = 16;
            while (r->dcap < r->n_domains * 2) r->dcap <<= 1;
            r->dkeys = calloc(r->dcap, sizeof *r->dkeys);
            r->didx = calloc(r->dcap, sizeof *r->didx);
            if (!r->dkeys || !r->didx) abort();
            for (size_t i = 0; i < r->n_domains; i++) {
                char *d = r->domains[i];
                size_t n = strlen(d);
                while (n && d[n - 1] == '.') d[--n] = 0;   /* "example.com." */
                uint64_t h = hash_bytes(d, n) | 1;
                size_t s = domain_slot(r, h);
                r->dkeys[s] = h;
                r->didx[s] = (uint32_t)i;
            }
        }
        if (c->url.substrings && *c->url.substrings &&
            read_list_file(c->url.substrings, &r->substrings, &r->n_substrings, 1, err, errlen))
            return -1;
        if (c->url.regex && *c->url.regex) {
            char **pats;
            size_t n;
            if (read_list_file(c->url.regex, &pats, &n, 0, err, errlen)) return -1;
            for (size_t i = 0; i < n; i++)
                if (compile_into(&r->url_rx, pats[i], c->url.regex, i + 1, err, errlen)) {
                    free_list(pats, n);
                    return -1;
                }
            free_list(pats, n);
        }
    }
    if (cc->cfg.enabled[CF_TEXT_REGEX]) {
        if (!c->text_regex.file || !*c->text_regex.file) {
            snprintf(err, errlen, "text_regex needs a rule file: --set text_regex.file=PATH");
            return -1;
        }
        char **rules;
        size_t n;
        if (read_list_file(c->text_regex.file, &rules, &n, 0, err, errlen)) return -1;
        for (size_t i = 0; i < n; i++) {
            const char *p = rules[i];
            rx_list *l = &r->doc_rx;
            if (!strncmp(p, "drop-line ", 10) || !strncmp(p, "drop-line\t", 10)) {
                l = &r->line_rx;
                p += 10;
            } else if (!strncmp(p, "drop-doc ", 9) || !strncmp(p, "drop-doc\t", 9)) {
                p += 9;
            }
            while (*p == ' ' || *p == '\t') p++;
            if (compile_into(l, p, c->text_regex.file, i + 1, err, errlen)) {
                free_list(rules, n);
                return -1;
            }
        }
        free_list(rules, n);
    }
    return 0;
}

void rules_free(rules_res *r)
{
    if (!r) return;
    free_list(r->domains, r->n_domains);
    free(r->dkeys);
    free(r->didx);
    free_list(r->substrings, r->n_substrings);
    rx_free(&r->url_rx);
    rx_free(&r->doc_rx);
    rx_free(&r->line_rx);
    free(r);
}

rules_scratch *rules_scratch_new(const clean_cascade *cc)
{
    (void)cc;
    rules_scratch *rs = calloc(1, sizeof *rs);
    if (!rs) abort();
    rs->md = pcre2_match_data_create(1, NULL);
    if (!rs->md) abort();
    return rs;
}

void rules_scratch_free(rules_scratch *rs)
{
    if (!rs) return;
    pcre2_match_data_free(rs->md);
    sb_free(&rs->url);
    free(rs);
}

static int rx_any(const rx_list *l, pcre2_match_data *md, const char *s, size_t n)
{
    for (size_t i = 0; i < l->n; i++) {
        int rc = pcre2_match(l->code[i], (PCRE2_SPTR)s, n, 0, PCRE2_NO_UTF_CHECK, md, NULL);
        if (rc >= 0) return 1;
    }
    return 0;
}

/* Host of a URL, lower-cased into out: after "scheme://", before the first
 * "/", "?", "#"; without "user@" and ":port". */
static void url_host(const char *u, size_t n, strbuf *out)
{
    sb_reset(out);
    const char *p = memmem(u, n, "://", 3);
    size_t b = p ? (size_t)(p - u) + 3 : 0, e = b;
    while (e < n && u[e] != '/' && u[e] != '?' && u[e] != '#') e++;
    const char *at = memrchr(u + b, '@', e - b);
    if (at) b = (size_t)(at - u) + 1;
    size_t colon = e;
    if (b < e && u[b] == '[') {    /* [IPv6] */
        const char *close = memchr(u + b, ']', e - b);
        colon = close ? (size_t)(close - u) + 1 : e;
    } else {
        const char *c = memchr(u + b, ':', e - b);
        if (c) colon = (size_t)(c - u);
    }
    for (size_t i = b; i < colon; i++) {
        char ch = u[i];
        sb_addc(out, (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch));
    }
    while (out->len && out->buf[out->len - 1] == '.') sb_setlen(out, out->len - 1);
}

int url_apply(clean_ctx *cx)
{
    const rules_res *r = cx->cc->rules;
    const clean_doc *d = cx->doc;
    if (!r || !d->url || !d->url_len) return CR_NONE;
    strbuf *h = &cx->rs->url;
    if (r->n_domains) {
        url_host(d->url, d->url_len, h);
        /* the host itself, then every parent domain */
        size_t i = 0;
        while (i < h->len) {
            if (domain_listed(r, h->buf + i, h->len - i)) return CR_URL_DOMAIN;
            const char *dot = memchr(h->buf + i, '.', h->len - i);
            if (!dot) break;
            i = (size_t)(dot - h->buf) + 1;
        }
    }
    if (r->n_substrings) {
        sb_reset(h);
        for (size_t i = 0; i < d->url_len; i++) {
            char ch = d->url[i];
            sb_addc(h, (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch));
        }
        for (size_t k = 0; k < r->n_substrings; k++)
            if (memmem(h->buf, h->len, r->substrings[k], strlen(r->substrings[k])))
                return CR_URL_SUBSTRING;
    }
    if (r->url_rx.n) {
        /* URLs come from metadata and may be any bytes: check UTF-8 first */
        if (!utf8_is_valid(d->url, d->url_len)) return CR_NONE;
        if (rx_any(&r->url_rx, cx->rs->md, d->url, d->url_len)) return CR_URL_REGEX;
    }
    return CR_NONE;
}

int text_regex_apply(clean_ctx *cx)
{
    const rules_res *r = cx->cc->rules;
    clean_doc *d = cx->doc;
    if (!r) return CR_NONE;
    const char *s = sb_str(&d->text);
    size_t len = d->text.len;
    if (rx_any(&r->doc_rx, cx->rs->md, s, len)) return CR_TEXT_REGEX;
    if (!r->line_rx.n) return CR_NONE;
    strbuf *out = &cx->tmp;
    sb_reset(out);
    uint64_t dropped = 0, kept = 0;
    size_t b = 0;
    for (;;) {
        const char *nl = memchr(s + b, '\n', len - b);
        size_t e = nl ? (size_t)(nl - s) : len;
        if (rx_any(&r->line_rx, cx->rs->md, s + b, e - b)) {
            dropped++;
        } else {
            if (kept++) sb_addc(out, '\n');
            sb_add(out, s + b, e - b);
        }
        if (!nl) break;
        b = e + 1;
    }
    if (dropped) {
        d->lines_dropped[CF_TEXT_REGEX] += dropped;
        cx_set_text(cx, CF_TEXT_REGEX, out);
    }
    return CR_NONE;
}
