/* unpack.c - decoded byte window over plain, gzip (member by member) or zstd
 * input, with the raw offset of every member kept for error messages. */
#include "unpack.h"

#include <libdeflate.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#define RAW_CHUNK   (1u << 20)       /* read size */
#define RAW_TRY     (1u << 20)       /* raw bytes wanted before trying a member whole */
#define RAW_MAX     (32u << 20)      /* a member larger than this is inflated streaming */
#define DEC_TRY     (4u << 20)       /* output room for a whole member, first guess */
#define DEC_MAX     (64u << 20)      /* larger members go streaming */
#define STREAM_OUT  (1u << 20)       /* output room per streaming step */

typedef struct mark { uint64_t dec, raw; } mark;

struct unpack {
    qsrc src;
    int detected;
    up_format fmt;

    unsigned char *raw;
    size_t raw_cap, raw_pos, raw_len;
    uint64_t raw_base;            /* absolute offset of raw[0] */
    int raw_eof;

    char *dec;
    size_t dec_cap, dec_pos, dec_len;
    uint64_t dec_base;            /* absolute decoded offset of dec[0] */

    mark *marks;
    size_t n_marks, cap_marks;

    struct libdeflate_decompressor *ld;
    z_stream z;
    int z_init, z_active;         /* z_active: inside a member inflated streaming */
    ZSTD_DStream *zs;
    int zs_in_frame;
    uint64_t unit_raw;            /* raw offset of the current member / frame */

    uint64_t members;
    char err[QERR_LEN];
    uint64_t err_off;
};

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (!q) {
        fprintf(stderr, "quern: out of memory\n");
        abort();
    }
    return q;
}

unpack *up_new(qsrc *src)
{
    unpack *u = calloc(1, sizeof *u);
    if (!u) abort();
    u->src = *src;
    memset(src, 0, sizeof *src);
    u->raw_cap = 8u << 20;
    u->raw = xrealloc(NULL, u->raw_cap);
    u->dec_cap = DEC_TRY + (1u << 20);
    u->dec = xrealloc(NULL, u->dec_cap + 1);
    u->ld = libdeflate_alloc_decompressor();
    if (!u->ld) abort();
    return u;
}

void up_free(unpack *u)
{
    if (!u) return;
    if (u->src.close) u->src.close(u->src.ctx);
    free(u->src.name);
    free(u->raw);
    free(u->dec);
    free(u->marks);
    libdeflate_free_decompressor(u->ld);
    if (u->z_init) inflateEnd(&u->z);
    if (u->zs) ZSTD_freeDStream(u->zs);
    free(u);
}

const char *up_data(const unpack *u) { return u->dec + u->dec_pos; }
size_t up_avail(const unpack *u) { return u->dec_len - u->dec_pos; }
uint64_t up_offset(const unpack *u) { return u->dec_base + u->dec_pos; }
uint64_t up_raw_consumed(const unpack *u) { return u->raw_base + u->raw_len; }
up_format up_fmt(const unpack *u) { return u->fmt; }
const char *up_name(const unpack *u) { return u->src.name ? u->src.name : "<input>"; }
const char *up_error(const unpack *u) { return u->err; }
uint64_t up_error_offset(const unpack *u) { return u->err_off; }
uint64_t up_members(const unpack *u) { return u->members; }

void up_consume(unpack *u, size_t n)
{
    if (n > up_avail(u)) n = up_avail(u);
    u->dec_pos += n;
}

static void add_mark(unpack *u, uint64_t dec, uint64_t raw)
{
    if (u->n_marks && u->marks[u->n_marks - 1].dec == dec) {
        u->marks[u->n_marks - 1].raw = raw;
        return;
    }
    if (u->n_marks == u->cap_marks) {
        u->cap_marks = u->cap_marks ? 2 * u->cap_marks : 64;
        u->marks = xrealloc(u->marks, u->cap_marks * sizeof *u->marks);
    }
    u->marks[u->n_marks++] = (mark){ dec, raw };
}

uint64_t up_raw_offset_of(const unpack *u, uint64_t dec)
{
    if (u->fmt == UP_PLAIN) return dec;
    for (size_t i = u->n_marks; i-- > 0;)
        if (u->marks[i].dec <= dec) return u->marks[i].raw;
    return 0;
}

