/* mixture.c - see mixture.h. */
#include "mixture.h"
#include "../common/cli.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "budget.h"

/* Purposes, so one seed gives independent streams of randomness. */
enum { KEY_VAL = 1, KEY_EPOCH = 2, KEY_JITTER = 3, KEY_VJITTER = 4 };

/* Splits `total` into integers proportional to x[i] (which sum to total up
 * to rounding): floors, then the leftover units to the largest fractional
 * parts, ties to the lower index. Entries with skip[i] keep floor(x[i]). */
static void largest_remainder(const double *x, const int *skip, size_t n, uint64_t total, uint64_t *out)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        out[i] = x[i] > 0 ? (uint64_t)floor(x[i]) : 0;
        sum += out[i];
    }
    while (sum < total) {
        size_t best = n;
        double bestf = -1;
        for (size_t i = 0; i < n; i++) {
            if (skip && skip[i]) continue;
            double f = x[i] - (double)out[i];
            if (f > bestf) {
                bestf = f;
                best = i;
            }
        }
        if (best == n) break;
        out[best]++;
        sum++;
    }
    while (sum > total) { /* floating error only */
        size_t best = n;
        for (size_t i = 0; i < n; i++)
            if (out[i] && !(skip && skip[i]) && (best == n || out[i] > out[best])) best = i;
        if (best == n) break;
        out[best]--;
        sum--;
    }
}

static double limit_of(const mix_alloc *a) { return a->max_epochs > 0 ? a->max_epochs : INFINITY; }

