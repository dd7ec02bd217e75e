/* memory.c - one machine, streaming: the default `quern dedup`.
 *
 * Workers sign documents (source.c); the main thread takes them in input
 * order and, per document:
 *   1. exact: looks its 128-bit key up (text, and/or URL); a hit is an exact
 *      duplicate of the first document with that key;
 *   2. near: probes each band's bucket index; the representatives found are
 *      its candidates (all earlier); with --verify each is checked by exact
 *      Jaccard against the candidate's stored shingle set;
 *   3. with --keep first it writes the document at once unless it has an
 *      edge (exact or near) to an earlier document. --keep longest needs the
 *      whole picture first: it reads the inputs a second time to write.
 *
 * Memory per document: per band one key in a sorted run (tables.c; 6 bytes
 * from ~200,000 documents), only for keys not seen before, and the exact key
 * (14 bytes). That is all the
 * default (--keep first, no --verify, --clusters or --pairs) needs, since a
 * document is removed iff one of its keys was seen before: the "lean" mode.
 * The options that need to know WHICH earlier document matched (to verify
 * it, to build clusters, to report pairs, to pick the longest) also keep a
 * 4-byte document number per band key and exact key, an 8-byte reference
 * (input, line) per document and the joined edges; --stats then also counts
 * candidate pairs and clusters. --stats prints the measured bytes per
 * document. --verify also keeps the shingle set (8 bytes
 * per distinct shingle) of every document that became a bucket
 * representative, because any of them can be a later document's candidate:
 * that is not a small constant, so it counts against --max-memory like the
 * rest, and the phased mode is the way to verify corpora larger than memory
 * (it reads only candidates' shingles back from disk). */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "../common/cli.h"
#include "../common/pool.h"
#include "engine.h"

typedef struct shset { uint64_t *v; size_t n; } shset;

typedef struct mem_state {
    dd_source src;            /* first: the dd_pipe_* callbacks take the state as it */
    const dd_opts *o;
    qdoc_writer *w;
    qprogress *prog;
    int write_now;            /* keep first: write during the pass */
    int lean;                 /* membership only: no representatives, refs, edges */
    dd_bandidx *bands;
    dd_keyset128 *text_keys, *url_keys;
    uint64_t *refs;           /* document number -> reference */
    uint64_t *lens;           /* document number -> text bytes (keep longest) */
    size_t n_docs, cap_docs;
    dd_map *store_index;      /* document number -> index in store */
    shset *store;
    size_t n_store, cap_store;
    uint64_t store_bytes;
    dd_edgevec edges;
    uint32_t *reps, *cands;
    /* counters */
    uint64_t bytes_in, bytes_out, docs_out, bad_lines;
    uint64_t candidate_pairs, verify_rejected, no_shingles;
    uint64_t lean_removed_exact, lean_removed_near;
    uint64_t peak_bytes;
    int failed;
    int strict_stop;          /* --strict met a bad line: what came before stands */
} mem_state;
_Static_assert(offsetof(mem_state, src) == 0, "dd_pipe_* take the state as its dd_source");

static uint64_t index_bytes(const mem_state *s, size_t more)
{
    uint64_t b = 0;
    if (s->bands) b += dd_bandidx_bytes_after(s->bands, more);
    if (s->text_keys) b += dd_keyset128_bytes_after(s->text_keys, more);
    if (s->url_keys) b += dd_keyset128_bytes_after(s->url_keys, more);
    if (!s->lean) {
        size_t cap = s->cap_docs;
        if (s->n_docs + more > cap) cap = cap ? 2 * cap : 4096;
        b += cap * sizeof *s->refs;
        if (s->lens) b += cap * sizeof *s->lens;
    }
    b += s->store_bytes + (s->store_index ? dd_map_bytes(s->store_index) : 0) +
         s->cap_store * sizeof *s->store;
    b += s->edges.cap * sizeof *s->edges.v;
    return b;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* The lean mode's decision: removed iff a key was seen before. The counts
 * match dd_resolve's for --keep first: exact if an exact key matched (text
 * or URL), else near. Band keys are inserted in every case, as the full
 * mode does. */
