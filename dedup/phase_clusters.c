/* phase_clusters.c - `quern dedup clusters DIR`: every band's pairs and the
 * exact pairs -> edges (verified by exact Jaccard with --verify) -> the same
 * resolver as the in-memory mode -> one removal list per shard.
 *
 * Memory is proportional to the documents that have a candidate: the pairs,
 * the union-find over their documents and, with --verify, the shingle sets
 * of just those documents (read back from the signatures step's files). */
#include <stdlib.h>
#include <string.h>

#include "../common/cli.h"
#include "../common/outfile.h"
#include "../common/progress.h"
#include "phasefile.h"
#include "phases.h"

typedef struct pair { uint64_t rep, doc; } pair;

typedef struct pairvec { pair *v; size_t n, cap; } pairvec;

static void pv_push(pairvec *p, pair x)
{
    if (p->n == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 1024;
        p->v = realloc(p->v, p->cap * sizeof *p->v);
        if (!p->v) abort();
    }
    p->v[p->n++] = x;
}

static int cmp_pair(const void *a, const void *b)
{
    const pair *x = a, *y = b;
    if (x->doc != y->doc) return x->doc < y->doc ? -1 : 1;
    return x->rep < y->rep ? -1 : x->rep > y->rep;
}

/* Read one pairs file, checking order, rep < doc, count and checksum. */
static int load_pairs(const char *dir, const dd_setup *su, uint32_t band, pairvec *out)
{
    strbuf path = STRBUF_INIT;
    dd_pf_pairs_path(&path, dir, band);
    char err[512];
    int rc = -1;
    dd_pfr *r = NULL;
    if (!qout_is_complete(path.buf)) {
        if (band == DD_BAND_EXACT_TEXT) qerr("%s: missing: run `quern dedup pairs --band exact-text %s`", path.buf, dir);
        else if (band == DD_BAND_EXACT_URL) qerr("%s: missing: run `quern dedup pairs --band exact-url %s`", path.buf, dir);
        else qerr("%s: missing: run `quern dedup pairs --band %u %s`", path.buf, band, dir);
        goto out;
    }
    dd_pf_hdr want = { .kind = DD_PF_PAIRS, .band = band, .nshards = su->nshards,
                       .rec_size = sizeof(pair), .params_hash = dd_setup_hash(su) };
    r = dd_pfr_open(path.buf, &want, err, sizeof err);
    if (!r) {
        qerr("%s", err);
        goto out;
    }
    pair p, last = { 0, 0 };
    uint64_t n = 0;
    int got;
    while ((got = dd_pfr_read(r, &p, sizeof p, err, sizeof err)) == 1) {
        if (p.rep >= p.doc || (n && cmp_pair(&last, &p) >= 0)) {
            qerr_off(path.buf, dd_pfr_offset(r) - sizeof p, "pairs not sorted or not (earlier, later): the file is corrupt");
            goto out;
        }
        last = p;
        n++;
        pv_push(out, p);
    }
    if (got < 0 || dd_pfr_finish(r, n, err, sizeof err)) {
        qerr("%s", err);
        goto out;
    }
    rc = 0;
out:
    dd_pfr_close(r);
    sb_free(&path);
    return rc;
}

typedef struct shset { uint64_t *v; size_t n; } shset;

