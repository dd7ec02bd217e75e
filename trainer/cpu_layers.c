/* cpu_layers.c - forward and backward of every layer of the GPT, side by side
 * (see cpu_kernels.h for the conventions). fp32 storage; the few row
 * statistics (LayerNorm moments) are accumulated in double. */
#include "cpu_kernels.h"

#include <math.h>
#include <string.h>

#define COLCHUNK 64 /* columns per thread when reducing over rows */

/* ---- matmul ---- */

void qk_matmul_forward(float *out, const float *inp, const float *w, const float *b,
                       int N, int IC, int OC, float *pack)
{
    /* A = inp [N][IC]; B(k=i, m=o) = w[o][i] */
    qgemm(out, inp, IC, 1, w, 1, IC, b, N, IC, OC, 0, pack);
}

void qk_matmul_backward(float *dinp, float *dw, float *db, const float *dout,
                        const float *inp, const float *w, int N, int IC, int OC, float *pack)
{
    /* dinp[n][i] = sum_o dout[n][o] w[o][i] */
    if (dinp) qgemm(dinp, dout, OC, 1, w, IC, 1, NULL, N, OC, IC, 0, pack);
    /* dw[o][i] += sum_n dout[n][o] inp[n][i] */
    qgemm(dw, dout, 1, OC, inp, IC, 1, NULL, OC, N, IC, 1, pack);
    if (db) {
        int chunks = (OC + COLCHUNK - 1) / COLCHUNK;
#pragma omp parallel for schedule(static) if (PARALLEL_WORTH((size_t)N * OC))
        for (int c = 0; c < chunks; c++) {
            int o0 = c * COLCHUNK, o1 = o0 + COLCHUNK < OC ? o0 + COLCHUNK : OC;
            for (int n = 0; n < N; n++) {
                const float *row = dout + (size_t)n * OC;
                for (int o = o0; o < o1; o++) db[o] += row[o];
            }
        }
    }
}

/* ---- token + position embedding ---- */

void qk_encoder_forward(float *out, const int32_t *tokens, const float *wte, const float *wpe,
                        int B, int T, int C)
{
#pragma omp parallel for schedule(static) if (PARALLEL_WORTH((size_t)B * T * C))
    for (int bt = 0; bt < B * T; bt++) {
        const float *te = wte + (size_t)tokens[bt] * C, *pe = wpe + (size_t)(bt % T) * C;
        float *o = out + (size_t)bt * C;
        for (int c = 0; c < C; c++) o[c] = te[c] + pe[c];
    }
}

void qk_encoder_backward(float *dwte, float *dwpe, const float *dout, const int32_t *tokens,
                         int B, int T, int C)
{
    /* Rows of dwte repeat across positions: split by columns, keep row order. */
    int chunks = (C + COLCHUNK - 1) / COLCHUNK;
#pragma omp parallel for schedule(static) if (PARALLEL_WORTH((size_t)B * T * C))
    for (int ch = 0; ch < chunks; ch++) {
        int c0 = ch * COLCHUNK, c1 = c0 + COLCHUNK < C ? c0 + COLCHUNK : C;
        for (int bt = 0; bt < B * T; bt++) {
            const float *d = dout + (size_t)bt * C;
            float *te = dwte + (size_t)tokens[bt] * C, *pe = dwpe + (size_t)(bt % T) * C;
            for (int c = c0; c < c1; c++) {
                te[c] += d[c];
                pe[c] += d[c];
            }
        }
    }
}

/* ---- LayerNorm ---- */

void qk_layernorm_forward(float *out, float *mean, float *rstd, const float *inp,
                          const float *w, const float *b, int N, int C)
{
#pragma omp parallel for schedule(static) if (PARALLEL_WORTH((size_t)N * C))
    for (int n = 0; n < N; n++) {
        const float *x = inp + (size_t)n * C;
        double s = 0.0;
        for (int c = 0; c < C; c++) s += x[c];
        double m = s / C, v = 0.0;
        for (int c = 0; c < C; c++) v += (x[c] - m) * (x[c] - m);
        float fm = (float)m, rs = (float)(1.0 / sqrt(v / C + 1e-5));
        float *o = out + (size_t)n * C;
        for (int c = 0; c < C; c++) o[c] = (x[c] - fm) * rs * w[c] + b[c];
        mean[n] = fm;
        rstd[n] = rs;
    }
}

