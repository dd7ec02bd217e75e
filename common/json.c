/* json.c - see json.h. A recursive-descent parser into an arena (one
 * allocation list freed with the root), plus the string/number writers.
 *
 * The root is the first member of a larger block that also holds the arena,
 * so qjson_free(root) can find everything without a separate handle. */
#include "json.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

#define MAX_DEPTH 512

typedef struct chunk {
    struct chunk *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
} chunk;

typedef struct rootblock {
    qjson root;          /* must stay first */
    chunk *chunks;
} rootblock;

typedef struct parser {
    const char *s, *p, *end;
    rootblock *rb;
    char *err;
    size_t errlen;
    int failed;
    strbuf tmp;          /* scratch for string unescaping */
} parser;

static void *arena_alloc(rootblock *rb, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    chunk *c = rb->chunks;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > 65536 ? n : 65536;
        c = malloc(sizeof *c + cap);
        if (!c) {
            fprintf(stderr, "quern: out of memory in JSON parser\n");
            abort();
        }
        c->cap = cap;
        c->used = 0;
        c->next = rb->chunks;
        rb->chunks = c;
    }
    void *r = c->data + c->used;
    c->used += n;
    return r;
}

static void fail(parser *ps, const char *fmt, ...)
{
    if (ps->failed) return;
    ps->failed = 1;
    size_t line = 1, col = 1;
    for (const char *q = ps->s; q < ps->p && q < ps->end; q++) {
        if (*q == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (ps->err && ps->errlen) snprintf(ps->err, ps->errlen, "line %zu col %zu: %s", line, col, what);
}

static void skip_ws(parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static int hex4(const char *p, uint32_t *v)
{
    uint32_t r = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        r <<= 4;
        if (c >= '0' && c <= '9') r |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f') r |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') r |= (uint32_t)(c - 'A' + 10);
        else return -1;
    }
    *v = r;
    return 0;
}

/* ps->p at the opening quote. Unescapes into ps->tmp. */
static int parse_string_raw(parser *ps)
{
    sb_reset(&ps->tmp);
    ps->p++;
    const char *run = ps->p;
    while (ps->p < ps->end) {
        unsigned char c = (unsigned char)*ps->p;
        if (c == '"') {
            sb_add(&ps->tmp, run, (size_t)(ps->p - run));
            ps->p++;
            return 0;
        }
        if (c < 0x20) {
            fail(ps, "control character in string");
            return -1;
        }
        if (c != '\\') {
            ps->p++;
            continue;
        }
        sb_add(&ps->tmp, run, (size_t)(ps->p - run));
        if (ps->end - ps->p < 2) break;
        char e = ps->p[1];
        ps->p += 2;
        switch (e) {
        case '"': sb_addc(&ps->tmp, '"'); break;
        case '\\': sb_addc(&ps->tmp, '\\'); break;
        case '/': sb_addc(&ps->tmp, '/'); break;
        case 'b': sb_addc(&ps->tmp, '\b'); break;
        case 'f': sb_addc(&ps->tmp, '\f'); break;
        case 'n': sb_addc(&ps->tmp, '\n'); break;
        case 'r': sb_addc(&ps->tmp, '\r'); break;
        case 't': sb_addc(&ps->tmp, '\t'); break;
        case 'u': {
            uint32_t cp;
            if (ps->end - ps->p < 4 || hex4(ps->p, &cp)) {
                fail(ps, "bad \\u escape");
                return -1;
            }
            ps->p += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF && ps->end - ps->p >= 6 && ps->p[0] == '\\' &&
                ps->p[1] == 'u') {
                uint32_t lo;
                if (!hex4(ps->p + 2, &lo) && lo >= 0xDC00 && lo <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    ps->p += 6;
                }
            }
            if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD; /* lone surrogate */
            char u[4];
            sb_add(&ps->tmp, u, utf8_encode(cp, u));
            break;
        }
        default:
            ps->p--;
            fail(ps, "bad escape '\\%c'", e);
            return -1;
        }
        run = ps->p;
    }
    fail(ps, "unterminated string");
    return -1;
}

