/* Unit tests for common/doc: the record (parse, edit, serialize) and the
 * streaming reader/writer. */
#include <dirent.h>

#include "common/doc.h"
#include "common/json.h"
#include "common/outfile.h"
#include "testlib.h"

static void parse_ok(qdoc *d, const char *line, const char *field)
{
    char err[256];
    if (qdoc_parse(d, line, strlen(line), field, err, sizeof err)) fail_msg("parse: %s", err);
}

static void serialize_eq(const qdoc *d, const char *want)
{
    strbuf out = STRBUF_INIT;
    qdoc_serialize(d, &out);
    assert_string_equal(out.buf, want);
    sb_free(&out);
}

static void test_escapes_and_surrogates(void **state)
{
    (void)state;
    qdoc d;
    qdoc_init(&d);
    parse_ok(&d, "{\"id\":\"a\\u0062c\",\"text\":\"q\\\"\\\\\\/\\b\\f\\n\\r\\t \\u00e9 \\ud83d\\ude00 raw\xC3\xA9\"}", NULL);
    assert_string_equal(d.id.buf, "abc");
    assert_string_equal(d.text.buf, "q\"\\/\b\f\n\r\t \xC3\xA9 \xF0\x9F\x98\x80 raw\xC3\xA9");
    assert_int_equal(d.repairs, 0);
    /* lone surrogates: U+FFFD, counted, and re-escaped on output */
    parse_ok(&d, "{\"text\":\"a\\ud800b\\udc00c\"}", NULL);
    assert_string_equal(d.text.buf, "a\xEF\xBF\xBD" "b\xEF\xBF\xBD" "c");
    assert_int_equal(d.repairs, 2);
    serialize_eq(&d, "{\"text\":\"a\xEF\xBF\xBD" "b\xEF\xBF\xBD" "c\"}\n");
    qdoc_free(&d);
}

static void test_invalid_utf8_repaired(void **state)
{
    (void)state;
    qdoc d;
    qdoc_init(&d);
    parse_ok(&d, "{\"text\":\"bad\xFF here\xE2\x82\",\"meta\":\"x\xC0\xAF\"}", NULL);
    assert_string_equal(d.text.buf, "bad\xEF\xBF\xBD here\xEF\xBF\xBD");
    assert_int_equal(d.repairs, 4);
    /* every string in the output is valid UTF-8, other members included */
    serialize_eq(&d, "{\"text\":\"bad\xEF\xBF\xBD here\xEF\xBF\xBD\",\"meta\":\"x\xEF\xBF\xBD\xEF\xBF\xBD\"}\n");
    qdoc_free(&d);
}

static void test_unknown_fields_pass_through(void **state)
{
    (void)state;
    qdoc d;
    qdoc_init(&d);
    const char *canon = "{\"zz\":[1,{\"a\":null}],\"id\":7,\"text\":\"t\",\"f\":-1.5e3,\"metadata\":{\"url\":\"u\"},\"b\":true}";
    parse_ok(&d, canon, NULL);
    assert_string_equal(d.id.buf, "7");
    assert_int_equal(d.n_members, 6);
    strbuf out = STRBUF_INIT;
    qdoc_serialize(&d, &out);
    assert_int_equal(out.len, strlen(canon) + 1);          /* byte for byte */
    assert_memory_equal(out.buf, canon, strlen(canon));
    /* whitespace between members goes; values (nested spaces too) stay */
    parse_ok(&d, "  { \"text\" : \"a b\" ,\t\"x\": { \"k\" : 1 } }\r", NULL);
    serialize_eq(&d, "{\"text\":\"a b\",\"x\":{ \"k\" : 1 }}\n");
    sb_free(&out);
    qdoc_free(&d);
}