static void decide_lean(mem_state *s, dd_feat *f, uint32_t me, int *removed)
{
    if (s->text_keys && dd_keyset128_insert(s->text_keys, f->text_key, me, NULL)) *removed = 1;
    if (s->url_keys && f->has_url && dd_keyset128_insert(s->url_keys, f->url_key, me, NULL)) *removed = 1;
    if (*removed) s->lean_removed_exact++;
    if (!s->bands) return;
    if (f->no_shingles) {
        s->no_shingles++;
        return;
    }
    if (dd_bandidx_probe(s->bands, f->band_keys, me, 1, NULL) && !*removed) {
        s->lean_removed_near++;
        *removed = 1;
    }
}

/* One document, in input order. Returns 0, or -1 to stop (error printed). */
static int decide(mem_state *s, dd_feat *f, int *removed)
{
    const dd_opts *o = s->o;
    if (s->n_docs >= UINT32_MAX - 1) {
        qerr("more than %u documents: use the phased mode (quern dedup signatures ...)", UINT32_MAX - 2);
        return -1;
    }
    uint64_t need = index_bytes(s, 1);
    if (need > s->peak_bytes) s->peak_bytes = need;
    if (dd_memory_check(o, need, s->n_docs, "the in-memory index (buckets, exact keys, --verify shingles)",
                        "raise --max-memory or use the phased mode (quern dedup signatures ...)")) return -1;
    *removed = 0;
    if (s->lean) {
        decide_lean(s, f, (uint32_t)s->n_docs++, removed);
        return 0;
    }
    if (s->n_docs == s->cap_docs) {
        s->cap_docs = s->cap_docs ? 2 * s->cap_docs : 4096;
        s->refs = realloc(s->refs, s->cap_docs * sizeof *s->refs);
        if (!s->refs) abort();
        if (o->keep == DD_KEEP_LONGEST) {
            s->lens = realloc(s->lens, s->cap_docs * sizeof *s->lens);
            if (!s->lens) abort();
        }
    }
    uint32_t me = (uint32_t)s->n_docs++;
    s->refs[me] = f->ref;
    if (s->lens) s->lens[me] = f->text_len;

    uint32_t first;
    if (s->text_keys && dd_keyset128_insert(s->text_keys, f->text_key, me, &first)) {
        dd_edgevec_push(&s->edges, (dd_edge){ s->refs[first], f->ref, DD_EDGE_EXACT, -1 });
        *removed = 1;
    }
    if (s->url_keys && f->has_url && dd_keyset128_insert(s->url_keys, f->url_key, me, &first) &&
        !*removed) {
        dd_edgevec_push(&s->edges, (dd_edge){ s->refs[first], f->ref, DD_EDGE_EXACT, -1 });
        *removed = 1;
    }
    if (!s->bands) return 0;
    if (f->no_shingles) {
        s->no_shingles++;
        return 0;
    }
    unsigned nb = o->params.bands;
    dd_bandidx_probe(s->bands, f->band_keys, me, 1, s->reps);
    unsigned nc = 0, new_keys = 0;
    for (unsigned j = 0; j < nb; j++) {
        if (s->reps[j] == UINT32_MAX) new_keys++;
        else s->cands[nc++] = s->reps[j];
    }
    qsort(s->cands, nc, sizeof *s->cands, cmp_u32);
    unsigned u = 0;
    for (unsigned i = 0; i < nc; i++)
        if (!u || s->cands[i] != s->cands[u - 1]) s->cands[u++] = s->cands[i];
    s->candidate_pairs += u;
    for (unsigned i = 0; i < u; i++) {
        float jac = -1;
        if (o->verify > 0) {
            uint64_t *pos = dd_map_get(s->store_index, s->cands[i]);
            double j = 0;
            if (pos) j = dd_jaccard_sorted(f->shingles, f->n_shingles, s->store[*pos].v, s->store[*pos].n);
            if (j < o->verify) {
                s->verify_rejected++;
                continue;
            }
            jac = (float)j;
        }
        dd_edgevec_push(&s->edges, (dd_edge){ s->refs[s->cands[i]], f->ref, DD_EDGE_NEAR, jac });
        *removed = 1;
    }
    if (o->verify > 0 && new_keys) {   /* may be a later document's candidate */
        if (s->n_store == s->cap_store) {
            s->cap_store = s->cap_store ? 2 * s->cap_store : 1024;
            s->store = realloc(s->store, s->cap_store * sizeof *s->store);
            if (!s->store) abort();
        }
        *dd_map_upsert(s->store_index, me, s->n_store, NULL) = s->n_store;
        s->store[s->n_store++] = (shset){ f->shingles, f->n_shingles };
        s->store_bytes += f->n_shingles * sizeof(uint64_t);
        f->shingles = NULL;   /* the store owns it now */
    }
    return 0;
}

