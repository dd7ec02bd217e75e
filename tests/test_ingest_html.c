/* Unit tests for ingest/html (HTML -> text) and ingest/boilerplate. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"
#include "common/utf8.h"
#include "ingest/html.h"

static html_ctx *ctx;
static strbuf text, title;

static int setup(void **state)
{
    (void)state;
    ctx = html_new();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    html_free(ctx);
    sb_free(&text);
    sb_free(&title);
    return 0;
}

static const char *extract(const char *html, int main_content)
{
    html_extract(ctx, html, strlen(html), main_content, &text, &title);
    assert_true(utf8_is_valid(text.buf ? text.buf : "", text.len));
    return sb_str(&text);
}

static void test_dropped_elements_and_hidden(void **state)
{
    (void)state;
    const char *t = extract(
        "<html><head><title> The  Title </title><style>p{}</style><script>var x=1;</script></head><body>"
        "<nav><a href=/>Home</a></nav><header>Site header</header>"
        "<p>Visible paragraph.</p><script>alert(1)</script><noscript>enable js</noscript>"
        "<template><p>templated</p></template><svg><text>svg text</text></svg>"
        "<div hidden>hidden attr</div><div style=\"display: none\">display none</div>"
        "<span aria-hidden=\"true\">aria hidden</span><form><input value=x>form text</form>"
        "<aside>aside text</aside><footer>footer text</footer></body></html>",
        0);
    assert_string_equal(t, "Visible paragraph.");
    assert_string_equal(sb_str(&title), "The Title");
}

static void test_blocks_entities_whitespace(void **state)
{
    (void)state;
    const char *t = extract("<body><h1>Head&amp;ing</h1><p>one\n   two&nbsp;three &lt;x&gt; &eacute;&#x263A;</p>"
                            "<div>line<br>break</div><p>a <b>bold</b> <i>word</i></p></body>",
                            0);
    assert_string_equal(t, "Head&ing\n\none two three <x> \xC3\xA9\xE2\x98\xBA\n\nline\nbreak\n\na bold word");
}

static void test_lists_tables_pre(void **state)
{
    (void)state;
    const char *t = extract("<body><ul><li>alpha</li><li>beta <a href=x>link</a></li></ul>"
                            "<ol><li>first</li><li>second</li></ol>"
                            "<table><tr><th>Name</th><th>Value</th></tr><tr><td>a</td><td>1</td></tr></table>"
                            "<pre>\ncode  line 1\n    indented\n</pre></body>",
                            0);
    assert_string_equal(t, "- alpha\n- beta link\n\n1. first\n2. second\n\nName | Value\na | 1\n\n"
                           "code  line 1\n    indented");
}

/* A page with navigation link lists, a cookie banner and a footer-ish
 * div around real paragraphs: main-content mode keeps the paragraphs. */
static const char *page =
    "<html><head><title>Article</title></head><body>"
    "<div class=\"menu\"><ul><li><a href=/a>Products</a></li><li><a href=/b>Pricing</a></li>"
    "<li><a href=/c>About us</a></li><li><a href=/d>Contact</a></li></ul></div>"
    "<div id=\"cookie-banner\">We use cookies to improve your experience on this site.</div>"
    "<div class=\"content\"><h2>How rivers shape valleys</h2>"
    "<p>Rivers carve valleys over very long periods of time. The water carries sediment that scrapes the "
    "riverbed, and floods move boulders that no ordinary flow could lift. Over thousands of years this "
    "slowly deepens the channel.</p>"
    "<p>Short note.</p>"
    "<p>Where the rock is soft, the valley widens quickly; where it is hard, the river cuts a narrow gorge "
    "with steep walls. Geologists read these shapes to reconstruct the history of a landscape, including "
    "ice ages and uplift.</p></div>"
    "<div class=\"links\"><a href=/1>Share on a social site</a> | <a href=/2>Print</a> | <a href=/3>Email</a></div>"
    "<div><a href=/x>Terms</a> <a href=/y>Privacy</a> <a href=/z>Imprint</a></div>"
    "</body></html>";

static void test_main_content_removes_boilerplate(void **state)
{
    (void)state;
    const char *t = extract(page, 1);
    assert_non_null(strstr(t, "How rivers shape valleys\n\nRivers carve valleys"));
    assert_non_null(strstr(t, "Short note."));   /* short, but between two good paragraphs */
    assert_non_null(strstr(t, "Geologists read these shapes"));
    assert_null(strstr(t, "Products"));
    assert_null(strstr(t, "cookies"));
    assert_null(strstr(t, "Print"));
    assert_null(strstr(t, "Privacy"));
    assert_string_equal(sb_str(&title), "Article");
}

static void test_no_boilerplate_removal_keeps_everything(void **state)
{
    (void)state;
    const char *t = extract(page, 0);
    assert_non_null(strstr(t, "- Products"));
    assert_non_null(strstr(t, "cookies"));
    assert_non_null(strstr(t, "Rivers carve valleys"));
    assert_non_null(strstr(t, "Privacy"));
}

static void test_short_page_is_not_emptied(void **state)
{
    (void)state;
    /* Nothing here looks like long prose; the fallback must still keep it. */
    const char *t = extract("<body><h1>Error 42</h1><p>The printer is out of paper.</p></body>", 1);
    assert_non_null(strstr(t, "The printer is out of paper."));
}

static void test_malformed_and_deep_html(void **state)
{
    (void)state;
    strbuf h = STRBUF_INIT;
    for (int i = 0; i < 3000; i++) sb_adds(&h, "<div><span>");
    sb_adds(&h, "deep</p></td><b><i>unclosed");
    const char *t = extract(h.buf, 0);
    assert_true(strlen(t) < 100);   /* no crash; the too-deep part may be skipped */
    sb_reset(&h);
    sb_adds(&h, "<p>caf\xC3\xA9</p><p>");
    for (int i = 0; i < 100000; i++) sb_adds(&h, "word ");
    t = extract(h.buf, 1);
    assert_true(strncmp(t, "caf\xC3\xA9", 5) == 0 || strstr(t, "word word"));
    sb_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dropped_elements_and_hidden),
        cmocka_unit_test(test_blocks_entities_whitespace),
        cmocka_unit_test(test_lists_tables_pre),
        cmocka_unit_test(test_main_content_removes_boilerplate),
        cmocka_unit_test(test_no_boilerplate_removal_keeps_everything),
        cmocka_unit_test(test_short_page_is_not_emptied),
        cmocka_unit_test(test_malformed_and_deep_html),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
