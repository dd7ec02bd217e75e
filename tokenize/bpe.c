/* bpe.c - tiktoken-compatible byte-level BPE encoder and decoder. */
#include "bpe.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "../common/utf8.h"
#include "pretok.h"

#define INF_RANK UINT32_MAX

struct qbpe {
    uint64_t serial;            /* tells scratch caches which encoder filled them */
    qvocab v;
    qbmap map;                  /* mergeable tokens only */
    uint32_t byte_rank[256];
    qpretok *pt;
    uint32_t *specials;         /* ids of special tokens, longest text first */
    size_t n_specials;
};

/* Per-thread cache of short pieces that are not tokens themselves (their
 * merge result): real text repeats them (rare words, runs of spaces), and
 * the merge loop is the expensive part of encoding. Direct-mapped, exact
 * (the bytes are compared), tied to one encoder by its serial. */
#define CACHE_SLOTS 8192
#define CACHE_MAXLEN 40
#define CACHE_MAXIDS 12
typedef struct cache_ent {
    uint64_t hash;
    uint32_t len, n;              /* len 0: empty */
    char bytes[CACHE_MAXLEN];
    uint32_t ids[CACHE_MAXIDS];
} cache_ent;

struct qbpe_scratch {
    cache_ent *cache;                     /* CACHE_SLOTS entries, allocated on first use */
    uint64_t cache_serial;
    uint32_t *pos, *rank;                 /* scan: part starts and pair ranks */
    uint32_t *nxt, *prv, *prank;          /* heap: linked list of parts */
    uint8_t *dead;
    uint64_t *heap;                       /* (rank << 32) | part start */
    size_t cap, heap_cap;
    strbuf fixed;                         /* repaired copy of invalid UTF-8 */
    qpretok_scratch *pt;
};

/* ---------------- the byte-string map ---------------- */

uint64_t qbmap_hash(const void *bytes, size_t len) { return XXH3_64bits(bytes, len); }

void qbmap_init(qbmap *m, size_t expected)
{
    size_t cap = 16;
    while (cap < expected * 2) cap <<= 1;
    m->slots = calloc(cap, sizeof *m->slots);
    if (!m->slots) abort();
    m->mask = cap - 1;
    m->n = 0;
}

void qbmap_free(qbmap *m)
{
    free(m->slots);
    memset(m, 0, sizeof *m);
}

static inline uint32_t bmap_find(const qbmap *m, uint64_t h, const void *bytes, size_t len,
                                 const char *base, const uint64_t *off, const uint32_t *lens,
                                 size_t *slot_out)
{
    uint32_t tag = (uint32_t)(h >> 32);
    size_t i = (size_t)h & m->mask;
    for (;;) {
        uint64_t s = m->slots[i];
        if (!s) {
            if (slot_out) *slot_out = i;
            return QVOCAB_NONE;
        }
        if ((uint32_t)(s >> 32) == tag) {
            uint32_t id = (uint32_t)s - 1;
            if (lens[id] == len && !memcmp(base + off[id], bytes, len)) return id;
        }
        i = (i + 1) & m->mask;
    }
}

uint32_t qbmap_get(const qbmap *m, const void *bytes, size_t len, const char *base,
                   const uint64_t *off, const uint32_t *lens)
{
    return bmap_find(m, qbmap_hash(bytes, len), bytes, len, base, off, lens, NULL);
}

uint32_t qbmap_put(qbmap *m, const void *bytes, size_t len, uint32_t id, const char *base,
                   const uint64_t *off, const uint32_t *lens)
{
    if ((m->n + 1) * 2 > m->mask + 1) {
        /* grow: rehash every stored id from its bytes */
        size_t cap = (m->mask + 1) * 2;
        uint64_t *old = m->slots;
        size_t old_cap = m->mask + 1;
        m->slots = calloc(cap, sizeof *m->slots);
        if (!m->slots) abort();
        m->mask = cap - 1;
        for (size_t i = 0; i < old_cap; i++) {
            if (!old[i]) continue;
            uint32_t oid = (uint32_t)old[i] - 1;
            uint64_t h = qbmap_hash(base + off[oid], lens[oid]);
            size_t j = (size_t)h & m->mask;
            while (m->slots[j]) j = (j + 1) & m->mask;
            m->slots[j] = old[i];
        }
        free(old);
    }
    uint64_t h = qbmap_hash(bytes, len);
    size_t slot = 0;
    uint32_t found = bmap_find(m, h, bytes, len, base, off, lens, &slot);
    if (found != QVOCAB_NONE) return found;
    m->slots[slot] = ((h >> 32) << 32) | ((uint64_t)id + 1);
    m->n++;
    return id;
}

