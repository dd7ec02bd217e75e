/* phase_pairs.c - `quern dedup pairs --band B DIR`: merge one band's sorted
 * signature files from every shard into candidate pairs.
 *
 * Within a bucket (equal key) the documents arrive in reference order; the
 * first is the bucket's representative and every other one is paired with
 * it, exactly the candidates the in-memory index finds. Inputs are checked as
 * they stream (header, order) and at their end (count, checksum); the pairs
 * file is committed only if all of them passed. Memory: the pairs of this
 * band, i.e. proportional to the documents that have a candidate. */
#include <stdlib.h>
#include <string.h>

#include "../common/cli.h"
#include "../common/outfile.h"
#include "phasefile.h"
#include "phases.h"

#define RBUF 4096   /* records buffered per input */

typedef struct input {
    dd_pfr *r;
    uint64_t *buf;            /* words: rec_words per record */
    size_t have, pos;         /* records in buf, next */
    uint64_t records;
    uint64_t last[3];
    int started, done;
} input;

typedef struct merger {
    input *in;
    unsigned n;
    unsigned words;           /* 2 (band) or 3 (exact) */
    unsigned *heap;
    unsigned heap_n;
    char err[512];
    int failed;
} merger;

static const uint64_t *cur(const merger *m, unsigned i)
{
    return m->in[i].buf + m->in[i].pos * m->words;
}

static int rec_less(const uint64_t *a, const uint64_t *b, unsigned words)
{
    for (unsigned k = 0; k < words; k++)
        if (a[k] != b[k]) return a[k] < b[k];
    return 0;
}

/* Refill input i; returns 1 with a record, 0 at its end, -1 on error. */
static int refill(merger *m, unsigned i)
{
    input *in = &m->in[i];
    if (in->pos < in->have) return 1;
    if (in->done) return 0;
    size_t rec = m->words * sizeof(uint64_t);
    uint64_t left = (dd_pfr_body_bytes(in->r) - (dd_pfr_offset(in->r) - sizeof(dd_pf_hdr))) / rec;
    size_t want = left < RBUF ? (size_t)left : RBUF;
    if (want == 0) {
        in->done = 1;
        if (dd_pfr_finish(in->r, in->records, m->err, sizeof m->err)) return -1;
        return 0;
    }
    if (dd_pfr_read(in->r, in->buf, want * rec, m->err, sizeof m->err) != 1) return -1;
    in->have = want;
    in->pos = 0;
    in->records += want;
    return 1;
}

/* Check order as each record becomes current. */
static int check_order(merger *m, unsigned i)
{
    input *in = &m->in[i];
    const uint64_t *r = cur(m, i);
    if (in->started && !rec_less(in->last, r, m->words)) {
        snprintf(m->err, sizeof m->err, "%s:%llu: records not sorted (or repeated): the file is corrupt",
                 dd_pfr_path(in->r),
                 (unsigned long long)(dd_pfr_offset(in->r) - (in->have - in->pos) * m->words * 8));
        return -1;
    }
    memcpy(in->last, r, m->words * sizeof(uint64_t));
    in->started = 1;
    return 0;
}

static int heap_less(const merger *m, unsigned a, unsigned b)
{
    return rec_less(cur(m, a), cur(m, b), m->words);
}

static void sift_down(merger *m, unsigned i)
{
    for (;;) {
        unsigned l = 2 * i + 1, r = l + 1, s = i;
        if (l < m->heap_n && heap_less(m, m->heap[l], m->heap[s])) s = l;
        if (r < m->heap_n && heap_less(m, m->heap[r], m->heap[s])) s = r;
        if (s == i) return;
        unsigned t = m->heap[i];
        m->heap[i] = m->heap[s];
        m->heap[s] = t;
        i = s;
    }
}

typedef struct pair { uint64_t rep, doc; } pair;

static int cmp_pair(const void *a, const void *b)
{
    const pair *x = a, *y = b;
    if (x->doc != y->doc) return x->doc < y->doc ? -1 : 1;
    return x->rep < y->rep ? -1 : x->rep > y->rep;
}

