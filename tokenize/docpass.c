/* docpass.c - see docpass.h. */
#include "docpass.h"

#include <stdlib.h>
#include <string.h>

#include "../common/badlines.h"
#include "../common/cli.h"
#include "../common/pool.h"

int qdocpass_parse_format(const char *arg, int *text_mode)
{
    if (!strcmp(arg, "text")) *text_mode = 1;
    else if (!strcmp(arg, "jsonl")) *text_mode = 0;
    else {
        qerr("--format: jsonl or text, not '%s'", arg);
        return -1;
    }
    return 0;
}

typedef struct pass_worker {
    qdoc doc;
    strbuf scratch;
} pass_worker;

typedef struct pass {
    const qdocpass_opts *o;
    const qdocpass_ops *ops;
    void *ctx;                /* the caller's */
    qline_src src;
    pass_worker *ws;
    uint64_t seq;
    qdocpass_totals *t;
} pass;

static void item_free(pass *p, qdocpass_item *it)
{
    if (p->ops->release) p->ops->release(it);
    qdocbatch_free(it->batch);
    sb_free(&it->errors);
    free(it);
}

static void *produce(void *vp, int *stop)
{
    pass *p = vp;
    (void)stop;
    qdocbatch *b = qdocbatch_read(&p->src, p->o->batch_bytes, p->seq++);
    if (!b) return NULL;
    qdocpass_item *it = calloc(1, p->ops->item_size);
    if (!it) abort();
    it->batch = b;
    return it;
}

static void work(void *vit, int worker, void *vp)
{
    pass *p = vp;
    qdocpass_item *it = vit;
    pass_worker *w = &p->ws[worker];
    char err[QERR_LEN];
    if (p->ops->begin) p->ops->begin(p->ctx, it, worker);
    for (size_t i = 0; i < it->batch->n; i++) {
        const char *text;
        size_t len;
        if (qdocbatch_text(it->batch, i, p->o->text_mode, p->o->text_field, &w->doc, &w->scratch, &text,
                           &len, err, sizeof err) < 0) {
            qbadlines_queue(&it->errors, i, err);
            continue;
        }
        it->docs++;
        if (!p->o->text_mode) it->repairs += w->doc.repairs;
        it->text_bytes += len;
        p->ops->doc(p->ctx, it, worker, text, len);
    }
}

static int consume(void *vit, void *vp)
{
    pass *p = vp;
    qdocpass_item *it = vit;
    qdocbatch_report_bad(&p->src, it->batch, &it->errors);
    p->t->docs += it->docs;
    p->t->repairs += it->repairs;
    p->t->text_bytes += it->text_bytes;
    int rc = p->ops->consume(p->ctx, it);
    qprogress_update(p->o->prog, qline_src_bytes(&p->src), p->t->docs);
    item_free(p, it);
    return rc;
}

static void discard(void *vit, void *vp)
{
    item_free(vp, vit);
}

int qdocpass_run(qinputs *in, const qdocpass_opts *o, const qdocpass_ops *ops, void *ctx,
                 qdocpass_totals *t)
{
    memset(t, 0, sizeof *t);
    int jobs = o->jobs > 0 ? o->jobs : 1;
    pass p = { .o = o, .ops = ops, .ctx = ctx, .t = t };
    qline_src_open(&p.src, in, o->text_mode, o->text_field);
    p.ws = calloc((size_t)jobs, sizeof *p.ws);
    if (!p.ws) abort();
    for (int i = 0; i < jobs; i++) qdoc_init(&p.ws[i].doc);
    qpipe_ops pops = { produce, work, consume, discard };
    int rc = qpipe_run(jobs, &pops, &p, 0);
    t->bytes_in = qline_src_bytes(&p.src);
    t->failed_inputs = qline_src_failed(&p.src);
    t->bad_lines = qline_src_bad_lines(&p.src);
    qline_src_close(&p.src);
    for (int i = 0; i < jobs; i++) {
        qdoc_free(&p.ws[i].doc);
        sb_free(&p.ws[i].scratch);
    }
    free(p.ws);
    return rc;
}
