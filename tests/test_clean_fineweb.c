/* Golden tests for clean/fineweb.c (FineWeb quality): each threshold with a
 * document just inside and one just outside, and the reason name. */
#include "clean_testlib.h"

/* every test off but one (given as "param=value") */
static int fw_only(const char *param, const char *text)
{
    char one[128];
    snprintf(one, sizeof one, "fineweb_quality.%s", param);
    const char *sets[] = {
        "fineweb_quality.line_punct_thr=0", "fineweb_quality.short_line_thr=1",
        "fineweb_quality.char_duplicates_ratio=1", "fineweb_quality.new_line_ratio=1000",
        one, NULL,
    };
    return tl_run("fineweb_quality", sets, text);
}

/* n distinct lines of more than 30 characters; the first `punct` end in ".". */
static void long_lines(strbuf *sb, int n, int punct)
{
    sb_reset(sb);
    for (int i = 0; i < n; i++) {
        sb_adds(sb, "this line is long enough number ");
        tl_word(sb, i, 4);
        sb_adds(sb, i < punct ? ".\n" : "\n");
    }
}

/* 100 lines "0000xx..x", "0001xx..x", ...: the first `n_short` of exactly 30
 * characters, the rest of 31. */
static void lines_of_30_and_31(strbuf *sb, int n_short)
{
    sb_reset(sb);
    for (int i = 0; i < 100; i++) {
        int len = i < n_short ? 30 : 31;
        char word[16];
        snprintf(word, sizeof word, "%04d", i);
        sb_adds(sb, word);
        for (int k = 4; k < len; k++) sb_addc(sb, 'x');
        sb_addc(sb, '\n');
    }
}

/* A 10-character line, n_y characters 'y', the 10-character line again. */
static void repeated_line_around(strbuf *sb, int n_y)
{
    sb_reset(sb);
    sb_adds(sb, "abcdefghij\n");
    tl_repeat(sb, "y", n_y, "");
    sb_adds(sb, "\nabcdefghij\n");
}

static void test_empty(void **state)
{
    (void)state;
    assert_reason(tl_run("fineweb_quality", NULL, ""), CR_EMPTY);
    assert_reason(tl_run("fineweb_quality", NULL, "\n  \n\t\n"), CR_EMPTY);
}

static void test_line_punct_ratio(void **state)
{
    (void)state;
    strbuf sb = STRBUF_INIT;
    long_lines(&sb, 25, 3);   /* 3/25 = 0.12 is not < 0.12 */
    assert_reason(fw_only("line_punct_thr=0.12", sb.buf), CR_NONE);
    long_lines(&sb, 25, 2);   /* 0.08 */
    assert_reason(fw_only("line_punct_thr=0.12", sb.buf), CR_LINE_PUNCT_RATIO);
    /* blank lines do not count; any Sentence_Terminal character counts */
    assert_reason(fw_only("line_punct_thr=0.12", "line one\xE3\x80\x82\n\n\n\nline two no stop"), CR_NONE);
    assert_reason(fw_only("line_punct_thr=0.6", "line one\xE3\x80\x82\n\n\n\nline two no stop"),
                  CR_LINE_PUNCT_RATIO);
    /* the line as is: a trailing space hides the full stop */
    assert_reason(fw_only("line_punct_thr=0.5", "one.\ntwo. "), CR_NONE);
    assert_reason(fw_only("line_punct_thr=0.6", "one.\ntwo. "), CR_LINE_PUNCT_RATIO);
    /* exclude_zero: a share of exactly 0 passes */
    const char *sets[] = { "fineweb_quality.short_line_thr=1", "fineweb_quality.char_duplicates_ratio=1",
                           "fineweb_quality.new_line_ratio=1000", "fineweb_quality.line_punct_exclude_zero=1",
                           NULL };
    assert_reason(tl_run("fineweb_quality", sets, "no stop here\nnor here"), CR_NONE);
    sb_free(&sb);
}

static void test_short_line_ratio(void **state)
{
    (void)state;
    strbuf sb = STRBUF_INIT;
    /* 100 lines: 67 of exactly 30 characters, 33 of 31: 0.67 is not > 0.67 */
    lines_of_30_and_31(&sb, 67);
    assert_reason(fw_only("short_line_thr=0.67", sb.buf), CR_NONE);
    lines_of_30_and_31(&sb, 68);   /* 0.68 */
    assert_reason(fw_only("short_line_thr=0.67", sb.buf), CR_SHORT_LINE_RATIO);
    /* lengths are characters: 30 x "é" is short */
    sb_reset(&sb);
    tl_repeat(&sb, "\xC3\xA9", 30, "");
    assert_reason(fw_only("short_line_thr=0.5", sb.buf), CR_SHORT_LINE_RATIO);
    sb_free(&sb);
}

static void test_char_dup_ratio(void **state)
{
    (void)state;
    strbuf sb = STRBUF_INIT;
    /* 1000 characters without "\n", 10 of them in a repeated line: 0.01 */
    repeated_line_around(&sb, 980);
    assert_reason(fw_only("char_duplicates_ratio=0.01", sb.buf), CR_NONE);
    repeated_line_around(&sb, 979);   /* 10 of 999 */
    assert_reason(fw_only("char_duplicates_ratio=0.01", sb.buf), CR_CHAR_DUP_RATIO);
    sb_free(&sb);
}

static void test_list_ratio(void **state)
{
    (void)state;
    strbuf sb = STRBUF_INIT;
    /* 9 newlines, 30 words: 0.3 is not > 0.3 */
    for (int i = 0; i < 10; i++) {
        tl_word(&sb, i, 4);
        sb_adds(&sb, " two three");
        if (i < 9) sb_addc(&sb, '\n');
    }
    assert_reason(fw_only("new_line_ratio=0.3", sb.buf), CR_NONE);
    /* one word fewer: 9/29 */
    sb_setlen(&sb, sb.len - strlen(" three"));
    assert_reason(fw_only("new_line_ratio=0.3", sb.buf), CR_LIST_RATIO);
    sb_free(&sb);
}

static void test_defaults_on_prose(void **state)
{
    (void)state;
    const char *prose =
        "The committee met on Tuesday to review the proposal for a new library in the northern district.\n"
        "Members raised questions about the budget, the timeline and the choice of architect.\n"
        "Residents who attended were mostly in favour of the plan.";
    assert_reason(tl_run("fineweb_quality", NULL, prose), CR_NONE);
    /* a menu: short lines without punctuation */
    assert_reason(tl_run("fineweb_quality", NULL, "Home\nAbout us\nContact\nBlog\nShop\nLogin"),
                  CR_LINE_PUNCT_RATIO);
    /* punctuation only */
    assert_reason(tl_run("fineweb_quality", NULL, "!!!\n???\n..."), CR_SHORT_LINE_RATIO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_line_punct_ratio),
        cmocka_unit_test(test_short_line_ratio),
        cmocka_unit_test(test_char_dup_ratio),
        cmocka_unit_test(test_list_ratio),
        cmocka_unit_test(test_defaults_on_prose),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
