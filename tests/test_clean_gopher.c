/* Golden tests for clean/gopher.c: for every threshold a document just
 * inside and one just outside, with the reason name (datatrove's defaults). */
#include <math.h>

#include "clean_testlib.h"

/* gopher_quality with every test off but one (given as "param=value"). */
static int gq_only(const char *param, const char *text)
{
    char one[128];
    snprintf(one, sizeof one, "gopher_quality.%s", param);
    const char *sets[] = {
        "gopher_quality.min_doc_words=0", "gopher_quality.max_doc_words=0",
        "gopher_quality.min_avg_word_length=0", "gopher_quality.max_avg_word_length=0",
        "gopher_quality.max_symbol_word_ratio=0", "gopher_quality.max_bullet_lines_ratio=0",
        "gopher_quality.max_ellipsis_lines_ratio=0", "gopher_quality.max_non_alpha_words_ratio=0",
        "gopher_quality.min_stop_words=0", one, NULL,
    };
    return tl_run("gopher_quality", sets, text);
}

static void words_doc(strbuf *sb, int n, int len)
{
    sb_reset(sb);
    for (int i = 0; i < n; i++) {
        tl_word(sb, i, len);
        sb_addc(sb, ' ');
    }
}

/* n_words distinct 4-letter words, then `copies` of token, space-separated:
 * the ratio tests count the tokens against all words. */
static void words_then(strbuf *sb, int n_words, const char *token, int copies)
{
    words_doc(sb, n_words, 4);
    tl_repeat(sb, token, copies, " ");
}

static void test_short_and_long_doc(void **state)
{
    (void)state;
    strbuf sb = STRBUF_INIT;
    words_doc(&sb, 50, 4);
    assert_reason(gq_only("min_doc_words=50", sb.buf), CR_NONE);
    words_doc(&sb, 49, 4);
    assert_reason(gq_only("min_doc_words=50", sb.buf), CR_GOPHER_SHORT_DOC);
    /* punctuation tokens are symbol words: they do not count */
    sb_adds(&sb, ". , ; ! ?");
    assert_reason(gq_only("min_doc_words=50", sb.buf), CR_GOPHER_SHORT_DOC);
    words_doc(&sb, 100000, 4);
    assert_reason(gq_only("max_doc_words=100000", sb.buf), CR_NONE);
    words_doc(&sb, 100001, 4);
    assert_reason(gq_only("max_doc_words=100000", sb.buf), CR_GOPHER_LONG_DOC);
    sb_free(&sb);
}

static void test_avg_word_length(void **state)
{
    (void)state;
    strbuf sb = STRBUF_INIT;
    words_doc(&sb, 50, 3);   /* mean 3.0 */
    assert_reason(gq_only("min_avg_word_length=3", sb.buf), CR_NONE);
    sb_adds(&sb, "ab");      /* mean 152/51 < 3 */
    assert_reason(gq_only("min_avg_word_length=3", sb.buf), CR_GOPHER_BELOW_AVG);
    words_doc(&sb, 50, 10);  /* mean 10.0 */
    assert_reason(gq_only("max_avg_word_length=10", sb.buf), CR_NONE);
    sb_adds(&sb, "abcdefghijk");   /* 11 letters: mean > 10 */
    assert_reason(gq_only("max_avg_word_length=10", sb.buf), CR_GOPHER_ABOVE_AVG);
    /* lengths are in characters, not bytes: 50 x "ééé" is mean 3 */
    sb_reset(&sb);
    tl_repeat(&sb, "\xC3\xA9\xC3\xA9\xC3\xA9", 50, " ");
    assert_reason(gq_only("max_avg_word_length=3", sb.buf), CR_NONE);
    sb_free(&sb);
}

static void test_hashes_and_ellipsis(void **state)
{
    (void)state;
    strbuf sb = STRBUF_INIT;
    /* 100 tokens, 10 of them with a '#' inside: 0.1 is not > 0.1 */
    words_then(&sb, 90, "ab#c", 10);
    assert_reason(gq_only("max_symbol_word_ratio=0.1", sb.buf), CR_NONE);
    words_then(&sb, 89, "ab#c", 11);
    assert_reason(gq_only("max_symbol_word_ratio=0.1", sb.buf), CR_GOPHER_HASHES);
    /* "..." and the single character "…" both count */
    words_then(&sb, 90, "ab...c", 5);
    tl_repeat(&sb, "ab\xE2\x80\xA6" "c", 5, " ");
    assert_reason(gq_only("max_symbol_word_ratio=0.1", sb.buf), CR_NONE);
    words_then(&sb, 89, "ab...c", 6);
    tl_repeat(&sb, "ab\xE2\x80\xA6" "c", 5, " ");
    assert_reason(gq_only("max_symbol_word_ratio=0.1", sb.buf), CR_GOPHER_ELLIPSIS);
    sb_free(&sb);
}

