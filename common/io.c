/* io.c - see io.h: raw sources, magic-byte decoding, line reading, input lists.
 *
 * Decoders loop until they produce at least one byte, reach the clean end, or
 * fail. A failure is remembered and reported on the *next* call when bytes
 * were produced in the same call, so callers always receive every byte that
 * decoded correctly before the damage (a truncated .gz keeps its complete
 * documents). Truncation is detected as "input ended inside a gzip member /
 * zstd frame", and reported at the compressed offset where the input ended.
 * Compressed input is held back per member / frame until its checksum has
 * been verified (decode_held), so corruption drops exactly the damaged unit;
 * a truncated unit passes on what it decoded, since nothing in it is wrong. */
#include "io.h"

#include <dirent.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "cli.h"
#include "fetch.h"

#define IBUF_SIZE (1u << 18)   /* compressed input buffer */
#define OBUF_SIZE (1u << 20)   /* decoded buffer for line reading */
/* Hold-back (decode_held): a gzip member / zstd frame is released only after
 * its checksum, up to HOLD_DEFAULT decoded bytes (QUERN_VERIFY_LIMIT or
 * qin_set_hold_limit change it). Small units are gathered up to HOLD_BATCH
 * before a call returns, so per-record members cost one memcpy per byte. */
#define HOLD_MIN ((size_t)1 << 16)
#define HOLD_START ((size_t)1 << 20)
#define HOLD_DEFAULT ((size_t)8 << 20)
#define HOLD_BATCH ((size_t)1 << 18)

/* ---------------------------------------------------------------- qsrc */

typedef struct fdsrc {
    int fd;
    int own;
    const char *name;    /* points at qsrc.name */
} fdsrc;

static ssize_t fd_read(void *ctx, void *buf, size_t n, char *err, size_t errlen)
{
    fdsrc *f = ctx;
    for (;;) {
        ssize_t r = read(f->fd, buf, n);
        if (r >= 0) return r;
        if (errno == EINTR) continue;
        snprintf(err, errlen, "%s: read failed: %s", f->name, strerror(errno));
        return -1;
    }
}

static void fd_close(void *ctx)
{
    fdsrc *f = ctx;
    if (f->own) close(f->fd);
    free(f);
}

int qsrc_open(qsrc *src, const char *path, char *err, size_t errlen)
{
    memset(src, 0, sizeof *src);
    if (qfetch_is_url(path)) return qfetch_open(src, path, NULL, err, errlen);
    int is_stdin = !strcmp(path, "-");
    int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    int64_t size = -1;
    if (!fstat(fd, &st)) {
        if (S_ISDIR(st.st_mode)) {
            snprintf(err, errlen, "%s: is a directory", path);
            if (!is_stdin) close(fd);
            return -1;
        }
        if (S_ISREG(st.st_mode)) {
            size = (int64_t)st.st_size;
            posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
        }
    }
    fdsrc *f = malloc(sizeof *f);
    if (!f) abort();
    src->name = strdup(is_stdin ? "<stdin>" : path);
    if (!src->name) abort();
    f->fd = fd;
    f->own = !is_stdin;
    f->name = src->name;
    src->ctx = f;
    src->read = fd_read;
    src->close = fd_close;
    src->size = size;
    return 0;
}

ssize_t qsrc_read(qsrc *src, void *buf, size_t n, char *err, size_t errlen)
{
    return src->read(src->ctx, buf, n, err, errlen);
}

void qsrc_close(qsrc *src)
{
    if (src->close) src->close(src->ctx);
    free(src->name);
    memset(src, 0, sizeof *src);
}

/* ---------------------------------------------------------------- qin */

enum { ST_OK, ST_DONE, ST_ERR };