int mix_plan_make(mix_plan *p, mix_source *srcs, size_t n, const mix_config *cfg, char *err, size_t errlen)
{
    memset(p, 0, sizeof *p);
    p->srcs = srcs;
    p->n = n;
    p->cfg = *cfg;
    if (!n) {
        qseterr(err, errlen, "no sources");
        return -1;
    }
    p->alloc = calloc(n, sizeof *p->alloc);
    double *x = calloc(n, sizeof *x);
    uint64_t *u = calloc(n, sizeof *u);
    int *capped = calloc(n, sizeof *capped);
    if (!p->alloc || !x || !u || !capped) abort();
    int rc = -1;
    char h1[32], h2[32], h3[32], h4[32];

    for (size_t i = 0; i < n; i++) p->weight_sum += srcs[i].weight;
    if (!(p->weight_sum > 0)) {
        qseterr(err, errlen, "the weights sum to 0");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        mix_alloc *a = &p->alloc[i];
        a->weight_norm = srcs[i].weight / p->weight_sum;
        a->max_epochs = srcs[i].max_epochs > 0 ? srcs[i].max_epochs : cfg->default_max_epochs;
    }

    /* Validation split: V x weight from each source. */
    for (size_t i = 0; i < n; i++) x[i] = (double)cfg->val_tokens * p->alloc[i].weight_norm;
    largest_remainder(x, NULL, n, cfg->val_tokens, u);
    for (size_t i = 0; i < n; i++) {
        mix_source *s = &srcs[i];
        mix_alloc *a = &p->alloc[i];
        a->val_target = u[i];
        if (a->val_target > s->n_tokens) {
            qseterr(err, errlen, "source '%s': its validation share %s exceeds its %s tokens", s->name,
                   qbudget_human((double)a->val_target, h1, sizeof h1),
                   qbudget_human((double)s->n_tokens, h2, sizeof h2));
            goto out;
        }
        if (s->declared) {
            a->avail = s->n_tokens - a->val_target;
            continue;
        }
        qperm_init(&a->pval, s->n_docs, qmix_hash4(cfg->seed, i, 0, KEY_VAL));
        uint64_t got = 0;
        while (got < a->val_target) {
            got += mix_source_doc_len(s, qperm_at(&a->pval, a->val_docs));
            a->val_docs++;
        }
        a->val_lost = got - a->val_target;
        a->train_docs = s->n_docs - a->val_docs;
        a->avail = s->n_tokens - got;
        p->val_total += a->val_target;
    }

    /* Train shares: weight x total, or weight / sum x total. */
    uint64_t total = cfg->normalise_weights ? cfg->total_tokens
                                            : (uint64_t)llround((double)cfg->total_tokens * p->weight_sum);
    for (;;) {
        /* Water-filling: capped sources hold max_epochs x available; the
         * others share what is left in proportion to their weights. */
        double left = (double)total, wfree = 0;
        for (size_t i = 0; i < n; i++) {
            if (capped[i]) left -= floor(limit_of(&p->alloc[i]) * (double)p->alloc[i].avail);
            else wfree += srcs[i].weight;
        }
        int changed = 0;
        for (size_t i = 0; i < n; i++) {
            mix_alloc *a = &p->alloc[i];
            if (capped[i]) {
                x[i] = floor(limit_of(a) * (double)a->avail);
                continue;
            }
            x[i] = wfree > 0 ? left * srcs[i].weight / wfree : 0;
            double cap = limit_of(a) * (double)a->avail;
            if (x[i] > cap * (1 + 1e-12) && cfg->renormalise) {
                capped[i] = 1;
                changed = 1;
            }
        }
        if (!changed) break;
    }
    {
        double sumx = 0;
        for (size_t i = 0; i < n; i++) sumx += x[i];
        int any_free = 0;
        for (size_t i = 0; i < n; i++) any_free |= !capped[i] && srcs[i].weight > 0;
        if (cfg->renormalise && (!any_free || sumx < (double)total - 0.5)) {
            qseterr(err, errlen, "not enough data for %s train tokens even with every source at its max_epochs "
                                "(%s short)", qbudget_human((double)total, h1, sizeof h1),
                   qbudget_human((double)total - sumx, h2, sizeof h2));
            goto out;
        }
    }
    largest_remainder(x, capped, n, total, u);

    /* Check each source against its limit. */
    for (size_t i = 0; i < n; i++) {
        mix_alloc *a = &p->alloc[i];
        a->share = u[i];
        a->capped = capped[i];
        if (a->share && !a->avail) {
            qseterr(err, errlen, "source '%s': no train tokens left after its validation share, but it should give %s",
                   srcs[i].name, qbudget_human((double)a->share, h1, sizeof h1));
            goto out;
        }
        a->epochs = a->avail ? (double)a->share / (double)a->avail : 0;
        if (a->max_epochs > 0 && a->epochs > a->max_epochs * (1 + 1e-9)) {
            double over = a->epochs - a->max_epochs;
            qseterr(err, errlen,
                   "source '%s': weight %g x %s train tokens = %s needs %.3f epochs of its %s available "
                   "tokens, %.3f over its max_epochs %g (%s tokens too many); lower its weight, raise "
                   "max_epochs, add data, or pass --renormalise",
                   srcs[i].name, srcs[i].weight, qbudget_human((double)cfg->total_tokens, h1, sizeof h1),
                   qbudget_human((double)a->share, h2, sizeof h2), a->epochs,
                   qbudget_human((double)a->avail, h3, sizeof h3), over, a->max_epochs,
                   qbudget_human(over * (double)a->avail, h4, sizeof h4));
            goto out;
        }
        p->train_total += a->share;
    }
    for (size_t i = 0; i < n; i++)
        p->alloc[i].weight_used = p->train_total ? (double)p->alloc[i].share / (double)p->train_total : 0;
    rc = 0;
out:
    free(x);
    free(u);
    free(capped);
    if (rc) {
        free(p->alloc);
        p->alloc = NULL;
    }
    return rc;
}

void mix_plan_free(mix_plan *p)
{
    free(p->alloc);
    p->alloc = NULL;
}

/* ---- the stream ---- */

void mix_stream_init(mix_stream *s, const mix_plan *p, int val)
{
    memset(s, 0, sizeof *s);
    s->plan = p;
    s->val = val;
    s->cur = calloc(p->n, sizeof *s->cur);
    s->eperm = calloc(p->n, sizeof *s->eperm);
    s->eperm_epoch = malloc(p->n * sizeof *s->eperm_epoch);
    if (!s->cur || !s->eperm || !s->eperm_epoch) abort();
    for (size_t i = 0; i < p->n; i++) {
        s->cur[i].remaining = val ? p->alloc[i].val_target : p->alloc[i].share;
        s->eperm_epoch[i] = UINT64_MAX;
    }
}

void mix_stream_free(mix_stream *s)
{
    free(s->cur);
    free(s->eperm);
    free(s->eperm_epoch);
    memset(s, 0, sizeof *s);
}

