/* perm.h - seeded pseudo-random permutations of [0, n) in O(1) memory.
 *
 * mix shuffles sources of billions of documents without holding a
 * permutation array: a 4-round balanced Feistel network over the smallest
 * even power of two >= n, cycle-walking until the value falls below n
 * (Black and Rogaway, "Ciphers with arbitrary finite domains", 2002). Each
 * step is a bijection, so the result is one. */
#ifndef QUERN_MIX_PERM_H
#define QUERN_MIX_PERM_H

#include <stdint.h>

typedef struct qperm {
    uint64_t n, key;
    unsigned half_bits;
    uint64_t half_mask;
} qperm;

void qperm_init(qperm *p, uint64_t n, uint64_t key);
/* The i-th element of the permutation, i < n. */
uint64_t qperm_at(const qperm *p, uint64_t i);

/* A well-mixed 64-bit hash of up to four words (derives keys and draws). */
uint64_t qmix_hash4(uint64_t a, uint64_t b, uint64_t c, uint64_t d);
/* Uniform double in [0, 1) from a hash. */
static inline double qmix_unit(uint64_t h) { return (double)(h >> 11) * 0x1.0p-53; }

#endif