/* ---------------- ids ---------------- */

void qbpe_ids_push(qbpe_ids *ids, uint32_t id)
{
    if (ids->n == ids->cap) {
        ids->cap = ids->cap ? ids->cap * 2 : 256;
        ids->v = realloc(ids->v, ids->cap * sizeof *ids->v);
        if (!ids->v) abort();
    }
    ids->v[ids->n++] = id;
}

void qbpe_ids_free(qbpe_ids *ids)
{
    free(ids->v);
    memset(ids, 0, sizeof *ids);
}

/* ---------------- construction ---------------- */

static int cmp_special_len(const void *a, const void *b, void *ctx)
{
    const qvocab *v = ctx;
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    if (v->len[x] != v->len[y]) return v->len[x] > v->len[y] ? -1 : 1;
    return x < y ? -1 : x > y;
}

static uint64_t next_serial;

qbpe *qbpe_new(qvocab *v, char *err, size_t errlen)
{
    qbpe *b = calloc(1, sizeof *b);
    b->serial = __atomic_add_fetch(&next_serial, 1, __ATOMIC_RELAXED);
    b->v = *v;
    qvocab_init(v);
    qvocab *V = &b->v;
    if (!V->pattern) {
        snprintf(err, errlen, "vocabulary has no split pattern");
        goto fail;
    }
    b->pt = qpretok_new(V->pattern, err, errlen);
    if (!b->pt) goto fail;
    qbmap_init(&b->map, V->n_ids);
    for (uint32_t id = 0; id < V->n_ids; id++) {
        if (!qvocab_has(V, id)) continue;
        if (V->special[id]) {
            b->specials = realloc(b->specials, (b->n_specials + 1) * sizeof *b->specials);
            b->specials[b->n_specials++] = id;
            continue;
        }
        const char *bytes = V->bytes.buf + V->off[id];
        uint32_t prev = qbmap_put(&b->map, bytes, V->len[id], id, V->bytes.buf, V->off, V->len);
        if (prev != id) {
            snprintf(err, errlen, "tokens %u and %u have the same bytes", prev, id);
            goto fail;
        }
    }
    for (int c = 0; c < 256; c++) {
        unsigned char byte = (unsigned char)c;
        b->byte_rank[c] = qbmap_get(&b->map, &byte, 1, V->bytes.buf, V->off, V->len);
        if (b->byte_rank[c] == QVOCAB_NONE) {
            snprintf(err, errlen, "vocabulary has no token for byte 0x%02x (not byte-level BPE)", c);
            goto fail;
        }
    }
    if (b->n_specials)
        qsort_r(b->specials, b->n_specials, sizeof *b->specials, cmp_special_len, V);
    return b;
fail:
    qbpe_free(b);
    return NULL;
}

void qbpe_free(qbpe *b)
{
    if (!b) return;
    qvocab_free(&b->v);
    qbmap_free(&b->map);
    qpretok_free(b->pt);
    free(b->specials);
    free(b);
}

const qvocab *qbpe_vocab(const qbpe *b) { return &b->v; }

static inline uint32_t rank_of(const qbpe *b, const char *p, size_t len)
{
    if (len == 1) return b->byte_rank[(unsigned char)p[0]];
    return bmap_find(&b->map, qbmap_hash(p, len), p, len, b->v.bytes.buf, b->v.off, b->v.len,
                     NULL);
}

uint32_t qbpe_rank(const qbpe *b, const void *bytes, size_t len)
{
    if (!len) return QVOCAB_NONE;
    return rank_of(b, bytes, len);
}

/* ---------------- scratch ---------------- */

qbpe_scratch *qbpe_scratch_new(void)
{
    qbpe_scratch *s = calloc(1, sizeof *s);
    s->pt = qpretok_scratch_new();
    return s;
}

void qbpe_scratch_free(qbpe_scratch *s)
{
    if (!s) return;
    free(s->pos);
    free(s->rank);
    free(s->nxt);
    free(s->prv);
    free(s->prank);
    free(s->dead);
    free(s->heap);
    free(s->cache);
    sb_free(&s->fixed);
    qpretok_scratch_free(s->pt);
    free(s);
}

