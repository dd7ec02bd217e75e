/* dedup_reference.h - dd_normalize's rule (dedup/normalize.c, dedup/README.md)
 * written out the slow, obvious way, one code point at a time through
 * utf8proc: the reference that the normaliser's fast paths (16-byte ASCII
 * blocks, the byte table) are checked against by tests/test_dedup_minhash.c
 * (random texts) and tests/fuzz/fuzz_dedup_text.c (any bytes). Header only,
 * so a fuzz target stays one .c file. */
#ifndef QUERN_DEDUP_REFERENCE_H
#define QUERN_DEDUP_REFERENCE_H

#include <string.h>
#include <utf8proc.h>

#include "common/strbuf.h"

/* dd_normalize's rule written out one code point at a time (README), as
 * the reference for its fast paths (16-byte ASCII blocks, the byte loop). */
static inline void normalize_reference(const char *text, size_t len, strbuf *out)
{
    const utf8proc_uint8_t *s = (const utf8proc_uint8_t *)text;
    size_t start = out->len, i = 0;
    int pending = 0;
    while (i < len) {
        utf8proc_int32_t cp, dec[16];
        utf8proc_ssize_t n = utf8proc_iterate(s + i, (utf8proc_ssize_t)(len - i), &cp), nd = 0;
        if (n <= 0) {   /* invalid byte: a separator */
            pending = out->len > start;
            i++;
            continue;
        }
        i += (size_t)n;
        int bound = 0;
        nd = utf8proc_decompose_char(cp, dec, 16, UTF8PROC_DECOMPOSE, &bound);
        if (nd <= 0 || nd > 16) { dec[0] = cp; nd = 1; }
        for (utf8proc_ssize_t k = 0; k < nd; k++) {
            utf8proc_int32_t x = dec[k];
            const char *cat = utf8proc_category_string(x);
            if (!strcmp(cat, "Mn")) continue;
            if (strchr("PSZC", cat[0])) {
                pending |= out->len > start;
                continue;
            }
            x = !strcmp(cat, "Nd") ? '0' : utf8proc_tolower(x);
            if (pending) sb_addc(out, ' ');
            pending = 0;
            utf8proc_uint8_t enc[4];
            sb_add(out, (const char *)enc, (size_t)utf8proc_encode_char(x, enc));
        }
    }
}

#endif
