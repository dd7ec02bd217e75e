/* io_testlib.h - helpers shared by tests/test_common_io*.c: compress a
 * payload into one gzip member or one zstd frame (with its checksum, as quern
 * writes them), appended to out. */
#ifndef QUERN_IO_TESTLIB_H
#define QUERN_IO_TESTLIB_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "common/strbuf.h"

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

#endif
