/* Unit tests for the reader's bad-line reports (qdoc_reader_bad_line): the
 * first bad line of each input in full with file:line, the rest of that
 * input in one summary line; every line with every_bad_line; the first only
 * (and a stop) without skip_bad. stderr is captured into a file. */
#include "common/cli.h"
#include "common/doc.h"
#include "testlib.h"

static char path_a[400], path_b[400], errpath[400];

/* The group's directory holds the two inputs every test reads. */
static int setup(void **state)
{
    if (tl_tmpdir_setup(state)) return -1;
    tl_path(path_a, sizeof path_a, "a.jsonl");
    tl_path(path_b, sizeof path_b, "b.jsonl");
    tl_path(errpath, sizeof errpath, "stderr.txt");
    /* a: good, 5 bad (lines 2-6), good; b: 2 bad, good */
    tl_write_text(path_a, "{\"text\":\"one\"}\nnot json\n\x01\x02\x03\n{\"id\":1}\n[1,2]\n{\"text\":\n"
                          "{\"text\":\"two\"}\n");
    tl_write_text(path_b, "garbage\n{\"text\":null}\n{\"text\":\"three\"}\n");
    qerr_set_cmd("t");
    return 0;
}

/* What one read of both inputs gave: documents, the final rc of
 * qdoc_reader_next, the error count, and stderr of the whole run (close
 * included). */
typedef struct {
    int docs, last;
    uint64_t errors;
    strbuf errs;
} run_result;

static run_result run(int skip_bad, int every)
{
    run_result res = { .errs = STRBUF_INIT };
    int saved = tl_stderr_to(errpath);
    char *paths[] = { path_a, path_b };
    qdoc_reader_opts o = { .skip_bad = skip_bad, .every_bad_line = every };
    qdoc_reader *r = qdoc_reader_open(paths, 2, &o);
    qdoc d;
    qdoc_init(&d);
    while ((res.last = qdoc_reader_next(r, &d)) == 1) res.docs++;
    res.errors = qdoc_reader_errors(r);
    qdoc_reader_close(r);
    qdoc_free(&d);
    tl_stderr_restore(saved);
    char e[QERR_LEN];
    assert_int_equal(qread_file(errpath, &res.errs, e, sizeof e), 0);
    return res;
}

static size_t count_lines(const strbuf *s)
{
    size_t n = 0;
    for (size_t i = 0; i < s->len; i++) n += s->buf[i] == '\n';
    return n;
}

/* The report starts with, contains, or ends with the formatted text; on a
 * mismatch the whole report is shown. */
enum where { AT_START, INSIDE, AT_END };

__attribute__((format(printf, 3, 4)))
static void expect_report(const strbuf *errs, enum where w, const char *fmt, ...)
{
    char want[2000];
    TL_FORMAT(want, fmt);
    size_t wl = strlen(want);
    int ok = w == AT_START ? !strncmp(errs->buf, want, wl)
           : w == INSIDE   ? strstr(errs->buf, want) != NULL
                           : errs->len >= wl && !strcmp(errs->buf + errs->len - wl, want);
    if (!ok) fail_msg("want %s '%s', got:\n%s", w == AT_START ? "start" : w == INSIDE ? "inside" : "end", want,
                      errs->buf);
}

static void test_first_then_summary(void **state)
{
    (void)state;
    run_result r = run(1, 0);
    assert_int_equal(r.docs, 3);
    assert_int_equal(r.last, 0);
    assert_int_equal(r.errors, 7);
    expect_report(&r.errs, AT_START, "quern t: %s:line 2: ", path_a);
    /* then the summary of a, the first of b, and b's summary at close */
    expect_report(&r.errs, INSIDE, "\nquern t: %s: 4 more bad lines skipped\nquern t: %s:line 1: ", path_a, path_b);
    expect_report(&r.errs, AT_END, "\nquern t: %s: 1 more bad line skipped\n", path_b);
    assert_int_equal(count_lines(&r.errs), 4);
    sb_free(&r.errs);
}

static void test_every_bad_line(void **state)
{
    (void)state;
    run_result r = run(1, 1);
    assert_int_equal(r.docs, 3);
    assert_int_equal(r.errors, 7);
    assert_int_equal(count_lines(&r.errs), 7);
    assert_null(strstr(r.errs.buf, "skipped"));
    expect_report(&r.errs, INSIDE, "quern t: %s:line 2: \"text\" is null", path_b);
    sb_free(&r.errs);
}

static void test_strict_stops_at_first(void **state)
{
    (void)state;
    run_result r = run(0, 0);
    assert_int_equal(r.docs, 1);
    assert_int_equal(r.last, -1);
    assert_int_equal(r.errors, 1);
    assert_int_equal(count_lines(&r.errs), 1);
    expect_report(&r.errs, AT_START, "quern t: %s:line 2: ", path_a);
    sb_free(&r.errs);
}

/* Stages that parse in workers report through qdoc_reader_bad_line in input
 * order; qdoc_reader_flush_bad prints the pending summary at once. */
static void test_stage_reports_and_flush(void **state)
{
    (void)state;
    int saved = tl_stderr_to(errpath);
    char *paths[] = { path_a };
    qdoc_reader_opts o = { .skip_bad = 1 };
    qdoc_reader *r = qdoc_reader_open(paths, 1, &o);
    for (uint64_t i = 10; i < 320; i++) qdoc_reader_bad_line(r, "x.jsonl", i, "bad %llu", (unsigned long long)i);
    qdoc_reader_flush_bad(r);
    qdoc_reader_flush_bad(r);   /* nothing pending: prints nothing */
    uint64_t errors = qdoc_reader_errors(r);
    qdoc_reader_close(r);
    tl_stderr_restore(saved);
    strbuf errs = STRBUF_INIT;
    char e[QERR_LEN];
    assert_int_equal(qread_file(errpath, &errs, e, sizeof e), 0);
    assert_int_equal(errors, 310);
    assert_string_equal(errs.buf, "quern t: x.jsonl:line 10: bad 10\nquern t: x.jsonl: 309 more bad lines skipped\n");
    sb_free(&errs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_then_summary),
        cmocka_unit_test(test_every_bad_line),
        cmocka_unit_test(test_strict_stops_at_first),
        cmocka_unit_test(test_stage_reports_and_flush),
    };
    return cmocka_run_group_tests(tests, setup, tl_tmpdir_teardown);
}
