/* cuda_attention.cu - causal multi-head self-attention, flash-style: the
 * scores of a query row are produced tile by tile against keys held in shared
 * memory and folded into a running (max, sum, output) at once, so no T x T
 * matrix ever exists in memory, for any sequence length.
 *
 * Work split: a group of S adjacent threads owns one row (a query row in the
 * forward and dQ kernels, a key row in the dK/dV kernel); each thread of the
 * group holds DL of the head's dimensions, interleaved (dimension i*S + lane)
 * so that the group reads S consecutive shared-memory words (no bank
 * conflicts; rows in a warp read the same words, a broadcast). Dot products
 * are finished with shuffles inside the group. Every lane runs every key (or
 * query) of a tile and masks what the causal mask hides, so shuffles and
 * barriers are always reached by all threads.
 *
 * The backward pass is FlashAttention-2's, split into two kernels so that no
 * gradient is ever accumulated with atomics (deterministic): one per query
 * tile for dQ, one per key tile for dK and dV, both recomputing the
 * probabilities from the saved log-sum-exp; D = rowsum(dO * O) first. */
#include "cuda_kernels.h"

#include <math.h>

#include <type_traits>

/* rows (queries or keys) per block: 64, or 32 for the widest groups, so a
 * block has at most 256 threads and the register file holds it whole */
#define ROWS_FOR(S) ((S) >= 8 ? 32 : 64)
#define TILE 32   /* keys (forward, dQ) or queries (dK/dV) per shared-memory tile */
#define CHUNK 8   /* keys per online-softmax update in the forward pass */
#define DIMS 16   /* head dimensions per thread: S = head size / 16 threads per row */