static int consume(void *item, void *ctx)
{
    mem_state *s = ctx;
    dd_batch *b = item;
    /* --strict: the documents before the first bad line still count (and
     * are written), that line is reported, nothing after it is looked at */
    size_t end = s->o->strict ? dd_batch_first_bad(b) : b->n;
    s->bad_lines += dd_batch_report_bad(&s->src, b, end < b->n ? end + 1 : b->n);
    for (size_t i = 0; i < end; i++) {
        dd_feat *f = &b->feat[i];
        if (f->bad) continue;
        s->bytes_in += b->lines[i].len + 1;
        int removed;
        if (decide(s, f, &removed)) {
            dd_batch_free(b);
            s->failed = 1;
            return 1;
        }
        if (s->write_now && !removed) {
            if (qdoc_writer_write(s->w, b->out[i].buf, b->out[i].len)) {
                dd_batch_free(b);
                s->failed = 1;
                return 1;
            }
            s->docs_out++;
            s->bytes_out += b->out[i].len;
        }
    }
    if (s->prog) qprogress_update(s->prog, qdoc_reader_raw_bytes(s->src.reader), s->n_docs);
    dd_batch_free(b);
    if (s->o->strict && s->bad_lines) {
        s->strict_stop = 1;
        return 1;
    }
    return 0;
}

static uint64_t len_of(void *ctx, uint64_t ref)
{
    mem_state *s = ctx;
    size_t lo = 0, hi = s->n_docs;   /* refs ascend in input order */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->refs[mid] < ref) lo = mid + 1;
        else hi = mid;
    }
    return lo < s->n_docs && s->refs[lo] == ref && s->lens ? s->lens[lo] : 0;
}

/* Second pass for --keep longest: write every document not removed. */
typedef struct filter_state {
    dd_source src; /* first: the dd_pipe_* callbacks take the state as it */
    const dd_u64vec *removed;
    size_t next;
    qdoc_writer *w;
    uint64_t docs_out, bytes_out;
    int strict;
    int failed, strict_stop;
} filter_state;
_Static_assert(offsetof(filter_state, src) == 0, "dd_pipe_* take the state as its dd_source");

static int f_consume(void *item, void *ctx)
{
    filter_state *s = ctx;
    dd_batch *b = item;
    for (size_t i = 0; i < b->n; i++) {
        if (b->feat[i].bad) {   /* reported in the first pass */
            if (!s->strict) continue;
            s->strict_stop = 1;   /* the first pass stopped here too */
            dd_batch_free(b);
            return 1;
        }
        uint64_t ref = b->feat[i].ref;
        while (s->next < s->removed->n && s->removed->v[s->next] < ref) s->next++;
        if (s->next < s->removed->n && s->removed->v[s->next] == ref) continue;
        if (qdoc_writer_write(s->w, b->out[i].buf, b->out[i].len)) {
            s->failed = 1;
            dd_batch_free(b);
            return 1;
        }
        s->docs_out++;
        s->bytes_out += b->out[i].len;
    }
    dd_batch_free(b);
    return 0;
}

static double signer_seconds(const dd_source *src, uint64_t *bytes)
{
    double t = 0;
    *bytes = 0;
    for (int i = 0; i < src->jobs; i++) {
        t += src->signers[i].cpu_seconds;
        *bytes += src->signers[i].bytes_signed;
    }
    return t;
}

