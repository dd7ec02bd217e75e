/* dedup.h - exact and MinHash-LSH near-duplicate detection (the dedup stage's API).
 *
 * The pieces, each usable alone (and unit-tested alone):
 *   normalisation   dd_normalize: the one text rule both exact and near dedup use
 *   shingles        dd_shingles: word or character n-grams -> 64-bit xxh3 hashes
 *   minhash         dd_minhash_*: k permutations (a*h + b) mod (2^61 - 1), column minimum
 *   lsh             dd_band_keys: b bands of r rows -> one 64-bit key per band
 *   band index      dd_bandidx: per-band bucket key -> first (representative) document
 *   exact           dd_exact_key / dd_keyset128: 128-bit xxh3 of the normalised text
 *   union-find      dd_uf: sparse union-find over 64-bit document references
 *   jaccard         dd_jaccard_sorted: exact Jaccard of two sorted shingle sets
 *
 * Document references: a 64-bit number (input index << 40) | document number
 * in that input (0-based), where the input index is the position of the file
 * in the full, unsharded input list. It is the same in the in-memory and the
 * phased modes, orders documents in input order, and needs no string ids.
 *
 * The duplicate rule (the same in every mode, see dedup/README.md): for each
 * band, the first document (in input order) whose band key is K is the
 * bucket's representative. A document's candidates are the representatives of
 * its buckets that came before it. It is a near duplicate (removed) when it
 * has a candidate, or with --verify J a candidate whose exact Jaccard is >= J.
 * Clusters are the union-find components of the joined (document, candidate)
 * edges; --keep first keeps every document without an earlier match (so the
 * first of each cluster), --keep longest keeps the longest document of each
 * cluster (ties: the earliest). */
#ifndef QUERN_DEDUP_H
#define QUERN_DEDUP_H

#include <stddef.h>
#include <stdint.h>

#include "../common/strbuf.h"

/* ---- document references ---- */
#define DD_REF_BITS 40
static inline uint64_t dd_ref(uint64_t input, uint64_t ordinal)
{
    return (input << DD_REF_BITS) | ordinal;
}
static inline uint64_t dd_ref_input(uint64_t ref) { return ref >> DD_REF_BITS; }
static inline uint64_t dd_ref_ordinal(uint64_t ref) { return ref & ((1ull << DD_REF_BITS) - 1); }

/* ---- normalisation (rule written out in normalize.c and README.md) ---- */
/* Appends the normalised form of text to out: words separated by one space,
 * no leading or trailing space. */
void dd_normalize(const char *text, size_t len, strbuf *out);
/* Tests: 1 makes dd_normalize take its byte loop for ASCII runs even where
 * the CPU has SSSE3 (the path of CPUs without it), 0 restores the choice.
 * Not for use while other threads normalise. */
void dd_normalize_force_bytes(int on);

/* ---- shingles ---- */
typedef enum { DD_SHINGLE_WORD = 0, DD_SHINGLE_CHAR = 1 } dd_shingle_kind;

typedef struct dd_params {
    dd_shingle_kind kind;   /* word or character n-grams */
    unsigned ngram;         /* n */
    unsigned bands, rows;   /* b, r: b * r permutations */
    uint64_t seed;          /* permutation generator seed */
} dd_params;

/* Presets: "fineweb" (word 5-grams, 14 x 8), "nemo" (character 24-grams, 20 x 13).
 * Returns 0, or -1 for an unknown name. */
int dd_params_preset(dd_params *p, const char *name);
/* A short stable text ("word5-b14r8-s1") naming the parameters; phase files
 * record it so that phases run with different parameters refuse each other. */
void dd_params_describe(const dd_params *p, strbuf *out);
#define DD_MAX_HASHES 1024

typedef struct dd_u64vec {
    uint64_t *v;
    size_t n, cap;
} dd_u64vec;
void dd_u64vec_push(dd_u64vec *a, uint64_t x);
void dd_u64vec_free(dd_u64vec *a);

/* Hash every shingle of already normalised text (dd_normalize's output) into
 * out (replacing its content): XXH3_64bits of the shingle's bytes. Word
 * shingles are n consecutive words joined by one space; character shingles
 * are n consecutive code points. A text shorter than n yields one shingle
 * (the whole text); an empty text yields none. Duplicates are kept (MinHash
 * does not care); see dd_sort_unique for a set. */
void dd_shingles(const char *norm, size_t len, dd_shingle_kind kind, unsigned n,
                 dd_u64vec *out);
/* Sort and drop repeats, making a set. */
void dd_sort_unique(dd_u64vec *a);
/* Exact Jaccard |A & B| / |A | B| of two sorted, repeat-free sets; 0 if both empty. */
double dd_jaccard_sorted(const uint64_t *a, size_t na, const uint64_t *b, size_t nb);

/* ---- minhash ---- */
#define DD_MERSENNE61 ((1ull << 61) - 1)

typedef struct dd_minhash {
    unsigned k;               /* number of permutations */
    uint64_t *a, *b;          /* k multipliers in [1, p) and offsets in [0, p) */
    uint64_t *scratch;        /* per-shingle operands the kernel prepares (reduced hashes, limbs) */
    size_t scratch_cap;
} dd_minhash;

