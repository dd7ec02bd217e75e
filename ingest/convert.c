/* convert.c - WARC record -> JSONL document (see convert.h). */
#include "convert.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../common/json.h"
#include "../common/utf8.h"
#include "charset.h"
#include "html.h"
#include "http.h"

struct convert_ctx {
    charset_ctx *cs;
    html_ctx *html;
    strbuf body, utf8, text, title;
};

static const struct {
    const char *name;
    unsigned bit;
} type_names[] = {
    { "warcinfo", WT_WARCINFO }, { "response", WT_RESPONSE }, { "resource", WT_RESOURCE },
    { "request", WT_REQUEST },   { "metadata", WT_METADATA }, { "revisit", WT_REVISIT },
    { "conversion", WT_CONVERSION }, { "continuation", WT_CONTINUATION },
};

unsigned convert_type_bit(const char *type)
{
    for (size_t i = 0; i < sizeof type_names / sizeof *type_names; i++)
        if (!strcasecmp(type, type_names[i].name)) return type_names[i].bit;
    return WT_OTHER;
}

int convert_parse_types(const char *list, unsigned *bits)
{
    *bits = 0;
    const char *p = list;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        char name[32];
        if (n == 0 || n >= sizeof name) return -1;
        memcpy(name, p, n);
        name[n] = 0;
        unsigned b = !strcasecmp(name, "all") ? 0x1ff : convert_type_bit(name);
        if (b == WT_OTHER && strcasecmp(name, "other")) return -1;
        *bits |= b;
        p += n + (e ? 1 : 0);
    }
    return *bits ? 0 : -1;
}

const char *convert_skip_name(int r)
{
    static const char *const names[SKIP_N] = {
        "kept", "type", "http_parse_error", "http_status", "mime", "content_encoding",
        "empty", "too_short", "too_large", "damaged",
    };
    return r >= 0 && r < SKIP_N ? names[r] : "unknown";
}

convert_ctx *convert_new(void)
{
    convert_ctx *c = calloc(1, sizeof *c);
    if (!c) abort();
    c->cs = charset_new();
    c->html = html_new();
    return c;
}

void convert_free(convert_ctx *c)
{
    if (!c) return;
    charset_free(c->cs);
    html_free(c->html);
    sb_free(&c->body);
    sb_free(&c->utf8);
    sb_free(&c->text);
    sb_free(&c->title);
    free(c);
}

static int is_html_mime(const char *m)
{
    return !strcmp(m, "text/html") || !strcmp(m, "application/xhtml+xml") || !strcmp(m, "application/xml+xhtml");
}

static int mime_ok(const convert_opts *o, const char *mime, int is_resource)
{
    if (o->mimes) {
        for (size_t i = 0; i < o->n_mimes; i++)
            if (!strcasecmp(o->mimes[i], mime)) return 1;
        return 0;
    }
    return is_html_mime(mime) || (is_resource && !strcmp(mime, "text/plain"));
}

/* Does the payload look like HTML (for responses without a Content-Type)? */
static int sniff_html(const char *p, size_t n)
{
    size_t i = 0;
    if (n >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3)) i = 3;
    while (i < n && isspace((unsigned char)p[i])) i++;
    return (n - i >= 14 && !strncasecmp(p + i, "<!doctype html", 14)) ||
           (n - i >= 5 && !strncasecmp(p + i, "<html", 5));
}

static void put_meta_str(strbuf *m, const char *key, const char *v, size_t n)
{
    if (!v || !n) return;
    if (m->len > 1) sb_addc(m, ',');
    json_put_str(m, key, strlen(key));
    sb_addc(m, ':');
    json_put_str(m, v, n);
}

static void put_field(strbuf *m, const warc_record *rec, const char *key, const char *field, int uri)
{
    size_t n = 0;
    const char *v = warc_get(rec, field, &n);
    if (!v) return;
    if (uri) v = warc_uri(v, n, &n);
    put_meta_str(m, key, v, n);
}

static size_t count_chars(const char *s, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) k += ((unsigned char)s[i] & 0xc0) != 0x80;
    return k;
}

/* Drop trailing whitespace; CRLF -> LF for plain text. */
static void tidy_plain(strbuf *t)
{
    size_t o = 0;
    for (size_t i = 0; i < t->len; i++) {
        if (t->buf[i] == '\r' && i + 1 < t->len && t->buf[i + 1] == '\n') continue;
        t->buf[o++] = t->buf[i];
    }
    while (o && isspace((unsigned char)t->buf[o - 1])) o--;
    size_t s = 0;
    while (s < o && (t->buf[s] == '\n' || t->buf[s] == ' ' || t->buf[s] == '\t' || t->buf[s] == '\r')) s++;
    if (s) memmove(t->buf, t->buf + s, o - s);
    sb_setlen(t, o - s);
}

