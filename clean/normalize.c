/* normalize.c - Unicode hygiene before any filter looks at the text.
 *
 * In one pass: invalid UTF-8 becomes U+FFFD (common/utf8.h, maximal
 * subparts); "\r\n", a lone "\r" and U+0085 (NEL) become "\n"; control
 * characters other than tab and newline (C0, DEL, C1) are removed. Then NFC
 * with utf8proc, called only on stretches that hold a character whose NFC
 * quick check is not Yes or that is a combining mark (unicode_tables.h), so
 * ASCII and most text skip it. Long texts are normalized in pieces cut just
 * before an ASCII character: nothing composes with a following ASCII
 * character, so the pieces normalize independently. */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "../common/utf8.h"
#include "clean_impl.h"

#define NFC_PIECE (1u << 20)

/* NFC of s into out (appended). Returns 0, or -1 if utf8proc failed. */
static int nfc_append(const char *s, size_t len, strbuf *out)
{
    size_t b = 0;
    while (b < len) {
        size_t e = b + NFC_PIECE < len ? b + NFC_PIECE : len;
        while (e < len && ((unsigned char)s[e] & 0x80)) e++;   /* cut before ASCII */
        /* is this piece already NFC? */
        int maybe = 0;
        for (size_t i = b; i < e && !maybe;) {
            unsigned c = (unsigned char)s[i];
            if (c < 0xCC) { i++; continue; }
            maybe = cp_nfc_maybe(u8_next(s, e, &i));
        }
        if (!maybe) {
            sb_add(out, s + b, e - b);
        } else {
            utf8proc_uint8_t *dst = NULL;
            utf8proc_ssize_t n = utf8proc_map((const utf8proc_uint8_t *)s + b,
                                              (utf8proc_ssize_t)(e - b), &dst,
                                              UTF8PROC_STABLE | UTF8PROC_COMPOSE);
            if (n < 0) {
                free(dst);
                return -1;
            }
            sb_add(out, dst, (size_t)n);
            free(dst);
        }
        b = e;
    }
    return 0;
}

int normalize_text(const clean_config *cfg, const char *src, size_t len, strbuf *out,
                   uint64_t *repairs)
{
    return normalize_text2(cfg, src, len, out, repairs, 0);
}

int normalize_text2(const clean_config *cfg, const char *src, size_t len, strbuf *out,
                    uint64_t *repairs, int known_valid)
{
    strbuf rep = STRBUF_INIT, nfc = STRBUF_INIT;
    const char *s = src;
    int changed = 0, need_nfc = 0;
    *repairs = 0;
    sb_reset(out);
    if (cfg->normalize.repair && !known_valid && !utf8_is_valid(s, len)) {
        *repairs = utf8_repair(&rep, s, len);
        s = sb_str(&rep);
        len = rep.len;
        changed = 1;
    }
    int le = cfg->normalize.line_endings, ctl = cfg->normalize.controls;
    size_t from = 0, i = 0;
    while (i < len) {
        unsigned c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7F) { i++; continue; }
        if (c == '\t' || c == '\n') { i++; continue; }
        if (c < 0x80) {
            if (c == '\r' && le) {
                sb_add(out, s + from, i - from);
                sb_addc(out, '\n');
                i += (i + 1 < len && s[i + 1] == '\n') ? 2 : 1;
                from = i;
                changed = 1;
            } else if (ctl) {
                sb_add(out, s + from, i - from);
                from = ++i;
                changed = 1;
            } else {
                i++;
            }
            continue;
        }
        if (c == 0xC2 && i + 1 < len && (unsigned char)s[i + 1] >= 0x80 &&
            (unsigned char)s[i + 1] <= 0x9F) {
            int nel = (unsigned char)s[i + 1] == 0x85;
            if (nel && le) {
                sb_add(out, s + from, i - from);
                sb_addc(out, '\n');
                from = i += 2;
                changed = 1;
                continue;
            }
            if (ctl) {
                sb_add(out, s + from, i - from);
                from = i += 2;
                changed = 1;
                continue;
            }
        }
        if (c >= 0xCC && !need_nfc) {
            size_t j = i;
            if (cp_nfc_maybe(u8_next(s, len, &j))) need_nfc = 1;
            i = j;
            continue;
        }
        i++;
    }
    const char *t = s;
    size_t tlen = len;
    if (changed) {
        sb_add(out, s + from, len - from);
        t = sb_str(out);
        tlen = out->len;
    }
    if (need_nfc && cfg->normalize.nfc) {
        if (nfc_append(t, tlen, &nfc) == 0 && (nfc.len != tlen || memcmp(nfc.buf, t, tlen) != 0)) {
            sb_reset(out);
            sb_add(out, nfc.buf, nfc.len);
            changed = 1;
        }
    }
    sb_free(&rep);
    sb_free(&nfc);
    return changed;
}

int normalize_apply(clean_ctx *cx)
{
    clean_doc *d = cx->doc;
    uint64_t repairs = 0;
    if (normalize_text2(&cx->cc->cfg, sb_str(&d->text), d->text.len, &cx->tmp, &repairs, d->utf8_ok))
        cx_set_text(cx, CF_NORMALIZE, &cx->tmp);
    d->utf8_repairs += repairs;
    return CR_NONE;
}