static void test_bullets_and_end_ellipsis(void **state)
{
    (void)state;
    strbuf sb = STRBUF_INIT;
    /* 10 lines, 9 start with a bullet (after spaces): 0.9 is not > 0.9 */
    tl_repeat(&sb, "  \xE2\x80\xA2 item one two", 5, "\n");
    tl_repeat(&sb, "- item one two", 4, "\n");
    sb_adds(&sb, "plain line here");
    assert_reason(gq_only("max_bullet_lines_ratio=0.9", sb.buf), CR_NONE);
    sb_reset(&sb);
    tl_repeat(&sb, "- item one two", 19, "\n");
    sb_adds(&sb, "plain line here");
    assert_reason(gq_only("max_bullet_lines_ratio=0.9", sb.buf), CR_GOPHER_BULLETS);
    /* 10 lines, 3 end with an ellipsis (before trailing spaces): 0.3 passes */
    sb_reset(&sb);
    tl_repeat(&sb, "and then...  ", 2, "\n");
    tl_repeat(&sb, "and then\xE2\x80\xA6", 1, "\n");
    tl_repeat(&sb, "a full line.", 7, "\n");
    assert_reason(gq_only("max_ellipsis_lines_ratio=0.3", sb.buf), CR_NONE);
    sb_reset(&sb);
    tl_repeat(&sb, "and then...", 4, "\n");   /* 4 of 13 lines */
    tl_repeat(&sb, "a full line.", 9, "\n");
    assert_reason(gq_only("max_ellipsis_lines_ratio=0.3", sb.buf), CR_GOPHER_END_ELLIPSIS);
    sb_free(&sb);
}

static void test_alpha_ratio(void **state)
{
    (void)state;
    strbuf sb = STRBUF_INIT;
    /* 100 tokens, 80 with a letter: 0.8 is not < 0.8 */
    words_then(&sb, 80, "1234", 20);
    assert_reason(gq_only("max_non_alpha_words_ratio=0.8", sb.buf), CR_NONE);
    words_then(&sb, 79, "1234", 21);
    assert_reason(gq_only("max_non_alpha_words_ratio=0.8", sb.buf), CR_GOPHER_ALPHA);
    /* punctuation tokens count in the denominator */
    words_then(&sb, 80, "!", 19);
    sb_adds(&sb, ", ,");   /* two more punctuation tokens: 80/101 */
    assert_reason(gq_only("max_non_alpha_words_ratio=0.8", sb.buf), CR_GOPHER_ALPHA);
    sb_free(&sb);
}

static void test_stop_words(void **state)
{
    (void)state;
    assert_reason(gq_only("min_stop_words=2", "the cat sat with a hat"), CR_NONE);
    /* distinct stop words: "the" twice is one */
    assert_reason(gq_only("min_stop_words=2", "the cat sat on the mat"), CR_GOPHER_STOP_WORDS);
    /* matched exactly, as datatrove does: "The" is not "the" */
    assert_reason(gq_only("min_stop_words=2", "The cat And the dog"), CR_GOPHER_STOP_WORDS);
    /* a stop word followed by punctuation is still a stop word token */
    assert_reason(gq_only("min_stop_words=2", "cats, and the."), CR_NONE);
}

static void test_quality_order(void **state)
{
    (void)state;
    /* defaults: a 10-word text fails short_doc first, not the stop words */
    assert_reason(tl_run("gopher_quality", NULL, "a b c d e f g h i j"), CR_GOPHER_SHORT_DOC);
    /* empty text and punctuation only: short_doc, no division by zero */
    assert_reason(tl_run("gopher_quality", NULL, ""), CR_GOPHER_SHORT_DOC);
    assert_reason(tl_run("gopher_quality", NULL, "!!! ... ??? ;;;"), CR_GOPHER_SHORT_DOC);
}

/* ---- repetition ---- */
static const char *const REP_OFF[] = {
    "gopher_repetition.dup_para_frac=0", "gopher_repetition.dup_para_char_frac=0",
    "gopher_repetition.dup_line_frac=0", "gopher_repetition.dup_line_char_frac=0",
    "gopher_repetition.top_2_gram=0", "gopher_repetition.top_3_gram=0",
    "gopher_repetition.top_4_gram=0", "gopher_repetition.dup_5_grams=0",
    "gopher_repetition.dup_6_grams=0", "gopher_repetition.dup_7_grams=0",
    "gopher_repetition.dup_8_grams=0", "gopher_repetition.dup_9_grams=0",
    "gopher_repetition.dup_10_grams=0",
};
#define N_REP_OFF (sizeof REP_OFF / sizeof REP_OFF[0])

