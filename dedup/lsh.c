/* lsh.c - locality-sensitive hashing over MinHash signatures (b bands of r
 * rows, one 64-bit bucket key per band) and the exact-dedup key. */
#include <math.h>
#include <string.h>
#include <xxhash.h>

#include "dedup.h"

void dd_band_keys(const uint64_t *sig, unsigned bands, unsigned rows, uint64_t *keys)
{
    unsigned char buf[8 * 64];
    for (unsigned j = 0; j < bands; j++) {
        const uint64_t *row = sig + (size_t)j * rows;
        unsigned r = rows <= 64 ? rows : 64;
        /* explicit little-endian bytes: keys are the same on every host, and
         * the phased files written on one machine are read on another */
        for (unsigned i = 0; i < r; i++)
            for (unsigned b = 0; b < 8; b++) buf[8 * i + b] = (unsigned char)(row[i] >> (8 * b));
        keys[j] = XXH3_64bits_withSeed(buf, 8 * (size_t)r, j);
    }
}

double dd_lsh_probability(double s, unsigned bands, unsigned rows)
{
    return 1.0 - pow(1.0 - pow(s, rows), bands);
}

dd_key128 dd_exact_key(const char *data, size_t len)
{
    XXH128_hash_t h = XXH3_128bits(data, len);
    dd_key128 k = { h.high64, h.low64 };
    return k;
}
