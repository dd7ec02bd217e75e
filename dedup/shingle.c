/* shingle.c - word and character n-gram shingles of normalised text, hashed
 * once each with XXH3_64bits; shingle sets and their exact Jaccard; presets. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "dedup.h"

int dd_params_preset(dd_params *p, const char *name)
{
    memset(p, 0, sizeof *p);
    p->seed = 1;
    if (!strcmp(name, "fineweb")) {        /* FineWeb: word 5-grams, 14 bands x 8 rows */
        p->kind = DD_SHINGLE_WORD; p->ngram = 5; p->bands = 14; p->rows = 8;
        return 0;
    }
    if (!strcmp(name, "nemo")) {           /* NeMo Curator: character 24-grams, 20 x 13 */
        p->kind = DD_SHINGLE_CHAR; p->ngram = 24; p->bands = 20; p->rows = 13;
        return 0;
    }
    return -1;
}

void dd_params_describe(const dd_params *p, strbuf *out)
{
    sb_addf(out, "%s%u-b%ur%u-s%llu", p->kind == DD_SHINGLE_WORD ? "word" : "char", p->ngram,
            p->bands, p->rows, (unsigned long long)p->seed);
}

void dd_u64vec_push(dd_u64vec *a, uint64_t x)
{
    if (a->n == a->cap) {
        a->cap = a->cap ? 2 * a->cap : 256;
        a->v = realloc(a->v, a->cap * sizeof *a->v);
        if (!a->v) abort();
    }
    a->v[a->n++] = x;
}

void dd_u64vec_free(dd_u64vec *a)
{
    free(a->v);
    a->v = NULL;
    a->n = a->cap = 0;
}

static void reserve(dd_u64vec *a, size_t n)
{
    if (a->cap >= n) return;
    a->cap = n < 256 ? 256 : n;
    a->v = realloc(a->v, a->cap * sizeof *a->v);
    if (!a->v) abort();
}

/* Word shingles: the normalised text has single spaces and no space at
 * either end, so n consecutive words are one contiguous span. First every
 * space is found 8 bytes at a time (in normalised text no byte is 0x21, so
 * the zero-byte test on w ^ 0x20..20 has no false hits), their offsets
 * written into out->v; then shingle k (words k..k+n-1) is hashed in place,
 * its start kept from the offset it overwrites. */
static void word_shingles(const char *s, size_t len, unsigned n, dd_u64vec *out)
{
    /* The text must be dd_normalize's output (dedup.h): no two spaces are
     * adjacent, so there are at most (len + 1) / 2 of them, and 8 bytes hold
     * at most 4 (the unrolled steps below rely on both). */
    reserve(out, len / 2 + 2);
    uint64_t *v = out->v;
    size_t ns = 0, i = 0;
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull,
                   spaces = 0x2020202020202020ull;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        uint64_t x = w ^ spaces;
        uint64_t m = (x - ones) & ~x & highs;
        /* No two spaces are adjacent, so 8 bytes hold at most 4: four
         * unconditional steps (a step past the last space writes a slot
         * that the next one overwrites) instead of a loop whose trip count
         * no branch predictor can guess: shingling went from ~890 to ~1030 MB/s). */
        for (int k = 0; k < 4; k++) {
            v[ns] = i + (size_t)(__builtin_ctzll(m | 1ull << 63) >> 3);
            ns += m != 0;
            m &= m - 1;
        }
    }
    for (; i < len; i++)
        if (s[i] == ' ') v[ns++] = i;
    size_t words = ns + 1;
    if (words < n) {   /* short text: one shingle of all its words */
        v[0] = XXH3_64bits(s, len);
        out->n = 1;
        return;
    }
    size_t shingles = words - n + 1, start = 0;
    for (size_t k = 0; k < shingles; k++) {
        size_t last = k + n - 1;                 /* index of the shingle's last word */
        size_t end = last < ns ? v[last] : len;  /* the space after it, or the end */
        size_t next = k < ns ? v[k] + 1 : len;   /* where word k+1 starts */
        v[k] = XXH3_64bits(s + start, end - start);
        start = next;
    }
    out->n = shingles;
}

/* Character shingles: n consecutive code points (UTF-8 lead bytes). */
static void char_shingles(const char *s, size_t len, unsigned n, dd_u64vec *out)
{
    reserve(out, len + 1);
    uint64_t *v = out->v;
    size_t nv = 0;
    /* ring of the last n code point starts */
    size_t ring[1024];
    size_t cps = 0;
    for (size_t i = 0; i <= len; i++) {
        int boundary = i == len || ((unsigned char)s[i] & 0xC0) != 0x80;
        if (!boundary) continue;
        /* i is the start of a code point (or the end): the shingle ending here */
        if (cps >= n) {
            size_t b = ring[(cps - n) % n];
            v[nv++] = XXH3_64bits(s + b, i - b);
        }
        if (i < len) ring[cps++ % n] = i;
    }
    if (cps > 0 && cps < n) v[nv++] = XXH3_64bits(s, len);
    out->n = nv;
}

void dd_shingles(const char *norm, size_t len, dd_shingle_kind kind, unsigned n,
                 dd_u64vec *out)
{
    out->n = 0;
    if (len == 0 || n == 0) return;
    if (kind == DD_SHINGLE_WORD) {
        if (n > 64) n = 64;
        word_shingles(norm, len, n, out);
    } else {
        if (n > 1024) n = 1024;
        char_shingles(norm, len, n, out);
    }
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

void dd_sort_unique(dd_u64vec *a)
{
    if (a->n < 2) return;
    qsort(a->v, a->n, sizeof *a->v, cmp_u64);
    size_t w = 1;
    for (size_t i = 1; i < a->n; i++)
        if (a->v[i] != a->v[w - 1]) a->v[w++] = a->v[i];
    a->n = w;
}

double dd_jaccard_sorted(const uint64_t *a, size_t na, const uint64_t *b, size_t nb)
{
    if (na == 0 && nb == 0) return 0;
    size_t i = 0, j = 0, inter = 0;
    while (i < na && j < nb) {
        if (a[i] < b[j]) i++;
        else if (a[i] > b[j]) j++;
        else { inter++; i++; j++; }
    }
    return (double)inter / (double)(na + nb - inter);
}
