/* Unit tests for ingest/warc (record reader) and ingest/unpack (decoding,
 * damage, resync), on WARC bytes built in memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "common/strbuf.h"
#include "ingest/warc.h"

/* ---- an in-memory qsrc that hands out at most `step` bytes per read ---- */
typedef struct mem {
    strbuf data;
    size_t pos, step;
} mem;

static ssize_t mem_read(void *ctx, void *buf, size_t n, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    mem *m = ctx;
    size_t k = m->data.len - m->pos;
    if (k > n) k = n;
    if (m->step && k > m->step) k = m->step;
    memcpy(buf, m->data.buf + m->pos, k);
    m->pos += k;
    return (ssize_t)k;
}

static void mem_close(void *ctx)
{
    mem *m = ctx;
    sb_free(&m->data);
    free(m);
}

static warc_reader *open_bytes(const strbuf *bytes, size_t step)
{
    mem *m = calloc(1, sizeof *m);
    sb_add(&m->data, bytes->buf, bytes->len);
    m->step = step;
    qsrc s = { mem_read, mem_close, m, strdup("mem.warc"), (int64_t)bytes->len };
    return warc_open(&s, 0);
}

static void add_record(strbuf *w, const char *version, const char *type, const char *extra_headers,
                       const char *block, const char *sep)
{
    sb_addf(w, "WARC/%s\r\nWARC-Type: %s\r\nWARC-Record-ID: <urn:uuid:%zu>\r\n%sContent-Length: %zu\r\n\r\n",
            version, type, w->len, extra_headers, strlen(block));
    sb_adds(w, block);
    sb_adds(w, sep);
}

static void gzip_member(strbuf *out, const char *data, size_t n)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY), Z_OK);
    sb_grow(out, deflateBound(&z, n) + 64);
    z.next_in = (unsigned char *)data;
    z.avail_in = (uInt)n;
    z.next_out = (unsigned char *)out->buf + out->len;
    z.avail_out = (uInt)(out->cap - out->len - 1);
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    out->len += z.total_out;
    deflateEnd(&z);
}

/* Count records (reading each block), errors, and remember error offsets. */
typedef struct tally {
    int records, errors;
    uint64_t first_err_off;
    char first_err[512];
    char types[256];
} tally;

static tally read_all(warc_reader *w)
{
    tally t;
    memset(&t, 0, sizeof t);
    warc_record r;
    warc_record_init(&r);
    strbuf b = STRBUF_INIT;
    int rc, guard = 0;
    while ((rc = warc_next(w, &r)) != 0 && guard++ < 10000) {
        if (rc < 0) {
            if (!t.errors++) {
                t.first_err_off = warc_error_offset(w);
                snprintf(t.first_err, sizeof t.first_err, "%s", warc_error(w));
            }
            continue;
        }
        int trunc;
        if (warc_read_block(w, &b, 1 << 20, &trunc) < 0) {
            if (!t.errors++) {
                t.first_err_off = warc_error_offset(w);
                snprintf(t.first_err, sizeof t.first_err, "%s", warc_error(w));
            }
            continue;
        }
        assert_int_equal((int64_t)b.len, r.content_length);
        t.records++;
        size_t used = strlen(t.types), tl = strlen(warc_type(&r));
        if (used + tl + 2 <= sizeof t.types) {   /* the first types only */
            memcpy(t.types + used, warc_type(&r), tl);
            memcpy(t.types + used + tl, ",", 2);
        }
    }
    warc_record_free(&r);
    sb_free(&b);
    return t;
}

