/* doc.c - the document record: parse one JSONL line, edit, serialize.
 * (The streaming reader and writer over many files are in doc_stream.c.)
 *
 * Parsing is one validating pass over the line that records every top-level
 * member as spans into the copied line; only the text and the id are
 * unescaped. Strings are scanned eight bytes at a time for the three byte
 * classes that end a run ('"', '\\', controls), so long texts cost little
 * more than a memchr. Invalid UTF-8 can only legally sit inside strings, so
 * it is repaired over the whole line before parsing, which keeps raw member
 * values valid for pass-through. */
#include "doc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "json.h"
#include "utf8.h"

#define MAX_DEPTH 256

/* Where and why a line failed to parse. */
typedef struct perr {
    const char *why, *at;
} perr;
#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/* ------------------------------------------------------------ scanning */

static inline uint64_t special8(uint64_t w)
{
    uint64_t q = w ^ (ONES * '"'), b = w ^ (ONES * '\\');
    uint64_t hq = (q - ONES) & ~q, hb = (b - ONES) & ~b;
    uint64_t lt = (w - ONES * 0x20) & ~w;
    return (hq | hb | lt) & HIGHS;
}

static inline int is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static inline const char *skip_ws(const char *p, const char *end)
{
    while (p < end && is_ws(*p)) p++;
    return p;
}

static inline int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* p just after the opening quote. Returns the closing quote, or NULL with
 * *err set. *esc is set if the string holds any backslash escape. */
/* Advance p to the first '"', '\\' or control byte (or to end). */
static inline const char *skip_plain(const char *p, const char *end)
{
#ifdef __SSE2__
    const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'), ctl = _mm_set1_epi8(0x1f);
    while (end - p >= 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)p);
        __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, bslash)),
                                   _mm_cmpeq_epi8(_mm_max_epu8(x, ctl), ctl));   /* x <= 0x1f */
        unsigned m = (unsigned)_mm_movemask_epi8(hit);
        if (m) return p + __builtin_ctz(m);
        p += 16;
    }
#endif
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    while (end - p >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        /* The lowest flagged byte of the has-zero trick is exact. */
        uint64_t m = special8(w);
        if (m) return p + (__builtin_ctzll(m) >> 3);
        p += 8;
    }
#endif
    while (p < end && *p != '"' && *p != '\\' && (unsigned char)*p >= 0x20) p++;
    return p;
}

static const char *scan_string(const char *p, const char *end, int *esc, perr *err)
{
    for (;;) {
        p = skip_plain(p, end);
        if (p >= end) break;
        unsigned char c = (unsigned char)*p;
        if (c == '"') return p;
        if (c == '\\') {
            *esc = 1;
            if (end - p < 2) break;
            char e = p[1];
            if (e == 'u') {
                if (end - p < 6 || hexval(p[2]) < 0 || hexval(p[3]) < 0 || hexval(p[4]) < 0 ||
                    hexval(p[5]) < 0) {
                    err->why = "bad \\u escape in string", err->at = p;
                    return NULL;
                }
                p += 6;
            } else if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' ||
                       e == 'r' || e == 't') {
                p += 2;
            } else {
                err->why = "bad escape in string", err->at = p;
                return NULL;
            }
            continue;
        }
        if (c < 0x20) {
            err->why = "unescaped control character in string", err->at = p;
            return NULL;
        }
        p++;
    }
    err->why = "unterminated string", err->at = p;
    return NULL;
}

static const char *skip_number(const char *p, const char *end, perr *err)
{
    if (p < end && *p == '-') p++;
    if (p >= end || *p < '0' || *p > '9') goto bad;
    if (*p == '0') p++;
    else
        while (p < end && *p >= '0' && *p <= '9') p++;
    if (p < end && *p == '.') {
        p++;
        if (p >= end || *p < '0' || *p > '9') goto bad;
        while (p < end && *p >= '0' && *p <= '9') p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-')) p++;
        if (p >= end || *p < '0' || *p > '9') goto bad;
        while (p < end && *p >= '0' && *p <= '9') p++;
    }
    return p;
bad:
    err->why = "bad number", err->at = p;
    return NULL;
}