static int rep_only(const char *param, const char *text)
{
    const char *sets[N_REP_OFF + 2];
    memcpy(sets, REP_OFF, sizeof REP_OFF);
    char one[128];
    snprintf(one, sizeof one, "gopher_repetition.%s", param);
    sets[N_REP_OFF] = one;
    sets[N_REP_OFF + 1] = NULL;
    return tl_run("gopher_repetition", sets, text);
}

/* n distinct units "<word> <kind>", each followed by sep, then `copies` of
 * "same <kind>", each followed by same_sep: copies - 1 repeats. */
static void distinct_then_same(strbuf *sb, int n, const char *kind, const char *sep, int copies,
                               const char *same_sep)
{
    sb_reset(sb);
    for (int i = 0; i < n; i++) {
        tl_word(sb, i, 5);
        sb_addc(sb, ' ');
        sb_adds(sb, kind);
        sb_adds(sb, sep);
    }
    char same[32];
    snprintf(same, sizeof same, "same %s", kind);
    tl_repeat(sb, same, copies, same_sep);
}

/* n_a letters 'a', then the same 20 letters 'b' twice, the three parts
 * joined by sep: 20 characters repeated. */
static void a_then_b_twice(strbuf *sb, int n_a, const char *sep)
{
    sb_reset(sb);
    tl_repeat(sb, "a", n_a, "");
    for (int k = 0; k < 2; k++) {
        sb_adds(sb, sep);
        sb_adds(sb, "bbbbbbbbbbbbbbbbbbbb");
    }
}

static void test_dup_paragraphs(void **state)
{
    (void)state;
    strbuf sb = STRBUF_INIT;
    /* 10 paragraphs, 3 repeats: 0.3 is not > 0.3 */
    distinct_then_same(&sb, 6, "para", "\n\n", 4, "\n\n\n");
    assert_reason(rep_only("dup_para_frac=0.3", sb.buf), CR_NONE);
    /* 13 paragraphs, 4 repeats: 0.307 */
    distinct_then_same(&sb, 8, "para", "\n\n", 5, "\n\n");
    assert_reason(rep_only("dup_para_frac=0.3", sb.buf), CR_DUP_PARA_FRAC);
    /* characters: A(56) + "\n\n" + B(20) + "\n\n" + B(20) = 100, 20 repeated */
    a_then_b_twice(&sb, 56, "\n\n");
    assert_int_equal(sb.len, 100);
    assert_reason(rep_only("dup_para_char_frac=0.2", sb.buf), CR_NONE);
    a_then_b_twice(&sb, 55, "\n\n");
    assert_reason(rep_only("dup_para_char_frac=0.2", sb.buf), CR_DUP_PARA_CHAR_FRAC);
    sb_free(&sb);
}

static void test_dup_lines(void **state)
{
    (void)state;
    strbuf sb = STRBUF_INIT;
    /* 10 lines (split on runs of \n), 3 repeats */
    distinct_then_same(&sb, 6, "line", "\n", 4, "\n\n");
    sb_setlen(&sb, sb.len - 2);
    assert_reason(rep_only("dup_line_frac=0.3", sb.buf), CR_NONE);
    /* 13 lines, 4 repeats */
    distinct_then_same(&sb, 8, "line", "\n", 5, "\n");
    sb_setlen(&sb, sb.len - 1);
    assert_reason(rep_only("dup_line_frac=0.3", sb.buf), CR_DUP_LINE_FRAC);
    /* characters: A(58) \n B(20) \n B(20) = 100 characters, 20 repeated */
    a_then_b_twice(&sb, 58, "\n");
    assert_int_equal(sb.len, 100);
    assert_reason(rep_only("dup_line_char_frac=0.2", sb.buf), CR_NONE);
    a_then_b_twice(&sb, 57, "\n");
    assert_reason(rep_only("dup_line_char_frac=0.2", sb.buf), CR_DUP_LINE_CHAR_FRAC);
    sb_free(&sb);
}

/* A text of exactly `total` characters in which the n-gram "xx xx .. xx"
 * (words "x0".."x{n-1}", 2 letters each) occurs `count` times, separated by
 * distinct filler words; the rest is one long unique word at the end. */
