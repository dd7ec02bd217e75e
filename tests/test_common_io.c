/* Unit tests for common/io: format detection by magic, multi-member gzip,
 * truncation errors (after all complete data), lines, stdin, input lists. */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/io.h"
#include "io_testlib.h"
#include "testlib.h"

static strbuf payload;   /* ~600 KB of numbered lines */

static int setup(void **state)
{
    if (tl_tmpdir_setup(state)) return -1;
    sb_init(&payload, 0);
    for (int i = 0; i < 20000; i++) sb_addf(&payload, "line %06d %s\n", i, i % 7 ? "abc" : "xyz-longer-text");
    return 0;
}

static int teardown(void **state)
{
    sb_free(&payload);
    return tl_tmpdir_teardown(state);
}

/* Read the whole stream; returns qin_read's final status (0 or -1). */
static int read_all(const char *path, strbuf *out, qfmt *fmt, char *err)
{
    qin *in = qin_open(path, err, QERR_LEN);
    assert_non_null(in);
    if (fmt) *fmt = qin_format(in);
    sb_reset(out);
    int rc;
    char buf[7777];   /* odd size: exercises partial refills */
    for (;;) {
        ssize_t r = qin_read(in, buf, sizeof buf, err, QERR_LEN);
        if (r <= 0) {
            rc = (int)r;
            break;
        }
        sb_add(out, buf, (size_t)r);
    }
    qin_close(in);
    return rc;
}

static void test_detect_by_magic(void **state)
{
    (void)state;
    char path[400], err[QERR_LEN];
    strbuf enc = STRBUF_INIT, dec = STRBUF_INIT;
    qfmt fmt;
    /* names lie on purpose: content decides */
    tl_write_in(path, sizeof path, "plain.gz", payload.buf, payload.len);
    assert_int_equal(read_all(path, &dec, &fmt, err), 0);
    assert_int_equal(fmt, QFMT_PLAIN);
    assert_int_equal(dec.len, payload.len);

    gzip_member(&enc, payload.buf, payload.len);
    tl_write_in(path, sizeof path, "gzip.zst", enc.buf, enc.len);
    assert_int_equal(read_all(path, &dec, &fmt, err), 0);
    assert_int_equal(fmt, QFMT_GZIP);
    assert_int_equal(dec.len, payload.len);
    assert_memory_equal(dec.buf, payload.buf, payload.len);

    sb_reset(&enc);
    zstd_frame(&enc, payload.buf, payload.len / 2);
    zstd_frame(&enc, payload.buf + payload.len / 2, payload.len - payload.len / 2);  /* two frames */
    tl_write_in(path, sizeof path, "zstd.txt", enc.buf, enc.len);
    assert_int_equal(read_all(path, &dec, &fmt, err), 0);
    assert_int_equal(fmt, QFMT_ZSTD);
    assert_int_equal(dec.len, payload.len);
    assert_memory_equal(dec.buf, payload.buf, payload.len);

    tl_write_in(path, sizeof path, "empty", "", 0);
    assert_int_equal(read_all(path, &dec, &fmt, err), 0);
    assert_int_equal(fmt, QFMT_PLAIN);
    assert_int_equal(dec.len, 0);
    sb_free(&enc);
    sb_free(&dec);
}

static void test_gzip_multi_member(void **state)
{
    (void)state;
    char path[400], err[QERR_LEN];
    strbuf enc = STRBUF_INIT, dec = STRBUF_INIT;
    size_t third = payload.len / 3;
    gzip_member(&enc, payload.buf, third);
    gzip_member(&enc, payload.buf + third, 0);   /* an empty member too */
    gzip_member(&enc, payload.buf + third, third);
    gzip_member(&enc, payload.buf + 2 * third, payload.len - 2 * third);
    tl_write_in(path, sizeof path, "multi.gz", enc.buf, enc.len);
    assert_int_equal(read_all(path, &dec, NULL, err), 0);
    assert_int_equal(dec.len, payload.len);
    assert_memory_equal(dec.buf, payload.buf, payload.len);

    /* garbage after a member is an error, after the good data */
    sb_adds(&enc, "GARBAGE");
    tl_write_in(path, sizeof path, "garbage.gz", enc.buf, enc.len);
    assert_int_equal(read_all(path, &dec, NULL, err), -1);
    assert_int_equal(dec.len, payload.len);
    assert_non_null(strstr(err, "not another gzip member"));
    sb_free(&enc);
    sb_free(&dec);
}

