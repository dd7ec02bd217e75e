/* cuda_attention_tc.cu - flash attention on tensor cores (WMMA, bf16 in,
 * fp32 accumulation) for head size 64, the size of every preset. The
 * algorithm is the one of cuda_attention.cu (online softmax forward saving the
 * log-sum-exp; FlashAttention-2 backward split into a dQ kernel and a dK/dV
 * kernel, no atomics); only the tile products move to the tensor cores.
 *
 * A block has 4 warps and owns 64 rows (queries, or keys for dK/dV), 16 per
 * warp. The other operand streams through shared memory in tiles of 64 rows,
 * zero-filled past the end of the sequence. Each warp's 16 x 64 score block
 * goes through a per-warp fp32 scratch, where two lanes per row apply the
 * causal mask and the softmax (lane 2r + h owns row r, columns 2i + h), and
 * probabilities (or dS) return to the tensor cores as bf16.
 *
 * Used by qck_attention_forward/backward<bf16> when qck_attention_tc_usable()
 * (QUERN_CUDA_ATTN=simt turns it off, e.g. to compare the two). */
#include <mma.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_kernels.h"

using namespace nvcuda;

#define HS 64          /* head size */
#define BR 64          /* rows per block (4 warps x 16) */
#define LDH 72         /* leading dimension of bf16 tiles (elements; multiple of 8, breaks bank strides) */
#define LDF 68         /* leading dimension of fp32 scratch (elements; multiple of 4) */
#define TILE_BYTES (BR * LDH * 2)       /* 9216 */
#define SF_BYTES (16 * LDF * 4)         /* 4352 per warp */
#define PB_BYTES (16 * LDH * 2)         /* 2304 per warp */

typedef wmma::fragment<wmma::matrix_a, 16, 16, 16, bf16, wmma::row_major> frag_a;
typedef wmma::fragment<wmma::matrix_b, 16, 16, 16, bf16, wmma::row_major> frag_b_row;
typedef wmma::fragment<wmma::matrix_b, 16, 16, 16, bf16, wmma::col_major> frag_b_col;
typedef wmma::fragment<wmma::accumulator, 16, 16, 16, float> frag_acc;

int qck_attention_tc_usable(int C, int H)
{
    const char *e = getenv("QUERN_CUDA_ATTN");
    if (e && !strcmp(e, "simt")) return 0;
    return H > 0 && C % H == 0 && C / H == HS && C % 8 == 0;
}

/* rows r0 .. r0+63 of a [T][ld] bf16 matrix (columns 0..63 from src) into a
 * [64][LDH] tile; rows at or past T become zeros. 16-byte loads: src and ld
 * keep 8-element alignment (C % 8 == 0). */
static __device__ __forceinline__ void load_tile(bf16 *dst, const bf16 *src, size_t ld, int r0,
                                                 int T)
{
    for (int e = threadIdx.x; e < BR * 8; e += blockDim.x) {
        int r = e >> 3, ch = e & 7;
        uint4 v = make_uint4(0u, 0u, 0u, 0u);
        if (r0 + r < T) v = *(const uint4 *)(src + (size_t)(r0 + r) * ld + ch * 8);
        *(uint4 *)(dst + r * LDH + ch * 8) = v;
    }
}

/* the four 16x16 pieces of a warp's 16 rows of a [64][LDH] tile, as A operands */
static __device__ __forceinline__ void load_rows_a(frag_a *f, const bf16 *tile, int warp)
{
#pragma unroll
    for (int k = 0; k < 4; k++) wmma::load_matrix_sync(f[k], tile + warp * 16 * LDH + k * 16, LDH);
}

/* out (16 x 64 fp32, ld LDF) = A (16 x 64, in 4 fragments) . tile^T, where
 * tile is [64 rows][64 dims]: B(k = dim, n = row) read column-major */
static __device__ __forceinline__ void mma_abt(float *out, const frag_a *a, const bf16 *tile)
{
#pragma unroll
    for (int n = 0; n < 4; n++) {
        frag_acc acc;
        wmma::fill_fragment(acc, 0.0f);
#pragma unroll
        for (int k = 0; k < 4; k++) {
            frag_b_col b;
            wmma::load_matrix_sync(b, tile + n * 16 * LDH + k * 16, LDH);
            wmma::mma_sync(acc, a[k], b, acc);
        }
        wmma::store_matrix_sync(out + n * 16, acc, LDF, wmma::mem_row_major);
    }
}

/* acc[n] += P (16 x 64 bf16 at pb, ld LDH) . tile, tile [64 rows][64 dims]
 * read row-major as B(k = row, n = dim) */