/* Drop marks wholly before the window, keeping the one that covers its start. */
static void prune_marks(unpack *u)
{
    uint64_t start = u->dec_base + u->dec_pos;
    size_t keep_from = 0;
    for (size_t i = 0; i < u->n_marks; i++)
        if (u->marks[i].dec <= start) keep_from = i;
    if (keep_from) {
        memmove(u->marks, u->marks + keep_from, (u->n_marks - keep_from) * sizeof *u->marks);
        u->n_marks -= keep_from;
    }
}

/* Room for `need` more decoded bytes at dec + dec_len. The window is moved
 * back to the start whenever little of it is unconsumed, so that members are
 * inflated into the same, cache-warm, memory over and over. */
static void dec_reserve(unpack *u, size_t need)
{
    if (u->dec_pos && u->dec_len - u->dec_pos <= (64u << 10)) {
        memmove(u->dec, u->dec + u->dec_pos, u->dec_len - u->dec_pos);
        u->dec_base += u->dec_pos;
        u->dec_len -= u->dec_pos;
        u->dec_pos = 0;
        prune_marks(u);
    }
    if (u->dec_cap - u->dec_len >= need) return;
    if (u->dec_pos) {
        memmove(u->dec, u->dec + u->dec_pos, u->dec_len - u->dec_pos);
        u->dec_base += u->dec_pos;
        u->dec_len -= u->dec_pos;
        u->dec_pos = 0;
        prune_marks(u);
    }
    if (u->dec_cap - u->dec_len < need) {
        size_t cap = u->dec_cap;
        while (cap - u->dec_len < need) cap *= 2;
        u->dec = xrealloc(u->dec, cap + 1);
        u->dec_cap = cap;
    }
}

static size_t raw_avail(const unpack *u) { return u->raw_len - u->raw_pos; }
static uint64_t raw_here(const unpack *u) { return u->raw_base + u->raw_pos; }

