/* cuda_backend.h - the CUDA backend's extras beyond backend.h (C API; the
 * implementation is in trainer/cuda_*.cu, built when nvcc is present, which
 * also defines QUERN_CUDA for the C files).
 *
 * qbackend_cuda_create() (declared in backend.h) takes its options from
 * qcuda_opts_default(), i.e. from the environment:
 *   QUERN_CUDA_FP32=1       exact mode: fp32 activations, fp32 cuBLAS products
 *                           (no TF32) - slow, for parity checks
 *   QUERN_CUDA_RECOMPUTE=1  recompute LayerNorm and GELU outputs in the backward
 *                           pass instead of keeping them for every layer
 *   QUERN_CUDA_FUSE=0       no cuBLASLt epilogues (bias, GELU) - our kernels
 *   QUERN_CUDA_DEVICE=N     the GPU ordinal (default 0)
 *   QUERN_CUDA_ATTN=simt    bf16 mode, head size 64: the SIMT attention kernels
 *                           instead of the tensor-core ones (for comparison)
 * qbackend_cuda_create_opts() takes them explicitly (`--recompute`). */
#ifndef QUERN_TRAINER_CUDA_BACKEND_H
#define QUERN_TRAINER_CUDA_BACKEND_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "backend.h" /* a C header: its declarations keep C linkage in the .cu files */

typedef struct qcuda_opts {
    int fp32;       /* 1: exact fp32 mode; 0: bf16 activations and products (default) */
    int recompute;  /* 1: recompute LayerNorm and GELU outputs in backward */
    int fuse;       /* 1: cuBLASLt bias / GELU epilogues where offered (default) */
    int device;     /* CUDA device ordinal */
} qcuda_opts;

/* Defaults, overridden by the QUERN_CUDA_* environment variables above. */
void qcuda_opts_default(qcuda_opts *o);

/* GPUs the CUDA runtime sees; 0 when there is no GPU or no driver. */
int qcuda_device_count(void);

qbackend *qbackend_cuda_create_opts(const qgpt_config *cfg, int B, int T, const qcuda_opts *o,
                                    char *err, size_t errlen);

/* Peak dense bf16 tensor-core FLOP/s of a GPU by its CUDA device name (A100,
 * H100 SXM/PCIe/NVL, H200, GH200, H800, H20, A10, A30, A40, L4, L40, L40S,
 * B200, ...); 0 for a name not in the table (MFU then needs --peak). */
double qcuda_peak_flops_by_name(const char *name);

/* For a backend made by the functions above (be->name is "cuda"): the device
 * name, its peak from the table (0 if unknown) and the device memory the
 * backend holds. */
const char *qbackend_cuda_device_name(const qbackend *be);
double qbackend_cuda_peak_flops(const qbackend *be);
size_t qbackend_cuda_memory_bytes(const qbackend *be);

#ifdef __cplusplus
}
#endif

#endif
