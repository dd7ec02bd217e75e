/* minhash.c - MinHash signatures: k permutations h' = (a*h + b) mod (2^61 - 1)
 * of each shingle's 64-bit hash, signature = the column minimum.
 *
 * Each shingle is hashed once (shingle.c); this file then runs the k
 * permutations as a tight loop. The arithmetic is exact modular arithmetic in
 * every kernel, so all kernels give the same signature bit for bit:
 *
 *   h   is first reduced mod p (h mod p < 2^61), split into 32-bit halves h1:h0
 *   a   (< p) likewise a1:a0, so a*h = a1h1*2^64 + (a0h1 + a1h0)*2^32 + a0h0
 *   and 2^61 = 1 (mod p) folds each part below 2^61:
 *       a1h1*2^64       = 8*a1h1                         (mod p)
 *       m*2^32          = (m >> 29) + (m & (2^29-1))*2^32 (mod p)  for m = a0h1 + a1h0
 *       a0h0            = (a0h0 & p) + (a0h0 >> 61)        (mod p)
 *   the sum plus b stays below 2^63, one more fold and one conditional
 *   subtraction give the canonical residue in [0, p).
 *
 * Only 32x32->64 multiplies are needed, which vector units have (vpmuludq),
 * so the vector kernels process 8 (AVX-512) or 4 (AVX2) permutations per
 * instruction, looping over all shingles of a document per block of
 * permutations with the running minimum in a register. The kernel is chosen
 * at run time from the CPU, so the binary stays portable. */
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#include "dedup.h"

#define P61 DD_MERSENNE61

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

typedef void (*sign_fn)(const dd_minhash *, const uint64_t *, size_t, uint64_t *);
static sign_fn chosen;   /* set once before any worker runs (dd_minhash_init) */
static const char *chosen_name;
static void choose(void);

static size_t padded(unsigned k) { return (k + 7u) & ~7u; }

void dd_minhash_init(dd_minhash *m, unsigned k, uint64_t seed)
{
    if (!__atomic_load_n(&chosen, __ATOMIC_ACQUIRE)) choose();
    memset(m, 0, sizeof *m);
    m->k = k;
    size_t kp = padded(k);
    m->a = calloc(kp, sizeof *m->a);
    m->b = calloc(kp, sizeof *m->b);
    m->a_lo = calloc(kp, sizeof *m->a_lo);
    m->a_hi = calloc(kp, sizeof *m->a_hi);
    if (!m->a || !m->b || !m->a_lo || !m->a_hi) abort();
    uint64_t st = seed;
    for (size_t i = 0; i < kp; i++) {
        /* a in [1, p), b in [0, p); the modulo bias is below 2^-60 */
        m->a[i] = 1 + splitmix64(&st) % (P61 - 1);
        m->b[i] = splitmix64(&st) % P61;
        m->a_lo[i] = m->a[i] & 0xFFFFFFFFu;
        m->a_hi[i] = m->a[i] >> 32;
    }
    /* 8 * a_hi < 2^32: the 2^64 term's fold (x 8) comes free with the multiply */
    m->a_hi8 = calloc(kp, sizeof *m->a_hi8);
    if (!m->a_hi8) abort();
    for (size_t i = 0; i < kp; i++) m->a_hi8[i] = m->a_hi[i] << 3;
}

void dd_minhash_free(dd_minhash *m)
{
    free(m->a);
    free(m->b);
    free(m->a_lo);
    free(m->a_hi);
    free(m->a_hi8);
    free(m->scratch);
    memset(m, 0, sizeof *m);
}

static inline uint64_t reduce64(uint64_t h)
{
    uint64_t r = (h & P61) + (h >> 61);
    return r >= P61 ? r - P61 : r;
}

static inline uint64_t perm_scalar(uint64_t a, uint64_t b, uint64_t h)
{
    __uint128_t x = (__uint128_t)a * h + b;   /* < 2^122 + 2^61 */
    uint64_t r = ((uint64_t)x & P61) + (uint64_t)(x >> 61);   /* < 2^62 + 1 */
    r = (r & P61) + (r >> 61);                                   /* <= p + 1 */
    return r >= P61 ? r - P61 : r;
}

void dd_minhash_sign_reference(const dd_minhash *m, const uint64_t *hashes, size_t n,
                               uint64_t *sig)
{
    for (unsigned j = 0; j < m->k; j++) sig[j] = DD_SIG_EMPTY;
    for (size_t i = 0; i < n; i++) {
        uint64_t h = reduce64(hashes[i]);
        for (unsigned j = 0; j < m->k; j++) {
            uint64_t v = perm_scalar(m->a[j], m->b[j], h);
            if (v < sig[j]) sig[j] = v;
        }
    }
}

