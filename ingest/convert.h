/* convert.h - one WARC record -> one JSONL document (DESIGN.md section 2).
 *
 * Which records become documents:
 *   response    HTTP 200 with an HTML/XHTML payload (--mime to change the set):
 *               HTTP encodings undone, charset decoded, HTML -> text;
 *   resource    Content-Type text/html (-> HTML extraction) or text/plain;
 *   conversion  (Common Crawl WET) the block is the text; its
 *               WARC-Identified-Content-Language goes to metadata.
 * The document: {"id": WARC-Record-ID, "text", "source", "metadata": {"url":
 * WARC-Target-URI, "date": WARC-Date, "content_type", "charset", "title",
 * "content_language", "truncated"}} (absent values are left out). */
#ifndef QUERN_INGEST_CONVERT_H
#define QUERN_INGEST_CONVERT_H

#include <stddef.h>
#include <stdint.h>

#include "../common/strbuf.h"
#include "warc.h"

/* Record types, as bits for --types. */
enum {
    WT_WARCINFO = 1 << 0, WT_RESPONSE = 1 << 1, WT_RESOURCE = 1 << 2, WT_REQUEST = 1 << 3,
    WT_METADATA = 1 << 4, WT_REVISIT = 1 << 5, WT_CONVERSION = 1 << 6, WT_CONTINUATION = 1 << 7,
    WT_OTHER = 1 << 8,
};
#define WT_DEFAULT (WT_RESPONSE | WT_RESOURCE | WT_CONVERSION)

/* Bit for a WARC-Type value (case-insensitive); WT_OTHER if unknown. */
unsigned convert_type_bit(const char *type);
/* Parse "response,resource" into bits; returns -1 on an unknown name. */
int convert_parse_types(const char *list, unsigned *bits);

/* Why a record did not become a document. */
enum {
    SKIP_NONE = 0, SKIP_TYPE, SKIP_HTTP_PARSE, SKIP_HTTP_STATUS, SKIP_MIME, SKIP_CONTENT_ENCODING,
    SKIP_EMPTY, SKIP_TOO_SHORT, SKIP_TOO_LARGE, SKIP_DAMAGED, SKIP_N
};
const char *convert_skip_name(int reason);

typedef struct convert_opts {
    char **mimes;          /* accepted payload types; NULL = default */
    size_t n_mimes;
    size_t min_chars;      /* documents with fewer code points are dropped */
    size_t max_bytes;      /* payload limit after decoding */
    int main_content;      /* boilerplate removal */
} convert_opts;

typedef struct convert_ctx convert_ctx;   /* per thread */
convert_ctx *convert_new(void);
void convert_free(convert_ctx *c);

/* Convert one record whose block is block[0..n). Appends the JSON line to out
 * and returns SKIP_NONE, or returns the reason it was skipped. *text_bytes
 * gets the UTF-8 length of the text kept; *html_bytes the payload bytes that
 * went through HTML extraction (0 for plain text and skipped records). */
int convert_record(convert_ctx *c, const convert_opts *o, const warc_record *rec, const char *block,
                   size_t n, const char *source, strbuf *out, size_t *text_bytes, size_t *html_bytes);

#endif
