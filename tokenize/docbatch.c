/* docbatch.c - see docbatch.h. */
#include "docbatch.h"

#include <stdlib.h>
#include <string.h>

#include "../common/cli.h"

void qline_src_open(qline_src *s, qinputs *in, int text_mode, const char *text_field)
{
    memset(s, 0, sizeof *s);
    s->text_mode = text_mode;
    s->in = in;
    if (!text_mode) {
        qdoc_reader_opts o = { .text_field = text_field, .skip_bad = 1 };
        s->reader = qdoc_reader_open(in->paths, in->n, &o);
    }
}

void qline_src_close(qline_src *s)
{
    if (s->reader) qdoc_reader_close(s->reader);
    if (s->q) qin_close(s->q);
    sb_free(&s->line);
    memset(s, 0, sizeof *s);
}

uint64_t qline_src_bytes(const qline_src *s)
{
    if (s->reader) return qdoc_reader_bytes(s->reader);
    return s->bytes_done + (s->q ? qin_offset(s->q) : 0);
}

uint64_t qline_src_failed(const qline_src *s)
{
    return s->reader ? qdoc_reader_failed_inputs(s->reader) : s->failed_inputs;
}

uint64_t qline_src_bad_lines(const qline_src *s)
{
    return s->reader ? qdoc_reader_errors(s->reader) - qdoc_reader_failed_inputs(s->reader) : 0;
}

/* Next line: 1, or 0 at the end of every input. */
static int next_line(qline_src *s, uint64_t *line_no, const char **name)
{
    if (s->reader) {
        for (;;) {
            int rc = qdoc_reader_next_line(s->reader, &s->line, line_no, name);
            if (rc >= 0) return rc;   /* -1 cannot happen with skip_bad, but be safe */
        }
    }
    char err[QERR_LEN];
    for (;;) {
        if (!s->q) {
            if (s->cur >= s->in->n) return 0;
            s->q = qin_open(s->in->paths[s->cur], err, sizeof err);
            s->line_no = 0;
            if (!s->q) {
                qerr("%s", err);
                s->failed_inputs++;
                s->cur++;
                continue;
            }
        }
        int rc = qin_getline(s->q, &s->line, err, sizeof err);
        if (rc == 1) {
            *line_no = ++s->line_no;
            *name = strcmp(s->in->paths[s->cur], "-") ? s->in->paths[s->cur] : "<stdin>";
            return 1;
        }
        if (rc < 0) {
            qerr("%s", err);
            s->failed_inputs++;
        }
        s->bytes_done += qin_offset(s->q);
        qin_close(s->q);
        s->q = NULL;
        s->cur++;
    }
}

qdocbatch *qdocbatch_read(qline_src *s, size_t max_bytes, uint64_t seq)
{
    qdocbatch *b = NULL;
    uint64_t line_no;
    const char *name;
    while ((!b || b->raw.len < max_bytes) && next_line(s, &line_no, &name) == 1) {
        if (!b) {
            b = calloc(1, sizeof *b);
            if (!b) abort();
            b->seq = seq;
        }
        if (b->n == b->cap) {
            b->cap = b->cap ? b->cap * 2 : 256;
            b->off = realloc(b->off, b->cap * sizeof *b->off);
            b->len = realloc(b->len, b->cap * sizeof *b->len);
            b->line_no = realloc(b->line_no, b->cap * sizeof *b->line_no);
            b->input = realloc(b->input, b->cap * sizeof *b->input);
            if (!b->off || !b->len || !b->line_no || !b->input) abort();
        }
        b->off[b->n] = b->raw.len;
        b->len[b->n] = s->line.len;
        b->line_no[b->n] = line_no;
        b->input[b->n] = name;
        b->n++;
        sb_add(&b->raw, s->line.buf, s->line.len);
    }
    return b;
}

void qdocbatch_free(qdocbatch *b)
{
    if (!b) return;
    sb_free(&b->raw);
    free(b->off);
    free(b->len);
    free(b->line_no);
    free(b->input);
    free(b);
}

int qdocbatch_text(const qdocbatch *b, size_t i, int text_mode, const char *text_field, qdoc *d,
                   strbuf *scratch, const char **text, size_t *len, char *err, size_t errlen)
{
    const char *line = b->raw.buf + b->off[i];
    if (text_mode) {
        sb_reset(scratch);
        sb_add(scratch, line, b->len[i]);
        sb_addc(scratch, '\n');
        *text = scratch->buf;
        *len = scratch->len;
        return 0;
    }
    if (qdoc_parse(d, line, b->len[i], text_field, err, errlen) < 0) return -1;
    *text = d->text.buf ? d->text.buf : "";
    *len = d->text.len;
    return 0;
}

static void locate_line(const void *vb, size_t i, const char **name, uint64_t *line_no)
{
    const qdocbatch *b = vb;
    *name = b->input[i];
    *line_no = b->line_no[i];
}

void qdocbatch_report_bad(qline_src *s, const qdocbatch *b, const strbuf *queued)
{
    /* only JSONL lines can be bad (qdocbatch_text), and JSONL is read through the reader */
    if (queued->len && s->reader) qdoc_reader_report_queue(s->reader, queued, locate_line, b);
}
