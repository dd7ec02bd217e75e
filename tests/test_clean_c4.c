/* Golden tests for clean/c4.c: C4 quality (line rewriting, document drops,
 * thresholds) and C4 bad words. */
#include "clean_testlib.h"
#include "testlib.h"

/* Run c4_quality with sets; return the reason and the rewritten text. */
static int c4(const char *const *sets, const char *text, strbuf *out)
{
    clean_config *c = tl_config("c4_quality", sets);
    int r = tl_run_cfg(c, text, strlen(text), NULL, out);
    clean_config_free(c);
    return r;
}

static const char *const NO_MIN_SENT[] = { "c4_quality.min_num_sentences=-1", NULL };

static void test_line_rewriting(void **state)
{
    (void)state;
    strbuf out = STRBUF_INIT;
    const char *text =
        "  Home | About | Contact\n"                        /* no terminal punctuation */
        "This is a good sentence.\n"                        /* kept (stripped) */
        "Too short.\n"                                      /* 2 words */
        "Please enable JavaScript to view the page.\n"      /* javascript */
        "We use cookies to improve your experience.\n"      /* policy */
        "Read our Privacy Policy for more details.\n"       /* policy */
        "The tower is 300 m tall.[1] It opened in 1889.[citation needed]\n"
        "He said \"this line ends in a quote\"\n"           /* ends with " */
        "And the story went on and on...\n"                 /* ellipsis */
        "   \n"
        "Is this a question that ends here?   ";
    assert_reason(c4(NO_MIN_SENT, text, &out), CR_NONE);
    assert_string_equal(out.buf,
                        "This is a good sentence.\n"
                        "The tower is 300 m tall. It opened in 1889.\n"
                        "He said \"this line ends in a quote\"\n"
                        "Is this a question that ends here?");
    sb_free(&out);
}

static void test_phrases(void **state)
{
    (void)state;
    strbuf out = STRBUF_INIT;
    static const char *const dropped[] = {
        "This site USES COOKIES for everything.", "You can use of cookies here too.",
        "We will use cookies when you visit.", "Our Cookie Policy is long.",
        "The Terms Of Use apply to you.", "Read the privacy policy today.",
        "Turn on xJavaScriptx to see it.",
    };
    for (size_t i = 0; i < sizeof dropped / sizeof dropped[0]; i++) {
        strbuf t = STRBUF_INIT;
        sb_adds(&t, "A good line stays here.\n");
        sb_adds(&t, dropped[i]);
        assert_reason(c4(NO_MIN_SENT, t.buf, &out), CR_NONE);
        if (strcmp(out.buf, "A good line stays here."))
            fail_msg("\"%s\" was not dropped: \"%s\"", dropped[i], out.buf);
        sb_free(&t);
    }
    /* near misses stay */
    const char *kept = "The cook used a policy.\nTerms of usage differ.\nPrivacy, policy and java script.";
    assert_reason(c4(NO_MIN_SENT, kept, &out), CR_NONE);
    assert_string_equal(out.buf, kept);
    assert_reason(c4(NO_MIN_SENT, "He typed LOREM IPSUM in caps.", &out), CR_LOREM_IPSUM);
    sb_free(&out);
}

static void test_terminal_punct_off(void **state)
{
    (void)state;
    strbuf out = STRBUF_INIT;
    const char *sets[] = { "c4_quality.min_num_sentences=-1", "c4_quality.terminal_punct=0", NULL };
    assert_reason(c4(sets, "Home | About | Contact\nToo short\nA line without a stop", &out), CR_NONE);
    assert_string_equal(out.buf, "Home | About | Contact\nA line without a stop");
    sb_free(&out);
}

static void test_word_limits(void **state)
{
    (void)state;
    strbuf text = STRBUF_INIT, out = STRBUF_INIT;
    /* a word of 1000 characters is allowed, 1001 drops the line */
    sb_adds(&text, "A word of ");
    tl_repeat(&text, "x", 1000, "");
    sb_adds(&text, " letters.\nA word of ");
    tl_repeat(&text, "y", 1001, "");
    sb_adds(&text, " letters.\nThe end is here.");
    assert_reason(c4(NO_MIN_SENT, text.buf, &out), CR_NONE);
    assert_non_null(strstr(out.buf, "xxxx"));
    assert_null(strstr(out.buf, "yyyy"));
    assert_non_null(strstr(out.buf, "The end is here."));
    /* min_words_per_line: 3 kept, 2 dropped; counted before citation removal */
    assert_reason(c4(NO_MIN_SENT, "One two three.\nOne two.\nOne [1] two.", &out), CR_NONE);
    assert_string_equal(out.buf, "One two three.\nOne  two.");
    sb_free(&text);
    sb_free(&out);
}

