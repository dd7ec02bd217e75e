/* tables.c - the tables dedup keeps in memory: the per-band bucket index and
 * the 128-bit exact-key map (sorted runs plus a small delta hash table, for
 * an exact 12 or 20 bytes per key), a u64 -> u64 map, and sparse union-find.
 *
 * The hash tables are open addressing with linear probing over power-of-two
 * arrays (the map at most 80% full, the deltas at most half), because the
 * keys are (or are mixed into) uniform hashes and a probe then mostly stays in
 * one cache line. The all-zero key marks an empty slot; a real zero key is
 * kept aside. */
#include <stdlib.h>
#include <string.h>

#include "dedup.h"

#define LOAD_NUM 4
#define LOAD_DEN 5   /* grow beyond 0.8 */

/* A bijection on 64-bit words (xorshift, odd multiply, xorshift): mixes
 * structured keys, maps 0 to 0 and nothing else to 0. */
static inline uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return x;
}

static void *xcalloc(size_t n, size_t sz)
{
    void *p = calloc(n ? n : 1, sz);
    if (!p) abort();
    return p;
}

static size_t grown_cap(size_t cap, size_t count)
{
    if (cap == 0) cap = 1024;
    while (count * LOAD_DEN > cap * LOAD_NUM) cap *= 2;
    return cap;
}

/* ================= band index =================
 *
 * Per band, a sorted run plus a small hash table of recent keys, because a
 * plain hash table costs 12 bytes / load factor per key and doubles in steps
 * (15-30 bytes per key per band), while the run costs exactly 12 bytes (8 key
 * + 4 representative). New keys go to the delta table; when it holds 1/16 of
 * the run, it is sorted and merged into a new run (amortised 16 moves per key,
 * and only one band's run is ever held twice, during its merge). A directory
 * of the top bits of the keys (one 4-byte offset per 8 keys: the keys are
 * uniform hashes) leaves a lookup a search of about 8 keys, one cache line. */
typedef struct band_table {
    uint64_t *keys;           /* run, sorted */
    uint32_t *vals;
    size_t n;
    uint32_t *dir;            /* 2^dir_bits + 1 offsets into the run */
    unsigned dir_bits;
    uint64_t *dkeys;          /* delta: open addressing, at most half full, */
    uint32_t *dvals;          /* home slot = the key's top bits, so a scan of */
    size_t dcap, dn;          /* the slots is nearly in key order */
    unsigned dbits;
    int has_zero;
    uint32_t zero_val;
} band_table;

struct dd_bandidx {
    unsigned bands;
    band_table *t;
};

#define DELTA_MIN 1024

static size_t delta_cap_for(size_t run)
{
    size_t c = DELTA_MIN;
    while (c < run / 8) c *= 2;   /* merged at half full: about run / 16 keys */
    return c;
}

dd_bandidx *dd_bandidx_new(unsigned bands)
{
    dd_bandidx *x = xcalloc(1, sizeof *x);
    x->bands = bands;
    x->t = xcalloc(bands, sizeof *x->t);
    return x;
}

void dd_bandidx_free(dd_bandidx *x)
{
    if (!x) return;
    for (unsigned j = 0; j < x->bands; j++) {
        free(x->t[j].keys);
        free(x->t[j].vals);
        free(x->t[j].dir);
        free(x->t[j].dkeys);
        free(x->t[j].dvals);
    }
    free(x->t);
    free(x);
}

typedef struct kv { uint64_t k; uint32_t v; } kv;

static unsigned log2_exact(size_t pow2)
{
    unsigned b = 0;
    while (((size_t)1 << b) < pow2) b++;
    return b;
}

static inline size_t delta_home(const band_table *t, uint64_t key)
{
    return (size_t)(key >> (64 - t->dbits));
}

/* The delta's slots hold keys by their top bits, so scanning them gives an
 * almost sorted sequence (runs displaced by a few slots, and a few keys that
 * wrapped around the end): insertion sort finishes it in about linear time. */