/* Shingle sets of the documents in `need` (map ref -> index into sets). */
static int load_shingles(const char *dir, const dd_setup *su, dd_map *need, shset *sets)
{
    strbuf path = STRBUF_INIT;
    char err[512];
    int rc = 0;
    dd_pf_hdr want = { .kind = DD_PF_SHINGLES, .nshards = su->nshards, .rec_size = 0,
                       .params_hash = dd_setup_hash(su) };
    dd_u64vec skip = { 0 };
    for (unsigned i = 0; i < su->nshards && !rc; i++) {
        dd_pf_path(&path, dir, "shingles", i, su->nshards);
        dd_pfr *r = dd_pfr_open(path.buf, &want, err, sizeof err);
        if (!r) {
            qerr("%s", err);
            rc = -1;
            break;
        }
        uint64_t head[2], n = 0, last = 0;
        int got;
        while ((got = dd_pfr_read(r, head, sizeof head, err, sizeof err)) == 1) {
            if (n && head[0] <= last) {
                qerr_off(path.buf, dd_pfr_offset(r) - sizeof head, "documents out of order: the file is corrupt");
                rc = -1;
                break;
            }
            if (head[1] > dd_pfr_body_bytes(r) / 8) {
                qerr_off(path.buf, dd_pfr_offset(r) - sizeof head, "impossible shingle count: the file is corrupt");
                rc = -1;
                break;
            }
            last = head[0];
            n++;
            uint64_t *pos = dd_map_get(need, head[0]);
            shset *dst = pos ? &sets[*pos] : NULL;
            uint64_t *buf;
            if (dst) {
                buf = malloc((head[1] ? head[1] : 1) * sizeof *buf);
                if (!buf) abort();
            } else {
                if (skip.cap < head[1]) {
                    skip.cap = head[1];
                    skip.v = realloc(skip.v, skip.cap * sizeof *skip.v);
                    if (!skip.v) abort();
                }
                buf = skip.v;
            }
            if (head[1] && dd_pfr_read(r, buf, head[1] * 8, err, sizeof err) != 1) {
                if (dst) free(buf);
                got = -1;
                break;
            }
            if (dst) {
                free(dst->v);
                dst->v = buf;
                dst->n = head[1];
            }
        }
        if (!rc && (got < 0 || dd_pfr_finish(r, n, err, sizeof err))) {
            qerr("%s", err);
            rc = -1;
        }
        dd_pfr_close(r);
    }
    free(skip.v);
    sb_free(&path);
    return rc;
}

/* Text lengths of the documents in `need`, from the document lists. */
typedef struct len_ctx { dd_map *lens; } len_ctx;

static uint64_t len_of(void *ctx, uint64_t ref)
{
    uint64_t *p = dd_map_get(((len_ctx *)ctx)->lens, ref);
    return p ? *p : 0;
}

static int read_docs(const char *dir, const dd_setup *su, dd_map *lens, uint64_t *docs_in)
{
    strbuf path = STRBUF_INIT;
    char err[512];
    int rc = 0;
    *docs_in = 0;
    dd_pf_hdr want = { .kind = DD_PF_DOCS, .nshards = su->nshards, .rec_size = 16,
                       .params_hash = dd_setup_hash(su) };
    for (unsigned i = 0; i < su->nshards && !rc; i++) {
        dd_pf_path(&path, dir, "docs", i, su->nshards);
        if (!qout_is_complete(path.buf)) {
            qerr("%s: missing: run `quern dedup signatures --shard %u/%u` first", path.buf, i, su->nshards);
            rc = -1;
            break;
        }
        dd_pfr *r = dd_pfr_open(path.buf, &want, err, sizeof err);
        if (!r) {
            qerr("%s", err);
            rc = -1;
            break;
        }
        uint64_t rec[2], n = 0;
        int got;
        while ((got = dd_pfr_read(r, rec, sizeof rec, err, sizeof err)) == 1) {
            n++;
            uint64_t *p = lens ? dd_map_get(lens, rec[0]) : NULL;
            if (p) *p = rec[1];
        }
        if (got < 0 || dd_pfr_finish(r, n, err, sizeof err)) {
            qerr("%s", err);
            rc = -1;
        }
        *docs_in += n;
        dd_pfr_close(r);
    }
    sb_free(&path);
    return rc;
}

static uint64_t remove_hash(const dd_setup *su, const dd_opts *o)
{
    /* removal lists depend on the clusters options too: a rerun with other
     * --verify/--keep must not skip */
    return dd_setup_hash(su) ^ ((uint64_t)(o->verify * 1e6) * 0x9E3779B97F4A7C15ull) ^
           ((uint64_t)o->keep << 62);
}

