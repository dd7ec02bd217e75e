/* phase_sig.c - `quern dedup signatures --shard I/N -o DIR`: one shard's
 * band keys and exact keys, each band's file sorted by (bucket key,
 * reference), plus the shard's document list (reference, text bytes) and,
 * with --keep-shingles, every document's shingle set for clusters --verify.
 *
 * The shard's records are sorted in memory (16 bytes per band per document,
 * checked against --max-memory): size shards so that one fits. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "../common/cli.h"
#include "../common/io.h"
#include "../common/outfile.h"
#include "../common/pool.h"
#include "phasefile.h"
#include "phases.h"

typedef struct band_rec { uint64_t key, ref; } band_rec;
typedef struct exact_rec { uint64_t hi, lo, ref; } exact_rec;
typedef struct doc_rec { uint64_t ref, len; } doc_rec;

typedef struct recvec { void *v; size_t n, cap, size; } recvec;

static void rv_push(recvec *r, const void *x)
{
    if (r->n == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 1024;
        r->v = realloc(r->v, r->cap * r->size);
        if (!r->v) abort();
    }
    memcpy((char *)r->v + r->n * r->size, x, r->size);
    r->n++;
}

typedef struct sig_state {
    dd_source src;            /* first: the dd_pipe_* callbacks take the state as it */
    const dd_opts *o;
    recvec *bands;            /* one per band */
    recvec text, url, docs;
    dd_pfw *shingles;         /* streamed in input order */
    uint64_t n_shingle_docs;
    uint64_t bad_lines;
    uint64_t bytes_held;
    int failed;
} sig_state;
_Static_assert(offsetof(sig_state, src) == 0, "dd_pipe_* take the state as its dd_source");

static int consume(void *item, void *ctx)
{
    sig_state *s = ctx;
    dd_batch *b = item;
    const dd_opts *o = s->o;
    /* --strict stops at the first bad line: only that one is reported */
    s->bad_lines += dd_batch_report_bad(&s->src, b, o->strict ? dd_batch_first_bad(b) + 1 : b->n);
    int stop = o->strict && s->bad_lines;
    for (size_t i = 0; i < b->n && !stop; i++) {
        dd_feat *f = &b->feat[i];
        if (f->bad) continue;
        doc_rec d = { f->ref, f->text_len };
        rv_push(&s->docs, &d);
        s->bytes_held += sizeof d;
        if (o->exact & DD_EXACT_TEXT) {
            exact_rec e = { f->text_key.hi, f->text_key.lo, f->ref };
            rv_push(&s->text, &e);
            s->bytes_held += sizeof e;
        }
        if ((o->exact & DD_EXACT_URL) && f->has_url) {
            exact_rec e = { f->url_key.hi, f->url_key.lo, f->ref };
            rv_push(&s->url, &e);
            s->bytes_held += sizeof e;
        }
        if (o->near && !f->no_shingles) {
            for (unsigned j = 0; j < o->params.bands; j++) {
                band_rec r = { f->band_keys[j], f->ref };
                rv_push(&s->bands[j], &r);
            }
            s->bytes_held += o->params.bands * sizeof(band_rec);
        }
        if (s->shingles) {
            uint64_t head[2] = { f->ref, f->n_shingles };
            if (dd_pfw_write(s->shingles, head, sizeof head, 1) ||
                (f->n_shingles && dd_pfw_write(s->shingles, f->shingles, f->n_shingles * sizeof(uint64_t), 0))) {
                qerr("writing shingles failed");
                stop = 1;
            }
            s->n_shingle_docs++;
        }
        if (dd_memory_check(o, s->bytes_held, s->docs.n, "this shard's signatures",
                            "raise --max-memory or cut the inputs into more shards"))
            stop = 1;
    }
    dd_batch_free(b);
    if (stop) s->failed = 1;
    return stop;
}

static int cmp_band(const void *a, const void *b)
{
    const band_rec *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return x->ref < y->ref ? -1 : x->ref > y->ref;
}

static int cmp_exact(const void *a, const void *b)
{
    const exact_rec *x = a, *y = b;
    if (x->hi != y->hi) return x->hi < y->hi ? -1 : 1;
    if (x->lo != y->lo) return x->lo < y->lo ? -1 : 1;
    return x->ref < y->ref ? -1 : x->ref > y->ref;
}

static int write_recs(const char *path, uint32_t kind, uint32_t band, unsigned shard, unsigned n,
                      uint64_t phash, recvec *r)
{
    dd_pf_hdr h = { .kind = kind, .band = band, .shard = shard, .nshards = n,
                    .rec_size = (uint32_t)r->size, .params_hash = phash };
    char err[512];
    dd_pfw *w = dd_pfw_open(path, &h, err, sizeof err);
    if (!w) {
        qerr("%s", err);
        return -1;
    }
    if (r->n && dd_pfw_write(w, r->v, r->n * r->size, r->n)) {
        qerr("%s: write failed", path);
        dd_pfw_abort(w);
        return -1;
    }
    if (dd_pfw_commit(w, err, sizeof err)) {
        qerr("%s", err);
        return -1;
    }
    return 0;
}