static void insertion_sort(kv *d, size_t m)
{
    for (size_t i = 1; i < m; i++) {
        kv x = d[i];
        size_t j = i;
        while (j > 0 && d[j - 1].k > x.k) {
            d[j] = d[j - 1];
            j--;
        }
        d[j] = x;
    }
}

static void build_dir(band_table *t)
{
    unsigned bits = 0;
    while (bits < 40 && ((size_t)8 << bits) < t->n) bits++;   /* about 8 keys per entry */
    free(t->dir);
    t->dir_bits = bits;
    size_t nd = (size_t)1 << bits;
    t->dir = xcalloc(nd + 1, sizeof *t->dir);
    size_t i = 0;
    for (size_t b = 0; b < nd; b++) {
        while (i < t->n && (bits ? t->keys[i] >> (64 - bits) : 0) < b) i++;
        t->dir[b] = (uint32_t)i;
    }
    t->dir[nd] = (uint32_t)t->n;
}

/* Sort the delta's keys and merge them into a new run. */
static void band_merge(band_table *t)
{
    kv *d = malloc((t->dn ? t->dn : 1) * sizeof *d);
    if (!d) abort();
    size_t m = 0;
    for (size_t i = 0; i < t->dcap; i++)
        if (t->dkeys[i]) d[m++] = (kv){ t->dkeys[i], t->dvals[i] };
    insertion_sort(d, m);
    size_t n = t->n + m;
    uint64_t *keys = malloc(n * sizeof *keys);
    uint32_t *vals = malloc(n * sizeof *vals);
    if (!keys || !vals) abort();
    size_t i = 0, j = 0, o = 0;
    while (i < t->n || j < m) {
        if (j == m || (i < t->n && t->keys[i] < d[j].k)) {
            keys[o] = t->keys[i];
            vals[o++] = t->vals[i++];
        } else {
            keys[o] = d[j].k;
            vals[o++] = d[j++].v;
        }
    }
    free(d);
    free(t->keys);
    free(t->vals);
    t->keys = keys;
    t->vals = vals;
    t->n = n;
    build_dir(t);
    size_t cap = delta_cap_for(n);
    if (cap != t->dcap) {
        free(t->dkeys);
        free(t->dvals);
        t->dkeys = xcalloc(cap, sizeof *t->dkeys);
        t->dvals = xcalloc(cap, sizeof *t->dvals);
        t->dcap = cap;
        t->dbits = log2_exact(cap);
    } else {
        memset(t->dkeys, 0, cap * sizeof *t->dkeys);
    }
    t->dn = 0;
}

static uint32_t run_find(const band_table *t, uint64_t key)
{
    if (!t->n) return UINT32_MAX;
    size_t b = t->dir_bits ? key >> (64 - t->dir_bits) : 0;
    size_t lo = t->dir[b], hi = t->dir[b + 1];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->keys[mid] < key) lo = mid + 1;
        else hi = mid;
    }
    return lo < t->n && t->keys[lo] == key ? t->vals[lo] : UINT32_MAX;
}

/* Returns the representative, or UINT32_MAX after inserting doc (if insert). */
static uint32_t band_probe(band_table *t, uint64_t key, uint32_t doc, int insert)
{
    if (key == 0) {
        if (t->has_zero) return t->zero_val;
        if (insert) { t->has_zero = 1; t->zero_val = doc; }
        return UINT32_MAX;
    }
    uint32_t r = run_find(t, key);
    if (r != UINT32_MAX) return r;
    if (!t->dcap) {
        t->dcap = DELTA_MIN;
        t->dbits = log2_exact(DELTA_MIN);
        t->dkeys = xcalloc(t->dcap, sizeof *t->dkeys);
        t->dvals = xcalloc(t->dcap, sizeof *t->dvals);
    }
    size_t mask = t->dcap - 1, s = delta_home(t, key);
    for (;;) {
        uint64_t k = t->dkeys[s];
        if (k == key) return t->dvals[s];
        if (!k) break;
        s = (s + 1) & mask;
    }
    if (insert) {
        t->dkeys[s] = key;
        t->dvals[s] = doc;
        if (++t->dn * 2 >= t->dcap) band_merge(t);
    }
    return UINT32_MAX;
}

