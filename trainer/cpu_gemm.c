/* cpu_gemm.c - the one matrix product every layer of the C reference uses.
 *
 *   C[n][m] = (accumulate ? C[n][m] : bias ? bias[m] : 0) + sum_k A(n,k) B(k,m)
 *
 * A and B are read through strides, so the same routine serves the forward
 * product (inp . W^T), the input gradient (dout . W) and the weight gradient
 * (dout^T . inp) without transposing anything in memory.
 *
 * Why it is shaped like this: B is packed into panels of 16 columns, A into
 * blocks of rows, both contiguous, and a register-blocked micro-kernel keeps
 * a rows x 16 tile of C in vector registers while it walks k. Every element
 * of C is summed in the same order (k ascending, in blocks of KC) by exactly
 * one thread, whatever the thread count, so results are reproducible bit for
 * bit (which the resume test relies on). Vector code comes from GCC vector
 * extensions; the AVX-512 and AVX2 variants are chosen at run time. */
#include "cpu_kernels.h"

#include <string.h>

#define PANEL 16   /* columns per packed panel of B (one 16-float vector) */
#define KC 256     /* k block: A and B blocks stay in L1/L2 */
#define NC 128     /* rows of A per tile (KC, NC, PG: best of a sweep on d6 shapes) */
#define PG 16      /* panels per tile */

typedef float v16f __attribute__((vector_size(64), aligned(4)));

size_t qgemm_pack_floats(int K, int M)
{
    return (size_t)((M + PANEL - 1) / PANEL) * PANEL * (size_t)K;
}

/* packed[p][k][j] = B(k, p*16 + j), zero beyond M. */
static void pack_b(float *packed, const float *B, long b_rs, long b_cs, int K, int M)
{
    int npanels = (M + PANEL - 1) / PANEL;
#pragma omp parallel for schedule(static) if (PARALLEL_WORTH((size_t)K * M))
    for (int p = 0; p < npanels; p++) {
        /* k outer: when B's rows are contiguous (b_cs == 1) each k copies 64
         * bytes; when its columns are (b_rs == 1) the 16 columns stream. */
        float *dst = packed + (size_t)p * PANEL * K;
        int m0 = p * PANEL, mw = M - m0 < PANEL ? M - m0 : PANEL;
        for (int k = 0; k < K; k++) {
            const float *src = B + (long)k * b_rs + (long)m0 * b_cs;
            float *d = dst + (size_t)k * PANEL;
            if (b_cs == 1) {
                memcpy(d, src, (size_t)mw * sizeof(float));
            } else {
                for (int j = 0; j < mw; j++) d[j] = src[(long)j * b_cs];
            }
            for (int j = mw; j < PANEL; j++) d[j] = 0.0f;
        }
    }
}

/* Per-row pieces of the micro-kernel, unrolled by the ROWS macros so the
 * accumulators are plain locals that stay in registers even at -O1 (the
 * sanitizer build), where an indexed array would live on the stack. */
