/* cat.c - see cat.h: the batch pipeline shared by `quern cat` and `quern count`. */
#include "cat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/linebatch.h"
#include "../common/pool.h"
#include "../common/utf8.h"

#define BATCH_BYTES (1u << 20)
#define BATCH_LINES 8192

typedef struct bad_line {
    size_t index;         /* into batch.in.lines */
    char *msg;
} bad_line;

typedef struct batch {
    struct batch *next_free;
    qlinebatch in;        /* the raw lines */
    strbuf out;           /* cat: serialized documents */
    bad_line *bad;
    size_t n_bad, cap_bad;
    uint64_t docs, repairs, text_bytes, chars, jsonl_bytes;
} batch;

typedef struct run_ctx {
    const qcat_opts *o;
    int counting;
    qdoc_reader *r;
    qline_feed feed;
    qdoc_writer *w;
    qprogress *prog;
    qcat_result *res;
    qdoc *docs;           /* one per worker */
    batch *free_list;
} run_ctx;

static void batch_free(batch *b)
{
    qlinebatch_free(&b->in);
    sb_free(&b->out);
    for (size_t i = 0; i < b->n_bad; i++) free(b->bad[i].msg);
    free(b->bad);
    free(b);
}

static void recycle(run_ctx *c, batch *b)
{
    for (size_t i = 0; i < b->n_bad; i++) free(b->bad[i].msg);
    b->n_bad = 0;
    qlinebatch_reset(&b->in);
    sb_reset(&b->out);
    b->docs = b->repairs = b->text_bytes = b->chars = b->jsonl_bytes = 0;
    b->next_free = c->free_list;
    c->free_list = b;
}

static void *produce(void *ctx, int *stop)
{
    run_ctx *c = ctx;
    batch *b = c->free_list;
    if (b) c->free_list = b->next_free;
    else if (!(b = calloc(1, sizeof *b))) abort();
    if (qlinebatch_produce(&c->feed, &b->in, BATCH_BYTES, BATCH_LINES, stop)) return b;
    recycle(c, b);
    return NULL;
}

static void note_bad(batch *b, size_t i, const char *msg)
{
    if (b->n_bad == b->cap_bad) {
        b->cap_bad = b->cap_bad ? b->cap_bad * 2 : 8;
        b->bad = realloc(b->bad, b->cap_bad * sizeof *b->bad);
        if (!b->bad) abort();
    }
    b->bad[b->n_bad].index = i;
    b->bad[b->n_bad].msg = strdup(msg);
    if (!b->bad[b->n_bad].msg) abort();
    b->n_bad++;
}

static void work(void *item, int worker, void *ctx)
{
    run_ctx *c = ctx;
    batch *b = item;
    qdoc *d = &c->docs[worker];
    char err[QERR_LEN];
    if (!c->counting) sb_grow(&b->out, b->in.data.len + b->in.n);
    for (size_t i = 0; i < b->in.n; i++) {
        const qline_ref *l = &b->in.lines[i];
        if (qdoc_parse(d, qlinebatch_line(&b->in, i), l->len, c->o->text_field, err, sizeof err)) {
            note_bad(b, i, err);
            if (c->o->strict) {
                b->in.n = i + 1;   /* nothing after the first bad line */
                break;
            }
            continue;
        }
        b->docs++;
        b->repairs += d->repairs;
        if (c->counting) {
            b->text_bytes += d->text.len;
            b->chars += utf8_count(d->text.buf, d->text.len);
            b->jsonl_bytes += l->len + 1;
        } else {
            qdoc_serialize(d, &b->out);
        }
    }
}

static int consume(void *item, void *ctx)
{
    run_ctx *c = ctx;
    batch *b = item;
    qcat_result *res = c->res;
    for (size_t k = 0; k < b->n_bad; k++) {
        const qline_ref *l = &b->in.lines[b->bad[k].index];
        qdoc_reader_bad_line(c->r, l->name, l->line_no, "%s", b->bad[k].msg);
    }
    res->docs_in += b->docs;
    res->bad_lines += b->n_bad;
    res->repairs += b->repairs;
    res->text_bytes += b->text_bytes;
    res->chars += b->chars;
    res->jsonl_bytes += b->jsonl_bytes;
    int rc = 0;
    if (!c->counting && b->out.len && qdoc_writer_write(c->w, b->out.buf, b->out.len)) {
        res->write_failed = 1;
        rc = 1;
    }
    if (c->o->strict && b->n_bad) rc = 1;
    qprogress_update(c->prog, qdoc_reader_raw_bytes(c->r), res->docs_in);
    recycle(c, b);
    return rc;
}

static void discard(void *item, void *ctx)
{
    recycle(ctx, item);
}

static int run(const qcat_opts *o, int counting, qdoc_reader *r, qdoc_writer *w, qprogress *prog,
               qcat_result *res)
{
    memset(res, 0, sizeof *res);
    int jobs = o->jobs > 0 ? o->jobs : 1;
    run_ctx c = { .o = o, .counting = counting, .r = r, .w = w, .prog = prog, .res = res };
    qline_feed_init(&c.feed, r);
    c.docs = calloc((size_t)jobs, sizeof *c.docs);
    if (!c.docs) abort();
    for (int i = 0; i < jobs; i++) qdoc_init(&c.docs[i]);
    qpipe_ops ops = { produce, work, consume, discard };
    int rc = qpipe_run(jobs, &ops, &c, 0);
    for (int i = 0; i < jobs; i++) qdoc_free(&c.docs[i]);
    free(c.docs);
    while (c.free_list) {
        batch *b = c.free_list;
        c.free_list = b->next_free;
        batch_free(b);
    }
    qline_feed_free(&c.feed);
    if (res->write_failed) return 1;
    return rc ? 1 : 0;
}

int qcat_run(const qcat_opts *o, qdoc_reader *r, qdoc_writer *w, qprogress *prog, qcat_result *res)
{
    return run(o, 0, r, w, prog, res);
}

int qcount_run(const qcat_opts *o, qdoc_reader *r, qprogress *prog, qcat_result *res)
{
    return run(o, 1, r, NULL, prog, res);
}

int qcat_run_inputs(const qcat_opts *o, const qinputs *in, const char *label, int progress, qdoc_writer *w,
                    qdoc_reader **r, qcat_result *res)
{
    qdoc_reader_opts ro = { .text_field = o->text_field, .skip_bad = !o->strict, .max_line = 0 };
    *r = qdoc_reader_open(in->paths, in->n, &ro);
    int64_t total = qdoc_reader_total_raw(*r);
    qprogress *prog = qprogress_new(label, total > 0 ? (uint64_t)total : 0, progress);
    int rc = w ? qcat_run(o, *r, w, prog, res) : qcount_run(o, *r, prog, res);
    qprogress_finish(prog);
    return rc;
}
