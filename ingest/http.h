/* http.h - the HTTP response inside a WARC response record: status line,
 * the headers ingest needs, and the payload with transfer and content
 * encodings undone (chunked; gzip, deflate, zstd). */
#ifndef QUERN_INGEST_HTTP_H
#define QUERN_INGEST_HTTP_H

#include <stddef.h>

#include "../common/strbuf.h"

typedef struct http_resp {
    int status;                 /* 100..999 */
    size_t head_len;            /* bytes of status line + headers + blank line */
    const char *ctype;          /* Content-Type value (points into the block), or NULL */
    size_t ctype_len;
    const char *cenc;           /* Content-Encoding value, or NULL */
    size_t cenc_len;
    int chunked;                /* Transfer-Encoding: chunked */
} http_resp;

/* Parse the head of an HTTP response at p[0..n). Leading CR/LF are skipped
 * (some crawls add one), header lines may end in LF or CRLF, the reason
 * phrase may be missing. Returns 0, or -1 if there is no valid status line. */
int http_parse_response(const char *p, size_t n, http_resp *out);

/* The payload body[0..n) with chunked framing and content encodings undone,
 * at most max_out bytes, into out. Malformed chunking falls back to the raw
 * bytes (as browsers do). Returns 0, or -1 with *why set for an encoding we
 * cannot undo ("content_encoding") or a corrupt compressed body. */
int http_decode_body(const http_resp *h, const char *body, size_t n, size_t max_out,
                     strbuf *out, const char **why);

/* Split a media type value ("Text/HTML; charset=ISO-8859-1") into the
 * lower-cased type and the charset parameter (lower-cased; "" if none). */
void http_media_type(const char *v, size_t n, char *mime, size_t mime_len,
                     char *charset, size_t charset_len);

#endif