static void test_fields_case_folding_and_uri_forms(void **state)
{
    (void)state;
    strbuf w = STRBUF_INIT;
    sb_adds(&w, "WARC/1.1\r\nwarc-type: response\r\nWARC-Target-URI: <http://a.example/x>\r\n"
                "X-Long: first part\r\n  second part\r\n\tthird\r\ncontent-length: 5\r\n\r\nhello\r\n\r\n");
    add_record(&w, "1.0", "resource", "WARC-Target-URI: http://b.example/y\r\n", "abc", "\r\n\r\n");
    warc_reader *r = open_bytes(&w, 0);
    warc_record rec;
    warc_record_init(&rec);
    assert_int_equal(warc_next(r, &rec), 1);
    assert_string_equal(rec.version, "1.1");
    assert_string_equal(warc_type(&rec), "response");
    size_t n;
    const char *u = warc_get(&rec, "WARC-TARGET-URI", &n);
    u = warc_uri(u, n, &n);
    assert_int_equal(n, strlen("http://a.example/x"));
    assert_memory_equal(u, "http://a.example/x", n);
    assert_string_equal(warc_get(&rec, "x-long", NULL), "first part second part third");
    assert_int_equal(rec.content_length, 5);
    assert_int_equal(warc_next(r, &rec), 1);   /* block skipped without reading it */
    assert_string_equal(rec.version, "1.0");
    u = warc_get(&rec, "WARC-Target-URI", &n);
    u = warc_uri(u, n, &n);
    assert_memory_equal(u, "http://b.example/y", n);
    assert_int_equal(warc_next(r, &rec), 0);
    warc_record_free(&rec);
    warc_close(r);
    sb_free(&w);
}

static void test_content_length_is_exact(void **state)
{
    (void)state;
    /* A block that itself contains a WARC record and odd line ends: only
     * Content-Length decides where it ends. */
    strbuf w = STRBUF_INIT;
    add_record(&w, "1.0", "resource", "", "line\r\n\r\nWARC/1.0\r\nWARC-Type: fake\r\nContent-Length: 0\r\n\r\n", "\r\n\r\n");
    add_record(&w, "1.0", "metadata", "", "", "\r\n\r\n");
    for (size_t step = 0; step < 4; step++) {
        warc_reader *r = open_bytes(&w, step ? step * 7 : 0);
        tally t = read_all(r);
        assert_int_equal(t.records, 2);
        assert_int_equal(t.errors, 0);
        assert_string_equal(t.types, "resource,metadata,");
        warc_close(r);
    }
    sb_free(&w);
}

static void test_separator_leniency(void **state)
{
    (void)state;
    strbuf w = STRBUF_INIT;
    add_record(&w, "1.0", "warcinfo", "", "x", "");                 /* no separator */
    add_record(&w, "1.0", "request", "", "y", "\r\n\r\n\r\n");      /* an extra CRLF (CC-MAIN-2018-34) */
    sb_adds(&w, "WARC/1.0\nWARC-Type: response\nContent-Length: 2\n\nok\n\n");   /* LF only */
    sb_adds(&w, "WARC/1.0\r\r\nWARC-Type: revisit\r\r\nContent-Length: 0\r\r\n\r\r\n");   /* CR CR LF */
    warc_reader *r = open_bytes(&w, 0);
    tally t = read_all(r);
    assert_int_equal(t.errors, 0);
    assert_string_equal(t.types, "warcinfo,request,response,revisit,");
    warc_close(r);
    sb_free(&w);
}

static void test_every_record_type_and_old_versions(void **state)
{
    (void)state;
    const char *types[] = { "warcinfo", "response", "resource", "request", "metadata",
                            "revisit", "conversion", "continuation", "x-custom" };
    strbuf w = STRBUF_INIT;
    for (size_t i = 0; i < sizeof types / sizeof *types; i++)
        add_record(&w, i % 2 ? "1.1" : "0.18", types[i], "", "data", "\r\n\r\n");
    warc_reader *r = open_bytes(&w, 3);
    tally t = read_all(r);
    assert_int_equal(t.records, 9);
    assert_int_equal(t.errors, 0);
    warc_close(r);
    sb_free(&w);
}

