/* warc.c - streaming WARC record reader over unpack.h's decoded window. */
#include "warc.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "unpack.h"

#define DEFAULT_MAX_HEADER (2u << 20)

struct warc_reader {
    unpack *u;
    size_t max_header;
    int64_t block_left;        /* unread bytes of the current block */
    uint64_t rec_offset;       /* raw offset of the current record */
    int in_block;
    int searching;             /* look for the next line starting "WARC/" */
    int stream_resync;         /* unpack reported damage: resync it first */
    int line_start;            /* window position 0 is at the start of a line */
    int done;
    int any_data;
    uint64_t records;
    uint64_t errors;
    char err[QERR_LEN];
    uint64_t err_off;
    int err_io;
};

void warc_record_init(warc_record *r)
{
    memset(r, 0, sizeof *r);
    r->content_length = -1;
}

void warc_record_free(warc_record *r)
{
    sb_free(&r->fields_buf);
    free(r->fields);
    memset(r, 0, sizeof *r);
}

const char *warc_get(const warc_record *r, const char *name, size_t *len)
{
    for (size_t i = 0; i < r->n_fields; i++) {
        const warc_field *f = &r->fields[i];
        if (!strcasecmp(r->fields_buf.buf + f->name_off, name)) {
            if (len) *len = f->val_len;
            return r->fields_buf.buf + f->val_off;
        }
    }
    return NULL;
}

const char *warc_type(const warc_record *r)
{
    const char *t = warc_get(r, "WARC-Type", NULL);
    return t ? t : "";
}

const char *warc_uri(const char *v, size_t len, size_t *out_len)
{
    if (len >= 2 && v[0] == '<' && v[len - 1] == '>') {
        *out_len = len - 2;
        return v + 1;
    }
    *out_len = len;
    return v;
}

warc_reader *warc_open(qsrc *src, size_t max_header)
{
    warc_reader *w = calloc(1, sizeof *w);
    if (!w) abort();
    w->u = up_new(src);
    w->max_header = max_header ? max_header : DEFAULT_MAX_HEADER;
    w->line_start = 1;
    return w;
}

void warc_close(warc_reader *w)
{
    if (!w) return;
    up_free(w->u);
    free(w);
}

const char *warc_error(const warc_reader *w) { return w->err; }
uint64_t warc_error_offset(const warc_reader *w) { return w->err_off; }
int warc_error_is_io(const warc_reader *w) { return w->err_io; }
const char *warc_name(const warc_reader *w) { return up_name(w->u); }
uint64_t warc_raw_bytes(const warc_reader *w) { return up_raw_consumed(w->u); }
uint64_t warc_bytes(const warc_reader *w) { return up_offset(w->u); }
uint64_t warc_records(const warc_reader *w) { return w->records; }

static int fail(warc_reader *w, uint64_t off, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(warc_reader *w, uint64_t off, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->err, sizeof w->err, fmt, ap);
    va_end(ap);
    w->err_off = off;
    w->err_io = 0;
    w->errors++;
    return -1;
}

/* Raw offset to report for the byte at window position pos. */
static uint64_t raw_at(const warc_reader *w, size_t pos)
{
    return up_raw_offset_of(w->u, up_offset(w->u) + pos);
}

/* Make n bytes available. 1: ok; 0: input ended first; -1: the stream is
 * damaged or unreadable (error set; resync pending or input given up). */
static int ensure(warc_reader *w, size_t n)
{
    while (up_avail(w->u) < n) {
        long r = up_fill(w->u);
        if (r > 0) {
            w->any_data = 1;
            continue;
        }
        if (r == UP_EOF) return 0;
        snprintf(w->err, sizeof w->err, "%s", up_error(w->u));
        w->err_off = up_error_offset(w->u);
        w->err_io = (r == UP_IOERR);
        w->errors++;
        w->in_block = 0;
        if (r == UP_IOERR) w->done = 1;
        else w->stream_resync = 1;
        return -1;
    }
    return 1;
}

static void consume(warc_reader *w, size_t n)
{
    if (n) w->line_start = up_data(w->u)[n - 1] == '\n';
    up_consume(w->u, n);
}

/* Is "WARC/<digit>" followed by a version and a line end at p[0..n)?
 * Returns 1 yes, 0 no, 2 needs more bytes to tell. */
static int version_line_at(const char *p, size_t n)
{
    static const char tag[] = "WARC/";
    for (size_t i = 0; i < 5; i++) {
        if (i >= n) return 2;
        if (p[i] != tag[i]) return 0;
    }
    size_t i = 5;
    if (i >= n) return 2;
    if (!isdigit((unsigned char)p[i])) return 0;
    for (; i < n && i < 24; i++) {
        char c = p[i];
        if (c == '\n') return 1;
        if (!(isdigit((unsigned char)c) || c == '.' || c == '\r')) return 0;
    }
    return i >= 24 ? 0 : 2;
}

/* Move to the next line starting with a WARC version line. 1 found, 0 end,
 * -1 more damage met while looking. */
