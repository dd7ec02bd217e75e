/* Unit tests for clean/text.c: the pinned word splitting, sentence counting,
 * line splitting and stripping that every ratio depends on, plus the PII
 * and Unicode normalization rewriters. */
#include "clean_testlib.h"
#include "clean/clean_impl.h"

/* tokens of text as "tok|tok|..." */
static void tokens(const char *text, strbuf *out)
{
    clean_config *c = clean_config_new();
    char err[256];
    clean_cascade *cc = clean_cascade_new(c, err, sizeof err);
    assert_non_null(cc);
    clean_worker *w = clean_worker_new(cc);
    clean_doc d;
    clean_doc_init(&d);
    sb_adds(&d.text, text);
    w->doc = &d;
    cx_text_changed(w);
    const cx_words *ws = cx_words_get(w);
    sb_reset(out);
    for (size_t i = 0; i < ws->n; i++) {
        if (i) sb_addc(out, '|');
        sb_add(out, text + ws->off[i], ws->blen[i]);
    }
    assert_int_equal(count_words(text, strlen(text)), ws->n);
    w->doc = NULL;
    clean_doc_free(&d);
    clean_worker_free(w);
    clean_cascade_free(cc);
    clean_config_free(c);
}

static void test_word_splitting(void **state)
{
    (void)state;
    strbuf t = STRBUF_INIT;
    tokens("Hello, world!", &t);
    assert_string_equal(t.buf, "Hello|,|world|!");
    tokens("don't e-mail U.S. 3.14 (see) \"quoted\"", &t);
    assert_string_equal(t.buf, "don't|e-mail|U.S|.|3.14|(|see|)|\"|quoted|\"");
    tokens("wait... what?! -- ok", &t);
    assert_string_equal(t.buf, "wait|...|what|?|!|--|ok");
    tokens("  \t\n ", &t);
    assert_string_equal(t.buf, "");
    /* Unicode: NBSP and ideographic space split; « » are punctuation */
    tokens("caf\xC3\xA9\xC2\xA0\xC2\xABmot\xC2\xBB\xE3\x80\x80\xE6\x97\xA5\xE6\x9C\xAC", &t);
    assert_string_equal(t.buf, "caf\xC3\xA9|\xC2\xAB|mot|\xC2\xBB|\xE6\x97\xA5\xE6\x9C\xAC");
    /* symbols that are not punctuation belong to words */
    tokens("5\xE2\x82\xAC \xC2\xA9 #tag", &t);
    assert_string_equal(t.buf, "5\xE2\x82\xAC|\xC2\xA9|#|tag");
    sb_free(&t);
}