static void ngram_doc(strbuf *sb, int n, int count, int total)
{
    sb_reset(sb);
    for (int c = 0; c < count; c++) {
        for (int k = 0; k < n; k++) sb_addf(sb, "%c%c ", 'p', 'a' + k);
        tl_word(sb, c, 4);   /* a distinct separator word */
        sb_addc(sb, ' ');
    }
    int rest = total - (int)sb->len;
    assert_true(rest > 0);
    for (int i = 0; i < rest; i++) sb_addc(sb, 'z');
}

static void test_top_ngrams(void **state)
{
    (void)state;
    strbuf sb = STRBUF_INIT;
    static const char *const names[] = { "top_2_gram=0.2", "top_3_gram=0.18", "top_4_gram=0.16" };
    static const double thr[] = { 0.2, 0.18, 0.16 };
    for (int n = 2; n <= 4; n++) {
        int gram = 3 * n - 1;   /* n words of 2 letters joined by spaces */
        int count = 4;
        /* value = gram * count; total chosen so value / total == threshold */
        int total = (int)ceil(gram * count / thr[n - 2] - 1e-9);   /* ratio <= thr */
        ngram_doc(&sb, n, count, total);
        assert_int_equal(sb.len, (size_t)total);
        assert_reason(rep_only(names[n - 2], sb.buf), CR_NONE);
        ngram_doc(&sb, n, count, total - 1);
        assert_reason(rep_only(names[n - 2], sb.buf), CR_TOP_2_GRAM + (n - 2));
    }
    /* a short text: its only 2-gram is most of it */
    assert_reason(rep_only("top_2_gram=0.2", "hello world"), CR_TOP_2_GRAM);
    sb_free(&sb);
}

static void test_duplicated_ngrams(void **state)
{
    (void)state;
    strbuf sb = STRBUF_INIT;
    static const double thr[] = { 0.15, 0.14, 0.13, 0.12, 0.11, 0.10 };
    for (int n = 5; n <= 10; n++) {
        char param[64];
        snprintf(param, sizeof param, "dup_%d_grams=%g", n, thr[n - 5]);
        /* the n-gram (2n characters joined) twice: the second is repeated */
        int rep = 2 * n;
        int total = (int)ceil(rep / thr[n - 5] - 1e-9);
        ngram_doc(&sb, n, 2, total);
        assert_int_equal(sb.len, (size_t)total);
        assert_reason(rep_only(param, sb.buf), CR_NONE);
        ngram_doc(&sb, n, 2, total - 1);
        assert_reason(rep_only(param, sb.buf), CR_DUP_5_GRAMS + (n - 5));
    }
    sb_free(&sb);
}

static void test_dup_scan_jumps(void **state)
{
    (void)state;
    /* "a b c d e a b c d e a b c d e": at 5 the 5-gram repeats (+5 chars),
     * the scan jumps to 10, where it repeats again (+5): 10 of 29 chars. */
    const char *t = "a b c d e a b c d e a b c d e";
    assert_reason(rep_only("dup_5_grams=0.35", t), CR_NONE);    /* 10/29 = 0.345 */
    assert_reason(rep_only("dup_5_grams=0.34", t), CR_DUP_5_GRAMS);
}

static void test_repetition_defaults_on_prose(void **state)
{
    (void)state;
    const char *prose =
        "The committee met on Tuesday to review the proposal for a new library in the "
        "northern district. Members raised questions about the budget, the timeline and "
        "the choice of architect, and asked the planning office to publish its traffic "
        "study before the next meeting.\n\nResidents who attended were mostly in favour, "
        "although several shop owners worried that two years of construction would keep "
        "customers away from the high street.";
    assert_reason(tl_run("gopher_repetition", NULL, prose), CR_NONE);
    assert_reason(tl_run("gopher_quality", NULL, prose), CR_NONE);
    assert_reason(tl_run("gopher_repetition", NULL, ""), CR_NONE);   /* no division by zero */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_short_and_long_doc),
        cmocka_unit_test(test_avg_word_length),
        cmocka_unit_test(test_hashes_and_ellipsis),
        cmocka_unit_test(test_bullets_and_end_ellipsis),
        cmocka_unit_test(test_alpha_ratio),
        cmocka_unit_test(test_stop_words),
        cmocka_unit_test(test_quality_order),
        cmocka_unit_test(test_dup_paragraphs),
        cmocka_unit_test(test_dup_lines),
        cmocka_unit_test(test_top_ngrams),
        cmocka_unit_test(test_duplicated_ngrams),
        cmocka_unit_test(test_dup_scan_jumps),
        cmocka_unit_test(test_repetition_defaults_on_prose),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
