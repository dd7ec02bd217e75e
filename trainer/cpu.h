/* cpu.h - the C reference GPT: forward and backward on the CPU in fp32
 * (OpenMP), the ground truth every other backend is checked against.
 *
 * The parameters and gradients are single flat arrays in the layout of
 * model.h. Activations are allocated once for a maximum batch (B, T); a call
 * may use any B' <= B, T' <= T (sampling grows the context one token at a
 * time). Results are bit-for-bit reproducible for the same inputs,
 * independent of the number of threads. */
#ifndef QUERN_TRAINER_CPU_H
#define QUERN_TRAINER_CPU_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"

typedef struct qcpu_acts {
    float *encoded;                       /* [B*T][C] */
    float *ln1, *ln1_mean, *ln1_rstd;     /* [L][B*T][C], [L][B*T] x2 */
    float *qkv;                           /* [L][B*T][3C] */
    float *atty;                          /* [L][B*T][C] attention output */
    float *att_max, *att_isum;            /* [L][B][H][T] softmax row statistics */
    float *res2;                          /* [L][B*T][C] after the attention block */
    float *ln2, *ln2_mean, *ln2_rstd;
    float *fch, *fch_gelu;                /* [L][B*T][4C] */
    float *res3;                          /* [L][B*T][C] after the MLP block */
    float *lnf, *lnf_mean, *lnf_rstd;     /* [B*T][C], [B*T] x2 */
    float *logits;                        /* [B*T][Vp]: logits, probabilities, then gradients */
    float *losses;                        /* [B*T] */
} qcpu_acts;

typedef struct qcpu_model {
    qgpt_config cfg;
    qgpt_layout lay;
    float *params;      /* lay.total floats */
    float *grads;       /* lay.total floats */
    int max_B, max_T;
    qcpu_acts acts;
    float *act_mem;
    /* backward scratch, reused layer after layer */
    float *d_res, *d_c, *d_qkv, *d_fch, *d_fch_gelu;
    float *scratch_mem;
    float *pack;        /* qgemm's packing buffer */
    /* the last forward */
    int B, T;
    int32_t *inputs, *targets;
    int has_targets;
    float mean_loss;
} qcpu_model;

/* Allocates parameters (zeroed; call qgpt_init_params or load them),
 * gradients (zeroed) and activations for batches up to B x T.
 * Returns 0, or -1 when memory runs out. */
int qcpu_model_init(qcpu_model *m, const qgpt_config *cfg, int B, int T);
void qcpu_model_free(qcpu_model *m);

/* Forward pass over inputs [B][T]. With targets it computes the softmax and
 * the losses and returns the mean loss; without (NULL) it leaves the raw
 * logits in acts.logits ([B*T][Vp]) and returns 0. */
float qcpu_forward(qcpu_model *m, const int32_t *inputs, const int32_t *targets, int B, int T);
/* Backward of (scale * mean loss) of the last forward (which needs targets);
 * ADDS into m->grads, so micro-batches accumulate with scale = 1/steps. */
void qcpu_backward(qcpu_model *m, float scale);
void qcpu_zero_grad(qcpu_model *m);

#endif
