/* Gradient check of the C reference GPT (trainer/cpu.c).
 *
 * An independent, deliberately naive double-precision forward pass (written
 * here from the definition of the model, sharing no code with cpu_layers.c)
 * gives the loss; central finite differences of it give the gradient of every
 * parameter of a tiny model. The fp32 analytic gradient must match, tensor by
 * tensor: max |analytic - numeric| <= TOL * max |numeric| over the tensor.
 * The fp32 forward loss must also match the double loss. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trainer/cpu.h"
#include "trainer/model.h"

#define TOL 1e-5

/* ---- the double-precision reference forward ---- */

typedef struct ref_ctx {
    qgpt_config cfg;
    qgpt_layout lay;
    int B, T;
    const int32_t *inp, *tgt;
} ref_ctx;

static void ref_layernorm(double *out, const double *x, const double *w, const double *b, int C)
{
    double mean = 0, var = 0;
    for (int c = 0; c < C; c++) mean += x[c];
    mean /= C;
    for (int c = 0; c < C; c++) var += (x[c] - mean) * (x[c] - mean);
    var /= C;
    for (int c = 0; c < C; c++) out[c] = (x[c] - mean) / sqrt(var + 1e-5) * w[c] + b[c];
}

/* y[o] = b[o] + sum_i W[o][i] x[i] */
static void ref_linear(double *y, const double *x, const double *W, const double *b, int IC, int OC)
{
    for (int o = 0; o < OC; o++) {
        double s = b ? b[o] : 0.0;
        for (int i = 0; i < IC; i++) s += W[(size_t)o * IC + i] * x[i];
        y[o] = s;
    }
}

static double ref_loss(const ref_ctx *r, const double *P)
{
    const qgpt_config *cfg = &r->cfg;
    int C = cfg->n_embd, H = cfg->n_head, L = cfg->n_layer, V = cfg->vocab_size;
    int B = r->B, T = r->T, hs = C / H;
    const size_t *o = r->lay.offset;
    double *x = malloc(sizeof(double) * T * C), *ln = malloc(sizeof(double) * T * C);
    double *qkv = malloc(sizeof(double) * T * 3 * C), *y = malloc(sizeof(double) * T * C);
    double *h1 = malloc(sizeof(double) * 4 * C), *tmp = malloc(sizeof(double) * C);
    double *logits = malloc(sizeof(double) * V), *att = malloc(sizeof(double) * T);
    double total = 0;
    for (int b = 0; b < B; b++) {
        for (int t = 0; t < T; t++)
            for (int c = 0; c < C; c++)
                x[t * C + c] = P[o[QP_WTE] + (size_t)r->inp[b * T + t] * C + c] +
                               P[o[QP_WPE] + (size_t)t * C + c];
        for (int l = 0; l < L; l++) {
            for (int t = 0; t < T; t++) {
                ref_layernorm(ln + t * C, x + t * C, P + o[QP_LN1W] + l * C, P + o[QP_LN1B] + l * C, C);
                ref_linear(qkv + t * 3 * C, ln + t * C, P + o[QP_QKVW] + (size_t)l * 3 * C * C,
                           P + o[QP_QKVB] + l * 3 * C, C, 3 * C);
            }
            for (int t = 0; t < T; t++)
                for (int h = 0; h < H; h++) {
                    double mx = -INFINITY, sum = 0;
                    for (int u = 0; u <= t; u++) {
                        double s = 0;
                        for (int i = 0; i < hs; i++)
                            s += qkv[t * 3 * C + h * hs + i] * qkv[u * 3 * C + C + h * hs + i];
                        att[u] = s / sqrt((double)hs);
                        if (att[u] > mx) mx = att[u];
                    }
                    for (int u = 0; u <= t; u++) sum += (att[u] = exp(att[u] - mx));
                    for (int i = 0; i < hs; i++) {
                        double acc = 0;
                        for (int u = 0; u <= t; u++) acc += att[u] / sum * qkv[u * 3 * C + 2 * C + h * hs + i];
                        y[t * C + h * hs + i] = acc;
                    }
                }
            for (int t = 0; t < T; t++) {
                ref_linear(tmp, y + t * C, P + o[QP_ATTPROJW] + (size_t)l * C * C,
                           P + o[QP_ATTPROJB] + l * C, C, C);
                for (int c = 0; c < C; c++) x[t * C + c] += tmp[c];
                ref_layernorm(ln + t * C, x + t * C, P + o[QP_LN2W] + l * C, P + o[QP_LN2B] + l * C, C);
                ref_linear(h1, ln + t * C, P + o[QP_FCW] + (size_t)l * 4 * C * C,
                           P + o[QP_FCB] + l * 4 * C, C, 4 * C);
                for (int i = 0; i < 4 * C; i++) {
                    double u = h1[i];
                    h1[i] = 0.5 * u * (1 + tanh(sqrt(2 / M_PI) * (u + 0.044715 * u * u * u)));
                }
                ref_linear(tmp, h1, P + o[QP_FCPROJW] + (size_t)l * 4 * C * C,
                           P + o[QP_FCPROJB] + l * C, 4 * C, C);
                for (int c = 0; c < C; c++) x[t * C + c] += tmp[c];
            }
        }
        for (int t = 0; t < T; t++) {
            ref_layernorm(ln + t * C, x + t * C, P + o[QP_LNFW], P + o[QP_LNFB], C);
            ref_linear(logits, ln + t * C, P + o[QP_WTE], NULL, C, V); /* only the real rows */
            double mx = -INFINITY, sum = 0;
            for (int v = 0; v < V; v++) mx = logits[v] > mx ? logits[v] : mx;
            for (int v = 0; v < V; v++) sum += exp(logits[v] - mx);
            total += log(sum) + mx - logits[r->tgt[b * T + t]];
        }
    }
    free(x); free(ln); free(qkv); free(y); free(h1); free(tmp); free(logits); free(att);
    return total / (B * T);
}

