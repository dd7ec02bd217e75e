/* Unit tests for ingest/charset, ingest/http, ingest/listing and
 * ingest/convert (record -> document). */
#include <zlib.h>

#include "common/strbuf.h"
#include "common/utf8.h"
#include "ingest/charset.h"
#include "ingest/convert.h"
#include "ingest/http.h"
#include "ingest/listing.h"
#include "testlib.h"

static void test_charset_sources(void **state)
{
    (void)state;
    charset_ctx *c = charset_new();
    strbuf out = STRBUF_INIT;
    char used[64];
    /* HTTP header: ISO-8859-1 means windows-1252 (0x80 is the euro sign) */
    size_t bad = charset_to_utf8(c, "caf\xE9 \x80", 6, "ISO-8859-1", 1, &out, used, sizeof used);
    assert_int_equal(bad, 0);
    assert_string_equal(used, "windows-1252");
    assert_string_equal(out.buf, "caf\xC3\xA9 \xE2\x82\xAC");
    /* BOM wins over everything and is removed */
    charset_to_utf8(c, "\xEF\xBB\xBFhi", 5, "iso-8859-2", 1, &out, used, sizeof used);
    assert_string_equal(used, "utf-8");
    assert_string_equal(out.buf, "hi");
    charset_to_utf8(c, "\xFF\xFEh\0i\0", 6, NULL, 0, &out, used, sizeof used);
    assert_string_equal(used, "utf-16le");
    assert_string_equal(out.buf, "hi");
    /* meta charset, both forms */
    const char *m1 = "<html><head><meta charset=\"koi8-r\"></head><body>\xF0\xD2\xC9\xD7\xC5\xD4</body>";
    charset_to_utf8(c, m1, strlen(m1), NULL, 1, &out, used, sizeof used);
    assert_string_equal(used, "koi8-r");
    assert_non_null(strstr(out.buf, "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82"));   /* Привет */
    const char *m2 = "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=Shift_JIS\">\x93\xFA\x96\x7B";
    charset_to_utf8(c, m2, strlen(m2), NULL, 1, &out, used, sizeof used);
    assert_string_equal(used, "cp932");
    assert_non_null(strstr(out.buf, "\xE6\x97\xA5\xE6\x9C\xAC"));   /* 日本 */
    /* a server default of latin-1 on a page that is valid UTF-8 */
    charset_to_utf8(c, "na\xC3\xAFve", 6, "iso-8859-1", 1, &out, used, sizeof used);
    assert_string_equal(used, "utf-8");
    assert_string_equal(out.buf, "na\xC3\xAFve");
    sb_free(&out);
    charset_free(c);
}

static void test_charset_detection_and_replacement(void **state)
{
    (void)state;
    charset_ctx *c = charset_new();
    strbuf out = STRBUF_INIT;
    char used[64];
    /* no declaration, valid UTF-8 */
    charset_to_utf8(c, "\xC3\xA9t\xC3\xA9", 5, NULL, 1, &out, used, sizeof used);
    assert_string_equal(used, "utf-8");
    /* no declaration, not UTF-8: detected, and the result is valid UTF-8 */
    strbuf fr = STRBUF_INIT;
    for (int i = 0; i < 40; i++) sb_adds(&fr, "Le d\xE9veloppement de l'\xE9t\xE9 a \xE9t\xE9 tr\xE8s r\xE9ussi. ");
    charset_to_utf8(c, fr.buf, fr.len, NULL, 0, &out, used, sizeof used);
    assert_true(utf8_is_valid(out.buf, out.len));
    assert_non_null(strstr(out.buf, "d\xC3\xA9veloppement"));
    /* declared UTF-8 with invalid bytes: replaced, never passed through */
    size_t bad = charset_to_utf8(c, "a\xFF" "b\xC0\xAF" "c\xED\xA0\x80", 9, "utf-8", 1, &out, used, sizeof used);
    assert_true(bad >= 3);
    assert_true(utf8_is_valid(out.buf, out.len));
    assert_non_null(strstr(out.buf, "a\xEF\xBF\xBD" "b"));
    /* invalid in a legacy encoding: EUC-JP with a broken byte pair */
    bad = charset_to_utf8(c, "\xA4\xA2\xFF\xFFz", 5, "euc-jp", 0, &out, used, sizeof used);
    assert_true(bad >= 1);
    assert_true(utf8_is_valid(out.buf, out.len));
    /* UCS-4 values past U+10FFFF: glibc's iconv writes them as 5/6-byte
     * sequences, which are not UTF-8; they come out replaced */
    bad = charset_to_utf8(c, "\x00\x00\x00\x41\x7F\xFF\xFF\xFF\x00\x11\x00\x00\x00\x00\x00\x42", 16,
                          "ucs-4", 0, &out, used, sizeof used);
    assert_true(bad >= 2);
    assert_true(utf8_is_valid(out.buf, out.len));
    assert_int_equal(out.buf[0], 'A');
    assert_int_equal(out.buf[out.len - 1], 'B');
    /* an unknown label falls back to UTF-8 with repair */
    charset_to_utf8(c, "ok\x80", 3, "x-no-such-charset", 0, &out, used, sizeof used);
    assert_string_equal(used, "utf-8");
    assert_true(utf8_is_valid(out.buf, out.len));
    sb_free(&fr);
    sb_free(&out);
    charset_free(c);
}

