/* http.c - HTTP response head parsing and payload decoding for ingest. */
#include "http.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>
#include <zstd.h>

static int ieq_prefix(const char *p, size_t n, const char *name)
{
    size_t k = strlen(name);
    return n >= k && !strncasecmp(p, name, k);
}

int http_parse_response(const char *p, size_t n, http_resp *h)
{
    memset(h, 0, sizeof *h);
    size_t i = 0;
    while (i < n && (p[i] == '\r' || p[i] == '\n')) i++;
    size_t ls = i;
    const char *nl = memchr(p + i, '\n', n - i);
    size_t le = nl ? (size_t)(nl - p) : n;
    /* "HTTP/1.1 200 OK" (also HTTP/2, and the reason may be absent) */
    if (le - ls < 12 || strncmp(p + ls, "HTTP/", 5) != 0) return -1;
    const char *sp = memchr(p + ls, ' ', le - ls);
    if (!sp) return -1;
    size_t s = (size_t)(sp - p) + 1;
    while (s < le && p[s] == ' ') s++;
    if (s + 3 > le || !isdigit((unsigned char)p[s]) || !isdigit((unsigned char)p[s + 1]) ||
        !isdigit((unsigned char)p[s + 2]) || (s + 3 < le && !isspace((unsigned char)p[s + 3])))
        return -1;
    h->status = (p[s] - '0') * 100 + (p[s + 1] - '0') * 10 + (p[s + 2] - '0');
    if (h->status < 100) return -1;
    i = nl ? le + 1 : n;
    while (i < n) {
        nl = memchr(p + i, '\n', n - i);
        size_t e = nl ? (size_t)(nl - p) : n, end = e;
        while (end > i && p[end - 1] == '\r') end--;
        if (end == i) {   /* blank line: end of the head */
            i = nl ? e + 1 : n;
            break;
        }
        const char *line = p + i;
        size_t len = end - i;
        const char *colon = memchr(line, ':', len);
        if (colon) {
            size_t vs = (size_t)(colon - line) + 1;
            while (vs < len && (line[vs] == ' ' || line[vs] == '\t')) vs++;
            size_t ve = len;
            while (ve > vs && (line[ve - 1] == ' ' || line[ve - 1] == '\t')) ve--;
            size_t nlen = (size_t)(colon - line);
            if (nlen == 12 && ieq_prefix(line, len, "Content-Type")) {
                h->ctype = line + vs;
                h->ctype_len = ve - vs;
            } else if (nlen == 16 && ieq_prefix(line, len, "Content-Encoding")) {
                h->cenc = line + vs;
                h->cenc_len = ve - vs;
            } else if (nlen == 17 && ieq_prefix(line, len, "Transfer-Encoding")) {
                for (size_t k = vs; k + 7 <= ve; k++)
                    if (!strncasecmp(line + k, "chunked", 7)) h->chunked = 1;
            }
        }
        i = nl ? e + 1 : n;
    }
    h->head_len = i;
    return 0;
}

/* Undo chunked framing; returns 0, or -1 if the framing is broken. */
static int dechunk(const char *p, size_t n, strbuf *out, size_t max_out)
{
    size_t i = 0;
    for (;;) {
        size_t size = 0, digits = 0;
        while (i < n && isxdigit((unsigned char)p[i])) {
            int c = tolower((unsigned char)p[i]);
            size = size * 16 + (size_t)(isdigit(c) ? c - '0' : c - 'a' + 10);
            if (++digits > 15) return -1;
            i++;
        }
        if (!digits) return -1;
        const char *nl = memchr(p + i, '\n', n - i);   /* skip chunk extensions */
        if (!nl) return -1;
        i = (size_t)(nl - p) + 1;
        if (size == 0) return 0;
        if (size > n - i) size = n - i;   /* cut short: keep what is there */
        size_t keep = size;
        if (out->len + keep > max_out) keep = max_out - out->len;
        sb_add(out, p + i, keep);
        i += size;
        if (i >= n || out->len >= max_out) return 0;
        if (p[i] == '\r') i++;
        if (i < n && p[i] == '\n') i++;
        else return -1;
    }
}

static int inflate_body(const char *p, size_t n, int window_bits, strbuf *out, size_t max_out)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, window_bits) != Z_OK) return -1;
    z.next_in = (unsigned char *)p;
    z.avail_in = (uInt)n;
    int r = Z_OK;
    while (r == Z_OK && out->len < max_out) {
        sb_grow(out, 65536);
        size_t room = out->cap - 1 - out->len;
        if (room > max_out - out->len) room = max_out - out->len;
        z.next_out = (unsigned char *)out->buf + out->len;
        z.avail_out = (uInt)room;
        r = inflate(&z, Z_NO_FLUSH);
        out->len += room - z.avail_out;
        out->buf[out->len] = 0;
        if (r == Z_STREAM_END && z.avail_in > 8 && window_bits > 16) {
            inflateReset(&z);   /* another gzip member */
            r = Z_OK;
        }
        if (r == Z_BUF_ERROR && z.avail_in == 0) break;   /* truncated body: keep what we got */
    }
    inflateEnd(&z);
    return (r == Z_OK || r == Z_STREAM_END || r == Z_BUF_ERROR) ? 0 : -1;
}