static int one_band(const dd_opts *o, const char *dir, const dd_setup *su, uint32_t band)
{
    uint64_t phash = dd_setup_hash(su);
    strbuf out = STRBUF_INIT, group = STRBUF_INIT, path = STRBUF_INIT;
    dd_pf_pairs_path(&out, dir, band);
    if (!o->force && qout_is_complete(out.buf)) {
        sb_free(&out);
        return 0;   /* done before: a rerun skips it */
    }
    int exact = band == DD_BAND_EXACT_TEXT || band == DD_BAND_EXACT_URL;
    merger m = { .n = su->nshards, .words = exact ? 3 : 2 };
    m.in = calloc(m.n, sizeof *m.in);
    m.heap = calloc(m.n, sizeof *m.heap);
    if (!m.in || !m.heap) abort();
    dd_pf_band_group(&group, band);
    int rc = 0;
    dd_pf_hdr want = { .kind = exact ? DD_PF_EXACT : DD_PF_BAND, .band = band, .nshards = su->nshards,
                       .rec_size = m.words * 8, .params_hash = phash };
    for (unsigned i = 0; i < m.n && !rc; i++) {
        dd_pf_path(&path, dir, group.buf, i, su->nshards);
        if (!qout_is_complete(path.buf)) {
            qerr("%s: missing: run `quern dedup signatures --shard %u/%u` first", path.buf, i, su->nshards);
            rc = -1;
            break;
        }
        m.in[i].r = dd_pfr_open(path.buf, &want, m.err, sizeof m.err);
        if (!m.in[i].r) {
            qerr("%s", m.err);
            rc = -1;
            break;
        }
        if (dd_pfr_header(m.in[i].r)->shard != i) {
            qerr_at(path.buf, "0", "header names shard %u, expected %u", dd_pfr_header(m.in[i].r)->shard, i);
            rc = -1;
            break;
        }
        m.in[i].buf = malloc(RBUF * m.words * sizeof(uint64_t));
        if (!m.in[i].buf) abort();
    }
    pair *pairs = NULL;
    size_t np = 0, cap = 0;
    if (!rc) {
        for (unsigned i = 0; i < m.n && !rc; i++) {
            int got = refill(&m, i);
            if (got < 0 || (got && check_order(&m, i))) rc = -1;
            else if (got) m.heap[m.heap_n++] = i;
        }
        for (int i = (int)m.heap_n / 2 - 1; i >= 0; i--) sift_down(&m, (unsigned)i);
        uint64_t gkey[2] = { 0, 0 }, grep = 0;
        int in_group = 0;
        while (!rc && m.heap_n) {
            unsigned i = m.heap[0];
            const uint64_t *r = cur(&m, i);
            uint64_t ref = r[m.words - 1];
            int same = in_group && r[0] == gkey[0] && (m.words == 2 || r[1] == gkey[1]);
            if (same) {
                if (np == cap) {
                    cap = cap ? 2 * cap : 1024;
                    pairs = realloc(pairs, cap * sizeof *pairs);
                    if (!pairs) abort();
                }
                pairs[np++] = (pair){ grep, ref };
            } else {
                gkey[0] = r[0];
                gkey[1] = m.words == 3 ? r[1] : 0;
                grep = ref;
                in_group = 1;
            }
            m.in[i].pos++;
            int got = refill(&m, i);
            if (got < 0 || (got && check_order(&m, i))) {
                rc = -1;
                break;
            }
            if (!got) m.heap[0] = m.heap[--m.heap_n];
            if (m.heap_n) sift_down(&m, 0);
        }
        if (rc) qerr("%s", m.err);
    }
    if (!rc) {
        if (np > 1) qsort(pairs, np, sizeof *pairs, cmp_pair);
        size_t w = 0;
        for (size_t i = 0; i < np; i++)
            if (!w || pairs[i].doc != pairs[w - 1].doc || pairs[i].rep != pairs[w - 1].rep) pairs[w++] = pairs[i];
        np = w;
        dd_pf_hdr h = { .kind = DD_PF_PAIRS, .band = band, .nshards = su->nshards,
                        .rec_size = sizeof(pair), .params_hash = phash };
        dd_pfw *w2 = dd_pfw_open(out.buf, &h, m.err, sizeof m.err);
        if (!w2 || (np && dd_pfw_write(w2, pairs, np * sizeof *pairs, np)) ||
            dd_pfw_commit(w2, m.err, sizeof m.err)) {
            qerr("%s", m.err);
            rc = -1;
        }
    }
    for (unsigned i = 0; i < m.n; i++) {
        dd_pfr_close(m.in[i].r);
        free(m.in[i].buf);
    }
    free(m.in);
    free(m.heap);
    free(pairs);
    sb_free(&out);
    sb_free(&group);
    sb_free(&path);
    return rc;
}

int dd_phase_pairs(const dd_opts *o, const char *dir, const char *band)
{
    dd_setup su;
    if (dd_setup_read(dir, &su)) return QEXIT_BADINPUT;
    uint32_t list[DD_MAX_HASHES + 2];
    unsigned n = 0;
    if (!strcmp(band, "all")) {
        if (su.exact & DD_EXACT_TEXT) list[n++] = DD_BAND_EXACT_TEXT;
        if (su.exact & DD_EXACT_URL) list[n++] = DD_BAND_EXACT_URL;
        if (su.near)
            for (unsigned j = 0; j < su.params.bands; j++) list[n++] = j;
    } else if (!strcmp(band, "exact-text") || !strcmp(band, "exact-url")) {
        int bit = band[6] == 't' ? DD_EXACT_TEXT : DD_EXACT_URL;
        if (!(su.exact & bit)) {
            qerr("--band %s: the signatures were made without that exact key", band);
            dd_setup_free(&su);
            return QEXIT_USAGE;
        }
        list[n++] = bit == DD_EXACT_TEXT ? DD_BAND_EXACT_TEXT : DD_BAND_EXACT_URL;
    } else {
        char *end;
        unsigned long b = strtoul(band, &end, 10);
        if (!*band || *end || !su.near || b >= su.params.bands) {
            qerr("--band wants 0..%u, exact-text, exact-url or all", su.near ? su.params.bands - 1 : 0);
            dd_setup_free(&su);
            return QEXIT_USAGE;
        }
        list[n++] = (uint32_t)b;
    }
    int rc = QEXIT_OK;
    for (unsigned i = 0; i < n && rc == QEXIT_OK; i++)
        if (one_band(o, dir, &su, list[i])) rc = QEXIT_BADINPUT;
    dd_setup_free(&su);
    return rc;
}