/* Validates one JSON value at p (no leading whitespace); returns its end. */
static const char *skip_value(const char *p, const char *end, int depth, perr *err)
{
    if (p >= end) {
        err->why = "unexpected end of line", err->at = p;
        return NULL;
    }
    if (depth > MAX_DEPTH) {
        err->why = "nesting too deep", err->at = p;
        return NULL;
    }
    int esc;
    switch (*p) {
    case '"': {
        const char *q = scan_string(p + 1, end, &esc, err);
        return q ? q + 1 : NULL;
    }
    case '{':
    case '[': {
        int obj = *p == '{';
        char close = obj ? '}' : ']';
        p = skip_ws(p + 1, end);
        if (p < end && *p == close) return p + 1;
        for (;;) {
            if (obj) {
                if (p >= end || *p != '"') {
                    err->why = "expected a member name", err->at = p;
                    return NULL;
                }
                p = scan_string(p + 1, end, &esc, err);
                if (!p) return NULL;
                p = skip_ws(p + 1, end);
                if (p >= end || *p != ':') {
                    err->why = "expected ':'", err->at = p;
                    return NULL;
                }
                p = skip_ws(p + 1, end);
            }
            p = skip_value(p, end, depth + 1, err);
            if (!p) return NULL;
            p = skip_ws(p, end);
            if (p < end && *p == ',') {
                p = skip_ws(p + 1, end);
                continue;
            }
            if (p < end && *p == close) return p + 1;
            err->why = obj ? "expected ',' or '}'" : "expected ',' or ']'";
            err->at = p;
            return NULL;
        }
    }
    case 't':
        if (end - p >= 4 && !memcmp(p, "true", 4)) return p + 4;
        break;
    case 'f':
        if (end - p >= 5 && !memcmp(p, "false", 5)) return p + 5;
        break;
    case 'n':
        if (end - p >= 4 && !memcmp(p, "null", 4)) return p + 4;
        break;
    default:
        if (*p == '-' || (*p >= '0' && *p <= '9')) return skip_number(p, end, err);
    }
    err->why = "invalid JSON value", err->at = p;
    return NULL;
}

/* Unescape the raw contents of a valid JSON string (between the quotes).
 * Lone surrogates become U+FFFD; returns how many. */
static size_t unescape(strbuf *out, const char *s, size_t len)
{
    size_t lone = 0;
    const char *p = s, *end = s + len;
    sb_grow(out, len);
    for (;;) {
        const char *bs = memchr(p, '\\', (size_t)(end - p));
        if (!bs) {
            sb_add(out, p, (size_t)(end - p));
            return lone;
        }
        sb_add(out, p, (size_t)(bs - p));
        if (end - bs < 2 || (bs[1] == 'u' && (end - bs < 6 || hexval(bs[2]) < 0 || hexval(bs[3]) < 0 ||
                                             hexval(bs[4]) < 0 || hexval(bs[5]) < 0))) {
            /* Only reachable with unvalidated JSON (qdoc_meta_set_json): keep as is. */
            sb_addc(out, '\\');
            p = bs + 1;
            continue;
        }
        char e = bs[1];
        p = bs + 2;
        char c;
        switch (e) {
        case 'b': c = '\b'; break;
        case 'f': c = '\f'; break;
        case 'n': c = '\n'; break;
        case 'r': c = '\r'; break;
        case 't': c = '\t'; break;
        case 'u': {
            uint32_t cp = (uint32_t)(hexval(p[0]) << 12 | hexval(p[1]) << 8 | hexval(p[2]) << 4 | hexval(p[3]));
            p += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF && end - p >= 6 && p[0] == '\\' && p[1] == 'u' &&
                hexval(p[2]) >= 0 && hexval(p[3]) >= 0 && hexval(p[4]) >= 0 && hexval(p[5]) >= 0) {
                uint32_t lo = (uint32_t)(hexval(p[2]) << 12 | hexval(p[3]) << 8 | hexval(p[4]) << 4 | hexval(p[5]));
                if (lo >= 0xDC00 && lo <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    p += 6;
                }
            }
            if (cp >= 0xD800 && cp <= 0xDFFF) {
                cp = 0xFFFD;
                lone++;
            }
            char u[4];
            sb_add(out, u, utf8_encode(cp, u));
            continue;
        }
        default: c = e; break;   /* " \ / */
        }
        sb_addc(out, c);
    }
}

