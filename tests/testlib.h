/* testlib.h - fixtures shared by the unit tests (tests/test_*.c): a private
 * temporary directory (tl_tmpdir_setup/_teardown, tl_tmpdir, tl_rmtree),
 * paths inside it (tl_path), whole-file writes and reads that fail the test
 * (not crash it) when the file system says no (tl_write_file, tl_write_text,
 * tl_write_in, tl_read_file), mkdir -p (tl_mkdirs), stderr captured into a
 * file (tl_stderr_to/_restore), and the formatting step of printf-like
 * assertion helpers (TL_FORMAT).
 *
 * The directory: tl_tmpdir_setup / tl_tmpdir_teardown have cmocka's fixture
 * signature, so they serve as a group fixture (one directory for the whole
 * file: cmocka_run_group_tests(tests, tl_tmpdir_setup, tl_tmpdir_teardown))
 * or as a per-test one (a fresh directory for each test:
 * cmocka_unit_test_setup_teardown(t, tl_tmpdir_setup, tl_tmpdir_teardown)).
 * A file that needs more set up calls tl_tmpdir_setup from its own fixture.
 * The directory is removed with nftw(), never through a shell, so no name a
 * test creates (quotes, spaces, newlines) can break the clean-up or make it
 * touch anything outside the directory; symbolic links are removed, not
 * followed. */
#ifndef QUERN_TESTLIB_H
#define QUERN_TESTLIB_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The current test directory ("" outside a fixture). One per test program:
 * each test file is its own translation unit. Short on purpose: the tests
 * format names under it into fixed buffers, and the compiler checks those
 * sizes against this one (a $TMPDIR too long for it fails the setup). */
static char tl_tmpdir_[256];

static inline const char *tl_tmpdir(void)
{
    if (!tl_tmpdir_[0]) fail_msg("no temporary directory: the test needs the tl_tmpdir_setup fixture");
    return tl_tmpdir_;
}

/* Make $TMPDIR (or /tmp)/quern-<test program>.XXXXXX: the name says which
 * test left it behind if a run is killed before its teardown. */
static inline int tl_tmpdir_setup(void **state)
{
    (void)state;
    const char *base = getenv("TMPDIR");
    if (!base || !*base) base = "/tmp";
    /* no trailing '/': tests compare paths the code derives from this one */
    size_t bl = strlen(base);
    while (bl > 1 && base[bl - 1] == '/') bl--;
    int n = snprintf(tl_tmpdir_, sizeof tl_tmpdir_, "%.*s/quern-%s.XXXXXX", (int)bl, base,
                     program_invocation_short_name);
    if (n < 0 || (size_t)n >= sizeof tl_tmpdir_ || !mkdtemp(tl_tmpdir_)) {
        fprintf(stderr, "cannot make a temporary directory under %s: %s\n", base, strerror(errno));
        tl_tmpdir_[0] = 0;
        return -1;
    }
    return 0;
}

static inline int tl_rmtree_entry_(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    int rc = type == FTW_DP ? rmdir(path) : unlink(path);
    if (rc) fprintf(stderr, "cannot remove %s: %s\n", path, strerror(errno));
    return rc;
}

/* rm -rf without a shell: children first (FTW_DEPTH), links themselves
 * (FTW_PHYS), never across into another file system (FTW_MOUNT). */
static inline int tl_rmtree(const char *dir)
{
    return nftw(dir, tl_rmtree_entry_, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

static inline int tl_tmpdir_teardown(void **state)
{
    (void)state;
    if (!tl_tmpdir_[0]) return -1;
    int rc = tl_rmtree(tl_tmpdir_);
    tl_tmpdir_[0] = 0;
    return rc ? -1 : 0;
}

/* out = "<tmpdir>/" + the formatted name; a name too long for out fails the
 * test rather than silently naming another file. Returns out. */
__attribute__((format(printf, 3, 4)))
static inline char *tl_path(char *out, size_t cap, const char *fmt, ...)
{
    const char *dir = tl_tmpdir();
    int n = snprintf(out, cap, "%s/", dir);
    assert_true(n > 0 && (size_t)n < cap);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(out + n, cap - (size_t)n, fmt, ap);
    va_end(ap);
    if (m < 0 || (size_t)m >= cap - (size_t)n) fail_msg("path under %s longer than %zu bytes", dir, cap);
    return out;
}

/* In a printf-like helper (..., const char *fmt, ...): the array buf = the
 * caller's text, failing the test rather than comparing a cut one. */
#define TL_FORMAT(buf, fmt)                                                                       \
    do {                                                                                          \
        _Static_assert(!__builtin_types_compatible_p(__typeof__(buf), __typeof__(&(buf)[0])),     \
                       "TL_FORMAT needs an array, not a pointer");                                \
        va_list tl_ap_;                                                                           \
        va_start(tl_ap_, fmt);                                                                    \
        int tl_n_ = vsnprintf(buf, sizeof(buf), fmt, tl_ap_);                                     \
        va_end(tl_ap_);                                                                           \
        if (tl_n_ < 0 || (size_t)tl_n_ >= sizeof(buf)) fail_msg("text over %zu bytes: %s", sizeof(buf), buf); \
    } while (0)

/* Write (replace) the whole file: n bytes of data. */
static inline void tl_write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) fail_msg("cannot create %s: %s", path, strerror(errno));
    if (n) assert_int_equal(fwrite(data, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static inline void tl_write_text(const char *path, const char *text)
{
    tl_write_file(path, text, strlen(text));
}

/* Write n bytes as the file `name` (a relative path) of the test directory;
 * its full path goes to path (cap bytes). Returns path. */
static inline char *tl_write_in(char *path, size_t cap, const char *name, const void *data, size_t n)
{
    tl_write_file(tl_path(path, cap, "%s", name), data, n);
    return path;
}

/* The whole file, malloc'd and NUL-terminated (so text can be compared as a
 * string); its length in *n when n is not NULL. A missing file fails the
 * test with its name. */
static inline char *tl_read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("cannot open %s: %s", path, strerror(errno));
    size_t len = 0, cap = 4096;
    char *buf = malloc(cap);
    assert_non_null(buf);
    for (;;) {
        if (cap - len < 4096) {
            cap *= 2;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
        size_t got = fread(buf + len, 1, cap - len - 1, f);
        len += got;
        if (got == 0) break;
    }
    assert_false(ferror(f));
    fclose(f);
    buf[len] = 0;
    if (n) *n = len;
    return buf;
}

/* mkdir -p: every missing directory of path (0755); existing ones are fine. */
static inline void tl_mkdirs(const char *path)
{
    char p[4096];
    size_t len = strlen(path);
    assert_true(len < sizeof p);
    memcpy(p, path, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (p[i] != '/' && p[i] != 0) continue;
        char c = p[i];
        p[i] = 0;
        if (mkdir(p, 0755) && errno != EEXIST) fail_msg("cannot make directory %s: %s", p, strerror(errno));
        p[i] = c;
    }
}

/* Send stderr (fd 2) to path, truncated, until tl_stderr_restore: to check
 * what the code under test reports. Returns the saved descriptor. */
static inline int tl_stderr_to(const char *path)
{
    fflush(stderr);
    int saved = dup(2);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (saved < 0 || fd < 0) fail_msg("cannot redirect stderr to %s: %s", path, strerror(errno));
    assert_int_equal(dup2(fd, 2), 2);
    close(fd);
    return saved;
}

static inline void tl_stderr_restore(int saved)
{
    fflush(stderr);
    assert_int_equal(dup2(saved, 2), 2);
    close(saved);
}

#endif