unsigned dd_bandidx_probe(dd_bandidx *x, const uint64_t *keys, uint32_t doc, int insert,
                          uint32_t *reps)
{
    /* Every band's lookup is a few cache misses in a different table: start
     * all the loads first (directory entries, delta slots), then search. */
    /* Tables hold mix64(key), a bijection (0 stays 0) that makes even
     * structured keys uniform in their top bits, which place them. */
    uint64_t mk[DD_MAX_HASHES];
    for (unsigned j = 0; j < x->bands; j++) {
        const band_table *t = &x->t[j];
        mk[j] = mix64(keys[j]);
        if (t->n) __builtin_prefetch(&t->dir[t->dir_bits ? mk[j] >> (64 - t->dir_bits) : 0]);
        if (t->dcap) __builtin_prefetch(&t->dkeys[delta_home(t, mk[j])]);
    }
    for (unsigned j = 0; j < x->bands; j++) {
        const band_table *t = &x->t[j];
        if (!t->n) continue;
        size_t b = t->dir_bits ? mk[j] >> (64 - t->dir_bits) : 0;
        size_t lo = t->dir[b], hi = t->dir[b + 1];
        __builtin_prefetch(&t->keys[lo + (hi - lo) / 2]);
    }
    unsigned found = 0;
    for (unsigned j = 0; j < x->bands; j++) {
        reps[j] = band_probe(&x->t[j], mk[j], doc, insert);
        found += reps[j] != UINT32_MAX;
    }
    return found;
}

static size_t run_bytes(size_t n)
{
    unsigned bits = 0;
    while (bits < 40 && ((size_t)8 << bits) < n) bits++;
    return n * (sizeof(uint64_t) + sizeof(uint32_t)) + (((size_t)1 << bits) + 1) * sizeof(uint32_t);
}

size_t dd_bandidx_bytes_after(const dd_bandidx *x, size_t more)
{
    size_t total = 0, transient = 0;
    for (unsigned j = 0; j < x->bands; j++) {
        const band_table *t = &x->t[j];
        /* worst case: all `more` keys are new */
        size_t n = t->n + t->dn + more;
        size_t dcap = t->dcap ? t->dcap : DELTA_MIN;
        int merging = t->dn + more >= dcap / 2;
        if (merging) dcap = delta_cap_for(n);
        total += run_bytes(n) + dcap * (sizeof(uint64_t) + sizeof(uint32_t));
        /* a merge holds the band's old run beside the new one; bands merge
         * one after another */
        if (merging && run_bytes(t->n) > transient) transient = run_bytes(t->n);
    }
    return total + transient;
}

size_t dd_bandidx_bytes(const dd_bandidx *x)
{
    size_t total = 0;
    for (unsigned j = 0; j < x->bands; j++) {
        const band_table *t = &x->t[j];
        total += run_bytes(t->n) + t->dcap * (sizeof(uint64_t) + sizeof(uint32_t));
    }
    return total;
}

/* ================= 128-bit key map (exact dedup) =================
 *
 * The same layout as a band: a sorted run of (mix64(hi), lo) -> first
 * document (20 bytes per key), a directory on the top bits, and a delta hash
 * table merged into the run at 1/16 of its size. */
typedef struct k128v { uint64_t hi, lo; uint32_t v; } k128v;

struct dd_keyset128 {
    uint64_t *hi, *lo;        /* run, sorted by (hi, lo); hi is mix64(key.hi) */
    uint32_t *vals;
    size_t n;
    uint32_t *dir;
    unsigned dir_bits;
    uint64_t *dhi, *dlo;      /* delta: home slot = top bits of hi; (0,0) = empty */
    uint32_t *dvals;
    size_t dcap, dn;
    unsigned dbits;
    int has_zero;
    uint32_t zero_val;
};

