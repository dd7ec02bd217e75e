/* optim.h - AdamW with decoupled weight decay, gradient clipping by global
 * norm, and the learning-rate schedules (warm-up, then cosine, linear,
 * constant or warmup-stable-decay). Works on the flat buffers of model.h, so
 * every backend that keeps its state on the host can share it; the arithmetic
 * follows torch.optim.AdamW step by step (the parity test compares them). */
#ifndef QUERN_TRAINER_OPTIM_H
#define QUERN_TRAINER_OPTIM_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"

typedef struct qadamw {
    float beta1, beta2, eps, weight_decay;
} qadamw;

#define QADAMW_DEFAULTS { 0.9f, 0.95f, 1e-8f, 0.1f }

/* One AdamW step t (1-based) on every tensor of the layout. Each gradient is
 * multiplied by grad_scale first (clipping). Weight decay applies only to the
 * tensors qgpt_tensor_decays() names. */
void qadamw_step(float *params, const float *grads, float *m, float *v, const qgpt_layout *lay,
                 const qadamw *hp, float lr, float grad_scale, long t);

/* sqrt(sum of squares), summed in double in fixed chunks: the same value at
 * any thread count. */
double qgrad_norm(const float *grads, size_t n);
/* torch.nn.utils.clip_grad_norm_'s factor: min(1, max_norm / (norm + 1e-6));
 * max_norm <= 0 disables clipping. */
float qclip_scale(double norm, float max_norm);

typedef enum { QSCHED_COSINE, QSCHED_LINEAR, QSCHED_CONSTANT, QSCHED_WSD } qsched_kind;

typedef struct qsched {
    qsched_kind kind;
    double lr;          /* peak */
    double min_lr;      /* reached at the last step (cosine, linear, wsd) */
    long warmup;        /* steps of linear warm-up from lr/warmup */
    long total;         /* steps in the run */
    double decay_frac;  /* wsd: fraction of the run spent decaying (at the end) */
} qsched;

/* "cosine", "linear", "constant", "wsd"; 0 or -1. */
int qsched_parse(const char *name, qsched_kind *kind);
const char *qsched_name(qsched_kind kind);
/* Learning rate of step (1-based). */
double qsched_lr(const qsched *s, long step);

#endif
