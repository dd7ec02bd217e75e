/* Unit tests for common/linebatch: batch limits, line positions, and the
 * "hand out the lines read before a reader failure first" contract. */
#include "common/linebatch.h"
#include "testlib.h"

/* A reader over the inputs, the line feed on it and one batch: what each
 * test drives, set up and torn down the same way every time. */
typedef struct {
    qdoc_reader *r;
    qline_feed f;
    qlinebatch b;
    int stop;
} feed;

static void feed_open(feed *k, char **paths, size_t n, qdoc_reader_opts o)
{
    memset(k, 0, sizeof *k);
    k->r = qdoc_reader_open(paths, n, &o);
    assert_non_null(k->r);
    qline_feed_init(&k->f, k->r);
}

/* The next batch (the previous one reset first); returns what
 * qlinebatch_produce returns, the stop flag in k->stop. */
static int feed_next(feed *k, size_t max_bytes, size_t max_lines)
{
    qlinebatch_reset(&k->b);
    return qlinebatch_produce(&k->f, &k->b, max_bytes, max_lines, &k->stop);
}

static void feed_close(feed *k)
{
    qlinebatch_free(&k->b);
    qline_feed_free(&k->f);
    qdoc_reader_close(k->r);
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
    tl_write_text(tl_path(a, sizeof a, "a.jsonl"), "{\"text\":\"1\"}\n\n{\"text\":\"3\"}\n{\"text\":\"4\"}\n");
    tl_write_text(tl_path(b2, sizeof b2, "b.jsonl"), "{\"text\":\"b1\"}");   /* no final newline */
    char *paths[] = { a, b2 };
    feed k;
    feed_open(&k, paths, 2, (qdoc_reader_opts){ .skip_bad = 1 });

    assert_int_equal(feed_next(&k, 1 << 20, 2), 1);
    assert_int_equal(k.stop, 0);
    assert_int_equal(k.b.n, 2);
    assert_line(&k.b, 0, "{\"text\":\"1\"}", 1, a);
    assert_line(&k.b, 1, "{\"text\":\"3\"}", 3, a);   /* the blank line 2 is skipped */
    assert_int_equal(k.b.lines[1].off, k.b.lines[0].len);   /* back to back, no newlines */
    assert_int_equal(k.b.data.len, k.b.lines[0].len + k.b.lines[1].len);

    qlinebatch_reset(&k.b);
    assert_int_equal(k.b.n, 0);
    assert_int_equal(k.b.data.len, 0);
    assert_int_equal(feed_next(&k, 1 << 20, 2), 1);
    assert_int_equal(k.b.n, 2);   /* a batch spans inputs */
    assert_line(&k.b, 0, "{\"text\":\"4\"}", 4, a);
    assert_line(&k.b, 1, "{\"text\":\"b1\"}", 1, b2);

    assert_int_equal(feed_next(&k, 1 << 20, 2), 0);
    assert_int_equal(k.stop, 0);   /* a clean end */
    assert_int_equal(k.b.n, 0);
    feed_close(&k);
}

static void test_max_bytes(void **state)
{
    (void)state;
    char a[400];
    /* five lines of 12 bytes each */
    tl_write_text(tl_path(a, sizeof a, "bytes.jsonl"),
                  "{\"text\":\"a\"}\n{\"text\":\"b\"}\n{\"text\":\"c\"}\n{\"text\":\"d\"}\n{\"text\":\"e\"}\n");
    char *paths[] = { a };
    feed k;
    feed_open(&k, paths, 1, (qdoc_reader_opts){ .skip_bad = 1 });
    /* the batch closes once it holds max_bytes or more: 12 < 20, 24 >= 20 */
    size_t sizes[] = { 2, 2, 1 };
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(feed_next(&k, 20, 1000), 1);
        assert_int_equal(k.b.n, sizes[i]);
        assert_int_equal(k.b.data.len, 12 * sizes[i]);
    }
    assert_line(&k.b, 0, "{\"text\":\"e\"}", 5, a);
    assert_int_equal(feed_next(&k, 20, 1000), 0);
    assert_int_equal(k.stop, 0);
    feed_close(&k);
}

/* A strict reader fails on a too-long line: the lines before it are handed
 * out first, and the next call stops without reading past the failure. */
static void test_failure_is_reported_after_the_lines_before_it(void **state)
{
    (void)state;
    char a[400], b2[400];
    tl_write_text(tl_path(a, sizeof a, "fail.jsonl"),
                  "{\"text\":\"1\"}\n{\"text\":\"2\"}\n{\"text\":\"this line is too long\"}\n{\"text\":\"4\"}\n");
    tl_write_text(tl_path(b2, sizeof b2, "after.jsonl"), "{\"text\":\"b1\"}\n");
    char *paths[] = { a, b2 };
    feed k;
    feed_open(&k, paths, 2, (qdoc_reader_opts){ .skip_bad = 0, .max_line = 20 });

    assert_int_equal(feed_next(&k, 1 << 20, 1000), 1);
    assert_int_equal(k.stop, 0);
    assert_int_equal(k.b.n, 2);
    assert_line(&k.b, 1, "{\"text\":\"2\"}", 2, a);

    assert_int_equal(feed_next(&k, 1 << 20, 1000), 0);
    assert_int_equal(k.stop, 1);
    assert_int_equal(k.b.n, 0);   /* line 4 and after.jsonl are never handed out */
    assert_int_equal(qdoc_reader_errors(k.r), 1);
    feed_close(&k);
}

/* A failure before any line of the batch stops at once. */
static void test_failure_with_nothing_read_stops_at_once(void **state)
{
    (void)state;
    char good[400];
    tl_write_text(tl_path(good, sizeof good, "good.jsonl"), "{\"text\":\"a\"}\n");
    char *paths[] = { "/nonexistent/x.jsonl", good };
    feed k;
    feed_open(&k, paths, 2, (qdoc_reader_opts){ .skip_bad = 0 });
    assert_int_equal(feed_next(&k, 1 << 20, 1000), 0);
    assert_int_equal(k.stop, 1);
    assert_int_equal(k.b.n, 0);
    assert_int_equal(qdoc_reader_failed_inputs(k.r), 1);
    feed_close(&k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_max_lines_and_positions),
        cmocka_unit_test(test_max_bytes),
        cmocka_unit_test(test_failure_is_reported_after_the_lines_before_it),
        cmocka_unit_test(test_failure_with_nothing_read_stops_at_once),
    };
    return cmocka_run_group_tests(tests, tl_tmpdir_setup, tl_tmpdir_teardown);
}