void qk_layernorm_backward(float *dinp, float *dw, float *db, const float *dout,
                           const float *inp, const float *w, const float *mean,
                           const float *rstd, int N, int C)
{
#pragma omp parallel for schedule(static) if (PARALLEL_WORTH((size_t)N * C))
    for (int n = 0; n < N; n++) {
        const float *x = inp + (size_t)n * C, *d = dout + (size_t)n * C;
        float m = mean[n], rs = rstd[n];
        double sum_dn = 0.0, sum_dn_xhat = 0.0;
        for (int c = 0; c < C; c++) {
            float xhat = (x[c] - m) * rs, dn = w[c] * d[c];
            sum_dn += dn;
            sum_dn_xhat += (double)dn * xhat;
        }
        float mean_dn = (float)(sum_dn / C), mean_dn_xhat = (float)(sum_dn_xhat / C);
        float *di = dinp + (size_t)n * C;
        for (int c = 0; c < C; c++) {
            float xhat = (x[c] - m) * rs, dn = w[c] * d[c];
            di[c] += (dn - mean_dn - xhat * mean_dn_xhat) * rs;
        }
    }
    int chunks = (C + COLCHUNK - 1) / COLCHUNK;
#pragma omp parallel for schedule(static) if (PARALLEL_WORTH((size_t)N * C))
    for (int ch = 0; ch < chunks; ch++) {
        int c0 = ch * COLCHUNK, c1 = c0 + COLCHUNK < C ? c0 + COLCHUNK : C;
        for (int n = 0; n < N; n++) {
            const float *x = inp + (size_t)n * C, *d = dout + (size_t)n * C;
            float m = mean[n], rs = rstd[n];
            for (int c = c0; c < c1; c++) {
                dw[c] += (x[c] - m) * rs * d[c];
                db[c] += d[c];
            }
        }
    }
}

/* ---- GELU (tanh approximation) ---- */

#define GELU_K 0.7978845608028654f /* sqrt(2/pi) */
#define GELU_A 0.044715f

void qk_gelu_forward(float *out, const float *inp, size_t n)
{
#pragma omp parallel for schedule(static) if (PARALLEL_WORTH(n * 8))
    for (size_t i = 0; i < n; i++) {
        float x = inp[i];
        out[i] = 0.5f * x * (1.0f + tanhf(GELU_K * (x + GELU_A * x * x * x)));
    }
}

void qk_gelu_backward(float *dinp, const float *inp, const float *dout, size_t n)
{
#pragma omp parallel for schedule(static) if (PARALLEL_WORTH(n * 8))
    for (size_t i = 0; i < n; i++) {
        float x = inp[i];
        float t = tanhf(GELU_K * (x + GELU_A * x * x * x));
        float du = GELU_K * (1.0f + 3.0f * GELU_A * x * x);
        dinp[i] = dout[i] * (0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * du);
    }
}

void qk_residual_add(float *out, const float *add, size_t n)
{
#pragma omp parallel for schedule(static) if (PARALLEL_WORTH(n))
    for (size_t i = 0; i < n; i++) out[i] += add[i];
}

/* ---- causal self-attention ---- */

/* The per-row work of attention is compiled for AVX-512, AVX2 and baseline
 * x86-64 and picked at load time (the layers are built at -O2 for any x86-64). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define VEC_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define VEC_CLONES
#endif

/* Eight partial sums in a fixed pattern: vectorisable without -ffast-math and
 * the same result on every call. */
static inline __attribute__((always_inline)) float dot(const float *a, const float *b, int n)
{
    float acc[8] = { 0 };
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++) acc[j] += a[i + j] * b[i + j];
    for (int j = 0; i < n; i++, j++) acc[j] += a[i] * b[i];
    return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

/* One query row t of one head: q at q, keys/values of positions 0..t at
 * k0 + t2*stride (values C further on). p: t+1 floats of scratch. */
VEC_CLONES static void attn_row_forward(float *o, float *p, const float *q, const float *k0,
                                        size_t stride, int C, int t, int hs, float scale,
                                        float *mx_out, float *isum_out)
{
    float mx = -INFINITY;
    for (int t2 = 0; t2 <= t; t2++) {
        p[t2] = dot(q, k0 + t2 * stride, hs) * scale;
        if (p[t2] > mx) mx = p[t2];
    }
    float sum = 0.0f;
    for (int t2 = 0; t2 <= t; t2++) {
        p[t2] = expf(p[t2] - mx);
        sum += p[t2];
    }
    float isum = 1.0f / sum;
    for (int i = 0; i < hs; i++) o[i] = 0.0f;
    for (int t2 = 0; t2 <= t; t2++) {
        float pw = p[t2] * isum;
        const float *v = k0 + t2 * stride + C;
#pragma omp simd
        for (int i = 0; i < hs; i++) o[i] += pw * v[i];
    }
    *mx_out = mx;
    *isum_out = isum;
}

/* The whole backward of one (batch, head): q/k/v rows at qkv + t*stride
 * (k C further, v 2C), their gradients likewise in dqkv, dout rows at
 * dout + t*C. p, dp: T floats of scratch. */