static void build_members(strbuf *gz, int n, size_t *offsets)
{
    for (int i = 0; i < n; i++) {
        strbuf one = STRBUF_INIT;
        char block[64];
        snprintf(block, sizeof block, "payload number %d", i);
        add_record(&one, "1.0", "resource", "", block, "\r\n\r\n");
        offsets[i] = gz->len;
        gzip_member(gz, one.buf, one.len);
        sb_free(&one);
    }
}

static void test_gzip_members_and_single_stream(void **state)
{
    (void)state;
    strbuf plain = STRBUF_INIT, gz = STRBUF_INIT, one = STRBUF_INIT;
    size_t off[20];
    build_members(&gz, 20, off);
    for (int i = 0; i < 20; i++) add_record(&plain, "1.0", "resource", "", "p", "\r\n\r\n");
    gzip_member(&one, plain.buf, plain.len);
    warc_reader *r = open_bytes(&gz, 100);
    tally t = read_all(r);
    assert_int_equal(t.records, 20);
    assert_int_equal(t.errors, 0);
    warc_close(r);
    r = open_bytes(&one, 0);
    t = read_all(r);
    assert_int_equal(t.records, 20);
    warc_close(r);

    /* zstd: one frame */
    strbuf zs = STRBUF_INIT;
    sb_grow(&zs, ZSTD_compressBound(plain.len));
    zs.len = ZSTD_compress(zs.buf, zs.cap - 1, plain.buf, plain.len, 3);
    assert_false(ZSTD_isError(zs.len));
    r = open_bytes(&zs, 50);
    t = read_all(r);
    assert_int_equal(t.records, 20);
    assert_int_equal(t.errors, 0);
    warc_close(r);
    sb_free(&plain);
    sb_free(&gz);
    sb_free(&one);
    sb_free(&zs);
}

/* One gzip member far larger than the first raw and output windows (a whole
 * file compressed as one stream): the reader grows its windows, and still
 * reads every record. */
static void test_large_single_member(void **state)
{
    (void)state;
    strbuf plain = STRBUF_INIT, gz = STRBUF_INIT;
    char block[8193];
    uint32_t x = 12345;
    int n = 2500;
    for (int i = 0; i < n; i++) {
        for (size_t k = 0; k < sizeof block - 1; k++) {
            x = x * 1103515245u + 12345u;
            block[k] = (char)('a' + (x >> 16) % 26);
        }
        block[sizeof block - 1] = 0;
        add_record(&plain, "1.0", "resource", "", block, "\r\n\r\n");
    }
    gzip_member(&gz, plain.buf, plain.len);
    assert_true(gz.len > (4u << 20) && plain.len > (16u << 20));
    warc_reader *r = open_bytes(&gz, 0);
    tally t = read_all(r);
    assert_int_equal(t.records, n);
    assert_int_equal(t.errors, 0);
    warc_close(r);
    /* the same stream cut short: the complete records before the cut are read */
    gz.len = gz.len / 2;
    r = open_bytes(&gz, 0);
    t = read_all(r);
    assert_true(t.records > n / 3 && t.records < n);
    assert_int_equal(t.errors, 1);
    assert_non_null(strstr(t.first_err, "truncated"));
    warc_close(r);
    sb_free(&plain);
    sb_free(&gz);
}

static void test_truncated_member_keeps_earlier_records(void **state)
{
    (void)state;
    strbuf gz = STRBUF_INIT;
    size_t off[10];
    build_members(&gz, 10, off);
    /* cut member 7 in half */
    size_t member_len = off[8] - off[7];
    gz.len = off[7] + member_len / 2;
    warc_reader *r = open_bytes(&gz, 0);
    tally t = read_all(r);
    assert_int_equal(t.records, 7);
    assert_int_equal(t.errors, 1);
    assert_int_equal(t.first_err_off, off[7]);
    assert_non_null(strstr(t.first_err, "truncated"));
    warc_close(r);
    sb_free(&gz);
}

