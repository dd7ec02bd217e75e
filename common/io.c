/* io.c - see io.h: raw sources, magic-byte decoding, line reading, input lists.
 *
 * Decoders loop until they produce at least one byte, reach the clean end, or
 * fail. A failure is remembered and reported on the *next* call when bytes
 * were produced in the same call, so callers always receive every byte that
 * decoded correctly before the damage (a truncated .gz keeps its complete
 * documents). Truncation is detected as "input ended inside a gzip member /
 * zstd frame", and reported at the compressed offset where the input ended. */
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

#include "fetch.h"

#define IBUF_SIZE (1u << 18)   /* compressed input buffer */
#define OBUF_SIZE (1u << 20)   /* decoded buffer for line reading */

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
    int frame_open;
    /* line buffer (qin_getline); qin_read drains it first */
    char *obuf;
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
    } else {
        in->fmt = QFMT_PLAIN;
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

static size_t decode_gzip(qin *in, unsigned char *buf, size_t n)
{
    if (n > UINT_MAX) n = UINT_MAX;
    z_stream *z = &in->z;
    z->next_out = buf;
    z->avail_out = (unsigned)n;
    while (z->avail_out == n && in->state == ST_OK) {
        if (!in->in_member) {
            /* Between members: the end, or the magic of the next member. */
            while (in->ilen - in->ipos < 2 && !in->src_eof)
                if (refill(in) < 0) return n - z->avail_out;
            size_t left = in->ilen - in->ipos;
            if (left == 0) {
                in->state = ST_DONE;
                break;
            }
            if (left < 2) {
                set_err(in, in->raw_consumed + left, "truncated gzip stream (input ends inside a member header)");
                break;
            }
            if (in->ibuf[in->ipos] != 0x1f || in->ibuf[in->ipos + 1] != 0x8b) {
                set_err(in, in->raw_consumed, "bytes after the end of a gzip member are not another gzip member");
                break;
            }
            inflateReset(z);
            in->in_member = 1;
            in->member_start = in->raw_consumed;
        }
        if (in->ipos == in->ilen && !in->src_eof && refill(in) < 0) break;
        size_t avail = in->ilen - in->ipos;
        z->next_in = in->ibuf + in->ipos;
        z->avail_in = (unsigned)avail;
        unsigned out_before = z->avail_out;
        int ret = inflate(z, Z_NO_FLUSH);
        size_t used = avail - z->avail_in;
        in->ipos += used;
        in->raw_consumed += used;
        if (ret == Z_STREAM_END) {
            in->in_member = 0;
            continue;
        }
        if (ret == Z_OK || ret == Z_BUF_ERROR) {
            if (in->ipos == in->ilen && in->src_eof && used == 0 && z->avail_out == out_before)
                set_err(in, in->raw_consumed,
                        "truncated gzip stream (input ends inside the member that starts at offset %llu)",
                        (unsigned long long)in->member_start);
            continue;
        }
        set_err(in, in->raw_consumed, "corrupt gzip data in the member that starts at offset %llu: %s",
                (unsigned long long)in->member_start, z->msg ? z->msg : "inflate failed");
    }
    return n - z->avail_out;
}

static size_t decode_zstd(qin *in, unsigned char *buf, size_t n)
{
    ZSTD_outBuffer out = { buf, n, 0 };
    while (out.pos == 0 && in->state == ST_OK) {
        if (in->ipos == in->ilen && !in->src_eof && refill(in) < 0) break;
        if (in->ipos == in->ilen && in->src_eof && !in->frame_open) {
            in->state = ST_DONE;
            break;
        }
        ZSTD_inBuffer zin = { in->ibuf + in->ipos, in->ilen - in->ipos, 0 };
        size_t ret = ZSTD_decompressStream(in->zd, &out, &zin);
        in->ipos += zin.pos;
        in->raw_consumed += zin.pos;
        if (ZSTD_isError(ret)) {
            set_err(in, in->raw_consumed, "corrupt zstd data: %s", ZSTD_getErrorName(ret));
            break;
        }
        in->frame_open = ret != 0;
        if (in->ipos == in->ilen && in->src_eof && in->frame_open && zin.pos == 0 && out.pos == 0)
            set_err(in, in->raw_consumed, "truncated zstd stream (input ends inside a frame)");
    }
    return out.pos;
}

ssize_t qin_read(qin *in, void *buf, size_t n, char *err, size_t errlen)
{
    if (n == 0) return 0;
    if (in->opos < in->olen) {
        size_t k = in->olen - in->opos;
        if (k > n) k = n;
        memcpy(buf, in->obuf + in->opos, k);
        in->opos += k;
        return (ssize_t)k;
    }
    if (n > (size_t)SSIZE_MAX) n = (size_t)SSIZE_MAX;
    size_t got = 0;
    if (in->state == ST_OK) {
        switch (in->fmt) {
        case QFMT_PLAIN: got = decode_plain(in, buf, n); break;
        case QFMT_GZIP: got = decode_gzip(in, buf, n); break;
        case QFMT_ZSTD: got = decode_zstd(in, buf, n); break;
        }
    }
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

int qin_getline_max(qin *in, strbuf *line, size_t max, char *err, size_t errlen)
{
    sb_reset(line);
    if (!in->obuf) {
        in->obuf = malloc(OBUF_SIZE);
        if (!in->obuf) abort();
    }
    int too_long = 0;
    for (;;) {
        if (in->opos < in->olen) {
            char *p = in->obuf + in->opos;
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
        ssize_t r = qin_read(in, in->obuf, OBUF_SIZE, err, errlen);
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