#define ROWS8(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#define ROWS4(X) X(0) X(1) X(2) X(3)
#define ACC_DECL(r) v16f acc##r;
#define ACC_INIT(r)                                                                        \
    {                                                                                      \
        float init[PANEL] = { 0 };                                                         \
        if (r < nr) {                                                                      \
            const float *crow = C + (size_t)(nr0 + r) * M + m0;                            \
            if (kb > 0 || accumulate) memcpy(init, crow, mw * sizeof(float));              \
            else if (bias) memcpy(init, bias + m0, mw * sizeof(float));                    \
        }                                                                                  \
        memcpy(&acc##r, init, sizeof init);                                                \
    }
#define ACC_FMA(r) acc##r += a[r] * b;
#define ACC_STORE(r)                                                                       \
    if (r < nr) {                                                                          \
        float out[PANEL];                                                                  \
        memcpy(out, &acc##r, sizeof out);                                                  \
        memcpy(C + (size_t)(nr0 + r) * M + m0, out, mw * sizeof(float));                   \
    }
/* The tile routine, instantiated once per instruction set with its own row
 * blocking RB (8 rows when 32 vector registers exist, 4 otherwise). Two
 * panels per micro-kernel (16 accumulators) measured slower on the AVX-512
 * machine this was tuned on, so one panel it is. */
#define DEFINE_TILES(NAME, ATTR, RB, ROWS)                                             \
    ATTR static void NAME(float *C, const float *A, long a_rs, long a_cs,                    \
                          const float *packed, const float *bias, int N, int K, int M,       \
                          int accumulate)                                                    \
    {                                                                                        \
        int npanels = (M + PANEL - 1) / PANEL;                                               \
        int n_chunks = (N + NC - 1) / NC, m_groups = (npanels + PG - 1) / PG;                \
        int tiles = n_chunks * m_groups;                                                     \
        _Pragma("omp parallel for schedule(static) if (PARALLEL_WORTH((size_t)N * K * M / 4))") \
        for (int t = 0; t < tiles; t++) {                                                    \
            float apack[NC * KC] __attribute__((aligned(64)));                               \
            int n0 = (t / m_groups) * NC, n1 = n0 + NC < N ? n0 + NC : N;                    \
            int p0 = (t % m_groups) * PG, p1 = p0 + PG < npanels ? p0 + PG : npanels;        \
            int rows = n1 - n0, rblocks = (rows + RB - 1) / RB;                              \
            for (int kb = 0; kb < K; kb += KC) {                                             \
                int kc = kb + KC < K ? KC : K - kb;                                          \
                /* apack[rb][k][r] = A(n0 + rb*RB + r, kb + k), zero past the end;        \
                 * k outer so that a transposed A (a_rs == 1) is read in runs */           \
                for (int rb = 0; rb < rblocks; rb++) {                                       \
                    float *dst = apack + (size_t)rb * RB * kc;                               \
                    int nb = n0 + rb * RB, nv = n1 - nb < RB ? n1 - nb : RB;                 \
                    const float *src = A + (long)nb * a_rs + (long)kb * a_cs;                \
                    for (int k = 0; k < kc; k++) {                                           \
                        for (int r = 0; r < nv; r++) dst[k * RB + r] = src[(long)k * a_cs + (long)r * a_rs]; \
                        for (int r = nv; r < RB; r++) dst[k * RB + r] = 0.0f;                \
                    }                                                                        \
                }                                                                            \
                for (int p = p0; p < p1; p++) {                                              \
                    const float *bp = packed + ((size_t)p * K + kb) * PANEL;                 \
                    int m0 = p * PANEL, mw = M - m0 < PANEL ? M - m0 : PANEL;                \
                    for (int rb = 0; rb < rblocks; rb++) {                                   \
                        const float *ap = apack + (size_t)rb * RB * kc;                      \
                        int nr0 = n0 + rb * RB, nr = n1 - nr0 < RB ? n1 - nr0 : RB;          \
                        ROWS(ACC_DECL)                                                       \
                        ROWS(ACC_INIT)                                                       \
                        for (int k = 0; k < kc; k++) {                                       \
                            v16f b;                                                          \
                            memcpy(&b, bp + (size_t)k * PANEL, sizeof b);                    \
                            const float *a = ap + k * RB;                                    \
                            ROWS(ACC_FMA)                                                    \
                        }                                                                    \
                        ROWS(ACC_STORE)                                                      \
                    }                                                                        \
                }                                                                            \
            }                                                                                \
        }                                                                                    \
    }

#if defined(__x86_64__) && (defined(__GNUC__) && !defined(__clang__))
DEFINE_TILES(tiles_avx512, __attribute__((target("arch=x86-64-v4"))), 8, ROWS8)
DEFINE_TILES(tiles_avx2, __attribute__((target("arch=x86-64-v3"))), 4, ROWS4)
#define HAVE_X86_VARIANTS 1
#endif
DEFINE_TILES(tiles_generic, , 4, ROWS4)

void qgemm(float *C, const float *A, long a_rs, long a_cs, const float *B, long b_rs,
           long b_cs, const float *bias, int N, int K, int M, int accumulate, float *pack)
{
    if (N <= 0 || M <= 0) return;
    if (K <= 0) {
        for (int n = 0; n < N && !accumulate; n++)
            for (int m = 0; m < M; m++) C[(size_t)n * M + m] = bias ? bias[m] : 0.0f;
        return;
    }
    pack_b(pack, B, b_rs, b_cs, K, M);
#ifdef HAVE_X86_VARIANTS
    static int level = -1;
    if (level < 0) {
        __builtin_cpu_init();
        level = __builtin_cpu_supports("avx512f") ? 2 : __builtin_cpu_supports("avx2") &&
                __builtin_cpu_supports("fma") ? 1 : 0;
    }
    if (level == 2) { tiles_avx512(C, A, a_rs, a_cs, pack, bias, N, K, M, accumulate); return; }
    if (level == 1) { tiles_avx2(C, A, a_rs, a_cs, pack, bias, N, K, M, accumulate); return; }
#endif
    tiles_generic(C, A, a_rs, a_cs, pack, bias, N, K, M, accumulate);
}
