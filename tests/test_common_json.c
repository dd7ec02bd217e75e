/* Unit tests for common/json: the DOM parser and the string/number writers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"

static qjson *parse(const char *s)
{
    char err[256];
    qjson *j = qjson_parse(s, strlen(s), err, sizeof err);
    if (!j) fail_msg("parse failed: %s", err);
    return j;
}

static void test_parse_types_and_order(void **state)
{
    (void)state;
    qjson *j = parse(" {\"b\": [1, -2.5e3, true, false, null], \"a\": {\"x\": \"y\"}, \"n\": 0}\n");
    assert_int_equal(j->type, QJ_OBJECT);
    assert_int_equal(j->len, 3);
    assert_string_equal(j->keys[0], "b");   /* file order kept */
    assert_string_equal(j->keys[1], "a");
    const qjson *b = qjson_get(j, "b");
    assert_int_equal(b->len, 5);
    assert_true(qjson_num(qjson_at(b, 1), 0) == -2500.0);
    assert_int_equal(qjson_at(b, 2)->type, QJ_TRUE);
    assert_int_equal(qjson_at(b, 4)->type, QJ_NULL);
    assert_null(qjson_at(b, 5));
    assert_string_equal(qjson_str(qjson_path(j, "a.x"), "?"), "y");
    assert_null(qjson_path(j, "a.missing"));
    assert_true(qjson_num(qjson_get(j, "missing"), 7) == 7);
    qjson_free(j);
}

static void test_string_escapes_and_surrogates(void **state)
{
    (void)state;
    qjson *j = parse("[\"q\\\" b\\\\ s\\/ \\b\\f\\n\\r\\t\", \"\\u00e9\\u20AC\", \"\\ud83d\\ude00\", "
                     "\"lone \\ud800 x\", \"nul\\u0000in\"]");
    assert_string_equal(qjson_at(j, 0)->str, "q\" b\\ s/ \b\f\n\r\t");
    assert_string_equal(qjson_at(j, 1)->str, "\xC3\xA9\xE2\x82\xAC");
    assert_string_equal(qjson_at(j, 2)->str, "\xF0\x9F\x98\x80");     /* U+1F600 from a pair */
    assert_string_equal(qjson_at(j, 3)->str, "lone \xEF\xBF\xBD x");  /* lone surrogate -> U+FFFD */
    assert_int_equal(qjson_at(j, 4)->len, 6);
    assert_memory_equal(qjson_at(j, 4)->str, "nul\0in", 6);
    qjson_free(j);
}

static void test_errors_have_position(void **state)
{
    (void)state;
    char err[256];
    const char *bad[] = { "{\"a\":1,}", "[1 2]", "{\"a\" 1}", "\"unterminated", "[01]", "tru", "{} x",
                          "\"ctrl\x01\"", "\"bad \\x escape\"", "" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = 0;
        assert_null(qjson_parse(bad[i], strlen(bad[i]), err, sizeof err));
        assert_non_null(strstr(err, "line 1 col"));
    }
    assert_null(qjson_parse("{\n  \"a\": ?\n}", 12, err, sizeof err));
    assert_non_null(strstr(err, "line 2 col 8"));
}

static void test_put_str_minimal_escaping(void **state)
{
    (void)state;
    strbuf sb = STRBUF_INIT;
    const char in[] = "a\"b\\c\n\t\r\b\f\x01\x1f\x7f /\xC3\xA9\xE2\x80\xA8";
    json_put_str(&sb, in, sizeof in - 1);
    assert_string_equal(sb.buf, "\"a\\\"b\\\\c\\n\\t\\r\\b\\f\\u0001\\u001f\x7f /\xC3\xA9\xE2\x80\xA8\"");
    sb_reset(&sb);
    json_put_str(&sb, "bad\xFFutf8", 8);
    assert_string_equal(sb.buf, "\"bad\xEF\xBF\xBDutf8\"");
    /* round trip through the parser */
    char err[128];
    qjson *j = qjson_parse(sb.buf, sb.len, err, sizeof err);
    assert_non_null(j);
    assert_string_equal(j->str, "bad\xEF\xBF\xBDutf8");
    qjson_free(j);
    sb_free(&sb);
}

static void test_put_num_shortest(void **state)
{
    (void)state;
    struct { double v; const char *want; } cases[] = {
        { 0, "0" }, { 42, "42" }, { -7, "-7" }, { 0.1, "0.1" }, { 1.5, "1.5" },
        { 1e21, "1e+21" }, { 0.97, "0.97" }, { 1.0 / 3, "0.3333333333333333" }, { NAN, "null" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        strbuf sb = STRBUF_INIT;
        json_put_num(&sb, cases[i].v);
        assert_string_equal(sb.buf, cases[i].want);
        if (isfinite(cases[i].v)) assert_true(strtod(sb.buf, NULL) == cases[i].v);
        sb_free(&sb);
    }
}

static void test_deep_nesting_rejected(void **state)
{
    (void)state;
    char buf[2100];
    memset(buf, '[', 1050);
    memset(buf + 1050, ']', 1050);
    char err[128];
    assert_null(qjson_parse(buf, 2100, err, sizeof err));
    assert_non_null(strstr(err, "nesting"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_types_and_order),
        cmocka_unit_test(test_string_escapes_and_surrogates),
        cmocka_unit_test(test_errors_have_position),
        cmocka_unit_test(test_put_str_minimal_escaping),
        cmocka_unit_test(test_put_num_shortest),
        cmocka_unit_test(test_deep_nesting_rejected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
