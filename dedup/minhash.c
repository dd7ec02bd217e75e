/* minhash.c - MinHash signatures: k permutations h' = (a*h + b) mod (2^61 - 1)
 * of each shingle's 64-bit hash, signature = the column minimum.
 *
 * Each shingle is hashed once (shingle.c); this file then runs the k
 * permutations as a tight loop. The arithmetic is exact modular arithmetic in
 * every kernel, so all kernels give the same signature bit for bit (and the
 * same as every earlier release): h is first reduced mod p, then
 *   scalar   one 64x64->128 multiply per value, two folds (2^61 = 1 mod p)
 *            and a conditional subtraction (perm_scalar; also the reference);
 *   AVX2     4 permutations per instruction, AVX-512 8: 32x32->64 multiplies
 *            (vpmuludq) on limbs of a and h, with the canonical reduction
 *            postponed to the end of a document (see "vector kernels" below).
 * The vector kernels loop over all shingles of a document per block of
 * permutations with the running minimum in a register. The kernel is chosen
 * at run time from the CPU, so the binary stays portable;
 * QUERN_MINHASH_KERNEL=scalar|avx2|avx512 overrides it (benchmarks). */
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
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

/* A kernel gets the raw shingle hashes and prepares its operands in m->scratch. */
typedef void (*sign_fn)(dd_minhash *, const uint64_t *, size_t, uint64_t *);
static sign_fn chosen;   /* set once before any worker runs (dd_minhash_init) */
static const char *chosen_name;
static void choose(void);
static pthread_once_t chosen_once = PTHREAD_ONCE_INIT;

static size_t padded(unsigned k) { return (k + 7u) & ~7u; }

void dd_minhash_init(dd_minhash *m, unsigned k, uint64_t seed)
{
    pthread_once(&chosen_once, choose);
    memset(m, 0, sizeof *m);
    m->k = k;
    size_t kp = padded(k);
    m->a = calloc(kp, sizeof *m->a);
    m->b = calloc(kp, sizeof *m->b);
    if (!m->a || !m->b) abort();
    uint64_t st = seed;
    for (size_t i = 0; i < kp; i++) {
        /* a in [1, p), b in [0, p); the modulo bias is below 2^-60 */
        m->a[i] = 1 + splitmix64(&st) % (P61 - 1);
        m->b[i] = splitmix64(&st) % P61;
    }
}

