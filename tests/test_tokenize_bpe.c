/* Unit tests for tokenize/pretok and tokenize/bpe: the split patterns, the
 * tiktoken merge semantics (whole piece, lowest rank, leftmost tie), the scan
 * and heap paths against a naive reference, special tokens, UTF-8 repair,
 * decoding, and a long piece of one repeated byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"
#include "tokenize/bpe.h"
#include "tokenize/pretok.h"
#include "tokenize/tokenizer.h"
#include "tokenize/vocab.h"

/* ---- helpers ---- */

static void split(const char *pattern, const char *text, size_t len, strbuf *out)
{
    char err[256];
    qpretok *p = qpretok_new(pattern, err, sizeof err);
    assert_non_null(p);
    qpretok_scratch *s = qpretok_scratch_new();
    size_t pos = 0, a, b;
    sb_reset(out);
    qpretok_prepare(p, s, text, len);
    while (qpretok_next(p, s, text, len, pos, &a, &b) == 1) {
        sb_add(out, text + a, b - a);
        sb_addc(out, '|');
        pos = b;
    }
    qpretok_scratch_free(s);
    qpretok_free(p);
}

/* bytes 0..255 are ids 0..255; then the given strings get 256, 257, ... */
static qbpe *make_bpe(const char *const *merged, size_t n, const char *pattern)
{
    qvocab v;
    qvocab_init(&v);
    for (int b = 0; b < 256; b++) {
        char c = (char)b;
        assert_int_equal(qvocab_add(&v, (uint32_t)b, &c, 1, 0), 0);
    }
    for (size_t i = 0; i < n; i++)
        assert_int_equal(qvocab_add(&v, (uint32_t)(256 + i), merged[i], strlen(merged[i]), 0), 0);
    qvocab_set_pattern(&v, pattern);
    char err[256];
    qbpe *b = qbpe_new(&v, err, sizeof err);
    if (!b) fprintf(stderr, "qbpe_new: %s\n", err);
    assert_non_null(b);
    qvocab_free(&v);
    return b;
}

static void encode_piece(const qbpe *b, const char *s, size_t len, qbpe_ids *out)
{
    qbpe_scratch *sc = qbpe_scratch_new();
    out->n = 0;
    qbpe_encode_piece(b, sc, s, len, out);
    qbpe_scratch_free(sc);
}

/* The definition, slowly: whole piece if a token; else from bytes, merge the
 * lowest-ranked adjacent pair (by concatenated bytes), leftmost on ties. */
static void reference_encode(const qbpe *b, const char *p, size_t len, qbpe_ids *out)
{
    out->n = 0;
    uint32_t whole = qbpe_rank(b, p, len);
    if (whole != QVOCAB_NONE) {
        qbpe_ids_push(out, whole);
        return;
    }
    size_t *start = malloc((len + 1) * sizeof *start), k = len;
    for (size_t i = 0; i <= len; i++) start[i] = i;
    for (;;) {
        uint32_t best = QVOCAB_NONE;
        size_t bi = 0;
        for (size_t i = 0; i + 1 < k; i++) {
            uint32_t r = qbpe_rank(b, p + start[i], start[i + 2] - start[i]);
            if (r < best) { best = r; bi = i; }
        }
        if (best == QVOCAB_NONE) break;
        memmove(start + bi + 1, start + bi + 2, (k - bi - 1) * sizeof *start);
        k--;
    }
    for (size_t i = 0; i < k; i++) qbpe_ids_push(out, qbpe_rank(b, p + start[i], start[i + 1] - start[i]));
    free(start);
}

/* ---- tests ---- */

static void test_rewrite_space(void **state)
{
    (void)state;
    char err[256];
    char *r = qpretok_rewrite("\\s+(?!\\S)|[^\\s\\p{L}]", 0, err, sizeof err);
    assert_non_null(r);
    assert_null(strstr(r, "\\s"));
    assert_null(strstr(r, "\\S"));
    assert_non_null(strstr(r, "[^\\t-\\r "));          /* \S became a negated class */
    assert_non_null(strstr(r, "[^\\t-\\r \\x{85}"));   /* [^\s...] kept its negation */
    free(r);
    r = qpretok_rewrite("a\\\\s\\Q\\s\\E", 1, err, sizeof err);   /* escaped backslash, \Q..\E */
    assert_string_equal(r, "a\\\\s\\Q\\s\\E");
    free(r);
    assert_null(qpretok_rewrite("[\\S]", 0, err, sizeof err));
    /* categories widened to Unicode 16, inside and outside classes */
    r = qpretok_rewrite("\\p{L}+|[^\\p{N}]", 1, err, sizeof err);
    assert_non_null(strstr(r, "[\\p{L}\\x{1c89}"));
    assert_non_null(strstr(r, "[^\\p{N}\\x{"));
    free(r);
}