static void test_truncated_gzip(void **state)
{
    (void)state;
    char path[400], err[QERR_LEN];
    strbuf enc = STRBUF_INIT, dec = STRBUF_INIT;
    size_t half = payload.len / 2;
    gzip_member(&enc, payload.buf, half);
    size_t first = enc.len;
    gzip_member(&enc, payload.buf + half, payload.len - half);
    size_t cuts[] = { enc.len - 4 /* in the trailer */, first + 5 /* in the 2nd header */,
                      first + (enc.len - first) / 2 /* mid-deflate */, first + 1 };
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        tl_write_in(path, sizeof path, "trunc.gz", enc.buf, cuts[i]);
        assert_int_equal(read_all(path, &dec, NULL, err), -1);
        /* the message names the file and the compressed offset where it ends */
        assert_error_starts(err, "%s:%zu: truncated gzip", path, cuts[i]);
        /* everything before the damage came out, and nothing invented */
        assert_true(dec.len >= half);
        assert_true(dec.len <= payload.len);
        assert_memory_equal(dec.buf, payload.buf, dec.len);
    }
    /* lines: the partial last line is not returned as a line */
    tl_write_in(path, sizeof path, "trunc.gz", enc.buf, first + (enc.len - first) / 2);
    int rc;
    size_t lines = read_lines_of(path, payload.buf, payload.len, &rc, err);
    assert_int_equal(rc, -1);
    assert_true(lines >= 10000);
    assert_true(lines < 20000);
    sb_free(&enc);
    sb_free(&dec);
}

static void test_truncated_and_corrupt_zstd(void **state)
{
    (void)state;
    char path[400], err[QERR_LEN];
    strbuf enc = STRBUF_INIT, dec = STRBUF_INIT;
    zstd_frame(&enc, payload.buf, payload.len);
    tl_write_in(path, sizeof path, "trunc.zst", enc.buf, enc.len - 3);
    assert_int_equal(read_all(path, &dec, NULL, err), -1);
    assert_non_null(strstr(err, "truncated zstd"));
    assert_non_null(strstr(err, path));
    enc.buf[enc.len / 2] ^= 0x55;
    enc.buf[enc.len / 2 + 1] ^= 0x55;
    tl_write_in(path, sizeof path, "corrupt.zst", enc.buf, enc.len);
    assert_int_equal(read_all(path, &dec, NULL, err), -1);
    assert_non_null(strstr(err, "zstd"));
    sb_free(&enc);
    sb_free(&dec);
}

static void test_getline_and_offsets(void **state)
{
    (void)state;
    char path[400], err[QERR_LEN];
    tl_write_in(path, sizeof path, "lines.txt", "a\n\nbcd\r\nlast", 12);
    qin *in = qin_open(path, err, sizeof err);
    strbuf l = STRBUF_INIT;
    assert_int_equal(qin_getline(in, &l, err, sizeof err), 1);
    assert_string_equal(l.buf, "a");
    assert_int_equal(qin_offset(in), 2);
    assert_int_equal(qin_getline(in, &l, err, sizeof err), 1);
    assert_string_equal(l.buf, "");
    assert_int_equal(qin_getline(in, &l, err, sizeof err), 1);
    assert_string_equal(l.buf, "bcd\r");
    assert_int_equal(qin_getline(in, &l, err, sizeof err), 1);
    assert_string_equal(l.buf, "last");           /* no final newline */
    assert_int_equal(qin_getline(in, &l, err, sizeof err), 0);
    assert_int_equal(qin_offset(in), 12);
    assert_int_equal(qin_raw_offset(in), 12);
    assert_int_equal(qin_raw_size(in), 12);
    qin_close(in);
    /* getline_max: long line truncated, reported, and skipped cleanly */
    tl_write_in(path, sizeof path, "long.txt", "0123456789\nok\n", 14);
    in = qin_open(path, err, sizeof err);
    assert_int_equal(qin_getline_max(in, &l, 4, err, sizeof err), 2);
    assert_string_equal(l.buf, "0123");
    assert_int_equal(qin_getline_max(in, &l, 4, err, sizeof err), 1);
    assert_string_equal(l.buf, "ok");
    qin_close(in);
    sb_free(&l);
}