static void test_crc_and_garbage_resync(void **state)
{
    (void)state;
    strbuf gz = STRBUF_INIT;
    size_t off[10];
    build_members(&gz, 10, off);
    /* flip a CRC byte of member 4 (the 8-byte trailer ends each member) */
    gz.buf[off[5] - 6] ^= 0x55;
    warc_reader *r = open_bytes(&gz, 0);
    tally t = read_all(r);
    assert_int_equal(t.records, 9);   /* member 4 dropped, the rest read */
    assert_int_equal(t.errors, 1);
    assert_int_equal(t.first_err_off, off[4]);
    assert_non_null(strstr(t.first_err, "CRC"));
    warc_close(r);

    /* garbage between members 2 and 3 */
    strbuf g2 = STRBUF_INIT;
    sb_add(&g2, gz.buf, off[3]);
    sb_adds(&g2, "this is not gzip at all");
    sb_add(&g2, gz.buf + off[3], gz.len - off[3]);
    r = open_bytes(&g2, 0);
    t = read_all(r);
    assert_int_equal(t.records, 9);   /* members 0-3 and 5-9 (4 still has its bad CRC) */
    assert_int_equal(t.errors, 2);
    assert_int_equal(t.first_err_off, off[3]);
    assert_non_null(strstr(t.first_err, "garbage"));
    warc_close(r);
    sb_free(&gz);
    sb_free(&g2);
}

/* A bad CRC early in a file much larger than the first read: the damaged
 * member is still dropped whole (not handed out before its check). */
static void test_crc_damage_far_from_the_end(void **state)
{
    (void)state;
    strbuf gz = STRBUF_INIT;
    size_t off[400];
    char block[6001];
    uint32_t x = 99;
    for (int i = 0; i < 400; i++) {
        for (size_t k = 0; k < sizeof block - 1; k++) {
            x = x * 1103515245u + 12345u;
            block[k] = (char)('a' + (x >> 16) % 26);
        }
        block[sizeof block - 1] = 0;
        strbuf one = STRBUF_INIT;
        add_record(&one, "1.0", i == 2 ? "metadata" : "resource", "", block, "\r\n\r\n");
        off[i] = gz.len;
        gzip_member(&gz, one.buf, one.len);
        sb_free(&one);
    }
    assert_true(gz.len > (5u << 18));   /* well past the first 1 MiB read */
    gz.buf[off[3] - 6] ^= 0x55;   /* member 2's CRC */
    warc_reader *r = open_bytes(&gz, 65536);
    tally t = read_all(r);
    assert_int_equal(t.records, 399);
    assert_int_equal(t.errors, 1);
    assert_int_equal(t.first_err_off, off[2]);
    assert_non_null(strstr(t.first_err, "CRC"));
    assert_null(strstr(t.types, "metadata"));   /* the damaged record never came out */
    warc_close(r);
    sb_free(&gz);
}

static void test_header_damage_resyncs_at_next_record(void **state)
{
    (void)state;
    strbuf w = STRBUF_INIT;
    add_record(&w, "1.0", "warcinfo", "", "a", "\r\n\r\n");
    size_t bad_at = w.len;
    sb_adds(&w, "WARC/1.0\r\nWARC-Type: response\r\nContent-Length: 12x\r\n\r\nabcdefghijkl\r\n\r\n");
    add_record(&w, "1.0", "request", "", "b", "\r\n\r\n");
    size_t bad2 = w.len;
    sb_adds(&w, "WRAC/1.0\r\nWARC-Type: response\r\nContent-Length: 1\r\n\r\nz\r\n\r\n");
    add_record(&w, "1.0", "metadata", "", "c", "\r\n\r\n");
    warc_reader *r = open_bytes(&w, 5);
    warc_record rec;
    warc_record_init(&rec);
    strbuf b = STRBUF_INIT;
    int trunc;
    assert_int_equal(warc_next(r, &rec), 1);
    assert_int_equal(warc_next(r, &rec), -1);
    assert_int_equal(warc_error_offset(r), bad_at);
    assert_non_null(strstr(warc_error(r), "Content-Length"));
    assert_int_equal(warc_next(r, &rec), 1);
    assert_string_equal(warc_type(&rec), "request");
    assert_int_equal(warc_read_block(r, &b, 100, &trunc), 0);
    assert_string_equal(b.buf, "b");
    assert_int_equal(warc_next(r, &rec), -1);
    assert_int_equal(warc_error_offset(r), bad2);
    assert_non_null(strstr(warc_error(r), "WRAC/1.0"));
    assert_int_equal(warc_next(r, &rec), 1);
    assert_string_equal(warc_type(&rec), "metadata");
    assert_int_equal(warc_next(r, &rec), 0);
    warc_record_free(&rec);
    sb_free(&b);
    warc_close(r);
    sb_free(&w);
}

