/* normalize.c - the text normalisation used by exact and near dedup.
 *
 * The rule, exactly (also in dedup/README.md). For every code point of the
 * (valid UTF-8) text, in order:
 *   1. decompose it canonically (NFD, utf8proc_decompose_char with
 *      UTF8PROC_DECOMPOSE); then for every code point x of the decomposition:
 *   2. x of general category Mn (non-spacing marks: the diacritics NFD split
 *      off) is dropped;
 *   3. x is lower-cased by Unicode's simple lower-case mapping;
 *   4. x of category Nd (any script's decimal digit) becomes '0';
 *   5. x of category P* (punctuation), S* (symbols), Z* (separators) or C*
 *      (controls, format, unassigned, private use, surrogates) is a separator,
 *      and so is every ASCII byte that is not a letter or digit;
 *   6. everything else (letters, other numbers, spacing marks) is a word
 *      character, copied as UTF-8.
 * Runs of separators become one space between words; there is no leading or
 * trailing space. So "Élan, 1999-2024!" -> "elan 0000 0000".
 *
 * Why separators rather than deletion for punctuation: "word.Word" and "a/b"
 * stay two words, as in the ground-truth tokeniser of corpus/neardup, and a
 * shingle never spans two words glued by deleted punctuation.
 *
 * Speed: ASCII takes a 128-entry table; only non-ASCII code points go
 * through utf8proc. */
#include <string.h>
#include <utf8proc.h>

#include "dedup.h"

/* ASCII: the normalised byte, or 0 for a separator. */
static char ascii_map[128];
static int ascii_ready;

static void ascii_init(void)
{
    for (int c = 0; c < 128; c++) {
        char m = 0;
        if (c >= 'a' && c <= 'z') m = (char)c;
        else if (c >= 'A' && c <= 'Z') m = (char)(c - 'A' + 'a');
        else if (c >= '0' && c <= '9') m = '0';
        ascii_map[c] = m;
    }
    __atomic_store_n(&ascii_ready, 1, __ATOMIC_RELEASE);
}

static int is_separator_category(utf8proc_category_t cat)
{
    switch (cat) {
    case UTF8PROC_CATEGORY_PC: case UTF8PROC_CATEGORY_PD: case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE: case UTF8PROC_CATEGORY_PI: case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO:
    case UTF8PROC_CATEGORY_SM: case UTF8PROC_CATEGORY_SC: case UTF8PROC_CATEGORY_SK:
    case UTF8PROC_CATEGORY_SO:
    case UTF8PROC_CATEGORY_ZS: case UTF8PROC_CATEGORY_ZL: case UTF8PROC_CATEGORY_ZP:
    case UTF8PROC_CATEGORY_CC: case UTF8PROC_CATEGORY_CF: case UTF8PROC_CATEGORY_CS:
    case UTF8PROC_CATEGORY_CO: case UTF8PROC_CATEGORY_CN:
        return 1;
    default:
        return 0;
    }
}

/* Room for one non-ASCII code point: a decomposition of up to 16 code points
 * of 4 bytes each, plus a space. */
#define CP_ROOM 80

void dd_normalize(const char *text, size_t len, strbuf *out)
{
    if (!__atomic_load_n(&ascii_ready, __ATOMIC_ACQUIRE)) ascii_init();
    /* ASCII input never grows by more than one space per byte. */
    sb_grow(out, 2 * len + CP_ROOM);
    char *buf = out->buf;
    size_t ol = out->len, start = out->len;
    int need_space = 0;
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        if (c < 0x80) {
            /* A run of ASCII, without branches: words and separators
             * alternate every few bytes, which no predictor can learn. The
             * stores that do not advance `ol` are overwritten later. */
            size_t ns = (size_t)need_space;
            do {
                char m = ascii_map[c];
                size_t w = m != 0;
                buf[ol] = ' ';
                ol += w & ns;
                buf[ol] = m;
                ol += w;
                ns = (ns | (ol > start)) & (w ^ 1);
                i++;
            } while (i < len && (c = s[i]) < 0x80);
            need_space = (int)ns;
            continue;
        }
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate(s + i, (utf8proc_ssize_t)(len - i), &cp);
        if (n <= 0) {   /* invalid byte: treat as U+FFFD, a separator (So) */
            if (ol > start) need_space = 1;
            i++;
            continue;
        }
        i += (size_t)n;
        if (out->cap < ol + CP_ROOM + 2 * (len - i) + 1) {   /* decompositions can grow */
            out->len = ol;
            sb_grow(out, CP_ROOM + 2 * (len - i));
            buf = out->buf;
        }
        utf8proc_int32_t dec[16];
        int last_boundclass = 0;
        utf8proc_ssize_t nd = utf8proc_decompose_char(cp, dec, 16, UTF8PROC_DECOMPOSE,
                                                      &last_boundclass);
        if (nd <= 0 || nd > 16) { dec[0] = cp; nd = 1; }
        for (utf8proc_ssize_t k = 0; k < nd; k++) {
            utf8proc_int32_t x = dec[k];
            utf8proc_category_t cat = utf8proc_category(x);
            if (cat == UTF8PROC_CATEGORY_MN) continue;
            if (is_separator_category(cat)) {
                if (ol > start) need_space = 1;
                continue;
            }
            if (cat == UTF8PROC_CATEGORY_ND) x = '0';
            else x = utf8proc_tolower(x);
            if (x < 0x80 && !ascii_map[x]) {   /* cannot happen for L/N/M, kept safe */
                if (ol > start) need_space = 1;
                continue;
            }
            if (need_space) { buf[ol++] = ' '; need_space = 0; }
            if (x < 0x80) buf[ol++] = ascii_map[x];
            else ol += (size_t)utf8proc_encode_char(x, (utf8proc_uint8_t *)buf + ol);
        }
    }
    out->len = ol;
    buf[ol] = 0;
}
