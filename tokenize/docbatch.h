/* docbatch.h - batches of raw input lines for the tokenize stage's worker
 * threads (pool.h): the main thread reads lines, workers parse and process
 * them, results come back in input order.
 *
 * Two input kinds: JSONL documents (the text field of each line, parsed in
 * the worker with qdoc_parse) and plain text, where each line (with its
 * newline) is one document. */
#ifndef QUERN_TOKENIZE_DOCBATCH_H
#define QUERN_TOKENIZE_DOCBATCH_H

#include <stddef.h>
#include <stdint.h>

#include "../common/doc.h"
#include "../common/io.h"
#include "../common/strbuf.h"

typedef struct qline_src {
    int text_mode;              /* 1: plain text lines */
    qdoc_reader *reader;        /* jsonl */
    qinputs *in;                /* text */
    size_t cur;
    qin *q;
    uint64_t line_no;
    uint64_t bytes_done, failed_inputs;
    strbuf line;
} qline_src;

void qline_src_open(qline_src *s, qinputs *in, int text_mode, const char *text_field);
void qline_src_close(qline_src *s);
uint64_t qline_src_bytes(const qline_src *s);       /* decoded bytes read so far */
uint64_t qline_src_failed(const qline_src *s);      /* inputs unreadable or broken */
uint64_t qline_src_bad_lines(const qline_src *s);   /* JSONL lines refused (by the reader or reported) */

typedef struct qdocbatch {
    strbuf raw;                 /* lines, back to back */
    size_t *off, *len;          /* per line */
    uint64_t *line_no;
    const char **input;         /* per line: input name (outlives the batch) */
    size_t n, cap;
    uint64_t seq;               /* batch number */
} qdocbatch;

/* Read up to max_bytes (at least one line) into a fresh batch; NULL at end. */
qdocbatch *qdocbatch_read(qline_src *s, size_t max_bytes, uint64_t seq);
void qdocbatch_free(qdocbatch *b);
/* Report the bad lines a worker queued for batch b (qbadlines_queue with the
 * line's index in b) through the source's reader, in order; they then count
 * in qline_src_bad_lines. */
void qdocbatch_report_bad(qline_src *s, const qdocbatch *b, const strbuf *queued);

/* The text of line i into *text and *len: for text mode the line itself plus
 * "\n"; for JSONL the parsed text field (d is scratch). Returns 0, or -1
 * with err filled ("<what>") for a bad JSON line. */
int qdocbatch_text(const qdocbatch *b, size_t i, int text_mode, const char *text_field, qdoc *d,
                   strbuf *scratch, const char **text, size_t *len, char *err, size_t errlen);

#endif