static void scratch_reserve(qbpe_scratch *s, size_t n, int heap)
{
    if (n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 256;
        while (cap < n + 1) cap *= 2;
        s->pos = realloc(s->pos, cap * sizeof *s->pos);
        s->rank = realloc(s->rank, cap * sizeof *s->rank);
        free(s->nxt); free(s->prv); free(s->prank); free(s->dead);
        s->nxt = s->prv = s->prank = NULL;
        s->dead = NULL;
        if (!s->pos || !s->rank) abort();
        s->cap = cap;
    }
    if (heap && !s->nxt) {
        s->nxt = malloc(s->cap * sizeof *s->nxt);
        s->prv = malloc(s->cap * sizeof *s->prv);
        s->prank = malloc(s->cap * sizeof *s->prank);
        s->dead = malloc(s->cap);
        if (!s->nxt || !s->prv || !s->prank || !s->dead) abort();
    }
}

/* ---------------- merging one piece ---------------- */

/* tiktoken's scan: find the lowest pair rank (leftmost on ties), merge,
 * refresh the two neighbouring pair ranks. O(n^2) but tiny n. */
static void merge_scan(const qbpe *b, qbpe_scratch *s, const char *p, size_t len,
                       uint32_t max_rank, qbpe_ids *out)
{
    uint32_t *pos = s->pos, *rank = s->rank;
    size_t k = len;   /* number of parts */
    for (size_t i = 0; i < len; i++) pos[i] = (uint32_t)i;
    pos[len] = (uint32_t)len;
    for (size_t i = 0; i + 1 < k; i++) {
        uint32_t r = rank_of(b, p + i, 2);
        rank[i] = r < max_rank ? r : INF_RANK;
    }
    rank[k - 1] = INF_RANK;
    for (;;) {
        uint32_t best = INF_RANK;
        size_t bi = 0;
        for (size_t i = 0; i + 1 < k; i++)
            if (rank[i] < best) { best = rank[i]; bi = i; }
        if (best == INF_RANK) break;
        /* merge part bi with bi+1 */
        memmove(pos + bi + 1, pos + bi + 2, (k - bi - 1) * sizeof *pos);
        memmove(rank + bi + 1, rank + bi + 2, (k - bi - 2) * sizeof *rank);
        k--;
        if (bi + 1 < k) {
            uint32_t r = rank_of(b, p + pos[bi], pos[bi + 2] - pos[bi]);
            rank[bi] = r < max_rank ? r : INF_RANK;
        } else {
            rank[bi] = INF_RANK;
        }
        if (bi > 0) {
            uint32_t r = rank_of(b, p + pos[bi - 1], pos[bi + 1] - pos[bi - 1]);
            rank[bi - 1] = r < max_rank ? r : INF_RANK;
        }
    }
    for (size_t i = 0; i < k; i++) qbpe_ids_push(out, rank_of(b, p + pos[i], pos[i + 1] - pos[i]));
}

/* A 4-ary min-heap: half the depth of a binary one, and the four children
 * share a cache line; this is what the 10 MB single-character pieces cost. */
static void heap_push(qbpe_scratch *s, size_t *n, uint64_t x)
{
    if (*n == s->heap_cap) {
        s->heap_cap = s->heap_cap ? s->heap_cap * 2 : 1024;
        s->heap = realloc(s->heap, s->heap_cap * sizeof *s->heap);
        if (!s->heap) abort();
    }
    uint64_t *h = s->heap;
    size_t i = (*n)++;
    while (i > 0) {
        size_t parent = (i - 1) / 4;
        if (h[parent] <= x) break;
        h[i] = h[parent];
        i = parent;
    }
    h[i] = x;
}

static uint64_t heap_pop(qbpe_scratch *s, size_t *n)
{
    uint64_t *h = s->heap;
    uint64_t top = h[0], x = h[--(*n)];
    size_t i = 0, m = *n;
    for (;;) {
        size_t c = 4 * i + 1;
        if (c >= m) break;
        size_t best = c;
        size_t end = c + 4 < m ? c + 4 : m;
        for (size_t k = c + 1; k < end; k++)
            if (h[k] < h[best]) best = k;
        if (h[best] >= x) break;
        h[i] = h[best];
        i = best;
    }
    if (m) h[i] = x;
    return top;
}