static void test_http_head_and_body(void **state)
{
    (void)state;
    http_resp h;
    const char *r1 = "\r\nHTTP/1.1 200 OK\r\nContent-Type: text/html; charset=UTF-8\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n";
    assert_int_equal(http_parse_response(r1, strlen(r1), &h), 0);
    assert_int_equal(h.status, 200);
    assert_true(h.chunked);
    char mime[64], cs[64];
    http_media_type(h.ctype, h.ctype_len, mime, sizeof mime, cs, sizeof cs);
    assert_string_equal(mime, "text/html");
    assert_string_equal(cs, "utf-8");
    strbuf out = STRBUF_INIT;
    const char *why;
    assert_int_equal(http_decode_body(&h, r1 + h.head_len, strlen(r1) - h.head_len, 1000, &out, &why), 0);
    assert_string_equal(out.buf, "hello world");
    /* status without reason, LF line ends */
    const char *r2 = "HTTP/1.0 404\nServer: x\n\nnot here";
    assert_int_equal(http_parse_response(r2, strlen(r2), &h), 0);
    assert_int_equal(h.status, 404);
    /* garbage status */
    const char *r3 = "HTTP/1.1 2OO OK\r\n\r\n";
    assert_int_equal(http_parse_response(r3, strlen(r3), &h), -1);
    /* gzip content encoding */
    char gz[256];
    z_stream z;
    memset(&z, 0, sizeof z);
    deflateInit2(&z, 6, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY);
    z.next_in = (unsigned char *)"compressed body";
    z.avail_in = 15;
    z.next_out = (unsigned char *)gz;
    z.avail_out = sizeof gz;
    deflate(&z, Z_FINISH);
    size_t gzlen = z.total_out;
    deflateEnd(&z);
    strbuf r4 = STRBUF_INIT;
    sb_adds(&r4, "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\n");
    sb_add(&r4, gz, gzlen);
    assert_int_equal(http_parse_response(r4.buf, r4.len, &h), 0);
    assert_int_equal(http_decode_body(&h, r4.buf + h.head_len, r4.len - h.head_len, 1000, &out, &why), 0);
    assert_string_equal(out.buf, "compressed body");
    h.cenc = "br";
    h.cenc_len = 2;
    assert_int_equal(http_decode_body(&h, "x", 1, 1000, &out, &why), -1);
    assert_string_equal(why, "content_encoding");
    sb_free(&r4);
    sb_free(&out);
}

