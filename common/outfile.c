/* outfile.c - see outfile.h.
 *
 * Bytes go through one buffer (or a zstd stream that fills it) and reach the
 * temp file with write(2); commit = flush, fsync, rename, fsync(dir). The
 * temp name carries the pid so that a rerun can tell a dead run's leftovers
 * (removed) from a live concurrent writer's (left alone). */
#include "outfile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#define OUT_BUF (1u << 20)

struct qout {
    int fd;
    int is_stdout;
    int is_device;      /* an existing non-regular file (/dev/null, a FIFO): written in place */
    char *path;          /* final path (or "-") */
    char *tmp;           /* temp path, NULL for stdout */
    ZSTD_CCtx *cz;
    char *buf;
    size_t blen;
    uint64_t bytes;      /* uncompressed bytes accepted */
    int err;             /* first errno seen, 0 if none */
    const char *err_what;
};

static char *xstrdup(const char *s)
{
    char *p = strdup(s);
    if (!p) abort();
    return p;
}

static int write_all(int fd, const void *data, size_t n)
{
    const char *p = data;
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void note_err(qout *o, const char *what)
{
    if (!o->err) {
        o->err = errno ? errno : EIO;
        o->err_what = what;
    }
}

static int flush_buf(qout *o)
{
    if (o->err) return -1;
    if (o->blen && write_all(o->fd, o->buf, o->blen)) {
        note_err(o, "write");
        return -1;
    }
    o->blen = 0;
    return 0;
}

int qmkdirs(const char *dir)
{
    if (!dir || !*dir) return 0;
    char *p = xstrdup(dir);
    size_t n = strlen(p);
    while (n > 1 && p[n - 1] == '/') p[--n] = '\0';
    for (char *q = p + 1; *q; q++) {
        if (*q != '/') continue;
        *q = '\0';
        if (mkdir(p, 0777) && errno != EEXIST) {
            free(p);
            return -1;
        }
        *q = '/';
    }
    int rc = 0;
    if (mkdir(p, 0777) && errno != EEXIST) rc = -1;
    if (!rc) {
        struct stat st;
        if (stat(p, &st) || !S_ISDIR(st.st_mode)) {
            errno = ENOTDIR;
            rc = -1;
        }
    }
    free(p);
    return rc;
}

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash) return xstrdup(".");
    if (slash == path) return xstrdup("/");
    char *d = xstrdup(path);
    d[slash - path] = '\0';
    return d;
}

/* Remove "<path>.tmp.<pid>" files left by runs that are no longer alive. */
/* Remove "<name>.tmp.<pid>" in dir where <name> starts with prefix (equals it
 * when exact) and <pid> is a process that is gone, or this one. */
static void remove_stale(const char *dir, const char *prefix, int exact)
{
    size_t pl = strlen(prefix);
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *tmp = strstr(e->d_name, ".tmp.");
        if (!tmp || strncmp(e->d_name, prefix, pl)) continue;
        if (exact && (size_t)(tmp - e->d_name) != pl) continue;
        char *end;
        long pid = strtol(tmp + 5, &end, 10);
        if (*end || end == tmp + 5 || pid <= 0) continue;
        if (pid != (long)getpid() && (kill((pid_t)pid, 0) == 0 || errno != ESRCH)) continue; /* live */
        char full[PATH_MAX];
        snprintf(full, sizeof full, "%s/%s", dir, e->d_name);
        unlink(full);
    }
    closedir(d);
}

void qout_remove_stale_temps(const char *path)
{
    char *dir = dir_of(path);
    const char *base = strrchr(path, '/');
    remove_stale(dir, base ? base + 1 : path, 1);
    free(dir);
}

void qout_remove_stale_temps_in(const char *dir, const char *prefix)
{
    remove_stale(dir, prefix, 0);
}

static int fsync_dir(const char *path)
{
    char *dir = dir_of(path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    free(dir);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    /* Some filesystems refuse fsync on directories; the rename still stands. */
    if (rc && (errno == EINVAL || errno == EROFS)) rc = 0;
    close(fd);
    return rc;
}

static int is_special_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode);
}

