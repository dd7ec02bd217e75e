/* Unit tests for common/strbuf. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"

static void test_empty_is_valid(void **state)
{
    (void)state;
    strbuf sb = STRBUF_INIT;
    assert_string_equal(sb_str(&sb), "");
    assert_int_equal(sb.len, 0);
    sb_free(&sb);
}

static void test_append_and_embedded_nul(void **state)
{
    (void)state;
    strbuf sb = STRBUF_INIT;
    sb_adds(&sb, "ab");
    sb_add(&sb, "\0c", 2);
    sb_addc(&sb, 'd');
    assert_int_equal(sb.len, 5);
    assert_memory_equal(sb.buf, "ab\0cd", 6); /* includes the terminating NUL */
    sb_reset(&sb);
    assert_int_equal(sb.len, 0);
    assert_string_equal(sb.buf, "");
    sb_free(&sb);
}

static void test_addf_grows_past_initial(void **state)
{
    (void)state;
    strbuf sb = STRBUF_INIT;
    for (int i = 0; i < 1000; i++) sb_addf(&sb, "%04d,", i);
    assert_int_equal(sb.len, 5000);
    assert_memory_equal(sb.buf + 4995, "0999,", 5);
    char big[300];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    sb_reset(&sb);
    sb_addf(&sb, "[%s]", big);
    assert_int_equal(sb.len, 301);
    assert_int_equal(sb.buf[300], ']');
    size_t len;
    char *p = sb_detach(&sb, &len);
    assert_int_equal(len, 301);
    assert_null(sb.buf);
    free(p);
}

static void test_setlen_truncates(void **state)
{
    (void)state;
    strbuf sb = STRBUF_INIT;
    sb_adds(&sb, "hello world");
    sb_setlen(&sb, 5);
    assert_string_equal(sb.buf, "hello");
    sb_free(&sb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_is_valid),
        cmocka_unit_test(test_append_and_embedded_nul),
        cmocka_unit_test(test_addf_grows_past_initial),
        cmocka_unit_test(test_setlen_truncates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
