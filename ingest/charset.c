/* charset.c - encoding choice and conversion to UTF-8 (see charset.h). */
#include "charset.h"

#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <uchardet/uchardet.h>

#include "../common/utf8.h"

#define N_ICONV 4
#define META_SCAN 4096
#define DETECT_BYTES (64u << 10)

struct charset_ctx {
    uchardet_t ud;
    struct {
        char name[64];
        iconv_t cd;
    } cache[N_ICONV];
    unsigned next_slot;
};

charset_ctx *charset_new(void)
{
    charset_ctx *c = calloc(1, sizeof *c);
    if (!c) abort();
    c->ud = uchardet_new();
    for (int i = 0; i < N_ICONV; i++) c->cache[i].cd = (iconv_t)-1;
    return c;
}

void charset_free(charset_ctx *c)
{
    if (!c) return;
    if (c->ud) uchardet_delete(c->ud);
    for (int i = 0; i < N_ICONV; i++)
        if (c->cache[i].cd != (iconv_t)-1) iconv_close(c->cache[i].cd);
    free(c);
}

/* Browser label -> iconv name. Only labels whose meaning differs from what
 * iconv would do, or that iconv does not know, are listed. */
static const struct {
    const char *label, *name;
} aliases[] = {
    { "utf8", "utf-8" },           { "unicode-1-1-utf-8", "utf-8" },
    { "us-ascii", "windows-1252" }, { "ascii", "windows-1252" },
    { "iso-8859-1", "windows-1252" }, { "iso8859-1", "windows-1252" },
    { "iso_8859-1", "windows-1252" }, { "latin1", "windows-1252" },
    { "latin-1", "windows-1252" }, { "l1", "windows-1252" },
    { "cp1252", "windows-1252" },  { "x-cp1252", "windows-1252" },
    { "cp819", "windows-1252" },   { "ibm819", "windows-1252" },
    { "iso-8859-9", "windows-1254" }, { "latin5", "windows-1254" },
    { "iso-8859-11", "cp874" },    { "tis-620", "cp874" }, { "windows-874", "cp874" },
    { "gb2312", "gb18030" },       { "gbk", "gb18030" }, { "x-gbk", "gb18030" },
    { "cp936", "gb18030" },        { "gb_2312-80", "gb18030" }, { "chinese", "gb18030" },
    { "shift_jis", "cp932" },      { "shift-jis", "cp932" }, { "sjis", "cp932" },
    { "x-sjis", "cp932" },         { "ms_kanji", "cp932" }, { "windows-31j", "cp932" },
    { "euc-kr", "cp949" },         { "ks_c_5601-1987", "cp949" }, { "korean", "cp949" },
    { "big5", "big5-hkscs" },      { "x-x-big5", "big5-hkscs" },
    { "x-user-defined", "windows-1252" },
    { "x-mac-roman", "macintosh" }, { "mac", "macintosh" },
    { "unicode", "utf-16le" },     { "ucs-2", "utf-16le" },
};

const char *charset_canonical(const char *label, char *out, size_t out_len)
{
    if (!label || out_len == 0) return NULL;
    while (isspace((unsigned char)*label) || *label == '"' || *label == '\'') label++;
    size_t k = 0;
    for (; label[k] && k + 1 < out_len && !isspace((unsigned char)label[k]) && label[k] != '"' &&
           label[k] != '\'' && label[k] != ';';
         k++)
        out[k] = (char)tolower((unsigned char)label[k]);
    out[k] = 0;
    if (!k) return NULL;
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        if (!strcmp(out, aliases[i].label)) {
            snprintf(out, out_len, "%s", aliases[i].name);
            break;
        }
    return out;
}

size_t charset_bom(const char *p, size_t n, char *name, size_t name_len)
{
    const unsigned char *u = (const unsigned char *)p;
    if (n >= 3 && u[0] == 0xef && u[1] == 0xbb && u[2] == 0xbf) {
        snprintf(name, name_len, "utf-8");
        return 3;
    }
    if (n >= 2 && u[0] == 0xff && u[1] == 0xfe) {
        snprintf(name, name_len, "utf-16le");
        return 2;
    }
    if (n >= 2 && u[0] == 0xfe && u[1] == 0xff) {
        snprintf(name, name_len, "utf-16be");
        return 2;
    }
    return 0;
}

int charset_from_meta(const char *p, size_t n, char *name, size_t name_len)
{
    if (n > META_SCAN) n = META_SCAN;
    size_t i = 0;
    while (i + 5 < n) {
        const char *m = memchr(p + i, '<', n - i);
        if (!m) return 0;
        i = (size_t)(m - p) + 1;
        if (i + 4 > n || strncasecmp(p + i, "meta", 4) != 0) continue;
        const char *gt = memchr(p + i, '>', n - i);
        size_t end = gt ? (size_t)(gt - p) : n;
        for (size_t j = i + 4; j + 7 <= end; j++) {
            if (strncasecmp(p + j, "charset", 7)) continue;
            size_t k = j + 7;
            while (k < end && isspace((unsigned char)p[k])) k++;
            if (k >= end || p[k] != '=') continue;
            k++;
            while (k < end && (isspace((unsigned char)p[k]) || p[k] == '"' || p[k] == '\'')) k++;
            size_t o = 0;
            while (k < end && (isalnum((unsigned char)p[k]) || strchr("-_.:", p[k])) && o + 1 < name_len)
                name[o++] = (char)tolower((unsigned char)p[k++]);
            name[o] = 0;
            if (o) return 1;
        }
        i = end;
    }
    return 0;
}