static const char *arena_str(parser *ps, size_t *len)
{
    /* Repair invalid UTF-8 so every string handed out is valid. */
    if (!utf8_is_valid(ps->tmp.buf ? ps->tmp.buf : "", ps->tmp.len)) {
        strbuf fixed = STRBUF_INIT;
        utf8_repair(&fixed, ps->tmp.buf, ps->tmp.len);
        sb_reset(&ps->tmp);
        sb_add(&ps->tmp, fixed.buf, fixed.len);
        sb_free(&fixed);
    }
    char *s = arena_alloc(ps->rb, ps->tmp.len + 1);
    if (ps->tmp.len) memcpy(s, ps->tmp.buf, ps->tmp.len);
    s[ps->tmp.len] = '\0';
    *len = ps->tmp.len;
    return s;
}

static qjson *new_value(parser *ps, qjson_type t)
{
    qjson *v = arena_alloc(ps->rb, sizeof *v);
    memset(v, 0, sizeof *v);
    v->type = t;
    return v;
}

static int parse_value(parser *ps, qjson *out, int depth);

static int parse_number(parser *ps, qjson *out)
{
    const char *start = ps->p, *q = ps->p;
    if (q < ps->end && *q == '-') q++;
    if (q >= ps->end || *q < '0' || *q > '9') {
        fail(ps, "bad number");
        return -1;
    }
    if (*q == '0') q++;
    else
        while (q < ps->end && *q >= '0' && *q <= '9') q++;
    if (q < ps->end && *q == '.') {
        q++;
        if (q >= ps->end || *q < '0' || *q > '9') {
            ps->p = q;
            fail(ps, "bad number");
            return -1;
        }
        while (q < ps->end && *q >= '0' && *q <= '9') q++;
    }
    if (q < ps->end && (*q == 'e' || *q == 'E')) {
        q++;
        if (q < ps->end && (*q == '+' || *q == '-')) q++;
        if (q >= ps->end || *q < '0' || *q > '9') {
            ps->p = q;
            fail(ps, "bad number");
            return -1;
        }
        while (q < ps->end && *q >= '0' && *q <= '9') q++;
    }
    char buf[64];
    size_t n = (size_t)(q - start);
    if (n < sizeof buf) {
        memcpy(buf, start, n);
        buf[n] = '\0';
        out->num = strtod(buf, NULL);
    } else {
        char *big = malloc(n + 1);
        if (!big) abort();
        memcpy(big, start, n);
        big[n] = '\0';
        out->num = strtod(big, NULL);
        free(big);
    }
    out->type = QJ_NUMBER;
    ps->p = q;
    return 0;
}

static int parse_container(parser *ps, qjson *out, int depth, int is_obj)
{
    char close = is_obj ? '}' : ']';
    ps->p++;
    size_t n = 0, cap = 0;
    qjson **items = NULL;
    const char **keys = NULL;
    size_t *klens = NULL;
    int rc = -1;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        rc = 0;
        goto done;
    }
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            items = realloc(items, cap * sizeof *items);
            if (is_obj) {
                keys = realloc(keys, cap * sizeof *keys);
                klens = realloc(klens, cap * sizeof *klens);
            }
            if (!items || (is_obj && (!keys || !klens))) abort();
        }
        skip_ws(ps);
        if (is_obj) {
            if (ps->p >= ps->end || *ps->p != '"') {
                fail(ps, "expected a member name");
                goto done;
            }
            if (parse_string_raw(ps)) goto done;
            keys[n] = arena_str(ps, &klens[n]);
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':') {
                fail(ps, "expected ':'");
                goto done;
            }
            ps->p++;
            skip_ws(ps);
        }
        items[n] = new_value(ps, QJ_NULL);
        if (parse_value(ps, items[n], depth + 1)) goto done;
        n++;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == close) {
            ps->p++;
            rc = 0;
            break;
        }
        fail(ps, "expected ',' or '%c'", close);
        goto done;
    }