dd_keyset128 *dd_keyset128_new(void) { return xcalloc(1, sizeof(dd_keyset128)); }

void dd_keyset128_free(dd_keyset128 *s)
{
    if (!s) return;
    free(s->hi);
    free(s->lo);
    free(s->vals);
    free(s->dir);
    free(s->dhi);
    free(s->dlo);
    free(s->dvals);
    free(s);
}

static int k128_less(uint64_t ah, uint64_t al, uint64_t bh, uint64_t bl)
{
    return ah < bh || (ah == bh && al < bl);
}

static void keyset_dir(dd_keyset128 *s)
{
    unsigned bits = 0;
    while (bits < 40 && ((size_t)8 << bits) < s->n) bits++;
    free(s->dir);
    s->dir_bits = bits;
    size_t nd = (size_t)1 << bits, i = 0;
    s->dir = xcalloc(nd + 1, sizeof *s->dir);
    for (size_t b = 0; b < nd; b++) {
        while (i < s->n && (bits ? s->hi[i] >> (64 - bits) : 0) < b) i++;
        s->dir[b] = (uint32_t)i;
    }
    s->dir[nd] = (uint32_t)s->n;
}

static void keyset_delta_alloc(dd_keyset128 *s, size_t cap)
{
    free(s->dhi);
    free(s->dlo);
    free(s->dvals);
    s->dhi = xcalloc(cap, sizeof *s->dhi);
    s->dlo = xcalloc(cap, sizeof *s->dlo);
    s->dvals = xcalloc(cap, sizeof *s->dvals);
    s->dcap = cap;
    s->dbits = log2_exact(cap);
    s->dn = 0;
}

static void keyset_merge(dd_keyset128 *s)
{
    k128v *d = malloc((s->dn ? s->dn : 1) * sizeof *d);
    if (!d) abort();
    size_t m = 0;
    for (size_t i = 0; i < s->dcap; i++)
        if (s->dhi[i] | s->dlo[i]) d[m++] = (k128v){ s->dhi[i], s->dlo[i], s->dvals[i] };
    for (size_t i = 1; i < m; i++) {   /* nearly sorted already: see insertion_sort */
        k128v x = d[i];
        size_t j = i;
        while (j > 0 && k128_less(x.hi, x.lo, d[j - 1].hi, d[j - 1].lo)) {
            d[j] = d[j - 1];
            j--;
        }
        d[j] = x;
    }
    size_t n = s->n + m;
    uint64_t *hi = malloc(n * sizeof *hi), *lo = malloc(n * sizeof *lo);
    uint32_t *vals = malloc(n * sizeof *vals);
    if (!hi || !lo || !vals) abort();
    size_t i = 0, j = 0, o = 0;
    while (i < s->n || j < m) {
        if (j == m || (i < s->n && k128_less(s->hi[i], s->lo[i], d[j].hi, d[j].lo))) {
            hi[o] = s->hi[i]; lo[o] = s->lo[i]; vals[o++] = s->vals[i++];
        } else {
            hi[o] = d[j].hi; lo[o] = d[j].lo; vals[o++] = d[j++].v;
        }
    }
    free(d);
    free(s->hi);
    free(s->lo);
    free(s->vals);
    s->hi = hi;
    s->lo = lo;
    s->vals = vals;
    s->n = n;
    keyset_dir(s);
    size_t cap = delta_cap_for(n);
    if (cap != s->dcap) {
        keyset_delta_alloc(s, cap);
    } else {
        memset(s->dhi, 0, cap * sizeof *s->dhi);
        memset(s->dlo, 0, cap * sizeof *s->dlo);
        s->dn = 0;
    }
}

