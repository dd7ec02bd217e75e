/* cuda_backend.h - the CUDA backend's own API, used inside the plugin only
 * (trainer/cuda_*.cu, built into quern-cuda.so when nvcc is present). The C
 * side of quern never calls these: it reaches them through the table of
 * cuda_plugin.h (qcuda_plugin_load), so quern itself links no CUDA library.
 *
 * qbackend_cuda_create() takes its options from qcuda_opts_default(), i.e.
 * from the environment:
 *   QUERN_CUDA_FP32=1       exact mode: fp32 activations, fp32 cuBLAS products
 *                           (no TF32) - slow, for parity checks
 *   QUERN_CUDA_RECOMPUTE=1  recompute LayerNorm and GELU outputs in the backward
 *                           pass instead of keeping them for every layer
 *   QUERN_CUDA_FUSE=0       no cuBLASLt epilogues (bias, GELU) - our kernels
 *   QUERN_CUDA_DEVICE=N     the GPU ordinal (default 0)
 *   QUERN_CUDA_ATTN=simt    bf16 mode, head size 64: the SIMT attention kernels
 *                           instead of the tensor-core ones (for comparison)
 *   QUERN_CUDA_SYNC=1       synchronise after every kernel launch, so a fault
 *                           inside a kernel names its launch (diagnosis; slow)
 *   QUERN_CUDA_VERBOSE=1    at destroy: how many products took cuBLASLt epilogues
 * qbackend_cuda_create_opts() takes them explicitly (`--recompute`).
 * QUERN_CUDA_PLUGIN=PATH (read by the loader, cuda_plugin.c) says which
 * quern-cuda.so to load. */
#ifndef QUERN_TRAINER_CUDA_BACKEND_H
#define QUERN_TRAINER_CUDA_BACKEND_H

#include <stddef.h>

#include "cuda_plugin.h" /* qcuda_opts, and backend.h with C linkage */

#ifdef __cplusplus
extern "C" {
#endif

/* Defaults, overridden by the QUERN_CUDA_* environment variables above. */
void qcuda_opts_default(qcuda_opts *o);

/* GPUs the CUDA runtime sees; 0 when there is no GPU or no driver. */
int qcuda_device_count(void);

qbackend *qbackend_cuda_create_opts(const qgpt_config *cfg, int B, int T, const qcuda_opts *o,
                                    char *err, size_t errlen);
/* The same with qcuda_opts_default(). */
qbackend *qbackend_cuda_create(const qgpt_config *cfg, int B, int T, char *err, size_t errlen);

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