static void test_empty_binary_and_truncated_block(void **state)
{
    (void)state;
    strbuf w = STRBUF_INIT;
    warc_reader *r = open_bytes(&w, 0);
    tally t = read_all(r);
    assert_int_equal(t.records, 0);
    assert_int_equal(t.errors, 1);
    assert_non_null(strstr(t.first_err, "empty"));
    warc_close(r);

    for (int i = 0; i < 5000; i++) sb_addc(&w, (char)(i * 7919 % 251));
    r = open_bytes(&w, 0);
    t = read_all(r);
    assert_int_equal(t.records, 0);
    assert_int_equal(t.errors, 1);   /* one error, not one per byte */
    assert_int_equal(t.first_err_off, 0);
    warc_close(r);

    sb_reset(&w);
    add_record(&w, "1.0", "warcinfo", "", "x", "\r\n\r\n");
    sb_adds(&w, "WARC/1.0\r\nWARC-Type: response\r\nContent-Length: 1000\r\n\r\nshort");
    r = open_bytes(&w, 0);
    t = read_all(r);
    assert_int_equal(t.records, 1);
    assert_int_equal(t.errors, 1);
    assert_non_null(strstr(t.first_err, "truncated record"));
    warc_close(r);
    sb_free(&w);
}

static void test_block_limit(void **state)
{
    (void)state;
    strbuf w = STRBUF_INIT;
    add_record(&w, "1.0", "resource", "", "0123456789", "\r\n\r\n");
    add_record(&w, "1.0", "resource", "", "after", "\r\n\r\n");
    warc_reader *r = open_bytes(&w, 0);
    warc_record rec;
    warc_record_init(&rec);
    strbuf b = STRBUF_INIT;
    int trunc = 0;
    assert_int_equal(warc_next(r, &rec), 1);
    assert_int_equal(warc_read_block(r, &b, 4, &trunc), 0);
    assert_int_equal(trunc, 1);
    assert_string_equal(b.buf, "0123");
    assert_int_equal(warc_next(r, &rec), 1);
    assert_int_equal(warc_read_block(r, &b, 100, &trunc), 0);
    assert_string_equal(b.buf, "after");
    warc_record_free(&rec);
    sb_free(&b);
    warc_close(r);
    sb_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fields_case_folding_and_uri_forms),
        cmocka_unit_test(test_content_length_is_exact),
        cmocka_unit_test(test_separator_leniency),
        cmocka_unit_test(test_every_record_type_and_old_versions),
        cmocka_unit_test(test_gzip_members_and_single_stream),
        cmocka_unit_test(test_large_single_member),
        cmocka_unit_test(test_truncated_member_keeps_earlier_records),
        cmocka_unit_test(test_crc_and_garbage_resync),
        cmocka_unit_test(test_crc_damage_far_from_the_end),
        cmocka_unit_test(test_header_damage_resyncs_at_next_record),
        cmocka_unit_test(test_empty_binary_and_truncated_block),
        cmocka_unit_test(test_block_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