void dd_minhash_free(dd_minhash *m)
{
    free(m->a);
    free(m->b);
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

/* The scalar kernel: permutation-block outer loop, like the vector ones.
 * It takes the minimum of c + 1 instead of c = (a*h + b) mod p, which needs
 * no conditional subtraction: x = a*h + b + 1 < 2^122 (a, h <= p - 1), so
 * (x & p) + (x >> 61) <= 2p and one more fold lands in [1, p], the range of
 * c + 1 itself (129 -> 105 ns per shingle for 112 permutations). */
static void sign_scalar(dd_minhash *m, const uint64_t *hashes, size_t n, uint64_t *sig)
{
    uint64_t *h = m->scratch;
    for (size_t i = 0; i < n; i++) h[i] = reduce64(hashes[i]);
    for (unsigned j = 0; j < m->k; j++) {
        uint64_t a = m->a[j], b1 = m->b[j] + 1, acc = P61 + 1;   /* no shingle: p */
        for (size_t i = 0; i < n; i++) {
            __uint128_t x = (__uint128_t)a * h[i] + b1;
            uint64_t u = ((uint64_t)x & P61) + (uint64_t)(x >> 61);
            u = (u & P61) + (u >> 61);
            acc = u < acc ? u : acc;
        }
        sig[j] = acc - 1;
    }
}

/* ---- vector kernels: AVX2 (4 permutations per instruction), AVX-512 (8) ----
 *
 * The direct formulation (a and h in 32-bit halves, every partial product
 * folded, a canonical residue per value, then the min) took ~24 AVX2
 * instructions per 4 permutations, AVX2 having no 64-bit min and no unsigned
 * compare, and 20 with AVX-512. This one takes 16 in both, by splitting the
 * operands where fewer partial products need folding and by postponing the
 * canonical reduction:
 *
 *   h (< p) = H1*2^30 + H0   H0 < 2^30, H1 < 2^31   (once per shingle)
 *   a (< p) = A1*2^31 + A0   A0 < 2^31, A1 < 2^30   (once per pass)
 *   a*h = A1H1*2^61 + (A1*H0*2 + A0*H1)*2^30 + A0H0
 *       = A1H1 + A0H0 + N*2^29  (mod p),  N = A1*(4H0) + A0*(2H1) < 2^62 + 2^63
 *   (4H0 and 2H1 still fit the 32-bit multiplier inputs; A1H1, A0H0 < 2^61)
 *   N*2^29 = N*2^29 mod 2^61 + (N >> 32)*2^61 = (N mod 2^32)*2^29 + (N >> 32)  (mod p)
 * and (N mod 2^32)*2^29 is one more 32x32 multiply (it reads N's low half
 * by itself), so no masks and shifts are needed to split N. Then
 *   s = A1H1 + A0H0 + (N mod 2^32)*2^29 + (N >> 32) + b + 1   in [1, 2^63 + 2^32)
 *   u = (s & p) + (s >> 61)   in [1, p + 4],   u = c + 1 (mod p)
 * where c = (a*h + b) mod p is the exact permutation value. Since c + 1 is in
 * [1, p], u equals c + 1 unless u > p, and u > p (u = c + 1 + p, c <= 3) is
 * exactly "bit 61 of u is set". So the loop keeps min(u) and the OR of all
 * u; a block of permutations where that OR has bit 61 anywhere is
 * recomputed exactly (sign_exact: 4 values in 2^61 wrap, so it never costs
 * anything in practice; the test builds such shingles on purpose), and
 * otherwise the signature is min(u) - 1. The +1 keeps c = 0 apart from
 * c = p - 1.
 *
 * The min: every u is below 2^62, so as IEEE doubles they are positive,
 * finite and ordered like the integers (denormals included), and vminpd
 * (one instruction, where cmpgt + blendv take 3-4) returns one of its
 * operands bit for bit. That ordering needs denormals-are-zero off, which
 * the kernel makes sure of. (AVX-512 has an unsigned 64-bit min.)
 *
 * Measured on the bench's English text (Sapphire Rapids-class Xeon, 112
 * permutations, ns per shingle): AVX2 69 with the direct formulation, 51.8
 * with this arithmetic and cmpgt + blendv, 43.9 with vminpd, 42.1 with the
 * multiply that splits N; AVX-512 42 -> 32.4. */
#define MXCSR_DAZ 0x40u
#define M30 ((1ull << 30) - 1)
#define LIMBS 4

/* h mod p as the four broadcast multiplier inputs H0, H1, 4*H0, 2*H1. */
static void vector_limbs(const uint64_t *hashes, size_t n, uint64_t *limbs)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t h = reduce64(hashes[i]);
        uint64_t *l = limbs + LIMBS * i;
        l[0] = h & M30;
        l[1] = h >> 30;
        l[2] = (h & M30) << 2;
        l[3] = (h >> 30) << 1;
    }
}

/* Exact values for permutations k..k+w-1 (a pass whose wrap flag was raised). */
static void sign_exact(const dd_minhash *m, const uint64_t *hashes, size_t n, unsigned k,
                       unsigned w, uint64_t *sig)
{
    for (unsigned j = k; j < k + w && j < m->k; j++) {
        uint64_t acc = DD_SIG_EMPTY;
        for (size_t i = 0; i < n; i++) {
            uint64_t v = perm_scalar(m->a[j], m->b[j], reduce64(hashes[i]));
            acc = v < acc ? v : acc;
        }
        sig[j] = acc;
    }
}