static int set_err(unpack *u, int code, uint64_t off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int set_err(unpack *u, int code, uint64_t off, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(u->err, sizeof u->err, fmt, ap);
    va_end(ap);
    u->err_off = off;
    return code;
}

/* Make at least `want` raw bytes available (fewer only at end of input).
 * Returns 0, or UP_IOERR. */
static int raw_fill(unpack *u, size_t want)
{
    if (want > RAW_MAX) want = RAW_MAX;
    while (raw_avail(u) < want && !u->raw_eof) {
        if (u->raw_cap - u->raw_len < RAW_CHUNK) {
            if (u->raw_pos) {
                memmove(u->raw, u->raw + u->raw_pos, raw_avail(u));
                u->raw_base += u->raw_pos;
                u->raw_len -= u->raw_pos;
                u->raw_pos = 0;
            }
            if (u->raw_cap - u->raw_len < RAW_CHUNK) {
                u->raw_cap *= 2;
                u->raw = xrealloc(u->raw, u->raw_cap);
            }
        }
        char e[QERR_LEN] = "";
        ssize_t n = u->src.read(u->src.ctx, u->raw + u->raw_len, u->raw_cap - u->raw_len, e, sizeof e);
        if (n < 0) return set_err(u, UP_IOERR, u->raw_base + u->raw_len, "%s", e[0] ? e : "read error");
        if (n == 0) u->raw_eof = 1;
        u->raw_len += (size_t)n;
    }
    return 0;
}

static int is_gzip_magic(const unsigned char *p, size_t n)
{
    return n >= 4 && p[0] == 0x1f && p[1] == 0x8b && p[2] == 8 && (p[3] & 0xe0) == 0;
}
static int is_zstd_magic(const unsigned char *p, size_t n)
{
    return n >= 4 && p[0] == 0x28 && p[1] == 0xb5 && p[2] == 0x2f && p[3] == 0xfd;
}

static int detect(unpack *u)
{
    int rc = raw_fill(u, 4);
    if (rc) return rc;
    const unsigned char *p = u->raw + u->raw_pos;
    size_t n = raw_avail(u);
    if (n >= 2 && p[0] == 0x1f && p[1] == 0x8b) u->fmt = UP_GZIP;
    else if (is_zstd_magic(p, n)) u->fmt = UP_ZSTD;
    else u->fmt = UP_PLAIN;
    u->detected = 1;
    return 0;
}

/* ---- plain ---- */
static long fill_plain(unpack *u)
{
    if (raw_avail(u) == 0) {
        if (u->raw_eof) return UP_EOF;
        /* Read straight into the decoded window: no copy for plain input. */
        dec_reserve(u, RAW_CHUNK);
        char e[QERR_LEN] = "";
        ssize_t n = u->src.read(u->src.ctx, u->dec + u->dec_len, u->dec_cap - u->dec_len, e, sizeof e);
        if (n < 0) return set_err(u, UP_IOERR, u->dec_base + u->dec_len, "%s", e[0] ? e : "read error");
        if (n == 0) {
            u->raw_eof = 1;
            return UP_EOF;
        }
        u->dec_len += (size_t)n;
        u->raw_base += (size_t)n;   /* keeps up_raw_consumed right */
        return n;
    }
    size_t n = raw_avail(u);
    dec_reserve(u, n);
    memcpy(u->dec + u->dec_len, u->raw + u->raw_pos, n);
    u->dec_len += n;
    u->raw_pos += n;
    return (long)n;
}

/* ---- gzip ---- */

enum { DIAG_DAMAGE, DIAG_MORE, DIAG_STREAM };

/* What to do with a member libdeflate refused (it only says "bad data", and
 * it says so too when the member runs past the bytes we have): inflate it
 * again with zlib, up to 1 MiB of output.
 *   DIAG_DAMAGE  corrupt (bad CRC or deflate data) within a small member:
 *                reported (u->err), the member is skipped whole;
 *   DIAG_MORE    the input ended first: read more, or it is truncated;
 *   DIAG_STREAM  a large member (a whole file in one stream): inflate it
 *                streaming, so the records before any damage are kept. */
static int diagnose_member(unpack *u)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 16 + 15) != Z_OK) abort();
    static __thread unsigned char sink[1 << 16];
    z.next_in = u->raw + u->raw_pos;
    z.avail_in = (uInt)raw_avail(u);
    int r;
    do {
        z.next_out = sink;
        z.avail_out = sizeof sink;
        r = inflate(&z, Z_NO_FLUSH);
    } while (r == Z_OK && z.avail_in && z.total_out <= (1u << 20));
    uint64_t at = u->raw_base + u->raw_pos;
    int verdict;
    if (r == Z_STREAM_END || z.total_out > (1u << 20)) verdict = DIAG_STREAM;
    else if (r == Z_OK || r == Z_BUF_ERROR) verdict = DIAG_MORE;
    else {
        verdict = DIAG_DAMAGE;
        if (z.msg && strstr(z.msg, "data check"))
            set_err(u, UP_DAMAGE, at, "gzip member CRC mismatch (its data is damaged; member skipped)");
        else if (z.msg && strstr(z.msg, "length check"))
            set_err(u, UP_DAMAGE, at, "gzip member length mismatch (member skipped)");
        else
            set_err(u, UP_DAMAGE, at, "gzip member has invalid deflate data at byte %lu of it: %s",
                    (unsigned long)z.total_in, z.msg ? z.msg : "inflate error");
    }
    inflateEnd(&z);
    return verdict;
}