/* The scalar kernel: permutation-block outer loop, like the vector ones. */
static void sign_scalar(const dd_minhash *m, const uint64_t *h, size_t n, uint64_t *sig)
{
    for (unsigned j = 0; j < m->k; j++) {
        uint64_t a = m->a[j], b = m->b[j], acc = DD_SIG_EMPTY;
        for (size_t i = 0; i < n; i++) {
            uint64_t v = perm_scalar(a, b, h[i]);
            acc = v < acc ? v : acc;
        }
        sig[j] = acc;
    }
}

__attribute__((target("avx2")))
static void sign_avx2(const dd_minhash *m, const uint64_t *h, size_t n, uint64_t *sig)
{
    const __m256i P = _mm256_set1_epi64x((long long)P61);
    const __m256i M29 = _mm256_set1_epi64x((1ll << 29) - 1);
    uint64_t out[4];
    unsigned k = 0;
#define LOAD4(J)                                                                          \
    __m256i a0_##J = _mm256_loadu_si256((const __m256i *)(m->a_lo + k + 4 * J));          \
    __m256i a1_##J = _mm256_loadu_si256((const __m256i *)(m->a_hi + k + 4 * J));          \
    __m256i a8_##J = _mm256_loadu_si256((const __m256i *)(m->a_hi8 + k + 4 * J));         \
    __m256i b_##J = _mm256_loadu_si256((const __m256i *)(m->b + k + 4 * J));              \
    __m256i acc_##J = P
    /* all values stay below 2^62, so signed compares are safe */
#define PERM4(J)                                                                          \
    do {                                                                                  \
        __m256i p00 = _mm256_mul_epu32(a0_##J, hv);                                       \
        __m256i p01 = _mm256_add_epi64(_mm256_mul_epu32(a0_##J, h1),                      \
                                       _mm256_mul_epu32(a1_##J, hv));                     \
        __m256i s = _mm256_add_epi64(_mm256_mul_epu32(a8_##J, h1),                        \
                                     _mm256_srli_epi64(p01, 29));                         \
        s = _mm256_add_epi64(s, _mm256_slli_epi64(_mm256_and_si256(p01, M29), 32));       \
        s = _mm256_add_epi64(s, _mm256_and_si256(p00, P));                                \
        s = _mm256_add_epi64(s, _mm256_srli_epi64(p00, 61));                              \
        s = _mm256_add_epi64(s, b_##J);                                                   \
        __m256i t = _mm256_add_epi64(_mm256_and_si256(s, P), _mm256_srli_epi64(s, 61));   \
        t = _mm256_sub_epi64(t, _mm256_andnot_si256(_mm256_cmpgt_epi64(P, t), P));        \
        acc_##J = _mm256_blendv_epi8(acc_##J, t, _mm256_cmpgt_epi64(acc_##J, t));         \
    } while (0)
#define STORE4(J)                                                                         \
    _mm256_storeu_si256((__m256i *)out, acc_##J);                                         \
    for (unsigned j = 0; j < 4 && k + 4 * J + j < m->k; j++) sig[k + 4 * J + j] = out[j]
    /* two blocks of 4 permutations per pass share each broadcast shingle */
    for (; k + 8 <= m->k; k += 8) {
        LOAD4(0); LOAD4(1);
        for (size_t i = 0; i < n; i++) {
            __m256i hv = _mm256_set1_epi64x((long long)h[i]);
            __m256i h1 = _mm256_srli_epi64(hv, 32);
            PERM4(0); PERM4(1);
        }
        STORE4(0); STORE4(1);
    }
    for (; k < m->k; k += 4) {
        LOAD4(0);
        for (size_t i = 0; i < n; i++) {
            __m256i hv = _mm256_set1_epi64x((long long)h[i]);
            __m256i h1 = _mm256_srli_epi64(hv, 32);
            PERM4(0);
        }
        STORE4(0);
    }
#undef LOAD4
#undef PERM4
#undef STORE4
}

__attribute__((target("avx512f")))
static void sign_avx512(const dd_minhash *m, const uint64_t *h, size_t n, uint64_t *sig)
{
    const __m512i P = _mm512_set1_epi64((long long)P61);
    const __m512i M29 = _mm512_set1_epi64((1ll << 29) - 1);
    uint64_t out[8];
    unsigned k = 0;
#define LOAD8(J)                                                                          \
    __m512i a0_##J = _mm512_loadu_si512(m->a_lo + k + 8 * J);                             \
    __m512i a1_##J = _mm512_loadu_si512(m->a_hi + k + 8 * J);                             \
    __m512i a8_##J = _mm512_loadu_si512(m->a_hi8 + k + 8 * J);                            \
    __m512i b_##J = _mm512_loadu_si512(m->b + k + 8 * J);                                 \
    __m512i acc_##J = P
#define PERM8(J)                                                                          \
    do {                                                                                  \
        __m512i p00 = _mm512_mul_epu32(a0_##J, hv);                                       \
        __m512i p01 = _mm512_add_epi64(_mm512_mul_epu32(a0_##J, h1),                      \
                                       _mm512_mul_epu32(a1_##J, hv));                     \
        __m512i s = _mm512_add_epi64(_mm512_mul_epu32(a8_##J, h1),                        \
                                     _mm512_srli_epi64(p01, 29));                         \
        s = _mm512_add_epi64(s, _mm512_slli_epi64(_mm512_and_si512(p01, M29), 32));       \
        s = _mm512_add_epi64(s, _mm512_and_si512(p00, P));                                \
        s = _mm512_add_epi64(s, _mm512_srli_epi64(p00, 61));                              \
        s = _mm512_add_epi64(s, b_##J);                                                   \
        __m512i t = _mm512_add_epi64(_mm512_and_si512(s, P), _mm512_srli_epi64(s, 61));   \
        t = _mm512_min_epu64(t, _mm512_sub_epi64(t, P));                                  \
        acc_##J = _mm512_min_epu64(acc_##J, t);                                           \
    } while (0)
#define STORE8(J)                                                                         \
    _mm512_storeu_si512(out, acc_##J);                                                    \
    for (unsigned j = 0; j < 8 && k + 8 * J + j < m->k; j++) sig[k + 8 * J + j] = out[j]
    /* four blocks of 8 permutations per pass share each broadcast shingle */
    for (; k + 32 <= m->k; k += 32) {
        LOAD8(0); LOAD8(1); LOAD8(2); LOAD8(3);
        for (size_t i = 0; i < n; i++) {
            __m512i hv = _mm512_set1_epi64((long long)h[i]);
            __m512i h1 = _mm512_srli_epi64(hv, 32);
            PERM8(0); PERM8(1); PERM8(2); PERM8(3);
        }
        STORE8(0); STORE8(1); STORE8(2); STORE8(3);
    }
    for (; k + 16 <= m->k; k += 16) {
        LOAD8(0); LOAD8(1);
        for (size_t i = 0; i < n; i++) {
            __m512i hv = _mm512_set1_epi64((long long)h[i]);
            __m512i h1 = _mm512_srli_epi64(hv, 32);
            PERM8(0); PERM8(1);
        }
        STORE8(0); STORE8(1);
    }
    for (; k < m->k; k += 8) {
        LOAD8(0);
        for (size_t i = 0; i < n; i++) {
            __m512i hv = _mm512_set1_epi64((long long)h[i]);
            __m512i h1 = _mm512_srli_epi64(hv, 32);
            PERM8(0);
        }
        STORE8(0);
    }
#undef LOAD8
#undef PERM8
#undef STORE8
}

static void choose(void)
{
    __builtin_cpu_init();
    sign_fn f = sign_scalar;
    chosen_name = "scalar";
    if (__builtin_cpu_supports("avx512f")) { f = sign_avx512; chosen_name = "avx512"; }
    else if (__builtin_cpu_supports("avx2")) { f = sign_avx2; chosen_name = "avx2"; }
    __atomic_store_n(&chosen, f, __ATOMIC_RELEASE);
}

const char *dd_minhash_kernel(void)
{
    if (!chosen) choose();
    return chosen_name;
}

int dd_minhash_force_kernel(int which)
{
    __builtin_cpu_init();
    if (which == 2 && __builtin_cpu_supports("avx512f")) { chosen = sign_avx512; chosen_name = "avx512"; return 0; }
    if (which == 1 && __builtin_cpu_supports("avx2")) { chosen = sign_avx2; chosen_name = "avx2"; return 0; }
    if (which == 0) { chosen = sign_scalar; chosen_name = "scalar"; return 0; }
    return -1;
}

void dd_minhash_sign(dd_minhash *m, const uint64_t *hashes, size_t n, uint64_t *sig)
{
    if (m->scratch_cap < n) {
        m->scratch_cap = n + n / 2 + 64;
        free(m->scratch);
        m->scratch = malloc(m->scratch_cap * sizeof *m->scratch);
        if (!m->scratch) abort();
    }
    for (size_t i = 0; i < n; i++) m->scratch[i] = reduce64(hashes[i]);
    __atomic_load_n(&chosen, __ATOMIC_ACQUIRE)(m, m->scratch, n, sig);
}

double dd_sig_similarity(const uint64_t *s1, const uint64_t *s2, unsigned k)
{
    unsigned eq = 0;
    for (unsigned i = 0; i < k; i++) eq += s1[i] == s2[i];
    return k ? (double)eq / k : 0;
}
