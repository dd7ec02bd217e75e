/* cuda_backend.cu - the GPT forward and backward on a GPU behind backend.h,
 * step for step the composition of cpu.c (so gradients can be compared
 * tensor by tensor), with cuBLASLt for the products and cuda_kernels.h for
 * the rest.
 *
 * State on the device: fp32 master parameters, gradients and AdamW moments in
 * model.h's flat layout; in the fast mode also a bf16 copy of the parameters
 * (the working weights the products read), rewritten by every AdamW step.
 * Activations: the residual stream (encoded, res2, res3) and all statistics
 * are fp32; the rest is of the activation type X (bf16, or fp32 in the exact
 * mode). With recomputation the LayerNorm and GELU outputs exist for one layer
 * at a time and are rebuilt in the backward pass from the saved statistics. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_gemm.h"
#include "cuda_kernels.h"

#include "cuda_backend.h"

typedef struct cuda_ctx {
    qgpt_config cfg;
    qgpt_layout lay;
    qcuda_opts opts;
    int max_B, max_T;
    size_t xs;                 /* bytes per activation element */
    cudaStream_t stream;
    qcuda_blas blas;
    char device_name[256];
    size_t bytes;              /* device memory allocated */

    float *params, *grads, *m, *v;
    bf16 *wbf;                 /* bf16 working weights (fast mode) */

    /* activations, [L] x [max N] x width unless recomputed (then one layer) */
    float *encoded, *res2, *res3;
    void *ln1, *ln2, *qkv, *atty, *fch, *fch_gelu, *lnf, *logits;
    float *ln1_mean, *ln1_rstd, *ln2_mean, *ln2_rstd, *att_lse, *lnf_mean, *lnf_rstd;
    float *losses, *cls_lse;
    /* backward scratch */
    float *d_res;
    void *d_res_x, *d_c, *d_qkv, *d_fch;
    float *dsum, *partial;
    double *scalar, *norm_partial;

    int32_t *d_inputs, *d_targets, *d_bucket_token, *d_bucket_start, *d_bucket_rows;
    int32_t *h_inputs, *h_targets, *h_bucket_token, *h_bucket_start, *h_bucket_rows; /* pinned */
    int32_t *h_count;          /* [Vp] zero between uses */
    int n_buckets;

    int B, T, has_targets;
    float mean_loss;
} cuda_ctx;

/* ---- allocation ---- */

static int dev_alloc(cuda_ctx *c, void **p, size_t bytes)
{
    if (bytes == 0) bytes = 16;
    if (cudaMalloc(p, bytes) != cudaSuccess) {
        (void)cudaGetLastError();
        *p = NULL;
        return -1;
    }
    c->bytes += bytes;
    return 0;
}

static int host_alloc(void **p, size_t bytes)
{
    if (cudaMallocHost(p, bytes ? bytes : 16) != cudaSuccess) {
        (void)cudaGetLastError();
        *p = NULL;
        return -1;
    }
    return 0;
}

static void ctx_free(cuda_ctx *c)
{
    void *dev[] = {
        c->params, c->grads, c->m, c->v, c->wbf, c->encoded, c->res2, c->res3, c->ln1, c->ln2,
        c->qkv, c->atty, c->fch, c->fch_gelu, c->lnf, c->logits, c->ln1_mean, c->ln1_rstd,
        c->ln2_mean, c->ln2_rstd, c->att_lse, c->lnf_mean, c->lnf_rstd, c->losses, c->cls_lse,
        c->d_res, c->d_c, c->d_qkv, c->d_fch, c->dsum, c->partial, c->scalar,
        c->norm_partial, c->d_inputs, c->d_targets, c->d_bucket_token, c->d_bucket_start,
        c->d_bucket_rows,
    };
    for (size_t i = 0; i < sizeof dev / sizeof dev[0]; i++)
        if (dev[i]) cudaFree(dev[i]);
    if (c->d_res_x && c->d_res_x != (void *)c->d_res) cudaFree(c->d_res_x);
    void *host[] = { c->h_inputs, c->h_targets, c->h_bucket_token, c->h_bucket_start,
                     c->h_bucket_rows };
    for (size_t i = 0; i < sizeof host / sizeof host[0]; i++)
        if (host[i]) cudaFreeHost(host[i]);
    free(c->h_count);
    qcuda_blas_free(&c->blas);
    if (c->stream) cudaStreamDestroy(c->stream);
    free(c);
}