int dd_phase_signatures(const dd_opts *o, const char *dir, unsigned shard, unsigned nshards,
                        int keep_shingles, char **args, int nargs)
{
    qinputs full;
    char err[512];
    if (qinputs_expand(&full, args, nargs, 0, 1, err, sizeof err)) {
        qerr("%s", err);
        return QEXIT_BADINPUT;
    }
    for (size_t i = 0; i < full.n; i++)
        if (!strcmp(full.paths[i], "-")) {
            qerr("signatures: the phased mode reads its inputs twice (here and in filter), so "
                 "they must be files, not stdin");
            qinputs_free(&full);
            return QEXIT_USAGE;
        }
    dd_setup setup = { .params = o->params, .near = o->near, .exact = o->exact,
                       .keep_shingles = keep_shingles, .nshards = nshards,
                       .inputs = full.paths, .n_inputs = full.n };
    if (dd_setup_write(dir, &setup)) {
        qinputs_free(&full);
        return QEXIT_BADINPUT;
    }
    uint64_t phash = dd_setup_hash(&setup);

    /* the output paths; the document list is committed last and marks the shard done */
    strbuf group = STRBUF_INIT, path = STRBUF_INIT, docs_path = STRBUF_INIT;
    dd_pf_path(&docs_path, dir, "docs", shard, nshards);
    if (!o->force && qout_is_complete(docs_path.buf)) {
        qinputs_free(&full);
        sb_free(&docs_path);
        return QEXIT_OK;   /* this shard is complete: a rerun skips it */
    }
    char **paths;
    uint64_t *index;
    size_t n = dd_shard_inputs(&full, shard, nshards, &paths, &index);

    sig_state s = { .o = o };
    s.text.size = s.url.size = sizeof(exact_rec);
    s.docs.size = sizeof(doc_rec);
    s.bands = calloc(o->params.bands ? o->params.bands : 1, sizeof *s.bands);
    if (!s.bands) abort();
    for (unsigned j = 0; j < o->params.bands; j++) s.bands[j].size = sizeof(band_rec);
    int rc = QEXIT_OK;
    if (keep_shingles && o->near) {
        dd_pf_path(&path, dir, "shingles", shard, nshards);
        dd_pf_hdr h = { .kind = DD_PF_SHINGLES, .shard = shard, .nshards = nshards,
                        .rec_size = 0, .params_hash = phash };
        s.shingles = dd_pfw_open(path.buf, &h, err, sizeof err);
        if (!s.shingles) {
            qerr("%s", err);
            rc = QEXIT_BADINPUT;
        }
    }
    if (rc == QEXIT_OK && dd_source_open(&s.src, paths, n, index, o, keep_shingles, 0)) rc = QEXIT_BADINPUT;
    if (rc == QEXIT_OK) {
        qpipe_ops ops = { dd_pipe_produce, dd_pipe_work, consume, dd_pipe_discard };
        if (qpipe_run(o->jobs, &ops, &s, 0) || s.failed || s.src.failed ||
            qdoc_reader_failed_inputs(s.src.reader))
            rc = QEXIT_BADINPUT;
    }
    if (s.src.reader) dd_source_close(&s.src);

    if (rc == QEXIT_OK) {
        for (unsigned j = 0; j < o->params.bands && rc == QEXIT_OK; j++) {
            if (s.bands[j].n > 1) qsort(s.bands[j].v, s.bands[j].n, sizeof(band_rec), cmp_band);
            dd_pf_band_group(&group, j);
            dd_pf_path(&path, dir, group.buf, shard, nshards);
            if (write_recs(path.buf, DD_PF_BAND, j, shard, nshards, phash, &s.bands[j])) rc = QEXIT_BADINPUT;
            free(s.bands[j].v);
            s.bands[j].v = NULL;
        }
        struct { int bit; uint32_t band; recvec *r; } ex[2] = {
            { DD_EXACT_TEXT, DD_BAND_EXACT_TEXT, &s.text }, { DD_EXACT_URL, DD_BAND_EXACT_URL, &s.url } };
        for (int k = 0; k < 2 && rc == QEXIT_OK; k++) {
            if (!(o->exact & ex[k].bit)) continue;
            if (ex[k].r->n > 1) qsort(ex[k].r->v, ex[k].r->n, sizeof(exact_rec), cmp_exact);
            dd_pf_band_group(&group, ex[k].band);
            dd_pf_path(&path, dir, group.buf, shard, nshards);
            if (write_recs(path.buf, DD_PF_EXACT, ex[k].band, shard, nshards, phash, ex[k].r)) rc = QEXIT_BADINPUT;
        }
        if (rc == QEXIT_OK && s.shingles) {
            if (dd_pfw_commit(s.shingles, err, sizeof err)) {
                qerr("%s", err);
                rc = QEXIT_BADINPUT;
            }
            s.shingles = NULL;
        }
        if (rc == QEXIT_OK && write_recs(docs_path.buf, DD_PF_DOCS, 0, shard, nshards, phash, &s.docs))
            rc = QEXIT_BADINPUT;
    }
    if (s.shingles) dd_pfw_abort(s.shingles);
    if (o->stats_path) {
        qstats *st = qstats_new("dedup signatures");
        qstats_set_int(st, "shard", shard);
        qstats_set_int(st, "shards", nshards);
        qstats_set_int(st, "docs_in", (int64_t)s.docs.n);
        qstats_set_int(st, "bad_lines", (int64_t)s.bad_lines);
        qstats_set_int(st, "bytes_held", (int64_t)s.bytes_held);
        if (qstats_write(st, o->stats_path) && rc == QEXIT_OK) rc = QEXIT_BADINPUT;
        qstats_free(st);
    }
    for (unsigned j = 0; j < o->params.bands; j++) free(s.bands[j].v);
    free(s.bands);
    free(s.text.v);
    free(s.url.v);
    free(s.docs.v);
    free(paths);
    free(index);
    qinputs_free(&full);
    sb_free(&group);
    sb_free(&path);
    sb_free(&docs_path);
    return rc;
}
