/* cpu.c - the GPT forward and backward passes composed from cpu_layers.c.
 * The backward walks the forward in reverse, layer by layer; the residual
 * stream's gradient lives in one buffer (d_res) that each block adds into. */
#include "cpu.h"

#include <stdlib.h>
#include <string.h>

#include "cpu_kernels.h"

static size_t max_sz(size_t a, size_t b) { return a > b ? a : b; }

int qcpu_model_init(qcpu_model *m, const qgpt_config *cfg, int B, int T)
{
    memset(m, 0, sizeof *m);
    m->cfg = *cfg;
    qgpt_layout_init(&m->lay, cfg);
    m->max_B = B;
    m->max_T = T;
    size_t L = cfg->n_layer, C = cfg->n_embd, H = cfg->n_head, Vp = cfg->padded_vocab;
    size_t N = (size_t)B * T;

    m->params = calloc(m->lay.total, sizeof(float));
    m->grads = calloc(m->lay.total, sizeof(float));

    /* activations: one block, carved in the order of qcpu_acts */
    size_t sizes[] = {
        N * C,                                   /* encoded */
        L * N * C, L * N, L * N,                 /* ln1, mean, rstd */
        L * N * 3 * C, L * N * C,                /* qkv, atty */
        L * B * H * T, L * B * H * T,            /* att_max, att_isum */
        L * N * C,                               /* res2 */
        L * N * C, L * N, L * N,                 /* ln2, mean, rstd */
        L * N * 4 * C, L * N * 4 * C,            /* fch, fch_gelu */
        L * N * C,                               /* res3 */
        N * C, N, N,                             /* lnf, mean, rstd */
        N * Vp, N,                               /* logits, losses */
    };
    float **slots[] = {
        &m->acts.encoded, &m->acts.ln1, &m->acts.ln1_mean, &m->acts.ln1_rstd, &m->acts.qkv,
        &m->acts.atty, &m->acts.att_max, &m->acts.att_isum, &m->acts.res2, &m->acts.ln2,
        &m->acts.ln2_mean, &m->acts.ln2_rstd, &m->acts.fch, &m->acts.fch_gelu, &m->acts.res3,
        &m->acts.lnf, &m->acts.lnf_mean, &m->acts.lnf_rstd, &m->acts.logits, &m->acts.losses,
    };
    size_t n_slots = sizeof slots / sizeof slots[0], total = 0;
    for (size_t i = 0; i < n_slots; i++) total += sizes[i];
    m->act_mem = malloc(total * sizeof(float));

    size_t scratch = N * C + N * C + N * 3 * C + N * 4 * C + N * 4 * C;
    m->scratch_mem = malloc(scratch * sizeof(float));

    size_t pack = 0;
    int Ci = (int)C, Vpi = (int)Vp, Ni = (int)N;
    int shapes[][2] = {
        { Ci, 3 * Ci }, { Ci, Ci }, { Ci, 4 * Ci }, { 4 * Ci, Ci }, { Ci, Vpi },
        { 3 * Ci, Ci }, { Vpi, Ci }, { Ni, Ci }, { Ni, 4 * Ci },
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        pack = max_sz(pack, qgemm_pack_floats(shapes[i][0], shapes[i][1]));
    m->pack = malloc(pack * sizeof(float));
    m->inputs = malloc(N * sizeof(int32_t));
    m->targets = malloc(N * sizeof(int32_t));

    if (!m->params || !m->grads || !m->act_mem || !m->scratch_mem || !m->pack || !m->inputs ||
        !m->targets) {
        qcpu_model_free(m);
        return -1;
    }
    float *p = m->act_mem;
    for (size_t i = 0; i < n_slots; i++) {
        *slots[i] = p;
        p += sizes[i];
    }
    p = m->scratch_mem;
    m->d_res = p; p += N * C;
    m->d_c = p; p += N * C;
    m->d_qkv = p; p += N * 3 * C;
    m->d_fch = p; p += N * 4 * C;
    m->d_fch_gelu = p;
    return 0;
}

void qcpu_model_free(qcpu_model *m)
{
    free(m->params);
    free(m->grads);
    free(m->act_mem);
    free(m->scratch_mem);
    free(m->pack);
    free(m->inputs);
    free(m->targets);
    memset(m, 0, sizeof *m);
}

void qcpu_zero_grad(qcpu_model *m)
{
    memset(m->grads, 0, m->lay.total * sizeof(float));
}

/* Pointers to layer l's parameters (or gradients) inside a flat buffer. */
typedef struct layer_view {
    float *ln1w, *ln1b, *qkvw, *qkvb, *attprojw, *attprojb;
    float *ln2w, *ln2b, *fcw, *fcb, *fcprojw, *fcprojb;
} layer_view;

static layer_view layer_at(const qcpu_model *m, float *base, int l)
{
    const size_t *o = m->lay.offset;
    size_t C = m->cfg.n_embd;
    layer_view v = {
        base + o[QP_LN1W] + l * C, base + o[QP_LN1B] + l * C,
        base + o[QP_QKVW] + l * 3 * C * C, base + o[QP_QKVB] + l * 3 * C,
        base + o[QP_ATTPROJW] + l * C * C, base + o[QP_ATTPROJB] + l * C,
        base + o[QP_LN2W] + l * C, base + o[QP_LN2B] + l * C,
        base + o[QP_FCW] + l * 4 * C * C, base + o[QP_FCB] + l * 4 * C,
        base + o[QP_FCPROJW] + l * 4 * C * C, base + o[QP_FCPROJB] + l * C,
    };
    return v;
}

/* Layer l's activations for a batch of N = B*T rows (strides follow the
 * current B, T, not the maximum, so a smaller batch stays contiguous). */
typedef struct act_view {
    float *ln1, *ln1_mean, *ln1_rstd, *qkv, *atty, *att_max, *att_isum, *res2;
    float *ln2, *ln2_mean, *ln2_rstd, *fch, *fch_gelu, *res3;
} act_view;

static act_view acts_at(const qcpu_model *m, int l)
{
    const qcpu_acts *a = &m->acts;
    size_t N = (size_t)m->B * m->T, C = m->cfg.n_embd, BHT = (size_t)m->B * m->cfg.n_head * m->T;
    act_view v = {
        a->ln1 + l * N * C, a->ln1_mean + l * N, a->ln1_rstd + l * N,
        a->qkv + l * N * 3 * C, a->atty + l * N * C,
        a->att_max + l * BHT, a->att_isum + l * BHT, a->res2 + l * N * C,
        a->ln2 + l * N * C, a->ln2_mean + l * N, a->ln2_rstd + l * N,
        a->fch + l * N * 4 * C, a->fch_gelu + l * N * 4 * C, a->res3 + l * N * C,
    };
    return v;
}

float qcpu_forward(qcpu_model *m, const int32_t *inputs, const int32_t *targets, int B, int T)
{
    const qgpt_config *cfg = &m->cfg;
    int C = cfg->n_embd, H = cfg->n_head, L = cfg->n_layer, V = cfg->vocab_size;
    int Vp = cfg->padded_vocab, N = B * T;
    m->B = B;
    m->T = T;
    memcpy(m->inputs, inputs, (size_t)N * sizeof(int32_t));
    m->has_targets = targets != NULL;
    if (targets) memcpy(m->targets, targets, (size_t)N * sizeof(int32_t));

    float *P = m->params;
    const size_t *o = m->lay.offset;
    qk_encoder_forward(m->acts.encoded, m->inputs, P + o[QP_WTE], P + o[QP_WPE], B, T, C);
    float *residual = m->acts.encoded;
    for (int l = 0; l < L; l++) {
        layer_view w = layer_at(m, P, l);
        act_view a = acts_at(m, l);
        qk_layernorm_forward(a.ln1, a.ln1_mean, a.ln1_rstd, residual, w.ln1w, w.ln1b, N, C);
        qk_matmul_forward(a.qkv, a.ln1, w.qkvw, w.qkvb, N, C, 3 * C, m->pack);
        qk_attention_forward(a.atty, a.att_max, a.att_isum, a.qkv, B, T, C, H);
        qk_matmul_forward(a.res2, a.atty, w.attprojw, w.attprojb, N, C, C, m->pack);
        qk_residual_add(a.res2, residual, (size_t)N * C);
        qk_layernorm_forward(a.ln2, a.ln2_mean, a.ln2_rstd, a.res2, w.ln2w, w.ln2b, N, C);
        qk_matmul_forward(a.fch, a.ln2, w.fcw, w.fcb, N, C, 4 * C, m->pack);
        qk_gelu_forward(a.fch_gelu, a.fch, (size_t)N * 4 * C);
        qk_matmul_forward(a.res3, a.fch_gelu, w.fcprojw, w.fcprojb, N, 4 * C, C, m->pack);
        qk_residual_add(a.res3, a.res2, (size_t)N * C);
        residual = a.res3;
    }
    qcpu_acts *A = &m->acts;
    qk_layernorm_forward(A->lnf, A->lnf_mean, A->lnf_rstd, residual, P + o[QP_LNFW],
                         P + o[QP_LNFB], N, C);
    /* tied output projection: logits = lnf . wte^T */
    qk_matmul_forward(A->logits, A->lnf, P + o[QP_WTE], NULL, N, C, Vp, m->pack);
    if (!targets) {
        m->mean_loss = 0.0f;
        return 0.0f;
    }
    qk_crossentropy_forward(A->losses, A->logits, m->targets, N, V, Vp);
    double sum = 0.0;
    for (int i = 0; i < N; i++) sum += A->losses[i];
    m->mean_loss = (float)(sum / N);
    return m->mean_loss;
}

void qcpu_backward(qcpu_model *m, float scale)
{
    const qgpt_config *cfg = &m->cfg;
    int C = cfg->n_embd, H = cfg->n_head, L = cfg->n_layer, V = cfg->vocab_size;
    int Vp = cfg->padded_vocab, B = m->B, T = m->T, N = B * T;
    float *P = m->params, *G = m->grads;
    const size_t *o = m->lay.offset;
    qcpu_acts *A = &m->acts;

    /* d(scale * mean loss)/d logits, in place of the probabilities */
    qk_crossentropy_backward(A->logits, m->targets, N, V, Vp, scale / (float)N);
    qk_matmul_backward(m->d_c, G + o[QP_WTE], NULL, A->logits, A->lnf, P + o[QP_WTE], N, C, Vp,
                       m->pack);
    float *residual = L > 0 ? acts_at(m, L - 1).res3 : A->encoded;
    memset(m->d_res, 0, (size_t)N * C * sizeof(float));
    qk_layernorm_backward(m->d_res, G + o[QP_LNFW], G + o[QP_LNFB], m->d_c, residual,
                          P + o[QP_LNFW], A->lnf_mean, A->lnf_rstd, N, C);

    for (int l = L - 1; l >= 0; l--) {
        layer_view w = layer_at(m, P, l), g = layer_at(m, G, l);
        act_view a = acts_at(m, l);
        residual = l > 0 ? acts_at(m, l - 1).res3 : A->encoded;
        /* MLP block: res3 = res2 + fcproj(gelu(fc(ln2(res2)))) */
        qk_matmul_backward(m->d_fch_gelu, g.fcprojw, g.fcprojb, m->d_res, a.fch_gelu, w.fcprojw,
                           N, 4 * C, C, m->pack);
        qk_gelu_backward(m->d_fch, a.fch, m->d_fch_gelu, (size_t)N * 4 * C);
        qk_matmul_backward(m->d_c, g.fcw, g.fcb, m->d_fch, a.ln2, w.fcw, N, C, 4 * C, m->pack);
        qk_layernorm_backward(m->d_res, g.ln2w, g.ln2b, m->d_c, a.res2, w.ln2w, a.ln2_mean,
                              a.ln2_rstd, N, C);
        /* attention block: res2 = residual + attproj(attn(qkv(ln1(residual)))) */
        qk_matmul_backward(m->d_c, g.attprojw, g.attprojb, m->d_res, a.atty, w.attprojw, N, C, C,
                           m->pack);
        qk_attention_backward(m->d_qkv, m->d_c, a.qkv, a.att_max, a.att_isum, B, T, C, H);
        qk_matmul_backward(m->d_c, g.qkvw, g.qkvb, m->d_qkv, a.ln1, w.qkvw, N, C, 3 * C, m->pack);
        qk_layernorm_backward(m->d_res, g.ln1w, g.ln1b, m->d_c, residual, w.ln1w, a.ln1_mean,
                              a.ln1_rstd, N, C);
    }
    qk_encoder_backward(G + o[QP_WTE], G + o[QP_WPE], m->d_res, m->inputs, B, T, C);
}
