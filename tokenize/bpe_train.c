/* bpe_train.c - piece counting and incremental BPE merging (see bpe_train.h). */
#include "bpe_train.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "../common/strbuf.h"
#include "bpe.h"

/* ---------------- piece counter ---------------- */

typedef struct centry {
    uint64_t hash;
    uint64_t off;
    uint64_t count;     /* 0 = empty slot */
    uint32_t len;
} centry;

struct qbpe_counter {
    centry *e;
    size_t mask, n;
    strbuf arena;
    uint64_t max_bytes, threshold, pruned_pieces, pruned_count;
};

static void counter_alloc(qbpe_counter *c, size_t cap)
{
    c->e = calloc(cap, sizeof *c->e);
    if (!c->e) abort();
    c->mask = cap - 1;
    c->n = 0;
}

qbpe_counter *qbpe_counter_new(uint64_t max_bytes)
{
    qbpe_counter *c = calloc(1, sizeof *c);
    if (!c) abort();
    counter_alloc(c, 1024);
    c->max_bytes = max_bytes;
    return c;
}

void qbpe_counter_free(qbpe_counter *c)
{
    if (!c) return;
    free(c->e);
    sb_free(&c->arena);
    free(c);
}

void qbpe_counter_clear(qbpe_counter *c)
{
    if (c->n) memset(c->e, 0, (c->mask + 1) * sizeof *c->e);
    c->n = 0;
    sb_reset(&c->arena);
}

size_t qbpe_counter_size(const qbpe_counter *c) { return c->n; }
uint64_t qbpe_counter_bytes(const qbpe_counter *c)
{
    return c->arena.cap + (uint64_t)(c->mask + 1) * sizeof(centry);
}
uint64_t qbpe_counter_pruned_pieces(const qbpe_counter *c) { return c->pruned_pieces; }
uint64_t qbpe_counter_pruned_count(const qbpe_counter *c) { return c->pruned_count; }
uint64_t qbpe_counter_threshold(const qbpe_counter *c) { return c->threshold; }
size_t qbpe_counter_capacity(const qbpe_counter *c) { return c->mask + 1; }

int qbpe_counter_entry(const qbpe_counter *c, size_t i, const char **piece, size_t *len,
                       uint64_t *count)
{
    const centry *e = &c->e[i];
    if (!e->count) return 0;
    *piece = c->arena.buf + e->off;
    *len = e->len;
    *count = e->count;
    return 1;
}

static void counter_place(centry *tab, size_t mask, const centry *x)
{
    size_t i = (size_t)x->hash & mask;
    while (tab[i].count) i = (i + 1) & mask;
    tab[i] = *x;
}

static void counter_grow(qbpe_counter *c)
{
    size_t old_cap = c->mask + 1, cap = old_cap * 2;
    centry *old = c->e;
    c->e = calloc(cap, sizeof *c->e);
    if (!c->e) abort();
    c->mask = cap - 1;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].count) counter_place(c->e, c->mask, &old[i]);
    free(old);
}

static void counter_add_hashed(qbpe_counter *c, uint64_t h, const char *p, size_t len, uint64_t count)
{
    size_t i = (size_t)h & c->mask;
    for (;;) {
        centry *e = &c->e[i];
        if (!e->count) break;
        if (e->hash == h && e->len == len && !memcmp(c->arena.buf + e->off, p, len)) {
            e->count += count;
            return;
        }
        i = (i + 1) & c->mask;
    }
    centry *e = &c->e[i];
    e->hash = h;
    e->off = c->arena.len;
    e->len = (uint32_t)len;
    e->count = count;
    sb_add(&c->arena, p, len);
    if (++c->n * 2 > c->mask + 1) counter_grow(c);
}

/* Drop the pieces rarer than a threshold until the map fits in 3/4 of its
 * bound. The threshold starts where the last prune ended (so a steady stream
 * of new rare pieces does not ratchet it up) and doubles while that is not
 * enough. */
