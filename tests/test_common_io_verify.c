/* Unit tests for common/io's hold-back: a gzip member / zstd frame reaches
 * the reader only after its checksum is verified, so one flipped byte in the
 * middle member of three gives the first member's data, nothing of the
 * second, and one error naming the file and where the damaged unit starts.
 * Units over the hold limit are passed on as they decode (the error says so). */
#include "common/io.h"
#include "io_testlib.h"
#include "testlib.h"

static strbuf part[3];   /* three payloads of numbered lines, ~200 KB each */

static int setup(void **state)
{
    if (tl_tmpdir_setup(state)) return -1;
    for (int p = 0; p < 3; p++) {
        sb_init(&part[p], 0);
        /* varied text so deflate keeps real literals (a flip there is caught) */
        for (int i = 0; i < 8000; i++)
            sb_addf(&part[p], "{\"id\":\"p%d-%d\",\"text\":\"value %u\"}\n", p, i,
                    (unsigned)(i * 2654435761u) ^ (unsigned)p);
    }
    return 0;
}

static int teardown(void **state)
{
    for (int p = 0; p < 3; p++) sb_free(&part[p]);
    return tl_tmpdir_teardown(state);
}

/* Read everything with qin_read (odd buffer size), optionally with a hold
 * limit; counts the calls that failed. Returns the final status. */
static int read_all(const char *path, size_t hold, strbuf *out, char *err, int *errors)
{
    qin *in = qin_open(path, err, QERR_LEN);
    assert_non_null(in);
    if (hold) qin_set_hold_limit(in, hold);
    sb_reset(out);
    *errors = 0;
    int rc;
    char buf[7777];
    for (;;) {
        ssize_t r = qin_read(in, buf, sizeof buf, err, QERR_LEN);
        if (r < 0) {
            (*errors)++;
            /* once failed, it stays failed and hands out nothing more */
            char err2[QERR_LEN];
            assert_int_equal(qin_read(in, buf, sizeof buf, err2, sizeof err2), -1);
            assert_string_equal(err, err2);
        }
        if (r <= 0) {
            rc = (int)r;
            break;
        }
        sb_add(out, buf, (size_t)r);
    }
    qin_close(in);
    return rc;
}

/* Three units; the middle one damaged at its middle. Returns the offset
 * where the second unit starts. */
static size_t three_units(strbuf *enc, int zstd, int damage)
{
    sb_reset(enc);
    size_t start2 = 0, end2 = 0;
    for (int p = 0; p < 3; p++) {
        if (p == 1) start2 = enc->len;
        if (zstd) zstd_frame(enc, part[p].buf, part[p].len);
        else gzip_member(enc, part[p].buf, part[p].len);
        if (p == 1) end2 = enc->len;
    }
    if (damage) enc->buf[start2 + (end2 - start2) / 2] ^= 0x55;
    return start2;
}

static void check_first_unit_only(int zstd)
{
    char path[400], err[QERR_LEN];
    strbuf enc = STRBUF_INIT, dec = STRBUF_INIT;
    int errors;
    /* undamaged: all three */
    three_units(&enc, zstd, 0);
    tl_write_in(path, sizeof path, zstd ? "ok.zst" : "ok.gz", enc.buf, enc.len);
    assert_int_equal(read_all(path, 0, &dec, err, &errors), 0);
    assert_int_equal(dec.len, part[0].len + part[1].len + part[2].len);
    /* damaged middle unit: exactly the first unit's bytes, then one error */
    size_t start2 = three_units(&enc, zstd, 1);
    tl_write_in(path, sizeof path, zstd ? "bad.zst" : "bad.gz", enc.buf, enc.len);
    assert_int_equal(read_all(path, 0, &dec, err, &errors), -1);
    assert_int_equal(errors, 1);
    assert_int_equal(dec.len, part[0].len);
    assert_memory_equal(dec.buf, part[0].buf, part[0].len);
    assert_error_starts(err, "%s:%zu: corrupt %s", path, start2, zstd ? "zstd frame" : "gzip member");
    assert_non_null(strstr(err, "none of its data was used"));
    /* line by line: the first unit's lines, no partial line, then -1 */
    int rc;
    assert_int_equal(read_lines_of(path, part[0].buf, part[0].len, &rc, err), 8000);
    assert_int_equal(rc, -1);
    sb_free(&enc);
    sb_free(&dec);
}

static void test_gzip_damaged_member_withheld(void **state)
{
    (void)state;
    check_first_unit_only(0);
}

static void test_zstd_damaged_frame_withheld(void **state)
{
    (void)state;
    check_first_unit_only(1);
}

/* Many small members (one per record, as Common Crawl writes them): the
 * records before the damaged one come out whole, none after. */