static void test_bad_lines_rejected(void **state)
{
    (void)state;
    qdoc d;
    qdoc_init(&d);
    char err[256];
    struct { const char *line, *want; } cases[] = {
        { "[1,2]", "not a JSON object" },
        { "{\"id\":\"x\"}", "no \"text\" field" },
        { "{\"text\":null}", "null" },
        { "{\"text\":12}", "not a string" },
        { "{\"text\":\"a\",}", "expected a member name" },
        { "{\"text\":\"a\"} x", "unexpected data" },
        { "{\"text\":\"a\x01\"}", "control character" },
        { "{\"text\":\"a\\q\"}", "bad escape" },
        { "{\"text\":\"abc", "unterminated" },
        { "{\"text\":\"a\",\"n\":01}", "invalid JSON" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        err[0] = 0;
        assert_int_equal(qdoc_parse(&d, cases[i].line, strlen(cases[i].line), NULL, err, sizeof err), -1);
        if (!strstr(err, cases[i].want)) fail_msg("'%s': got '%s', want '%s'", cases[i].line, err, cases[i].want);
    }
    qdoc_free(&d);
}

static void test_text_field_and_set_text(void **state)
{
    (void)state;
    qdoc d;
    qdoc_init(&d);
    parse_ok(&d, "{\"text\":\"not me\",\"content\":\"hello\",\"x\":1}", "content");
    assert_string_equal(d.text.buf, "hello");
    qdoc_set_text(&d, "new \"quoted\"\n\xFF", 14);
    assert_true(d.text_changed);
    serialize_eq(&d, "{\"text\":\"not me\",\"content\":\"new \\\"quoted\\\"\\n\xEF\xBF\xBD\",\"x\":1}\n");
    strbuf sb = STRBUF_INIT;
    assert_int_equal(qdoc_get_str(&d, "content", &sb), 1);
    assert_string_equal(sb.buf, "new \"quoted\"\n\xEF\xBF\xBD");
    assert_int_equal(qdoc_get_str(&d, "text", &sb), 1);
    assert_string_equal(sb.buf, "not me");
    assert_int_equal(qdoc_get_str(&d, "x", &sb), 0);
    assert_int_equal(qdoc_get_str(&d, "nope", &sb), 0);
    /* set_text with a slice of the document's own text */
    qdoc_set_text(&d, d.text.buf + 4, 8);
    assert_string_equal(d.text.buf, "\"quoted\"");
    sb_free(&sb);
    qdoc_free(&d);
}

static void test_metadata_get_set(void **state)
{
    (void)state;
    qdoc d;
    qdoc_init(&d);
    parse_ok(&d, "{\"text\":\"t\",\"metadata\":{\"url\":\"http://x/\\u00e9\",\"lang_score\":0.97,\"k\":[1]},\"z\":0}", NULL);
    strbuf sb = STRBUF_INIT;
    double v;
    assert_int_equal(qdoc_meta_get_str(&d, "url", &sb), 1);
    assert_string_equal(sb.buf, "http://x/\xC3\xA9");
    assert_int_equal(qdoc_meta_get_num(&d, "lang_score", &v), 1);
    assert_true(v == 0.97);
    assert_int_equal(qdoc_meta_get_str(&d, "lang_score", &sb), 0);
    assert_int_equal(qdoc_meta_get_num(&d, "url", &v), 0);
    assert_int_equal(qdoc_meta_get_str(&d, "missing", &sb), 0);
    /* set: replace in place, add new keys at the end, see them with get */
    qdoc_meta_set_num(&d, "lang_score", 0.5);
    qdoc_meta_set_str(&d, "lang", "en", 2);
    qdoc_meta_set_num(&d, "n", 12);
    qdoc_meta_set_json(&d, "obj", "{\"a\":1}", 7);
    qdoc_meta_set_str(&d, "lang", "fr", 2);   /* the last set wins */
    assert_int_equal(qdoc_meta_get_str(&d, "lang", &sb), 1);
    assert_string_equal(sb.buf, "fr");
    assert_int_equal(qdoc_meta_get_num(&d, "lang_score", &v), 1);
    assert_true(v == 0.5);
    serialize_eq(&d, "{\"text\":\"t\",\"metadata\":{\"url\":\"http://x/\\u00e9\",\"lang_score\":0.5,\"k\":[1],"
                     "\"lang\":\"fr\",\"n\":12,\"obj\":{\"a\":1}},\"z\":0}\n");
    /* no metadata member yet: one is appended */
    parse_ok(&d, "{\"text\":\"t\"}", NULL);
    assert_int_equal(qdoc_meta_get_str(&d, "lang", &sb), 0);   /* edits cleared by parse */
    qdoc_meta_set_str(&d, "lang", "de", 2);
    serialize_eq(&d, "{\"text\":\"t\",\"metadata\":{\"lang\":\"de\"}}\n");
    /* the output parses back as a document with the same values */
    strbuf out = STRBUF_INIT;
    qdoc_serialize(&d, &out);
    char err[128];
    qjson *j = qjson_parse(out.buf, out.len, err, sizeof err);
    assert_non_null(j);
    assert_string_equal(qjson_str(qjson_path(j, "metadata.lang"), ""), "de");
    qjson_free(j);
    sb_free(&out);
    sb_free(&sb);
    qdoc_free(&d);
}

static void test_build(void **state)
{
    (void)state;
    qdoc d;
    qdoc_init(&d);
    qdoc_build(&d, "<urn:uuid:1>", "line1\nline2 \"q\"", 15, "cc-2024-22", "{\"url\":\"http://a\",\"lang\":\"en\"}");
    serialize_eq(&d, "{\"id\":\"<urn:uuid:1>\",\"text\":\"line1\\nline2 \\\"q\\\"\",\"source\":\"cc-2024-22\","
                     "\"metadata\":{\"url\":\"http://a\",\"lang\":\"en\"}}\n");
    assert_string_equal(d.id.buf, "<urn:uuid:1>");
    strbuf sb = STRBUF_INIT;
    assert_int_equal(qdoc_meta_get_str(&d, "url", &sb), 1);
    assert_string_equal(sb.buf, "http://a");
    sb_free(&sb);
    qdoc_free(&d);
}

static void test_reader_huge_line_and_errors(void **state)
{
    (void)state;
    /* a 20 MB line between two small ones; far larger than any buffer */
    char path[400];
    tl_path(path, sizeof path, "huge.jsonl");
    size_t big = 20u << 20;
    strbuf sb = STRBUF_INIT;
    sb_adds(&sb, "{\"text\":\"first\"}\n\n{\"id\":\"big\",\"text\":\"");
    size_t start = sb.len;
    sb_grow(&sb, big + 64);
    for (size_t i = 0; i < big; i++) sb.buf[start + i] = (char)('a' + i % 26);
    sb.len += big;
    sb_adds(&sb, "\\n\"}\nnot json\n{\"text\":\"last\"}");   /* no final newline */
    tl_write_file(path, sb.buf, sb.len);

    char *paths[] = { path };
    qdoc_reader_opts o = { .text_field = NULL, .skip_bad = 1, .max_line = 0 };
    qdoc_reader *r = qdoc_reader_open(paths, 1, &o);
    qdoc d;
    qdoc_init(&d);
    assert_int_equal(qdoc_reader_next(r, &d), 1);
    assert_string_equal(d.text.buf, "first");
    assert_int_equal(d.line_no, 1);
    assert_int_equal(qdoc_reader_next(r, &d), 1);
    assert_int_equal(d.line_no, 3);   /* the blank line 2 is skipped */
    assert_int_equal(d.text.len, big + 1);
    for (size_t i = big - 5; i < big; i++) assert_int_equal(d.text.buf[i], 'a' + i % 26);
    assert_int_equal(d.text.buf[big], '\n');
    assert_int_equal(qdoc_reader_next(r, &d), 1);   /* "not json" reported, skipped */
    assert_string_equal(d.text.buf, "last");
    assert_int_equal(d.line_no, 5);
    assert_string_equal(d.input_name, path);
    assert_int_equal(qdoc_reader_next(r, &d), 0);
    assert_int_equal(qdoc_reader_errors(r), 1);
    assert_int_equal(qdoc_reader_failed_inputs(r), 0);
    assert_int_equal(qdoc_reader_bytes(r), sb.len);
    qdoc_reader_close(r);

    /* strict: stop at the bad line; max_line: a too-long line is an error */
    o.skip_bad = 0;
    o.max_line = 1 << 20;
    r = qdoc_reader_open(paths, 1, &o);
    assert_int_equal(qdoc_reader_next(r, &d), 1);
    assert_int_equal(qdoc_reader_next(r, &d), -1);
    qdoc_reader_close(r);
    o.skip_bad = 1;
    r = qdoc_reader_open(paths, 1, &o);
    int n = 0;
    while (qdoc_reader_next(r, &d) == 1) n++;
    assert_int_equal(n, 2);
    assert_int_equal(qdoc_reader_errors(r), 2);
    qdoc_reader_close(r);
    sb_free(&sb);
    qdoc_free(&d);
}

static void test_reader_missing_input(void **state)
{
    (void)state;
    char good[400];
    tl_path(good, sizeof good, "good.jsonl");
    tl_write_file(good, "{\"text\":\"a\"}\n", 13);
    char *paths[] = { "/nonexistent/x.jsonl", good };
    qdoc_reader_opts o = { .skip_bad = 1 };
    qdoc_reader *r = qdoc_reader_open(paths, 2, &o);
    assert_int_equal(qdoc_reader_total_raw(r), -1);
    qdoc d;
    qdoc_init(&d);
    assert_int_equal(qdoc_reader_next(r, &d), 1);
    assert_int_equal(qdoc_reader_next(r, &d), 0);
    assert_int_equal(qdoc_reader_failed_inputs(r), 1);
    qdoc_reader_close(r);
    qdoc_free(&d);
}

static size_t count_files(const char *dir, const char *suffix)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name), sl = strlen(suffix);
        if (l > sl && !strcmp(e->d_name + l - sl, suffix)) n++;
    }
    closedir(d);
    return n;
}

