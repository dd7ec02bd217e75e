/* warc.h - streaming WARC record reader (WARC/1.0, 1.1 and older drafts).
 *
 * One record at a time, never the whole file: warc_next() parses the next
 * record's header; the block (Content-Length bytes, honoured exactly) is then
 * read with warc_read_block() or skipped by the next warc_next().
 *
 * Leniency, each for a reason seen in real archives:
 *  - any WARC/x.y version line is accepted (Common Crawl writes WARC/1.0 on
 *    1.1 content; ClueWeb09 writes WARC/0.18);
 *  - header lines may end in LF, CRLF or CR CR LF; continuation lines (leading
 *    space or tab) are folded into the previous value; names are matched
 *    case-insensitively; lines without a colon are ignored;
 *  - any run of CR/LF between records is skipped, so a missing or doubled
 *    record separator (CC-MAIN-2018-34's extra CRLF) reads fine.
 *
 * Damage: warc_next() returns -1 once per damaged spot, with the message and
 * the raw byte offset (gzip member start for compressed input) available from
 * warc_error()/warc_error_offset(). Records before the damage have already been
 * returned. The next call resynchronises at the next line starting "WARC/"
 * (and at the next intact gzip member for compressed input) and goes on. */
#ifndef QUERN_INGEST_WARC_H
#define QUERN_INGEST_WARC_H

#include <stddef.h>
#include <stdint.h>

#include "../common/io.h"
#include "../common/strbuf.h"

typedef struct warc_field {
    size_t name_off, name_len;   /* into warc_record.fields_buf */
    size_t val_off, val_len;     /* unfolded, trimmed value */
} warc_field;

typedef struct warc_record {
    char version[16];            /* "1.0", "1.1", "0.18" ... */
    strbuf fields_buf;           /* names and values, each NUL-terminated */
    warc_field *fields;
    size_t n_fields, cap_fields;
    int64_t content_length;
    uint64_t offset;             /* raw offset to report for this record */
    uint64_t dec_offset;         /* offset in the decoded WARC stream */
} warc_record;

void warc_record_init(warc_record *r);
void warc_record_free(warc_record *r);
/* Value of the first field named `name` (case-insensitive), NUL-terminated,
 * or NULL. *len gets its length when len is not NULL. */
const char *warc_get(const warc_record *r, const char *name, size_t *len);
/* WARC-Type value, or "" if absent. */
const char *warc_type(const warc_record *r);
/* Strip one pair of angle brackets: "<urn:x>" -> "urn:x" (WARC/1.0 style URIs). */
const char *warc_uri(const char *v, size_t len, size_t *out_len);

typedef struct warc_reader warc_reader;

/* Takes ownership of src. max_header: largest header block accepted
 * (0 = default 2 MiB). */
warc_reader *warc_open(qsrc *src, size_t max_header);
void warc_close(warc_reader *w);

/* 1: a record header is in rec; 0: end of input; -1: damage (see warc_error;
 * call again to go on after it). */
int warc_next(warc_reader *w, warc_record *rec);
/* Read the current record's block into out (replacing its contents). At most
 * max bytes are kept (the rest is skipped; *truncated set); with out NULL the
 * whole block is skipped. Returns 0, or -1 if the input ends or is damaged
 * before Content-Length bytes (warc_error). */
int warc_read_block(warc_reader *w, strbuf *out, size_t max, int *truncated);

const char *warc_error(const warc_reader *w);
uint64_t warc_error_offset(const warc_reader *w);
/* 1 when the last error was the source failing (not damage in the data). */
int warc_error_is_io(const warc_reader *w);
const char *warc_name(const warc_reader *w);
uint64_t warc_raw_bytes(const warc_reader *w);    /* raw bytes read so far */
uint64_t warc_bytes(const warc_reader *w);        /* decoded bytes consumed so far */
uint64_t warc_records(const warc_reader *w);      /* headers returned so far */

#endif
