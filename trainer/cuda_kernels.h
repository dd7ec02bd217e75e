/* cuda_kernels.h - the hand-written kernels of the CUDA backend, each as a
 * host-side launcher on a stream (cuda_kernels.cu, cuda_attention.cu).
 * Internal to trainer/ (C++ / CUDA only).
 *
 * Conventions follow cpu_kernels.h: activations row-major [N = B*T][width],
 * parameter gradients (fp32) ACCUMULATE, input gradients as each comment says.
 * X is the activation type (bf16 or float, see cuda_common.h). Every
 * reduction runs in a fixed order (no floating-point atomics), so a step gives
 * the same bits every time it runs on the same GPU. */
#ifndef QUERN_TRAINER_CUDA_KERNELS_H
#define QUERN_TRAINER_CUDA_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "cuda_common.h"

/* ---- embedding ---- */
/* out[b][t] = wte[tok] + wpe[t] (fp32: the residual stream) */
void qck_encoder_forward(float *out, const int32_t *tokens, const float *wte, const float *wpe,
                         int B, int T, int C, cudaStream_t s);
/* dwpe[t] += sum_b dres[b][t] */
void qck_encoder_backward_wpe(float *dwpe, const float *dres, int B, int T, int C, cudaStream_t s);
/* dwte[tok] += sum of dres rows of that token, in row order. The rows are
 * grouped by token on the host: for bucket u, token bucket_token[u] owns rows
 * bucket_rows[bucket_start[u] .. bucket_start[u+1]). */
void qck_encoder_backward_wte(float *dwte, const float *dres, const int32_t *bucket_token,
                              const int32_t *bucket_start, const int32_t *bucket_rows,
                              int n_buckets, int C, cudaStream_t s);

/* ---- LayerNorm (eps 1e-5) ---- */
/* out = (inp - mean) * rstd * w + b; saves mean and rstd per row. */
template <typename X>
void qck_layernorm_forward(X *out, float *mean, float *rstd, const float *inp, const float *w,
                           const float *b, int N, int C, cudaStream_t s);
/* the same output from saved statistics (activation recomputation) */
template <typename X>
void qck_layernorm_apply(X *out, const float *mean, const float *rstd, const float *inp,
                         const float *w, const float *b, int N, int C, cudaStream_t s);
/* dres += d(inp); dres_x = (X) dres (dres_x may alias dres when X is float);
 * dw, db += column sums. partial: qck_colsum_partial_floats(N, C) * 2 floats. */
template <typename X>
void qck_layernorm_backward(float *dres, X *dres_x, float *dw, float *db, float *partial,
                            const X *dout, const float *inp, const float *w, const float *mean,
                            const float *rstd, int N, int C, cudaStream_t s);

/* ---- GELU (tanh approximation), bias ---- */
template <typename X> void qck_gelu_forward(X *out, const X *inp, size_t n, cudaStream_t s);
/* dinp = dout * GELU'(inp) (overwritten; dinp may equal dout) */
template <typename X>
void qck_gelu_backward(X *dinp, const X *inp, const X *dout, size_t n, cudaStream_t s);
/* out[n][o] += bias[o] */
template <typename T> void qck_add_bias(T *out, const T *bias, int N, int OC, cudaStream_t s);
/* db[o] += sum_n mat[n][o]; partial: qck_colsum_partial_floats(N, M) floats */
size_t qck_colsum_partial_floats(int N, int M);
template <typename X>
void qck_colsum_add(float *db, float *partial, const X *mat, int N, int M, cudaStream_t s);

/* ---- classifier: softmax + cross-entropy over the first V of Vp columns ---- */
/* losses[n] = lse[n] - logits[n][target]; lse[n] = log sum exp of the row.
 * The logits stay as they are (no normalised copy is stored). */
template <typename X>
void qck_classifier_forward(float *losses, float *lse, const X *logits, const int32_t *targets,
                            int N, int V, int Vp, cudaStream_t s);
/* logits -> scale * (softmax - onehot(target)) in place; padding columns 0 */
template <typename X>
void qck_classifier_backward(X *logits, const float *lse, const int32_t *targets, int N, int V,
                             int Vp, float scale, cudaStream_t s);

/* ---- reductions, optimizer, conversions ---- */
/* *out = sum of x[0..n) in double (one block, fixed order) */
void qck_sum(double *out, const float *x, int n, cudaStream_t s);
/* *out = sum of squares of x[0..n) in double; partial: QCK_NORM_PARTIALS doubles */
#define QCK_NORM_PARTIALS 1024
void qck_sumsq(double *out, double *partial, const float *x, size_t n, cudaStream_t s);
/* AdamW on n elements, the arithmetic of optim.c; when pw is non-NULL the
 * updated parameters are also written there as bf16 (round to nearest). */
void qck_adamw(float *p, bf16 *pw, const float *g, float *m, float *v, size_t n, float lr,
               float beta1, float beta2, float eps, float decay, float step_size,
               float bc2_sqrt, float grad_scale, cudaStream_t s);
void qck_f32_to_bf16(bf16 *dst, const float *src, size_t n, cudaStream_t s);
template <typename X> void qck_to_f32(float *dst, const X *src, size_t n, cudaStream_t s);

/* ---- causal self-attention, flash-style (cuda_attention.cu) ---- */
/* Head sizes the kernels take (C / H); larger ones are refused at creation. */
#define QCK_ATTN_MAX_HS 128
/* out [B][T][C] from qkv [B][T][3C]; lse [B][H][T]: log-sum-exp of each row
 * of scaled scores. Never holds a T x T matrix: keys and values stream
 * through shared memory in tiles. */
template <typename X>
void qck_attention_forward(X *out, float *lse, const X *qkv, int B, int T, int C, int H,
                           cudaStream_t s);
/* dqkv overwritten. dsum: scratch of B*H*T floats. */
template <typename X>
void qck_attention_backward(X *dqkv, float *dsum, const X *dout, const X *out, const X *qkv,
                            const float *lse, int B, int T, int C, int H, cudaStream_t s);

/* Tensor-core versions for bf16 and head size 64 (cuda_attention_tc.cu),
 * used by the two functions above when qck_attention_tc_usable(C, H):
 * head size 64, C % 8 == 0, and QUERN_CUDA_ATTN is not "simt". */
int qck_attention_tc_usable(int C, int H);
void qck_attention_tc_forward(bf16 *out, float *lse, const bf16 *qkv, int B, int T, int C, int H,
                              cudaStream_t s);
/* dsum: D = rowsum(dO * O), already computed */
void qck_attention_tc_backward(bf16 *dqkv, const float *dsum, const bf16 *dout, const bf16 *qkv,
                               const float *lse, int B, int T, int C, int H, cudaStream_t s);

#endif
