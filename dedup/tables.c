/* tables.c - the tables dedup keeps in memory: the per-band bucket index and
 * the 128-bit exact keys (sorted runs plus a small delta hash table: 8 or 16
 * bytes per key as a membership set, 12 or 20 with each key's first
 * document), a u64 -> u64 map, and sparse union-find.
 *
 * The hash tables are open addressing with linear probing over power-of-two
 * arrays (the map at most 80% full, the deltas at most half), because the
 * keys are (or are mixed into) uniform hashes and a probe then mostly stays in
 * one cache line. The all-zero key marks an empty slot; a real zero key is
 * kept aside. */
#include <endian.h>
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
 * plain hash table costs (key + value) / load factor per key and doubles in
 * steps, while a run costs exactly its entries. New keys go to the delta
 * table; when it holds 1/DELTA_FRACTION of the run, it is sorted and merged
 * into a new run (amortised DELTA_FRACTION moves per key, and only one band's
 * run is ever held twice, during its merge). The delta's capacity is a power
 * of two at least 2 x run / DELTA_FRACTION (8-12 bytes a slot: 0.5-1.5 bytes
 * per key).
 *
 * A directory of the keys' top dir_bits bits (a 4-byte offset per 8-16
 * keys: the keys are uniform hashes; 0.25-0.5 byte per key) leaves a lookup
 * a search of at most about 16 keys, one or two cache lines. Since every key
 * of a directory bucket shares those top bits, the run stores only the low
 * bytes that the bucket does not give: 8 - dir_bits / 8 bytes per key (6
 * bytes from 2^18 keys to 2^27, 7 below, 8 under 2^10). A membership index
 * (dd_bandidx_new_set: only "was this key seen") stores nothing else; the
 * full one (dd_bandidx_new) adds each key's 4-byte representative. */
typedef struct band_table {
    uint8_t *rec;             /* run, sorted: n records of rec_w bytes (+ 8 padding) */
    unsigned rec_w;
    uint32_t *vals;           /* NULL in a membership index */
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
    int with_reps;            /* keep each key's representative */
    band_table *t;
};

#define DELTA_MIN 1024
/* The delta is merged when it holds run / DELTA_FRACTION keys: a smaller
 * delta costs less memory per key but more merging (each key is moved about
 * DELTA_FRACTION times). */
#define DELTA_FRACTION 64

static size_t delta_cap_for(size_t run)
{
    size_t c = DELTA_MIN;
    while (c < 2 * run / DELTA_FRACTION) c *= 2;   /* merged at half full */
    return c;
}

static dd_bandidx *bandidx_new(unsigned bands, int with_reps)
{
    dd_bandidx *x = xcalloc(1, sizeof *x);
    x->bands = bands;
    x->with_reps = with_reps;
    x->t = xcalloc(bands, sizeof *x->t);
    return x;
}

dd_bandidx *dd_bandidx_new(unsigned bands) { return bandidx_new(bands, 1); }
dd_bandidx *dd_bandidx_new_set(unsigned bands) { return bandidx_new(bands, 0); }

