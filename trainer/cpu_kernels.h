/* cpu_kernels.h - the layers of the C reference, each forward beside its
 * backward (internal to trainer/; cpu.c composes them into the model).
 *
 * Conventions: activations are row-major [N = B*T][width]; backward kernels
 * ADD into parameter gradients (so micro-batches accumulate) and either
 * overwrite or add into input gradients as each comment says. Every kernel
 * parallelises over disjoint outputs only (no floating-point reductions
 * shared between threads), so results do not depend on the thread count. */
#ifndef QUERN_TRAINER_CPU_KERNELS_H
#define QUERN_TRAINER_CPU_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/* Work (roughly in flops) below which a kernel runs on one thread: the tiny
 * models of tests and demos would otherwise spend most of their time in
 * thread start-up and barriers, the more so on a busy machine. */
#define PARALLEL_WORTH(work) ((work) >= 65536)

/* C[n][m] = (accumulate ? C : bias ? bias[m] : 0) + sum_k A(n,k) B(k,m), with
 * A(n,k) = A[n*a_rs + k*a_cs] and B(k,m) = B[k*b_rs + m*b_cs]; C is [N][M].
 * pack: scratch of qgemm_pack_floats(K, M) floats. */
void qgemm(float *C, const float *A, long a_rs, long a_cs, const float *B, long b_rs,
           long b_cs, const float *bias, int N, int K, int M, int accumulate, float *pack);
size_t qgemm_pack_floats(int K, int M);

/* out[n][o] = b[o] + sum_i inp[n][i] w[o][i]   (w is [OC][IC]) */
void qk_matmul_forward(float *out, const float *inp, const float *w, const float *b,
                       int N, int IC, int OC, float *pack);
/* dinp = dout . w (overwritten); dw += dout^T . inp; db += column sums of dout
 * (db may be NULL). */
void qk_matmul_backward(float *dinp, float *dw, float *db, const float *dout,
                        const float *inp, const float *w, int N, int IC, int OC, float *pack);

/* out[b][t] = wte[tok] + wpe[t] */
void qk_encoder_forward(float *out, const int32_t *tokens, const float *wte, const float *wpe,
                        int B, int T, int C);
void qk_encoder_backward(float *dwte, float *dwpe, const float *dout, const int32_t *tokens,
                         int B, int T, int C);

/* LayerNorm over the last dimension, eps 1e-5; saves mean and 1/std per row.
 * Backward ADDS into dinp. */
void qk_layernorm_forward(float *out, float *mean, float *rstd, const float *inp,
                          const float *w, const float *b, int N, int C);
void qk_layernorm_backward(float *dinp, float *dw, float *db, const float *dout,
                           const float *inp, const float *w, const float *mean,
                           const float *rstd, int N, int C);

/* GELU, tanh approximation (GPT-2). Backward overwrites dinp. */
void qk_gelu_forward(float *out, const float *inp, size_t n);
void qk_gelu_backward(float *dinp, const float *inp, const float *dout, size_t n);

/* out += add */
void qk_residual_add(float *out, const float *add, size_t n);

/* Causal multi-head attention over qkv [B][T][3C] (q, k, v side by side, head
 * h at columns h*hs). Saves per row the score maximum and 1/sum of the
 * exponentials ([B][H][T] each) so backward recomputes the probabilities
 * exactly instead of storing B*H*T*T of them. Backward overwrites dqkv. */
void qk_attention_forward(float *out, float *rowmax, float *rowisum, const float *qkv,
                          int B, int T, int C, int H);
void qk_attention_backward(float *dqkv, const float *dout, const float *qkv,
                           const float *rowmax, const float *rowisum, int B, int T, int C, int H);

/* Softmax over the first V of Vp logits per row and cross-entropy against
 * targets: losses[n] = -log p[target]. The probabilities replace the logits
 * (padding columns set to 0). */
void qk_crossentropy_forward(float *losses, float *logits, const int32_t *targets,
                             int N, int V, int Vp);
/* probabilities -> gradient of (scale * sum of losses), in place. */
void qk_crossentropy_backward(float *logits, const int32_t *targets, int N, int V, int Vp,
                              float scale);

#endif