/* Does the raw (escaped) key span equal the plain string key? */
static int key_equals(const char *raw, size_t raw_len, const char *key, size_t key_len)
{
    if (!memchr(raw, '\\', raw_len)) return raw_len == key_len && !memcmp(raw, key, key_len);
    strbuf tmp = STRBUF_INIT;
    unescape(&tmp, raw, raw_len);
    int eq = tmp.len == key_len && !memcmp(tmp.buf, key, key_len);
    sb_free(&tmp);
    return eq;
}

/* Iterate members of a valid JSON object text [p, end). */
typedef struct objiter {
    const char *p, *end;
} objiter;

static int objiter_start(objiter *it, const char *v, size_t len)
{
    it->end = v + len;
    it->p = skip_ws(v, it->end);
    if (it->p >= it->end || *it->p != '{') return -1;
    it->p = skip_ws(it->p + 1, it->end);
    return 0;
}

static int objiter_next(objiter *it, const char **k, size_t *kl, const char **v, size_t *vl)
{
    perr err;
    int esc;
    if (it->p >= it->end || *it->p != '"') return 0;
    const char *kq = scan_string(it->p + 1, it->end, &esc, &err);
    if (!kq) return 0;
    *k = it->p + 1;
    *kl = (size_t)(kq - *k);
    const char *q = skip_ws(kq + 1, it->end);
    q = skip_ws(q + 1, it->end);   /* past ':' */
    const char *ve = skip_value(q, it->end, 1, &err);
    if (!ve) return 0;
    *v = q;
    *vl = (size_t)(ve - q);
    q = skip_ws(ve, it->end);
    if (q < it->end && *q == ',') q = skip_ws(q + 1, it->end);
    it->p = q;
    return 1;
}

/* ------------------------------------------------------------ record */

void qdoc_init(qdoc *d)
{
    memset(d, 0, sizeof *d);
    d->text_member = d->meta_member = -1;
}

void qdoc_free(qdoc *d)
{
    sb_free(&d->raw);
    sb_free(&d->text);
    sb_free(&d->id);
    free(d->members);
    for (size_t i = 0; i < d->cap_edits; i++) {
        sb_free(&d->edits[i].key);
        sb_free(&d->edits[i].json);
    }
    free(d->edits);
    qdoc_init(d);
}

void qdoc_clear(qdoc *d)
{
    sb_reset(&d->raw);
    sb_reset(&d->text);
    sb_reset(&d->id);
    d->n_members = 0;
    d->n_edits = 0;
    d->text_changed = 0;
    d->text_reencode = 0;
    d->repairs = 0;
    d->line_no = 0;
    d->input_name = NULL;
    d->text_member = d->meta_member = -1;
}

static void add_member(qdoc *d, size_t ko, size_t kl, size_t vo, size_t vl)
{
    if (d->n_members == d->cap_members) {
        d->cap_members = d->cap_members ? d->cap_members * 2 : 16;
        d->members = realloc(d->members, d->cap_members * sizeof *d->members);
        if (!d->members) abort();
    }
    d->members[d->n_members++] = (qdoc_member){ ko, kl, vo, vl };
}