static void test_listing_and_source_names(void **state)
{
    (void)state;
    char name[256];
    listing_source_name("/data/CC-MAIN-20240522-00001.warc.gz", name, sizeof name);
    assert_string_equal(name, "CC-MAIN-20240522-00001");
    listing_source_name("https://h/x/y.warc.wet.gz?sig=1", name, sizeof name);
    assert_string_equal(name, "y");
    listing_source_name("-", name, sizeof name);
    assert_string_equal(name, "stdin");
    assert_true(listing_is_paths("warc.paths.gz"));
    assert_false(listing_is_paths("a.warc.gz"));

    char path[400];
    tl_write_text(tl_path(path, sizeof path, "listing.paths"),
                  "crawl-data/a.warc.gz\ncrawl-data/b.warc.gz\r\n\ncrawl-data/c.warc.gz\ncrawl-data/d.warc.gz\n");
    char *in[] = { path, "local.warc" };
    char **out;
    size_t n;
    char err[256];
    assert_int_equal(listing_expand(in, 2, "https://example.org/", 1, 2, &out, &n, err, sizeof err), 0);
    assert_int_equal(n, 2);   /* of a, b, c, d, local: the 2nd and 4th */
    assert_string_equal(out[0], "https://example.org/crawl-data/b.warc.gz");
    assert_string_equal(out[1], "https://example.org/crawl-data/d.warc.gz");
    listing_free(out, n);
    assert_int_equal(listing_expand(in, 2, "http://b", 0, 1, &out, &n, err, sizeof err), 0);
    assert_int_equal(n, 5);
    assert_string_equal(out[0], "http://b/crawl-data/a.warc.gz");
    assert_string_equal(out[4], "local.warc");
    listing_free(out, n);
}

static void make_record(warc_record *r, const char *hdrs)
{
    /* parse "Name: value\n" lines into r (test helper, no continuation) */
    warc_record_free(r);
    warc_record_init(r);
    const char *p = hdrs;
    while (*p) {
        const char *nl = strchr(p, '\n');
        const char *colon = strchr(p, ':');
        size_t nlen = (size_t)(colon - p);
        const char *v = colon + 2;
        size_t vlen = (size_t)(nl - v);
        if (r->n_fields == r->cap_fields) {
            r->cap_fields = r->cap_fields ? 2 * r->cap_fields : 8;
            r->fields = realloc(r->fields, r->cap_fields * sizeof *r->fields);
        }
        warc_field *fl = &r->fields[r->n_fields++];
        fl->name_off = r->fields_buf.len;
        fl->name_len = nlen;
        sb_add(&r->fields_buf, p, nlen);
        sb_addc(&r->fields_buf, 0);
        fl->val_off = r->fields_buf.len;
        fl->val_len = vlen;
        sb_add(&r->fields_buf, v, vlen);
        sb_addc(&r->fields_buf, 0);
        p = nl + 1;
    }
}