/* One streaming step inside a member too large for the windows. */
static long gzip_stream_step(unpack *u)
{
    for (;;) {
        if (raw_avail(u) == 0) {
            int rc = raw_fill(u, RAW_CHUNK);
            if (rc) return rc;
            if (raw_avail(u) == 0) {
                u->z_active = 0;
                return set_err(u, UP_DAMAGE, u->unit_raw,
                               "gzip member truncated: input ends %lu bytes into it",
                               (unsigned long)(raw_here(u) - u->unit_raw));
            }
        }
        dec_reserve(u, STREAM_OUT);
        add_mark(u, u->dec_base + u->dec_len, raw_here(u));
        u->z.next_in = u->raw + u->raw_pos;
        u->z.avail_in = (uInt)(raw_avail(u) > (1u << 30) ? (1u << 30) : raw_avail(u));
        u->z.next_out = (unsigned char *)u->dec + u->dec_len;
        u->z.avail_out = (uInt)(u->dec_cap - u->dec_len);
        uInt in0 = u->z.avail_in, out0 = u->z.avail_out;
        int r = inflate(&u->z, Z_NO_FLUSH);
        size_t used = in0 - u->z.avail_in, made = out0 - u->z.avail_out;
        u->raw_pos += used;
        u->dec_len += made;
        if (r == Z_STREAM_END) {
            u->z_active = 0;
            u->members++;
            if (made) return (long)made;
            return 0;   /* caller moves on to the next member */
        }
        if (r != Z_OK && r != Z_BUF_ERROR) {
            u->z_active = 0;
            if (u->z.msg && strstr(u->z.msg, "data check"))
                return set_err(u, UP_DAMAGE, u->unit_raw, "gzip member CRC mismatch (data before this point was already read)");
            return set_err(u, UP_DAMAGE, u->unit_raw, "gzip member has invalid deflate data %lu bytes into it: %s",
                           (unsigned long)(raw_here(u) - u->unit_raw), u->z.msg ? u->z.msg : "inflate error");
        }
        if (made) return (long)made;
    }
}

static long fill_gzip(unpack *u)
{
    for (;;) {
        if (u->z_active) {
            long n = gzip_stream_step(u);
            if (n != 0) return n;
            continue;
        }
        int rc = raw_fill(u, RAW_TRY);
        if (rc) return rc;
        size_t avail = raw_avail(u);
        if (avail == 0) return UP_EOF;
        u->unit_raw = raw_here(u);
        if (!is_gzip_magic(u->raw + u->raw_pos, avail)) {
            if (avail < 4 && u->raw_eof)
                return set_err(u, UP_DAMAGE, u->unit_raw, "%lu stray bytes at end of gzip input", (unsigned long)avail);
            return set_err(u, UP_DAMAGE, u->unit_raw, "not a gzip member: garbage after the previous member");
        }
        size_t out_room = DEC_TRY;
        for (;;) {
            dec_reserve(u, out_room);
            size_t in_used = 0, out_used = 0;
            enum libdeflate_result r = libdeflate_gzip_decompress_ex(
                u->ld, u->raw + u->raw_pos, raw_avail(u), u->dec + u->dec_len, u->dec_cap - u->dec_len,
                &in_used, &out_used);
            if (r == LIBDEFLATE_SUCCESS) {
                add_mark(u, u->dec_base + u->dec_len, u->unit_raw);
                u->raw_pos += in_used;
                u->dec_len += out_used;
                u->members++;
                if (out_used) return (long)out_used;
                break;   /* empty member: go on to the next */
            }
            if (r == LIBDEFLATE_INSUFFICIENT_SPACE && out_room < DEC_MAX) {
                out_room *= 4;
                continue;
            }
            if (r != LIBDEFLATE_INSUFFICIENT_SPACE) {
                int d = diagnose_member(u);
                if (d == DIAG_DAMAGE) return UP_DAMAGE;
                if (d == DIAG_MORE && !u->raw_eof && raw_avail(u) < RAW_MAX) {
                    /* The member goes on past what we have read. */
                    rc = raw_fill(u, raw_avail(u) * 2);
                    if (rc) return rc;
                    continue;
                }
                /* DIAG_STREAM; or truncated at the end of input, where
                 * streaming hands out what precedes the cut and then
                 * reports it; or larger than RAW_MAX. */
            }
            /* Too large for whole-member inflation: stream it with zlib. */
            if (!u->z_init) {
                memset(&u->z, 0, sizeof u->z);
                if (inflateInit2(&u->z, 16 + 15) != Z_OK) abort();
                u->z_init = 1;
            } else {
                inflateReset2(&u->z, 16 + 15);
            }
            u->z_active = 1;
            break;
        }
    }
}