/* Permutations from a splitmix64 stream seeded with `seed`. */
void dd_minhash_init(dd_minhash *m, unsigned k, uint64_t seed);
void dd_minhash_free(dd_minhash *m);
/* sig[k] = min over shingles of (a_k * (h mod p) + b_k) mod p. With no
 * shingles every entry is DD_SIG_EMPTY (p itself, never a real value). */
#define DD_SIG_EMPTY DD_MERSENNE61
void dd_minhash_sign(dd_minhash *m, const uint64_t *hashes, size_t n, uint64_t *sig);
/* The same, by the plain scalar reference (tests compare the two). */
void dd_minhash_sign_reference(const dd_minhash *m, const uint64_t *hashes, size_t n,
                               uint64_t *sig);
/* Which kernel dd_minhash_sign uses: "avx512", "avx2" or "scalar". */
const char *dd_minhash_kernel(void);
/* Force a kernel (tests): 0 scalar, 1 avx2, 2 avx512; returns 0 or -1 if the CPU lacks it. */
int dd_minhash_force_kernel(int which);
/* Fraction of equal entries: the MinHash estimate of Jaccard. */
double dd_sig_similarity(const uint64_t *s1, const uint64_t *s2, unsigned k);

/* ---- LSH bands ---- */
/* keys[j] = XXH3_64bits_withSeed(little-endian bytes of sig[j*r .. j*r+r-1], j). */
void dd_band_keys(const uint64_t *sig, unsigned bands, unsigned rows, uint64_t *keys);
/* The probability that two documents of Jaccard s share at least one band. */
double dd_lsh_probability(double s, unsigned bands, unsigned rows);

/* Per-band bucket index: key -> representative (first) document number.
 * Memory: about 11 bytes per distinct key at scale (a sorted run of keys
 * stored in 6-8 bytes and 4-byte values, a directory, a small delta table;
 * see tables.c). The membership variant (_new_set) keeps no representatives,
 * only the keys: about 7 bytes per distinct key, for when "seen before?" is
 * all a caller needs. */
typedef struct dd_bandidx dd_bandidx;
dd_bandidx *dd_bandidx_new(unsigned bands);
dd_bandidx *dd_bandidx_new_set(unsigned bands);
void dd_bandidx_free(dd_bandidx *x);
/* For each band, if keys[j] is present, reps[j] = its representative (0 in
 * a membership index), else reps[j] = UINT32_MAX and (when insert) doc
 * becomes the representative. reps may be NULL. Returns the number of bands
 * whose key was present. */
unsigned dd_bandidx_probe(dd_bandidx *x, const uint64_t *keys, uint32_t doc, int insert,
                          uint32_t *reps);
/* Bytes this index would hold after inserting `more` new keys in every band
 * (to check a memory limit before growing), and bytes held now. */
size_t dd_bandidx_bytes_after(const dd_bandidx *x, size_t more);
size_t dd_bandidx_bytes(const dd_bandidx *x);

/* ---- exact ---- */
typedef struct dd_key128 { uint64_t hi, lo; } dd_key128;
dd_key128 dd_exact_key(const char *data, size_t len);   /* XXH3_128bits */

/* 128-bit key -> first document number (18-20 bytes per key and a little);
 * the set variant (_new_set) keeps only the keys (14-16 bytes and a little)
 * and reports 0 as every key's first document. */
typedef struct dd_keyset128 dd_keyset128;
dd_keyset128 *dd_keyset128_new(void);
dd_keyset128 *dd_keyset128_new_set(void);
void dd_keyset128_free(dd_keyset128 *s);
/* Returns 1 if the key was already present (*first = the value it was
 * inserted with, when first is not NULL), 0 if it was inserted now with val. */
int dd_keyset128_insert(dd_keyset128 *s, dd_key128 k, uint32_t val, uint32_t *first);
size_t dd_keyset128_bytes(const dd_keyset128 *s);
size_t dd_keyset128_bytes_after(const dd_keyset128 *s, size_t more);

/* ---- union-find over sparse 64-bit references ---- */
typedef struct dd_uf dd_uf;
dd_uf *dd_uf_new(void);
void dd_uf_free(dd_uf *u);
void dd_uf_union(dd_uf *u, uint64_t a, uint64_t b);
/* The component's smallest reference (a stable label); x itself if unknown. */
uint64_t dd_uf_find(dd_uf *u, uint64_t x);
size_t dd_uf_count(const dd_uf *u);          /* references seen */
uint64_t dd_uf_ref(const dd_uf *u, size_t i);   /* i-th reference seen (insertion order) */
size_t dd_uf_bytes(const dd_uf *u);

/* ---- u64 -> u64 map (shared by the phases and the in-memory mode) ---- */
typedef struct dd_map dd_map;
dd_map *dd_map_new(void);
void dd_map_free(dd_map *m);
/* Returns a pointer to the value for key, inserting `dflt` if absent. */
uint64_t *dd_map_upsert(dd_map *m, uint64_t key, uint64_t dflt, int *inserted);
uint64_t *dd_map_get(const dd_map *m, uint64_t key);   /* NULL if absent */
size_t dd_map_size(const dd_map *m);
size_t dd_map_bytes(const dd_map *m);

#endif
