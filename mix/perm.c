/* perm.c - see perm.h. */
#include "perm.h"

/* splitmix64's finaliser: a bijective 64-bit mixer with full avalanche. */
static inline uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint64_t qmix_hash4(uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
    uint64_t h = mix64(a + 0x9e3779b97f4a7c15ull);
    h = mix64(h ^ (b + 0x632be59bd9b4e019ull));
    h = mix64(h ^ (c + 0x85157af5a4b7c8f1ull));
    return mix64(h ^ (d + 0xd1b54a32d192ed03ull));
}

void qperm_init(qperm *p, uint64_t n, uint64_t key)
{
    p->n = n;
    p->key = key;
    unsigned bits = 0;
    while (bits < 64 && (n - (n > 0)) >> bits) bits++;   /* bits to hold n - 1 */
    p->half_bits = bits < 2 ? 1 : (bits + 1) / 2;
    p->half_mask = (1ull << p->half_bits) - 1;
}

#define ROUNDS 4

uint64_t qperm_at(const qperm *p, uint64_t i)
{
    if (p->n <= 1) return 0;
    uint64_t x = i;
    do {
        uint64_t l = x >> p->half_bits, r = x & p->half_mask;
        for (unsigned k = 0; k < ROUNDS; k++) {
            /* One mixer call per round: the key and round go into the
             * input bits above the half (r < 2^32), so rounds differ. */
            uint64_t f = mix64((p->key + ((uint64_t)k << 32)) ^ r) & p->half_mask;
            uint64_t t = l ^ f;
            l = r;
            r = t;
        }
        x = (l << p->half_bits) | r;
    } while (x >= p->n);
    return x;
}
