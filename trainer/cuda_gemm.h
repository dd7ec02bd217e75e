/* cuda_gemm.h - the matrix products of the CUDA backend, through cuBLASLt.
 * Internal to trainer/ (C++ / CUDA only).
 *
 * Row-major tensors as in cpu_kernels.h: inp [N][IC], weight [OC][IC],
 * out [N][OC]. Inputs are X (bf16 or fp32); accumulation is always fp32.
 * Fused epilogues (bias; bias + GELU keeping the pre-activation) are asked of
 * cuBLASLt first; when it offers no algorithm for them (type combination,
 * alignment) the product runs plain and our own kernels finish the job, so
 * every call works on every GPU and both paths are checked by gpu_check.sh
 * (QUERN_CUDA_FUSE=0 forces the unfused one). */
#ifndef QUERN_TRAINER_CUDA_GEMM_H
#define QUERN_TRAINER_CUDA_GEMM_H

#include <cublasLt.h>
#include <stddef.h>

#include "cuda_common.h"

typedef struct qcuda_blas {
    cublasLtHandle_t lt;
    void *workspace;
    size_t workspace_size;
    int fuse_bias;      /* try cuBLASLt's bias epilogue */
    int fuse_gelu;      /* try cuBLASLt's GELU_AUX_BIAS epilogue */
    long fused_calls, unfused_calls; /* how often each path ran (for the check's log) */
} qcuda_blas;

/* 0, or -1 with err filled. */
int qcuda_blas_init(qcuda_blas *b, char *err, size_t errlen);
void qcuda_blas_free(qcuda_blas *b);

/* out[n][o] = bias[o] + (residual ? residual[n][o] : 0) + sum_i inp[n][i] w[o][i]
 * OUT is X or float; bias (may be NULL) has type OUT; residual is OUT and may
 * equal out. With gelu_out (OUT = X only), gelu_out = GELU(out) as well, out
 * keeping the pre-activation. */
template <typename X, typename OUT>
void qcuda_linear_forward(qcuda_blas *b, OUT *out, const X *inp, const X *w, const OUT *bias,
                          const OUT *residual, X *gelu_out, int N, int IC, int OC,
                          cudaStream_t s);

/* dinp[n][i] = sum_o dout[n][o] w[o][i]   (overwritten) */
template <typename X>
void qcuda_linear_backward_input(qcuda_blas *b, X *dinp, const X *dout, const X *w, int N,
                                 int IC, int OC, cudaStream_t s);

/* dw[o][i] += sum_n dout[n][o] inp[n][i]   (dw fp32, accumulated) */
template <typename X>
void qcuda_linear_backward_weight(qcuda_blas *b, float *dw, const X *dout, const X *inp, int N,
                                  int IC, int OC, cudaStream_t s);

#endif