qout *qout_open(const char *path, int compress, char *err, size_t errlen)
{
    qout *o = calloc(1, sizeof *o);
    if (!o) abort();
    o->buf = malloc(OUT_BUF);
    if (!o->buf) abort();
    if (!path || !strcmp(path, "-")) {
        o->is_stdout = 1;
        o->fd = STDOUT_FILENO;
        o->path = xstrdup("-");
    } else if (is_special_file(path)) {
        /* Renaming a temp file onto /dev/null or a FIFO would replace the
         * device with a regular file; such targets have no "complete" state,
         * so they are written in place like stdout. */
        o->is_stdout = o->is_device = 1;
        o->path = xstrdup(path);
        o->fd = open(path, O_WRONLY | O_CLOEXEC);
        if (o->fd < 0) {
            snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
            goto fail;
        }
    } else {
        o->path = xstrdup(path);
        char *dir = dir_of(path);
        if (qmkdirs(dir)) {
            snprintf(err, errlen, "%s: cannot create directory: %s", dir, strerror(errno));
            free(dir);
            goto fail;
        }
        free(dir);
        qout_remove_stale_temps(path);
        size_t tl = strlen(path) + 32;
        o->tmp = malloc(tl);
        if (!o->tmp) abort();
        snprintf(o->tmp, tl, "%s.tmp.%ld", path, (long)getpid());
        o->fd = open(o->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
        if (o->fd < 0) {
            snprintf(err, errlen, "%s: cannot create: %s", path, strerror(errno));
            free(o->tmp);
            o->tmp = NULL;
            goto fail;
        }
    }
    if (compress == QOUT_ZSTD) {
        o->cz = ZSTD_createCCtx();
        if (!o->cz) abort();
        ZSTD_CCtx_setParameter(o->cz, ZSTD_c_compressionLevel, 3);
        ZSTD_CCtx_setParameter(o->cz, ZSTD_c_checksumFlag, 1);
    }
    return o;
fail:
    free(o->buf);
    free(o->path);
    free(o);
    return NULL;
}

void qout_set_threads(qout *o, int threads)
{
    /* Needs a libzstd built with multithreading; silently single-threaded otherwise. */
    if (o->cz && threads > 1) ZSTD_CCtx_setParameter(o->cz, ZSTD_c_nbWorkers, threads);
}

static int zstd_feed(qout *o, const void *data, size_t n, ZSTD_EndDirective mode)
{
    ZSTD_inBuffer in = { data, n, 0 };
    for (;;) {
        ZSTD_outBuffer out = { o->buf, OUT_BUF, o->blen };
        size_t r = ZSTD_compressStream2(o->cz, &out, &in, mode);
        o->blen = out.pos;
        if (ZSTD_isError(r)) {
            errno = EIO;
            note_err(o, ZSTD_getErrorName(r));
            return -1;
        }
        if (o->blen == OUT_BUF && flush_buf(o)) return -1;
        if (mode == ZSTD_e_continue ? in.pos == in.size : r == 0) break;
        if (o->blen && mode != ZSTD_e_continue && flush_buf(o)) return -1;
    }
    return 0;
}

int qout_write(qout *o, const void *data, size_t n)
{
    if (o->err) return -1;
    o->bytes += n;
    if (o->cz) return zstd_feed(o, data, n, ZSTD_e_continue);
    if (o->blen + n <= OUT_BUF) {
        memcpy(o->buf + o->blen, data, n);
        o->blen += n;
        return 0;
    }
    if (flush_buf(o)) return -1;
    if (n >= OUT_BUF / 2) {
        if (write_all(o->fd, data, n)) {
            note_err(o, "write");
            return -1;
        }
        return 0;
    }
    memcpy(o->buf, data, n);
    o->blen = n;
    return 0;
}

static void qout_free(qout *o)
{
    if (o->is_device) close(o->fd);
    if (o->cz) ZSTD_freeCCtx(o->cz);
    free(o->buf);
    free(o->path);
    free(o->tmp);
    free(o);
}

int qout_commit(qout *o, char *err, size_t errlen)
{
    int rc = 0;
    if (o->cz) zstd_feed(o, NULL, 0, ZSTD_e_end);
    flush_buf(o);
    if (o->is_stdout) {
        if (o->err) {
            snprintf(err, errlen, "<stdout>: %s failed: %s", o->err_what, strerror(o->err));
            rc = -1;
        }
        qout_free(o);
        return rc;
    }
    if (!o->err && fsync(o->fd)) note_err(o, "fsync");
    if (close(o->fd) && !o->err) note_err(o, "close");
    if (!o->err && rename(o->tmp, o->path)) note_err(o, "rename");
    if (!o->err && fsync_dir(o->path)) note_err(o, "fsync of the directory");
    if (o->err) {
        snprintf(err, errlen, "%s: %s failed: %s", o->path, o->err_what, strerror(o->err));
        unlink(o->tmp);
        rc = -1;
    }
    qout_free(o);
    return rc;
}

void qout_abort(qout *o)
{
    if (!o) return;
    if (!o->is_stdout) {
        close(o->fd);
        unlink(o->tmp);
    } else {
        if (o->cz) zstd_feed(o, NULL, 0, ZSTD_e_end);
        flush_buf(o);
    }
    qout_free(o);
}

uint64_t qout_bytes(const qout *o) { return o->bytes; }
const char *qout_path(const qout *o) { return o->path; }

int qout_is_complete(const char *path)
{
    struct stat st;
    return !stat(path, &st) && S_ISREG(st.st_mode);
}

int qout_write_file(const char *path, const void *data, size_t n, char *err, size_t errlen)
{
    qout *o = qout_open(path, QOUT_PLAIN, err, errlen);
    if (!o) return -1;
    qout_write(o, data, n);
    return qout_commit(o, err, errlen);
}
