/* cuda_plugin.h - the CUDA backend as a plugin: quern itself never links the
 * CUDA libraries (every command would load cuBLASLt at start-up, ~220 MB, and
 * quern would not start where they are missing). The trainer/cuda_*.cu sources are
 * built into quern-cuda.so (`make` does it when nvcc is found), which exports
 * one C symbol, quern_cuda_plugin(), returning the table below; the C side
 * reaches the backend only through that table, loaded with dlopen the first
 * time training asks for a GPU (qcuda_plugin_load).
 *
 * Where the plugin is looked for, first match wins:
 *   1. $QUERN_CUDA_PLUGIN (a path; nothing else is tried when it is set)
 *   2. quern-cuda.so next to the running executable (/proc/self/exe)
 *   3. ../lib/quern/quern-cuda.so relative to the executable's directory
 *      (an installed layout: bin/quern, lib/quern/quern-cuda.so)
 * The plugin finds libcudart/libcublas/libcublasLt through its own rpath
 * (the toolkit it was built against). */
#ifndef QUERN_TRAINER_CUDA_PLUGIN_H
#define QUERN_TRAINER_CUDA_PLUGIN_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "backend.h" /* C headers: their declarations keep C linkage in the .cu files */
#include "model.h"

/* Options of the CUDA backend (see cuda_backend.h for their environment
 * variables). */
typedef struct qcuda_opts {
    int fp32;       /* 1: exact fp32 mode; 0: bf16 activations and products (default) */
    int recompute;  /* 1: recompute LayerNorm and GELU outputs in backward */
    int fuse;       /* 1: cuBLASLt bias / GELU epilogues where offered (default) */
    int device;     /* CUDA device ordinal */
} qcuda_opts;

/* Bumped whenever the table or a structure it passes (qbackend, qgpt_config,
 * qcuda_opts) changes meaning; the loader refuses any other number. The sizes
 * below are a second guard against a plugin left over from another tree. */
#define QCUDA_PLUGIN_ABI 1
#define QCUDA_PLUGIN_SYMBOL "quern_cuda_plugin"
#define QCUDA_PLUGIN_FILE "quern-cuda.so"

typedef struct qcuda_plugin {
    int abi;                 /* QCUDA_PLUGIN_ABI as the plugin was built */
    size_t size_table;       /* sizeof(qcuda_plugin) */
    size_t size_backend;     /* sizeof(qbackend) */
    size_t size_config;      /* sizeof(qgpt_config) */
    size_t size_opts;        /* sizeof(qcuda_opts) */

    /* defaults, overridden by the QUERN_CUDA_* environment variables */
    void (*opts_default)(qcuda_opts *o);
    /* GPUs the CUDA runtime sees; 0 when there is no GPU or no driver */
    int (*device_count)(void);
    /* a backend (be->name "cuda") for micro-batches up to B x T; NULL with err */
    qbackend *(*create_opts)(const qgpt_config *cfg, int B, int T, const qcuda_opts *o,
                             char *err, size_t errlen);
    /* peak dense bf16 FLOP/s by CUDA device name; 0 for a name not in the table */
    double (*peak_flops_by_name)(const char *name);
    /* for a backend made by create_opts: device name, its peak (0 if unknown),
     * device memory held */
    const char *(*device_name)(const qbackend *be);
    double (*peak_flops)(const qbackend *be);
    size_t (*memory_bytes)(const qbackend *be);
} qcuda_plugin;

/* The one symbol the plugin exports. */
typedef const qcuda_plugin *(*qcuda_plugin_entry)(void);
const qcuda_plugin *quern_cuda_plugin(void);

/* Loads the plugin on the first call (later calls return the same answer,
 * from any thread). NULL when it cannot be had, with err (may be NULL) set to
 * one sentence naming the path tried and dlerror()'s reason, or the ABI
 * mismatch. */
const qcuda_plugin *qcuda_plugin_load(char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