static void test_gpt2_split(void **state)
{
    (void)state;
    strbuf out = STRBUF_INIT;
    const char *t = "Hello world's  test\n 123 ...!";
    split("gpt2", t, strlen(t), &out);
    assert_string_equal(out.buf, "Hello| world|'s| | test|\n| 123| ...!|");
    sb_free(&out);
}

static void test_cl100k_split(void **state)
{
    (void)state;
    strbuf out = STRBUF_INIT;
    const char *t = "I'LL pay 12345 dollars.\r\n\n  x  ";
    split("cl100k_base", t, strlen(t), &out);
    assert_string_equal(out.buf, "I|'LL| pay| |123|45| dollars|.\r\n\n| | x|  |");
    sb_free(&out);
}

static void test_u180e_is_not_space(void **state)
{
    (void)state;
    strbuf out = STRBUF_INIT;
    /* U+180E is a format character since Unicode 6.3: it joins the
     * punctuation run, as in tiktoken; PCRE2's own \s would split it off. */
    const char *t = "a\xE1\xA0\x8E!";
    split("gpt2", t, strlen(t), &out);
    assert_string_equal(out.buf, "a|\xE1\xA0\x8E!|");
    /* and U+00A0 / U+3000 are spaces */
    t = "a\xC2\xA0\xE3\x80\x80" "b";
    split("gpt2", t, strlen(t), &out);
    assert_string_equal(out.buf, "a|\xC2\xA0|\xE3\x80\x80|b|");
    sb_free(&out);
}

static void test_unicode16_letters(void **state)
{
    (void)state;
    strbuf out = STRBUF_INIT;
    /* U+1E4D0 (Nag Mundari, Unicode 15) and U+105C0 (Todhri, Unicode 16) are
     * letters for tiktoken's regex: they join the word, even when the linked
     * PCRE2's tables are older */
    const char *t = "a\xF0\x9E\x93\x90\xF0\x90\x97\x80 b";
    split("gpt2", t, strlen(t), &out);
    assert_string_equal(out.buf, "a\xF0\x9E\x93\x90\xF0\x90\x97\x80| b|");
    sb_free(&out);
}

static void test_dollar_is_end_only(void **state)
{
    (void)state;
    strbuf out = STRBUF_INIT;
    /* '$' matches only at the very end, as in Rust's regex (PCRE2 would also
     * match before a final newline and give "ab|\n|"); the newline, which no
     * alternative matches, is a piece of its own */
    const char *t = "ab\n";
    split("[a-z]+$|.", t, strlen(t), &out);
    assert_string_equal(out.buf, "a|b|\n|");
    /* gaps between matches and empty matches: nothing is lost */
    t = "bab,,cd";
    split("[cd]+|a*", t, strlen(t), &out);
    assert_string_equal(out.buf, "b|a|b,,|cd|");
    sb_free(&out);
}

/* Long runs backtrack a lot (\s*[\r\n] over 4 MB of spaces; o200k's
 * [upper]*[lower]+ over 4 MB of capitals): linear, but far beyond PCRE2's
 * default match limit. Every byte must still land in a piece. */
static void test_long_runs_split_completely(void **state)
{
    (void)state;
    size_t n = 4u << 20;
    char *s = malloc(n + 2);
    char err[256];
    static const struct { const char *pat; char fill; const char *tail; size_t pieces; } cases[] = {
        { "cl100k_base", ' ', "x", 2 },   /* n-1 spaces, then " x" */
        { "o200k_base", ' ', "x", 2 },
        { "o200k_base", 'A', "", 1 },
        { "gpt2", '.', "", 1 },
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        memset(s, cases[c].fill, n);
        size_t len = n + strlen(cases[c].tail);
        memcpy(s + n, cases[c].tail, strlen(cases[c].tail));
        qpretok *p = qpretok_new(cases[c].pat, err, sizeof err);
        assert_non_null(p);
        qpretok_scratch *sc = qpretok_scratch_new();
        size_t pos = 0, a, b, pieces = 0, covered = 0;
        int rc;
        qpretok_prepare(p, sc, s, len);
        while ((rc = qpretok_next(p, sc, s, len, pos, &a, &b)) == 1) {
            assert_int_equal(a, pos);
            covered += b - a;
            pieces++;
            pos = b;
        }
        assert_int_equal(rc, 0);
        assert_int_equal(covered, len);
        assert_int_equal(pieces, cases[c].pieces);
        qpretok_scratch_free(sc);
        qpretok_free(p);
    }
    free(s);
}