static void test_stdin(void **state)
{
    (void)state;
    char path[400], err[QERR_LEN];
    strbuf enc = STRBUF_INIT, dec = STRBUF_INIT;
    gzip_member(&enc, payload.buf, payload.len);
    tl_write_in(path, sizeof path, "stdin.gz", enc.buf, enc.len);
    int saved = dup(0);
    int fd = open(path, O_RDONLY);
    dup2(fd, 0);
    close(fd);
    qin *in = qin_open("-", err, sizeof err);
    assert_non_null(in);
    assert_string_equal(qin_name(in), "<stdin>");
    assert_int_equal(qin_format(in), QFMT_GZIP);
    char buf[65536];
    ssize_t r;
    while ((r = qin_read(in, buf, sizeof buf, err, sizeof err)) > 0) sb_add(&dec, buf, (size_t)r);
    assert_int_equal(r, 0);
    qin_close(in);
    dup2(saved, 0);
    close(saved);
    assert_int_equal(dec.len, payload.len);
    sb_free(&enc);
    sb_free(&dec);
}

static void test_inputs_expand(void **state)
{
    (void)state;
    char path[400], err[QERR_LEN];
    char d[300];
    tl_path(d, sizeof d, "in");
    tl_mkdirs(d);
    const char *names[] = { "in/c.jsonl", "in/a.jsonl", "in/b.jsonl.zst", "in/a.jsonl.tmp.123", "in/.hidden" };
    for (size_t i = 0; i < 5; i++) tl_write_in(path, sizeof path, names[i], "x", 1);
    char pat[400];
    tl_path(pat, sizeof pat, "in/*.jsonl*");
    char *args[] = { pat, "-", "https://example.com/x.gz" };
    qinputs q;
    assert_int_equal(qinputs_expand(&q, args, 3, 0, 1, err, sizeof err), 0);
    assert_int_equal(q.n, 5);   /* 3 files sorted (no temp, no hidden), stdin, URL */
    assert_non_null(strstr(q.paths[0], "/in/a.jsonl"));
    assert_non_null(strstr(q.paths[1], "/in/b.jsonl.zst"));
    assert_non_null(strstr(q.paths[2], "/in/c.jsonl"));
    assert_string_equal(q.paths[3], "-");
    assert_string_equal(q.paths[4], "https://example.com/x.gz");
    qinputs_free(&q);
    /* a directory = its files; shard 1/2 takes the odd ones */
    char *dargs[] = { d };
    assert_int_equal(qinputs_expand(&q, dargs, 1, 1, 2, err, sizeof err), 0);
    assert_int_equal(q.n, 1);
    assert_non_null(strstr(q.paths[0], "/in/b.jsonl.zst"));
    qinputs_free(&q);
    /* no arguments -> stdin; an unmatched glob is an error */
    assert_int_equal(qinputs_expand(&q, NULL, 0, 0, 1, err, sizeof err), 0);
    assert_int_equal(q.n, 1);
    assert_string_equal(q.paths[0], "-");
    qinputs_free(&q);
    char nomatch[400];
    tl_path(nomatch, sizeof nomatch, "none/*.jsonl");
    char *nargs[] = { nomatch };
    assert_int_equal(qinputs_expand(&q, nargs, 1, 0, 1, err, sizeof err), -1);
    assert_non_null(strstr(err, "no files match"));
}

static void test_qread_file_and_open_errors(void **state)
{
    (void)state;
    char path[400], err[QERR_LEN];
    strbuf enc = STRBUF_INIT, sb = STRBUF_INIT;
    zstd_frame(&enc, "{\"a\":1}", 7);
    tl_write_in(path, sizeof path, "small.json.zst", enc.buf, enc.len);
    assert_int_equal(qread_file(path, &sb, err, sizeof err), 0);
    assert_string_equal(sb.buf, "{\"a\":1}");
    assert_int_equal(qread_file("/nonexistent/file", &sb, err, sizeof err), -1);
    assert_non_null(strstr(err, "/nonexistent/file"));
    assert_null(qin_open(tl_tmpdir(), err, sizeof err));
    assert_non_null(strstr(err, "directory"));
    sb_free(&enc);
    sb_free(&sb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_detect_by_magic),
        cmocka_unit_test(test_gzip_multi_member),
        cmocka_unit_test(test_truncated_gzip),
        cmocka_unit_test(test_truncated_and_corrupt_zstd),
        cmocka_unit_test(test_getline_and_offsets),
        cmocka_unit_test(test_stdin),
        cmocka_unit_test(test_inputs_expand),
        cmocka_unit_test(test_qread_file_and_open_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