static int ctx_alloc(cuda_ctx *c)
{
    size_t L = c->cfg.n_layer, C = c->cfg.n_embd, H = c->cfg.n_head, Vp = c->cfg.padded_vocab;
    size_t N = (size_t)c->max_B * c->max_T, xs = c->xs, P = c->lay.total;
    size_t Lr = c->opts.recompute ? 1 : L; /* layers kept of the recomputed tensors */
    size_t part = qck_colsum_partial_floats((int)N, (int)(4 * C));
    struct { void **p; size_t bytes; } t[] = {
        { (void **)&c->params, P * 4 }, { (void **)&c->grads, P * 4 },
        { (void **)&c->m, P * 4 }, { (void **)&c->v, P * 4 },
        { (void **)&c->encoded, N * C * 4 }, { (void **)&c->res2, L * N * C * 4 },
        { (void **)&c->res3, L * N * C * 4 },
        { &c->ln1, Lr * N * C * xs }, { &c->ln2, Lr * N * C * xs },
        { &c->qkv, L * N * 3 * C * xs }, { &c->atty, L * N * C * xs },
        { &c->fch, L * N * 4 * C * xs }, { &c->fch_gelu, Lr * N * 4 * C * xs },
        { &c->lnf, N * C * xs }, { &c->logits, N * Vp * xs },
        { (void **)&c->ln1_mean, L * N * 4 }, { (void **)&c->ln1_rstd, L * N * 4 },
        { (void **)&c->ln2_mean, L * N * 4 }, { (void **)&c->ln2_rstd, L * N * 4 },
        { (void **)&c->att_lse, L * N * H * 4 }, { (void **)&c->lnf_mean, N * 4 },
        { (void **)&c->lnf_rstd, N * 4 }, { (void **)&c->losses, N * 4 },
        { (void **)&c->cls_lse, N * 4 },
        { (void **)&c->d_res, N * C * 4 }, { &c->d_c, N * C * xs },
        { &c->d_qkv, N * 3 * C * xs }, { &c->d_fch, N * 4 * C * xs },
        { (void **)&c->dsum, N * H * 4 }, { (void **)&c->partial, part * 4 },
        { (void **)&c->scalar, 8 }, { (void **)&c->norm_partial, QCK_NORM_PARTIALS * 8 },
        { (void **)&c->d_inputs, N * 4 }, { (void **)&c->d_targets, N * 4 },
        { (void **)&c->d_bucket_token, N * 4 }, { (void **)&c->d_bucket_start, (N + 1) * 4 },
        { (void **)&c->d_bucket_rows, N * 4 },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (dev_alloc(c, t[i].p, t[i].bytes)) return -1;
    if (c->opts.fp32) {
        c->d_res_x = c->d_res; /* same type: the bf16 shadow is the stream itself */
    } else {
        if (dev_alloc(c, &c->d_res_x, N * C * xs)) return -1;
        if (dev_alloc(c, (void **)&c->wbf, P * sizeof(bf16))) return -1;
    }
    if (host_alloc((void **)&c->h_inputs, N * 4) || host_alloc((void **)&c->h_targets, N * 4) ||
        host_alloc((void **)&c->h_bucket_token, N * 4) ||
        host_alloc((void **)&c->h_bucket_start, (N + 1) * 4) ||
        host_alloc((void **)&c->h_bucket_rows, N * 4))
        return -1;
    c->h_count = (int32_t *)calloc(Vp, sizeof(int32_t));
    if (!c->h_count) return -1;
    QCUDA_CHECK(cudaMemsetAsync(c->params, 0, P * 4, c->stream));
    QCUDA_CHECK(cudaMemsetAsync(c->grads, 0, P * 4, c->stream));
    QCUDA_CHECK(cudaMemsetAsync(c->m, 0, P * 4, c->stream));
    QCUDA_CHECK(cudaMemsetAsync(c->v, 0, P * 4, c->stream));
    if (c->wbf) QCUDA_CHECK(cudaMemsetAsync(c->wbf, 0, P * sizeof(bf16), c->stream));
    return 0;
}

/* ---- views into the flat parameter buffers and the activations ---- */

/* tensor k of layer l: per-layer size is size[k] / L for the layer tensors */
static size_t layer_offset(const cuda_ctx *c, int k, int l)
{
    size_t per = c->lay.size[k] / (size_t)c->cfg.n_layer;
    return c->lay.offset[k] + (size_t)l * per;
}

template <typename X> struct model_views {
    const cuda_ctx *c;
    size_t N;
    /* working weights (X) and fp32 masters */
    const X *w(int k, int l) const
    {
        const void *base = c->wbf ? (const void *)c->wbf : (const void *)c->params;
        return (const X *)base + layer_offset(c, k, l);
    }
    float *p(int k, int l) const { return c->params + layer_offset(c, k, l); }
    float *g(int k, int l) const { return c->grads + layer_offset(c, k, l); }
    X *act(void *base, int l, size_t width, int kept_per_layer) const
    {
        return (X *)base + (kept_per_layer ? (size_t)l * N * width : 0);
    }
};

/* ---- host side of the embedding backward: rows grouped by token ---- */

static void build_buckets(cuda_ctx *c, const int32_t *inputs, int N)
{
    int32_t *cnt = c->h_count;
    int nb = 0;
    for (int i = 0; i < N; i++) {
        int32_t tok = inputs[i];
        if (cnt[tok]++ == 0) c->h_bucket_token[nb++] = tok;
    }
    c->h_bucket_start[0] = 0;
    for (int u = 0; u < nb; u++) {
        int32_t tok = c->h_bucket_token[u];
        c->h_bucket_start[u + 1] = c->h_bucket_start[u] + cnt[tok];
        cnt[tok] = c->h_bucket_start[u]; /* now the write cursor of the bucket */
    }
    for (int i = 0; i < N; i++) c->h_bucket_rows[cnt[inputs[i]]++] = i;
    for (int u = 0; u < nb; u++) cnt[c->h_bucket_token[u]] = 0;
    c->n_buckets = nb;
}

/* ---- forward ---- */

template <typename X> static void forward_impl(cuda_ctx *c, int B, int T)
{
    const qgpt_config *cfg = &c->cfg;
    int C = cfg->n_embd, H = cfg->n_head, L = cfg->n_layer, V = cfg->vocab_size;
    int Vp = cfg->padded_vocab, N = B * T;
    cudaStream_t s = c->stream;
    int keep = !c->opts.recompute;
    model_views<X> mv = { c, (size_t)N };
    const size_t *o = c->lay.offset;

    qck_encoder_forward(c->encoded, c->d_inputs, c->params + o[QP_WTE], c->params + o[QP_WPE], B,
                        T, C, s);
    float *residual = c->encoded;
    for (int l = 0; l < L; l++) {
        X *ln1 = mv.act(c->ln1, l, C, keep), *ln2 = mv.act(c->ln2, l, C, keep);
        X *qkv = mv.act(c->qkv, l, 3 * C, 1), *atty = mv.act(c->atty, l, C, 1);
        X *fch = mv.act(c->fch, l, 4 * C, 1), *fch_gelu = mv.act(c->fch_gelu, l, 4 * C, keep);
        float *res2 = c->res2 + (size_t)l * N * C, *res3 = c->res3 + (size_t)l * N * C;
        float *ln1_mean = c->ln1_mean + (size_t)l * N, *ln1_rstd = c->ln1_rstd + (size_t)l * N;
        float *ln2_mean = c->ln2_mean + (size_t)l * N, *ln2_rstd = c->ln2_rstd + (size_t)l * N;
        float *lse = c->att_lse + (size_t)l * N * H;

        qck_layernorm_forward<X>(ln1, ln1_mean, ln1_rstd, residual, mv.p(QP_LN1W, l),
                                 mv.p(QP_LN1B, l), N, C, s);
        qcuda_linear_forward<X, X>(&c->blas, qkv, ln1, mv.w(QP_QKVW, l), mv.w(QP_QKVB, l), NULL,
                                   NULL, N, C, 3 * C, s);
        qck_attention_forward<X>(atty, lse, qkv, B, T, C, H, s);
        qcuda_linear_forward<X, float>(&c->blas, res2, atty, mv.w(QP_ATTPROJW, l),
                                       mv.p(QP_ATTPROJB, l), residual, NULL, N, C, C, s);
        qck_layernorm_forward<X>(ln2, ln2_mean, ln2_rstd, res2, mv.p(QP_LN2W, l),
                                 mv.p(QP_LN2B, l), N, C, s);
        qcuda_linear_forward<X, X>(&c->blas, fch, ln2, mv.w(QP_FCW, l), mv.w(QP_FCB, l), NULL,
                                   fch_gelu, N, C, 4 * C, s);
        qcuda_linear_forward<X, float>(&c->blas, res3, fch_gelu, mv.w(QP_FCPROJW, l),
                                       mv.p(QP_FCPROJB, l), res2, NULL, N, 4 * C, C, s);
        residual = res3;
    }
    X *lnf = (X *)c->lnf, *logits = (X *)c->logits;
    qck_layernorm_forward<X>(lnf, c->lnf_mean, c->lnf_rstd, residual, c->params + o[QP_LNFW],
                             c->params + o[QP_LNFB], N, C, s);
    /* tied output projection: logits = lnf . wte^T */
    qcuda_linear_forward<X, X>(&c->blas, logits, lnf, mv.w(QP_WTE, 0), (const X *)NULL, NULL,
                               NULL, N, C, Vp, s);
    if (c->has_targets) {
        qck_classifier_forward<X>(c->losses, c->cls_lse, logits, c->d_targets, N, V, Vp, s);
        qck_sum(c->scalar, c->losses, N, s);
    }
}

/* ---- backward ---- */

template <typename X> static void backward_impl(cuda_ctx *c, float scale)
{
    const qgpt_config *cfg = &c->cfg;
    int C = cfg->n_embd, H = cfg->n_head, L = cfg->n_layer, V = cfg->vocab_size;
    int Vp = cfg->padded_vocab, B = c->B, T = c->T, N = B * T;
    cudaStream_t s = c->stream;
    int keep = !c->opts.recompute;
    model_views<X> mv = { c, (size_t)N };
    const size_t *o = c->lay.offset;
    X *d_res_x = (X *)c->d_res_x, *d_c = (X *)c->d_c, *d_qkv = (X *)c->d_qkv;
    X *d_fch = (X *)c->d_fch, *logits = (X *)c->logits, *lnf = (X *)c->lnf;

    /* d(scale * mean loss)/d logits, in place of the logits */
    qck_classifier_backward<X>(logits, c->cls_lse, c->d_targets, N, V, Vp, scale / (float)N, s);
    qcuda_linear_backward_input<X>(&c->blas, d_c, logits, mv.w(QP_WTE, 0), N, C, Vp, s);
    qcuda_linear_backward_weight<X>(&c->blas, c->grads + o[QP_WTE], logits, lnf, N, C, Vp, s);
    float *residual = L > 0 ? c->res3 + (size_t)(L - 1) * N * C : c->encoded;
    QCUDA_CHECK(cudaMemsetAsync(c->d_res, 0, (size_t)N * C * sizeof(float), s));
    qck_layernorm_backward<X>(c->d_res, d_res_x, c->grads + o[QP_LNFW], c->grads + o[QP_LNFB],
                              c->partial, d_c, residual, c->params + o[QP_LNFW], c->lnf_mean,
                              c->lnf_rstd, N, C, s);

    for (int l = L - 1; l >= 0; l--) {
        residual = l > 0 ? c->res3 + (size_t)(l - 1) * N * C : c->encoded;
        X *ln1 = mv.act(c->ln1, l, C, keep), *ln2 = mv.act(c->ln2, l, C, keep);
        X *qkv = mv.act(c->qkv, l, 3 * C, 1), *atty = mv.act(c->atty, l, C, 1);
        X *fch = mv.act(c->fch, l, 4 * C, 1), *fch_gelu = mv.act(c->fch_gelu, l, 4 * C, keep);
        float *res2 = c->res2 + (size_t)l * N * C;
        float *ln1_mean = c->ln1_mean + (size_t)l * N, *ln1_rstd = c->ln1_rstd + (size_t)l * N;
        float *ln2_mean = c->ln2_mean + (size_t)l * N, *ln2_rstd = c->ln2_rstd + (size_t)l * N;
        float *lse = c->att_lse + (size_t)l * N * H;
        if (!keep) {
            qck_layernorm_apply<X>(ln2, ln2_mean, ln2_rstd, res2, mv.p(QP_LN2W, l),
                                   mv.p(QP_LN2B, l), N, C, s);
            qck_gelu_forward<X>(fch_gelu, fch, (size_t)N * 4 * C, s);
        }
        /* MLP block: res3 = res2 + fcproj(gelu(fc(ln2(res2)))) */
        qcuda_linear_backward_input<X>(&c->blas, d_fch, d_res_x, mv.w(QP_FCPROJW, l), N, 4 * C, C,
                                       s);
        qcuda_linear_backward_weight<X>(&c->blas, mv.g(QP_FCPROJW, l), d_res_x, fch_gelu, N,
                                        4 * C, C, s);
        qck_colsum_add<X>(mv.g(QP_FCPROJB, l), c->partial, d_res_x, N, C, s);
        qck_gelu_backward<X>(d_fch, fch, d_fch, (size_t)N * 4 * C, s);
        qcuda_linear_backward_input<X>(&c->blas, d_c, d_fch, mv.w(QP_FCW, l), N, C, 4 * C, s);
        qcuda_linear_backward_weight<X>(&c->blas, mv.g(QP_FCW, l), d_fch, ln2, N, C, 4 * C, s);
        qck_colsum_add<X>(mv.g(QP_FCB, l), c->partial, d_fch, N, 4 * C, s);
        qck_layernorm_backward<X>(c->d_res, d_res_x, mv.g(QP_LN2W, l), mv.g(QP_LN2B, l),
                                  c->partial, d_c, res2, mv.p(QP_LN2W, l), ln2_mean, ln2_rstd, N,
                                  C, s);
        /* attention block: res2 = residual + attproj(attn(qkv(ln1(residual)))) */
        if (!keep)
            qck_layernorm_apply<X>(ln1, ln1_mean, ln1_rstd, residual, mv.p(QP_LN1W, l),
                                   mv.p(QP_LN1B, l), N, C, s);
        qcuda_linear_backward_input<X>(&c->blas, d_c, d_res_x, mv.w(QP_ATTPROJW, l), N, C, C, s);
        qcuda_linear_backward_weight<X>(&c->blas, mv.g(QP_ATTPROJW, l), d_res_x, atty, N, C, C,
                                        s);
        qck_colsum_add<X>(mv.g(QP_ATTPROJB, l), c->partial, d_res_x, N, C, s);
        qck_attention_backward<X>(d_qkv, c->dsum, d_c, atty, qkv, lse, B, T, C, H, s);
        qcuda_linear_backward_input<X>(&c->blas, d_c, d_qkv, mv.w(QP_QKVW, l), N, C, 3 * C, s);
        qcuda_linear_backward_weight<X>(&c->blas, mv.g(QP_QKVW, l), d_qkv, ln1, N, C, 3 * C, s);
        qck_colsum_add<X>(mv.g(QP_QKVB, l), c->partial, d_qkv, N, 3 * C, s);
        qck_layernorm_backward<X>(c->d_res, d_res_x, mv.g(QP_LN1W, l), mv.g(QP_LN1B, l),
                                  c->partial, d_c, residual, mv.p(QP_LN1W, l), ln1_mean, ln1_rstd,
                                  N, C, s);
    }
    qck_encoder_backward_wpe(c->grads + o[QP_WPE], c->d_res, B, T, C, s);
    qck_encoder_backward_wte(c->grads + o[QP_WTE], c->d_res, c->d_bucket_token,
                             c->d_bucket_start, c->d_bucket_rows, c->n_buckets, C, s);
}

/* ---- the backend interface ---- */

static cuda_ctx *ctx_of(qbackend *be) { return (cuda_ctx *)be->ctx; }

static float cuda_forward(qbackend *be, const int32_t *inputs, const int32_t *targets, int B,
                          int T)
{
    cuda_ctx *c = ctx_of(be);
    if (B < 1 || T < 1 || B > c->max_B || T > c->max_T || T > c->cfg.seq_len) {
        char msg[128];
        snprintf(msg, sizeof msg, "batch %d x %d outside the allocated %d x %d", B, T, c->max_B,
                 c->max_T);
        qcuda_fatal(msg, __FILE__, __LINE__);
    }
    size_t N = (size_t)B * T;
    /* the pinned staging buffers may still feed the previous copies */
    QCUDA_CHECK(cudaStreamSynchronize(c->stream));
    for (size_t i = 0; i < N; i++) {
        if (inputs[i] < 0 || inputs[i] >= c->cfg.vocab_size ||
            (targets && (targets[i] < 0 || targets[i] >= c->cfg.vocab_size)))
            qcuda_fatal("token id outside the vocabulary", __FILE__, __LINE__);
    }
    c->B = B;
    c->T = T;
    c->has_targets = targets != NULL;
    memcpy(c->h_inputs, inputs, N * 4);
    QCUDA_CHECK(cudaMemcpyAsync(c->d_inputs, c->h_inputs, N * 4, cudaMemcpyHostToDevice,
                                c->stream));
    if (targets) {
        memcpy(c->h_targets, targets, N * 4);
        QCUDA_CHECK(cudaMemcpyAsync(c->d_targets, c->h_targets, N * 4, cudaMemcpyHostToDevice,
                                    c->stream));
        build_buckets(c, inputs, (int)N);
        QCUDA_CHECK(cudaMemcpyAsync(c->d_bucket_token, c->h_bucket_token,
                                    (size_t)c->n_buckets * 4, cudaMemcpyHostToDevice, c->stream));
        QCUDA_CHECK(cudaMemcpyAsync(c->d_bucket_start, c->h_bucket_start,
                                    (size_t)(c->n_buckets + 1) * 4, cudaMemcpyHostToDevice,
                                    c->stream));
        QCUDA_CHECK(cudaMemcpyAsync(c->d_bucket_rows, c->h_bucket_rows, N * 4,
                                    cudaMemcpyHostToDevice, c->stream));
    }
    if (c->opts.fp32) forward_impl<float>(c, B, T);
    else forward_impl<bf16>(c, B, T);
    if (!targets) {
        c->mean_loss = 0.0f;
        return 0.0f;
    }
    double sum = 0.0;
    QCUDA_CHECK(cudaMemcpyAsync(&sum, c->scalar, sizeof sum, cudaMemcpyDeviceToHost, c->stream));
    QCUDA_CHECK(cudaStreamSynchronize(c->stream));
    c->mean_loss = (float)(sum / (double)N);
    return c->mean_loss;
}

static void cuda_backward(qbackend *be, float scale)
{
    cuda_ctx *c = ctx_of(be);
    if (!c->has_targets) qcuda_fatal("backward after a forward without targets", __FILE__, __LINE__);
    if (c->opts.fp32) backward_impl<float>(c, scale);
    else backward_impl<bf16>(c, scale);
    /* the logits now hold their gradient: a second backward would be wrong */
    c->has_targets = 0;
}

static void cuda_zero_grad(qbackend *be)
{
    cuda_ctx *c = ctx_of(be);
    QCUDA_CHECK(cudaMemsetAsync(c->grads, 0, c->lay.total * sizeof(float), c->stream));
}

static double cuda_grad_norm(qbackend *be)
{
    cuda_ctx *c = ctx_of(be);
    double ss = 0.0;
    qck_sumsq(c->scalar, c->norm_partial, c->grads, c->lay.total, c->stream);
    QCUDA_CHECK(cudaMemcpyAsync(&ss, c->scalar, sizeof ss, cudaMemcpyDeviceToHost, c->stream));
    QCUDA_CHECK(cudaStreamSynchronize(c->stream));
    return sqrt(ss);
}

static void cuda_update(qbackend *be, const qadamw *hp, float lr, float grad_scale, long t)
{
    cuda_ctx *c = ctx_of(be);
    /* the scalars exactly as optim.c computes them */
    float b1 = hp->beta1, b2 = hp->beta2;
    float bc1 = 1.0f - powf(b1, (float)t), bc2_sqrt = sqrtf(1.0f - powf(b2, (float)t));
    float step_size = lr / bc1;
    for (int k = 0; k < QP_NTENSORS; k++) {
        float decay = qgpt_tensor_decays(k) ? 1.0f - lr * hp->weight_decay : 1.0f;
        size_t off = c->lay.offset[k];
        qck_adamw(c->params + off, c->wbf ? c->wbf + off : NULL, c->grads + off, c->m + off,
                  c->v + off, c->lay.size[k], lr, b1, b2, hp->eps, decay, step_size, bc2_sqrt,
                  grad_scale, c->stream);
    }
}

static int cuda_set_state(qbackend *be, const float *params, const float *m, const float *v)
{
    cuda_ctx *c = ctx_of(be);
    size_t bytes = c->lay.total * sizeof(float);
    QCUDA_CHECK(cudaMemcpy(c->params, params, bytes, cudaMemcpyHostToDevice));
    if (m) QCUDA_CHECK(cudaMemcpy(c->m, m, bytes, cudaMemcpyHostToDevice));
    else QCUDA_CHECK(cudaMemset(c->m, 0, bytes));
    if (v) QCUDA_CHECK(cudaMemcpy(c->v, v, bytes, cudaMemcpyHostToDevice));
    else QCUDA_CHECK(cudaMemset(c->v, 0, bytes));
    if (c->wbf) qck_f32_to_bf16(c->wbf, c->params, c->lay.total, c->stream);
    QCUDA_CHECK(cudaStreamSynchronize(c->stream));
    return 0;
}

static int cuda_get_state(qbackend *be, float *params, float *m, float *v)
{
    cuda_ctx *c = ctx_of(be);
    size_t bytes = c->lay.total * sizeof(float);
    QCUDA_CHECK(cudaStreamSynchronize(c->stream));
    if (params) QCUDA_CHECK(cudaMemcpy(params, c->params, bytes, cudaMemcpyDeviceToHost));
    if (m) QCUDA_CHECK(cudaMemcpy(m, c->m, bytes, cudaMemcpyDeviceToHost));
    if (v) QCUDA_CHECK(cudaMemcpy(v, c->v, bytes, cudaMemcpyDeviceToHost));
    return 0;
}

static int cuda_get_grads(qbackend *be, float *grads)
{
    cuda_ctx *c = ctx_of(be);
    QCUDA_CHECK(cudaStreamSynchronize(c->stream));
    QCUDA_CHECK(cudaMemcpy(grads, c->grads, c->lay.total * sizeof(float), cudaMemcpyDeviceToHost));
    return 0;
}

static int cuda_get_logits(qbackend *be, float *logits)
{
    cuda_ctx *c = ctx_of(be);
    size_t n = (size_t)c->B * c->T * c->cfg.padded_vocab;
    QCUDA_CHECK(cudaStreamSynchronize(c->stream));
    if (c->opts.fp32) {
        QCUDA_CHECK(cudaMemcpy(logits, c->logits, n * sizeof(float), cudaMemcpyDeviceToHost));
        return 0;
    }
    /* bf16 -> fp32 on the host: the upper half of the float's bits */
    uint16_t *tmp = (uint16_t *)malloc(n * sizeof(uint16_t));
    if (!tmp) return -1;
    QCUDA_CHECK(cudaMemcpy(tmp, c->logits, n * sizeof(uint16_t), cudaMemcpyDeviceToHost));
    for (size_t i = 0; i < n; i++) {
        uint32_t bits = (uint32_t)tmp[i] << 16;
        memcpy(&logits[i], &bits, sizeof bits);
    }
    free(tmp);
    return 0;
}

static void cuda_destroy(qbackend *be)
{
    if (!be) return;
    cuda_ctx *c = ctx_of(be);
    if (c) {
        cudaStreamSynchronize(c->stream);
        /* QUERN_CUDA_VERBOSE=1 (gpu_check.sh's speed runs): whether cuBLASLt
         * took the bias / GELU epilogues on this GPU, which only hardware
         * can say */
        const char *v = getenv("QUERN_CUDA_VERBOSE");
        if (v && *v && strcmp(v, "0"))
            fprintf(stderr, "quern cuda: forward products: %ld with cuBLASLt epilogues, %ld "
                    "plain (no bias, or bias/GELU by our kernels)\n", c->blas.fused_calls,
                    c->blas.unfused_calls);
        ctx_free(c);
    }
    free(be);
}

qbackend *qbackend_cuda_create_opts(const qgpt_config *cfg, int B, int T, const qcuda_opts *o,
                                    char *err, size_t errlen)
{
    if (cfg->n_head < 1 || cfg->n_embd % cfg->n_head ||
        cfg->n_embd / cfg->n_head > QCK_ATTN_MAX_HS) {
        snprintf(err, errlen, "the CUDA backend takes head sizes (dim / heads) up to %d",
                 QCK_ATTN_MAX_HS);
        return NULL;
    }
    if (B < 1 || T < 1 || (size_t)B * T > (size_t)0x7fffffff / (size_t)cfg->padded_vocab) {
        snprintf(err, errlen, "batch %d x %d is too large for one micro-batch", B, T);
        return NULL;
    }
    /* gridDim.y is capped at 65535 by the hardware (the emulator does not
     * check): the attention kernels put (batch row, head) there, the column
     * sums one block per 256 rows of B*T. Refuse here rather than fail at the
     * first launch (only tiny vocabularies with huge batches reach the second). */
    if ((size_t)B * (size_t)cfg->n_head > 65535 || (size_t)B * T > (size_t)65535 * 256) {
        snprintf(err, errlen, "batch %d x %d (x %d heads) is above the CUDA backend's launch "
                 "limits (batch x heads <= 65535, batch x seq <= %d); use a smaller --batch",
                 B, T, cfg->n_head, 65535 * 256);
        return NULL;
    }
    int n = qcuda_device_count();
    if (n < 1) {
        int dummy;
        cudaError_t e = cudaGetDeviceCount(&dummy);
        (void)cudaGetLastError();
        snprintf(err, errlen, "no CUDA GPU available (%s)",
                 e == cudaSuccess ? "no devices" : cudaGetErrorString(e));
        return NULL;
    }
    if (o->device < 0 || o->device >= n) {
        snprintf(err, errlen, "CUDA device %d does not exist (%d found)", o->device, n);
        return NULL;
    }
    if (cudaSetDevice(o->device) != cudaSuccess) {
        (void)cudaGetLastError();
        snprintf(err, errlen, "cannot use CUDA device %d", o->device);
        return NULL;
    }
    cuda_ctx *c = (cuda_ctx *)calloc(1, sizeof *c);
    qbackend *be = (qbackend *)calloc(1, sizeof *be);
    if (!c || !be) {
        free(c);
        free(be);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->cfg = *cfg;
    qgpt_layout_init(&c->lay, cfg);
    c->opts = *o;
    c->max_B = B;
    c->max_T = T;
    c->xs = o->fp32 ? sizeof(float) : sizeof(bf16);
    cudaDeviceProp prop;
    if (cudaGetDeviceProperties(&prop, o->device) != cudaSuccess) {
        (void)cudaGetLastError();
        snprintf(err, errlen, "cannot query CUDA device %d", o->device);
        free(c);
        free(be);
        return NULL;
    }
    snprintf(c->device_name, sizeof c->device_name, "%s", prop.name);
    /* the build carries code for sm_80 and sm_90 (and PTX for newer): bf16
     * tensor cores, Ampere or later */
    if (prop.major < 8) {
        snprintf(err, errlen, "%s (compute capability %d.%d) is too old: the CUDA backend needs "
                 "8.0 or newer (A100, H100, L4, ...)", prop.name, prop.major, prop.minor);
        free(c);
        free(be);
        return NULL;
    }
    if (cudaStreamCreate(&c->stream) != cudaSuccess) {
        (void)cudaGetLastError();
        snprintf(err, errlen, "cannot create a CUDA stream on %s", c->device_name);
        ctx_free(c);
        free(be);
        return NULL;
    }
    if (qcuda_blas_init(&c->blas, err, errlen)) {
        ctx_free(c);
        free(be);
        return NULL;
    }
    c->blas.fuse_bias = c->blas.fuse_bias && o->fuse;
    /* exact mode: keep the GELU in our kernel (cuBLASLt's may differ in the last bits) */
    c->blas.fuse_gelu = c->blas.fuse_gelu && o->fuse && !o->fp32;
    c->bytes += c->blas.workspace_size;
    if (ctx_alloc(c)) {
        size_t free_b = 0, total_b = 0;
        cudaMemGetInfo(&free_b, &total_b);
        (void)cudaGetLastError();
        snprintf(err, errlen,
                 "out of GPU memory on %s for batch %d x %d (%.1f GiB allocated when it ran out, "
                 "%.1f GiB on the device); try a smaller --batch%s",
                 c->device_name, B, T, (double)c->bytes / (1 << 30), (double)total_b / (1 << 30),
                 o->recompute ? "" : " or --recompute");
        ctx_free(c);
        free(be);
        return NULL;
    }
    QCUDA_CHECK(cudaStreamSynchronize(c->stream));
    be->name = "cuda";
    be->ctx = c;
    be->forward = cuda_forward;
    be->backward = cuda_backward;
    be->zero_grad = cuda_zero_grad;
    be->grad_norm = cuda_grad_norm;
    be->update = cuda_update;
    be->set_state = cuda_set_state;
    be->get_state = cuda_get_state;
    be->get_grads = cuda_get_grads;
    be->get_logits = cuda_get_logits;
    be->destroy = cuda_destroy;
    return be;
}

qbackend *qbackend_cuda_create(const qgpt_config *cfg, int B, int T, char *err, size_t errlen)
{
    qcuda_opts o;
    qcuda_opts_default(&o);
    return qbackend_cuda_create_opts(cfg, B, T, &o, err, errlen);
}

const char *qbackend_cuda_device_name(const qbackend *be)
{
    return ((const cuda_ctx *)be->ctx)->device_name;
}

double qbackend_cuda_peak_flops(const qbackend *be)
{
    return qcuda_peak_flops_by_name(((const cuda_ctx *)be->ctx)->device_name);
}

size_t qbackend_cuda_memory_bytes(const qbackend *be)
{
    return ((const cuda_ctx *)be->ctx)->bytes;
}