int dd_keyset128_insert(dd_keyset128 *s, dd_key128 k, uint32_t val, uint32_t *first)
{
    if (!(k.hi | k.lo)) {
        if (s->has_zero) {
            if (first) *first = s->zero_val;
            return 1;
        }
        s->has_zero = 1;
        s->zero_val = val;
        return 0;
    }
    uint64_t h = mix64(k.hi), l = k.lo;
    if (s->n) {
        size_t b = s->dir_bits ? h >> (64 - s->dir_bits) : 0;
        size_t lo = s->dir[b], hi = s->dir[b + 1];
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (k128_less(s->hi[mid], s->lo[mid], h, l)) lo = mid + 1;
            else hi = mid;
        }
        if (lo < s->n && s->hi[lo] == h && s->lo[lo] == l) {
            if (first) *first = s->vals[lo];
            return 1;
        }
    }
    if (!s->dcap) keyset_delta_alloc(s, DELTA_MIN);
    size_t mask = s->dcap - 1, j = (size_t)(h >> (64 - s->dbits));
    for (;;) {
        if (s->dhi[j] == h && s->dlo[j] == l) {
            if (first) *first = s->dvals[j];
            return 1;
        }
        if (!(s->dhi[j] | s->dlo[j])) break;
        j = (j + 1) & mask;
    }
    s->dhi[j] = h;
    s->dlo[j] = l;
    s->dvals[j] = val;
    if (++s->dn * 2 >= s->dcap) keyset_merge(s);
    return 0;
}

static size_t keyset_run_bytes(size_t n)
{
    unsigned bits = 0;
    while (bits < 40 && ((size_t)8 << bits) < n) bits++;
    return n * (2 * sizeof(uint64_t) + sizeof(uint32_t)) + (((size_t)1 << bits) + 1) * sizeof(uint32_t);
}

size_t dd_keyset128_bytes_after(const dd_keyset128 *s, size_t more)
{
    size_t n = s->n + s->dn + more;
    size_t dcap = s->dcap ? s->dcap : DELTA_MIN;
    int merging = s->dn + more >= dcap / 2;
    if (merging) dcap = delta_cap_for(n);
    /* a merge holds the old run beside the new one */
    return keyset_run_bytes(n) + (merging ? keyset_run_bytes(s->n) : 0) +
           dcap * (2 * sizeof(uint64_t) + sizeof(uint32_t));
}

size_t dd_keyset128_bytes(const dd_keyset128 *s)
{
    return keyset_run_bytes(s->n) + s->dcap * (2 * sizeof(uint64_t) + sizeof(uint32_t));
}

/* ================= u64 -> u64 map ================= */
struct dd_map {
    uint64_t *keys, *vals;
    size_t cap, count;
    int has_zero;
    uint64_t zero_val;
};

dd_map *dd_map_new(void) { return xcalloc(1, sizeof(dd_map)); }

void dd_map_free(dd_map *m)
{
    if (!m) return;
    free(m->keys);
    free(m->vals);
    free(m);
}

static void map_rehash(dd_map *m, size_t ncap)
{
    uint64_t *ok = m->keys, *ov = m->vals;
    size_t ocap = m->cap;
    m->keys = xcalloc(ncap, sizeof *m->keys);
    m->vals = xcalloc(ncap, sizeof *m->vals);
    m->cap = ncap;
    for (size_t i = 0; i < ocap; i++) {
        if (!ok[i]) continue;
        size_t s = mix64(ok[i]) & (ncap - 1);
        while (m->keys[s]) s = (s + 1) & (ncap - 1);
        m->keys[s] = ok[i];
        m->vals[s] = ov[i];
    }
    free(ok);
    free(ov);
}

uint64_t *dd_map_upsert(dd_map *m, uint64_t key, uint64_t dflt, int *inserted)
{
    if (inserted) *inserted = 0;
    if (key == 0) {
        if (!m->has_zero) {
            m->has_zero = 1;
            m->zero_val = dflt;
            if (inserted) *inserted = 1;
        }
        return &m->zero_val;
    }
    if ((m->count + 1) * LOAD_DEN > m->cap * LOAD_NUM) map_rehash(m, grown_cap(m->cap, m->count + 1));
    size_t mask = m->cap - 1, s = mix64(key) & mask;
    for (;;) {
        if (m->keys[s] == key) return &m->vals[s];
        if (!m->keys[s]) break;
        s = (s + 1) & mask;
    }
    m->keys[s] = key;
    m->vals[s] = dflt;
    m->count++;
    if (inserted) *inserted = 1;
    return &m->vals[s];
}

