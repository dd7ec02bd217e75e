/* resolve.c - from joined edges to the documents removed, the clusters and
 * the pairs report. The in-memory mode and the phased `clusters` step both
 * end here, so they decide identically.
 *
 * Rules (dedup/README.md):
 *   exact edge (rep, doc): doc's normalised text (or URL) equals an earlier
 *     document's; doc is removed, the first in input order wins.
 *   near edge (rep, doc): doc shares an LSH bucket with the earlier bucket
 *     representative rep (and, with --verify J, their Jaccard is >= J).
 *   --keep first: a document is removed iff it has an edge to an earlier
 *     document. This is what a stream can decide on arrival, and it keeps the
 *     first document of every cluster.
 *   --keep longest: clusters are the union-find components of all edges;
 *     each keeps its longest document (text bytes; ties: earliest) among those
 *     that are not exact duplicates; every other member is removed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/cli.h"
#include "../common/outfile.h"
#include "engine.h"

void dd_edgevec_push(dd_edgevec *e, dd_edge x)
{
    if (e->n == e->cap) {
        e->cap = e->cap ? 2 * e->cap : 256;
        e->v = realloc(e->v, e->cap * sizeof *e->v);
        if (!e->v) abort();
    }
    e->v[e->n++] = x;
}

void dd_edgevec_free(dd_edgevec *e)
{
    free(e->v);
    memset(e, 0, sizeof *e);
}

static int cmp_edge(const void *a, const void *b)
{
    const dd_edge *x = a, *y = b;
    if (x->doc != y->doc) return x->doc < y->doc ? -1 : 1;
    if (x->rep != y->rep) return x->rep < y->rep ? -1 : 1;
    return (int)x->kind - (int)y->kind;
}

void dd_edges_sort(dd_edgevec *e)
{
    if (e->n < 2) return;
    qsort(e->v, e->n, sizeof *e->v, cmp_edge);
    size_t w = 1;
    for (size_t i = 1; i < e->n; i++) {
        dd_edge *p = &e->v[w - 1], *c = &e->v[i];
        if (c->doc == p->doc && c->rep == p->rep && c->kind == p->kind) continue;
        e->v[w++] = *c;
    }
    e->n = w;
}

void dd_ref_format(uint64_t ref, strbuf *out)
{
    sb_addf(out, "%llu:%llu", (unsigned long long)dd_ref_input(ref),
            (unsigned long long)dd_ref_ordinal(ref));
}

int dd_memory_check(const dd_opts *o, uint64_t need, uint64_t docs, const char *what,
                    const char *hint)
{
    if (!o->max_memory || need <= o->max_memory) return 0;
    qerr("--max-memory %llu bytes would be exceeded by %s (%llu bytes needed after %llu "
         "documents); %s",
         (unsigned long long)o->max_memory, what, (unsigned long long)need,
         (unsigned long long)docs, hint);
    return -1;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int in_sorted(const dd_u64vec *v, uint64_t x)
{
    return v->n && bsearch(&x, v->v, v->n, sizeof x, cmp_u64) != NULL;
}

typedef struct member { uint64_t label, ref; } member;

static int cmp_member(const void *a, const void *b)
{
    const member *x = a, *y = b;
    if (x->label != y->label) return x->label < y->label ? -1 : 1;
    return x->ref < y->ref ? -1 : x->ref > y->ref;
}

static int write_clusters(const char *path, const member *m, size_t n, const dd_u64vec *removed,
                          uint64_t *clusters)
{
    char err[512];
    qout *o = path ? qout_open(path, QOUT_PLAIN, err, sizeof err) : NULL;
    if (path && !o) {
        qerr("%s", err);
        return -1;
    }
    strbuf line = STRBUF_INIT;
    *clusters = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && m[j].label == m[i].label) j++;
        (*clusters)++;
        if (o) {
            sb_reset(&line);
            sb_adds(&line, "{\"cluster\":\"");
            dd_ref_format(m[i].label, &line);
            sb_addf(&line, "\",\"size\":%zu,\"kept\":[", j - i);
            int first = 1;
            for (size_t k = i; k < j; k++) {
                if (in_sorted(removed, m[k].ref)) continue;
                sb_adds(&line, first ? "\"" : ",\"");
                dd_ref_format(m[k].ref, &line);
                sb_addc(&line, '"');
                first = 0;
            }
            sb_adds(&line, "],\"members\":[");
            for (size_t k = i; k < j; k++) {
                sb_adds(&line, k == i ? "\"" : ",\"");
                dd_ref_format(m[k].ref, &line);
                sb_addc(&line, '"');
            }
            sb_adds(&line, "]}\n");
            if (qout_write(o, line.buf, line.len)) break;
        }
        i = j;
    }
    sb_free(&line);
    if (o && qout_commit(o, err, sizeof err)) {
        qerr("%s", err);
        return -1;
    }
    return 0;
}

static int write_pairs(const char *path, const dd_edgevec *e)
{
    char err[512];
    qout *o = qout_open(path, QOUT_PLAIN, err, sizeof err);
    if (!o) {
        qerr("%s", err);
        return -1;
    }
    strbuf line = STRBUF_INIT;
    sb_adds(&line, "rep\tdoc\tkind\tjaccard\n");
    for (size_t i = 0; i < e->n; i++) {
        dd_ref_format(e->v[i].rep, &line);
        sb_addc(&line, '\t');
        dd_ref_format(e->v[i].doc, &line);
        sb_adds(&line, e->v[i].kind == DD_EDGE_EXACT ? "\texact\t" : "\tnear\t");
        if (e->v[i].jaccard >= 0) sb_addf(&line, "%.6f\n", e->v[i].jaccard);
        else sb_adds(&line, "-\n");
        if (line.len > 65536) {
            qout_write(o, line.buf, line.len);
            sb_reset(&line);
        }
    }
    qout_write(o, line.buf, line.len);
    sb_free(&line);
    if (qout_commit(o, err, sizeof err)) {
        qerr("%s", err);
        return -1;
    }
    return 0;
}

int dd_resolve(const dd_edgevec *edges, int keep, dd_len_fn len_fn, void *len_ctx,
               const char *clusters_path, const char *pairs_path, dd_resolved *out)
{
    memset(out, 0, sizeof *out);
    dd_u64vec exact = { 0 };
    for (size_t i = 0; i < edges->n; i++)
        if (edges->v[i].kind == DD_EDGE_EXACT) dd_u64vec_push(&exact, edges->v[i].doc);
    dd_sort_unique(&exact);
    out->removed_exact = exact.n;

    dd_uf *uf = dd_uf_new();
    for (size_t i = 0; i < edges->n; i++) dd_uf_union(uf, edges->v[i].rep, edges->v[i].doc);
    size_t nm = dd_uf_count(uf);
    member *m = malloc((nm ? nm : 1) * sizeof *m);
    if (!m) abort();
    for (size_t i = 0; i < nm; i++) {
        m[i].ref = dd_uf_ref(uf, i);
        m[i].label = dd_uf_find(uf, m[i].ref);
    }
    if (nm > 1) qsort(m, nm, sizeof *m, cmp_member);
    out->clustered_docs = nm;

    if (keep == DD_KEEP_FIRST) {
        for (size_t i = 0; i < edges->n; i++) dd_u64vec_push(&out->removed, edges->v[i].doc);
        dd_sort_unique(&out->removed);
    } else {
        for (size_t i = 0; i < nm;) {
            size_t j = i;
            while (j < nm && m[j].label == m[i].label) j++;
            size_t best = j;
            uint64_t best_len = 0;
            for (size_t k = i; k < j; k++) {
                if (in_sorted(&exact, m[k].ref)) continue;
                uint64_t len = len_fn(len_ctx, m[k].ref);
                if (best == j || len > best_len) { best = k; best_len = len; }
            }
            for (size_t k = i; k < j; k++)
                if (k != best) dd_u64vec_push(&out->removed, m[k].ref);
            i = j;
        }
        dd_sort_unique(&out->removed);
    }
    out->removed_near = out->removed.n - out->removed_exact;

    int rc = write_clusters(clusters_path, m, nm, &out->removed, &out->clusters);
    if (!rc && pairs_path) rc = write_pairs(pairs_path, edges);
    free(m);
    dd_uf_free(uf);
    dd_u64vec_free(&exact);
    return rc;
}

void dd_resolved_free(dd_resolved *r) { dd_u64vec_free(&r->removed); }