static iconv_t get_iconv(charset_ctx *c, const char *name)
{
    for (int i = 0; i < N_ICONV; i++)
        if (c->cache[i].cd != (iconv_t)-1 && !strcmp(c->cache[i].name, name)) {
            iconv(c->cache[i].cd, NULL, NULL, NULL, NULL);   /* reset shift state */
            return c->cache[i].cd;
        }
    iconv_t cd = iconv_open("UTF-8", name);
    if (cd == (iconv_t)-1) return cd;
    unsigned slot = c->next_slot++ % N_ICONV;
    if (c->cache[slot].cd != (iconv_t)-1) iconv_close(c->cache[slot].cd);
    snprintf(c->cache[slot].name, sizeof c->cache[slot].name, "%s", name);
    c->cache[slot].cd = cd;
    return cd;
}

static size_t convert(iconv_t cd, const char *data, size_t n, strbuf *out)
{
    size_t replaced = 0;
    char *in = (char *)data;
    size_t inleft = n;
    sb_grow(out, n + n / 2 + 16);
    while (inleft) {
        char *o = out->buf + out->len;
        size_t room = out->cap - 1 - out->len, room0 = room;
        size_t r = iconv(cd, &in, &inleft, &o, &room);
        out->len += room0 - room;
        if (r != (size_t)-1) break;
        if (errno == E2BIG) {
            sb_grow(out, inleft * 2 + 64);
        } else if (errno == EILSEQ || errno == EINVAL) {
            sb_add(out, "\xEF\xBF\xBD", 3);
            replaced++;
            in++;
            inleft--;
            if (errno == EINVAL) {   /* incomplete sequence at the end */
                in += inleft;
                inleft = 0;
            }
        } else {
            break;
        }
    }
    /* flush any shift state */
    char *o = out->buf + out->len;
    sb_grow(out, 16);
    o = out->buf + out->len;
    size_t room = 16, room0 = room;
    iconv(cd, NULL, NULL, &o, &room);
    out->len += room0 - room;
    out->buf[out->len] = 0;
    return replaced;
}

static int has_multibyte(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)p[i] >= 0x80) return 1;
    return 0;
}

static int is_latin1_label(const char *name)
{
    return !strcmp(name, "windows-1252");
}

size_t charset_to_utf8(charset_ctx *c, const char *data, size_t n, const char *http_charset,
                       int html, strbuf *out, char *used, size_t used_len)
{
    sb_reset(out);
    char name[64] = "", label[64];
    size_t bom = charset_bom(data, n, name, sizeof name);
    if (bom) {
        data += bom;
        n -= bom;
    } else if (http_charset && charset_canonical(http_charset, name, sizeof name)) {
        /* declared by the server */
    } else if (html && charset_from_meta(data, n, label, sizeof label)) {
        charset_canonical(label, name, sizeof name);
        /* A meta tag cannot honestly say UTF-16: the bytes it is in are ASCII. */
        if (!strncmp(name, "utf-16", 6)) snprintf(name, sizeof name, "utf-8");
    }
    if (!name[0]) {
        if (utf8_is_valid(data, n)) {
            snprintf(name, sizeof name, "utf-8");
        } else {
            uchardet_reset(c->ud);
            uchardet_handle_data(c->ud, data, n < DETECT_BYTES ? n : DETECT_BYTES);
            uchardet_data_end(c->ud);
            const char *d = uchardet_get_charset(c->ud);
            if (!d || !*d || !charset_canonical(d, name, sizeof name))
                snprintf(name, sizeof name, "windows-1252");
        }
    } else if (is_latin1_label(name) && has_multibyte(data, n) && utf8_is_valid(data, n)) {
        snprintf(name, sizeof name, "utf-8");
    }
    size_t replaced = 0;
    if (!strcmp(name, "utf-8")) {
        replaced = utf8_repair(out, data, n);
    } else {
        iconv_t cd = get_iconv(c, name);
        if (cd == (iconv_t)-1) {
            /* Unknown label: fall back to UTF-8 with repair. */
            snprintf(name, sizeof name, "utf-8");
            replaced = utf8_repair(out, data, n);
        } else {
            replaced = convert(cd, data, n, out);
            /* iconv's "UTF-8" is not always valid UTF-8: glibc writes UCS-4
             * values past U+10FFFF in the old 5- and 6-byte forms. What it
             * lets through is repaired like any other invalid byte (found by
             * fuzz_ingest_http). */
            if (!utf8_is_valid(out->buf, out->len)) {
                strbuf fixed = STRBUF_INIT;
                replaced += utf8_repair(&fixed, out->buf, out->len);
                sb_free(out);
                *out = fixed;
            }
        }
    }
    if (used && used_len) snprintf(used, used_len, "%s", name);
    return replaced;
}
