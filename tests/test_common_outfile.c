/* Unit tests for common/outfile: atomic output (temp name, commit, abort),
 * zstd output, stale temp cleanup, mkdir -p. */
#include <dirent.h>

#include "common/io.h"
#include "common/outfile.h"
#include "testlib.h"

/* Names in dir, sorted, joined with ',' (for exact assertions). */
static void list_dir(const char *dir, char *out, size_t n)
{
    char names[32][256];
    size_t k = 0;
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) && k < 32)
        if (e->d_name[0] != '.') snprintf(names[k++], 256, "%s", e->d_name);
    closedir(d);
    qsort(names, k, 256, (int (*)(const void *, const void *))strcmp);
    out[0] = 0;
    for (size_t i = 0; i < k; i++) {
        if (i) strncat(out, ",", n - strlen(out) - 1);
        strncat(out, names[i], n - strlen(out) - 1);
    }
}

static void test_commit_is_atomic(void **state)
{
    (void)state;
    char path[400], err[256], listing[2048], want[600];
    tl_path(path, sizeof path, "sub/dir/out.jsonl");   /* parents created */
    qout *o = qout_open(path, QOUT_PLAIN, err, sizeof err);
    assert_non_null(o);
    assert_string_equal(qout_path(o), path);
    char big[100000];
    memset(big, 'x', sizeof big);
    for (int i = 0; i < 30; i++) assert_int_equal(qout_write(o, big, sizeof big), 0);   /* > buffer */
    assert_int_equal(qout_bytes(o), 3000000);
    /* while writing: only the temp name exists, never the final one */
    assert_false(qout_is_complete(path));
    char dir[400];
    tl_path(dir, sizeof dir, "sub/dir");
    list_dir(dir, listing, sizeof listing);
    snprintf(want, sizeof want, "out.jsonl.tmp.%ld", (long)getpid());
    assert_string_equal(listing, want);
    assert_int_equal(qout_commit(o, err, sizeof err), 0);
    list_dir(dir, listing, sizeof listing);
    assert_string_equal(listing, "out.jsonl");
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 3000000);
}

static void test_abort_removes_temp(void **state)
{
    (void)state;
    char path[600], err[256], listing[2048], dir[400];
    tl_path(dir, sizeof dir, "abort");
    snprintf(path, sizeof path, "%s/x.bin", dir);
    qout *o = qout_open(path, QOUT_ZSTD, err, sizeof err);
    assert_non_null(o);
    assert_int_equal(qout_write(o, "hello", 5), 0);
    qout_abort(o);
    list_dir(dir, listing, sizeof listing);
    assert_string_equal(listing, "");
    assert_false(qout_is_complete(path));
}

static void test_stale_temp_removed_and_live_kept(void **state)
{
    (void)state;
    char path[600], err[256], listing[2048], dir[400], stale[700], live[700];
    tl_path(dir, sizeof dir, "stale");
    assert_int_equal(qmkdirs(dir), 0);
    snprintf(path, sizeof path, "%s/f.txt", dir);
    /* pid 2^22+12345 is above the default pid_max: certainly dead. Our parent is alive. */
    snprintf(stale, sizeof stale, "%s.tmp.%d", path, (1 << 22) + 12345);
    snprintf(live, sizeof live, "%s.tmp.%ld", path, (long)getppid());
    tl_write_text(stale, "");
    tl_write_text(live, "");
    assert_int_equal(qout_write_file(path, "abc", 3, err, sizeof err), 0);
    list_dir(dir, listing, sizeof listing);
    char want[600];
    snprintf(want, sizeof want, "f.txt,f.txt.tmp.%ld", (long)getppid());
    assert_string_equal(listing, want);
}

static void test_zstd_output_roundtrip(void **state)
{
    (void)state;
    char path[400], err[256];
    tl_path(path, sizeof path, "z.jsonl.zst");
    qout *o = qout_open(path, QOUT_ZSTD, err, sizeof err);
    assert_non_null(o);
    strbuf want = STRBUF_INIT, got = STRBUF_INIT;
    for (int i = 0; i < 200000; i++) sb_addf(&want, "{\"text\":\"%d\"}\n", i);
    for (size_t off = 0; off < want.len; off += 4096) {
        size_t n = want.len - off < 4096 ? want.len - off : 4096;
        assert_int_equal(qout_write(o, want.buf + off, n), 0);
    }
    assert_int_equal(qout_commit(o, err, sizeof err), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_true((size_t)st.st_size < want.len / 4);   /* really compressed */
    qin *in = qin_open(path, err, sizeof err);
    assert_int_equal(qin_format(in), QFMT_ZSTD);
    qin_close(in);
    assert_int_equal(qread_file(path, &got, err, sizeof err), 0);
    assert_int_equal(got.len, want.len);
    assert_memory_equal(got.buf, want.buf, want.len);
    sb_free(&want);
    sb_free(&got);
}

static void test_open_errors(void **state)
{
    (void)state;
    char err[256], path[400];
    tl_path(path, sizeof path, "file");
    assert_int_equal(qout_write_file(path, "x", 1, err, sizeof err), 0);
    char under[500];
    tl_path(under, sizeof under, "file/child.txt");   /* parent is a file */
    assert_null(qout_open(under, QOUT_PLAIN, err, sizeof err));
    assert_non_null(strstr(err, "cannot create"));
    assert_int_equal(qmkdirs(path), -1);
}

/* A target that is not a regular file (/dev/null, a FIFO) is written in place:
 * renaming a temp file onto it would replace the device with a plain file. */
static void test_special_file_written_in_place(void **state)
{
    (void)state;
    char dir[300], fifo[320], err[QERR_LEN];
    tl_path(dir, sizeof dir, "special");
    assert_int_equal(mkdir(dir, 0700), 0);
    snprintf(fifo, sizeof fifo, "%s/pipe", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    int rd = open(fifo, O_RDONLY | O_NONBLOCK); /* so the writer's open does not block */
    assert_true(rd >= 0);
    qout *o = qout_open(fifo, QOUT_PLAIN, err, sizeof err);
    assert_non_null(o);
    assert_int_equal(qout_write(o, "hello\n", 6), 0);
    assert_int_equal(qout_commit(o, err, sizeof err), 0);
    struct stat st;
    assert_int_equal(stat(fifo, &st), 0);
    assert_true(S_ISFIFO(st.st_mode));
    char buf[16] = { 0 };
    assert_int_equal(read(rd, buf, sizeof buf), 6);
    assert_string_equal(buf, "hello\n");
    close(rd);
    char names[512];
    list_dir(dir, names, sizeof names);
    assert_string_equal(names, "pipe"); /* no temp file left beside it */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_commit_is_atomic),
        cmocka_unit_test(test_abort_removes_temp),
        cmocka_unit_test(test_stale_temp_removed_and_live_kept),
        cmocka_unit_test(test_zstd_output_roundtrip),
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_special_file_written_in_place),
    };
    return cmocka_run_group_tests(tests, tl_tmpdir_setup, tl_tmpdir_teardown);
}
