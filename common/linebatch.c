/* linebatch.c - see linebatch.h. */
#include "linebatch.h"

#include <stdlib.h>
#include <string.h>

void qline_feed_init(qline_feed *f, qdoc_reader *r)
{
    memset(f, 0, sizeof *f);
    f->r = r;
}

void qline_feed_free(qline_feed *f)
{
    sb_free(&f->line);
    f->failed = 0;
}

int qlinebatch_produce(qline_feed *f, qlinebatch *b, size_t max_bytes, size_t max_lines, int *stop)
{
    int failed_now = 0;
    if (f->failed) {   /* a strict reader failed after the last batch: stop there */
        *stop = 1;
        return 0;
    }
    while (b->data.len < max_bytes && b->n < max_lines) {
        uint64_t line_no;
        const char *name;
        int rc = qdoc_reader_next_line(f->r, &f->line, &line_no, &name);
        if (rc < 0) failed_now = 1;
        if (rc <= 0) break;
        if (b->n == b->cap) {
            b->cap = b->cap ? b->cap * 2 : 256;
            b->lines = realloc(b->lines, b->cap * sizeof *b->lines);
            if (!b->lines) abort();
        }
        b->lines[b->n++] = (qline_ref){ b->data.len, f->line.len, line_no, name };
        sb_add(&b->data, f->line.buf, f->line.len);
    }
    if (b->n) {
        /* Keep the complete lines read before a failure: hand them out now,
         * report the stop once a call finds nothing more to hand out. */
        if (failed_now) f->failed = 1;
        return 1;
    }
    if (failed_now) *stop = 1;
    return 0;
}

void qlinebatch_reset(qlinebatch *b)
{
    sb_reset(&b->data);
    b->n = 0;
}

void qlinebatch_free(qlinebatch *b)
{
    sb_free(&b->data);
    free(b->lines);
    memset(b, 0, sizeof *b);
}