static void counter_prune(qbpe_counter *c)
{
    uint64_t t = c->threshold ? c->threshold : 2;
    while (c->max_bytes && qbpe_counter_bytes(c) > c->max_bytes / 4 * 3 && c->n) {
        size_t keep = 0;
        for (size_t i = 0; i <= c->mask; i++)
            if (c->e[i].count >= t) keep++;
        size_t cap = 1024;
        while (cap < keep * 2 + 2) cap <<= 1;
        centry *tab = calloc(cap, sizeof *tab);
        if (!tab) abort();
        strbuf arena = STRBUF_INIT;
        for (size_t i = 0; i <= c->mask; i++) {
            centry x = c->e[i];
            if (!x.count) continue;
            if (x.count < t) {
                c->pruned_pieces++;
                c->pruned_count += x.count;
                continue;
            }
            size_t off = arena.len;
            sb_add(&arena, c->arena.buf + x.off, x.len);
            x.off = off;
            counter_place(tab, cap - 1, &x);
        }
        free(c->e);
        sb_free(&c->arena);
        c->e = tab;
        c->mask = cap - 1;
        c->n = keep;
        c->arena = arena;
        c->threshold = t;
        t *= 2;
    }
}

uint64_t qbpe_counter_get(const qbpe_counter *c, const char *piece, size_t len)
{
    uint64_t h = XXH3_64bits(piece, len);
    size_t i = (size_t)h & c->mask;
    for (;;) {
        const centry *e = &c->e[i];
        if (!e->count) return 0;
        if (e->hash == h && e->len == len && !memcmp(c->arena.buf + e->off, piece, len)) return e->count;
        i = (i + 1) & c->mask;
    }
}

void qbpe_counter_add(qbpe_counter *c, const char *piece, size_t len, uint64_t count)
{
    if (!len || !count) return;
    counter_add_hashed(c, XXH3_64bits(piece, len), piece, len, count);
    if (c->max_bytes && qbpe_counter_bytes(c) > c->max_bytes) counter_prune(c);
}

int qbpe_counter_add_text(qbpe_counter *c, const qpretok *p, qpretok_scratch *s, const char *text,
                          size_t len)
{
    size_t pos = 0, st, en;
    int rc;
    qpretok_prepare(p, s, text, len);
    while ((rc = qpretok_next(p, s, text, len, pos, &st, &en)) == 1) {
        counter_add_hashed(c, XXH3_64bits(text + st, en - st), text + st, en - st, 1);
        pos = en;
    }
    if (c->max_bytes && qbpe_counter_bytes(c) > c->max_bytes) counter_prune(c);
    return rc < 0 ? -1 : 0;
}

void qbpe_counter_merge(qbpe_counter *dst, const qbpe_counter *src)
{
    for (size_t i = 0; i <= src->mask; i++) {
        const centry *e = &src->e[i];
        if (e->count) counter_add_hashed(dst, e->hash, src->arena.buf + e->off, e->len, e->count);
    }
    if (dst->max_bytes && qbpe_counter_bytes(dst) > dst->max_bytes) counter_prune(dst);
}

/* ---------------- merging ---------------- */

typedef struct occlist {
    uint32_t *v;
    uint32_t n, cap;
} occlist;

typedef struct heapent {
    uint64_t count;
    uint64_t key;    /* (left << 32) | right: smaller key wins ties */
} heapent;

typedef struct trainer {
    /* words */
    size_t n_words;
    uint64_t *wcount;
    uint64_t *wstart;
    uint32_t *wlen;
    uint32_t *sym;
    uint32_t *wstamp;
    /* tokens built so far */
    strbuf tbytes;
    uint64_t *toff;
    uint32_t *tlen;
    size_t n_tok, cap_tok;
    qbmap tmap;
    /* pairs */
    uint64_t *pkey_slots;   /* open addressing: key + 1 (0 = empty) */
    uint32_t *pidx_slots;
    size_t pmask, n_pairs, cap_pairs;
    uint64_t *pkey;
    int64_t *pcount;
    occlist *pocc;
    uint32_t *pstamp;
    /* heap */
    heapent *heap;
    size_t hn, hcap;
    /* pairs touched by the current merge */
    uint32_t *touched;
    size_t n_touched, cap_touched;
    uint32_t stamp;
} trainer;

