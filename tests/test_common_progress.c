/* Unit tests for common/progress: the --stats JSON (nesting, order, types,
 * atomic write) and the progress line when forced. */
#include "common/io.h"
#include "common/json.h"
#include "common/progress.h"
#include "testlib.h"

static void test_stats_json(void **state)
{
    (void)state;
    char path[400];
    tl_path(path, sizeof path, "stats.json");

    qstats *s = qstats_new("clean");
    qstats_add(s, "docs_in", 10);
    qstats_add(s, "dropped.gopher_short_doc", 2);
    qstats_add(s, "docs_in", 5);
    qstats_set_str(s, "input", "a \"quoted\" name");
    qstats_add(s, "dropped.c4.curly", 1);
    qstats_add(s, "dropped.gopher_short_doc", 1);
    qstats_set_num(s, "ratio", 0.25);
    qstats_set_int(s, "big", 5000000000LL);
    assert_int_equal(qstats_get_int(s, "docs_in"), 15);
    assert_int_equal(qstats_get_int(s, "absent"), 0);
    assert_int_equal(qstats_write(s, path), 0);
    qstats_free(s);

    strbuf sb = STRBUF_INIT;
    char err[QERR_LEN];
    assert_int_equal(qread_file(path, &sb, err, sizeof err), 0);
    qjson *j = qjson_parse(sb.buf, sb.len, err, sizeof err);
    if (!j) fail_msg("stats is not JSON: %s\n%s", err, sb.buf);
    assert_string_equal(qjson_str(qjson_get(j, "command"), ""), "clean");
    assert_true(qjson_num(qjson_get(j, "docs_in"), -1) == 15);
    assert_true(qjson_num(qjson_path(j, "dropped.gopher_short_doc"), -1) == 3);
    assert_true(qjson_num(qjson_path(j, "dropped.c4.curly"), -1) == 1);
    assert_true(qjson_num(qjson_get(j, "ratio"), -1) == 0.25);
    assert_true(qjson_num(qjson_get(j, "big"), -1) == 5e9);
    assert_string_equal(qjson_str(qjson_get(j, "input"), ""), "a \"quoted\" name");
    assert_true(qjson_num(qjson_get(j, "seconds"), -1) >= 0);
    /* insertion order kept: command, version, docs_in, dropped{...}, input, ratio, big, seconds */
    const char *order[] = { "command", "quern_version", "docs_in", "dropped", "input", "ratio", "big", "seconds" };
    assert_int_equal(j->len, 8);
    for (size_t i = 0; i < 8; i++) assert_string_equal(j->keys[i], order[i]);
    const qjson *dropped = qjson_get(j, "dropped");
    assert_int_equal(dropped->len, 2);
    assert_string_equal(dropped->keys[0], "gopher_short_doc");
    assert_string_equal(dropped->keys[1], "c4");
    qjson_free(j);
    sb_free(&sb);
}

static void test_progress_forced_line(void **state)
{
    (void)state;
    /* Capture stderr in a file to see the final line of a forced progress. */
    char path[400];
    int saved = tl_stderr_to(tl_path(path, sizeof path, "stderr.txt"));
    qprogress *p = qprogress_new("cat", 4096, 1);
    qprogress_update(p, 1024, 10);
    qprogress_update(p, 4096, 40);
    qprogress_finish(p);
    qprogress *silent = qprogress_new("cat", 0, 0);   /* not a TTY, not forced */
    qprogress_update(silent, 1, 1);
    qprogress_finish(silent);
    tl_stderr_restore(saved);
    strbuf sb = STRBUF_INIT;
    char err[QERR_LEN];
    assert_int_equal(qread_file(path, &sb, err, sizeof err), 0);
    /* exactly one line: the final one (updates within 5 s are not printed to a log) */
    assert_non_null(strstr(sb.buf, "quern cat: 4.0 KiB / 4.0 KiB 100%"));
    assert_non_null(strstr(sb.buf, "40 docs"));
    assert_int_equal(strchr(sb.buf, '\n') - sb.buf + 1, (long)sb.len);
    sb_free(&sb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stats_json),
        cmocka_unit_test(test_progress_forced_line),
    };
    return cmocka_run_group_tests(tests, tl_tmpdir_setup, tl_tmpdir_teardown);
}