/* Long pieces: a min-heap of (rank, start) pairs over a linked list of parts.
 * A popped entry is stale if its part has been merged away or the pair rank
 * at that start has changed; (rank, start) order gives lowest rank, then
 * leftmost, exactly as the scan does. */
static void merge_heap(const qbpe *b, qbpe_scratch *s, const char *p, size_t len,
                       uint32_t max_rank, qbpe_ids *out)
{
    uint32_t *nxt = s->nxt, *prv = s->prv, *prank = s->prank;
    uint8_t *dead = s->dead;
    size_t hn = 0;
    for (size_t i = 0; i < len; i++) {
        nxt[i] = (uint32_t)(i + 1);
        prv[i] = (uint32_t)i - 1;
        dead[i] = 0;
        uint32_t r = i + 1 < len ? rank_of(b, p + i, 2) : INF_RANK;
        prank[i] = r < max_rank ? r : INF_RANK;
        if (prank[i] != INF_RANK) heap_push(s, &hn, ((uint64_t)prank[i] << 32) | i);
    }
    while (hn) {
        uint64_t e = heap_pop(s, &hn);
        uint32_t r = (uint32_t)(e >> 32), a = (uint32_t)e;
        if (dead[a] || prank[a] != r) continue;
        uint32_t t = nxt[a], u = nxt[t];
        dead[t] = 1;
        nxt[a] = u;
        if (u < len) prv[u] = a;
        uint32_t nr = INF_RANK;
        if (u < len) {
            nr = rank_of(b, p + a, nxt[u] - a);
            if (nr >= max_rank) nr = INF_RANK;
        }
        prank[a] = nr;
        if (nr != INF_RANK) heap_push(s, &hn, ((uint64_t)nr << 32) | a);
        if (a > 0) {
            uint32_t q = prv[a];
            uint32_t qr = rank_of(b, p + q, u - q);
            if (qr >= max_rank) qr = INF_RANK;
            prank[q] = qr;
            if (qr != INF_RANK) heap_push(s, &hn, ((uint64_t)qr << 32) | q);
        }
    }
    for (uint32_t a = 0; a < len; a = nxt[a]) qbpe_ids_push(out, rank_of(b, p + a, nxt[a] - a));
}

static void merge_piece(const qbpe *b, qbpe_scratch *s, const char *piece, size_t len, uint32_t max_rank,
                        qbpe_ids *out)
{
    if (len <= QBPE_SCAN_MAX) {
        scratch_reserve(s, len, 0);
        merge_scan(b, s, piece, len, max_rank, out);
    } else {
        if (len >= UINT32_MAX) abort();   /* documents are capped far below 4 GiB */
        scratch_reserve(s, len, 1);
        merge_heap(b, s, piece, len, max_rank, out);
    }
}

void qbpe_encode_piece_max(const qbpe *b, qbpe_scratch *s, const char *piece, size_t len,
                           uint32_t max_rank, qbpe_ids *out)
{
    if (!len) return;
    if (len == 1) {
        qbpe_ids_push(out, b->byte_rank[(unsigned char)piece[0]]);
        return;
    }
    uint64_t h = qbmap_hash(piece, len);
    uint32_t whole = bmap_find(&b->map, h, piece, len, b->v.bytes.buf, b->v.off, b->v.len, NULL);
    if (whole != QVOCAB_NONE && whole < max_rank) {
        qbpe_ids_push(out, whole);
        return;
    }
    if (max_rank != INF_RANK || len > CACHE_MAXLEN) {
        merge_piece(b, s, piece, len, max_rank, out);
        return;
    }
    if (!s->cache || s->cache_serial != b->serial) {
        if (!s->cache) s->cache = malloc(CACHE_SLOTS * sizeof *s->cache);
        if (!s->cache) abort();
        for (size_t i = 0; i < CACHE_SLOTS; i++) s->cache[i].len = 0;
        s->cache_serial = b->serial;
    }
    cache_ent *e = &s->cache[(h >> 20) & (CACHE_SLOTS - 1)];
    if (e->len == len && e->hash == h && !memcmp(e->bytes, piece, len)) {
        for (uint32_t i = 0; i < e->n; i++) qbpe_ids_push(out, e->ids[i]);
        return;
    }
    size_t first = out->n;
    merge_piece(b, s, piece, len, INF_RANK, out);
    size_t n = out->n - first;
    if (n <= CACHE_MAXIDS) {
        e->hash = h;
        e->len = (uint32_t)len;
        e->n = (uint32_t)n;
        memcpy(e->bytes, piece, len);
        memcpy(e->ids, out->v + first, n * sizeof *e->ids);
    }
}

