/* charset.h - decode a web page to UTF-8.
 *
 * Which encoding, in order: a byte order mark; the charset of the HTTP
 * Content-Type; a <meta charset> / <meta http-equiv="Content-Type"> in the
 * first 4 KiB; otherwise detection (valid UTF-8 is taken as UTF-8, anything
 * else goes to libuchardet). Labels are mapped the way browsers map them
 * (ISO-8859-1 and US-ASCII mean windows-1252, GB2312/GBK mean GB18030,
 * Shift_JIS means CP932, ...). One exception to "declared wins": a page
 * declared ISO-8859-1/windows-1252 (a common server default) whose bytes are
 * valid UTF-8 with multi-byte sequences is decoded as UTF-8.
 *
 * Conversion goes through iconv; bytes that are invalid in the chosen
 * encoding become U+FFFD, never passed through. The result is valid UTF-8. */
#ifndef QUERN_INGEST_CHARSET_H
#define QUERN_INGEST_CHARSET_H

#include <stddef.h>

#include "../common/strbuf.h"

/* Per-thread state (uchardet handle, cached iconv descriptors). */
typedef struct charset_ctx charset_ctx;

charset_ctx *charset_new(void);
void charset_free(charset_ctx *c);

/* Decode data[0..n) into out (replacing its contents). http_charset: the
 * Content-Type charset parameter or NULL/"". html: also look for <meta>.
 * used (optional): receives the encoding used, lower case ("utf-8", ...).
 * Returns the number of invalid sequences replaced by U+FFFD. */
size_t charset_to_utf8(charset_ctx *c, const char *data, size_t n, const char *http_charset,
                       int html, strbuf *out, char *used, size_t used_len);

/* Exposed for tests. */
/* Length of a UTF-8/UTF-16 BOM at p (0 if none); its encoding into name. */
size_t charset_bom(const char *p, size_t n, char *name, size_t name_len);
/* 1 if a <meta> in p[0..n) declares a charset (label copied into name). */
int charset_from_meta(const char *p, size_t n, char *name, size_t name_len);
/* Browser-compatible canonical name for a label ("latin1" -> "windows-1252"),
 * written to out; returns out, or NULL for an empty label. */
const char *charset_canonical(const char *label, char *out, size_t out_len);

#endif