static inline uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static void pairs_rehash(trainer *t, size_t cap)
{
    free(t->pkey_slots);
    free(t->pidx_slots);
    t->pkey_slots = calloc(cap, sizeof *t->pkey_slots);
    t->pidx_slots = malloc(cap * sizeof *t->pidx_slots);
    if (!t->pkey_slots || !t->pidx_slots) abort();
    t->pmask = cap - 1;
    for (uint32_t p = 0; p < t->n_pairs; p++) {
        size_t i = (size_t)mix64(t->pkey[p]) & t->pmask;
        while (t->pkey_slots[i]) i = (i + 1) & t->pmask;
        t->pkey_slots[i] = t->pkey[p] + 1;
        t->pidx_slots[i] = p;
    }
}

/* Index of pair key, created with count 0 if absent. */
static uint32_t pair_index(trainer *t, uint64_t key)
{
    size_t i = (size_t)mix64(key) & t->pmask;
    for (;;) {
        uint64_t s = t->pkey_slots[i];
        if (!s) break;
        if (s == key + 1) return t->pidx_slots[i];
        i = (i + 1) & t->pmask;
    }
    if (t->n_pairs == t->cap_pairs) {
        size_t cap = t->cap_pairs ? t->cap_pairs * 2 : 1 << 16;
        t->pkey = realloc(t->pkey, cap * sizeof *t->pkey);
        t->pcount = realloc(t->pcount, cap * sizeof *t->pcount);
        t->pocc = realloc(t->pocc, cap * sizeof *t->pocc);
        t->pstamp = realloc(t->pstamp, cap * sizeof *t->pstamp);
        if (!t->pkey || !t->pcount || !t->pocc || !t->pstamp) abort();
        t->cap_pairs = cap;
    }
    uint32_t p = (uint32_t)t->n_pairs++;
    t->pkey[p] = key;
    t->pcount[p] = 0;
    memset(&t->pocc[p], 0, sizeof t->pocc[p]);
    t->pstamp[p] = 0;
    t->pkey_slots[i] = key + 1;
    t->pidx_slots[i] = p;
    if (t->n_pairs * 2 > t->pmask + 1) pairs_rehash(t, (t->pmask + 1) * 2);
    return p;
}

static inline void occ_add(occlist *o, uint32_t w)
{
    if (o->n && o->v[o->n - 1] == w) return;
    if (o->n == o->cap) {
        o->cap = o->cap ? o->cap * 2 : 4;
        o->v = realloc(o->v, o->cap * sizeof *o->v);
        if (!o->v) abort();
    }
    o->v[o->n++] = w;
}

static inline int heap_before(const heapent *a, const heapent *b)
{
    return a->count > b->count || (a->count == b->count && a->key < b->key);
}

static void heap_push(trainer *t, uint64_t count, uint64_t key)
{
    if (t->hn == t->hcap) {
        t->hcap = t->hcap ? t->hcap * 2 : 1 << 16;
        t->heap = realloc(t->heap, t->hcap * sizeof *t->heap);
        if (!t->heap) abort();
    }
    heapent x = { count, key };
    size_t i = t->hn++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!heap_before(&x, &t->heap[parent])) break;
        t->heap[i] = t->heap[parent];
        i = parent;
    }
    t->heap[i] = x;
}

static heapent heap_pop(trainer *t)
{
    heapent top = t->heap[0], x = t->heap[--t->hn];
    size_t i = 0, n = t->hn;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && heap_before(&t->heap[c + 1], &t->heap[c])) c++;
        if (!heap_before(&t->heap[c], &x)) break;
        t->heap[i] = t->heap[c];
        i = c;
    }
    if (n) t->heap[i] = x;
    return top;
}

static uint32_t add_token(trainer *t, const char *bytes, size_t len)
{
    if (t->n_tok == t->cap_tok) {
        t->cap_tok = t->cap_tok ? t->cap_tok * 2 : 1024;
        t->toff = realloc(t->toff, t->cap_tok * sizeof *t->toff);
        t->tlen = realloc(t->tlen, t->cap_tok * sizeof *t->tlen);
        if (!t->toff || !t->tlen) abort();
    }
    uint32_t id = (uint32_t)t->n_tok++;
    t->toff[id] = t->tbytes.len;
    t->tlen[id] = (uint32_t)len;
    sb_add(&t->tbytes, bytes, len);
    qbmap_put(&t->tmap, t->tbytes.buf + t->toff[id], len, id, t->tbytes.buf, t->toff, t->tlen);
    return id;
}