struct qin {
    qsrc src;
    qfmt fmt;
    int state;
    char err[QERR_LEN];
    unsigned char *ibuf;
    size_t ipos, ilen;
    int src_eof;
    uint64_t raw_consumed;  /* compressed bytes handed to the decoder */
    uint64_t out_total;     /* decoded bytes produced */
    /* gzip */
    z_stream z;
    int z_ready, in_member;
    uint64_t member_start;
    /* zstd */
    ZSTD_DCtx *zd;
    int frame_open, frame_new;
    /* hold-back of the gzip member / zstd frame in progress (decode_held) */
    unsigned char *hbuf;
    size_t hcap, hlen, rpos, rlen, hold_max;
    int streaming;          /* the unit is over hold_max: passed on unverified */
    int unit_too_big;       /* the unit declares a size over hold_max (zstd) */
    uint64_t unit_passed;   /* its bytes already passed on */
    /* line buffer (qin_getline); qin_read drains it first */
    char *obuf;
    char *lbuf;             /* the line reader's current bytes: obuf, or verified bytes in hbuf */
    size_t opos, olen;
};

static void set_err(qin *in, uint64_t off, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_err(qin *in, uint64_t off, const char *fmt, ...)
{
    char what[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(in->err, sizeof in->err, "%s:%llu: %s", in->src.name, (unsigned long long)off, what);
    in->state = ST_ERR;
}

/* Read more raw bytes after the unconsumed ones. 1: got some, 0: end, -1: error. */
static int refill(qin *in)
{
    if (in->src_eof) return 0;
    if (in->ipos) {
        memmove(in->ibuf, in->ibuf + in->ipos, in->ilen - in->ipos);
        in->ilen -= in->ipos;
        in->ipos = 0;
    }
    if (in->ilen == IBUF_SIZE) return 1;
    char e[QERR_LEN];
    ssize_t r = qsrc_read(&in->src, in->ibuf + in->ilen, IBUF_SIZE - in->ilen, e, sizeof e);
    if (r < 0) {
        snprintf(in->err, sizeof in->err, "%s", e);
        in->state = ST_ERR;
        return -1;
    }
    if (r == 0) {
        in->src_eof = 1;
        return 0;
    }
    in->ilen += (size_t)r;
    return 1;
}

/* QUERN_VERIFY_LIMIT: a size like "64M" (cli_parse_size). */
static size_t default_hold_limit(void)
{
    uint64_t v = HOLD_DEFAULT;
    const char *e = getenv("QUERN_VERIFY_LIMIT");
    if (e && *e && (cli_parse_size(e, &v) || v > ((uint64_t)1 << 40))) v = HOLD_DEFAULT;
    return v < HOLD_MIN ? HOLD_MIN : (size_t)v;
}

qin *qin_from_src(qsrc *src, char *err, size_t errlen)
{
    qin *in = calloc(1, sizeof *in);
    if (!in) abort();
    in->src = *src;
    memset(src, 0, sizeof *src);
    in->ibuf = malloc(IBUF_SIZE);
    if (!in->ibuf) abort();
    while (in->ilen < 4 && !in->src_eof)
        if (refill(in) < 0) {
            snprintf(err, errlen, "%s", in->err);
            qin_close(in);
            return NULL;
        }
    const unsigned char *b = in->ibuf;
    if (in->ilen >= 2 && b[0] == 0x1f && b[1] == 0x8b) {
        in->fmt = QFMT_GZIP;
        /* 16 + MAX_WBITS: gzip wrapper only, with its CRC and length checked. */
        if (inflateInit2(&in->z, 16 + MAX_WBITS) != Z_OK) abort();
        in->z_ready = 1;
    } else if (in->ilen >= 4 && b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd) {
        in->fmt = QFMT_ZSTD;
        in->zd = ZSTD_createDCtx();
        if (!in->zd) abort();
        in->frame_open = 1;
        in->frame_new = 1;
    } else {
        in->fmt = QFMT_PLAIN;
    }
    if (in->fmt != QFMT_PLAIN) {
        in->hold_max = default_hold_limit();
        in->hcap = HOLD_START < in->hold_max ? HOLD_START : in->hold_max;
        in->hbuf = malloc(in->hcap);
        if (!in->hbuf) abort();
    }
    return in;
}

qin *qin_open(const char *path, char *err, size_t errlen)
{
    qsrc src;
    if (qsrc_open(&src, path, err, errlen)) return NULL;
    return qin_from_src(&src, err, errlen);
}

static size_t decode_plain(qin *in, unsigned char *buf, size_t n)
{
    if (in->ipos == in->ilen) {
        if (in->src_eof) {
            in->state = ST_DONE;
            return 0;
        }
        if (n >= IBUF_SIZE) { /* big reads bypass the buffer */
            char e[QERR_LEN];
            ssize_t r = qsrc_read(&in->src, buf, n, e, sizeof e);
            if (r < 0) {
                snprintf(in->err, sizeof in->err, "%s", e);
                in->state = ST_ERR;
                return 0;
            }
            if (r == 0) {
                in->src_eof = 1;
                in->state = ST_DONE;
            }
            in->raw_consumed += (size_t)r;
            return (size_t)r;
        }
        if (refill(in) <= 0) {
            if (in->state != ST_ERR) in->state = ST_DONE;
            return 0;
        }
    }
    size_t k = in->ilen - in->ipos;
    if (k > n) k = n;
    memcpy(buf, in->ibuf + in->ipos, k);
    in->ipos += k;
    in->raw_consumed += k;
    return k;
}

/* One step of a unit decoder (a gzip member or a zstd frame): decode into
 * out[0..cap) and say what happened. */
enum { STEP_MORE, STEP_UNIT_END, STEP_END, STEP_TRUNC, STEP_ERR };

static int gzip_step(qin *in, unsigned char *out, size_t cap, size_t *got)
{
    *got = 0;
    if (cap > UINT_MAX) cap = UINT_MAX;
    z_stream *z = &in->z;
    if (!in->in_member) {
        /* Between members: the end, or the magic of the next member. */
        while (in->ilen - in->ipos < 2 && !in->src_eof)
            if (refill(in) < 0) return STEP_TRUNC;   /* a read error: like an early end */
        size_t left = in->ilen - in->ipos;
        if (left == 0) return STEP_END;
        if (left < 2) {
            set_err(in, in->raw_consumed + left, "truncated gzip stream (input ends inside a member header)");
            return STEP_TRUNC;
        }
        if (in->ibuf[in->ipos] != 0x1f || in->ibuf[in->ipos + 1] != 0x8b) {
            set_err(in, in->raw_consumed, "bytes after the end of a gzip member are not another gzip member");
            return STEP_ERR;
        }
        inflateReset(z);
        in->in_member = 1;
        in->member_start = in->raw_consumed;
        in->unit_passed = 0;
    }
    if (in->ipos == in->ilen && !in->src_eof && refill(in) < 0) return STEP_TRUNC;
    size_t avail = in->ilen - in->ipos;
    z->next_in = in->ibuf + in->ipos;
    z->avail_in = (unsigned)avail;
    z->next_out = out;
    z->avail_out = (unsigned)cap;
    int ret = inflate(z, Z_NO_FLUSH);
    size_t used = avail - z->avail_in;
    in->ipos += used;
    in->raw_consumed += used;
    *got = cap - z->avail_out;
    if (ret == Z_STREAM_END) {   /* CRC32 and ISIZE of the trailer checked */
        in->in_member = 0;
        return STEP_UNIT_END;
    }
    if (ret == Z_OK || ret == Z_BUF_ERROR) {
        if (in->ipos == in->ilen && in->src_eof && used == 0 && *got == 0) {
            set_err(in, in->raw_consumed,
                    "truncated gzip stream (input ends inside the member that starts at offset %llu)",
                    (unsigned long long)in->member_start);
            return STEP_TRUNC;
        }
        return STEP_MORE;
    }
    if (in->unit_passed)
        set_err(in, in->member_start,
                "corrupt gzip member: %s (found at offset %llu; the member was longer than the "
                "verification limit, so its first %llu decoded bytes were already passed on)",
                z->msg ? z->msg : "inflate failed", (unsigned long long)in->raw_consumed,
                (unsigned long long)in->unit_passed);
    else
        set_err(in, in->member_start, "corrupt gzip member: %s (found at offset %llu); none of its data was used",
                z->msg ? z->msg : "inflate failed", (unsigned long long)in->raw_consumed);
    return STEP_ERR;
}

static int zstd_step(qin *in, unsigned char *out, size_t cap, size_t *got)
{
    *got = 0;
    if (in->ipos == in->ilen && !in->src_eof && refill(in) < 0) return STEP_TRUNC;
    if (in->ipos == in->ilen && in->src_eof && !in->frame_open) return STEP_END;
    if (!in->frame_open || in->frame_new) {   /* a new frame starts here */
        in->frame_open = 1;
        in->frame_new = 0;
        in->member_start = in->raw_consumed;
        in->unit_passed = 0;
        /* A frame that declares more content than can be held streams from
         * its start: holding its first hold_max bytes would only cost time. */
        unsigned long long size = ZSTD_getFrameContentSize(in->ibuf + in->ipos, in->ilen - in->ipos);
        in->unit_too_big = size != ZSTD_CONTENTSIZE_UNKNOWN && size != ZSTD_CONTENTSIZE_ERROR &&
                           size > in->hold_max;
    }
    ZSTD_outBuffer zout = { out, cap, 0 };
    ZSTD_inBuffer zin = { in->ibuf + in->ipos, in->ilen - in->ipos, 0 };
    size_t ret = ZSTD_decompressStream(in->zd, &zout, &zin);
    in->ipos += zin.pos;
    in->raw_consumed += zin.pos;
    *got = zout.pos;
    if (ZSTD_isError(ret)) {
        /* (zstd does not say how far into its input the damage was) */
        if (in->unit_passed)
            set_err(in, in->member_start,
                    "corrupt zstd frame: %s (the frame was longer than the verification limit, so "
                    "its first %llu decoded bytes were already passed on)",
                    ZSTD_getErrorName(ret), (unsigned long long)in->unit_passed);
        else
            set_err(in, in->member_start, "corrupt zstd frame: %s; none of its data was used",
                    ZSTD_getErrorName(ret));
        return STEP_ERR;
    }
    if (ret == 0) {   /* frame complete (its content checksum, if any, checked) */
        in->frame_open = 0;
        in->frame_new = 1;
        return STEP_UNIT_END;
    }
    if (in->ipos == in->ilen && in->src_eof && zin.pos == 0 && zout.pos == 0) {
        set_err(in, in->raw_consumed, "truncated zstd stream (input ends inside a frame)");
        return STEP_TRUNC;
    }
    return STEP_MORE;
}

static int unit_step(qin *in, unsigned char *out, size_t cap, size_t *got)
{
    return in->fmt == QFMT_GZIP ? gzip_step(in, out, cap, got) : zstd_step(in, out, cap, got);
}

/* Decode gzip/zstd with hold-back: a unit's output stays in hbuf until the
 * unit has ended (gzip: CRC32 and ISIZE checked; zstd: the frame's checksum),
 * so a damaged unit yields none of its bytes. hbuf holds [0, rlen) verified
 * bytes (handed out from rpos) and [rlen, hlen) of the unit in progress. A
 * unit longer than hold_max is passed on as it decodes (`streaming`), and
 * damage in it is only found at its end. */
/* Make bytes ready in hbuf: on return rpos < rlen, or state != ST_OK.
 * `want` is how much the caller would take: small units are gathered up to
 * that (at most HOLD_BATCH) before returning. hbuf holds [0, rlen) bytes
 * ready to hand out (from rpos) and [rlen, hlen) of the unit in progress,
 * not yet verified. */
static void fill_held(qin *in, size_t want)
{
    if (in->rpos < in->rlen) return;
    /* The ready bytes are all out: keep the unit in progress at the front. */
    if (in->rlen) {
        memmove(in->hbuf, in->hbuf + in->rlen, in->hlen - in->rlen);
        in->hlen -= in->rlen;
        in->rpos = in->rlen = 0;
    }
    while (in->state == ST_OK) {
        if (in->streaming) {
            /* A unit over the limit: its bytes are ready as they decode,
             * and damage in it is only found at its end. */
            size_t got;
            int s = unit_step(in, in->hbuf, in->hcap, &got);
            in->hlen = in->rlen = got;
            in->unit_passed += got;
            if (s == STEP_UNIT_END) in->streaming = 0;
            if (s == STEP_END) in->state = ST_DONE;
            if (got || s != STEP_MORE) return;
            continue;
        }
        if (in->unit_too_big || (in->hlen == in->hcap && !in->rlen && in->hcap >= in->hold_max)) {
            /* Over the limit (declared, or reached): pass it on unverified. */
            in->unit_too_big = 0;
            in->unit_passed = in->hlen - in->rlen;
            in->rlen = in->hlen;
            in->streaming = 1;
            if (in->rlen) return;
            continue;
        }
        if (in->hlen == in->hcap) {
            if (in->rlen) return;   /* hand out the verified bytes first */
            in->hcap = in->hcap * 2 < in->hold_max ? in->hcap * 2 : in->hold_max;
            in->hbuf = realloc(in->hbuf, in->hcap);
            if (!in->hbuf) abort();
        }
        size_t got;
        int s = unit_step(in, in->hbuf + in->hlen, in->hcap - in->hlen, &got);
        in->hlen += got;
        if (s == STEP_UNIT_END) {
            in->rlen = in->hlen;
            if (in->rlen >= want || in->rlen >= HOLD_BATCH) return;
        } else if (s == STEP_END) {
            in->state = ST_DONE;
        } else if (s == STEP_TRUNC) {
            /* Nothing decoded wrongly, the input just ends: what the unit
             * gave so far is passed on (a cut download keeps its complete
             * lines), then the error. */
            in->rlen = in->hlen;
        } else if (s == STEP_ERR) {
            in->hlen = in->rlen;   /* the damaged unit is dropped */
        }
    }
}

/* Decode gzip/zstd with hold-back: a unit's output stays in hbuf until the
 * unit has ended (gzip: CRC32 and ISIZE checked; zstd: the frame's checksum),
 * so a damaged unit yields none of its bytes. A unit longer than hold_max
 * is passed on as it decodes (`streaming`). */
static size_t decode_held(qin *in, unsigned char *buf, size_t n)
{
    fill_held(in, n);
    size_t k = in->rlen - in->rpos;
    if (k > n) k = n;
    memcpy(buf, in->hbuf + in->rpos, k);
    in->rpos += k;
    return k;
}

void qin_set_hold_limit(qin *in, size_t max)
{
    if (max < HOLD_MIN) max = HOLD_MIN;
    if (max < in->hcap && in->hlen <= max) {   /* shrink the buffer (nothing lost) */
        in->hcap = max;
        in->hbuf = realloc(in->hbuf, in->hcap);
        if (!in->hbuf) abort();
    }
    in->hold_max = max < in->hcap ? in->hcap : max;
}

ssize_t qin_read(qin *in, void *buf, size_t n, char *err, size_t errlen)
{
    if (n == 0) return 0;
    if (in->opos < in->olen) {
        size_t k = in->olen - in->opos;
        if (k > n) k = n;
        memcpy(buf, in->lbuf + in->opos, k);
        in->opos += k;
        return (ssize_t)k;
    }
    if (n > (size_t)SSIZE_MAX) n = (size_t)SSIZE_MAX;
    size_t got = 0;
    if (in->fmt != QFMT_PLAIN)
        got = decode_held(in, buf, n);   /* hands out ready bytes even after an error */
    else if (in->state == ST_OK)
        got = decode_plain(in, buf, n);
    if (got) {
        in->out_total += got;
        return (ssize_t)got;
    }
    if (in->state == ST_ERR) {
        snprintf(err, errlen, "%s", in->err);
        return -1;
    }
    return 0;
}

/* The next bytes for the line reader, in in->lbuf: decoded bytes are used
 * where they lie in hbuf (no copy); plain input goes through obuf. */
static ssize_t line_chunk(qin *in, char *err, size_t errlen)
{
    if (in->hbuf) {
        fill_held(in, OBUF_SIZE);
        if (in->rpos < in->rlen) {
            size_t k = in->rlen - in->rpos;
            in->lbuf = (char *)in->hbuf + in->rpos;
            in->rpos = in->rlen;   /* hbuf is not touched again until these are read */
            in->out_total += k;
            return (ssize_t)k;
        }
        /* nothing ready: the end or the error, which qin_read reports */
        unsigned char none;
        return qin_read(in, &none, 1, err, errlen);
    }
    if (!in->obuf) {
        in->obuf = malloc(OBUF_SIZE);
        if (!in->obuf) abort();
    }
    in->lbuf = in->obuf;
    return qin_read(in, in->obuf, OBUF_SIZE, err, errlen);
}

int qin_getline_max(qin *in, strbuf *line, size_t max, char *err, size_t errlen)
{
    sb_reset(line);
    int too_long = 0;
    for (;;) {
        if (in->opos < in->olen) {
            char *p = in->lbuf + in->opos;
            size_t avail = in->olen - in->opos;
            char *nl = memchr(p, '\n', avail);
            size_t take = nl ? (size_t)(nl - p) : avail;
            if (!too_long) {
                size_t room = max - line->len;
                if (take > room) {
                    sb_add(line, p, room);
                    too_long = 1;
                } else {
                    sb_add(line, p, take);
                }
            }
            in->opos += take;
            if (nl) {
                in->opos++;
                return too_long ? 2 : 1;
            }
        }
        in->opos = in->olen = 0;
        ssize_t r = line_chunk(in, err, errlen);
        if (r < 0) return -1;
        if (r == 0) return too_long ? 2 : (line->len ? 1 : 0);
        in->olen = (size_t)r;
    }
}

int qin_getline(qin *in, strbuf *line, char *err, size_t errlen)
{
    int r = qin_getline_max(in, line, SIZE_MAX, err, errlen);
    return r == 2 ? 1 : r;
}

qfmt qin_format(const qin *in) { return in->fmt; }
const char *qin_name(const qin *in) { return in->src.name; }
uint64_t qin_raw_offset(const qin *in) { return in->raw_consumed; }
uint64_t qin_offset(const qin *in) { return in->out_total - (in->olen - in->opos); }
int64_t qin_raw_size(const qin *in) { return in->src.size; }

void qin_close(qin *in)
{
    if (!in) return;
    if (in->z_ready) inflateEnd(&in->z);
    if (in->zd) ZSTD_freeDCtx(in->zd);
    qsrc_close(&in->src);
    free(in->ibuf);
    free(in->obuf);
    free(in->hbuf);
    free(in);
}

/* ---------------------------------------------------------------- inputs */

/* Files a stage never reads as input: unfinished outputs and hidden files. */
static int ignored_name(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    return base[0] == '.' || strstr(base, ".tmp.") != NULL;
}

typedef struct pathvec {
    char **v;
    size_t n, cap;
} pathvec;

static void pv_push(pathvec *pv, const char *s)
{
    if (pv->n == pv->cap) {
        pv->cap = pv->cap ? pv->cap * 2 : 16;
        pv->v = realloc(pv->v, pv->cap * sizeof *pv->v);
        if (!pv->v) abort();
    }
    pv->v[pv->n] = strdup(s);
    if (!pv->v[pv->n]) abort();
    pv->n++;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A directory stands for the regular files directly inside it, sorted. */
static int expand_dir(pathvec *pv, const char *dir, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "%s: cannot list directory: %s", dir, strerror(errno));
        return -1;
    }
    pathvec local = { 0 };
    struct dirent *e;
    size_t dl = strlen(dir);
    int slash = dl && dir[dl - 1] == '/';
    while ((e = readdir(d))) {
        if (ignored_name(e->d_name)) continue;
        char full[PATH_MAX];
        snprintf(full, sizeof full, "%s%s%s", dir, slash ? "" : "/", e->d_name);
        struct stat st;
        if (stat(full, &st) || !S_ISREG(st.st_mode)) continue;
        pv_push(&local, full);
    }
    closedir(d);
    if (local.n) qsort(local.v, local.n, sizeof *local.v, cmp_str);
    for (size_t i = 0; i < local.n; i++) {
        pv_push(pv, local.v[i]);
        free(local.v[i]);
    }
    free(local.v);
    return 0;
}

int qinputs_expand(qinputs *out, char **args, int nargs, unsigned shard, unsigned nshards,
                   char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    pathvec pv = { 0 };
    char *dash[] = { "-" };
    if (nargs <= 0) {
        args = dash;
        nargs = 1;
    }
    for (int i = 0; i < nargs; i++) {
        const char *a = args[i];
        struct stat st;
        if (!strcmp(a, "-") || qfetch_is_url(a)) {
            pv_push(&pv, a);
        } else if (strpbrk(a, "*?[") && stat(a, &st)) {
            glob_t g;
            int rc = glob(a, 0, NULL, &g);
            size_t kept = 0;
            if (rc == 0)
                for (size_t k = 0; k < g.gl_pathc; k++)
                    if (!ignored_name(g.gl_pathv[k])) {
                        pv_push(&pv, g.gl_pathv[k]);
                        kept++;
                    }
            if (rc == 0) globfree(&g);
            if (!kept) {
                snprintf(err, errlen, "%s: no files match", a);
                goto fail;
            }
        } else if (!stat(a, &st) && S_ISDIR(st.st_mode)) {
            if (expand_dir(&pv, a, err, errlen)) goto fail;
        } else {
            pv_push(&pv, a);   /* a missing file is reported when it is opened */
        }
    }
    if (nshards < 1) nshards = 1;
    size_t keep = 0;
    for (size_t i = 0; i < pv.n; i++) {
        if (i % nshards == shard) pv.v[keep++] = pv.v[i];
        else free(pv.v[i]);
    }
    out->paths = pv.v;
    out->n = keep;
    return 0;
fail:
    for (size_t i = 0; i < pv.n; i++) free(pv.v[i]);
    free(pv.v);
    return -1;
}

int64_t qinputs_total_size(const qinputs *in)
{
    int64_t total = 0;
    for (size_t i = 0; i < in->n; i++) {
        struct stat st;
        if (stat(in->paths[i], &st) == 0 && S_ISREG(st.st_mode)) total += st.st_size;
    }
    return total;
}

void qinputs_free(qinputs *in)
{
    for (size_t i = 0; i < in->n; i++) free(in->paths[i]);
    free(in->paths);
    memset(in, 0, sizeof *in);
}

int qread_file(const char *path, strbuf *sb, char *err, size_t errlen)
{
    qin *in = qin_open(path, err, errlen);
    if (!in) return -1;
    sb_reset(sb);
    for (;;) {
        sb_grow(sb, 1 << 16);
        ssize_t r = qin_read(in, sb->buf + sb->len, sb->cap - sb->len - 1, err, errlen);
        if (r < 0) {
            qin_close(in);
            return -1;
        }
        if (r == 0) break;
        sb->len += (size_t)r;
        sb->buf[sb->len] = '\0';
    }
    qin_close(in);
    return 0;
}
