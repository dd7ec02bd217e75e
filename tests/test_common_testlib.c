/* Unit tests for tests/testlib.h itself: the fixtures every other unit test
 * trusts. The directory clean-up must survive names a shell would choke on
 * and must never follow a link out of the directory; writes and reads must
 * round-trip bytes exactly (NULs, sizes across the read buffer). */
#include "testlib.h"

static int exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* A tree with quotes, spaces, a newline and a '$' in its names, a link to a
 * file outside it and a link to a directory outside it: teardown removes the
 * tree, and the link targets survive. */
static void test_teardown_removes_awkward_tree_not_link_targets(void **state)
{
    char outside_dir[] = "/tmp/quern-testlib-outside.XXXXXX";
    assert_non_null(mkdtemp(outside_dir));
    char outside_file[300];
    snprintf(outside_file, sizeof outside_file, "%s/keep.txt", outside_dir);
    tl_write_text(outside_file, "keep me\n");

    assert_int_equal(tl_tmpdir_setup(state), 0);
    char dir[256], p[600];
    snprintf(dir, sizeof dir, "%s", tl_tmpdir());
    tl_mkdirs(tl_path(p, sizeof p, "it's a \"dir\"/with\nnewline/$(touch x)"));
    tl_write_text(tl_path(p, sizeof p, "it's a \"dir\"/with\nnewline/$(touch x)/f'; touch pwned; '"), "x");
    tl_write_text(tl_path(p, sizeof p, "it's a \"dir\"/top file"), "y");
    assert_int_equal(symlink(outside_file, tl_path(p, sizeof p, "link-to-file")), 0);
    assert_int_equal(symlink(outside_dir, tl_path(p, sizeof p, "it's a \"dir\"/link-to-dir")), 0);

    assert_int_equal(tl_tmpdir_teardown(state), 0);
    assert_false(exists(dir));
    char *kept = tl_read_file(outside_file, NULL);
    assert_string_equal(kept, "keep me\n");
    free(kept);
    assert_int_equal(tl_rmtree(outside_dir), 0);
    assert_false(exists(outside_dir));
}

/* Each setup makes a new directory, named after the test program. */
static void test_setup_makes_fresh_named_directories(void **state)
{
    assert_int_equal(tl_tmpdir_setup(state), 0);
    char first[256];
    snprintf(first, sizeof first, "%s", tl_tmpdir());
    assert_non_null(strstr(first, "/quern-test_common_testlib."));
    struct stat st;
    assert_int_equal(stat(first, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0700);   /* mkdtemp: private to the user */
    assert_int_equal(tl_tmpdir_teardown(state), 0);
    assert_int_equal(tl_tmpdir_setup(state), 0);
    assert_string_not_equal(tl_tmpdir(), first);
    assert_int_equal(tl_tmpdir_teardown(state), 0);
    /* a second teardown has nothing to remove: it says so */
    assert_int_equal(tl_tmpdir_teardown(state), -1);
}

/* Bytes go out and come back exactly: NULs inside, sizes on both sides of
 * the read buffer's growth, the empty file; the result is NUL-terminated. */
static void test_write_read_round_trip(void **state)
{
    (void)state;
    char p[400];
    size_t sizes[] = { 0, 1, 4095, 4096, 4097, 100000 };
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t n = sizes[k];
        char *data = malloc(n + 1);
        for (size_t i = 0; i < n; i++) data[i] = (char)(i * 131 + k);   /* NULs included */
        tl_write_in(p, sizeof p, "bytes.bin", data, n);
        size_t got_n = 12345;
        char *got = tl_read_file(p, &got_n);
        assert_int_equal(got_n, n);
        assert_memory_equal(got, data, n);
        assert_int_equal(got[n], 0);
        free(got);
        free(data);
    }
    /* a shorter write replaces, not overwrites in place */
    tl_write_text(p, "short");
    char *got = tl_read_file(p, NULL);
    assert_string_equal(got, "short");
    free(got);
}

static void test_path_and_mkdirs(void **state)
{
    (void)state;
    char p[400], want[400];
    snprintf(want, sizeof want, "%s/a/7/b", tl_tmpdir());
    assert_ptr_equal(tl_path(p, sizeof p, "a/%d/b", 7), p);
    assert_string_equal(p, want);
    tl_mkdirs(p);
    tl_mkdirs(p);   /* already there: fine */
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    strcat(p, "/");   /* a trailing '/' too */
    tl_mkdirs(p);
}

static void test_stderr_capture(void **state)
{
    (void)state;
    char p[400];
    tl_path(p, sizeof p, "stderr.txt");
    int saved = tl_stderr_to(p);
    fprintf(stderr, "captured %d\n", 1);
    tl_stderr_restore(saved);
    saved = tl_stderr_to(p);   /* truncates */
    fprintf(stderr, "captured %d\n", 2);
    tl_stderr_restore(saved);
    char *got = tl_read_file(p, NULL);
    assert_string_equal(got, "captured 2\n");
    free(got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_teardown_removes_awkward_tree_not_link_targets),
        cmocka_unit_test(test_setup_makes_fresh_named_directories),
        cmocka_unit_test_setup_teardown(test_write_read_round_trip, tl_tmpdir_setup, tl_tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_path_and_mkdirs, tl_tmpdir_setup, tl_tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_stderr_capture, tl_tmpdir_setup, tl_tmpdir_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