done:
    out->type = is_obj ? QJ_OBJECT : QJ_ARRAY;
    out->len = n;
    if (n) {
        out->items = arena_alloc(ps->rb, n * sizeof *items);
        memcpy(out->items, items, n * sizeof *items);
        if (is_obj) {
            out->keys = arena_alloc(ps->rb, n * sizeof *keys);
            memcpy(out->keys, keys, n * sizeof *keys);
            out->key_lens = arena_alloc(ps->rb, n * sizeof *klens);
            memcpy(out->key_lens, klens, n * sizeof *klens);
        }
    }
    free(items);
    free(keys);
    free(klens);
    return rc;
}

static int parse_value(parser *ps, qjson *out, int depth)
{
    if (depth > MAX_DEPTH) {
        fail(ps, "nesting deeper than %d", MAX_DEPTH);
        return -1;
    }
    skip_ws(ps);
    if (ps->p >= ps->end) {
        fail(ps, "unexpected end of input");
        return -1;
    }
    char c = *ps->p;
    switch (c) {
    case '{': return parse_container(ps, out, depth, 1);
    case '[': return parse_container(ps, out, depth, 0);
    case '"':
        if (parse_string_raw(ps)) return -1;
        out->type = QJ_STRING;
        out->str = arena_str(ps, &out->len);
        return 0;
    case 't':
        if (ps->end - ps->p >= 4 && !memcmp(ps->p, "true", 4)) {
            out->type = QJ_TRUE;
            ps->p += 4;
            return 0;
        }
        break;
    case 'f':
        if (ps->end - ps->p >= 5 && !memcmp(ps->p, "false", 5)) {
            out->type = QJ_FALSE;
            ps->p += 5;
            return 0;
        }
        break;
    case 'n':
        if (ps->end - ps->p >= 4 && !memcmp(ps->p, "null", 4)) {
            out->type = QJ_NULL;
            ps->p += 4;
            return 0;
        }
        break;
    default:
        if (c == '-' || (c >= '0' && c <= '9')) return parse_number(ps, out);
        break;
    }
    fail(ps, "unexpected character '%c'", (c >= 0x20 && c < 0x7f) ? c : '?');
    return -1;
}

qjson *qjson_parse(const char *text, size_t len, char *err, size_t errlen)
{
    rootblock *rb = calloc(1, sizeof *rb);
    if (!rb) abort();
    parser ps = { .s = text, .p = text, .end = text + len, .rb = rb, .err = err, .errlen = errlen };
    /* A UTF-8 byte order mark is tolerated at the very start. */
    if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3)) ps.p += 3;
    int rc = parse_value(&ps, &rb->root, 0);
    if (!rc) {
        skip_ws(&ps);
        if (ps.p != ps.end) {
            fail(&ps, "unexpected data after the value");
            rc = -1;
        }
    }
    sb_free(&ps.tmp);
    if (rc) {
        qjson_free(&rb->root);
        return NULL;
    }
    return &rb->root;
}

void qjson_free(qjson *root)
{
    if (!root) return;
    rootblock *rb = (rootblock *)root;
    chunk *c = rb->chunks;
    while (c) {
        chunk *next = c->next;
        free(c);
        c = next;
    }
    free(rb);
}

const qjson *qjson_get(const qjson *obj, const char *key)
{
    if (!obj || obj->type != QJ_OBJECT) return NULL;
    size_t kl = strlen(key);
    /* Last one wins for duplicate keys, as in most JSON readers. */
    for (size_t i = obj->len; i-- > 0;)
        if (obj->key_lens[i] == kl && !memcmp(obj->keys[i], key, kl)) return obj->items[i];
    return NULL;
}

