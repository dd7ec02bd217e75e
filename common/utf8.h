/* utf8.h - UTF-8 validation and repair.
 *
 * Repair follows the WHATWG / Unicode "maximal subpart" practice: each
 * maximal invalid subsequence becomes one U+FFFD (EF BF BD). Overlong forms,
 * surrogates (ED A0..BF) and code points above U+10FFFF are invalid. */
#ifndef QUERN_UTF8_H
#define QUERN_UTF8_H

#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

/* Length of the valid UTF-8 prefix of s (== len when all valid). Fast path for ASCII. */
size_t utf8_valid_prefix(const char *s, size_t len);
static inline int utf8_is_valid(const char *s, size_t len) { return utf8_valid_prefix(s, len) == len; }
/* Append s to out with invalid sequences replaced; returns the number replaced. */
size_t utf8_repair(strbuf *out, const char *s, size_t len);
/* Decode one code point at s (len > 0); returns its byte length, or 0 if
 * invalid (then *cp = 0xFFFD and the caller skips 1 byte). */
size_t utf8_decode(const char *s, size_t len, uint32_t *cp);
/* Encode cp (<= 0x10FFFF, not a surrogate) to out[4]; returns bytes written. */
size_t utf8_encode(uint32_t cp, char *out);
/* Number of code points in valid UTF-8. */
size_t utf8_count(const char *s, size_t len);

#endif