static int search_version_line(warc_reader *w)
{
    for (;;) {
        const char *d = up_data(w->u);
        size_t n = up_avail(w->u), i = 0;
        while (i < n) {
            const char *hit = memmem(d + i, n - i, "WARC/", 5);
            if (!hit) break;
            size_t k = (size_t)(hit - d);
            if ((k == 0 && w->line_start) || (k > 0 && d[k - 1] == '\n')) {
                int v = version_line_at(hit, n - k);
                if (v == 2) {
                    consume(w, k);
                    int r = ensure(w, 32);
                    if (r < 0) return -1;
                    d = up_data(w->u);
                    n = up_avail(w->u);
                    v = version_line_at(d, n);
                    if (v == 1 || (v == 2 && r == 0)) {
                        w->searching = 0;
                        return 1;
                    }
                    i = 1;
                    continue;
                }
                if (v == 1) {
                    consume(w, k);
                    w->searching = 0;
                    return 1;
                }
            }
            i = k + 1;
        }
        /* Keep the last 4 bytes: "WARC/" may straddle the refill. */
        if (n > 4) consume(w, n - 4);
        int r = ensure(w, up_avail(w->u) + 1);
        if (r < 0) return -1;
        if (r == 0) {
            up_consume(w->u, up_avail(w->u));
            return 0;
        }
    }
}

/* Next line starting at window position *pos: sets [*ls, *le) (without the
 * line end, trailing CRs stripped) and advances *pos past the '\n'.
 * 1 ok; 0 input ended (partial line); -1 damage; -2 header too long. */
static int next_line(warc_reader *w, size_t *pos, size_t *ls, size_t *le)
{
    size_t scan = *pos;
    for (;;) {
        const char *d = up_data(w->u);
        size_t n = up_avail(w->u);
        const char *nl = scan < n ? memchr(d + scan, '\n', n - scan) : NULL;
        if (nl) {
            size_t e = (size_t)(nl - d);
            *ls = *pos;
            *le = e;
            while (*le > *ls && d[*le - 1] == '\r') (*le)--;
            *pos = e + 1;
            return 1;
        }
        scan = n;
        if (n > w->max_header) return -2;
        int r = ensure(w, n + 1);
        if (r <= 0) return r;
    }
}

static void add_field(warc_record *rec, const char *name, size_t nl, const char *val, size_t vl)
{
    if (rec->n_fields == rec->cap_fields) {
        rec->cap_fields = rec->cap_fields ? 2 * rec->cap_fields : 32;
        rec->fields = realloc(rec->fields, rec->cap_fields * sizeof *rec->fields);
        if (!rec->fields) abort();
    }
    warc_field *f = &rec->fields[rec->n_fields++];
    f->name_off = rec->fields_buf.len;
    f->name_len = nl;
    sb_add(&rec->fields_buf, name, nl);
    sb_addc(&rec->fields_buf, 0);
    f->val_off = rec->fields_buf.len;
    f->val_len = vl;
    sb_add(&rec->fields_buf, val, vl);
    sb_addc(&rec->fields_buf, 0);
}

static void trim(const char *d, size_t *s, size_t *e)
{
    while (*s < *e && (d[*s] == ' ' || d[*s] == '\t')) (*s)++;
    while (*e > *s && (d[*e - 1] == ' ' || d[*e - 1] == '\t' || d[*e - 1] == '\r')) (*e)--;
}

/* Printable excerpt of bytes for error messages. */
static void excerpt(char *out, size_t outlen, const char *p, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n && i < 24 && o + 5 < outlen; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '\n' || c == '\r') break;
        if (c >= 0x20 && c < 0x7f && c != '\'') out[o++] = (char)c;
        else o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", c);
    }
    out[o] = 0;
}