static void test_writer_shards(void **state)
{
    (void)state;
    char dir[400];
    tl_path(dir, sizeof dir, "shards/");
    qdoc_writer_opts o = { .out = dir, .shard_bytes = 100, .prefix = "part", .compress = 1 };
    char err[256];
    qdoc_writer *w = qdoc_writer_open(&o, err, sizeof err);
    assert_non_null(w);
    /* 10 lines of 30 bytes, written in one call and line by line: shards
     * close after the line that reaches 100 bytes -> 4 lines, 4 lines, 2 */
    strbuf all = STRBUF_INIT;
    for (int i = 0; i < 10; i++) sb_addf(&all, "{\"text\":\"doc %02d ...........\"}\n", i);
    assert_int_equal(all.len, 300);
    assert_int_equal(qdoc_writer_write(w, all.buf, 150), 0);
    assert_int_equal(qdoc_writer_write(w, all.buf + 150, 150), 0);
    assert_int_equal(qdoc_writer_docs(w), 10);
    assert_int_equal(qdoc_writer_bytes(w), 300);
    assert_int_equal(qdoc_writer_close(w, err, sizeof err), 0);
    assert_int_equal(count_files(dir, ".jsonl.zst"), 3);
    char path[500];
    strbuf back = STRBUF_INIT, sb = STRBUF_INIT;
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%spart-%06d.jsonl.zst", dir, i);
        assert_int_equal(qread_file(path, &sb, err, sizeof err), 0);
        assert_int_equal(sb.len, i < 2 ? 120 : 60);
        sb_add(&back, sb.buf, sb.len);
    }
    assert_memory_equal(back.buf, all.buf, 300);
    /* a rerun that writes fewer shards leaves no stale ones behind, and does
     * not touch other prefixes or other files */
    snprintf(path, sizeof path, "%sother-000007.jsonl.zst", dir);
    tl_write_text(path, "");
    snprintf(path, sizeof path, "%spart-notes.txt", dir);
    tl_write_text(path, "");
    o.shard_bytes = 1000;
    w = qdoc_writer_open(&o, err, sizeof err);
    assert_int_equal(qdoc_writer_write(w, all.buf, all.len), 0);
    assert_int_equal(qdoc_writer_close(w, err, sizeof err), 0);
    assert_int_equal(count_files(dir, ".jsonl.zst"), 2);   /* part-000000 + other-000007 */
    snprintf(path, sizeof path, "%spart-notes.txt", dir);
    assert_true(qout_is_complete(path));
    snprintf(path, sizeof path, "%spart-000001.jsonl.zst", dir);
    assert_false(qout_is_complete(path));
    sb_free(&back);
    sb_free(&sb);
    sb_free(&all);
}