static void test_merge_semantics(void **state)
{
    (void)state;
    static const char *const m[] = { "ab", "bc", "abc", "aa", "aaaa" };
    qbpe *b = make_bpe(m, 5, "(?s).+");
    qbpe_ids ids = { 0 };
    encode_piece(b, "abc", 3, &ids);   /* whole piece */
    assert_int_equal(ids.n, 1);
    assert_int_equal(ids.v[0], 258);
    encode_piece(b, "abcd", 4, &ids);  /* ab (256) before bc (257), then ab+c = abc */
    assert_int_equal(ids.n, 2);
    assert_int_equal(ids.v[0], 258);
    assert_int_equal(ids.v[1], 'd');
    encode_piece(b, "aaa", 3, &ids);   /* tie: leftmost aa */
    assert_int_equal(ids.n, 2);
    assert_int_equal(ids.v[0], 259);
    assert_int_equal(ids.v[1], 'a');
    encode_piece(b, "aaaaa", 5, &ids); /* aa|aa|a -> aaaa|a */
    assert_int_equal(ids.n, 2);
    assert_int_equal(ids.v[0], 260);
    assert_int_equal(ids.v[1], 'a');
    qbpe_ids_free(&ids);
    qbpe_free(b);
}

static void test_scan_and_heap_match_reference(void **state)
{
    (void)state;
    /* every string over {a,b,c} of length 2..4, in a shuffled rank order */
    const char alpha[] = "abc";
    char strs[200][5];
    size_t n = 0;
    for (int len = 2; len <= 4; len++) {
        int total = 1;
        for (int i = 0; i < len; i++) total *= 3;
        for (int x = 0; x < total; x++) {
            int y = x;
            for (int i = 0; i < len; i++) { strs[n][i] = alpha[y % 3]; y /= 3; }
            strs[n][len] = 0;
            n++;
        }
    }
    srand(7);
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = (size_t)rand() % (i + 1);
        char t[5];
        memcpy(t, strs[i], 5); memcpy(strs[i], strs[j], 5); memcpy(strs[j], t, 5);
    }
    const char *m[200];
    for (size_t i = 0; i < n / 2; i++) m[i] = strs[i];   /* half of them are tokens */
    qbpe *b = make_bpe(m, n / 2, "(?s).+");
    qbpe_ids got = { 0 }, want = { 0 };
    char buf[1200];
    for (int round = 0; round < 300; round++) {
        size_t len = 2 + (size_t)rand() % (round < 150 ? 120 : 1000);   /* scan, then heap sizes */
        for (size_t i = 0; i < len; i++) buf[i] = alpha[rand() % 3];
        encode_piece(b, buf, len, &got);
        reference_encode(b, buf, len, &want);
        assert_int_equal(got.n, want.n);
        assert_memory_equal(got.v, want.v, got.n * sizeof *got.v);
    }
    qbpe_ids_free(&got);
    qbpe_ids_free(&want);
    qbpe_free(b);
}

static void test_long_run_is_fast_and_exact(void **state)
{
    (void)state;
    static const char *const m[] = { "aa", "aaaa", "aaaaaaaa", "aaaaaaaaaaaaaaaa" };
    qbpe *b = make_bpe(m, 4, "gpt2");
    size_t len = 4u << 20;   /* 4 MiB of 'a': one piece; quadratic would not finish */
    char *s = malloc(len);
    memset(s, 'a', len);
    qbpe_scratch *sc = qbpe_scratch_new();
    qbpe_ids ids = { 0 };
    assert_int_equal(qbpe_encode(b, sc, s, len, 0, &ids, NULL), 0);
    assert_int_equal(ids.n, len / 16);
    for (size_t i = 0; i < ids.n; i++) assert_int_equal(ids.v[i], 259);
    strbuf back = STRBUF_INIT;
    assert_int_equal(qbpe_decode(b, ids.v, ids.n, &back), 0);
    assert_int_equal(back.len, len);
    assert_memory_equal(back.buf, s, len);
    sb_free(&back);
    qbpe_ids_free(&ids);
    qbpe_scratch_free(sc);
    free(s);
    qbpe_free(b);
}