int qdoc_parse(qdoc *d, const char *line, size_t len, const char *text_field, char *err, size_t errlen)
{
    const char *tf = text_field ? text_field : "text";
    size_t tfl = strlen(tf);
    void *user = d->user;
    uint64_t line_no = d->line_no;
    const char *input_name = d->input_name;
    qdoc_clear(d);
    d->user = user;
    d->line_no = line_no;
    d->input_name = input_name;

    size_t good = utf8_valid_prefix(line, len);
    sb_grow(&d->raw, len);
    sb_add(&d->raw, line, good);
    if (good < len) d->repairs += utf8_repair(&d->raw, line + good, len - good);

    const char *base = d->raw.buf ? d->raw.buf : "", *end = base + d->raw.len;
    const char *p = skip_ws(base, end);
    perr pe = { NULL, NULL };
    int esc;
    if (p >= end || *p != '{') {
        pe.why = "not a JSON object", pe.at = p;
        goto bad;
    }
    p = skip_ws(p + 1, end);
    if (p < end && *p == '}') {
        p++;
    } else {
        for (;;) {
            if (p >= end || *p != '"') {
                pe.why = "expected a member name", pe.at = p;
                goto bad;
            }
            esc = 0;
            const char *kq = scan_string(p + 1, end, &esc, &pe);
            if (!kq) goto bad;
            size_t ko = (size_t)(p + 1 - base), kl = (size_t)(kq - p - 1);
            p = skip_ws(kq + 1, end);
            if (p >= end || *p != ':') {
                pe.why = "expected ':'", pe.at = p;
                goto bad;
            }
            p = skip_ws(p + 1, end);
            const char *ve = skip_value(p, end, 1, &pe);
            if (!ve) goto bad;
            long idx = (long)d->n_members;
            add_member(d, ko, kl, (size_t)(p - base), (size_t)(ve - p));
            if (d->text_member < 0 && key_equals(base + ko, kl, tf, tfl)) d->text_member = idx;
            else if (d->meta_member < 0 && key_equals(base + ko, kl, "metadata", 8)) d->meta_member = idx;
            if (!d->id.len && key_equals(base + ko, kl, "id", 2)) {
                if (*p == '"') unescape(&d->id, p + 1, (size_t)(ve - p - 2));
                else if (*p != 'n') sb_add(&d->id, p, (size_t)(ve - p));   /* numeric ids */
            }
            p = skip_ws(ve, end);
            if (p < end && *p == ',') {
                p = skip_ws(p + 1, end);
                continue;
            }
            if (p < end && *p == '}') {
                p++;
                break;
            }
            pe.why = "expected ',' or '}'", pe.at = p;
            goto bad;
        }
    }
    if (skip_ws(p, end) != end) {
        pe.why = "unexpected data after the JSON object", pe.at = p;
        goto bad;
    }
    if (d->text_member < 0) {
        snprintf(err, errlen, "no \"%s\" field", tf);
        return -1;
    }
    const qdoc_member *tm = &d->members[d->text_member];
    const char *tv = base + tm->val_off;
    if (*tv != '"') {
        snprintf(err, errlen, "\"%s\" is %s, not a string", tf,
                 *tv == 'n' ? "null" : *tv == '{' ? "an object" : *tv == '[' ? "an array"
                 : (*tv == 't' || *tv == 'f') ? "a boolean" : "a number");
        return -1;
    }
    size_t lone = unescape(&d->text, tv + 1, tm->val_len - 2);
    if (lone) {
        d->repairs += lone;
        d->text_reencode = 1;
    }
    return 0;
bad:
    snprintf(err, errlen, "invalid JSON: %s at byte %zu of the line", pe.why, (size_t)(pe.at - base));
    return -1;
}

void qdoc_build(qdoc *d, const char *id, const char *text, size_t text_len, const char *source,
                const char *meta_json)
{
    strbuf line = STRBUF_INIT;
    for (int attempt = 0; attempt < 2; attempt++) {
        sb_reset(&line);
        sb_addc(&line, '{');
        if (id) {
            sb_adds(&line, "\"id\":");
            json_put_str(&line, id, strlen(id));
            sb_addc(&line, ',');
        }
        sb_adds(&line, "\"text\":");
        json_put_str(&line, text, text_len);
        if (source) {
            sb_adds(&line, ",\"source\":");
            json_put_str(&line, source, strlen(source));
        }
        if (meta_json && attempt == 0) {
            sb_adds(&line, ",\"metadata\":");
            sb_adds(&line, meta_json);
        }
        sb_addc(&line, '}');
        char err[256];
        if (!qdoc_parse(d, line.buf, line.len, "text", err, sizeof err)) break;
        /* Only a malformed meta_json can fail: a caller bug, said loudly. */
        fprintf(stderr, "quern: internal error: qdoc_build metadata is not JSON (%s): %s\n", err,
                meta_json ? meta_json : "");
    }
    sb_free(&line);
}