template <int S> __device__ __forceinline__ float group_sum(float v)
{
#pragma unroll
    for (int o = S / 2; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

/* ---- forward ---- */

template <typename X, int S, int DL>
__global__ void __launch_bounds__(ROWS_FOR(S) * S)
attention_forward_kernel(X *out, float *lse, const X *qkv, int T, int C, int H, float scale)
{
    extern __shared__ float sh[];
    const int hs = C / H, ROWS = ROWS_FOR(S);
    float *ks = sh, *vs = sh + TILE * hs;
    const int bh = blockIdx.y, b = bh / H, h = bh % H;
    /* the longest rows (last query tiles) start first */
    const int q0 = (gridDim.x - 1 - blockIdx.x) * ROWS;
    const int r = threadIdx.x / S, lane = threadIdx.x % S;
    const int t = q0 + r;
    const bool active = t < T;
    const size_t C3 = (size_t)3 * C;
    const X *base = qkv + (size_t)b * T * C3 + (size_t)h * hs;

    float q[DL], o[DL];
#pragma unroll
    for (int i = 0; i < DL; i++) {
        int d = i * S + lane;
        q[i] = (active && d < hs) ? qx_to_f(base[(size_t)t * C3 + d]) : 0.0f;
        o[i] = 0.0f;
    }
    float m = -INFINITY, l = 0.0f;
    const int kend = min(T, q0 + ROWS); /* keys any row of this block can see */
    for (int k0 = 0; k0 < kend; k0 += TILE) {
        __syncthreads(); /* the previous tile is consumed */
        for (int e = threadIdx.x; e < TILE * hs; e += blockDim.x) {
            int kk = e / hs, d = e % hs, key = k0 + kk;
            float kv = 0.0f, vv = 0.0f;
            if (key < T) {
                kv = qx_to_f(base[(size_t)key * C3 + C + d]);
                vv = qx_to_f(base[(size_t)key * C3 + 2 * (size_t)C + d]);
            }
            ks[e] = kv;
            vs[e] = vv;
        }
        __syncthreads();
        /* chunks of CHUNK keys: their maximum, then one rescale of the output */
#pragma unroll 1
        for (int kc = 0; kc < TILE; kc += CHUNK) {
            float sc[CHUNK];
            float cmax = -INFINITY;
#pragma unroll
            for (int kk = 0; kk < CHUNK; kk++) {
                const float *kr = ks + (kc + kk) * hs;
                float a = 0.0f;
#pragma unroll
                for (int i = 0; i < DL; i++) {
                    int d = i * S + lane;
                    if (d < hs) a += q[i] * kr[d];
                }
                a = group_sum<S>(a) * scale;
                sc[kk] = (active && k0 + kc + kk <= t) ? a : -INFINITY;
                cmax = fmaxf(cmax, sc[kk]);
            }
            float mnew = fmaxf(m, cmax);
            if (mnew == -INFINITY) continue; /* nothing visible yet; no shuffle below */
            float corr = m == -INFINITY ? 0.0f : expf(m - mnew);
            l *= corr;
#pragma unroll
            for (int i = 0; i < DL; i++) o[i] *= corr;
#pragma unroll
            for (int kk = 0; kk < CHUNK; kk++) {
                const float *vr = vs + (kc + kk) * hs;
                float p = sc[kk] == -INFINITY ? 0.0f : expf(sc[kk] - mnew);
                l += p;
#pragma unroll
                for (int i = 0; i < DL; i++) {
                    int d = i * S + lane;
                    if (d < hs) o[i] += p * vr[d];
                }
            }
            m = mnew;
        }
    }
    if (!active) return;
    float inv = 1.0f / l;
    X *dst = out + ((size_t)b * T + t) * C + (size_t)h * hs;
#pragma unroll
    for (int i = 0; i < DL; i++) {
        int d = i * S + lane;
        if (d < hs) dst[d] = qx_from_f<X>(o[i] * inv);
    }
    if (lane == 0) lse[(size_t)bh * T + t] = m + logf(l);
}

/* ---- backward ---- */

/* D[b][h][t] = sum_d dO[b][t][h][d] * O[b][t][h][d]; one warp per (b, t, h) */
template <typename X>
__global__ void attention_dsum_kernel(float *dsum, const X *dout, const X *out, int B, int T,
                                      int C, int H)
{
    size_t row = (size_t)blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
    int lane = threadIdx.x % 32;
    if (row >= (size_t)B * T * H) return;
    int h = (int)(row % H);
    size_t bt = row / H;
    int hs = C / H;
    const X *dO = dout + bt * C + (size_t)h * hs, *O = out + bt * C + (size_t)h * hs;
    float a = 0.0f;
    for (int d = lane; d < hs; d += 32) a += qx_to_f(dO[d]) * qx_to_f(O[d]);
    a = qwarp_sum(a);
    if (lane == 0) {
        size_t b = bt / T, t = bt % T;
        dsum[(b * H + h) * T + t] = a;
    }
}

/* dQ: a group per query row, keys and values streamed in tiles */
template <typename X, int S, int DL>
__global__ void __launch_bounds__(ROWS_FOR(S) * S)
attention_dq_kernel(X *dqkv, const X *dout, const X *qkv, const float *lse, const float *dsum,
                    int T, int C, int H, float scale)
{
    extern __shared__ float sh[];
    const int hs = C / H, ROWS = ROWS_FOR(S);
    float *ks = sh, *vs = sh + TILE * hs;
    const int bh = blockIdx.y, b = bh / H, h = bh % H;
    const int q0 = (gridDim.x - 1 - blockIdx.x) * ROWS;
    const int r = threadIdx.x / S, lane = threadIdx.x % S;
    const int t = q0 + r;
    const bool active = t < T;
    const size_t C3 = (size_t)3 * C;
    const X *base = qkv + (size_t)b * T * C3 + (size_t)h * hs;
    const X *dO = dout + ((size_t)b * T + (active ? t : 0)) * C + (size_t)h * hs;

    float q[DL], g[DL], dq[DL];
#pragma unroll
    for (int i = 0; i < DL; i++) {
        int d = i * S + lane;
        bool ok = active && d < hs;
        q[i] = ok ? qx_to_f(base[(size_t)t * C3 + d]) : 0.0f;
        g[i] = ok ? qx_to_f(dO[d]) : 0.0f;
        dq[i] = 0.0f;
    }
    const float row_lse = active ? lse[(size_t)bh * T + t] : 0.0f;
    const float row_d = active ? dsum[(size_t)bh * T + t] : 0.0f;
    const int kend = min(T, q0 + ROWS);
    for (int k0 = 0; k0 < kend; k0 += TILE) {
        __syncthreads();
        for (int e = threadIdx.x; e < TILE * hs; e += blockDim.x) {
            int kk = e / hs, d = e % hs, key = k0 + kk;
            float kv = 0.0f, vv = 0.0f;
            if (key < T) {
                kv = qx_to_f(base[(size_t)key * C3 + C + d]);
                vv = qx_to_f(base[(size_t)key * C3 + 2 * (size_t)C + d]);
            }
            ks[e] = kv;
            vs[e] = vv;
        }
        __syncthreads();
#pragma unroll 4
        for (int kk = 0; kk < TILE; kk++) {
            float s = 0.0f, dp = 0.0f;
#pragma unroll
            for (int i = 0; i < DL; i++) {
                int d = i * S + lane;
                if (d < hs) {
                    s += q[i] * ks[kk * hs + d];
                    dp += g[i] * vs[kk * hs + d];
                }
            }
            s = group_sum<S>(s) * scale;
            dp = group_sum<S>(dp);
            bool visible = active && k0 + kk <= t;
            float p = visible ? expf(s - row_lse) : 0.0f;
            float ds = p * (dp - row_d) * scale;
#pragma unroll
            for (int i = 0; i < DL; i++) {
                int d = i * S + lane;
                if (d < hs) dq[i] += ds * ks[kk * hs + d];
            }
        }
    }
    if (!active) return;
    X *dst = dqkv + ((size_t)b * T + t) * C3 + (size_t)h * hs;
#pragma unroll
    for (int i = 0; i < DL; i++) {
        int d = i * S + lane;
        if (d < hs) dst[d] = qx_from_f<X>(dq[i]);
    }
}

/* dK, dV: a group per key row, queries (with dO, lse, D) streamed in tiles
 * from the block's first key to the end of the sequence */
template <typename X, int S, int DL>
__global__ void __launch_bounds__(ROWS_FOR(S) * S)
attention_dkdv_kernel(X *dqkv, const X *dout, const X *qkv, const float *lse, const float *dsum,
                      int T, int C, int H, float scale)
{
    extern __shared__ float sh[];
    const int hs = C / H, ROWS = ROWS_FOR(S);
    float *qs = sh, *gs = sh + TILE * hs, *ls = sh + 2 * TILE * hs, *ds_ = ls + TILE;
    const int bh = blockIdx.y, b = bh / H, h = bh % H;
    const int j0 = blockIdx.x * ROWS; /* the first key tiles see the most queries: start first */
    const int r = threadIdx.x / S, lane = threadIdx.x % S;
    const int j = j0 + r;
    const bool active = j < T;
    const size_t C3 = (size_t)3 * C;
    const X *base = qkv + (size_t)b * T * C3 + (size_t)h * hs;
    const X *dbase = dout + (size_t)b * T * C + (size_t)h * hs;

    float k[DL], v[DL], dk[DL], dv[DL];
#pragma unroll
    for (int i = 0; i < DL; i++) {
        int d = i * S + lane;
        bool ok = active && d < hs;
        k[i] = ok ? qx_to_f(base[(size_t)j * C3 + C + d]) : 0.0f;
        v[i] = ok ? qx_to_f(base[(size_t)j * C3 + 2 * (size_t)C + d]) : 0.0f;
        dk[i] = dv[i] = 0.0f;
    }
    for (int t0 = j0; t0 < T; t0 += TILE) {
        __syncthreads();
        for (int e = threadIdx.x; e < TILE * hs; e += blockDim.x) {
            int tt = e / hs, d = e % hs, qrow = t0 + tt;
            float qv = 0.0f, gv = 0.0f;
            if (qrow < T) {
                qv = qx_to_f(base[(size_t)qrow * C3 + d]);
                gv = qx_to_f(dbase[(size_t)qrow * C + d]);
            }
            qs[e] = qv;
            gs[e] = gv;
        }
        for (int tt = threadIdx.x; tt < TILE; tt += blockDim.x) {
            int qrow = t0 + tt;
            ls[tt] = qrow < T ? lse[(size_t)bh * T + qrow] : 0.0f;
            ds_[tt] = qrow < T ? dsum[(size_t)bh * T + qrow] : 0.0f;
        }
        __syncthreads();
#pragma unroll 4
        for (int tt = 0; tt < TILE; tt++) {
            float s = 0.0f, dp = 0.0f;
#pragma unroll
            for (int i = 0; i < DL; i++) {
                int d = i * S + lane;
                if (d < hs) {
                    s += k[i] * qs[tt * hs + d];
                    dp += v[i] * gs[tt * hs + d];
                }
            }
            s = group_sum<S>(s) * scale;
            dp = group_sum<S>(dp);
            int qrow = t0 + tt;
            bool visible = active && qrow < T && qrow >= j;
            float p = visible ? expf(s - ls[tt]) : 0.0f;
            float dsc = p * (dp - ds_[tt]) * scale;
#pragma unroll
            for (int i = 0; i < DL; i++) {
                int d = i * S + lane;
                if (d < hs) {
                    dv[i] += p * gs[tt * hs + d];
                    dk[i] += dsc * qs[tt * hs + d];
                }
            }
        }
    }
    if (!active) return;
    X *dst = dqkv + ((size_t)b * T + j) * C3 + (size_t)h * hs;
#pragma unroll
    for (int i = 0; i < DL; i++) {
        int d = i * S + lane;
        if (d < hs) {
            dst[C + d] = qx_from_f<X>(dk[i]);
            dst[2 * (size_t)C + d] = qx_from_f<X>(dv[i]);
        }
    }
}

/* ---- launchers: the group width follows the head size ---- */

template <typename X, int S, int DL>
static void launch_forward(X *out, float *lse, const X *qkv, int B, int T, int C, int H,
                           cudaStream_t s)
{
    int hs = C / H, ROWS = ROWS_FOR(S);
    dim3 grid((unsigned)((T + ROWS - 1) / ROWS), (unsigned)(B * H));
    size_t shmem = (size_t)2 * TILE * hs * sizeof(float);
    attention_forward_kernel<X, S, DL><<<grid, ROWS * S, shmem, s>>>(out, lse, qkv, T, C, H,
                                                                    1.0f / sqrtf((float)hs));
    QCUDA_LAUNCHED();
}

template <typename X>
void qck_attention_forward(X *out, float *lse, const X *qkv, int B, int T, int C, int H,
                           cudaStream_t s)
{
    if constexpr (std::is_same<X, bf16>::value) {
        if (qck_attention_tc_usable(C, H)) {
            qck_attention_tc_forward(out, lse, qkv, B, T, C, H, s);
            return;
        }
    }
    int hs = C / H;
    if (hs <= 16) launch_forward<X, 1, DIMS>(out, lse, qkv, B, T, C, H, s);
    else if (hs <= 32) launch_forward<X, 2, DIMS>(out, lse, qkv, B, T, C, H, s);
    else if (hs <= 64) launch_forward<X, 4, DIMS>(out, lse, qkv, B, T, C, H, s);
    else if (hs <= QCK_ATTN_MAX_HS) launch_forward<X, 8, DIMS>(out, lse, qkv, B, T, C, H, s);
    else qcuda_fatal("attention head size above 128", __FILE__, __LINE__);
}

template <typename X, int S, int DL>
static void launch_dq(X *dqkv, const X *dout, const X *qkv, const float *lse, const float *dsum,
                      int B, int T, int C, int H, cudaStream_t s)
{
    int hs = C / H, ROWS = ROWS_FOR(S);
    dim3 grid((unsigned)((T + ROWS - 1) / ROWS), (unsigned)(B * H));
    size_t shmem = (size_t)2 * TILE * hs * sizeof(float);
    attention_dq_kernel<X, S, DL><<<grid, ROWS * S, shmem, s>>>(dqkv, dout, qkv, lse, dsum, T, C,
                                                               H, 1.0f / sqrtf((float)hs));
    QCUDA_LAUNCHED();
}

template <typename X, int S, int DL>
static void launch_dkdv(X *dqkv, const X *dout, const X *qkv, const float *lse,
                        const float *dsum, int B, int T, int C, int H, cudaStream_t s)
{
    int hs = C / H, ROWS = ROWS_FOR(S);
    dim3 grid((unsigned)((T + ROWS - 1) / ROWS), (unsigned)(B * H));
    size_t shmem = ((size_t)2 * TILE * hs + 2 * TILE) * sizeof(float);
    attention_dkdv_kernel<X, S, DL><<<grid, ROWS * S, shmem, s>>>(dqkv, dout, qkv, lse, dsum, T,
                                                                 C, H, 1.0f / sqrtf((float)hs));
    QCUDA_LAUNCHED();
}

template <typename X>
void qck_attention_backward(X *dqkv, float *dsum, const X *dout, const X *out, const X *qkv,
                            const float *lse, int B, int T, int C, int H, cudaStream_t s)
{
    int hs = C / H;
    size_t rows = (size_t)B * T * H;
    attention_dsum_kernel<X><<<qcuda_blocks(rows, 8), 256, 0, s>>>(dsum, dout, out, B, T, C, H);
    QCUDA_LAUNCHED();
    if constexpr (std::is_same<X, bf16>::value) {
        if (qck_attention_tc_usable(C, H)) {
            qck_attention_tc_backward(dqkv, dsum, dout, qkv, lse, B, T, C, H, s);
            return;
        }
    }
    if (hs <= 16) {
        launch_dq<X, 1, DIMS>(dqkv, dout, qkv, lse, dsum, B, T, C, H, s);
        launch_dkdv<X, 1, DIMS>(dqkv, dout, qkv, lse, dsum, B, T, C, H, s);
    } else if (hs <= 32) {
        launch_dq<X, 2, DIMS>(dqkv, dout, qkv, lse, dsum, B, T, C, H, s);
        launch_dkdv<X, 2, DIMS>(dqkv, dout, qkv, lse, dsum, B, T, C, H, s);
    } else if (hs <= 64) {
        launch_dq<X, 4, DIMS>(dqkv, dout, qkv, lse, dsum, B, T, C, H, s);
        launch_dkdv<X, 4, DIMS>(dqkv, dout, qkv, lse, dsum, B, T, C, H, s);
    } else if (hs <= QCK_ATTN_MAX_HS) {
        launch_dq<X, 8, DIMS>(dqkv, dout, qkv, lse, dsum, B, T, C, H, s);
        launch_dkdv<X, 8, DIMS>(dqkv, dout, qkv, lse, dsum, B, T, C, H, s);
    } else {
        qcuda_fatal("attention head size above 128", __FILE__, __LINE__);
    }
}

template void qck_attention_forward<float>(float *, float *, const float *, int, int, int, int,
                                           cudaStream_t);
template void qck_attention_forward<bf16>(bf16 *, float *, const bf16 *, int, int, int, int,
                                          cudaStream_t);
template void qck_attention_backward<float>(float *, float *, const float *, const float *,
                                            const float *, const float *, int, int, int, int,
                                            cudaStream_t);
template void qck_attention_backward<bf16>(bf16 *, float *, const bf16 *, const bf16 *,
                                           const bf16 *, const float *, int, int, int, int,
                                           cudaStream_t);