static void test_sentences(void **state)
{
    (void)state;
    assert_int_equal(count_sentences("", 0), 0);
    assert_int_equal(count_sentences("   ", 3), 0);
    const char *cases[][2] = {
        { "One sentence", "1" },
        { "One. Two! Three? Four", "4" },
        { "He said \"Stop.\" Then left.", "2" },
        { "Version 3.14 is out. Get it.", "2" },
        { "See example.com today.", "1" },
        { "Mr. Smith and Dr. Who met St. Peter.", "1" },
        { "I. M. Pei built it.", "1" },
        { "Wait... really?! Yes.", "3" },
        { "\xE4\xBD\xA0\xE5\xA5\xBD\xE3\x80\x82\xE5\x86\x8D\xE8\xA7\x81\xE3\x80\x82", "2" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t got = count_sentences(cases[i][0], strlen(cases[i][0]));
        if (got != (size_t)atoi(cases[i][1]))
            fail_msg("\"%s\": %zu sentences, expected %s", cases[i][0], got, cases[i][1]);
    }
}

static void test_lines_and_strip(void **state)
{
    (void)state;
    /* Python splitlines(): \r\n is one break, no empty line after a final break */
    const char *s = "a\r\nb\rc\x0b" "d\xE2\x80\xA8" "e\n";
    size_t len = strlen(s), pos = 0, b, e, n = 0;
    const char *want[] = { "a", "b", "c", "d", "e" };
    while ((pos = next_line(s, len, pos, &b, &e)) <= len) {
        assert_true(n < 5);
        assert_int_equal(e - b, 1);
        assert_memory_equal(s + b, want[n], 1);
        n++;
    }
    assert_int_equal(n, 5);
    pos = 0;
    assert_true(next_line("", 0, pos, &b, &e) > 0);
    /* strip: Python whitespace, including NBSP and U+3000 */
    const char *t = "\xC2\xA0 x y\xE3\x80\x80\t";
    b = 0;
    e = strlen(t);
    strip_span(t, &b, &e);
    assert_int_equal(e - b, 3);
    assert_memory_equal(t + b, "x y", 3);
}

static void test_normalize(void **state)
{
    (void)state;
    clean_config *c = clean_config_new();
    strbuf out = STRBUF_INIT;
    uint64_t rep = 0;
    /* invalid UTF-8 -> U+FFFD */
    assert_true(normalize_text(c, "a\xFF" "b", 3, &out, &rep));
    assert_string_equal(out.buf, "a\xEF\xBF\xBD" "b");
    assert_int_equal(rep, 1);
    /* line endings and control characters (tab and newline stay) */
    assert_true(normalize_text(c, "a\r\nb\rc\x01\x7F" "d\te\xC2\x85" "f\xC2\x9Fg", 17, &out, &rep));
    assert_string_equal(out.buf, "a\nb\ncd\te\nfg");
    /* NFC: e + combining acute -> é; Angstrom sign -> Å */
    assert_true(normalize_text(c, "e\xCC\x81 \xE2\x84\xAB", 7, &out, &rep));
    assert_string_equal(out.buf, "\xC3\xA9 \xC3\x85");
    /* already clean text is left alone */
    const char *clean_text = "plain caf\xC3\xA9 \xE6\x97\xA5";
    assert_false(normalize_text(c, clean_text, strlen(clean_text), &out, &rep));
    /* switches */
    char err[128];
    assert_int_equal(clean_config_set(c, "normalize.nfc=0", err, sizeof err), 0);
    assert_false(normalize_text(c, "e\xCC\x81", 3, &out, &rep));
    clean_config_free(c);
    sb_free(&out);
}

static void test_normalize_long_nfc(void **state)
{
    (void)state;
    /* more than one NFC piece (1 MiB): composition across the whole text */
    clean_config *c = clean_config_new();
    strbuf in = STRBUF_INIT, out = STRBUF_INIT, want = STRBUF_INIT;
    for (int i = 0; i < 400000; i++) {
        sb_adds(&in, "e\xCC\x81");
        sb_adds(&want, "\xC3\xA9");
        if (i % 7 == 0) {
            sb_addc(&in, ' ');
            sb_addc(&want, ' ');
        }
    }
    uint64_t rep;
    assert_true(normalize_text(c, in.buf, in.len, &out, &rep));
    assert_int_equal(out.len, want.len);
    assert_memory_equal(out.buf, want.buf, want.len);
    sb_free(&in);
    sb_free(&out);
    sb_free(&want);
    clean_config_free(c);
}

static uint32_t ip(int a, int b, int c, int d)
{
    return (uint32_t)a << 24 | (uint32_t)b << 16 | (uint32_t)c << 8 | (uint32_t)d;
}

static void test_ipv4_ranges(void **state)
{
    (void)state;
    /* private and reserved: kept */
    assert_false(ipv4_is_public(ip(10, 1, 2, 3)));
    assert_false(ipv4_is_public(ip(172, 16, 0, 1)));
    assert_false(ipv4_is_public(ip(172, 31, 255, 255)));
    assert_false(ipv4_is_public(ip(192, 168, 1, 1)));
    assert_false(ipv4_is_public(ip(127, 0, 0, 1)));
    assert_false(ipv4_is_public(ip(169, 254, 10, 10)));
    assert_false(ipv4_is_public(ip(100, 64, 0, 1)));
    assert_false(ipv4_is_public(ip(0, 0, 0, 0)));
    assert_false(ipv4_is_public(ip(192, 0, 2, 55)));
    assert_false(ipv4_is_public(ip(198, 51, 100, 7)));
    assert_false(ipv4_is_public(ip(203, 0, 113, 9)));
    assert_false(ipv4_is_public(ip(198, 18, 0, 1)));
    assert_false(ipv4_is_public(ip(224, 0, 0, 251)));
    assert_false(ipv4_is_public(ip(255, 255, 255, 255)));
    /* public */
    assert_true(ipv4_is_public(ip(8, 8, 8, 8)));
    assert_true(ipv4_is_public(ip(172, 32, 0, 1)));
    assert_true(ipv4_is_public(ip(172, 15, 255, 255)));
    assert_true(ipv4_is_public(ip(100, 128, 0, 1)));
    assert_true(ipv4_is_public(ip(93, 184, 216, 34)));
    assert_true(ipv4_is_public(ip(192, 169, 0, 1)));
}

static void pii(const char *in, const char *want)
{
    clean_config *c = clean_config_new();
    strbuf out = STRBUF_INIT;
    uint64_t e = 0, i = 0;
    size_t n = pii_replace(c, in, strlen(in), &out, &e, &i);
    const char *got = n ? out.buf : in;
    if (strcmp(got, want)) fail_msg("pii(\"%s\") = \"%s\", expected \"%s\"", in, got, want);
    sb_free(&out);
    clean_config_free(c);
}

static void test_pii(void **state)
{
    (void)state;
    pii("mail john.doe+x@mail.example.co.uk today", "mail email@example.com today");
    pii("(a_b@c-d.org).", "(email@example.com).");
    pii("no at here, x@y, @home, a@b.c1, me@localhost", "no at here, x@y, @home, a@b.c1, me@localhost");
    pii("server 8.8.8.8 and 93.184.216.34:80", "server 0.0.0.0 and 0.0.0.0:80");
    pii("lan 192.168.1.10, 10.0.0.1, 127.0.0.1, 172.16.5.4", "lan 192.168.1.10, 10.0.0.1, 127.0.0.1, 172.16.5.4");
    pii("version 1.2.3.4.5 and 8.8.8.8.1 and 256.1.1.1 and 08.8.8.8", "version 1.2.3.4.5 and 8.8.8.8.1 and 256.1.1.1 and 08.8.8.8");
    pii("end 8.8.4.4.", "end 0.0.0.0.");
    pii("abc8.8.8.8 8.8.8.8x", "abc8.8.8.8 8.8.8.8x");
    /* placeholders are stable: a second pass changes nothing */
    pii("email@example.com 0.0.0.0", "email@example.com 0.0.0.0");
}

static void test_pii_filter_switches(void **state)
{
    (void)state;
    strbuf out = STRBUF_INIT;
    const char *sets[] = { "pii.ipv4=0", "pii.email_placeholder=<EMAIL>", NULL };
    clean_config *c = tl_config("pii", sets);
    const char *t = "write to a@b.com from 8.8.8.8";
    assert_reason(tl_run_cfg(c, t, strlen(t), NULL, &out), CR_NONE);
    assert_string_equal(out.buf, "write to <EMAIL> from 8.8.8.8");
    clean_config_free(c);
    sb_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_word_splitting),
        cmocka_unit_test(test_sentences),
        cmocka_unit_test(test_lines_and_strip),
        cmocka_unit_test(test_normalize),
        cmocka_unit_test(test_normalize_long_nfc),
        cmocka_unit_test(test_ipv4_ranges),
        cmocka_unit_test(test_pii),
        cmocka_unit_test(test_pii_filter_switches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