static void test_citations(void **state)
{
    (void)state;
    strbuf out = STRBUF_INIT;
    assert_reason(c4(NO_MIN_SENT, "Paris is big.[12] Really big[] it is.[edit]", &out), CR_NONE);
    assert_string_equal(out.buf, "Paris is big. Really big it is.");
    /* [a] is not a citation and stays */
    assert_reason(c4(NO_MIN_SENT, "See note [a] for this.", &out), CR_NONE);
    assert_string_equal(out.buf, "See note [a] for this.");
    /* removal happens before the punctuation test: "x.[1]" ends in "." */
    const char *off[] = { "c4_quality.min_num_sentences=-1", "c4_quality.remove_citations=0", NULL };
    assert_reason(c4(off, "It ends here.[1]", &out), CR_NONE);
    assert_string_equal(out.buf, "");
    sb_free(&out);
}

static void test_document_drops(void **state)
{
    (void)state;
    strbuf out = STRBUF_INIT;
    assert_reason(c4(NO_MIN_SENT, "Good line one here.\nLorem Ipsum dolor sit amet.", &out),
                  CR_LOREM_IPSUM);
    assert_reason(c4(NO_MIN_SENT, "Good line one here.\nfunction f() { return 1; }.", &out),
                  CR_CURLY_BRACKET);
    /* a dropped line never reaches the document tests */
    assert_reason(c4(NO_MIN_SENT, "Good line one here.\nlorem ipsum\n{ x }", &out), CR_NONE);
    assert_string_equal(out.buf, "Good line one here.");
    sb_free(&out);
}

static void test_sentences(void **state)
{
    (void)state;
    strbuf out = STRBUF_INIT;
    /* 5 sentences over 2 lines pass; 4 fail */
    assert_reason(c4(NULL, "One is here. Two is here! Three is here?\nFour is here. Five is here.", &out),
                  CR_NONE);
    assert_reason(c4(NULL, "One is here. Two is here! Three is here?\nFour is here.", &out),
                  CR_TOO_FEW_SENTENCES);
    /* abbreviations and decimals do not end sentences */
    assert_reason(c4(NULL, "Mr. Smith paid 3.50 dollars. Dr. Jones, e.g. the vet, came. J. Doe left.", &out),
                  CR_TOO_FEW_SENTENCES);
    assert_reason(c4(NULL, "", &out), CR_TOO_FEW_SENTENCES);
    sb_free(&out);
}

static int badwords(const char *file, const char *text, const char *lang)
{
    char set[512];
    snprintf(set, sizeof set, "c4_badwords.file=%s", file);
    const char *sets[] = { set, NULL };
    clean_config *c = tl_config("c4_badwords", sets);
    char err[256];
    clean_cascade *cc = clean_cascade_new(c, err, sizeof err);
    if (!cc) fail_msg("%s", err);
    clean_worker *w = clean_worker_new(cc);
    clean_doc d;
    clean_doc_init(&d);
    sb_adds(&d.text, text);
    d.lang_in = lang;
    clean_run(w, &d);
    int r = d.reason;
    clean_doc_free(&d);
    clean_worker_free(w);
    clean_cascade_free(cc);
    clean_config_free(c);
    return r;
}

static void test_badwords(void **state)
{
    (void)state;
    char path[400];
    tl_write_text(tl_path(path, sizeof path, "badwords.txt"), "# test list\nbadword\ntwo words\n\xE8\xB5\x8C\n");
    assert_reason(badwords(path, "a clean text", NULL), CR_NONE);
    assert_reason(badwords(path, "this has a BadWord in it", NULL), CR_BADWORDS);
    assert_reason(badwords(path, "badword", NULL), CR_BADWORDS);
    assert_reason(badwords(path, "(badword)", NULL), CR_BADWORDS);
    /* word boundaries: inside a longer word is no match */
    assert_reason(badwords(path, "badwords and notbadword", NULL), CR_NONE);
    assert_reason(badwords(path, "say two words now", NULL), CR_BADWORDS);
    /* ja/th/zh: no boundaries needed */
    assert_reason(badwords(path, "\xE4\xBD\xA0\xE8\xB5\x8C\xE5\x90\x97", "en"), CR_NONE);
    assert_reason(badwords(path, "\xE4\xBD\xA0\xE8\xB5\x8C\xE5\x90\x97", "zh"), CR_BADWORDS);
    /* a missing list is an error when the cascade is built */
    const char *sets[] = { "c4_badwords.file=/nonexistent/list", NULL };
    clean_config *c = tl_config("c4_badwords", sets);
    char err[256];
    assert_null(clean_cascade_new(c, err, sizeof err));
    clean_config_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line_rewriting),
        cmocka_unit_test(test_phrases),
        cmocka_unit_test(test_terminal_punct_off),
        cmocka_unit_test(test_word_limits),
        cmocka_unit_test(test_citations),
        cmocka_unit_test(test_document_drops),
        cmocka_unit_test(test_sentences),
        /* the only test that writes a file: a directory of its own */
        cmocka_unit_test_setup_teardown(test_badwords, tl_tmpdir_setup, tl_tmpdir_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