void qdoc_set_text(qdoc *d, const char *text, size_t len)
{
    if (d->text.buf && text >= d->text.buf && text < d->text.buf + d->text.cap) {
        /* Aliases our own buffer (e.g. a prefix of it): copy first. */
        strbuf tmp = STRBUF_INIT;
        sb_add(&tmp, text, len);
        sb_reset(&d->text);
        d->repairs += utf8_repair(&d->text, tmp.buf, tmp.len);
        sb_free(&tmp);
    } else {
        sb_reset(&d->text);
        d->repairs += utf8_repair(&d->text, text, len);
    }
    d->text_changed = 1;
}

static const qdoc_member *find_member(const qdoc *d, const char *key)
{
    size_t kl = strlen(key);
    for (size_t i = 0; i < d->n_members; i++)
        if (key_equals(d->raw.buf + d->members[i].key_off, d->members[i].key_len, key, kl))
            return &d->members[i];
    return NULL;
}

int qdoc_get_str(const qdoc *d, const char *key, strbuf *out)
{
    const qdoc_member *m = find_member(d, key);
    if (!m) return 0;
    sb_reset(out);
    if (d->text_member >= 0 && m == &d->members[d->text_member]) {
        sb_add(out, d->text.buf, d->text.len);
        return 1;
    }
    const char *v = d->raw.buf + m->val_off;
    if (*v != '"') return 0;
    unescape(out, v + 1, m->val_len - 2);
    return 1;
}

static const qdoc_meta_edit *find_edit(const qdoc *d, const char *key, size_t kl)
{
    for (size_t i = 0; i < d->n_edits; i++)
        if (d->edits[i].key.len == kl && !memcmp(d->edits[i].key.buf, key, kl)) return &d->edits[i];
    return NULL;
}

/* The JSON text of metadata.<key>: from edits first, then the raw member. */
static int meta_value(const qdoc *d, const char *key, const char **v, size_t *vl)
{
    size_t kl = strlen(key);
    const qdoc_meta_edit *e = find_edit(d, key, kl);
    if (e) {
        *v = e->json.buf;
        *vl = e->json.len;
        return 1;
    }
    if (d->meta_member < 0 || (size_t)d->meta_member >= d->n_members) return 0;
    const qdoc_member *m = &d->members[d->meta_member];
    objiter it;
    if (objiter_start(&it, d->raw.buf + m->val_off, m->val_len)) return 0;
    const char *k, *val;
    size_t klen, vlen;
    int found = 0;
    while (objiter_next(&it, &k, &klen, &val, &vlen))
        if (key_equals(k, klen, key, kl)) {   /* last duplicate wins */
            *v = val;
            *vl = vlen;
            found = 1;
        }
    return found;
}

int qdoc_meta_get_str(const qdoc *d, const char *key, strbuf *out)
{
    const char *v;
    size_t vl;
    if (!meta_value(d, key, &v, &vl) || vl < 2 || *v != '"') return 0;
    sb_reset(out);
    unescape(out, v + 1, vl - 2);
    return 1;
}

int qdoc_meta_get_num(const qdoc *d, const char *key, double *out)
{
    const char *v;
    size_t vl;
    if (!meta_value(d, key, &v, &vl) || !vl || !(*v == '-' || (*v >= '0' && *v <= '9'))) return 0;
    char buf[64];
    if (vl >= sizeof buf) vl = sizeof buf - 1;
    memcpy(buf, v, vl);
    buf[vl] = '\0';
    *out = strtod(buf, NULL);
    return 1;
}

static strbuf *edit_slot(qdoc *d, const char *key)
{
    size_t kl = strlen(key);
    for (size_t i = 0; i < d->n_edits; i++)
        if (d->edits[i].key.len == kl && !memcmp(d->edits[i].key.buf, key, kl)) {
            sb_reset(&d->edits[i].json);
            return &d->edits[i].json;
        }
    if (d->n_edits == d->cap_edits) {
        size_t cap = d->cap_edits ? d->cap_edits * 2 : 4;
        d->edits = realloc(d->edits, cap * sizeof *d->edits);
        if (!d->edits) abort();
        memset(d->edits + d->cap_edits, 0, (cap - d->cap_edits) * sizeof *d->edits);
        d->cap_edits = cap;
    }
    qdoc_meta_edit *e = &d->edits[d->n_edits++];
    sb_reset(&e->key);
    sb_add(&e->key, key, kl);
    sb_reset(&e->json);
    return &e->json;
}

