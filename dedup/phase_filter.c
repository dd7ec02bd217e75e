/* phase_filter.c - `quern dedup filter --shard I/N --dir DIR -o OUT inputs`:
 * write the shard's documents minus those on its removal list. The inputs
 * must be the ones the signatures step saw (checked against DIR/dedup.json),
 * since documents are named by (input index, line). */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "../common/cli.h"
#include "../common/io.h"
#include "../common/outfile.h"
#include "../common/pool.h"
#include "phasefile.h"
#include "phases.h"

typedef struct filter_state {
    dd_source src; /* first: the dd_pipe_* callbacks take the state as it */
    dd_u64vec removed;
    size_t next;
    qdoc_writer *w;
    uint64_t docs_in, docs_out, bytes_out, bad_lines, dropped;
    int strict, failed;
} filter_state;
_Static_assert(offsetof(filter_state, src) == 0, "dd_pipe_* take the state as its dd_source");

static int consume(void *item, void *ctx)
{
    filter_state *s = ctx;
    dd_batch *b = item;
    /* --strict stops at the first bad line: only that one is reported */
    s->bad_lines += dd_batch_report_bad(&s->src, b, s->strict ? dd_batch_first_bad(b) + 1 : b->n);
    for (size_t i = 0; i < b->n && !s->failed; i++) {
        if (b->feat[i].bad) continue;
        s->docs_in++;
        uint64_t ref = b->feat[i].ref;
        while (s->next < s->removed.n && s->removed.v[s->next] < ref) s->next++;
        if (s->next < s->removed.n && s->removed.v[s->next] == ref) {
            s->dropped++;
            continue;
        }
        if (qdoc_writer_write(s->w, b->out[i].buf, b->out[i].len)) s->failed = 1;
        s->docs_out++;
        s->bytes_out += b->out[i].len;
    }
    dd_batch_free(b);
    if (s->strict && s->bad_lines) s->failed = 1;
    return s->failed;
}

static int load_removed(const char *dir, const dd_setup *su, unsigned shard, dd_u64vec *out)
{
    strbuf path = STRBUF_INIT;
    dd_pf_path(&path, dir, "remove", shard, su->nshards);
    char err[512];
    int rc = -1;
    dd_pfr *r = NULL;
    if (!qout_is_complete(path.buf)) {
        qerr("%s: missing: run `quern dedup clusters %s` first", path.buf, dir);
        goto out;
    }
    dd_pf_hdr want = { .kind = DD_PF_REMOVE, .nshards = su->nshards, .rec_size = 8 };
    r = dd_pfr_open(path.buf, &want, err, sizeof err);
    if (!r) {
        qerr("%s", err);
        goto out;
    }
    if (dd_pfr_header(r)->shard != shard) {
        qerr_at(path.buf, "0", "header names shard %u, expected %u", dd_pfr_header(r)->shard, shard);
        goto out;
    }
    uint64_t ref;
    int got;
    while ((got = dd_pfr_read(r, &ref, 8, err, sizeof err)) == 1) {
        if ((out->n && ref <= out->v[out->n - 1]) || dd_ref_input(ref) % su->nshards != shard) {
            qerr_off(path.buf, dd_pfr_offset(r) - 8, "removal list not sorted or names another shard's document: the file is corrupt");
            goto out;
        }
        dd_u64vec_push(out, ref);
    }
    if (got < 0 || dd_pfr_finish(r, out->n, err, sizeof err)) {
        qerr("%s", err);
        goto out;
    }
    rc = 0;
out:
    dd_pfr_close(r);
    sb_free(&path);
    return rc;
}

int dd_phase_filter(const dd_opts *o, const char *dir, const char *out, unsigned shard,
                    unsigned nshards, char **args, int nargs)
{
    dd_setup su;
    if (dd_setup_read(dir, &su)) return QEXIT_BADINPUT;
    int rc = QEXIT_OK;
    char err[512];
    qinputs full = { 0 };
    if (nshards != su.nshards) {
        qerr("filter: --shard %u/%u, but the signatures were made for %u shards", shard, nshards, su.nshards);
        dd_setup_free(&su);
        return QEXIT_USAGE;
    }
    if (qinputs_expand(&full, args, nargs, 0, 1, err, sizeof err)) {
        qerr("%s", err);
        dd_setup_free(&su);
        return QEXIT_BADINPUT;
    }
    int same = full.n == su.n_inputs;
    for (size_t i = 0; same && i < full.n; i++) same = !strcmp(full.paths[i], su.inputs[i]);
    if (!same) {
        qerr("filter: the inputs differ from those the signatures were made from (%s/dedup.json "
             "lists %zu); give the same inputs in the same order", dir, su.n_inputs);
        qinputs_free(&full);
        dd_setup_free(&su);
        return QEXIT_USAGE;
    }
    if (out && strcmp(out, "-") && !o->force && qout_is_complete(out)) {
        qinputs_free(&full);
        dd_setup_free(&su);
        return QEXIT_OK;   /* written by an earlier run */
    }
    filter_state s = { .strict = o->strict };
    if (load_removed(dir, &su, shard, &s.removed)) rc = QEXIT_BADINPUT;
    char **paths;
    uint64_t *index;
    size_t n = dd_shard_inputs(&full, shard, nshards, &paths, &index);
    dd_opts pass = *o;
    pass.near = 0;
    pass.exact = 0;
    if (rc == QEXIT_OK) {
        qdoc_writer_opts wo = { .out = out };
        s.w = qdoc_writer_open(&wo, err, sizeof err);
        if (!s.w) {
            qerr("%s", err);
            rc = QEXIT_BADINPUT;
        }
    }
    if (rc == QEXIT_OK && dd_source_open(&s.src, paths, n, index, &pass, 0, 1)) rc = QEXIT_BADINPUT;
    if (rc == QEXIT_OK) {
        qpipe_ops ops = { dd_pipe_produce, dd_pipe_work, consume, dd_pipe_discard };
        if (qpipe_run(o->jobs, &ops, &s, 0) || s.failed || s.src.failed ||
            qdoc_reader_failed_inputs(s.src.reader))
            rc = QEXIT_BADINPUT;
    }
    if (rc == QEXIT_OK && s.dropped != s.removed.n) {
        qerr("filter: %llu documents on the removal list were not found in the inputs: they "
             "changed since the signatures were made",
             (unsigned long long)(s.removed.n - s.dropped));
        rc = QEXIT_BADINPUT;
    }
    if (s.src.reader) dd_source_close(&s.src);
    if (s.w) {
        if (rc == QEXIT_OK) {
            if (qdoc_writer_close(s.w, err, sizeof err)) {
                qerr("%s", err);
                rc = QEXIT_BADINPUT;
            }
        } else {
            qdoc_writer_abort(s.w);
        }
    }
    if (o->stats_path) {
        qstats *st = qstats_new("dedup filter");
        qstats_set_int(st, "shard", shard);
        qstats_set_int(st, "docs_in", (int64_t)s.docs_in);
        qstats_set_int(st, "docs_out", (int64_t)s.docs_out);
        qstats_set_int(st, "bytes_out", (int64_t)s.bytes_out);
        qstats_set_int(st, "removed", (int64_t)s.dropped);
        qstats_set_int(st, "bad_lines", (int64_t)s.bad_lines);
        if (qstats_write(st, o->stats_path) && rc == QEXIT_OK) rc = QEXIT_BADINPUT;
        qstats_free(st);
    }
    dd_u64vec_free(&s.removed);
    free(paths);
    free(index);
    qinputs_free(&full);
    dd_setup_free(&su);
    return rc;
}