static __device__ __forceinline__ void mma_pb_acc(frag_acc *acc, const bf16 *pb, const bf16 *tile)
{
    frag_a a[4];
#pragma unroll
    for (int k = 0; k < 4; k++) wmma::load_matrix_sync(a[k], pb + k * 16, LDH);
#pragma unroll
    for (int n = 0; n < 4; n++) {
#pragma unroll
        for (int k = 0; k < 4; k++) {
            frag_b_row b;
            wmma::load_matrix_sync(b, tile + k * 16 * LDH + n * 16, LDH);
            wmma::mma_sync(acc[n], a[k], b, acc[n]);
        }
    }
}

/* ---- forward ---- */

__global__ void __launch_bounds__(128) attention_tc_forward_kernel(bf16 *out, float *lse,
                                                                   const bf16 *qkv, int T, int C,
                                                                   int H, float scale)
{
    extern __shared__ __align__(128) unsigned char smem[];
    bf16 *Kt = (bf16 *)smem, *Vt = (bf16 *)(smem + TILE_BYTES);
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    float *Sf = (float *)(smem + 2 * TILE_BYTES + warp * SF_BYTES);
    bf16 *Pb = (bf16 *)(smem + 2 * TILE_BYTES + 4 * SF_BYTES + warp * PB_BYTES);
    const int bh = blockIdx.y, b = bh / H, h = bh % H;
    const int q0 = (gridDim.x - 1 - blockIdx.x) * BR;
    const size_t C3 = (size_t)3 * C;
    const bf16 *base = qkv + (size_t)b * T * C3 + (size_t)h * HS;

    load_tile(Kt, base, C3, q0, T); /* the queries, staged in the key tile */
    __syncthreads();
    frag_a qf[4];
    load_rows_a(qf, Kt, warp);
    __syncthreads();

    const int r = lane >> 1, half = lane & 1, t = q0 + warp * 16 + r;
    const bool active = t < T;
    float m = -INFINITY, l = 0.0f, o[32];
#pragma unroll
    for (int i = 0; i < 32; i++) o[i] = 0.0f;
    const int kend = min(T, q0 + BR);
    for (int k0 = 0; k0 < kend; k0 += BR) {
        load_tile(Kt, base + C, C3, k0, T);
        load_tile(Vt, base + 2 * (size_t)C, C3, k0, T);
        __syncthreads();
        mma_abt(Sf, qf, Kt); /* S = Q K^T */
        __syncwarp();
        float sv[32], tmax = -INFINITY;
#pragma unroll
        for (int i = 0; i < 32; i++) {
            int c = 2 * i + half;
            float x = Sf[r * LDF + c] * scale;
            sv[i] = (active && k0 + c <= t) ? x : -INFINITY;
            tmax = fmaxf(tmax, sv[i]);
        }
        tmax = fmaxf(tmax, __shfl_xor_sync(0xffffffffu, tmax, 1));
        float mnew = fmaxf(m, tmax);
        float corr = mnew == -INFINITY ? 1.0f : expf(m - mnew);
        l *= corr;
#pragma unroll
        for (int i = 0; i < 32; i++) {
            float p = sv[i] == -INFINITY ? 0.0f : expf(sv[i] - mnew);
            l += p;
            Pb[r * LDH + 2 * i + half] = __float2bfloat16_rn(p);
        }
        m = mnew;
        __syncwarp();
        frag_acc acc[4];
#pragma unroll
        for (int n = 0; n < 4; n++) wmma::fill_fragment(acc[n], 0.0f);
        mma_pb_acc(acc, Pb, Vt); /* P V */
#pragma unroll
        for (int n = 0; n < 4; n++)
            wmma::store_matrix_sync(Sf + n * 16, acc[n], LDF, wmma::mem_row_major);
        __syncwarp();
#pragma unroll
        for (int i = 0; i < 32; i++) o[i] = o[i] * corr + Sf[r * LDF + 2 * i + half];
        __syncthreads(); /* the tiles are consumed */
    }
    l += __shfl_xor_sync(0xffffffffu, l, 1); /* the two lanes of a row hold halves of the sum */
    if (!active) return;
    float inv = 1.0f / l;
    bf16 *dst = out + ((size_t)b * T + t) * C + (size_t)h * HS;
#pragma unroll
    for (int i = 0; i < 32; i++) dst[2 * i + half] = __float2bfloat16_rn(o[i] * inv);
    if (half == 0) lse[(size_t)bh * T + t] = m + logf(l);
}

/* ---- backward: dQ ---- */

