/* Unit tests for dedup: normalisation, shingles, exact Jaccard, exact keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "dedup/dedup.h"

static void check_norm(const char *in, const char *want)
{
    strbuf sb = STRBUF_INIT;
    dd_normalize(in, strlen(in), &sb);
    if (strcmp(sb_str(&sb), want)) print_error("normalize(\"%s\") = \"%s\", want \"%s\"\n", in, sb_str(&sb), want);
    assert_string_equal(sb_str(&sb), want);
    /* idempotent */
    strbuf again = STRBUF_INIT;
    dd_normalize(sb.buf ? sb.buf : "", sb.len, &again);
    assert_string_equal(sb_str(&again), want);
    sb_free(&again);
    sb_free(&sb);
}

static void test_normalize_rule(void **state)
{
    (void)state;
    check_norm("Hello,   World!", "hello world");
    check_norm("\u00c9lan, 1999-2024!", "elan 0000 0000");          /* diacritics, digits */
    check_norm("  leading and trailing \n\t", "leading and trailing");
    check_norm("\u00c7a va? \u00d1and\u00fa", "ca va nandu");
    check_norm("\u0386\u039b\u03a6\u0391", "\u03b1\u03bb\u03c6\u03b1");   /* Greek tonos stripped, lower */
    check_norm("\u0663\u0664 \u0967", "00 0");                      /* Arabic-Indic, Devanagari digits */
    check_norm("a\u2014b\u00a0c\u201cd\u201d", "a b c d");          /* em dash, NBSP, quotes */
    check_norm("word.Word a/b x_y", "word word a b x y");
    check_norm(" ,.;! ", "");
    check_norm("", "");
    check_norm("\u00df STRASSE", "\u00df strasse");                 /* simple lower-casing only */
    check_norm("Ma\u0303e", "mae");                                  /* combining tilde dropped */
    check_norm("\u4e2d\u6587\u3002\u6d4b\u8bd5", "\u4e2d\u6587 \u6d4b\u8bd5"); /* CJK kept, ideographic full stop splits */
    check_norm("\xff\xfe abc", "abc");                              /* invalid bytes separate */
    /* appends to what is there */
    strbuf sb = STRBUF_INIT;
    sb_adds(&sb, "x:");
    dd_normalize("A B", 3, &sb);
    assert_string_equal(sb.buf, "x:a b");
    sb_free(&sb);
}

static uint64_t h(const char *s) { return XXH3_64bits(s, strlen(s)); }

static void test_word_shingles(void **state)
{
    (void)state;
    dd_u64vec v = { 0 };
    const char *t = "a b c d e f g";
    dd_shingles(t, strlen(t), DD_SHINGLE_WORD, 5, &v);
    assert_int_equal(v.n, 3);
    assert_true(v.v[0] == h("a b c d e"));
    assert_true(v.v[1] == h("b c d e f"));
    assert_true(v.v[2] == h("c d e f g"));
    /* shorter than n: one shingle of all words */
    dd_shingles("a b", 3, DD_SHINGLE_WORD, 5, &v);
    assert_int_equal(v.n, 1);
    assert_true(v.v[0] == h("a b"));
    /* exactly n words */
    dd_shingles("a b c d e", 9, DD_SHINGLE_WORD, 5, &v);
    assert_int_equal(v.n, 1);
    assert_true(v.v[0] == h("a b c d e"));
    dd_shingles("", 0, DD_SHINGLE_WORD, 5, &v);
    assert_int_equal(v.n, 0);
    /* n = 1: each word */
    dd_shingles("x y x", 5, DD_SHINGLE_WORD, 1, &v);
    assert_int_equal(v.n, 3);
    assert_true(v.v[0] == h("x") && v.v[2] == h("x"));
    dd_sort_unique(&v);
    assert_int_equal(v.n, 2);
    dd_u64vec_free(&v);
}

static void test_char_shingles(void **state)
{
    (void)state;
    dd_u64vec v = { 0 };
    const char *t = "\u00e9t\u00e9 ab";   /* 6 code points, 8 bytes */
    dd_shingles(t, strlen(t), DD_SHINGLE_CHAR, 3, &v);
    assert_int_equal(v.n, 4);
    assert_true(v.v[0] == h("\u00e9t\u00e9"));
    assert_true(v.v[1] == h("t\u00e9 "));
    assert_true(v.v[3] == h(" ab"));
    dd_shingles(t, strlen(t), DD_SHINGLE_CHAR, 24, &v);
    assert_int_equal(v.n, 1);
    assert_true(v.v[0] == h(t));
    dd_u64vec_free(&v);
}

static void test_jaccard_sorted(void **state)
{
    (void)state;
    uint64_t a[] = { 1, 2, 3, 4 }, b[] = { 3, 4, 5 }, c[] = { 9 };
    assert_true(dd_jaccard_sorted(a, 4, b, 3) == 2.0 / 5.0);
    assert_true(dd_jaccard_sorted(a, 4, a, 4) == 1.0);
    assert_true(dd_jaccard_sorted(a, 4, c, 1) == 0.0);
    assert_true(dd_jaccard_sorted(a, 0, c, 0) == 0.0);
    assert_true(dd_jaccard_sorted(a, 4, c, 0) == 0.0);
}

static void test_exact_key(void **state)
{
    (void)state;
    dd_key128 k1 = dd_exact_key("abc", 3), k2 = dd_exact_key("abc", 3), k3 = dd_exact_key("abd", 3);
    assert_true(k1.hi == k2.hi && k1.lo == k2.lo);
    assert_false(k1.hi == k3.hi && k1.lo == k3.lo);
    XXH128_hash_t x = XXH3_128bits("abc", 3);
    assert_true(k1.hi == x.high64 && k1.lo == x.low64);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normalize_rule),
        cmocka_unit_test(test_word_shingles),
        cmocka_unit_test(test_char_shingles),
        cmocka_unit_test(test_jaccard_sorted),
        cmocka_unit_test(test_exact_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
