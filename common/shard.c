/* shard.c - see shard.h.
 *
 * The writer streams tokens through a buffer into "<path>.tmp.<pid>" (and the
 * .idx likewise), writes the header last (its token count is known only
 * then), fsyncs, renames the .idx and then the .bin into place, and fsyncs
 * the directory. Readers open the .bin first, so a crash between the two
 * renames leaves at worst a stray .idx, never a .bin that looks complete.
 * (outfile.h's qout cannot seek back to patch the header, hence the local
 * temp-and-rename here, with the same naming.) */
#include "shard.h"
#include "cli.h"
#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#define WBUF_BYTES (1u << 20)
#define IBUF_ENTRIES 8192
#define MAX_TOKENS ((uint64_t)INT32_MAX)   /* header [2] is an int32 */
#define SYNC_CHUNK (8u << 20)

struct qshard_writer {
    char *bin_path, *idx_path, *bin_tmp, *idx_tmp;
    int bin_fd, idx_fd;
    int version;
    size_t width;
    uint64_t n_tokens, n_docs;
    unsigned char *buf; size_t buf_len;   /* pending token bytes */
    uint64_t *ibuf; size_t ibuf_len;      /* pending document ends */
    uint64_t expected;                    /* UINT64_MAX: not declared */
    XXH3_state_t *hash;                   /* streaming hash when expected */
    int hashing_started;
    uint64_t written, synced;             /* bytes of tokens written / handed to writeback */
    char error[256];
};

static char *str_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *str_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0) abort();
    va_end(ap);
    return s;
}

/* "x.bin" -> "x.idx"; any other name gets ".idx" appended. */
static char *idx_path_for(const char *bin_path)
{
    size_t n = strlen(bin_path);
    if (n > 4 && !strcmp(bin_path + n - 4, ".bin"))
        return str_printf("%.*s.idx", (int)(n - 4), bin_path);
    return str_printf("%s.idx", bin_path);
}

/* the directory that will hold path (mkdir -p of its parent) */
static int mkdirs_for(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path) return 0;
    char *d = str_printf("%.*s", (int)(slash - path), path);
    int rc = qmkdirs(d);
    free(d);
    return rc;
}