__global__ void __launch_bounds__(128) attention_tc_dq_kernel(bf16 *dqkv, const bf16 *dout,
                                                              const bf16 *qkv, const float *lse,
                                                              const float *dsum, int T, int C,
                                                              int H, float scale)
{
    extern __shared__ __align__(128) unsigned char smem[];
    bf16 *Kt = (bf16 *)smem, *Vt = (bf16 *)(smem + TILE_BYTES);
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    float *Sf = (float *)(smem + 2 * TILE_BYTES + warp * SF_BYTES);
    float *Df = (float *)(smem + 2 * TILE_BYTES + 4 * SF_BYTES + warp * SF_BYTES);
    bf16 *Pb = (bf16 *)(smem + 2 * TILE_BYTES + 8 * SF_BYTES + warp * PB_BYTES);
    const int bh = blockIdx.y, b = bh / H, h = bh % H;
    const int q0 = (gridDim.x - 1 - blockIdx.x) * BR;
    const size_t C3 = (size_t)3 * C;
    const bf16 *base = qkv + (size_t)b * T * C3 + (size_t)h * HS;
    const bf16 *gbase = dout + (size_t)b * T * C + (size_t)h * HS;

    load_tile(Kt, base, C3, q0, T);  /* Q */
    load_tile(Vt, gbase, C, q0, T);  /* dO */
    __syncthreads();
    frag_a qf[4], gf[4];
    load_rows_a(qf, Kt, warp);
    load_rows_a(gf, Vt, warp);
    __syncthreads();

    const int r = lane >> 1, half = lane & 1, t = q0 + warp * 16 + r;
    const bool active = t < T;
    const float row_lse = active ? lse[(size_t)bh * T + t] : 0.0f;
    const float row_d = active ? dsum[(size_t)bh * T + t] : 0.0f;
    frag_acc dq[4];
#pragma unroll
    for (int n = 0; n < 4; n++) wmma::fill_fragment(dq[n], 0.0f);
    const int kend = min(T, q0 + BR);
    for (int k0 = 0; k0 < kend; k0 += BR) {
        load_tile(Kt, base + C, C3, k0, T);
        load_tile(Vt, base + 2 * (size_t)C, C3, k0, T);
        __syncthreads();
        mma_abt(Sf, qf, Kt); /* S = Q K^T */
        mma_abt(Df, gf, Vt); /* dP = dO V^T */
        __syncwarp();
#pragma unroll
        for (int i = 0; i < 32; i++) {
            int c = 2 * i + half;
            bool visible = active && k0 + c <= t;
            float p = visible ? expf(Sf[r * LDF + c] * scale - row_lse) : 0.0f;
            float ds = p * (Df[r * LDF + c] - row_d) * scale;
            Pb[r * LDH + c] = __float2bfloat16_rn(ds);
        }
        __syncwarp();
        mma_pb_acc(dq, Pb, Kt); /* dQ += dS K */
        __syncthreads();
    }
#pragma unroll
    for (int n = 0; n < 4; n++) wmma::store_matrix_sync(Sf + n * 16, dq[n], LDF, wmma::mem_row_major);
    __syncwarp();
    if (!active) return;
    bf16 *dst = dqkv + ((size_t)b * T + t) * C3 + (size_t)h * HS;
#pragma unroll
    for (int i = 0; i < 32; i++) dst[2 * i + half] = __float2bfloat16_rn(Sf[r * LDF + 2 * i + half]);
}

/* ---- backward: dK, dV ---- */