static inline void pair_delta(trainer *t, uint32_t a, uint32_t b, int64_t d, uint32_t w)
{
    uint32_t p = pair_index(t, (uint64_t)a << 32 | b);
    t->pcount[p] += d;
    if (d > 0) {
        occ_add(&t->pocc[p], w);
        if (t->pstamp[p] != t->stamp) {
            t->pstamp[p] = t->stamp;
            if (t->n_touched == t->cap_touched) {
                t->cap_touched = t->cap_touched ? t->cap_touched * 2 : 1024;
                t->touched = realloc(t->touched, t->cap_touched * sizeof *t->touched);
                if (!t->touched) abort();
            }
            t->touched[t->n_touched++] = p;
        }
    }
}

/* Replace every non-overlapping (a, b), left to right, in word w by id,
 * adjusting the neighbouring pairs' counts. */
static void merge_word(trainer *t, uint32_t w, uint32_t a, uint32_t b, uint32_t id)
{
    uint32_t *s = t->sym + t->wstart[w];
    uint32_t n = t->wlen[w], j = 0;
    int64_t c = (int64_t)t->wcount[w];
    for (uint32_t i = 0; i < n;) {
        if (i + 1 < n && s[i] == a && s[i + 1] == b) {
            if (j > 0) {
                pair_delta(t, s[j - 1], a, -c, w);
                pair_delta(t, s[j - 1], id, c, w);
            }
            if (i + 2 < n) {
                pair_delta(t, b, s[i + 2], -c, w);
                pair_delta(t, id, s[i + 2], c, w);
            }
            s[j++] = id;
            i += 2;
        } else {
            s[j++] = s[i++];
        }
    }
    t->wlen[w] = j;
}

static void trainer_free(trainer *t)
{
    free(t->wcount);
    free(t->wstart);
    free(t->wlen);
    free(t->sym);
    free(t->wstamp);
    sb_free(&t->tbytes);
    free(t->toff);
    free(t->tlen);
    qbmap_free(&t->tmap);
    free(t->pkey_slots);
    free(t->pidx_slots);
    free(t->pkey);
    free(t->pcount);
    for (size_t p = 0; p < t->n_pairs; p++) free(t->pocc[p].v);
    free(t->pocc);
    free(t->pstamp);
    free(t->heap);
    free(t->touched);
}