int dd_phase_clusters(const dd_opts *o, const char *dir)
{
    dd_setup su;
    if (dd_setup_read(dir, &su)) return QEXIT_BADINPUT;
    int rc = QEXIT_OK;
    strbuf path = STRBUF_INIT;
    char err[512];
    qstats *st = o->stats_path ? qstats_new("dedup clusters") : NULL;
    uint64_t rhash = remove_hash(&su, o);
    if (o->verify > 0 && !su.keep_shingles) {
        qerr("clusters --verify needs the shingle sets: run signatures with --keep-shingles");
        dd_setup_free(&su);
        qstats_free(st);
        return QEXIT_USAGE;
    }
    /* a complete set of removal lists made with the same options: skip */
    if (!o->force && !o->clusters_path && !o->pairs_path && !o->stats_path) {
        int all = 1;
        for (unsigned i = 0; i < su.nshards && all; i++) {
            dd_pf_path(&path, dir, "remove", i, su.nshards);
            dd_pf_hdr want = { .kind = DD_PF_REMOVE, .nshards = su.nshards, .rec_size = 8, .params_hash = rhash };
            dd_pfr *r = qout_is_complete(path.buf) ? dd_pfr_open(path.buf, &want, err, sizeof err) : NULL;
            all = r != NULL;
            dd_pfr_close(r);
        }
        if (all) {
            sb_free(&path);
            dd_setup_free(&su);
            return QEXIT_OK;
        }
    }

    dd_edgevec edges = { 0 };
    pairvec text = { 0 }, url = { 0 }, near = { 0 };
    if ((su.exact & DD_EXACT_TEXT) && load_pairs(dir, &su, DD_BAND_EXACT_TEXT, &text)) rc = QEXIT_BADINPUT;
    if (rc == QEXIT_OK && (su.exact & DD_EXACT_URL) && load_pairs(dir, &su, DD_BAND_EXACT_URL, &url)) rc = QEXIT_BADINPUT;
    for (unsigned j = 0; su.near && j < su.params.bands && rc == QEXIT_OK; j++)
        if (load_pairs(dir, &su, j, &near)) rc = QEXIT_BADINPUT;

    uint64_t candidate_pairs = 0, rejected = 0;
    if (rc == QEXIT_OK) {
        /* exact: the text key first; a URL match only for documents the text did not catch */
        for (size_t i = 0; i < text.n; i++)
            dd_edgevec_push(&edges, (dd_edge){ text.v[i].rep, text.v[i].doc, DD_EDGE_EXACT, -1 });
        size_t t = 0;
        for (size_t i = 0; i < url.n; i++) {
            while (t < text.n && text.v[t].doc < url.v[i].doc) t++;
            if (t < text.n && text.v[t].doc == url.v[i].doc) continue;
            dd_edgevec_push(&edges, (dd_edge){ url.v[i].rep, url.v[i].doc, DD_EDGE_EXACT, -1 });
        }
        /* near: the union over bands of (representative, document) */
        if (near.n > 1) qsort(near.v, near.n, sizeof *near.v, cmp_pair);
        size_t w = 0;
        for (size_t i = 0; i < near.n; i++)
            if (!w || near.v[i].doc != near.v[w - 1].doc || near.v[i].rep != near.v[w - 1].rep) near.v[w++] = near.v[i];
        near.n = w;
        candidate_pairs = near.n;
        shset *sets = NULL;
        dd_map *need = NULL;
        if (o->verify > 0 && near.n) {
            need = dd_map_new();
            size_t k = 0;
            for (size_t i = 0; i < near.n; i++) {
                int ins;
                uint64_t *p = dd_map_upsert(need, near.v[i].rep, k, &ins);
                if (ins) k++;
                (void)p;
                dd_map_upsert(need, near.v[i].doc, k, &ins);
                if (ins) k++;
            }
            sets = calloc(k, sizeof *sets);
            if (!sets) abort();
            if (load_shingles(dir, &su, need, sets)) rc = QEXIT_BADINPUT;
            if (rc == QEXIT_OK && o->max_memory) {
                uint64_t bytes = dd_map_bytes(need) + k * sizeof *sets;
                for (size_t i = 0; i < k; i++) bytes += sets[i].n * 8;
                if (dd_memory_check(o, bytes, k, "the candidates' shingle sets",
                                    "raise --max-memory or drop --verify")) rc = QEXIT_BADINPUT;
            }
        }
        for (size_t i = 0; i < near.n && rc == QEXIT_OK; i++) {
            float jac = -1;
            if (o->verify > 0) {
                shset *a = &sets[*dd_map_get(need, near.v[i].rep)], *b = &sets[*dd_map_get(need, near.v[i].doc)];
                double j = dd_jaccard_sorted(b->v, b->n, a->v, a->n);
                if (j < o->verify) {
                    rejected++;
                    continue;
                }
                jac = (float)j;
            }
            dd_edgevec_push(&edges, (dd_edge){ near.v[i].rep, near.v[i].doc, DD_EDGE_NEAR, jac });
        }
        if (sets) {
            size_t k = dd_map_size(need);
            for (size_t i = 0; i < k; i++) free(sets[i].v);
            free(sets);
        }
        dd_map_free(need);
    }
    free(text.v);
    free(url.v);
    free(near.v);

    dd_resolved res = { 0 };
    uint64_t docs_in = 0;
    if (rc == QEXIT_OK) {
        dd_edges_sort(&edges);
        len_ctx lc = { dd_map_new() };
        if (o->keep == DD_KEEP_LONGEST)
            for (size_t i = 0; i < edges.n; i++) {
                dd_map_upsert(lc.lens, edges.v[i].rep, 0, NULL);
                dd_map_upsert(lc.lens, edges.v[i].doc, 0, NULL);
            }
        if (read_docs(dir, &su, o->keep == DD_KEEP_LONGEST ? lc.lens : NULL, &docs_in) ||
            dd_resolve(&edges, o->keep, len_of, &lc, o->clusters_path, o->pairs_path, &res))
            rc = QEXIT_BADINPUT;
        dd_map_free(lc.lens);
    }
    /* one removal list per shard: input i belongs to shard i % N; a counting
     * sort groups the (sorted) removed references by shard, keeping order */
    size_t *start = calloc((size_t)su.nshards + 1, sizeof *start);
    uint64_t *by_shard = malloc((res.removed.n ? res.removed.n : 1) * sizeof *by_shard);
    if (!start || !by_shard) abort();
    for (size_t i = 0; i < res.removed.n; i++) start[dd_ref_input(res.removed.v[i]) % su.nshards + 1]++;
    for (unsigned s = 0; s < su.nshards; s++) start[s + 1] += start[s];
    {
        size_t *fill = calloc(su.nshards ? su.nshards : 1, sizeof *fill);
        if (!fill) abort();
        for (size_t i = 0; i < res.removed.n; i++) {
            unsigned sh = (unsigned)(dd_ref_input(res.removed.v[i]) % su.nshards);
            by_shard[start[sh] + fill[sh]++] = res.removed.v[i];
        }
        free(fill);
    }
    for (unsigned s = 0; s < su.nshards && rc == QEXIT_OK; s++) {
        dd_pf_path(&path, dir, "remove", s, su.nshards);
        dd_pf_hdr h = { .kind = DD_PF_REMOVE, .shard = s, .nshards = su.nshards, .rec_size = 8,
                        .params_hash = rhash };
        dd_pfw *w = dd_pfw_open(path.buf, &h, err, sizeof err);
        if (!w) {
            qerr("%s", err);
            rc = QEXIT_BADINPUT;
            break;
        }
        size_t cnt = start[s + 1] - start[s];
        if (cnt && dd_pfw_write(w, by_shard + start[s], cnt * 8, cnt)) rc = QEXIT_BADINPUT;
        if (rc != QEXIT_OK) {
            dd_pfw_abort(w);
            qerr("%s: write failed", path.buf);
        } else if (dd_pfw_commit(w, err, sizeof err)) {
            qerr("%s", err);
            rc = QEXIT_BADINPUT;
        }
    }
    free(start);
    free(by_shard);
    if (st) {
        strbuf ps = STRBUF_INIT;
        dd_params_describe(&su.params, &ps);
        qstats_set_str(st, "mode", "phased");
        qstats_set_str(st, "params", su.near ? ps.buf : "none");
        qstats_set_str(st, "keep", o->keep == DD_KEEP_LONGEST ? "longest" : "first");
        qstats_set_int(st, "docs_in", (int64_t)docs_in);
        qstats_set_int(st, "docs_out", (int64_t)(docs_in - res.removed.n));
        qstats_set_int(st, "removed.exact", (int64_t)res.removed_exact);
        qstats_set_int(st, "removed.near", (int64_t)res.removed_near);
        qstats_set_int(st, "candidate_pairs", (int64_t)candidate_pairs);
        qstats_set_int(st, "verify.threshold_permille", (int64_t)(o->verify * 1000 + 0.5));
        qstats_set_int(st, "verify.false_positives_removed", (int64_t)rejected);
        qstats_set_int(st, "clusters", (int64_t)res.clusters);
        qstats_set_int(st, "clustered_docs", (int64_t)res.clustered_docs);
        if (qstats_write(st, o->stats_path) && rc == QEXIT_OK) rc = QEXIT_BADINPUT;
        sb_free(&ps);
        qstats_free(st);
    }
    dd_resolved_free(&res);
    dd_edgevec_free(&edges);
    sb_free(&path);
    dd_setup_free(&su);
    return rc;
}
