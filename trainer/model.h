/* model.h - the GPT-2 style decoder: configuration, presets and the layout of
 * its parameters in one contiguous fp32 buffer.
 *
 * Every backend (the C reference in cpu.c, CUDA in *.cu) shares this layout:
 * parameters, gradients and the two AdamW moments are each one flat array of
 * qgpt_layout.total floats, tensor i starting at offset[i]. Checkpoints store
 * the arrays in this order, so a checkpoint is backend-independent.
 *
 * Shapes (weights as PyTorch's nn.Linear stores them, [out][in]):
 *   wte [Vp][C]  (tied: token embedding and output projection; rows >= V are
 *                 padding, initialised to zero, never read as inputs)
 *   wpe [T][C]
 *   per layer l (tensor holds all L layers back to back):
 *   ln1w, ln1b [L][C]      qkvw [L][3C][C]   qkvb [L][3C]
 *   attprojw [L][C][C]     attprojb [L][C]
 *   ln2w, ln2b [L][C]      fcw [L][4C][C]    fcb [L][4C]
 *   fcprojw [L][C][4C]     fcprojb [L][C]
 *   lnfw, lnfb [C] */
#ifndef QUERN_TRAINER_MODEL_H
#define QUERN_TRAINER_MODEL_H

#include <stddef.h>
#include <stdint.h>

typedef struct qgpt_config {
    int n_layer;      /* L */
    int n_head;       /* H */
    int n_embd;       /* C, a multiple of H */
    int seq_len;      /* maximum context T (rows of wpe) */
    int vocab_size;   /* V, real tokens (from the manifest) */
    int padded_vocab; /* Vp >= V, a multiple of the padding */
} qgpt_config;

enum {
    QP_WTE, QP_WPE, QP_LN1W, QP_LN1B, QP_QKVW, QP_QKVB, QP_ATTPROJW, QP_ATTPROJB,
    QP_LN2W, QP_LN2B, QP_FCW, QP_FCB, QP_FCPROJW, QP_FCPROJB, QP_LNFW, QP_LNFB,
    QP_NTENSORS
};

typedef struct qgpt_layout {
    size_t size[QP_NTENSORS];   /* floats in tensor i (all layers) */
    size_t offset[QP_NTENSORS]; /* start of tensor i in the flat buffer */
    size_t total;               /* floats in the whole buffer */
} qgpt_layout;

/* Fills the layout of cfg. */
void qgpt_layout_init(qgpt_layout *lay, const qgpt_config *cfg);
const char *qgpt_tensor_name(int i);
/* 1 for the tensors AdamW decays (matrices and embeddings), 0 for biases and
 * LayerNorm gains. */
int qgpt_tensor_decays(int i);

/* Presets d6, d12 (GPT-2 124M), d24, d36, d48: sets layers, heads, width.
 * Returns 0, or -1 for an unknown name. seq_len is left untouched. */
int qgpt_preset(const char *name, qgpt_config *cfg);
/* Sets padded_vocab = V rounded up to a multiple of pad (pad > 0). */
void qgpt_set_vocab(qgpt_config *cfg, int vocab_size, int pad);
/* NULL if the configuration is usable, else a sentence saying why not. */
const char *qgpt_config_error(const qgpt_config *cfg);

/* Parameters that count (padding rows of wte excluded): the N of 6 N D. */
uint64_t qgpt_num_params(const qgpt_config *cfg);
/* Training FLOPs per token at context T: 6 N + 6 L C T (llm.c's attention
 * count: QK^T and att.V, forward and backward, causal mask not discounted). */
double qgpt_flops_per_token(const qgpt_config *cfg, int T);

/* N(0, 0.02) weights, residual projections (attprojw, fcprojw) scaled by
 * 1/sqrt(2L), zero biases, unit LayerNorm gains, zero padding rows. The same
 * seed gives the same floats on every machine. */
void qgpt_init_params(const qgpt_config *cfg, const qgpt_layout *lay, float *params,
                      uint64_t seed);

/* The random generator of the trainer (xoshiro256**), small enough to store
 * in a checkpoint. */
typedef struct qrng { uint64_t s[4]; } qrng;
void qrng_seed(qrng *r, uint64_t seed);
uint64_t qrng_next(qrng *r);
double qrng_uniform(qrng *r);   /* [0, 1) with 53 random bits */
double qrng_normal(qrng *r);    /* standard normal (Box-Muller, no cached twin) */

#endif