VEC_CLONES static void attn_head_backward(float *dqkv, const float *dout, const float *qkv,
                                          const float *rowmax, const float *rowisum,
                                          size_t stride, int T, int C, int hs, float scale,
                                          float *p, float *dp)
{
    for (int t = 0; t < T; t++) {
        float *d = dqkv + t * stride;
        for (int i = 0; i < hs; i++) d[i] = d[i + C] = d[i + 2 * C] = 0.0f;
    }
    for (int t = 0; t < T; t++) {
        const float *q = qkv + t * stride, *dO = dout + (size_t)t * C;
        float mx = rowmax[t], isum = rowisum[t], dsum = 0.0f;
        for (int t2 = 0; t2 <= t; t2++) {
            const float *k = qkv + t2 * stride + C, *v = k + C;
            p[t2] = expf(dot(q, k, hs) * scale - mx) * isum;
            dp[t2] = dot(dO, v, hs);
            dsum += p[t2] * dp[t2];
        }
        float *dq = dqkv + t * stride;
        for (int t2 = 0; t2 <= t; t2++) {
            float ds = p[t2] * (dp[t2] - dsum) * scale, pt = p[t2];
            const float *k = qkv + t2 * stride + C;
            float *dk = dqkv + t2 * stride + C, *dv = dk + C;
#pragma omp simd
            for (int i = 0; i < hs; i++) {
                dq[i] += ds * k[i];
                dk[i] += ds * q[i];
                dv[i] += pt * dO[i];
            }
        }
    }
}

void qk_attention_forward(float *out, float *rowmax, float *rowisum, const float *qkv,
                          int B, int T, int C, int H)
{
    int hs = C / H;
    size_t C3 = (size_t)3 * C;
    float scale = 1.0f / sqrtf((float)hs);
#pragma omp parallel for schedule(static) if (PARALLEL_WORTH((size_t)B * T * T * C / 2))
    for (long job = 0; job < (long)B * H * T; job++) {
        int t = (int)(job % T), h = (int)(job / T % H), b = (int)(job / T / H);
        float p[T];
        size_t r = ((size_t)b * H + h) * T + t;
        attn_row_forward(out + ((size_t)b * T + t) * C + (size_t)h * hs, p,
                         qkv + ((size_t)b * T + t) * C3 + (size_t)h * hs,
                         qkv + (size_t)b * T * C3 + C + (size_t)h * hs, C3, C, t, hs, scale,
                         &rowmax[r], &rowisum[r]);
    }
}

void qk_attention_backward(float *dqkv, const float *dout, const float *qkv,
                           const float *rowmax, const float *rowisum, int B, int T, int C, int H)
{
    int hs = C / H;
    size_t C3 = (size_t)3 * C;
    float scale = 1.0f / sqrtf((float)hs);
    /* One (batch, head) per task: its slices of dq, dk, dv belong to it alone. */
#pragma omp parallel for schedule(static) if (PARALLEL_WORTH((size_t)B * T * T * C))
    for (int bh = 0; bh < B * H; bh++) {
        int b = bh / H, h = bh % H;
        float p[T], dp[T];
        size_t off = (size_t)b * T * C3 + (size_t)h * hs;
        attn_head_backward(dqkv + off, dout + (size_t)b * T * C + (size_t)h * hs, qkv + off,
                           rowmax + (size_t)bh * T, rowisum + (size_t)bh * T, C3, T, C, hs,
                           scale, p, dp);
    }
}

/* ---- softmax + cross-entropy ---- */

void qk_crossentropy_forward(float *losses, float *logits, const int32_t *targets,
                             int N, int V, int Vp)
{
#pragma omp parallel for schedule(static) if (PARALLEL_WORTH((size_t)N * Vp * 4))
    for (int n = 0; n < N; n++) {
        float *x = logits + (size_t)n * Vp;
        float mx = -INFINITY;
        for (int i = 0; i < V; i++) mx = x[i] > mx ? x[i] : mx;
        float target_shifted = targets ? x[targets[n]] - mx : 0.0f;
        double sum = 0.0;
        for (int i = 0; i < V; i++) {
            x[i] = expf(x[i] - mx);
            sum += x[i];
        }
        float isum = (float)(1.0 / sum);
        if (targets) losses[n] = (float)(log(sum) - (double)target_shifted);
        for (int i = 0; i < V; i++) x[i] *= isum;
        for (int i = V; i < Vp; i++) x[i] = 0.0f;
    }
}

void qk_crossentropy_backward(float *logits, const int32_t *targets, int N, int V, int Vp,
                              float scale)
{
#pragma omp parallel for schedule(static) if (PARALLEL_WORTH((size_t)N * Vp))
    for (int n = 0; n < N; n++) {
        float *x = logits + (size_t)n * Vp;
        for (int i = 0; i < V; i++) x[i] *= scale;
        x[targets[n]] -= scale;
        for (int i = V; i < Vp; i++) x[i] = 0.0f;
    }
}