__attribute__((target("avx2")))
static void sign_avx2(dd_minhash *m, const uint64_t *hashes, size_t n, uint64_t *sig)
{
    const uint64_t *limbs = m->scratch;
    vector_limbs(hashes, n, m->scratch);
    unsigned csr = _mm_getcsr();
    if (csr & MXCSR_DAZ) _mm_setcsr(csr & ~MXCSR_DAZ);
    const __m256i P = _mm256_set1_epi64x((long long)P61);
    const __m256i M31 = _mm256_set1_epi64x((1ll << 31) - 1);
    const __m256i ONE = _mm256_set1_epi64x(1);
    const __m256i BIT61 = _mm256_set1_epi64x(1ll << 61);
    const __m256i TWO29 = _mm256_set1_epi64x(1ll << 29);
    uint64_t out[4];
    unsigned k = 0;
#define LOAD4(J)                                                                          \
    __m256i a_##J = _mm256_loadu_si256((const __m256i *)(m->a + k + 4 * J));              \
    __m256i a0_##J = _mm256_and_si256(a_##J, M31);                                        \
    __m256i a1_##J = _mm256_srli_epi64(a_##J, 31);                                        \
    __m256i b1_##J = _mm256_add_epi64(_mm256_loadu_si256((const __m256i *)(m->b + k + 4 * J)), ONE); \
    __m256d acc_##J = _mm256_castsi256_pd(BIT61)   /* min(u) - 1 = p when no shingle */
#define PERM4(J)                                                                          \
    do {                                                                                  \
        __m256i nn = _mm256_add_epi64(_mm256_mul_epu32(a1_##J, h0x4),                     \
                                      _mm256_mul_epu32(a0_##J, h1x2));                    \
        __m256i s = _mm256_add_epi64(_mm256_mul_epu32(a1_##J, h1),                        \
                                     _mm256_mul_epu32(a0_##J, h0));                       \
        s = _mm256_add_epi64(s, _mm256_add_epi64(b1_##J, _mm256_srli_epi64(nn, 32)));     \
        s = _mm256_add_epi64(s, _mm256_mul_epu32(nn, TWO29));                             \
        __m256i u = _mm256_add_epi64(_mm256_and_si256(s, P), _mm256_srli_epi64(s, 61));   \
        wrap = _mm256_or_si256(wrap, u);                                                  \
        acc_##J = _mm256_min_pd(acc_##J, _mm256_castsi256_pd(u));                         \
    } while (0)
#define STORE4(J)                                                                         \
    _mm256_storeu_si256((__m256i *)out, _mm256_sub_epi64(_mm256_castpd_si256(acc_##J), ONE)); \
    for (unsigned j = 0; j < 4 && k + 4 * J + j < m->k; j++) sig[k + 4 * J + j] = out[j]
    /* broadcasts are loads, not shuffles */
#define SHINGLES(...)                                                                     \
    for (size_t i = 0; i < n; i++) {                                                      \
        const uint64_t *l = limbs + LIMBS * i;                                            \
        __m256i h0 = _mm256_set1_epi64x((long long)l[0]);                                 \
        __m256i h1 = _mm256_set1_epi64x((long long)l[1]);                                 \
        __m256i h0x4 = _mm256_set1_epi64x((long long)l[2]);                               \
        __m256i h1x2 = _mm256_set1_epi64x((long long)l[3]);                               \
        __VA_ARGS__                                                                       \
    }
#define FIXUP(W)                                                                          \
    if (!_mm256_testz_si256(wrap, BIT61)) sign_exact(m, hashes, n, k, W, sig)
    /* Two blocks of 4 permutations per pass share each broadcast shingle
     * (one block: 42.4 ns per shingle, two: 42.1, three or four: no better). */
    for (; k + 8 <= m->k; k += 8) {
        LOAD4(0); LOAD4(1);
        __m256i wrap = _mm256_setzero_si256();
        SHINGLES(PERM4(0); PERM4(1);)
        STORE4(0); STORE4(1);
        FIXUP(8);
    }
    for (; k < m->k; k += 4) {
        LOAD4(0);
        __m256i wrap = _mm256_setzero_si256();
        SHINGLES(PERM4(0);)
        STORE4(0);
        FIXUP(4);
    }
#undef LOAD4
#undef PERM4
#undef STORE4
#undef SHINGLES
#undef FIXUP
    if (csr & MXCSR_DAZ) _mm_setcsr(csr);
}

/* AVX-512: the same arithmetic, 8 permutations per instruction. */
__attribute__((target("avx512f")))
static void sign_avx512(dd_minhash *m, const uint64_t *hashes, size_t n, uint64_t *sig)
{
    const uint64_t *limbs = m->scratch;
    vector_limbs(hashes, n, m->scratch);
    const __m512i P = _mm512_set1_epi64((long long)P61);
    const __m512i M31 = _mm512_set1_epi64((1ll << 31) - 1);
    const __m512i ONE = _mm512_set1_epi64(1);
    const __m512i BIT61 = _mm512_set1_epi64(1ll << 61);
    const __m512i TWO29 = _mm512_set1_epi64(1ll << 29);
    uint64_t out[8];
    unsigned k = 0;
#define LOAD8(J)                                                                          \
    __m512i a_##J = _mm512_loadu_si512(m->a + k + 8 * J);                                 \
    __m512i a0_##J = _mm512_and_si512(a_##J, M31);                                        \
    __m512i a1_##J = _mm512_srli_epi64(a_##J, 31);                                        \
    __m512i b1_##J = _mm512_add_epi64(_mm512_loadu_si512(m->b + k + 8 * J), ONE);         \
    __m512i acc_##J = BIT61
#define PERM8(J)                                                                          \
    do {                                                                                  \
        __m512i nn = _mm512_add_epi64(_mm512_mul_epu32(a1_##J, h0x4),                     \
                                      _mm512_mul_epu32(a0_##J, h1x2));                    \
        __m512i s = _mm512_add_epi64(_mm512_mul_epu32(a1_##J, h1),                        \
                                     _mm512_mul_epu32(a0_##J, h0));                       \
        s = _mm512_add_epi64(s, _mm512_add_epi64(b1_##J, _mm512_srli_epi64(nn, 32)));     \
        s = _mm512_add_epi64(s, _mm512_mul_epu32(nn, TWO29));                             \
        __m512i u = _mm512_add_epi64(_mm512_and_si512(s, P), _mm512_srli_epi64(s, 61));   \
        wrap = _mm512_or_si512(wrap, u);                                                  \
        acc_##J = _mm512_min_epu64(acc_##J, u);                                           \
    } while (0)
#define STORE8(J)                                                                         \
    _mm512_storeu_si512(out, _mm512_sub_epi64(acc_##J, ONE));                             \
    for (unsigned j = 0; j < 8 && k + 8 * J + j < m->k; j++) sig[k + 8 * J + j] = out[j]
#define SHINGLES(...)                                                                     \
    for (size_t i = 0; i < n; i++) {                                                      \
        const uint64_t *l = limbs + LIMBS * i;                                            \
        __m512i h0 = _mm512_set1_epi64((long long)l[0]);                                  \
        __m512i h1 = _mm512_set1_epi64((long long)l[1]);                                  \
        __m512i h0x4 = _mm512_set1_epi64((long long)l[2]);                                \
        __m512i h1x2 = _mm512_set1_epi64((long long)l[3]);                                \
        __VA_ARGS__                                                                       \
    }
#define FIXUP(W)                                                                          \
    if (_mm512_test_epi64_mask(wrap, BIT61)) sign_exact(m, hashes, n, k, W, sig)
    /* four blocks of 8 permutations per pass share each broadcast shingle */
    for (; k + 32 <= m->k; k += 32) {
        LOAD8(0); LOAD8(1); LOAD8(2); LOAD8(3);
        __m512i wrap = _mm512_setzero_si512();
        SHINGLES(PERM8(0); PERM8(1); PERM8(2); PERM8(3);)
        STORE8(0); STORE8(1); STORE8(2); STORE8(3);
        FIXUP(32);
    }
    for (; k + 16 <= m->k; k += 16) {
        LOAD8(0); LOAD8(1);
        __m512i wrap = _mm512_setzero_si512();
        SHINGLES(PERM8(0); PERM8(1);)
        STORE8(0); STORE8(1);
        FIXUP(16);
    }
    for (; k < m->k; k += 8) {
        LOAD8(0);
        __m512i wrap = _mm512_setzero_si512();
        SHINGLES(PERM8(0);)
        STORE8(0);
        FIXUP(8);
    }
#undef LOAD8
#undef PERM8
#undef STORE8
#undef SHINGLES
#undef FIXUP
}

/* Kernel `which` (0 scalar, 1 AVX2, 2 AVX-512) into *f and *name when the
 * CPU runs it: 0; else -1, and *f and *name are left as they were. */
static int kernel_of(int which, sign_fn *f, const char **name)
{
    if (which == 2 && __builtin_cpu_supports("avx512f")) { *f = sign_avx512; *name = "avx512"; return 0; }
    if (which == 1 && __builtin_cpu_supports("avx2")) { *f = sign_avx2; *name = "avx2"; return 0; }
    if (which == 0) { *f = sign_scalar; *name = "scalar"; return 0; }
    return -1;
}

static void set_kernel(sign_fn f, const char *name)
{
    chosen_name = name;
    __atomic_store_n(&chosen, f, __ATOMIC_RELEASE);
}

/* The best kernel the CPU has, unless QUERN_MINHASH_KERNEL=scalar|avx2|avx512
 * asks for another (benchmarks: the AVX2 kernel's speed on a machine that
 * also has AVX-512). Every kernel gives the same signatures, so the variable
 * changes only the speed; a value the CPU cannot run is reported on stderr
 * and the automatic choice used. */
static void choose(void)
{
    __builtin_cpu_init();
    sign_fn f = sign_scalar;
    const char *name = "scalar";
    for (int w = 2; w > 0 && kernel_of(w, &f, &name); w--) continue;
    const char *want = getenv("QUERN_MINHASH_KERNEL");
    if (want && *want && strcmp(want, name)) {
        int w = !strcmp(want, "scalar") ? 0 : !strcmp(want, "avx2") ? 1 : !strcmp(want, "avx512") ? 2 : -1;
        if (w < 0 || kernel_of(w, &f, &name))
            fprintf(stderr, "quern: QUERN_MINHASH_KERNEL=%s: not scalar, avx2 or avx512 that this CPU "
                            "runs; using %s\n", want, name);
    }
    set_kernel(f, name);
}

const char *dd_minhash_kernel(void)
{
    pthread_once(&chosen_once, choose);
    return chosen_name;
}

int dd_minhash_force_kernel(int which)
{
    pthread_once(&chosen_once, choose);   /* a later automatic choice must not undo this */
    sign_fn f;
    const char *name;
    if (kernel_of(which, &f, &name)) return -1;
    set_kernel(f, name);
    return 0;
}

void dd_minhash_sign(dd_minhash *m, const uint64_t *hashes, size_t n, uint64_t *sig)
{
    if (m->scratch_cap < LIMBS * n) {   /* the vector kernels' limbs per shingle */
        m->scratch_cap = LIMBS * n + n + 64;
        free(m->scratch);
        m->scratch = malloc(m->scratch_cap * sizeof *m->scratch);
        if (!m->scratch) abort();
    }
    __atomic_load_n(&chosen, __ATOMIC_ACQUIRE)(m, hashes, n, sig);
}

double dd_sig_similarity(const uint64_t *s1, const uint64_t *s2, unsigned k)
{
    unsigned eq = 0;
    for (unsigned i = 0; i < k; i++) eq += s1[i] == s2[i];
    return k ? (double)eq / k : 0;
}
