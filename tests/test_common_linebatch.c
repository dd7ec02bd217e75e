/* Unit tests for common/linebatch: batch limits, line positions, and the
 * "hand out the lines read before a reader failure first" contract. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/linebatch.h"

static char tmpdir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/quern-test-linebatch.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd);
}

static void write_file(char *path, size_t cap, const char *name, const char *data)
{
    snprintf(path, cap, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, strlen(data), f), strlen(data));
    fclose(f);
}

static void assert_line(const qlinebatch *b, size_t i, const char *text, uint64_t line_no,
                        const char *name)
{
    assert_int_equal(b->lines[i].len, strlen(text));
    assert_memory_equal(qlinebatch_line(b, i), text, strlen(text));
    assert_int_equal(b->lines[i].line_no, line_no);
    assert_string_equal(b->lines[i].name, name);
}

static void test_max_lines_and_positions(void **state)
{
    (void)state;
    char a[400], b2[400];
    write_file(a, sizeof a, "a.jsonl", "{\"text\":\"1\"}\n\n{\"text\":\"3\"}\n{\"text\":\"4\"}\n");
    write_file(b2, sizeof b2, "b.jsonl", "{\"text\":\"b1\"}");   /* no final newline */
    char *paths[] = { a, b2 };
    qdoc_reader_opts o = { .skip_bad = 1 };
    qdoc_reader *r = qdoc_reader_open(paths, 2, &o);
    qline_feed f;
    qline_feed_init(&f, r);
    qlinebatch b = { 0 };
    int stop = 0;

    assert_int_equal(qlinebatch_produce(&f, &b, 1 << 20, 2, &stop), 1);
    assert_int_equal(stop, 0);
    assert_int_equal(b.n, 2);
    assert_line(&b, 0, "{\"text\":\"1\"}", 1, a);
    assert_line(&b, 1, "{\"text\":\"3\"}", 3, a);   /* the blank line 2 is skipped */
    assert_int_equal(b.lines[1].off, b.lines[0].len);   /* back to back, no newlines */
    assert_int_equal(b.data.len, b.lines[0].len + b.lines[1].len);

    qlinebatch_reset(&b);
    assert_int_equal(b.n, 0);
    assert_int_equal(b.data.len, 0);
    assert_int_equal(qlinebatch_produce(&f, &b, 1 << 20, 2, &stop), 1);
    assert_int_equal(b.n, 2);   /* a batch spans inputs */
    assert_line(&b, 0, "{\"text\":\"4\"}", 4, a);
    assert_line(&b, 1, "{\"text\":\"b1\"}", 1, b2);

    qlinebatch_reset(&b);
    assert_int_equal(qlinebatch_produce(&f, &b, 1 << 20, 2, &stop), 0);
    assert_int_equal(stop, 0);   /* a clean end */
    assert_int_equal(b.n, 0);

    qlinebatch_free(&b);
    qline_feed_free(&f);
    qdoc_reader_close(r);
}

static void test_max_bytes(void **state)
{
    (void)state;
    char a[400];
    /* five lines of 12 bytes each */
    write_file(a, sizeof a, "bytes.jsonl",
               "{\"text\":\"a\"}\n{\"text\":\"b\"}\n{\"text\":\"c\"}\n{\"text\":\"d\"}\n{\"text\":\"e\"}\n");
    char *paths[] = { a };
    qdoc_reader_opts o = { .skip_bad = 1 };
    qdoc_reader *r = qdoc_reader_open(paths, 1, &o);
    qline_feed f;
    qline_feed_init(&f, r);
    qlinebatch b = { 0 };
    int stop = 0;
    /* the batch closes once it holds max_bytes or more: 12 < 20, 24 >= 20 */
    size_t sizes[] = { 2, 2, 1 };
    for (size_t k = 0; k < 3; k++) {
        qlinebatch_reset(&b);
        assert_int_equal(qlinebatch_produce(&f, &b, 20, 1000, &stop), 1);
        assert_int_equal(b.n, sizes[k]);
        assert_int_equal(b.data.len, 12 * sizes[k]);
    }
    assert_line(&b, 0, "{\"text\":\"e\"}", 5, a);
    qlinebatch_reset(&b);
    assert_int_equal(qlinebatch_produce(&f, &b, 20, 1000, &stop), 0);
    assert_int_equal(stop, 0);
    qlinebatch_free(&b);
    qline_feed_free(&f);
    qdoc_reader_close(r);
}

/* A strict reader fails on a too-long line: the lines before it are handed
 * out first, and the next call stops without reading past the failure. */
static void test_failure_is_reported_after_the_lines_before_it(void **state)
{
    (void)state;
    char a[400], b2[400];
    write_file(a, sizeof a, "fail.jsonl",
               "{\"text\":\"1\"}\n{\"text\":\"2\"}\n{\"text\":\"this line is too long\"}\n{\"text\":\"4\"}\n");
    write_file(b2, sizeof b2, "after.jsonl", "{\"text\":\"b1\"}\n");
    char *paths[] = { a, b2 };
    qdoc_reader_opts o = { .skip_bad = 0, .max_line = 20 };
    qdoc_reader *r = qdoc_reader_open(paths, 2, &o);
    qline_feed f;
    qline_feed_init(&f, r);
    qlinebatch b = { 0 };
    int stop = 0;

    assert_int_equal(qlinebatch_produce(&f, &b, 1 << 20, 1000, &stop), 1);
    assert_int_equal(stop, 0);
    assert_int_equal(b.n, 2);
    assert_line(&b, 1, "{\"text\":\"2\"}", 2, a);

    qlinebatch_reset(&b);
    assert_int_equal(qlinebatch_produce(&f, &b, 1 << 20, 1000, &stop), 0);
    assert_int_equal(stop, 1);
    assert_int_equal(b.n, 0);   /* line 4 and after.jsonl are never handed out */
    assert_int_equal(qdoc_reader_errors(r), 1);

    qlinebatch_free(&b);
    qline_feed_free(&f);
    qdoc_reader_close(r);
}

/* A failure before any line of the batch stops at once. */
static void test_failure_with_nothing_read_stops_at_once(void **state)
{
    (void)state;
    char good[400];
    write_file(good, sizeof good, "good.jsonl", "{\"text\":\"a\"}\n");
    char *paths[] = { "/nonexistent/x.jsonl", good };
    qdoc_reader_opts o = { .skip_bad = 0 };
    qdoc_reader *r = qdoc_reader_open(paths, 2, &o);
    qline_feed f;
    qline_feed_init(&f, r);
    qlinebatch b = { 0 };
    int stop = 0;
    assert_int_equal(qlinebatch_produce(&f, &b, 1 << 20, 1000, &stop), 0);
    assert_int_equal(stop, 1);
    assert_int_equal(b.n, 0);
    assert_int_equal(qdoc_reader_failed_inputs(r), 1);
    qlinebatch_free(&b);
    qline_feed_free(&f);
    qdoc_reader_close(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_max_lines_and_positions),
        cmocka_unit_test(test_max_bytes),
        cmocka_unit_test(test_failure_is_reported_after_the_lines_before_it),
        cmocka_unit_test(test_failure_with_nothing_read_stops_at_once),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
