/* Unit tests for clean/rules.c: domain blocklist with subdomains, banned
 * URL substrings, PCRE2 rules for URLs and for text (document / lines). */
#include "clean_testlib.h"
#include "testlib.h"

/* Write a rules file in the test directory; returns its path (one of four
 * buffers, so a test can hold a few at once). */
static const char *file(const char *name, const char *content)
{
    static char path[4][400];
    static int k;
    char *p = path[k++ % 4];
    tl_write_text(tl_path(p, sizeof path[0], "%s", name), content);
    return p;
}

static int url_run(const char *param, const char *path, const char *url)
{
    char set[512];
    snprintf(set, sizeof set, "url.%s=%s", param, path);
    const char *sets[] = { set, NULL };
    clean_config *c = tl_config("url", sets);
    int r = tl_run_cfg(c, "some text", 9, url, NULL);
    clean_config_free(c);
    return r;
}

static void test_domains(void **state)
{
    (void)state;
    const char *f = file("domains.txt", "# blocked\nexample.com\nBad.Org.\n\n");
    assert_reason(url_run("domains", f, "https://example.com/page"), CR_URL_DOMAIN);
    assert_reason(url_run("domains", f, "http://www.sub.EXAMPLE.com:8080/x?y"), CR_URL_DOMAIN);
    assert_reason(url_run("domains", f, "https://user:pw@bad.org/"), CR_URL_DOMAIN);
    assert_reason(url_run("domains", f, "https://example.com./"), CR_URL_DOMAIN);
    /* not a subdomain: a different name that merely ends the same way */
    assert_reason(url_run("domains", f, "https://notexample.com/"), CR_NONE);
    assert_reason(url_run("domains", f, "https://example.com.evil.net/"), CR_NONE);
    assert_reason(url_run("domains", f, "https://good.net/example.com"), CR_NONE);
    /* no URL: the rules pass */
    assert_reason(url_run("domains", f, NULL), CR_NONE);
}

static void test_substrings_and_regex(void **state)
{
    (void)state;
    const char *f = file("banned.txt", "casino\n/ads/\n");
    assert_reason(url_run("substrings", f, "https://x.com/Best-CASINO-online"), CR_URL_SUBSTRING);
    assert_reason(url_run("substrings", f, "https://x.com/ads/1"), CR_URL_SUBSTRING);
    assert_reason(url_run("substrings", f, "https://x.com/read"), CR_NONE);
    const char *r = file("url_regex.txt", "^https?://[^/]*\\.xyz/\n\\?utm_[a-z]+=\n");
    assert_reason(url_run("regex", r, "http://spam.xyz/a"), CR_URL_REGEX);
    assert_reason(url_run("regex", r, "https://a.com/p?utm_source=x"), CR_URL_REGEX);
    assert_reason(url_run("regex", r, "https://a.com/xyz/"), CR_NONE);
    /* a bad pattern is reported with file and line */
    const char *bad = file("bad_regex.txt", "ok\n(unclosed\n");
    char set[512], err[256];
    snprintf(set, sizeof set, "url.regex=%s", bad);
    const char *sets[] = { set, NULL };
    clean_config *c = tl_config("url", sets);
    assert_null(clean_cascade_new(c, err, sizeof err));
    assert_non_null(strstr(err, "bad_regex.txt:2:"));
    clean_config_free(c);
}

static int text_run(const char *rules, const char *text, strbuf *out)
{
    char set[512];
    snprintf(set, sizeof set, "text_regex.file=%s", rules);
    const char *sets[] = { set, NULL };
    clean_config *c = tl_config("text_regex", sets);
    int r = tl_run_cfg(c, text, strlen(text), NULL, out);
    clean_config_free(c);
    return r;
}

static void test_text_rules(void **state)
{
    (void)state;
    strbuf out = STRBUF_INIT;
    const char *f = file("text.txt",
                         "# rules\n"
                         "drop-doc (?i)buy now\n"
                         "drop-line ^Share on \\w+$\n"
                         "drop-line (?i)^\\s*(advertisement|sponsored)\\s*$\n");
    assert_reason(text_run(f, "Great stuff.\nBUY NOW while stocks last.", &out), CR_TEXT_REGEX);
    assert_reason(text_run(f, "Line one.\nShare on Facebook\n  Advertisement \nLine two.\n\nEnd.", &out),
                  CR_NONE);
    assert_string_equal(out.buf, "Line one.\nLine two.\n\nEnd.");
    /* a bare pattern means drop-doc; UTF-8 patterns work */
    const char *g = file("text2.txt", "caf\xC3\xA9\\s+\\d+\n");
    assert_reason(text_run(g, "le caf\xC3\xA9 42 ici", &out), CR_TEXT_REGEX);
    assert_reason(text_run(g, "le cafe 42 ici", &out), CR_NONE);
    sb_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_domains),
        cmocka_unit_test(test_substrings_and_regex),
        cmocka_unit_test(test_text_rules),
    };
    return cmocka_run_group_tests(tests, tl_tmpdir_setup, tl_tmpdir_teardown);
}