static void test_convert_records(void **state)
{
    (void)state;
    convert_ctx *c = convert_new();
    convert_opts o = { NULL, 0, 1, 1 << 20, 1 };
    warc_record r;
    warc_record_init(&r);
    strbuf out = STRBUF_INIT;
    size_t tb, hb;
    make_record(&r, "WARC-Type: response\nWARC-Record-ID: <urn:uuid:1>\nWARC-Target-URI: <http://x.org/a>\n"
                    "WARC-Date: 2024-01-02T03:04:05Z\n");
    const char *blk = "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=iso-8859-1\r\n\r\n"
                      "<title>T\xE9</title><p>Bonjour \xE0 tous.</p>";
    assert_int_equal(convert_record(c, &o, &r, blk, strlen(blk), "src", &out, &tb, &hb), SKIP_NONE);
    assert_string_equal(out.buf,
                        "{\"id\":\"<urn:uuid:1>\",\"text\":\"Bonjour \xC3\xA0 tous.\",\"source\":\"src\",\"metadata\":"
                        "{\"url\":\"http://x.org/a\",\"date\":\"2024-01-02T03:04:05Z\",\"content_type\":\"text/html\","
                        "\"charset\":\"windows-1252\",\"title\":\"T\xC3\xA9\"}}\n");
    assert_int_equal(hb, strlen(blk) - (size_t)(strstr(blk, "\r\n\r\n") + 4 - blk));
    sb_reset(&out);
    /* an extra CRLF after the HTTP head and before the status line (CC-MAIN-2018-34 style) */
    const char *bcrlf = "\r\nHTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n\r\n<p>Still here.</p>";
    assert_int_equal(convert_record(c, &o, &r, bcrlf, strlen(bcrlf), "s", &out, &tb, &hb), SKIP_NONE);
    assert_non_null(strstr(out.buf, "\"text\":\"Still here.\""));
    sb_reset(&out);
    const char *b404 = "HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\n\r\n<p>x</p>";
    assert_int_equal(convert_record(c, &o, &r, b404, strlen(b404), "s", &out, &tb, &hb), SKIP_HTTP_STATUS);
    const char *bimg = "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\n\r\n\x89PNG";
    assert_int_equal(convert_record(c, &o, &r, bimg, strlen(bimg), "s", &out, &tb, &hb), SKIP_MIME);
    const char *bbad = "HTTP/1.1 2OO OK\r\n\r\n";
    assert_int_equal(convert_record(c, &o, &r, bbad, strlen(bbad), "s", &out, &tb, &hb), SKIP_HTTP_PARSE);
    const char *bempty = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<script>x()</script>";
    assert_int_equal(convert_record(c, &o, &r, bempty, strlen(bempty), "s", &out, &tb, &hb), SKIP_EMPTY);
    assert_int_equal(out.len, 0);

    /* WET conversion record: text as is, language into metadata */
    make_record(&r, "WARC-Type: conversion\nWARC-Record-ID: <urn:uuid:2>\nWARC-Target-URI: http://y.org/\n"
                    "Content-Type: text/plain\nWARC-Identified-Content-Language: spa,eng\nWARC-Truncated: length\n");
    const char *wet = "Hola mundo\r\nsegunda l\xC3\xADnea\r\n";
    assert_int_equal(convert_record(c, &o, &r, wet, strlen(wet), "cc", &out, &tb, &hb), SKIP_NONE);
    assert_int_equal(hb, 0);
    assert_string_equal(out.buf, "{\"id\":\"<urn:uuid:2>\",\"text\":\"Hola mundo\\nsegunda l\xC3\xADnea\",\"source\":\"cc\","
                                 "\"metadata\":{\"url\":\"http://y.org/\",\"content_type\":\"text/plain\",\"charset\":"
                                 "\"utf-8\",\"content_language\":\"spa,eng\",\"truncated\":\"length\"}}\n");
    sb_reset(&out);
    o.min_chars = 100;
    assert_int_equal(convert_record(c, &o, &r, wet, strlen(wet), "cc", &out, &tb, &hb), SKIP_TOO_SHORT);
    o.min_chars = 1;

    /* resource text/plain and --mime */
    make_record(&r, "WARC-Type: resource\nContent-Type: text/plain\n");
    assert_int_equal(convert_record(c, &o, &r, "plain words", 11, NULL, &out, &tb, &hb), SKIP_NONE);
    assert_string_equal(out.buf, "{\"text\":\"plain words\",\"metadata\":{\"content_type\":\"text/plain\",\"charset\":\"utf-8\"}}\n");
    char *only_html[] = { "text/html" };
    o.mimes = only_html;
    o.n_mimes = 1;
    assert_int_equal(convert_record(c, &o, &r, "plain words", 11, NULL, &out, &tb, &hb), SKIP_MIME);

    unsigned bits;
    assert_int_equal(convert_parse_types("response,conversion", &bits), 0);
    assert_int_equal(bits, WT_RESPONSE | WT_CONVERSION);
    assert_int_equal(convert_parse_types("response,bogus", &bits), -1);
    warc_record_free(&r);
    sb_free(&out);
    convert_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_charset_sources),
        cmocka_unit_test(test_charset_detection_and_replacement),
        cmocka_unit_test(test_http_head_and_body),
        /* the only test that writes a file: a directory of its own */
        cmocka_unit_test_setup_teardown(test_listing_and_source_names, tl_tmpdir_setup, tl_tmpdir_teardown),
        cmocka_unit_test(test_convert_records),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