void qdoc_meta_set_str(qdoc *d, const char *key, const char *val, size_t len)
{
    json_put_str(edit_slot(d, key), val, len);
}

void qdoc_meta_set_num(qdoc *d, const char *key, double v)
{
    strbuf *sb = edit_slot(d, key);
    if (isfinite(v) && v == trunc(v) && fabs(v) < 9e15) sb_addf(sb, "%.0f", v);
    else if (!isfinite(v)) sb_adds(sb, "null");
    else sb_addf(sb, "%.17g", v);
}

void qdoc_meta_set_json(qdoc *d, const char *key, const char *json, size_t len)
{
    sb_add(edit_slot(d, key), json, len);
}

/* ------------------------------------------------------------ output */

static void put_edit(strbuf *out, const qdoc_meta_edit *e)
{
    json_put_str(out, e->key.buf, e->key.len);
    sb_addc(out, ':');
    sb_add(out, e->json.buf, e->json.len);
}

/* metadata object with the edits applied: replaced in place, new ones last. */
static void put_metadata(strbuf *out, const qdoc *d, const char *v, size_t vl)
{
    unsigned char used_small[64];
    unsigned char *used = d->n_edits <= sizeof used_small ? used_small : calloc(d->n_edits, 1);
    if (!used) abort();
    memset(used, 0, d->n_edits);
    sb_addc(out, '{');
    int first = 1;
    objiter it;
    if (v && !objiter_start(&it, v, vl)) {
        const char *k, *val;
        size_t kl, vlen;
        strbuf key = STRBUF_INIT;
        while (objiter_next(&it, &k, &kl, &val, &vlen)) {
            sb_reset(&key);
            unescape(&key, k, kl);
            const qdoc_meta_edit *e = find_edit(d, key.buf, key.len);
            if (e && used[e - d->edits]) continue;   /* a duplicate key already replaced */
            if (!first) sb_addc(out, ',');
            first = 0;
            if (e) {
                put_edit(out, e);
                used[e - d->edits] = 1;
            } else {
                sb_addc(out, '"');
                sb_add(out, k, kl);
                sb_add(out, "\":", 2);
                sb_add(out, val, vlen);
            }
        }
        sb_free(&key);
    }
    for (size_t i = 0; i < d->n_edits; i++) {
        if (used[i]) continue;
        if (!first) sb_addc(out, ',');
        first = 0;
        put_edit(out, &d->edits[i]);
    }
    sb_addc(out, '}');
    if (used != used_small) free(used);
}

void qdoc_serialize(const qdoc *d, strbuf *out)
{
    const char *base = sb_str(&d->raw);
    int retext = d->text_changed || d->text_reencode;
    if (!retext && !d->n_edits) {
        /* Already canonical (no whitespace between tokens)? Then copy. */
        size_t canon = 2 + (d->n_members ? d->n_members - 1 : 0);
        for (size_t i = 0; i < d->n_members; i++) canon += d->members[i].key_len + d->members[i].val_len + 3;
        if (canon == d->raw.len) {
            sb_grow(out, d->raw.len + 1);
            memcpy(out->buf + out->len, base, d->raw.len);
            out->len += d->raw.len;
            out->buf[out->len++] = '\n';
            out->buf[out->len] = '\0';
            return;
        }
    }
    sb_grow(out, d->raw.len + 16);
    sb_addc(out, '{');
    for (size_t i = 0; i < d->n_members; i++) {
        const qdoc_member *m = &d->members[i];
        if (i) sb_addc(out, ',');
        sb_addc(out, '"');
        sb_add(out, base + m->key_off, m->key_len);
        sb_add(out, "\":", 2);
        if ((long)i == d->text_member && retext) json_put_str(out, d->text.buf, d->text.len);
        else if ((long)i == d->meta_member && d->n_edits) put_metadata(out, d, base + m->val_off, m->val_len);
        else sb_add(out, base + m->val_off, m->val_len);
    }
    if (d->n_edits && d->meta_member < 0) {
        if (d->n_members) sb_addc(out, ',');
        sb_adds(out, "\"metadata\":");
        put_metadata(out, d, NULL, 0);
    }
    sb_add(out, "}\n", 2);
}