uint64_t *dd_map_get(const dd_map *m, uint64_t key)
{
    if (key == 0) return m->has_zero ? (uint64_t *)&m->zero_val : NULL;
    if (!m->cap) return NULL;
    size_t mask = m->cap - 1, s = mix64(key) & mask;
    for (;;) {
        if (m->keys[s] == key) return &m->vals[s];
        if (!m->keys[s]) return NULL;
        s = (s + 1) & mask;
    }
}

size_t dd_map_size(const dd_map *m) { return m->count + (size_t)m->has_zero; }
size_t dd_map_bytes(const dd_map *m) { return m->cap * 2 * sizeof(uint64_t); }

/* ================= sparse union-find ================= */
struct dd_uf {
    dd_map *index;      /* ref -> position */
    uint64_t *refs;     /* position -> ref */
    uint32_t *parent;
    uint64_t *minref;   /* valid at roots: the component's smallest ref */
    uint32_t *size;
    size_t n, cap;
};

dd_uf *dd_uf_new(void)
{
    dd_uf *u = xcalloc(1, sizeof *u);
    u->index = dd_map_new();
    return u;
}

void dd_uf_free(dd_uf *u)
{
    if (!u) return;
    dd_map_free(u->index);
    free(u->refs);
    free(u->parent);
    free(u->minref);
    free(u->size);
    free(u);
}

static uint32_t uf_pos(dd_uf *u, uint64_t ref)
{
    int ins;
    uint64_t *p = dd_map_upsert(u->index, ref, u->n, &ins);
    if (!ins) return (uint32_t)*p;
    if (u->n == u->cap) {
        u->cap = u->cap ? 2 * u->cap : 256;
        u->refs = realloc(u->refs, u->cap * sizeof *u->refs);
        u->parent = realloc(u->parent, u->cap * sizeof *u->parent);
        u->minref = realloc(u->minref, u->cap * sizeof *u->minref);
        u->size = realloc(u->size, u->cap * sizeof *u->size);
        if (!u->refs || !u->parent || !u->minref || !u->size) abort();
    }
    uint32_t i = (uint32_t)u->n++;
    u->refs[i] = ref;
    u->parent[i] = i;
    u->minref[i] = ref;
    u->size[i] = 1;
    return i;
}

static uint32_t uf_root(dd_uf *u, uint32_t i)
{
    while (u->parent[i] != i) {
        u->parent[i] = u->parent[u->parent[i]];   /* path halving */
        i = u->parent[i];
    }
    return i;
}

void dd_uf_union(dd_uf *u, uint64_t a, uint64_t b)
{
    uint32_t ra = uf_root(u, uf_pos(u, a)), rb = uf_root(u, uf_pos(u, b));
    if (ra == rb) return;
    if (u->size[ra] < u->size[rb]) { uint32_t t = ra; ra = rb; rb = t; }
    u->parent[rb] = ra;
    u->size[ra] += u->size[rb];
    if (u->minref[rb] < u->minref[ra]) u->minref[ra] = u->minref[rb];
}

uint64_t dd_uf_find(dd_uf *u, uint64_t x)
{
    uint64_t *p = dd_map_get(u->index, x);
    if (!p) return x;
    return u->minref[uf_root(u, (uint32_t)*p)];
}

size_t dd_uf_count(const dd_uf *u) { return u->n; }
uint64_t dd_uf_ref(const dd_uf *u, size_t i) { return u->refs[i]; }

size_t dd_uf_bytes(const dd_uf *u)
{
    return dd_map_bytes(u->index) +
           u->cap * (sizeof *u->refs + sizeof *u->parent + sizeof *u->minref + sizeof *u->size);
}