int qbpe_train(const qbpe_counter *c, const qbpe_train_opts *o, qvocab *out, qbpe_merge **merges,
               size_t *n_merges, char *err, size_t errlen)
{
    if (o->vocab_size < 256 + o->n_specials) {
        snprintf(err, errlen, "vocab size %u is below 256 bytes + %zu special tokens", o->vocab_size,
                 o->n_specials);
        return -1;
    }
    uint64_t min_count = o->min_count ? o->min_count : 1;
    size_t target = o->vocab_size - o->n_specials;
    trainer T;
    memset(&T, 0, sizeof T);
    trainer *t = &T;
    qbmap_init(&t->tmap, target);
    for (int b = 0; b < 256; b++) {
        char ch = (char)b;
        add_token(t, &ch, 1);
    }
    /* words from the counted pieces */
    size_t cap = qbpe_counter_capacity(c), nw = qbpe_counter_size(c);
    t->wcount = malloc((nw + 1) * sizeof *t->wcount);
    t->wstart = malloc((nw + 1) * sizeof *t->wstart);
    t->wlen = malloc((nw + 1) * sizeof *t->wlen);
    t->wstamp = calloc(nw + 1, sizeof *t->wstamp);
    uint64_t total_sym = 0;
    for (size_t i = 0; i < cap; i++) {
        const char *p;
        size_t len;
        uint64_t cnt;
        if (qbpe_counter_entry(c, i, &p, &len, &cnt)) total_sym += len;
    }
    t->sym = malloc((total_sym + 1) * sizeof *t->sym);
    if (!t->wcount || !t->wstart || !t->wlen || !t->wstamp || !t->sym) abort();
    uint64_t at = 0;
    for (size_t i = 0; i < cap; i++) {
        const char *p;
        size_t len;
        uint64_t cnt;
        if (!qbpe_counter_entry(c, i, &p, &len, &cnt) || len < 2) continue;   /* 1 byte: no pairs */
        size_t w = t->n_words++;
        t->wcount[w] = cnt;
        t->wstart[w] = at;
        t->wlen[w] = (uint32_t)len;
        for (size_t k = 0; k < len; k++) t->sym[at++] = (unsigned char)p[k];
    }
    /* initial pair counts */
    pairs_rehash(t, 1 << 17);
    t->stamp = 1;
    for (uint32_t w = 0; w < t->n_words; w++) {
        const uint32_t *s = t->sym + t->wstart[w];
        for (uint32_t k = 0; k + 1 < t->wlen[w]; k++)
            pair_delta(t, s[k], s[k + 1], (int64_t)t->wcount[w], w);
    }
    for (size_t k = 0; k < t->n_touched; k++) {
        uint32_t p = t->touched[k];
        heap_push(t, (uint64_t)t->pcount[p], t->pkey[p]);
    }
    t->n_touched = 0;
    size_t nm = 0, capm = 0;
    qbpe_merge *ml = NULL;
    strbuf cat = STRBUF_INIT;
    while (t->n_tok < target && t->hn) {
        heapent e = heap_pop(t);
        uint32_t p = pair_index(t, e.key);
        int64_t cur = t->pcount[p];
        if ((uint64_t)cur != e.count) {   /* stale: refresh */
            if (cur > 0) heap_push(t, (uint64_t)cur, e.key);
            continue;
        }
        if ((uint64_t)cur < min_count) break;
        uint32_t a = (uint32_t)(e.key >> 32), b = (uint32_t)e.key;
        sb_reset(&cat);
        sb_add(&cat, t->tbytes.buf + t->toff[a], t->tlen[a]);
        sb_add(&cat, t->tbytes.buf + t->toff[b], t->tlen[b]);
        uint32_t id = qbmap_get(&t->tmap, cat.buf, cat.len, t->tbytes.buf, t->toff, t->tlen);
        if (id == QVOCAB_NONE) id = add_token(t, cat.buf, cat.len);
        if (nm == capm) {
            capm = capm ? capm * 2 : 1024;
            ml = realloc(ml, capm * sizeof *ml);
            if (!ml) abort();
        }
        ml[nm++] = (qbpe_merge){ a, b, id, (uint64_t)cur };
        t->stamp++;
        /* the pair's word list may grow while we walk it (a == b cases
         * re-add nothing to this pair, but be safe): iterate a copy */
        occlist words = t->pocc[p];
        memset(&t->pocc[p], 0, sizeof t->pocc[p]);
        for (uint32_t k = 0; k < words.n; k++) {
            uint32_t w = words.v[k];
            if (t->wstamp[w] == t->stamp) continue;
            t->wstamp[w] = t->stamp;
            merge_word(t, w, a, b, id);
        }
        free(words.v);
        t->pcount[p] = 0;
        for (size_t k = 0; k < t->n_touched; k++) {
            uint32_t q = t->touched[k];
            if (t->pcount[q] > 0) heap_push(t, (uint64_t)t->pcount[q], t->pkey[q]);
        }
        t->n_touched = 0;
        if (o->progress && nm % 1000 == 0) o->progress(o->progress_ctx, t->n_tok, target);
    }
    sb_free(&cat);
    /* the vocabulary: tokens, then special tokens */
    for (uint32_t id = 0; id < t->n_tok; id++)
        qvocab_add(out, id, t->tbytes.buf + t->toff[id], t->tlen[id], 0);
    for (size_t i = 0; i < o->n_specials; i++)
        if (qvocab_add(out, (uint32_t)(t->n_tok + i), o->specials[i], strlen(o->specials[i]), 1) < 0) {
            snprintf(err, errlen, "special token %s given twice", o->specials[i]);
            trainer_free(t);
            free(ml);
            return -1;
        }
    qvocab_set_pattern(out, o->pattern ? o->pattern : QPRETOK_GPT2);
    qvocab_set_name(out, o->name ? o->name : "bpe");
    qvocab_default_eot(out);
    trainer_free(t);
    if (merges) *merges = ml;
    else free(ml);
    if (n_merges) *n_merges = nm;
    return 0;
}
