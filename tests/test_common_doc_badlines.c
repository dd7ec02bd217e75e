/* Unit tests for the reader's bad-line reports (qdoc_reader_bad_line): the
 * first bad line of each input in full with file:line, the rest of that
 * input in one summary line; every line with every_bad_line; the first only
 * (and a stop) without skip_bad. stderr is captured into a file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cli.h"
#include "common/doc.h"

static char tmpdir[256], path_a[400], path_b[400], errpath[400];

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/quern-test-badlines.XXXXXX");
    if (!mkdtemp(tmpdir)) return -1;
    snprintf(path_a, sizeof path_a, "%s/a.jsonl", tmpdir);
    snprintf(path_b, sizeof path_b, "%s/b.jsonl", tmpdir);
    snprintf(errpath, sizeof errpath, "%s/stderr.txt", tmpdir);
    /* a: good, 5 bad (lines 2-6), good; b: 2 bad, good */
    write_file(path_a, "{\"text\":\"one\"}\nnot json\n\x01\x02\x03\n{\"id\":1}\n[1,2]\n{\"text\":\n"
                       "{\"text\":\"two\"}\n");
    write_file(path_b, "garbage\n{\"text\":null}\n{\"text\":\"three\"}\n");
    qerr_set_cmd("t");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd);
}

/* Read both inputs with qdoc_reader_next; stderr of the whole run (close
 * included) into *errs. Returns the number of documents; *last the final rc. */
static int run(int skip_bad, int every, strbuf *errs, int *last, uint64_t *errors)
{
    fflush(stderr);
    int saved = dup(2);
    int fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(saved >= 0 && fd >= 0);
    dup2(fd, 2);
    close(fd);
    char *paths[] = { path_a, path_b };
    qdoc_reader_opts o = { .skip_bad = skip_bad, .every_bad_line = every };
    qdoc_reader *r = qdoc_reader_open(paths, 2, &o);
    qdoc d;
    qdoc_init(&d);
    int docs = 0, rc;
    while ((rc = qdoc_reader_next(r, &d)) == 1) docs++;
    *last = rc;
    *errors = qdoc_reader_errors(r);
    qdoc_reader_close(r);
    qdoc_free(&d);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    char e[QERR_LEN];
    assert_int_equal(qread_file(errpath, errs, e, sizeof e), 0);
    return docs;
}

static size_t count_lines(const strbuf *s)
{
    size_t n = 0;
    for (size_t i = 0; i < s->len; i++) n += s->buf[i] == '\n';
    return n;
}

static void test_first_then_summary(void **state)
{
    (void)state;
    strbuf errs = STRBUF_INIT;
    int last;
    uint64_t errors;
    assert_int_equal(run(1, 0, &errs, &last, &errors), 3);
    assert_int_equal(last, 0);
    assert_int_equal(errors, 7);
    char want[2000];
    snprintf(want, sizeof want,
             "quern t: %s:line 2: ", path_a);
    if (strncmp(errs.buf, want, strlen(want))) fail_msg("got:\n%s", errs.buf);
    /* then the summary of a, the first of b, and b's summary at close */
    snprintf(want, sizeof want, "\nquern t: %s: 4 more bad lines skipped\nquern t: %s:line 1: ", path_a, path_b);
    if (!strstr(errs.buf, want)) fail_msg("got:\n%s", errs.buf);
    snprintf(want, sizeof want, "\nquern t: %s: 1 more bad line skipped\n", path_b);
    size_t wl = strlen(want);
    if (errs.len < wl || strcmp(errs.buf + errs.len - wl, want)) fail_msg("got:\n%s", errs.buf);
    assert_int_equal(count_lines(&errs), 4);
    sb_free(&errs);
}

static void test_every_bad_line(void **state)
{
    (void)state;
    strbuf errs = STRBUF_INIT;
    int last;
    uint64_t errors;
    assert_int_equal(run(1, 1, &errs, &last, &errors), 3);
    assert_int_equal(errors, 7);
    assert_int_equal(count_lines(&errs), 7);
    assert_null(strstr(errs.buf, "skipped"));
    char want[600];
    snprintf(want, sizeof want, "quern t: %s:line 2: \"text\" is null", path_b);
    if (!strstr(errs.buf, want)) fail_msg("got:\n%s", errs.buf);
    sb_free(&errs);
}

static void test_strict_stops_at_first(void **state)
{
    (void)state;
    strbuf errs = STRBUF_INIT;
    int last;
    uint64_t errors;
    assert_int_equal(run(0, 0, &errs, &last, &errors), 1);
    assert_int_equal(last, -1);
    assert_int_equal(errors, 1);
    assert_int_equal(count_lines(&errs), 1);
    char want[600];
    snprintf(want, sizeof want, "quern t: %s:line 2: ", path_a);
    if (strncmp(errs.buf, want, strlen(want))) fail_msg("got:\n%s", errs.buf);
    sb_free(&errs);
}

/* Stages that parse in workers report through qdoc_reader_bad_line in input
 * order; qdoc_reader_flush_bad prints the pending summary at once. */
static void test_stage_reports_and_flush(void **state)
{
    (void)state;
    fflush(stderr);
    int saved = dup(2);
    int fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(saved >= 0 && fd >= 0);
    dup2(fd, 2);
    close(fd);
    char *paths[] = { path_a };
    qdoc_reader_opts o = { .skip_bad = 1 };
    qdoc_reader *r = qdoc_reader_open(paths, 1, &o);
    for (uint64_t i = 10; i < 320; i++) qdoc_reader_bad_line(r, "x.jsonl", i, "bad %llu", (unsigned long long)i);
    qdoc_reader_flush_bad(r);
    qdoc_reader_flush_bad(r);   /* nothing pending: prints nothing */
    uint64_t errors = qdoc_reader_errors(r);
    qdoc_reader_close(r);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
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
    return cmocka_run_group_tests(tests, setup, teardown);
}
