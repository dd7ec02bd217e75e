/* utf8.c - see utf8.h.
 *
 * Validity follows Unicode Table 3-7 (well-formed byte sequences): the second
 * byte's range depends on the lead byte, which is what rules out overlong
 * forms, surrogates and values above U+10FFFF without decoding. Runs of ASCII
 * are skipped eight bytes at a time, since most web text is mostly ASCII. */
#include "utf8.h"

#include <string.h>

#define HIGH_BITS 0x8080808080808080ULL

static inline uint64_t load8(const unsigned char *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}

/* Allowed range of the second byte for each lead byte; 0/0 = invalid lead. */
static inline void second_range(unsigned c, unsigned *lo, unsigned *hi, size_t *need)
{
    *lo = 0x80;
    *hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) *need = 2;
    else if (c == 0xE0) { *need = 3; *lo = 0xA0; }
    else if (c == 0xED) { *need = 3; *hi = 0x9F; }
    else if (c >= 0xE1 && c <= 0xEF) *need = 3;
    else if (c == 0xF0) { *need = 4; *lo = 0x90; }
    else if (c == 0xF4) { *need = 4; *hi = 0x8F; }
    else if (c >= 0xF1 && c <= 0xF3) *need = 4;
    else *need = 0;
}

/* p[0] >= 0x80. Returns the length of the valid sequence at p, or 0; then
 * *bad is the length of the maximal subpart to replace (>= 1). */
static size_t check_seq(const unsigned char *p, size_t avail, size_t *bad)
{
    unsigned lo, hi;
    size_t need;
    second_range(p[0], &lo, &hi, &need);
    *bad = 1;
    if (!need) return 0;
    size_t i = 1;
    for (; i < need; i++) {
        if (i >= avail) break;
        unsigned b = p[i];
        if (i == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) break;
    }
    if (i == need) return need;
    *bad = i;
    return 0;
}

size_t utf8_valid_prefix(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        if (end - p >= 16 && !((load8(p) | load8(p + 8)) & HIGH_BITS)) {
            p += 16;
            continue;
        }
        if (end - p >= 8 && !(load8(p) & HIGH_BITS)) {
            p += 8;
            continue;
        }
        if (*p < 0x80) {
            p++;
            continue;
        }
        size_t bad, n = check_seq(p, (size_t)(end - p), &bad);
        if (!n) return (size_t)(p - (const unsigned char *)s);
        p += n;
    }
    return len;
}

size_t utf8_repair(strbuf *out, const char *s, size_t len)
{
    size_t repairs = 0;
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        size_t good = utf8_valid_prefix((const char *)p, (size_t)(end - p));
        sb_add(out, p, good);
        p += good;
        if (p >= end) break;
        size_t bad;
        check_seq(p, (size_t)(end - p), &bad);
        sb_add(out, "\xEF\xBF\xBD", 3);
        repairs++;
        p += bad;
    }
    return repairs;
}

size_t utf8_decode(const char *s, size_t len, uint32_t *cp)
{
    const unsigned char *p = (const unsigned char *)s;
    if (!len) {
        *cp = 0xFFFD;
        return 0;
    }
    if (p[0] < 0x80) {
        *cp = p[0];
        return 1;
    }
    size_t bad, n = check_seq(p, len, &bad);
    switch (n) {
    case 2: *cp = ((uint32_t)(p[0] & 0x1F) << 6) | (p[1] & 0x3F); break;
    case 3: *cp = ((uint32_t)(p[0] & 0x0F) << 12) | ((uint32_t)(p[1] & 0x3F) << 6) | (p[2] & 0x3F); break;
    case 4:
        *cp = ((uint32_t)(p[0] & 0x07) << 18) | ((uint32_t)(p[1] & 0x3F) << 12) |
              ((uint32_t)(p[2] & 0x3F) << 6) | (p[3] & 0x3F);
        break;
    default: *cp = 0xFFFD; return 0;
    }
    return n;
}

size_t utf8_encode(uint32_t cp, char *out)
{
    unsigned char *o = (unsigned char *)out;
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | (cp >> 6));
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD; /* never emit invalid */
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | (cp >> 12));
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (unsigned char)(0xF0 | (cp >> 18));
    o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

size_t utf8_count(const char *s, size_t len)
{
    /* Every byte except continuation bytes (10xxxxxx) starts a code point. */
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    size_t cont = 0;
    while (end - p >= 8) {
        uint64_t w = load8(p);
        /* continuation: bit7 set and bit6 clear */
        uint64_t c = w & ~(w << 1) & HIGH_BITS;
        cont += (size_t)__builtin_popcountll(c);
        p += 8;
    }
    for (; p < end; p++) cont += (*p & 0xC0) == 0x80;
    return len - cont;
}
