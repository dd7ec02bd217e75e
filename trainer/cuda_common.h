/* cuda_common.h - what every .cu file of the CUDA backend shares: error
 * checks, the two activation types and their conversions, warp reductions.
 * Internal to trainer/ (C++ / CUDA only).
 *
 * Precision modes: activations of type X are either __nv_bfloat16 (the fast
 * mode: bf16 GEMM inputs, fp32 accumulation) or float (the exact mode, for
 * parity with the C reference). Parameters, gradients, AdamW moments, the
 * residual stream and every statistic (LayerNorm moments, log-sum-exps,
 * losses) are fp32 in both modes. */
#ifndef QUERN_TRAINER_CUDA_COMMON_H
#define QUERN_TRAINER_CUDA_COMMON_H

#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <stdio.h>

typedef __nv_bfloat16 bf16;

/* Errors inside the backend are not recoverable mid-step (the device state
 * is unknown), so they end the process with the call site, as the C reference
 * would on a failed allocation it cannot report. Set-up errors that can be
 * reported (no device, out of memory at creation) go through the err buffer
 * of the create function instead. */
void qcuda_fatal(const char *what, const char *file, int line);
#define QCUDA_CHECK(call)                                                                  \
    do {                                                                                   \
        cudaError_t qcuda_e_ = (call);                                                     \
        if (qcuda_e_ != cudaSuccess) qcuda_fatal(cudaGetErrorString(qcuda_e_), __FILE__, __LINE__); \
    } while (0)
/* after every kernel launch: catches bad launch configurations at once. A
 * fault inside a kernel (bad address, misaligned access) surfaces only at the
 * next synchronisation, far from its cause; QUERN_CUDA_SYNC=1 synchronises
 * after every launch so the error names the launch site (slow: for
 * diagnosis, e.g. gpu_check.sh reruns a failed parity test with it). */
void qcuda_launched(const char *file, int line);
#define QCUDA_LAUNCHED() qcuda_launched(__FILE__, __LINE__)

static __device__ __forceinline__ float qx_to_f(float x) { return x; }
static __device__ __forceinline__ float qx_to_f(bf16 x) { return __bfloat162float(x); }

template <typename X> __device__ __forceinline__ X qx_from_f(float f);
template <> __device__ __forceinline__ float qx_from_f<float>(float f) { return f; }
template <> __device__ __forceinline__ bf16 qx_from_f<bf16>(float f) { return __float2bfloat16_rn(f); }

static __device__ __forceinline__ float qwarp_sum(float v)
{
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

static __device__ __forceinline__ float qwarp_max(float v)
{
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

static inline unsigned qcuda_blocks(size_t n, unsigned threads)
{
    return (unsigned)((n + threads - 1) / threads);
}

#endif