/* ---- zstd ---- */
static long fill_zstd(unpack *u)
{
    if (!u->zs) {
        u->zs = ZSTD_createDStream();
        if (!u->zs) abort();
        ZSTD_initDStream(u->zs);
    }
    for (;;) {
        int rc = raw_fill(u, RAW_CHUNK);
        if (rc) return rc;
        if (raw_avail(u) == 0) {
            if (u->zs_in_frame) {
                u->zs_in_frame = 0;
                return set_err(u, UP_DAMAGE, u->unit_raw, "zstd frame truncated at end of input");
            }
            return UP_EOF;
        }
        if (!u->zs_in_frame) {
            u->unit_raw = raw_here(u);
            u->zs_in_frame = 1;
        }
        dec_reserve(u, STREAM_OUT);
        add_mark(u, u->dec_base + u->dec_len, u->unit_raw);
        ZSTD_inBuffer in = { u->raw + u->raw_pos, raw_avail(u), 0 };
        ZSTD_outBuffer out = { u->dec + u->dec_len, u->dec_cap - u->dec_len, 0 };
        size_t r = ZSTD_decompressStream(u->zs, &out, &in);
        u->raw_pos += in.pos;
        u->dec_len += out.pos;
        if (ZSTD_isError(r)) {
            u->zs_in_frame = 0;
            ZSTD_DCtx_reset(u->zs, ZSTD_reset_session_only);
            return set_err(u, UP_DAMAGE, u->unit_raw, "zstd frame damaged: %s", ZSTD_getErrorName(r));
        }
        if (r == 0) {
            u->zs_in_frame = 0;
            u->members++;
        }
        if (out.pos) return (long)out.pos;
    }
}

long up_fill(unpack *u)
{
    if (!u->detected) {
        int rc = detect(u);
        if (rc) return rc;
    }
    switch (u->fmt) {
    case UP_GZIP: return fill_gzip(u);
    case UP_ZSTD: return fill_zstd(u);
    default: return fill_plain(u);
    }
}

/* Does a gzip member starting at p inflate cleanly for a while? */
static int gzip_candidate_ok(const unsigned char *p, size_t n)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 16 + 15) != Z_OK) abort();
    unsigned char out[4096];
    z.next_in = (unsigned char *)p;
    z.avail_in = (uInt)(n > (1u << 30) ? (1u << 30) : n);
    z.next_out = out;
    z.avail_out = sizeof out;
    int r = inflate(&z, Z_NO_FLUSH);
    inflateEnd(&z);
    /* Clean if it finished, filled the probe buffer, or only ran out of input. */
    return r == Z_STREAM_END || (r == Z_OK) || (r == Z_BUF_ERROR && z.avail_in == 0);
}

int up_resync(unpack *u)
{
    /* Whatever was decoded from the damaged unit is dropped. */
    u->dec_pos = u->dec_len;
    if (u->fmt == UP_PLAIN) return !u->raw_eof || raw_avail(u) > 0;
    u->z_active = 0;
    u->zs_in_frame = 0;
    if (u->zs) ZSTD_DCtx_reset(u->zs, ZSTD_reset_session_only);
    /* Start looking one byte past the damaged unit's start (or right here if
     * the damage was garbage at this position). */
    if (u->err_off >= u->raw_base && u->err_off < u->raw_base + u->raw_len)
        u->raw_pos = (size_t)(u->err_off - u->raw_base);
    if (raw_avail(u)) u->raw_pos++;
    for (;;) {
        if (raw_fill(u, 64u << 10) < 0) return 0;
        size_t n = raw_avail(u);
        if (n < 4) {
            if (u->raw_eof) {
                u->raw_pos = u->raw_len;
                return 0;
            }
            continue;
        }
        const unsigned char *p = u->raw + u->raw_pos;
        size_t i;
        for (i = 0; i + 4 <= n; i++) {
            int hit = u->fmt == UP_GZIP ? is_gzip_magic(p + i, n - i) : is_zstd_magic(p + i, n - i);
            if (!hit) continue;
            if (u->fmt == UP_ZSTD) {
                u->raw_pos += i;
                return 1;
            }
            /* Validate with enough input behind the candidate. */
            u->raw_pos += i;
            if (raw_fill(u, 64u << 10) < 0) return 0;
            if (gzip_candidate_ok(u->raw + u->raw_pos, raw_avail(u))) return 1;
            p = u->raw + u->raw_pos;
            n = raw_avail(u);
            i = 0;
        }
        u->raw_pos += i;
        if (u->raw_eof && raw_avail(u) < 4) {
            u->raw_pos = u->raw_len;
            return 0;
        }
    }
}