int convert_record(convert_ctx *c, const convert_opts *o, const warc_record *rec, const char *block,
                   size_t n, const char *source, strbuf *out, size_t *text_bytes, size_t *html_bytes)
{
    *text_bytes = 0;
    *html_bytes = 0;
    unsigned type = convert_type_bit(warc_type(rec));
    char mime[96] = "", charset[64] = "", used[64] = "";
    const char *payload = block;
    size_t plen = n;
    int html = 0;

    if (type == WT_RESPONSE) {
        http_resp h;
        if (http_parse_response(block, n, &h) < 0) return SKIP_HTTP_PARSE;
        if (h.status != 200) return SKIP_HTTP_STATUS;
        if (h.ctype) {
            http_media_type(h.ctype, h.ctype_len, mime, sizeof mime, charset, sizeof charset);
        } else {
            size_t il = 0;
            const char *ip = warc_get(rec, "WARC-Identified-Payload-Type", &il);
            if (ip) http_media_type(ip, il, mime, sizeof mime, charset, sizeof charset);
            else if (sniff_html(block + h.head_len, n - h.head_len)) snprintf(mime, sizeof mime, "text/html");
        }
        if (!mime_ok(o, mime, 0)) return SKIP_MIME;
        const char *why = NULL;
        if (http_decode_body(&h, block + h.head_len, n - h.head_len, o->max_bytes, &c->body, &why) < 0)
            return SKIP_CONTENT_ENCODING;
        payload = c->body.buf ? c->body.buf : "";
        plen = c->body.len;
        html = is_html_mime(mime) || (strncmp(mime, "text/", 5) && strstr(mime, "html"));
    } else if (type == WT_RESOURCE) {
        size_t cl = 0;
        const char *ct = warc_get(rec, "Content-Type", &cl);
        if (ct) http_media_type(ct, cl, mime, sizeof mime, charset, sizeof charset);
        if (!mime_ok(o, mime, 1)) return SKIP_MIME;
        html = is_html_mime(mime);
    } else if (type == WT_CONVERSION) {
        size_t cl = 0;
        const char *ct = warc_get(rec, "Content-Type", &cl);
        if (ct) http_media_type(ct, cl, mime, sizeof mime, charset, sizeof charset);
        if (!mime[0]) snprintf(mime, sizeof mime, "text/plain");
        if (!charset[0]) snprintf(charset, sizeof charset, "utf-8");   /* WET text is UTF-8 */
    } else {
        /* Other types only come here when asked for with --types: their block as text. */
        size_t cl = 0;
        const char *ct = warc_get(rec, "Content-Type", &cl);
        if (ct) http_media_type(ct, cl, mime, sizeof mime, charset, sizeof charset);
        if (strncmp(mime, "text/", 5) && !strstr(mime, "html")) return SKIP_MIME;
        html = is_html_mime(mime);
    }

    charset_to_utf8(c->cs, payload, plen, charset[0] ? charset : NULL, html, &c->utf8, used, sizeof used);
    sb_reset(&c->title);
    if (html) {
        *html_bytes = plen;
        html_extract(c->html, sb_str(&c->utf8), c->utf8.len, o->main_content, &c->text, &c->title);
    } else {
        sb_reset(&c->text);
        sb_add(&c->text, sb_str(&c->utf8), c->utf8.len);
        tidy_plain(&c->text);
    }
    if (c->text.len == 0) return SKIP_EMPTY;
    if (o->min_chars && count_chars(c->text.buf, c->text.len) < o->min_chars) return SKIP_TOO_SHORT;

    /* {"id":..,"text":..,"source":..,"metadata":{..}} in the canonical form of doc.h. */
    sb_addc(out, '{');
    size_t idl = 0;
    const char *id = warc_get(rec, "WARC-Record-ID", &idl);
    if (id) {
        sb_adds(out, "\"id\":");
        json_put_str(out, id, idl);
        sb_addc(out, ',');
    }
    sb_adds(out, "\"text\":");
    json_put_str(out, c->text.buf, c->text.len);
    if (source) {
        sb_adds(out, ",\"source\":");
        json_put_str(out, source, strlen(source));
    }
    strbuf m = STRBUF_INIT;
    sb_addc(&m, '{');
    put_field(&m, rec, "url", "WARC-Target-URI", 1);
    put_field(&m, rec, "date", "WARC-Date", 0);
    put_meta_str(&m, "content_type", mime, strlen(mime));
    put_meta_str(&m, "charset", used, strlen(used));
    put_meta_str(&m, "title", c->title.buf, c->title.len);
    put_field(&m, rec, "content_language", "WARC-Identified-Content-Language", 0);
    put_field(&m, rec, "truncated", "WARC-Truncated", 0);
    if (m.len > 1) {
        sb_addc(&m, '}');
        sb_adds(out, ",\"metadata\":");
        sb_add(out, m.buf, m.len);
    }
    sb_free(&m);
    sb_adds(out, "}\n");
    *text_bytes = c->text.len;
    return SKIP_NONE;
}