/* ---- the check ---- */

static void make_tiny(qgpt_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->n_layer = 2;
    cfg->n_head = 2;
    cfg->n_embd = 12;   /* head size 6: exercises the non-multiple-of-8 paths */
    cfg->seq_len = 9;
    qgpt_set_vocab(cfg, 37, 64);
}

/* Random parameters well away from the symmetric initial point (biases and
 * LayerNorm gains included), so every term of the gradient is exercised. */
static void randomise(const qgpt_layout *lay, const qgpt_config *cfg, float *p)
{
    qrng r;
    qrng_seed(&r, 42);
    for (int i = 0; i < QP_NTENSORS; i++)
        for (size_t k = 0; k < lay->size[i]; k++) {
            double z = qrng_normal(&r);
            int gain = i == QP_LN1W || i == QP_LN2W || i == QP_LNFW;
            p[lay->offset[i] + k] = (float)(gain ? 1.0 + 0.2 * z : 0.3 * z);
        }
    size_t real = (size_t)cfg->vocab_size * cfg->n_embd;
    memset(p + lay->offset[QP_WTE] + real, 0, (lay->size[QP_WTE] - real) * sizeof(float));
}

static void test_gradients_match_finite_differences(void **state)
{
    (void)state;
    qgpt_config cfg;
    make_tiny(&cfg);
    const int B = 2, T = 7; /* T < seq_len: the unused wpe rows must get zero gradient */
    qcpu_model m;
    assert_int_equal(qcpu_model_init(&m, &cfg, B, cfg.seq_len), 0);
    randomise(&m.lay, &cfg, m.params);
    int32_t inp[B * T], tgt[B * T];
    qrng r;
    qrng_seed(&r, 7);
    for (int i = 0; i < B * T; i++) {
        inp[i] = (int32_t)(qrng_next(&r) % (uint64_t)cfg.vocab_size);
        tgt[i] = (int32_t)(qrng_next(&r) % (uint64_t)cfg.vocab_size);
    }
    qcpu_zero_grad(&m);
    float loss = qcpu_forward(&m, inp, tgt, B, T);
    qcpu_backward(&m, 1.0f);

    ref_ctx rc = { cfg, m.lay, B, T, inp, tgt };
    double *P = malloc(sizeof(double) * m.lay.total);
    for (size_t i = 0; i < m.lay.total; i++) P[i] = m.params[i];
    double ref = ref_loss(&rc, P);
    printf("loss fp32 %.9g  double %.12g  rel %.2e\n", loss, ref, fabs(loss - ref) / ref);
    assert_true(fabs(loss - ref) <= 1e-5 * ref);

    const double h = 1e-5;
    double worst = 0;
    for (int t = 0; t < QP_NTENSORS; t++) {
        double max_num = 0, max_err = 0;
        for (size_t k = 0; k < m.lay.size[t]; k++) {
            size_t i = m.lay.offset[t] + k;
            double save = P[i];
            P[i] = save + h;
            double up = ref_loss(&rc, P);
            P[i] = save - h;
            double down = ref_loss(&rc, P);
            P[i] = save;
            double num = (up - down) / (2 * h), err = fabs(num - m.grads[i]);
            if (fabs(num) > max_num) max_num = fabs(num);
            if (err > max_err) max_err = err;
        }
        double rel = max_num > 0 ? max_err / max_num : max_err;
        printf("%-9s max|numeric| %.3e  max|error| %.3e  relative %.2e\n", qgpt_tensor_name(t),
               max_num, max_err, rel);
        if (t == QP_WPE) { /* rows T.. of wpe are never used */
            for (size_t k = (size_t)T * cfg.n_embd; k < m.lay.size[t]; k++)
                assert_true(m.grads[m.lay.offset[t] + k] == 0.0f);
        }
        assert_true(max_num > 0);
        assert_true(rel <= TOL);
        if (rel > worst) worst = rel;
    }
    printf("worst relative error %.2e (tolerance %.0e)\n", worst, TOL);
    free(P);
    qcpu_model_free(&m);
}

/* Gradients accumulate: two backward passes at scale 0.5 equal one at 1. */
static void test_backward_accumulates(void **state)
{
    (void)state;
    qgpt_config cfg;
    make_tiny(&cfg);
    const int B = 1, T = 5;
    qcpu_model m;
    assert_int_equal(qcpu_model_init(&m, &cfg, B, T), 0);
    randomise(&m.lay, &cfg, m.params);
    int32_t inp[] = { 1, 2, 3, 4, 5 }, tgt[] = { 2, 3, 4, 5, 6 };
    qcpu_zero_grad(&m);
    qcpu_forward(&m, inp, tgt, B, T);
    qcpu_backward(&m, 1.0f);
    float *once = malloc(sizeof(float) * m.lay.total);
    memcpy(once, m.grads, sizeof(float) * m.lay.total);
    qcpu_zero_grad(&m);
    for (int i = 0; i < 2; i++) {
        qcpu_forward(&m, inp, tgt, B, T);
        qcpu_backward(&m, 0.5f);
    }
    for (size_t i = 0; i < m.lay.total; i++) assert_true(fabsf(m.grads[i] - once[i]) <= 1e-6f * (1 + fabsf(once[i])));
    free(once);
    qcpu_model_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gradients_match_finite_differences),
        cmocka_unit_test(test_backward_accumulates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
