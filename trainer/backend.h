/* backend.h - the device interface of the train loop.
 *
 * The loop (train.c) only talks to a qbackend: forward/backward on a
 * micro-batch, the gradient norm, the AdamW update, and copying the state
 * (parameters and the two moments, in model.h's flat layout) to and from the
 * host for checkpoints. The C reference implements it in backend_cpu.c; the
 * CUDA backend (the .cu files of trainer/, built into the quern-cuda.so plugin
 * when nvcc is present, loaded on demand: cuda_plugin.h) has the same contract.
 * Gradients accumulate across backward calls until zero_grad. */
#ifndef QUERN_TRAINER_BACKEND_H
#define QUERN_TRAINER_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "optim.h"

typedef struct qbackend qbackend;
struct qbackend {
    const char *name;                   /* "cpu", "cuda" */
    void *ctx;
    /* mean loss over B*T targets (inputs, targets: host arrays [B][T]) */
    float (*forward)(qbackend *be, const int32_t *inputs, const int32_t *targets, int B, int T);
    /* gradient of scale * (mean loss of the last forward), added to the gradients */
    void (*backward)(qbackend *be, float scale);
    void (*zero_grad)(qbackend *be);
    double (*grad_norm)(qbackend *be);
    /* AdamW step t (1-based), gradients multiplied by grad_scale first */
    void (*update)(qbackend *be, const qadamw *hp, float lr, float grad_scale, long t);
    /* host <-> backend state; m and v may be NULL (set: zero moments) */
    int (*set_state)(qbackend *be, const float *params, const float *m, const float *v);
    int (*get_state)(qbackend *be, float *params, float *m, float *v);
    /* for checking against other implementations (--trace): the gradients as
     * accumulated so far, and the raw logits ([B*T][Vp]) of the last forward
     * made without targets */
    int (*get_grads)(qbackend *be, float *grads);
    int (*get_logits)(qbackend *be, float *logits);
    void (*destroy)(qbackend *be);
};

/* The C reference, with activations for micro-batches up to B x T. */
qbackend *qbackend_cpu_create(const qgpt_config *cfg, int B, int T, char *err, size_t errlen);

/* device: "cpu", "cuda", or "auto" (cuda when the plugin loads and a GPU
 * answers, else cpu, saying why on stderr when a GPU was there but failed). NULL with
 * err filled when the device cannot be had; *usage (may be NULL) is set to 1
 * when the reason is an unknown device name rather than a missing device. */
typedef struct qbackend_opts {
    int recompute;      /* GPU: recompute LayerNorm and GELU outputs in backward */
} qbackend_opts;
qbackend *qbackend_create_opts(const char *device, const qgpt_config *cfg, int B, int T,
                               const qbackend_opts *opts, int *usage, char *err, size_t errlen);
/* The same with default options. */
qbackend *qbackend_create(const char *device, const qgpt_config *cfg, int B, int T, char *err,
                          size_t errlen);

#endif
