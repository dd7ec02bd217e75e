/* Unit tests for common/utf8: validation, maximal-subpart repair, codec. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "common/utf8.h"

static void test_valid_prefix(void **state)
{
    (void)state;
    const char ok[] = "plain ascii, caf\xC3\xA9, \xE2\x82\xAC, \xF0\x9F\x98\x80 and more ascii text";
    assert_int_equal(utf8_valid_prefix(ok, strlen(ok)), strlen(ok));
    assert_true(utf8_is_valid("", 0));
    /* bad byte after 9 ASCII bytes, past the 8-byte fast path */
    assert_int_equal(utf8_valid_prefix("123456789\xFFxyz", 13), 9);
    /* overlong, surrogate, above U+10FFFF, truncated, lone continuation */
    assert_false(utf8_is_valid("\xC0\xAF", 2));
    assert_false(utf8_is_valid("\xE0\x80\xAF", 3));
    assert_false(utf8_is_valid("\xED\xA0\x80", 3));
    assert_false(utf8_is_valid("\xF4\x90\x80\x80", 4));
    assert_false(utf8_is_valid("\xE2\x82", 2));
    assert_false(utf8_is_valid("\x80", 1));
    assert_false(utf8_is_valid("\xF8\x88\x80\x80\x80", 5));
    assert_true(utf8_is_valid("\xF4\x8F\xBF\xBF", 4));    /* U+10FFFF */
    assert_true(utf8_is_valid("\xED\x9F\xBF", 3));        /* U+D7FF */
}

static void check_repair(const char *in, size_t len, const char *want, size_t want_repairs)
{
    strbuf sb = STRBUF_INIT;
    size_t n = utf8_repair(&sb, in, len);
    assert_int_equal(n, want_repairs);
    assert_int_equal(sb.len, strlen(want));
    assert_memory_equal(sb.buf, want, sb.len);
    assert_true(utf8_is_valid(sb.buf, sb.len));
    sb_free(&sb);
}

#define FFFD "\xEF\xBF\xBD"

static void test_repair_maximal_subparts(void **state)
{
    (void)state;
    check_repair("abc", 3, "abc", 0);
    check_repair("a\xFF" "b", 3, "a" FFFD "b", 1);
    /* a truncated 3-byte sequence is ONE maximal subpart */
    check_repair("a\xE2\x82" "b", 4, "a" FFFD "b", 1);
    /* overlong C0 AF: C0 is never a valid lead, so two replacements */
    check_repair("\xC0\xAF", 2, FFFD FFFD, 2);
    /* surrogate ED A0 80: ED then A0 is out of range -> 3 replacements */
    check_repair("\xED\xA0\x80", 3, FFFD FFFD FFFD, 3);
    /* the Unicode standard's own example (Table 3-8) */
    check_repair("\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64", 13,
                 "a" FFFD FFFD FFFD "b" FFFD "c" FFFD FFFD "d", 6);
    /* truncated at the very end */
    check_repair("ok\xF0\x9F\x98", 5, "ok" FFFD, 1);
}

static void test_decode_encode_roundtrip(void **state)
{
    (void)state;
    uint32_t cps[] = { 0x41, 0x7F, 0x80, 0x7FF, 0x800, 0xFFFD, 0xFFFF, 0x10000, 0x1F600, 0x10FFFF };
    for (size_t i = 0; i < sizeof cps / sizeof cps[0]; i++) {
        char buf[4];
        size_t n = utf8_encode(cps[i], buf);
        uint32_t back;
        assert_int_equal(utf8_decode(buf, n, &back), n);
        assert_int_equal(back, cps[i]);
    }
    char buf[4];
    uint32_t cp;
    /* encode never emits a surrogate */
    size_t n = utf8_encode(0xD800, buf);
    assert_int_equal(utf8_decode(buf, n, &cp), 3);
    assert_int_equal(cp, 0xFFFD);
    assert_int_equal(utf8_decode("\xFF", 1, &cp), 0);
    assert_int_equal(cp, 0xFFFD);
}

static void test_count(void **state)
{
    (void)state;
    const char *s = "h\xC3\xA9llo w\xC3\xB6rld \xE2\x82\xAC\xF0\x9F\x98\x80!"; /* 15 code points */
    assert_int_equal(utf8_count(s, strlen(s)), 15);
    assert_int_equal(utf8_count("", 0), 0);
    assert_int_equal(utf8_count("abcdefghijklmnopq", 17), 17);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_prefix),
        cmocka_unit_test(test_repair_maximal_subparts),
        cmocka_unit_test(test_decode_encode_roundtrip),
        cmocka_unit_test(test_count),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