static void test_many_small_members(void **state)
{
    (void)state;
    char path[400], err[QERR_LEN];
    strbuf enc = STRBUF_INIT, dec = STRBUF_INIT;
    size_t rec = 500, nrec = part[0].len / rec, bad = nrec * 2 / 3, start_bad = 0;
    for (size_t i = 0; i < nrec; i++) {
        if (i == bad) start_bad = enc.len;
        gzip_member(&enc, part[0].buf + i * rec, rec);
    }
    /* a byte of the damaged member's CRC32 trailer (8 bytes before its end) */
    size_t end_bad = enc.len;
    {
        strbuf tmp = STRBUF_INIT;
        gzip_member(&tmp, part[0].buf + bad * rec, rec);
        end_bad = start_bad + tmp.len;
        sb_free(&tmp);
    }
    enc.buf[end_bad - 6] ^= 0x01;
    tl_write_in(path, sizeof path, "records.gz", enc.buf, enc.len);
    int errors;
    assert_int_equal(read_all(path, 0, &dec, err, &errors), -1);
    assert_int_equal(errors, 1);
    assert_int_equal(dec.len, bad * rec);
    assert_memory_equal(dec.buf, part[0].buf, dec.len);
    assert_error_starts(err, "%s:%zu: corrupt gzip member: incorrect data check", path, start_bad);
    sb_free(&enc);
    sb_free(&dec);
}

/* A member over the hold limit streams as before: the bytes decoded before
 * the damage is found are passed on, and the error says so. */
static void test_member_over_limit_streams(void **state)
{
    (void)state;
    char path[400], err[QERR_LEN];
    strbuf enc = STRBUF_INIT, dec = STRBUF_INIT;
    size_t start2 = three_units(&enc, 0, 1);
    tl_write_in(path, sizeof path, "big.gz", enc.buf, enc.len);
    int errors;
    assert_int_equal(read_all(path, 64 << 10, &dec, err, &errors), -1);
    assert_int_equal(errors, 1);
    assert_true(dec.len > part[0].len);   /* some of the damaged member came out */
    assert_memory_equal(dec.buf, part[0].buf, part[0].len);
    assert_error_starts(err, "%s:%zu: corrupt gzip member", path, start2);
    assert_non_null(strstr(err, "already passed on"));
    /* undamaged, over the limit: every byte, in order */
    three_units(&enc, 0, 0);
    tl_write_in(path, sizeof path, "big-ok.gz", enc.buf, enc.len);
    assert_int_equal(read_all(path, 64 << 10, &dec, err, &errors), 0);
    assert_int_equal(dec.len, part[0].len + part[1].len + part[2].len);
    assert_memory_equal(dec.buf, part[0].buf, part[0].len);
    assert_memory_equal(dec.buf + part[0].len + part[1].len, part[2].buf, part[2].len);
    sb_free(&enc);
    sb_free(&dec);
}

/* What zlib itself decodes from a cut multi-member stream (the reference
 * for "every byte before the cut"). */
static size_t zlib_decodable(const char *data, size_t n)
{
    size_t total = 0, pos = 0;
    static unsigned char out[1 << 16];
    while (pos < n) {
        z_stream z;
        memset(&z, 0, sizeof z);
        assert_int_equal(inflateInit2(&z, 16 + MAX_WBITS), Z_OK);
        z.next_in = (unsigned char *)data + pos;
        z.avail_in = (unsigned)(n - pos);
        int ret;
        do {
            z.next_out = out;
            z.avail_out = sizeof out;
            ret = inflate(&z, Z_NO_FLUSH);
            total += sizeof out - z.avail_out;
        } while (ret == Z_OK && (z.avail_in > 0 || z.avail_out == 0));
        pos = n - z.avail_in;
        inflateEnd(&z);
        if (ret != Z_STREAM_END) break;
    }
    return total;
}

/* A cut inside a held member: what it decoded is passed on, then the
 * truncation error, whatever the read size (nothing left behind in the
 * hold buffer when the error is reported). */
static void test_truncated_member_any_read_size(void **state)
{
    (void)state;
    char path[400], err[QERR_LEN];
    strbuf enc = STRBUF_INIT, dec = STRBUF_INIT;
    three_units(&enc, 0, 0);
    size_t first = 0;
    {
        strbuf tmp = STRBUF_INIT;
        gzip_member(&tmp, part[0].buf, part[0].len);
        first = tmp.len;
        sb_free(&tmp);
    }
    size_t cut = first + (enc.len - first) / 3;   /* inside the 2nd member */
    enc.len = cut;
    tl_write_in(path, sizeof path, "cut.gz", enc.buf, enc.len);
    size_t want = zlib_decodable(enc.buf, enc.len);
    assert_true(want > part[0].len);
    size_t sizes[] = { 1, 100, 7777, 1 << 20 };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        qin *in = qin_open(path, err, sizeof err);
        assert_non_null(in);
        sb_reset(&dec);
        char *buf = malloc(sizes[i]);
        ssize_t r;
        while ((r = qin_read(in, buf, sizes[i], err, sizeof err)) > 0) sb_add(&dec, buf, (size_t)r);
        free(buf);
        qin_close(in);
        assert_int_equal(r, -1);
        assert_non_null(strstr(err, "truncated gzip"));
        if (dec.len != want) fail_msg("read size %zu: %zu bytes, zlib decodes %zu", sizes[i], dec.len, want);
        assert_memory_equal(dec.buf, part[0].buf, part[0].len);
        assert_memory_equal(dec.buf + part[0].len, part[1].buf, dec.len - part[0].len);
    }
    sb_free(&enc);
    sb_free(&dec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gzip_damaged_member_withheld),
        cmocka_unit_test(test_zstd_damaged_frame_withheld),
        cmocka_unit_test(test_many_small_members),
        cmocka_unit_test(test_member_over_limit_streams),
        cmocka_unit_test(test_truncated_member_any_read_size),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