static int parse_header(warc_reader *w, warc_record *rec)
{
    size_t pos = 0, ls, le;
    int r = next_line(w, &pos, &ls, &le);
    uint64_t here = raw_at(w, 0);
    if (r == -1) return -1;
    if (r == -2) {
        w->searching = 1;
        consume(w, 1);
        return fail(w, here, "not a WARC record: no line end in the first %zu bytes", w->max_header);
    }
    const char *d = up_data(w->u);
    if (r == 0) {
        /* Input ends inside what should be a version line. */
        char ex[128];
        excerpt(ex, sizeof ex, d, up_avail(w->u));
        up_consume(w->u, up_avail(w->u));
        w->done = 1;
        return fail(w, here, "stray bytes at end of input, not a WARC record: '%s'", ex);
    }
    if (le - ls < 6 || memcmp(d + ls, "WARC/", 5) != 0) {
        char ex[128];
        excerpt(ex, sizeof ex, d + ls, le - ls);
        w->searching = 1;
        consume(w, 1);
        return fail(w, here, "expected a WARC/ version line, found '%s'%s", ex,
                    w->records ? "; skipping to the next record" : " (not a WARC file?)");
    }
    size_t vl = le - ls - 5;
    if (vl >= sizeof rec->version) vl = sizeof rec->version - 1;
    memcpy(rec->version, d + ls + 5, vl);
    rec->version[vl] = 0;

    for (;;) {
        r = next_line(w, &pos, &ls, &le);
        if (r == -1) return -1;
        if (r == -2 || pos > w->max_header) {
            w->searching = 1;
            consume(w, 1);
            return fail(w, here, "WARC header block longer than %zu bytes; skipping the record", w->max_header);
        }
        d = up_data(w->u);
        if (r == 0) {
            up_consume(w->u, up_avail(w->u));
            w->done = 1;
            return fail(w, here, "input ends inside a WARC header block");
        }
        if (le == ls) break;   /* blank line: end of the header */
        if ((d[ls] == ' ' || d[ls] == '\t') && rec->n_fields) {
            /* Continuation: fold into the previous value (the last bytes of fields_buf). */
            size_t s = ls, e = le;
            trim(d, &s, &e);
            warc_field *f = &rec->fields[rec->n_fields - 1];
            sb_setlen(&rec->fields_buf, rec->fields_buf.len - 1);
            if (f->val_len && e > s) {
                sb_addc(&rec->fields_buf, ' ');
                f->val_len++;
            }
            sb_add(&rec->fields_buf, d + s, e - s);
            sb_addc(&rec->fields_buf, 0);
            f->val_len += e - s;
            continue;
        }
        const char *colon = memchr(d + ls, ':', le - ls);
        if (!colon) continue;   /* not a field: ignored */
        size_t ns = ls, ne = (size_t)(colon - d), vs = ne + 1, ve = le;
        trim(d, &ns, &ne);
        trim(d, &vs, &ve);
        if (ne == ns) continue;
        add_field(rec, d + ns, ne - ns, d + vs, ve - vs);
    }

    size_t cl_len = 0;
    const char *cl = warc_get(rec, "Content-Length", &cl_len);
    int64_t len = 0;
    int ok = cl && cl_len > 0 && cl_len <= 18;
    for (size_t i = 0; ok && i < cl_len; i++) {
        if (!isdigit((unsigned char)cl[i])) ok = 0;
        else len = len * 10 + (cl[i] - '0');
    }
    if (!ok) {
        char ex[128] = "";
        if (cl) excerpt(ex, sizeof ex, cl, cl_len);
        w->searching = 1;
        consume(w, pos);
        return cl ? fail(w, here, "invalid Content-Length '%s'; skipping to the next record", ex)
                  : fail(w, here, "record has no Content-Length; skipping to the next record");
    }
    rec->content_length = len;
    rec->offset = here;
    rec->dec_offset = up_offset(w->u);
    consume(w, pos);
    return 1;
}

/* The rest of the current block, discarded (warc_read_block without a buffer). */
static int skip_block(warc_reader *w)
{
    return warc_read_block(w, NULL, 0, NULL);
}

int warc_next(warc_reader *w, warc_record *rec)
{
    if (w->in_block && skip_block(w) < 0) return -1;
    for (;;) {
        if (w->done) return 0;
        if (w->stream_resync) {
            w->stream_resync = 0;
            if (!up_resync(w->u)) {
                w->done = 1;
                return 0;
            }
            w->line_start = 1;
            w->searching = 1;
        }
        if (w->searching) {
            int r = search_version_line(w);
            if (r < 0) return -1;
            if (r == 0) {
                w->done = 1;
                return 0;
            }
        }
        /* Skip the record separator, however many CR/LF it has. */
        for (;;) {
            int r = ensure(w, 1);
            if (r < 0) return -1;
            if (r == 0) {
                w->done = 1;
                if (!w->any_data && !w->records && !w->errors)
                    return fail(w, 0, "empty input: no WARC records");
                return 0;
            }
            const char *d = up_data(w->u);
            size_t n = up_avail(w->u), i = 0;
            while (i < n && (d[i] == '\r' || d[i] == '\n')) i++;
            consume(w, i);
            if (i < n) break;
        }
        rec->n_fields = 0;
        sb_reset(&rec->fields_buf);
        rec->content_length = -1;
        rec->version[0] = 0;
        int r = parse_header(w, rec);
        if (r < 0) return -1;
        w->records++;
        w->block_left = rec->content_length;
        w->rec_offset = rec->offset;
        w->in_block = 1;
        return 1;
    }
}

int warc_read_block(warc_reader *w, strbuf *out, size_t max, int *truncated)
{
    if (out) sb_reset(out);
    if (truncated) *truncated = 0;
    if (!w->in_block) return 0;
    while (w->block_left > 0) {
        if (up_avail(w->u) == 0) {
            int r = ensure(w, 1);
            if (r < 0) return -1;
            if (r == 0) {
                w->in_block = 0;
                w->done = 1;
                return fail(w, w->rec_offset, "truncated record: input ends %lld bytes before its Content-Length",
                            (long long)w->block_left);
            }
        }
        size_t take = up_avail(w->u);
        if ((int64_t)take > w->block_left) take = (size_t)w->block_left;
        if (out && out->len < max) {
            size_t keep = take;
            if (keep > max - out->len) keep = max - out->len;
            sb_add(out, up_data(w->u), keep);
            if (keep < take && truncated) *truncated = 1;
        } else if (truncated) {
            *truncated = 1;
        }
        consume(w, take);
        w->block_left -= (int64_t)take;
    }
    w->in_block = 0;
    return 0;
}