void dd_bandidx_free(dd_bandidx *x)
{
    if (!x) return;
    for (unsigned j = 0; j < x->bands; j++) {
        free(x->t[j].rec);
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

static unsigned dir_bits_for(size_t n)
{
    unsigned bits = 0;
    while (bits < 40 && ((size_t)16 << bits) < n) bits++;   /* at most 16 keys per entry */
    return bits;
}

/* Bytes a run record needs when the directory gives the top `bits` bits. */
static unsigned rec_width_for(unsigned bits) { return 8 - bits / 8; }

/* A band's (or key set's) directory: at most 16 keys per entry, or finer when that makes
 * the records a byte shorter for fewer bytes than the entries cost (from
 * 2^18 keys: 2^16 entries give 6-byte records). */
static unsigned band_dir_bits_for(size_t n)
{
    unsigned best = dir_bits_for(n);
    size_t best_cost = n * rec_width_for(best) + ((size_t)4 << best);
    for (unsigned b = best + 1; b <= best + 2 && b <= 40; b++) {
        size_t cost = n * rec_width_for(b) + ((size_t)4 << b);
        if (cost < best_cost) best = b, best_cost = cost;
    }
    return best;
}

static inline uint64_t rec_mask(unsigned w) { return w >= 8 ? ~0ull : (1ull << (8 * w)) - 1; }

/* Record i's low 8w bits of the key (little-endian; the 8 bytes of padding
 * after the run make the 8-byte load safe). */
static inline uint64_t rec_get(const uint8_t *rec, unsigned w, size_t i)
{
    uint64_t v;
    memcpy(&v, rec + i * w, sizeof v);
    return le64toh(v) & rec_mask(w);
}

/* Writes 8 bytes: records must be written in increasing i. */
static inline void rec_put(uint8_t *rec, unsigned w, size_t i, uint64_t key)
{
    uint64_t v = htole64(key);
    memcpy(rec + i * w, &v, sizeof v);
}

static inline size_t dir_bucket(unsigned bits, uint64_t key)
{
    return bits ? (size_t)(key >> (64 - bits)) : 0;
}

/* A new empty delta of the capacity the run's size calls for (or the old
 * one cleared). */
static void band_delta_reset(band_table *t, int with_reps)
{
    size_t cap = delta_cap_for(t->n);
    if (cap != t->dcap) {
        free(t->dkeys);
        free(t->dvals);
        t->dkeys = xcalloc(cap, sizeof *t->dkeys);
        t->dvals = with_reps ? xcalloc(cap, sizeof *t->dvals) : NULL;
        t->dcap = cap;
        t->dbits = log2_exact(cap);
    } else {
        memset(t->dkeys, 0, cap * sizeof *t->dkeys);
    }
    t->dn = 0;
}

/* Sort the delta's keys (and representatives) and merge them into a new
 * run, writing its directory on the way. */
static void band_merge(band_table *t, int with_reps)
{
    kv *d = malloc((t->dn ? t->dn : 1) * sizeof *d);
    if (!d) abort();
    size_t m = 0;
    for (size_t i = 0; i < t->dcap; i++)
        if (t->dkeys[i]) d[m++] = (kv){ t->dkeys[i], with_reps ? t->dvals[i] : 0 };
    insertion_sort(d, m);

    size_t n = t->n + m;
    unsigned bits = band_dir_bits_for(n), w = rec_width_for(bits);
    size_t nd = (size_t)1 << bits;
    uint8_t *rec = malloc(n * w + 8);
    uint32_t *vals = with_reps ? malloc(n * sizeof *vals) : NULL;
    uint32_t *dir = malloc((nd + 1) * sizeof *dir);
    if (!rec || (with_reps && !vals) || !dir) abort();
    unsigned obits = t->dir_bits, ow = t->rec_w;
    size_t i = 0, j = 0, ob = 0, nb = 0;
    for (size_t o = 0; o < n; o++) {
        uint64_t k, ik = 0;
        if (i < t->n) {   /* the old run's key i: its bucket gives the top bits */
            while (t->dir[ob + 1] <= i) ob++;
            ik = rec_get(t->rec, ow, i) | (obits ? (uint64_t)ob << (64 - obits) : 0);
        }
        if (j == m || (i < t->n && ik < d[j].k)) {
            k = ik;
            if (vals) vals[o] = t->vals[i];
            i++;
        } else {
            k = d[j].k;
            if (vals) vals[o] = d[j].v;
            j++;
        }
        for (size_t b = dir_bucket(bits, k); nb <= b; nb++) dir[nb] = (uint32_t)o;
        rec_put(rec, w, o, k);
    }
    while (nb <= nd) dir[nb++] = (uint32_t)n;
    free(d);
    free(t->rec);
    free(t->vals);
    free(t->dir);
    t->rec = rec;
    t->rec_w = w;
    t->vals = vals;
    t->dir = dir;
    t->dir_bits = bits;
    t->n = n;
    band_delta_reset(t, with_reps);
}

/* The run position of key, or SIZE_MAX. */
static size_t run_find(const band_table *t, uint64_t key)
{
    if (!t->n) return SIZE_MAX;
    size_t b = dir_bucket(t->dir_bits, key);
    size_t lo = t->dir[b], hi = t->dir[b + 1];
    uint64_t low = key & rec_mask(t->rec_w);   /* the bucket fixes the rest */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (rec_get(t->rec, t->rec_w, mid) < low) lo = mid + 1;
        else hi = mid;
    }
    return lo < t->dir[b + 1] && rec_get(t->rec, t->rec_w, lo) == low ? lo : SIZE_MAX;
}

/* Returns the representative (0 in a membership index), or UINT32_MAX
 * after inserting doc (if insert). */
static uint32_t band_probe(band_table *t, int with_reps, uint64_t key, uint32_t doc, int insert)
{
    if (key == 0) {
        if (t->has_zero) return t->zero_val;
        if (insert) { t->has_zero = 1; t->zero_val = with_reps ? doc : 0; }
        return UINT32_MAX;
    }
    size_t r = run_find(t, key);
    if (r != SIZE_MAX) return with_reps ? t->vals[r] : 0;
    if (!t->dcap) band_delta_reset(t, with_reps);
    size_t mask = t->dcap - 1, s = delta_home(t, key);
    for (;;) {
        uint64_t k = t->dkeys[s];
        if (k == key) return with_reps ? t->dvals[s] : 0;
        if (!k) break;
        s = (s + 1) & mask;
    }
    if (insert) {
        t->dkeys[s] = key;
        if (with_reps) t->dvals[s] = doc;
        if (++t->dn * 2 >= t->dcap) band_merge(t, with_reps);
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
        if (t->n) __builtin_prefetch(&t->dir[dir_bucket(t->dir_bits, mk[j])]);
        if (t->dcap) __builtin_prefetch(&t->dkeys[delta_home(t, mk[j])]);
    }
    for (unsigned j = 0; j < x->bands; j++) {
        const band_table *t = &x->t[j];
        if (!t->n) continue;
        size_t b = dir_bucket(t->dir_bits, mk[j]);
        size_t lo = t->dir[b], hi = t->dir[b + 1];
        __builtin_prefetch(t->rec + (lo + (hi - lo) / 2) * t->rec_w);
    }
    unsigned found = 0;
    for (unsigned j = 0; j < x->bands; j++) {
        uint32_t r = band_probe(&x->t[j], x->with_reps, mk[j], doc, insert);
        if (reps) reps[j] = r;
        found += r != UINT32_MAX;
    }
    return found;
}

/* Bytes of a band's run of n keys with its directory. */
static size_t band_run_bytes(size_t n, int with_reps)
{
    unsigned bits = band_dir_bits_for(n);
    return n * (rec_width_for(bits) + (with_reps ? sizeof(uint32_t) : 0)) + 8 +
           (((size_t)1 << bits) + 1) * sizeof(uint32_t);
}

size_t dd_bandidx_bytes_after(const dd_bandidx *x, size_t more)
{
    size_t slot = sizeof(uint64_t) + (x->with_reps ? sizeof(uint32_t) : 0);
    size_t total = 0, transient = 0;
    for (unsigned j = 0; j < x->bands; j++) {
        const band_table *t = &x->t[j];
        /* worst case: all `more` keys are new */
        size_t n = t->n + t->dn + more;
        size_t dcap = t->dcap ? t->dcap : DELTA_MIN;
        int merging = (t->dn + more) * 2 >= dcap;
        if (merging) dcap = delta_cap_for(n);
        total += band_run_bytes(n, x->with_reps) + dcap * slot;
        /* a merge holds the band's old run beside the new one, and the
         * delta's keys sorted; bands merge one after another */
        size_t held = band_run_bytes(t->n, x->with_reps) + (t->dn + more) * sizeof(kv);
        if (merging && held > transient) transient = held;
    }
    return total + transient;
}

size_t dd_bandidx_bytes(const dd_bandidx *x)
{
    size_t slot = sizeof(uint64_t) + (x->with_reps ? sizeof(uint32_t) : 0);
    size_t total = 0;
    for (unsigned j = 0; j < x->bands; j++) {
        const band_table *t = &x->t[j];
        total += band_run_bytes(t->n, x->with_reps) + t->dcap * slot;
    }
    return total;
}

/* ================= 128-bit key map (exact dedup) =================
 *
 * The same layout as a band: a sorted run of (mix64(hi), lo) with a
 * directory on the top bits of the mixed hi, so the run stores only hi's
 * low bytes (6 from about 2^18 keys) and lo: 14-16 bytes per key, plus the
 * 4-byte first document in a map (dd_keyset128_new; a set,
 * dd_keyset128_new_set, keeps none), and a delta hash table merged into the
 * run at 1/DELTA_FRACTION of its size. */
typedef struct k128v { uint64_t hi, lo; uint32_t v; } k128v;

struct dd_keyset128 {
    int with_vals;            /* keep each key's first document */
    uint8_t *hrec;            /* run, sorted by (hi, lo): hi's low hw bytes (+ 8 padding) */
    unsigned hw;
    uint64_t *lo;
    uint32_t *vals;           /* NULL in a set */
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

static dd_keyset128 *keyset_new(int with_vals)
{
    dd_keyset128 *s = xcalloc(1, sizeof(dd_keyset128));
    s->with_vals = with_vals;
    return s;
}

dd_keyset128 *dd_keyset128_new(void) { return keyset_new(1); }
dd_keyset128 *dd_keyset128_new_set(void) { return keyset_new(0); }

void dd_keyset128_free(dd_keyset128 *s)
{
    if (!s) return;
    free(s->hrec);
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

static void keyset_delta_alloc(dd_keyset128 *s, size_t cap)
{
    free(s->dhi);
    free(s->dlo);
    free(s->dvals);
    s->dhi = xcalloc(cap, sizeof *s->dhi);
    s->dlo = xcalloc(cap, sizeof *s->dlo);
    s->dvals = s->with_vals ? xcalloc(cap, sizeof *s->dvals) : NULL;
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
        if (s->dhi[i] | s->dlo[i])
            d[m++] = (k128v){ s->dhi[i], s->dlo[i], s->with_vals ? s->dvals[i] : 0 };
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
    unsigned bits = band_dir_bits_for(n), w = rec_width_for(bits);
    size_t nd = (size_t)1 << bits;
    uint8_t *hrec = malloc(n * w + 8);
    uint64_t *lo = malloc(n * sizeof *lo);
    uint32_t *vals = s->with_vals ? malloc(n * sizeof *vals) : NULL;
    uint32_t *dir = malloc((nd + 1) * sizeof *dir);
    if (!hrec || !lo || (s->with_vals && !vals) || !dir) abort();
    unsigned obits = s->dir_bits, ow = s->hw;
    size_t i = 0, j = 0, ob = 0, nb = 0;
    for (size_t o = 0; o < n; o++) {
        uint64_t h, l, ih = 0;
        if (i < s->n) {   /* the old run's key i: its bucket gives hi's top bits */
            while (s->dir[ob + 1] <= i) ob++;
            ih = rec_get(s->hrec, ow, i) | (obits ? (uint64_t)ob << (64 - obits) : 0);
        }
        if (j == m || (i < s->n && k128_less(ih, s->lo[i], d[j].hi, d[j].lo))) {
            h = ih;
            l = s->lo[i];
            if (vals) vals[o] = s->vals[i];
            i++;
        } else {
            h = d[j].hi;
            l = d[j].lo;
            if (vals) vals[o] = d[j].v;
            j++;
        }
        for (size_t b = dir_bucket(bits, h); nb <= b; nb++) dir[nb] = (uint32_t)o;
        rec_put(hrec, w, o, h);
        lo[o] = l;
    }
    while (nb <= nd) dir[nb++] = (uint32_t)n;
    free(d);
    free(s->hrec);
    free(s->lo);
    free(s->vals);
    free(s->dir);
    s->hrec = hrec;
    s->hw = w;
    s->lo = lo;
    s->vals = vals;
    s->dir = dir;
    s->dir_bits = bits;
    s->n = n;
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
    if (!s->with_vals) val = 0;   /* a set reports 0 as every key's first */
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
        size_t b = dir_bucket(s->dir_bits, h);
        size_t lo = s->dir[b], hi = s->dir[b + 1];
        uint64_t hl = h & rec_mask(s->hw);   /* the bucket fixes the rest */
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (k128_less(rec_get(s->hrec, s->hw, mid), s->lo[mid], hl, l)) lo = mid + 1;
            else hi = mid;
        }
        if (lo < s->dir[b + 1] && rec_get(s->hrec, s->hw, lo) == hl && s->lo[lo] == l) {
            if (first) *first = s->with_vals ? s->vals[lo] : 0;
            return 1;
        }
    }
    if (!s->dcap) keyset_delta_alloc(s, DELTA_MIN);
    size_t mask = s->dcap - 1, j = (size_t)(h >> (64 - s->dbits));
    for (;;) {
        if (s->dhi[j] == h && s->dlo[j] == l) {
            if (first) *first = s->with_vals ? s->dvals[j] : 0;
            return 1;
        }
        if (!(s->dhi[j] | s->dlo[j])) break;
        j = (j + 1) & mask;
    }
    s->dhi[j] = h;
    s->dlo[j] = l;
    if (s->with_vals) s->dvals[j] = val;
    if (++s->dn * 2 >= s->dcap) keyset_merge(s);
    return 0;
}

/* Bytes of a key set's run of n keys with its directory. */
static size_t keyset_run_bytes(size_t n, int with_vals)
{
    unsigned bits = band_dir_bits_for(n);
    return n * (rec_width_for(bits) + sizeof(uint64_t) + (with_vals ? sizeof(uint32_t) : 0)) + 8 +
           (((size_t)1 << bits) + 1) * sizeof(uint32_t);
}

static size_t keyset_slot(const dd_keyset128 *s)
{
    return 2 * sizeof(uint64_t) + (s->with_vals ? sizeof(uint32_t) : 0);
}

size_t dd_keyset128_bytes_after(const dd_keyset128 *s, size_t more)
{
    size_t n = s->n + s->dn + more;
    size_t dcap = s->dcap ? s->dcap : DELTA_MIN;
    int merging = (s->dn + more) * 2 >= dcap;
    if (merging) dcap = delta_cap_for(n);
    /* a merge holds the old run beside the new one, and the delta sorted */
    return keyset_run_bytes(n, s->with_vals) +
           (merging ? keyset_run_bytes(s->n, s->with_vals) + (s->dn + more) * sizeof(k128v) : 0) +
           dcap * keyset_slot(s);
}

size_t dd_keyset128_bytes(const dd_keyset128 *s)
{
    return keyset_run_bytes(s->n, s->with_vals) + s->dcap * keyset_slot(s);
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