__global__ void __launch_bounds__(128) attention_tc_dkdv_kernel(bf16 *dqkv, const bf16 *dout,
                                                                const bf16 *qkv, const float *lse,
                                                                const float *dsum, int T, int C,
                                                                int H, float scale)
{
    extern __shared__ __align__(128) unsigned char smem[];
    bf16 *Qt = (bf16 *)smem, *Gt = (bf16 *)(smem + TILE_BYTES);
    float *ls = (float *)(smem + 2 * TILE_BYTES), *dd = ls + BR;
    const size_t scratch = 2 * TILE_BYTES + 2 * BR * 4;
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    float *Sf = (float *)(smem + scratch + warp * SF_BYTES);
    float *Df = (float *)(smem + scratch + 4 * SF_BYTES + warp * SF_BYTES);
    bf16 *Pb = (bf16 *)(smem + scratch + 8 * SF_BYTES + warp * PB_BYTES);
    const int bh = blockIdx.y, b = bh / H, h = bh % H;
    const int j0 = blockIdx.x * BR; /* the first key blocks see the most queries: they start first */
    const size_t C3 = (size_t)3 * C;
    const bf16 *base = qkv + (size_t)b * T * C3 + (size_t)h * HS;
    const bf16 *gbase = dout + (size_t)b * T * C + (size_t)h * HS;

    load_tile(Qt, base + C, C3, j0, T);          /* K */
    load_tile(Gt, base + 2 * (size_t)C, C3, j0, T); /* V */
    __syncthreads();
    frag_a kf[4], vf[4];
    load_rows_a(kf, Qt, warp);
    load_rows_a(vf, Gt, warp);
    __syncthreads();

    const int r = lane >> 1, half = lane & 1, j = j0 + warp * 16 + r;
    frag_acc dk[4], dv[4];
#pragma unroll
    for (int n = 0; n < 4; n++) {
        wmma::fill_fragment(dk[n], 0.0f);
        wmma::fill_fragment(dv[n], 0.0f);
    }
    for (int t0 = j0; t0 < T; t0 += BR) {
        load_tile(Qt, base, C3, t0, T);
        load_tile(Gt, gbase, C, t0, T);
        for (int e = threadIdx.x; e < BR; e += blockDim.x) {
            int q = t0 + e;
            ls[e] = q < T ? lse[(size_t)bh * T + q] : 0.0f;
            dd[e] = q < T ? dsum[(size_t)bh * T + q] : 0.0f;
        }
        __syncthreads();
        mma_abt(Sf, kf, Qt); /* S^T = K Q^T */
        mma_abt(Df, vf, Gt); /* dP^T = V dO^T */
        __syncwarp();
        float dsv[32];
#pragma unroll
        for (int i = 0; i < 32; i++) {
            int c = 2 * i + half, q = t0 + c;
            bool visible = j < T && q < T && q >= j;
            float p = visible ? expf(Sf[r * LDF + c] * scale - ls[c]) : 0.0f;
            dsv[i] = p * (Df[r * LDF + c] - dd[c]) * scale;
            Pb[r * LDH + c] = __float2bfloat16_rn(p);
        }
        __syncwarp();
        mma_pb_acc(dv, Pb, Gt); /* dV += P^T dO */
        __syncwarp();
#pragma unroll
        for (int i = 0; i < 32; i++) Pb[r * LDH + 2 * i + half] = __float2bfloat16_rn(dsv[i]);
        __syncwarp();
        mma_pb_acc(dk, Pb, Qt); /* dK += dS^T Q */
        __syncthreads();
    }
#pragma unroll
    for (int n = 0; n < 4; n++) {
        wmma::store_matrix_sync(Sf + n * 16, dk[n], LDF, wmma::mem_row_major);
        wmma::store_matrix_sync(Df + n * 16, dv[n], LDF, wmma::mem_row_major);
    }
    __syncwarp();
    if (j >= T) return;
    bf16 *dst = dqkv + ((size_t)b * T + j) * C3 + (size_t)h * HS;
#pragma unroll
    for (int i = 0; i < 32; i++) {
        int c = 2 * i + half;
        dst[C + c] = __float2bfloat16_rn(Sf[r * LDF + c]);
        dst[2 * (size_t)C + c] = __float2bfloat16_rn(Df[r * LDF + c]);
    }
}

/* ---- launchers ---- */

#define FWD_SMEM (2 * TILE_BYTES + 4 * SF_BYTES + 4 * PB_BYTES)
#define DQ_SMEM (2 * TILE_BYTES + 8 * SF_BYTES + 4 * PB_BYTES)
#define DKDV_SMEM (2 * TILE_BYTES + 2 * BR * 4 + 8 * SF_BYTES + 4 * PB_BYTES)

void qck_attention_tc_forward(bf16 *out, float *lse, const bf16 *qkv, int B, int T, int C, int H,
                              cudaStream_t s)
{
    dim3 grid((unsigned)((T + BR - 1) / BR), (unsigned)(B * H));
    attention_tc_forward_kernel<<<grid, 128, FWD_SMEM, s>>>(out, lse, qkv, T, C, H,
                                                           1.0f / sqrtf((float)HS));
    QCUDA_LAUNCHED();
}

void qck_attention_tc_backward(bf16 *dqkv, const float *dsum, const bf16 *dout, const bf16 *qkv,
                               const float *lse, int B, int T, int C, int H, cudaStream_t s)
{
    /* above the default 48 KiB of dynamic shared memory: opt in (sm_80+) */
    QCUDA_CHECK(cudaFuncSetAttribute(attention_tc_dq_kernel,
                                     cudaFuncAttributeMaxDynamicSharedMemorySize, DQ_SMEM));
    QCUDA_CHECK(cudaFuncSetAttribute(attention_tc_dkdv_kernel,
                                     cudaFuncAttributeMaxDynamicSharedMemorySize, DKDV_SMEM));
    dim3 grid((unsigned)((T + BR - 1) / BR), (unsigned)(B * H));
    float scale = 1.0f / sqrtf((float)HS);
    attention_tc_dq_kernel<<<grid, 128, DQ_SMEM, s>>>(dqkv, dout, qkv, lse, dsum, T, C, H, scale);
    QCUDA_LAUNCHED();
    attention_tc_dkdv_kernel<<<grid, 128, DKDV_SMEM, s>>>(dqkv, dout, qkv, lse, dsum, T, C, H,
                                                          scale);
    QCUDA_LAUNCHED();
}