void qbpe_encode_piece(const qbpe *b, qbpe_scratch *s, const char *piece, size_t len,
                       qbpe_ids *out)
{
    qbpe_encode_piece_max(b, s, piece, len, INF_RANK, out);
}

/* ---------------- whole texts ---------------- */

static int encode_ordinary(const qbpe *b, qbpe_scratch *s, const char *t, size_t n, qbpe_ids *out)
{
    size_t pos = 0, st, en;
    int rc;
    qpretok_prepare(b->pt, s->pt, t, n);
    while ((rc = qpretok_next(b->pt, s->pt, t, n, pos, &st, &en)) == 1) {
        qbpe_encode_piece(b, s, t + st, en - st, out);
        pos = en;
    }
    return rc < 0 ? -1 : 0;
}

/* Text with special tokens allowed: cut at each special, encode the text
 * between as ordinary text. next[i] remembers where special i occurs next,
 * so each occurrence is searched for once (linear in the text for a fixed
 * set of specials); the earliest wins, the longest on a tie. */
static int encode_with_specials(const qbpe *b, qbpe_scratch *s, const char *t, size_t n, qbpe_ids *out)
{
    size_t k = b->n_specials, pos = 0;
    size_t *next = malloc(k * sizeof *next);
    if (!next) abort();
    for (size_t i = 0; i < k; i++) next[i] = SIZE_MAX;   /* not searched yet */
    int rc = 0;
    while (pos < n && rc == 0) {
        size_t best = n;
        uint32_t best_id = QVOCAB_NONE;
        for (size_t i = 0; i < k; i++) {   /* specials are sorted longest first */
            uint32_t sid = b->specials[i];
            size_t sl = b->v.len[sid];
            if (next[i] == SIZE_MAX || (next[i] < n && next[i] < pos)) {
                const char *hit = sl && sl <= n - pos
                                      ? memmem(t + pos, n - pos, b->v.bytes.buf + b->v.off[sid], sl)
                                      : NULL;
                next[i] = hit ? (size_t)(hit - t) : n;
            }
            if (next[i] < best) {
                best = next[i];
                best_id = sid;
            }
        }
        if (best_id == QVOCAB_NONE) {
            rc = encode_ordinary(b, s, t + pos, n - pos, out);
            break;
        }
        rc = encode_ordinary(b, s, t + pos, best - pos, out);
        qbpe_ids_push(out, best_id);
        pos = best + b->v.len[best_id];
    }
    free(next);
    return rc;
}

int qbpe_encode(const qbpe *b, qbpe_scratch *s, const char *text, size_t len, int allow_special,
                qbpe_ids *out, size_t *repairs)
{
    size_t valid = utf8_valid_prefix(text, len);
    if (valid != len) {
        sb_reset(&s->fixed);
        size_t r = utf8_repair(&s->fixed, text, len);
        if (repairs) *repairs += r;
        text = s->fixed.buf;
        len = s->fixed.len;
    }
    if (!allow_special || !b->n_specials) return encode_ordinary(b, s, text, len, out);
    return encode_with_specials(b, s, text, len, out);
}

size_t qbpe_decode(const qbpe *b, const uint32_t *ids, size_t n, strbuf *out)
{
    size_t unknown = 0;
    for (size_t i = 0; i < n; i++) {
        size_t l;
        const char *p = qvocab_bytes(&b->v, ids[i], &l);
        if (!p) { unknown++; continue; }
        sb_add(out, p, l);
    }
    return unknown;
}

int qbpe_merge_of(const qbpe *b, qbpe_scratch *s, uint32_t id, uint32_t *left, uint32_t *right)
{
    if (!qvocab_has(&b->v, id) || b->v.special[id] || b->v.len[id] < 2) return 0;
    qbpe_ids parts = { 0 };
    qbpe_encode_piece_max(b, s, b->v.bytes.buf + b->v.off[id], b->v.len[id], id, &parts);
    int ok = parts.n == 2;
    if (ok) {
        *left = parts.v[0];
        *right = parts.v[1];
    }
    qbpe_ids_free(&parts);
    return ok;
}