static int unzstd_body(const char *p, size_t n, strbuf *out, size_t max_out)
{
    ZSTD_DStream *zs = ZSTD_createDStream();
    if (!zs) return -1;
    ZSTD_inBuffer in = { p, n, 0 };
    int rc = 0;
    while (in.pos < in.size && out->len < max_out) {
        sb_grow(out, 65536);
        size_t room = out->cap - 1 - out->len;
        if (room > max_out - out->len) room = max_out - out->len;
        ZSTD_outBuffer o = { out->buf + out->len, room, 0 };
        size_t r = ZSTD_decompressStream(zs, &o, &in);
        out->len += o.pos;
        out->buf[out->len] = 0;
        if (ZSTD_isError(r)) {
            rc = -1;
            break;
        }
        if (r == 0 && o.pos == 0) break;
    }
    ZSTD_freeDStream(zs);
    return rc;
}

int http_decode_body(const http_resp *h, const char *body, size_t n, size_t max_out,
                     strbuf *out, const char **why)
{
    sb_reset(out);
    *why = NULL;
    strbuf tmp = STRBUF_INIT;
    const char *p = body;
    size_t len = n;
    if (h->chunked) {
        if (dechunk(body, n, &tmp, max_out) == 0) {
            p = tmp.buf ? tmp.buf : "";
            len = tmp.len;
        }
    }
    char enc[32] = "";
    if (h->cenc) {
        size_t k = 0;
        for (size_t i = 0; i < h->cenc_len && k + 1 < sizeof enc; i++)
            if (!isspace((unsigned char)h->cenc[i])) enc[k++] = (char)tolower((unsigned char)h->cenc[i]);
        enc[k] = 0;
    }
    int rc = 0;
    if (!enc[0] || !strcmp(enc, "identity") || !strcmp(enc, "none")) {
        sb_add(out, p, len < max_out ? len : max_out);
    } else if ((!strcmp(enc, "gzip") || !strcmp(enc, "x-gzip")) &&
               !(len >= 2 && (unsigned char)p[0] == 0x1f && (unsigned char)p[1] == 0x8b)) {
        /* Labelled gzip but stored decoded (crawlers often do this): as is. */
        sb_add(out, p, len < max_out ? len : max_out);
    } else if (!strcmp(enc, "zstd") && !(len >= 4 && !memcmp(p, "\x28\xb5\x2f\xfd", 4))) {
        sb_add(out, p, len < max_out ? len : max_out);
    } else if (!strcmp(enc, "gzip") || !strcmp(enc, "x-gzip")) {
        if (inflate_body(p, len, 16 + 15, out, max_out) < 0) {
            *why = "bad_content_encoding";
            rc = -1;
        }
    } else if (!strcmp(enc, "deflate")) {
        /* Servers send either zlib-wrapped or raw deflate under this name. */
        if (inflate_body(p, len, 15, out, max_out) < 0) {
            sb_reset(out);
            if (inflate_body(p, len, -15, out, max_out) < 0) {
                sb_reset(out);   /* not deflate data at all: stored decoded */
                sb_add(out, p, len < max_out ? len : max_out);
            }
        }
    } else if (!strcmp(enc, "zstd")) {
        if (unzstd_body(p, len, out, max_out) < 0) {
            *why = "bad_content_encoding";
            rc = -1;
        }
    } else {
        *why = "content_encoding";   /* br, compress, ...: not undone */
        rc = -1;
    }
    sb_free(&tmp);
    return rc;
}

void http_media_type(const char *v, size_t n, char *mime, size_t mime_len, char *charset,
                     size_t charset_len)
{
    size_t i = 0, k = 0;
    while (i < n && isspace((unsigned char)v[i])) i++;
    while (i < n && v[i] != ';' && !isspace((unsigned char)v[i]) && v[i] != ',') {
        if (k + 1 < mime_len) mime[k++] = (char)tolower((unsigned char)v[i]);
        i++;
    }
    if (mime_len) mime[k] = 0;
    if (charset_len) charset[0] = 0;
    for (; i + 8 <= n; i++) {
        if (strncasecmp(v + i, "charset", 7)) continue;
        size_t j = i + 7;
        while (j < n && isspace((unsigned char)v[j])) j++;
        if (j >= n || v[j] != '=') continue;
        j++;
        while (j < n && (isspace((unsigned char)v[j]) || v[j] == '"' || v[j] == '\'')) j++;
        k = 0;
        while (j < n && (isalnum((unsigned char)v[j]) || strchr("-_.:", v[j]))) {
            if (k + 1 < charset_len) charset[k++] = (char)tolower((unsigned char)v[j]);
            j++;
        }
        if (charset_len) charset[k] = 0;
        return;
    }
}