static void test_special_tokens(void **state)
{
    (void)state;
    qvocab v;
    qvocab_init(&v);
    for (int c = 0; c < 256; c++) {
        char ch = (char)c;
        qvocab_add(&v, (uint32_t)c, &ch, 1, 0);
    }
    qvocab_add(&v, 300, "<|endoftext|>", 13, 1);
    qvocab_add(&v, 301, "<|end", 5, 1);
    qvocab_set_pattern(&v, "gpt2");
    qvocab_default_eot(&v);
    assert_int_equal(v.eot, 300);
    char err[256];
    qbpe *b = qbpe_new(&v, err, sizeof err);
    assert_non_null(b);
    qvocab_free(&v);
    qbpe_scratch *sc = qbpe_scratch_new();
    qbpe_ids ids = { 0 };
    const char *t = "x<|endoftext|>y<|end";
    assert_int_equal(qbpe_encode(b, sc, t, strlen(t), 1, &ids, NULL), 0);
    /* x, <|endoftext|> (longest match wins over <|end), y, <|end */
    assert_int_equal(ids.n, 4);
    assert_int_equal(ids.v[0], 'x');
    assert_int_equal(ids.v[1], 300);
    assert_int_equal(ids.v[2], 'y');
    assert_int_equal(ids.v[3], 301);
    ids.n = 0;
    assert_int_equal(qbpe_encode(b, sc, t, strlen(t), 0, &ids, NULL), 0);
    for (size_t i = 0; i < ids.n; i++) assert_true(ids.v[i] < 256);   /* plain text when not allowed */
    strbuf back = STRBUF_INIT;
    qbpe_decode(b, ids.v, ids.n, &back);
    assert_int_equal(back.len, strlen(t));
    assert_memory_equal(back.buf, t, back.len);
    sb_free(&back);
    qbpe_ids_free(&ids);
    qbpe_scratch_free(sc);
    qbpe_free(b);
}

static void test_invalid_utf8_is_repaired_and_counted(void **state)
{
    (void)state;
    qbpe *b = make_bpe(NULL, 0, "cl100k_base");
    qbpe_scratch *sc = qbpe_scratch_new();
    qbpe_ids ids = { 0 };
    size_t repairs = 0;
    const char t[] = "a\xff" "b\xe2\x82" "c\xed\xa0\x80";
    assert_int_equal(qbpe_encode(b, sc, t, sizeof t - 1, 0, &ids, &repairs), 0);
    assert_true(repairs >= 3);
    strbuf back = STRBUF_INIT;
    qbpe_decode(b, ids.v, ids.n, &back);
    assert_non_null(memmem(back.buf, back.len, "a\xEF\xBF\xBD" "b\xEF\xBF\xBD" "c\xEF\xBF\xBD", 12));
    sb_free(&back);
    qbpe_ids_free(&ids);
    qbpe_scratch_free(sc);
    qbpe_free(b);
}

static void test_rejects_bad_vocabularies(void **state)
{
    (void)state;
    char err[256];
    qvocab v;
    qvocab_init(&v);
    qvocab_add(&v, 0, "a", 1, 0);
    qvocab_set_pattern(&v, "gpt2");
    assert_null(qbpe_new(&v, err, sizeof err));   /* missing bytes */
    assert_non_null(strstr(err, "byte"));
    qvocab_free(&v);
    qvocab_init(&v);
    for (int c = 0; c < 256; c++) {
        char ch = (char)c;
        qvocab_add(&v, (uint32_t)c, &ch, 1, 0);
    }
    qvocab_add(&v, 256, "ab", 2, 0);
    qvocab_add(&v, 257, "ab", 2, 0);
    qvocab_set_pattern(&v, "gpt2");
    assert_null(qbpe_new(&v, err, sizeof err));   /* duplicate bytes */
    assert_non_null(strstr(err, "same bytes"));
    qvocab_free(&v);
    assert_int_equal(qvocab_add(&v, 5, "x", 1, 0), 0);
    assert_int_equal(qvocab_add(&v, 5, "y", 1, 0), -1);   /* id defined twice */
    qvocab_free(&v);
}

static void test_merge_of(void **state)
{
    (void)state;
    static const char *const m[] = { "ab", "bc", "abc" };
    qbpe *b = make_bpe(m, 3, "gpt2");
    qbpe_scratch *sc = qbpe_scratch_new();
    uint32_t l, r;
    assert_int_equal(qbpe_merge_of(b, sc, 258, &l, &r), 1);   /* abc = ab + c */
    assert_int_equal(l, 256);
    assert_int_equal(r, 'c');
    assert_int_equal(qbpe_merge_of(b, sc, 'a', &l, &r), 0);
    qbpe_scratch_free(sc);
    qbpe_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rewrite_space),
        cmocka_unit_test(test_gpt2_split),
        cmocka_unit_test(test_cl100k_split),
        cmocka_unit_test(test_u180e_is_not_space),
        cmocka_unit_test(test_unicode16_letters),
        cmocka_unit_test(test_dollar_is_end_only),
        cmocka_unit_test(test_long_runs_split_completely),
        cmocka_unit_test(test_merge_semantics),
        cmocka_unit_test(test_scan_and_heap_match_reference),
        cmocka_unit_test(test_long_run_is_fast_and_exact),
        cmocka_unit_test(test_special_tokens),
        cmocka_unit_test(test_invalid_utf8_is_repaired_and_counted),
        cmocka_unit_test(test_rejects_bad_vocabularies),
        cmocka_unit_test(test_merge_of),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