static int write_all(int fd, const void *data, size_t n)
{
    const char *p = data;
    while (n) {
        ssize_t k = write(fd, p, n);
        if (k < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

static void make_header(int32_t hdr[QSHARD_HEADER_INTS], int version, uint64_t n_tokens)
{
    memset(hdr, 0, QSHARD_HEADER_BYTES);
    hdr[0] = QSHARD_MAGIC;
    hdr[1] = version;
    hdr[2] = (int32_t)(uint32_t)n_tokens;
    /* x86/ARM hosts are little-endian; the format is too. */
}

qshard_writer *qshard_writer_open(const char *bin_path, int version, char *err, size_t errlen)
{
    if (version != 1 && version != 2) {
        qseterr(err, errlen, "%s: shard version must be 1 or 2, not %d", bin_path, version);
        return NULL;
    }
    if (mkdirs_for(bin_path)) {
        qseterr(err, errlen, "%s: cannot create its directory: %s", bin_path, strerror(errno));
        return NULL;
    }
    qshard_writer *w = calloc(1, sizeof *w);
    if (!w) abort();
    w->version = version;
    w->width = version == 1 ? 2 : 4;
    w->expected = UINT64_MAX;
    w->bin_path = strdup(bin_path);
    w->idx_path = idx_path_for(bin_path);
    qout_remove_stale_temps(w->bin_path);   /* leftovers of a killed run */
    qout_remove_stale_temps(w->idx_path);
    w->bin_tmp = str_printf("%s.tmp.%d", w->bin_path, (int)getpid());
    w->idx_tmp = str_printf("%s.tmp.%d", w->idx_path, (int)getpid());
    w->buf = malloc(WBUF_BYTES);
    w->ibuf = malloc(IBUF_ENTRIES * sizeof *w->ibuf);
    if (!w->bin_path || !w->buf || !w->ibuf) abort();
    w->bin_fd = open(w->bin_tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    w->idx_fd = w->bin_fd < 0 ? -1 : open(w->idx_tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (w->bin_fd < 0 || w->idx_fd < 0) {
        qseterr(err, errlen, "%s: cannot create: %s", w->bin_fd < 0 ? w->bin_tmp : w->idx_tmp,
               strerror(errno));
        qshard_writer_abort(w);
        return NULL;
    }
    /* Placeholder header, overwritten at close. */
    static const unsigned char zeros[QSHARD_HEADER_BYTES];
    if (write_all(w->bin_fd, zeros, sizeof zeros)) {
        qseterr(err, errlen, "%s: write failed: %s", w->bin_tmp, strerror(errno));
        qshard_writer_abort(w);
        return NULL;
    }
    return w;
}

void qshard_writer_expect(qshard_writer *w, uint64_t n_tokens)
{
    if (w->n_tokens || w->hashing_started || n_tokens > MAX_TOKENS) return;
    w->expected = n_tokens;
}

const char *qshard_writer_error(const qshard_writer *w) { return w->error; }

static int flush_tokens(qshard_writer *w)
{
    if (!w->buf_len) return 0;
    if (w->expected != UINT64_MAX) {
        if (!w->hashing_started) {
            w->hash = XXH3_createState();
            if (!w->hash) abort();
            XXH3_64bits_reset(w->hash);
            int32_t hdr[QSHARD_HEADER_INTS];
            make_header(hdr, w->version, w->expected);
            XXH3_64bits_update(w->hash, hdr, QSHARD_HEADER_BYTES);
            w->hashing_started = 1;
        }
        XXH3_64bits_update(w->hash, w->buf, w->buf_len);
    }
    if (write_all(w->bin_fd, w->buf, w->buf_len)) {
        snprintf(w->error, sizeof w->error, "%s: write failed: %s", w->bin_tmp, strerror(errno));
        return -1;
    }
    w->written += w->buf_len;
    w->buf_len = 0;
    /* Start writeback of what is written so far, without waiting: the disk
     * stays busy while we produce the rest, and the fsync at close has
     * little left to do (it alone would otherwise write the whole shard). */
    if (w->written - w->synced >= SYNC_CHUNK) {
        sync_file_range(w->bin_fd, (off_t)w->synced, (off_t)(w->written - w->synced), SYNC_FILE_RANGE_WRITE);
        w->synced = w->written;
    }
    return 0;
}

static int flush_idx(qshard_writer *w)
{
    if (!w->ibuf_len) return 0;
    if (write_all(w->idx_fd, w->ibuf, w->ibuf_len * sizeof *w->ibuf)) {
        snprintf(w->error, sizeof w->error, "%s: write failed: %s", w->idx_tmp, strerror(errno));
        return -1;
    }
    w->ibuf_len = 0;
    return 0;
}

/* Appends n tokens of src_width bytes each, converting to the shard's width. */
static int append_tokens(qshard_writer *w, const void *tokens, size_t n, size_t src_width)
{
    if (n > MAX_TOKENS - w->n_tokens) {
        snprintf(w->error, sizeof w->error, "%s: more than %llu tokens in one shard", w->bin_path,
                 (unsigned long long)MAX_TOKENS);
        return -1;
    }
    if (src_width == 4 && w->width == 2) {
        const uint32_t *t = tokens;
        for (size_t i = 0; i < n; i++)
            if (t[i] > 0xffff) {
                snprintf(w->error, sizeof w->error,
                         "%s: token %u does not fit a version-1 (uint16) shard", w->bin_path, t[i]);
                return -1;
            }
    }
    const unsigned char *src = tokens;
    size_t done = 0;
    while (done < n) {
        size_t room = (WBUF_BYTES - w->buf_len) / w->width;
        if (!room) {
            if (flush_tokens(w)) return -1;
            continue;
        }
        size_t k = n - done < room ? n - done : room;
        unsigned char *dst = w->buf + w->buf_len;
        if (src_width == w->width) {
            memcpy(dst, src + done * src_width, k * src_width);
        } else if (src_width == 2) { /* widen */
            const uint16_t *s16 = (const uint16_t *)(const void *)src + done;
            uint32_t *d32 = (uint32_t *)(void *)dst;
            for (size_t i = 0; i < k; i++) d32[i] = s16[i];
        } else { /* narrow, checked above */
            const uint32_t *s32 = (const uint32_t *)(const void *)src + done;
            uint16_t *d16 = (uint16_t *)(void *)dst;
            for (size_t i = 0; i < k; i++) d16[i] = (uint16_t)s32[i];
        }
        w->buf_len += k * w->width;
        done += k;
    }
    w->n_tokens += n;
    w->ibuf[w->ibuf_len++] = w->n_tokens;
    w->n_docs++;
    if (w->ibuf_len == IBUF_ENTRIES && flush_idx(w)) return -1;
    return 0;
}

int qshard_writer_add_doc(qshard_writer *w, const uint32_t *tokens, size_t n)
{
    return append_tokens(w, tokens, n, 4);
}

int qshard_writer_add_native(qshard_writer *w, const void *tokens, size_t n, int src_version)
{
    if (src_version != 1 && src_version != 2) {
        snprintf(w->error, sizeof w->error, "source shard version %d is not 1 or 2", src_version);
        return -1;
    }
    return append_tokens(w, tokens, n, src_version == 1 ? 2 : 4);
}

uint64_t qshard_writer_tokens(const qshard_writer *w) { return w->n_tokens; }
uint64_t qshard_writer_docs(const qshard_writer *w) { return w->n_docs; }

static void writer_free(qshard_writer *w)
{
    if (w->hash) XXH3_freeState(w->hash);
    free(w->bin_path);
    free(w->idx_path);
    free(w->bin_tmp);
    free(w->idx_tmp);
    free(w->buf);
    free(w->ibuf);
    free(w);
}

void qshard_writer_abort(qshard_writer *w)
{
    if (!w) return;
    if (w->bin_fd >= 0) { close(w->bin_fd); unlink(w->bin_tmp); }
    if (w->idx_fd >= 0) { close(w->idx_fd); unlink(w->idx_tmp); }
    writer_free(w);
}

static int fsync_dir_of(const char *path)
{
    char *d = strdup(path);
    if (!d) abort();
    char *slash = strrchr(d, '/');
    const char *dir = ".";
    if (slash == d) dir = "/";
    else if (slash) { *slash = 0; dir = d; }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = 0;
    if (fd >= 0) {
        rc = fsync(fd);
        close(fd);
    }
    free(d);
    return rc;
}

static void hex64(uint64_t h, char hex[17]) { snprintf(hex, 17, "%016llx", (unsigned long long)h); }

static int checksum_fd(int fd, const char *path, char hex[17], char *err, size_t errlen)
{
    XXH3_state_t *st = XXH3_createState();
    unsigned char *buf = malloc(WBUF_BYTES);
    if (!st || !buf) abort();
    XXH3_64bits_reset(st);
    off_t off = 0;
    int rc = 0;
    for (;;) {
        ssize_t k = pread(fd, buf, WBUF_BYTES, off);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) {
            qseterr(err, errlen, "%s: read failed: %s", path, strerror(errno));
            rc = -1;
            break;
        }
        if (!k) break;
        XXH3_64bits_update(st, buf, (size_t)k);
        off += k;
    }
    if (!rc) hex64(XXH3_64bits_digest(st), hex);
    XXH3_freeState(st);
    free(buf);
    return rc;
}

int qshard_writer_close(qshard_writer *w, char checksum_hex[17], char *err, size_t errlen)
{
    if (flush_tokens(w) || flush_idx(w)) {
        qseterr(err, errlen, "%s", w->error);
        qshard_writer_abort(w);
        return -1;
    }
    int32_t hdr[QSHARD_HEADER_INTS];
    make_header(hdr, w->version, w->n_tokens);
    if (pwrite(w->bin_fd, hdr, QSHARD_HEADER_BYTES, 0) != QSHARD_HEADER_BYTES) {
        qseterr(err, errlen, "%s: write failed: %s", w->bin_tmp, strerror(errno));
        qshard_writer_abort(w);
        return -1;
    }
    char hex[17];
    if (w->hashing_started && w->expected == w->n_tokens) {
        hex64(XXH3_64bits_digest(w->hash), hex);
    } else if (w->expected == w->n_tokens && w->n_tokens == 0) {
        hex64(XXH3_64bits(hdr, QSHARD_HEADER_BYTES), hex);
    } else if (checksum_fd(w->bin_fd, w->bin_tmp, hex, err, errlen)) {
        qshard_writer_abort(w);
        return -1;
    }
    if (fsync(w->bin_fd) || fsync(w->idx_fd)) {
        qseterr(err, errlen, "%s: fsync failed: %s", w->bin_tmp, strerror(errno));
        qshard_writer_abort(w);
        return -1;
    }
    close(w->bin_fd);
    close(w->idx_fd);
    w->bin_fd = w->idx_fd = -1;
    if (rename(w->idx_tmp, w->idx_path) || rename(w->bin_tmp, w->bin_path)) {
        qseterr(err, errlen, "%s: rename failed: %s", w->bin_path, strerror(errno));
        unlink(w->idx_tmp);
        unlink(w->bin_tmp);
        writer_free(w);
        return -1;
    }
    fsync_dir_of(w->bin_path);
    if (checksum_hex) memcpy(checksum_hex, hex, 17);
    writer_free(w);
    return 0;
}

/* ---- reader ---- */

static int map_file(const char *path, void **map, size_t *len, int *missing, char *err, size_t errlen)
{
    *map = NULL;
    *len = 0;
    if (missing) *missing = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (missing && errno == ENOENT) *missing = 1;
        qseterr(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st)) {
        qseterr(err, errlen, "%s: cannot stat: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    *len = (size_t)st.st_size;
    if (*len) {
        void *p = mmap(NULL, *len, PROT_READ, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED) {
            qseterr(err, errlen, "%s: cannot map: %s", path, strerror(errno));
            close(fd);
            return -1;
        }
        *map = p;
    }
    close(fd);
    return 0;
}

int qshard_open(qshard *s, const char *bin_path, int need_idx, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    if (map_file(bin_path, &s->map_bin, &s->map_bin_len, NULL, err, errlen)) return -1;
    if (s->map_bin_len < QSHARD_HEADER_BYTES) {
        qseterr(err, errlen, "%s:0: shorter than the %d-byte header", bin_path, QSHARD_HEADER_BYTES);
        goto fail;
    }
    const int32_t *hdr = s->map_bin;
    if (hdr[0] != QSHARD_MAGIC) {
        qseterr(err, errlen, "%s:0: bad magic %d (expected %d)", bin_path, hdr[0], QSHARD_MAGIC);
        goto fail;
    }
    if (hdr[1] != 1 && hdr[1] != 2) {
        qseterr(err, errlen, "%s:4: unknown version %d", bin_path, hdr[1]);
        goto fail;
    }
    s->version = hdr[1];
    size_t width = s->version == 1 ? 2 : 4;
    size_t body = s->map_bin_len - QSHARD_HEADER_BYTES;
    uint64_t want = (uint64_t)(uint32_t)hdr[2];
    if (body % width || body / width != want) {
        qseterr(err, errlen, "%s:8: header says %llu tokens but the file holds %.1f", bin_path,
               (unsigned long long)want, (double)body / (double)width);
        goto fail;
    }
    s->n_tokens = want;
    s->tokens = (const char *)s->map_bin + QSHARD_HEADER_BYTES;

    char *idx = idx_path_for(bin_path);
    int missing = 0;
    char ierr[512];
    if (map_file(idx, &s->map_idx, &s->map_idx_len, &missing, ierr, sizeof ierr)) {
        if (missing && !need_idx) {
            free(idx);
            return 0;
        }
        qseterr(err, errlen, "%s", ierr);
        free(idx);
        goto fail;
    }
    if (s->map_idx_len % 8) {
        qseterr(err, errlen, "%s:0: size %zu is not a multiple of 8", idx, s->map_idx_len);
        free(idx);
        goto fail;
    }
    s->n_docs = s->map_idx_len / 8;
    s->doc_ends = s->map_idx;
    uint64_t prev = 0;
    for (uint64_t i = 0; i < s->n_docs; i++) {
        if (s->doc_ends[i] < prev || s->doc_ends[i] > s->n_tokens) {
            qseterr(err, errlen, "%s:%llu: document end %llu out of order or past the %llu tokens",
                   idx, (unsigned long long)(i * 8), (unsigned long long)s->doc_ends[i],
                   (unsigned long long)s->n_tokens);
            free(idx);
            goto fail;
        }
        prev = s->doc_ends[i];
    }
    if (prev != s->n_tokens) {
        qseterr(err, errlen, "%s:%zu: documents end at token %llu but the shard has %llu", idx,
               s->map_idx_len, (unsigned long long)prev, (unsigned long long)s->n_tokens);
        free(idx);
        goto fail;
    }
    free(idx);
    return 0;
fail:
    qshard_close(s);
    return -1;
}

void qshard_close(qshard *s)
{
    if (s->map_bin) munmap(s->map_bin, s->map_bin_len);
    if (s->map_idx) munmap(s->map_idx, s->map_idx_len);
    memset(s, 0, sizeof *s);
}

int qshard_file_checksum(const char *path, char hex[17], char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        qseterr(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    int rc = checksum_fd(fd, path, hex, err, errlen);
    close(fd);
    return rc;
}