int dd_run_memory(const dd_opts *o, char **paths, size_t n, const uint64_t *input_index,
                  const char *out_path)
{
    int longest = o->keep == DD_KEEP_LONGEST;
    if (longest)
        for (size_t i = 0; i < n; i++)
            if (!strcmp(paths[i], "-")) {
                qerr("--keep longest reads the inputs twice, so they must be files, not stdin "
                     "(or use --keep first, or the phased mode)");
                return QEXIT_USAGE;
            }
    mem_state s = { .o = o, .write_now = !longest };
    /* only --verify, --clusters, --pairs and --keep longest ask which earlier
     * document a match is */
    s.lean = !longest && !(o->verify > 0) && !o->clusters_path && !o->pairs_path;
    qstats *st = o->stats_path ? qstats_new("dedup") : NULL;
    char err[512];
    qdoc_writer_opts wo = { .out = out_path };
    s.w = qdoc_writer_open(&wo, err, sizeof err);
    if (!s.w) {
        qerr("%s", err);
        qstats_free(st);
        return QEXIT_BADINPUT;
    }
    if (dd_source_open(&s.src, paths, n, input_index, o, o->verify > 0, !longest)) {
        qdoc_writer_abort(s.w);
        qstats_free(st);
        return QEXIT_BADINPUT;
    }
    if (o->near) {
        s.bands = s.lean ? dd_bandidx_new_set(o->params.bands) : dd_bandidx_new(o->params.bands);
        s.reps = calloc(o->params.bands, sizeof *s.reps);
        s.cands = calloc(o->params.bands, sizeof *s.cands);
        if (!s.reps || !s.cands) abort();
    }
    if (o->exact & DD_EXACT_TEXT) s.text_keys = s.lean ? dd_keyset128_new_set() : dd_keyset128_new();
    if (o->exact & DD_EXACT_URL) s.url_keys = s.lean ? dd_keyset128_new_set() : dd_keyset128_new();
    if (o->verify > 0) s.store_index = dd_map_new();
    s.prog = qprogress_new("dedup", (uint64_t)(qdoc_reader_total_raw(s.src.reader) > 0 ? qdoc_reader_total_raw(s.src.reader) : 0),
                           o->progress);

    qpipe_ops ops = { dd_pipe_produce, dd_pipe_work, consume, dd_pipe_discard };
    int rc = qpipe_run(o->jobs, &ops, &s, 0);
    if (s.prog) qprogress_finish(s.prog);
    int src_failed = s.src.failed;
    int read_failed = src_failed || qdoc_reader_failed_inputs(s.src.reader) > 0;
    uint64_t sig_bytes;
    double sig_seconds = signer_seconds(&s.src, &sig_bytes);
    uint64_t final_bytes = index_bytes(&s, 0);
    if (final_bytes > s.peak_bytes) s.peak_bytes = final_bytes;
    dd_source_close(&s.src);

    int exit_code = QEXIT_OK;
    dd_resolved res = { 0 };
    /* A --strict stop or an input that could not be read to its end keeps
     * the documents before it (as cat does); the exit status is still 1. */
    int kept_stop = s.strict_stop || src_failed;
    if (s.failed || (rc && !kept_stop)) exit_code = QEXIT_BADINPUT;
    if (exit_code == QEXIT_OK && s.lean) {
        res.removed_exact = s.lean_removed_exact;
        res.removed_near = s.lean_removed_near;
    } else if (exit_code == QEXIT_OK) {
        dd_edges_sort(&s.edges);
        if (dd_resolve(&s.edges, o->keep, len_of, &s, o->clusters_path, o->pairs_path, &res))
            exit_code = QEXIT_BADINPUT;
    }
    if (exit_code == QEXIT_OK && longest) {
        filter_state fs = { .removed = &res.removed, .w = s.w, .strict = o->strict };
        dd_opts o2 = *o;
        o2.near = 0;
        o2.exact = 0;
        if (dd_source_open(&fs.src, paths, n, input_index, &o2, 0, 1)) {
            exit_code = QEXIT_BADINPUT;
        } else {
            qpipe_ops fops = { dd_pipe_produce, dd_pipe_work, f_consume, dd_pipe_discard };
            int frc = qpipe_run(o->jobs, &fops, &fs, 0);
            if (fs.failed || (frc && !fs.strict_stop && !fs.src.failed))
                exit_code = QEXIT_BADINPUT;
            if (fs.src.failed && !src_failed) exit_code = QEXIT_BADINPUT;   /* changed since pass 1 */
            s.docs_out = fs.docs_out;
            s.bytes_out = fs.bytes_out;
            dd_source_close(&fs.src);
        }
    }
    if (exit_code == QEXIT_OK) {
        if (qdoc_writer_close(s.w, err, sizeof err)) {
            qerr("%s", err);
            exit_code = QEXIT_BADINPUT;
        }
    } else {
        qdoc_writer_abort(s.w);
    }
    if (exit_code == QEXIT_OK && read_failed) exit_code = QEXIT_BADINPUT;
    if (exit_code == QEXIT_OK && o->strict && s.bad_lines) exit_code = QEXIT_BADINPUT;

    if (st) {
        strbuf ps = STRBUF_INIT;
        dd_params_describe(&o->params, &ps);
        qstats_set_str(st, "mode", "memory");
        qstats_set_str(st, "params", o->near ? ps.buf : "none");
        qstats_set_str(st, "keep", longest ? "longest" : "first");
        qstats_set_int(st, "docs_in", (int64_t)s.n_docs);
        qstats_set_int(st, "docs_out", (int64_t)s.docs_out);
        qstats_set_int(st, "bytes_in", (int64_t)s.bytes_in);
        qstats_set_int(st, "bytes_out", (int64_t)s.bytes_out);
        qstats_set_int(st, "bad_lines", (int64_t)s.bad_lines);
        qstats_set_int(st, "removed.exact", (int64_t)res.removed_exact);
        qstats_set_int(st, "removed.near", (int64_t)res.removed_near);
        /* the lean mode does not know which earlier documents matched, so
         * it cannot count distinct candidates or clusters */
        if (!s.lean) qstats_set_int(st, "candidate_pairs", (int64_t)s.candidate_pairs);
        qstats_set_int(st, "verify.threshold_permille", (int64_t)(o->verify * 1000 + 0.5));
        qstats_set_int(st, "verify.false_positives_removed", (int64_t)s.verify_rejected);
        qstats_set_int(st, "docs_without_shingles", (int64_t)s.no_shingles);
        if (!s.lean) {
            qstats_set_int(st, "clusters", (int64_t)res.clusters);
            qstats_set_int(st, "clustered_docs", (int64_t)res.clustered_docs);
        }
        qstats_set_str(st, "memory.index", s.lean ? "keys" : "keys+representatives");
        qstats_set_int(st, "memory.peak_index_bytes", (int64_t)s.peak_bytes);
        qstats_set_num(st, "memory.bytes_per_doc",
                       s.n_docs ? (double)(s.peak_bytes - s.store_bytes) / (double)s.n_docs : 0);
        qstats_set_num(st, "memory.verify_store_bytes", (double)s.store_bytes);
        qstats_set_num(st, "memory.target_bytes_per_doc", 8.0 * o->params.bands + 8.0);
        qstats_set_str(st, "signature.kernel", dd_minhash_kernel());
        qstats_set_num(st, "signature.cpu_seconds", sig_seconds);
        qstats_set_num(st, "signature.mb_per_cpu_second", sig_seconds > 0 ? (double)sig_bytes / 1e6 / sig_seconds : 0);
        if (qstats_write(st, o->stats_path) && exit_code == QEXIT_OK) exit_code = QEXIT_BADINPUT;
        sb_free(&ps);
        qstats_free(st);
    }
    dd_resolved_free(&res);
    dd_edgevec_free(&s.edges);
    dd_bandidx_free(s.bands);
    dd_keyset128_free(s.text_keys);
    dd_keyset128_free(s.url_keys);
    for (size_t i = 0; i < s.n_store; i++) free(s.store[i].v);
    free(s.store);
    dd_map_free(s.store_index);
    free(s.refs);
    free(s.lens);
    free(s.reps);
    free(s.cands);
    return exit_code;
}