const qjson *qjson_at(const qjson *arr, size_t i)
{
    if (!arr || (arr->type != QJ_ARRAY && arr->type != QJ_OBJECT) || i >= arr->len) return NULL;
    return arr->items[i];
}

double qjson_num(const qjson *v, double dflt)
{
    return v && v->type == QJ_NUMBER ? v->num : dflt;
}

const char *qjson_str(const qjson *v, const char *dflt)
{
    return v && v->type == QJ_STRING ? v->str : dflt;
}

const qjson *qjson_path(const qjson *root, const char *dotted)
{
    const qjson *v = root;
    char key[256];
    while (v && *dotted) {
        const char *dot = strchr(dotted, '.');
        size_t n = dot ? (size_t)(dot - dotted) : strlen(dotted);
        if (n >= sizeof key) return NULL;
        memcpy(key, dotted, n);
        key[n] = '\0';
        v = qjson_get(v, key);
        dotted += n + (dot ? 1 : 0);
    }
    return v;
}

/* ---- writers ---- */

#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/* Bytes needing an escape: '"', '\\' and controls < 0x20. Nonzero if the
 * 8-byte word w holds one (classic SWAR has-zero / has-less tests). */
static inline uint64_t needs_escape8(uint64_t w)
{
    uint64_t q = w ^ (ONES * '"'), b = w ^ (ONES * '\\');
    uint64_t hq = (q - ONES) & ~q, hb = (b - ONES) & ~b;
    uint64_t lt = (w - ONES * 0x20) & ~w;
    return (hq | hb | lt) & HIGHS;
}

static void put_escaped_valid(strbuf *out, const char *s, size_t len)
{
    static const char hexd[] = "0123456789abcdef";
    sb_grow(out, len + 2);
    out->buf[out->len++] = '"';
    const char *p = s, *end = s + len, *run = s;
    while (p < end) {
        if (end - p >= 8) {
            uint64_t w;
            memcpy(&w, p, 8);
            if (!needs_escape8(w)) {
                p += 8;
                continue;
            }
        }
        unsigned char c = (unsigned char)*p;
        if (c != '"' && c != '\\' && c >= 0x20) {
            p++;
            continue;
        }
        sb_add(out, run, (size_t)(p - run));
        char e[6] = { '\\', 0, 0, 0, 0, 0 };
        size_t n = 2;
        switch (c) {
        case '"': e[1] = '"'; break;
        case '\\': e[1] = '\\'; break;
        case '\n': e[1] = 'n'; break;
        case '\t': e[1] = 't'; break;
        case '\r': e[1] = 'r'; break;
        case '\b': e[1] = 'b'; break;
        case '\f': e[1] = 'f'; break;
        default:
            e[1] = 'u'; e[2] = '0'; e[3] = '0';
            e[4] = hexd[c >> 4]; e[5] = hexd[c & 15];
            n = 6;
        }
        sb_add(out, e, n);
        p++;
        run = p;
    }
    sb_add(out, run, (size_t)(p - run));
    sb_addc(out, '"');
}

void json_put_str(strbuf *out, const char *s, size_t len)
{
    if (utf8_is_valid(s, len)) {
        put_escaped_valid(out, s, len);
        return;
    }
    strbuf fixed = STRBUF_INIT;
    utf8_repair(&fixed, s, len);
    put_escaped_valid(out, fixed.buf, fixed.len);
    sb_free(&fixed);
}

void json_put_num(strbuf *out, double v)
{
    if (!isfinite(v)) {
        sb_adds(out, "null"); /* JSON has no NaN/Infinity */
        return;
    }
    if (v == 0) {
        sb_addc(out, '0');
        return;
    }
    if (v == trunc(v) && fabs(v) < 1e16) {
        sb_addf(out, "%.0f", v);
        return;
    }
    char buf[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) break;
    }
    sb_adds(out, buf);
}
