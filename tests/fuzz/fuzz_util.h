/* fuzz_util.h - small helpers shared by the fuzz targets (header only, so a
 * target stays one .c file for libFuzzer and for the regression replayer).
 *
 *  - fz_src: a qsrc over a memory buffer that hands out at most `step` bytes
 *    per read, so readers see every short-read boundary;
 *  - fz_dir/fz_write: one private scratch directory per process (removed at
 *    exit) for readers that only take paths;
 *  - fz_split: cut an input into parts at a separator, to feed several files. */
#ifndef QUERN_FUZZ_UTIL_H
#define QUERN_FUZZ_UTIL_H

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/io.h"

typedef struct { const uint8_t *d; size_t n, pos, step; } fz_mem;

static ssize_t fz_mread(void *ctx, void *buf, size_t n, char *err, size_t errlen)
{
    (void)err; (void)errlen;
    fz_mem *m = ctx;
    size_t k = m->n - m->pos;
    if (k > n) k = n;
    if (k > m->step) k = m->step;
    memcpy(buf, m->d + m->pos, k);
    m->pos += k;
    return (ssize_t)k;
}
static void fz_mclose(void *ctx) { free(ctx); }

/* A source over d[0..n) returning at most step bytes per read (the reader
 * takes ownership, as with any qsrc). */
static inline qsrc fz_src(const uint8_t *d, size_t n, size_t step, const char *name)
{
    fz_mem *m = calloc(1, sizeof *m);
    if (!m) abort();
    m->d = d; m->n = n; m->step = step ? step : 1;
    qsrc s = { fz_mread, fz_mclose, m, strdup(name), -1 };
    return s;
}

static char fz_dir_path[256];

static void fz_rmtree(const char *path)
{
    DIR *d = opendir(path);
    if (!d) { unlink(path); return; }
    struct dirent *e;
    char sub[512];
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
        struct stat st;
        if (!lstat(sub, &st) && S_ISDIR(st.st_mode)) fz_rmtree(sub);
        else unlink(sub);
    }
    closedir(d);
    rmdir(path);
}
static void fz_cleanup(void) { if (fz_dir_path[0]) fz_rmtree(fz_dir_path); }

/* The process's scratch directory (created on first use). */
static inline const char *fz_dir(void)
{
    if (!fz_dir_path[0]) {
        struct stat st;
        const char *base = getenv("TMPDIR");
        if (!base || !*base) base = !stat("/dev/shm", &st) && S_ISDIR(st.st_mode) ? "/dev/shm" : "/tmp";
        snprintf(fz_dir_path, sizeof fz_dir_path, "%s/quern-fuzz.XXXXXX", base);
        if (!mkdtemp(fz_dir_path)) { perror("mkdtemp"); abort(); }
        atexit(fz_cleanup);
    }
    return fz_dir_path;
}

/* Write data to <scratch>/name (truncating); returns the full path (static
 * buffer per slot 0..3). */
static inline const char *fz_write(int slot, const char *name, const void *data, size_t n)
{
    static char paths[4][512];
    snprintf(paths[slot], sizeof paths[slot], "%s/%s", fz_dir(), name);
    FILE *f = fopen(paths[slot], "wb");
    if (!f) { perror(paths[slot]); abort(); }
    if (n && fwrite(data, 1, n, f) != n) abort();
    fclose(f);
    return paths[slot];
}

/* Cut d[0..n) at each occurrence of sep (not kept) into at most max parts;
 * the last part takes the rest. Returns the number of parts. */
static inline size_t fz_split(const uint8_t *d, size_t n, const char *sep, const uint8_t **part,
                              size_t *len, size_t max)
{
    size_t k = 0, sl = strlen(sep);
    const uint8_t *p = d, *end = d + n;
    while (k + 1 < max) {
        const uint8_t *q = memmem(p, (size_t)(end - p), sep, sl);
        if (!q) break;
        part[k] = p; len[k] = (size_t)(q - p); k++;
        p = q + sl;
    }
    part[k] = p; len[k] = (size_t)(end - p); k++;
    return k;
}

#endif