/* Fills the source's next document into its cursor. */
static void peek_source(mix_stream *s, size_t i)
{
    mix_cursor *c = &s->cur[i];
    if (c->peeked || !c->remaining) return;
    const mix_plan *p = s->plan;
    const mix_alloc *a = &p->alloc[i];
    const mix_source *src = &p->srcs[i];
    for (;;) {
        uint64_t doc;
        if (s->val) {
            doc = qperm_at(&a->pval, c->pos);
        } else {
            if (c->pos == a->train_docs) {
                c->epoch++;
                c->pos = 0;
            }
            if (s->eperm_epoch[i] != c->epoch) {
                qperm_init(&s->eperm[i], a->train_docs, qmix_hash4(p->cfg.seed, i, c->epoch, KEY_EPOCH));
                s->eperm_epoch[i] = c->epoch;
            }
            doc = qperm_at(&a->pval, a->val_docs + qperm_at(&s->eperm[i], c->pos));
        }
        size_t shard;
        uint64_t start, len;
        mix_source_doc(src, doc, &shard, &start, &len);
        if (!len) { /* empty documents carry nothing; step over them */
            c->pos++;
            continue;
        }
        c->doc = doc;
        c->len = len;
        c->shard = shard;
        c->start = start;
        double share = (double)(s->val ? a->val_target : a->share);
        double jitter = qmix_unit(qmix_hash4(p->cfg.seed, i, c->ndocs, s->val ? KEY_VJITTER : KEY_JITTER));
        uint64_t take = len < c->remaining ? len : c->remaining;
        c->key = ((double)c->emitted + jitter * (double)take) / share;
        c->peeked = 1;
        return;
    }
}

int mix_stream_peek(mix_stream *s, mix_doc *d)
{
    size_t best = s->plan->n;
    for (size_t i = 0; i < s->plan->n; i++) {
        mix_cursor *c = &s->cur[i];
        if (!c->remaining) continue;
        peek_source(s, i);
        if (best == s->plan->n || c->key < s->cur[best].key) best = i;
    }
    if (best == s->plan->n) return 0;
    mix_cursor *c = &s->cur[best];
    d->src = best;
    d->doc = c->doc;
    d->full_len = c->len;
    d->shard = c->shard;
    d->start = c->start;
    d->len = c->len < c->remaining ? c->len : c->remaining;
    return 1;
}

void mix_stream_take(mix_stream *s, const mix_doc *d)
{
    mix_cursor *c = &s->cur[d->src];
    c->remaining -= d->len;
    c->emitted += d->len;
    c->ndocs++;
    c->pos++;
    c->peeked = 0;
}

void mix_stream_save(const mix_stream *s, mix_cursor *snap)
{
    memcpy(snap, s->cur, s->plan->n * sizeof *snap);
}

void mix_stream_restore(mix_stream *s, const mix_cursor *snap)
{
    memcpy(s->cur, snap, s->plan->n * sizeof *snap);
}

/* ---- shard layout ---- */

static void shard_begin(mix_shard_plan *sp, const mix_stream *st, size_t n)
{
    memset(sp, 0, sizeof *sp);
    sp->snap = malloc(n * sizeof *sp->snap);
    sp->src_tokens = calloc(n, sizeof *sp->src_tokens);
    if (!sp->snap || !sp->src_tokens) abort();
    mix_stream_save(st, sp->snap);
}

int mix_layout(const mix_plan *p, int val, uint64_t shard_tokens, mix_shard_plan **out, size_t *n_out)
{
    mix_stream st;
    mix_stream_init(&st, p, val);
    size_t n = 0, cap = 16;
    mix_shard_plan *v = malloc(cap * sizeof *v);
    if (!v) abort();
    mix_doc d;
    int open = 0;
    while (mix_stream_peek(&st, &d)) {
        if (open && v[n - 1].tokens && v[n - 1].tokens + d.len > shard_tokens) open = 0;
        if (!open) {
            if (n == cap) {
                cap *= 2;
                v = realloc(v, cap * sizeof *v);
                if (!v) abort();
            }
            shard_begin(&v[n++], &st, p->n);
            open = 1;
        }
        mix_shard_plan *sp = &v[n - 1];
        sp->tokens += d.len;
        sp->docs++;
        sp->src_tokens[d.src] += d.len;
        mix_stream_take(&st, &d);
    }
    mix_stream_free(&st);
    *out = v;
    *n_out = n;
    return 0;
}

void mix_layout_free(mix_shard_plan *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(s[i].snap);
        free(s[i].src_tokens);
    }
    free(s);
}
