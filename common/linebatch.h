/* linebatch.h - a batch of raw JSONL lines for stages that parse in worker
 * threads (pool.h).
 *
 * The main thread reads non-blank lines with qdoc_reader_next_line into one
 * buffer, back to back, remembering where each came from; workers parse them
 * with qdoc_parse and report a bad line by its input name and line number.
 * One buffer instead of a strbuf per line keeps allocations per batch, not
 * per document. */
#ifndef QUERN_LINEBATCH_H
#define QUERN_LINEBATCH_H

#include <stddef.h>
#include <stdint.h>

#include "doc.h"
#include "strbuf.h"

typedef struct qline_ref {
    size_t off, len;         /* into qlinebatch.data; the line without its newline */
    uint64_t line_no;        /* 1-based, within its input */
    const char *name;        /* input name, owned by the reader */
} qline_ref;

typedef struct qlinebatch {
    strbuf data;             /* the raw lines, back to back */
    qline_ref *lines;
    size_t n, cap;
} qlinebatch;

/* The reading side: one per run, on the producing thread. */
typedef struct qline_feed {
    qdoc_reader *r;
    strbuf line;             /* scratch for the line being read */
    int failed;              /* the reader failed; reported after the lines before it */
} qline_feed;

void qline_feed_init(qline_feed *f, qdoc_reader *r);
void qline_feed_free(qline_feed *f);

/* pool.h produce() semantics over an empty (reset) batch b: reads lines
 * until b holds max_bytes or more, or max_lines lines, or the input ends or
 * fails. Returns 1 when b holds lines: hand it out, even if the reader failed
 * after them; the failure is remembered and the next call returns 0 with
 * *stop = 1 without reading on, so nothing after the failure is handed out
 * (a reader with skip_bad never fails: it reports bad lines and goes on).
 * Returns 0 when b is still empty, with *stop = 1 if the reader failed now or
 * before (it has printed why). */
int qlinebatch_produce(qline_feed *f, qlinebatch *b, size_t max_bytes, size_t max_lines, int *stop);

/* Line i's bytes (b->lines[i].len of them). */
static inline const char *qlinebatch_line(const qlinebatch *b, size_t i)
{
    return b->data.buf + b->lines[i].off;
}

/* Empty, keeping allocations for the next batch. */
void qlinebatch_reset(qlinebatch *b);
void qlinebatch_free(qlinebatch *b);

#endif