static void test_writer_single_file(void **state)
{
    (void)state;
    char path[400];
    tl_path(path, sizeof path, "one.jsonl.zst");
    qdoc_writer_opts o = { .out = path };
    char err[256];
    qdoc_writer *w = qdoc_writer_open(&o, err, sizeof err);
    assert_non_null(w);
    qdoc d;
    qdoc_init(&d);
    parse_ok(&d, "{\"text\" : \"x\"}", NULL);
    assert_int_equal(qdoc_writer_put(w, &d), 0);
    assert_false(qout_is_complete(path));   /* not visible before close */
    assert_int_equal(qdoc_writer_close(w, err, sizeof err), 0);
    strbuf sb = STRBUF_INIT;
    assert_int_equal(qread_file(path, &sb, err, sizeof err), 0);
    assert_string_equal(sb.buf, "{\"text\":\"x\"}\n");
    o.out = "/tmp/x.jsonl.gz";
    assert_null(qdoc_writer_open(&o, err, sizeof err));
    assert_non_null(strstr(err, "gzip"));
    sb_free(&sb);
    qdoc_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escapes_and_surrogates),
        cmocka_unit_test(test_invalid_utf8_repaired),
        cmocka_unit_test(test_unknown_fields_pass_through),
        cmocka_unit_test(test_bad_lines_rejected),
        cmocka_unit_test(test_text_field_and_set_text),
        cmocka_unit_test(test_metadata_get_set),
        cmocka_unit_test(test_build),
        cmocka_unit_test(test_reader_huge_line_and_errors),
        cmocka_unit_test(test_reader_missing_input),
        cmocka_unit_test(test_writer_shards),
        cmocka_unit_test(test_writer_single_file),
    };
    return cmocka_run_group_tests(tests, tl_tmpdir_setup, tl_tmpdir_teardown);
}
