/* io_testlib.h - helpers shared by tests/test_common_io*.c: compress a
 * payload into one gzip member or one zstd frame (with its checksum, as quern
 * writes them), appended to out; read a file back line by line against the
 * payload it was made from; check that an error message starts with the
 * expected "file:offset: what". */
#ifndef QUERN_IO_TESTLIB_H
#define QUERN_IO_TESTLIB_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "common/io.h"
#include "common/strbuf.h"
#include "testlib.h"

static inline void gzip_member(strbuf *out, const char *data, size_t n)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
    size_t bound = deflateBound(&z, n) + 64;
    sb_grow(out, bound);
    z.next_in = (unsigned char *)data;
    z.avail_in = (unsigned)n;
    z.next_out = (unsigned char *)out->buf + out->len;
    z.avail_out = (unsigned)bound;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    out->len += bound - z.avail_out;
    deflateEnd(&z);
}

static inline void zstd_frame(strbuf *out, const char *data, size_t n)
{
    size_t bound = ZSTD_compressBound(n);
    sb_grow(out, bound);
    ZSTD_CCtx *c = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);
    size_t r = ZSTD_compress2(c, out->buf + out->len, bound, data, n);
    ZSTD_freeCCtx(c);
    assert_false(ZSTD_isError(r));
    out->len += r;
}

/* Read path with qin_getline until it stops: each line must be exactly the
 * next complete line of want (n bytes), so a damaged input gives only whole
 * lines of what was written and never a partial or invented one. Returns
 * the number of lines; the final status (0 or -1) goes to *rc, and its
 * message to err (QERR_LEN bytes). */
static inline size_t read_lines_of(const char *path, const char *want, size_t n, int *rc, char *err)
{
    qin *in = qin_open(path, err, QERR_LEN);
    assert_non_null(in);
    strbuf line = STRBUF_INIT;
    size_t lines = 0, off = 0;
    while ((*rc = qin_getline(in, &line, err, QERR_LEN)) == 1) {
        const char *nl = memchr(want + off, '\n', n - off);
        assert_non_null(nl);
        assert_int_equal(line.len, (size_t)(nl - want) - off);
        assert_memory_equal(line.buf, want + off, line.len);
        off += line.len + 1;
        lines++;
    }
    qin_close(in);
    sb_free(&line);
    return lines;
}

/* err starts with the formatted text (the rest of a message may change). */
__attribute__((format(printf, 2, 3)))
static inline void assert_error_starts(const char *err, const char *fmt, ...)
{
    char want[1024];
    TL_FORMAT(want, fmt);
    if (strncmp(err, want, strlen(want))) fail_msg("want '%s...', got '%s'", want, err);
}

#endif
