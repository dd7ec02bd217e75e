/* Parity of the CUDA backend with the C reference (backend.h): the same
 * weights and batches through both, compared tensor by tensor.
 *
 *   forward:  loss, and the raw logits of a forward without targets
 *   backward: every gradient tensor (two accumulated micro-batches)
 *   training: 20 AdamW steps with clipping, loss per step and final weights
 * in the exact mode (fp32 activations and products) and the fast mode (bf16),
 * for several head sizes (16 .. 128, one not a power of two; 64 both on the
 * tensor-core attention and the SIMT one) and sequence lengths that are not
 * multiples of the attention tiles (up to 1100), with and without cuBLASLt
 * epilogues and with activation recomputation.
 *
 * Error measure: per tensor, ||cuda - cpu|| / ||cpu|| (relative L2; an
 * element-wise relative error means nothing for values near zero). Bounds:
 * exact mode 1e-4 (5e-6 on the loss); bf16 mode 2e-2 on logits and loss,
 * 5e-2 on gradients and 2e-2 on the loss of every training step
 * (QUERN_PARITY_BF16 scales the bf16 bounds). Every comparison is printed,
 * passing or not, so a failure shows how far off it is.
 *
 * The backend comes from the plugin (cuda_plugin.h): $QUERN_CUDA_PLUGIN, else
 * ../quern-cuda.so next to this binary's directory (the build's). Without the
 * plugin or a GPU every test is skipped (cmocka's skip: exit 0, "SKIPPED" in
 * the output); with QUERN_REQUIRE_GPU=1, as gpu_check.sh runs it, that is an
 * error instead. gpu_check.sh --emulate points QUERN_CUDA_PLUGIN at the .cu
 * sources built for the CPU (trainer/cuda_emu.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "trainer/backend.h"
#include "trainer/cuda_plugin.h"
#include "trainer/model.h"
#include "trainer/optim.h"
#include "trainer_testlib.h"

static double bf16_scale = 1.0;
static int have_gpu;
static const qcuda_plugin *pl;

/* every test is skipped (cmocka's skip: exit 0) where no GPU answers, so the
 * unit-test loops run on; QUERN_REQUIRE_GPU=1 (gpu_check.sh) makes that an error */
#define NEED_GPU()            \
    do {                      \
        (void)state;          \
        if (!have_gpu) skip(); \
    } while (0)

typedef struct shape {
    const char *name;
    int L, H, C, T, B, V, pad;
} shape;

static const shape shapes[] = {
    { "hs16 T64", 2, 4, 64, 64, 4, 257, 64 },
    { "hs32 T100", 2, 4, 128, 100, 2, 300, 128 },
    { "hs64 T200", 1, 2, 128, 200, 2, 257, 64 },
    { "hs80 T70", 1, 2, 160, 70, 2, 257, 8 },
    { "hs128 T130", 1, 2, 256, 130, 1, 512, 128 },
    { "hs64 C768 T256", 1, 12, 768, 256, 2, 1000, 128 },
    { "hs64 T1100", 1, 2, 128, 1100, 1, 257, 64 },
};

/* QUERN_PARITY_QUICK=1 (the CPU emulation, which is slow) skips the large shapes */
static int skip_shape(const shape *s)
{
    const char *q = getenv("QUERN_PARITY_QUICK");
    return q && *q && strcmp(q, "0") && (s->C >= 512 || s->T >= 512);
}

static void make_config(const shape *s, qgpt_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->n_layer = s->L;
    cfg->n_head = s->H;
    cfg->n_embd = s->C;
    cfg->seq_len = s->T;
    qgpt_set_vocab(cfg, s->V, s->pad);
}

/* learnable token streams: a noisy repeating pattern per row */
static void make_batch(const qgpt_config *cfg, int B, int T, uint64_t seed, int32_t *inp,
                       int32_t *tgt)
{
    qrng r;
    qrng_seed(&r, seed);
    int V = cfg->vocab_size;
    for (int b = 0; b < B; b++) {
        int32_t prev = (int32_t)(qrng_next(&r) % V);
        for (int t = 0; t <= T; t++) {
            int32_t tok = qrng_uniform(&r) < 0.7 ? (int32_t)((prev * 7 + 3) % V)
                                                 : (int32_t)(qrng_next(&r) % V);
            if (t < T) inp[b * T + t] = tok;
            if (t > 0) tgt[b * T + t - 1] = tok;
            prev = tok;
        }
    }
}

static double rel_l2(const float *a, const float *ref, size_t n)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)a[i] - ref[i];
        num += d * d;
        den += (double)ref[i] * ref[i];
    }
    if (!isfinite(num)) return INFINITY;
    return den > 0 ? sqrt(num / den) : sqrt(num);
}

static int check(const char *what, double err, double bound)
{
    int ok = err <= bound;
    printf("    %-34s rel err %.3e  (bound %.1e)%s\n", what, err, bound, ok ? "" : "  <-- FAIL");
    return ok;
}

typedef struct pair {
    qgpt_config cfg;
    qgpt_layout lay;
    int B, T;
    qbackend *cpu, *gpu;
} pair;

static void pair_open(pair *p, const shape *s, const qcuda_opts *o)
{
    char err[512];
    make_config(s, &p->cfg);
    qgpt_layout_init(&p->lay, &p->cfg);
    p->B = s->B;
    p->T = s->T;
    p->cpu = qbackend_cpu_create(&p->cfg, p->B, p->T, err, sizeof err);
    assert_non_null(p->cpu);
    p->gpu = pl->create_opts(&p->cfg, p->B, p->T, o, err, sizeof err);
    if (!p->gpu) fprintf(stderr, "cuda backend: %s\n", err);
    assert_non_null(p->gpu);
    float *w = malloc(p->lay.total * sizeof(float));
    assert_non_null(w);
    qgpt_init_params(&p->cfg, &p->lay, w, 42);
    /* biases and LayerNorm parameters away from their initial 0 and 1, so
     * that a bias or gain applied wrongly (or not at all) shows */
    qrng r;
    qrng_seed(&r, 43);
    static const int gains[] = { QP_LN1W, QP_LN2W, QP_LNFW };
    static const int biases[] = { QP_LN1B, QP_LN2B, QP_LNFB, QP_QKVB, QP_ATTPROJB, QP_FCB,
                                  QP_FCPROJB };
    for (size_t g = 0; g < sizeof gains / sizeof gains[0]; g++)
        for (size_t i = 0; i < p->lay.size[gains[g]]; i++)
            w[p->lay.offset[gains[g]] + i] = (float)(1.0 + 0.2 * (qrng_uniform(&r) - 0.5));
    for (size_t g = 0; g < sizeof biases / sizeof biases[0]; g++)
        for (size_t i = 0; i < p->lay.size[biases[g]]; i++)
            w[p->lay.offset[biases[g]] + i] = (float)(0.1 * (qrng_uniform(&r) - 0.5));
    assert_int_equal(p->cpu->set_state(p->cpu, w, NULL, NULL), 0);
    assert_int_equal(p->gpu->set_state(p->gpu, w, NULL, NULL), 0);
    free(w);
}

static void pair_close(pair *p)
{
    p->cpu->destroy(p->cpu);
    p->gpu->destroy(p->gpu);
}

/* logits, loss and two accumulated backward passes; returns failures */
static int compare_step(pair *p, double tol_logits, double tol_loss, double tol_grad)
{
    int fails = 0, B = p->B, T = p->T;
    size_t N = (size_t)B * T, nl = N * p->cfg.padded_vocab;
    int32_t *inp = malloc(N * sizeof(int32_t)), *tgt = malloc(N * sizeof(int32_t));
    float *la = malloc(nl * sizeof(float)), *lb = malloc(nl * sizeof(float));
    float *ga = malloc(p->lay.total * sizeof(float)), *gb = malloc(p->lay.total * sizeof(float));
    assert_true(inp && tgt && la && lb && ga && gb);

    make_batch(&p->cfg, B, T, 7, inp, tgt);
    p->cpu->forward(p->cpu, inp, NULL, B, T);
    p->gpu->forward(p->gpu, inp, NULL, B, T);
    assert_int_equal(p->cpu->get_logits(p->cpu, la), 0);
    assert_int_equal(p->gpu->get_logits(p->gpu, lb), 0);
    fails += !check("logits", rel_l2(lb, la, nl), tol_logits);

    p->cpu->zero_grad(p->cpu);
    p->gpu->zero_grad(p->gpu);
    for (int micro = 0; micro < 2; micro++) {
        make_batch(&p->cfg, B, T, 100 + micro, inp, tgt);
        float lc = p->cpu->forward(p->cpu, inp, tgt, B, T);
        float lg = p->gpu->forward(p->gpu, inp, tgt, B, T);
        char what[64];
        snprintf(what, sizeof what, "loss, micro-batch %d (%.5f)", micro, lc);
        fails += !check(what, fabs((double)lg - lc) / fabs((double)lc), tol_loss);
        p->cpu->backward(p->cpu, 0.5f);
        p->gpu->backward(p->gpu, 0.5f);
    }
    assert_int_equal(p->cpu->get_grads(p->cpu, ga), 0);
    assert_int_equal(p->gpu->get_grads(p->gpu, gb), 0);
    for (int k = 0; k < QP_NTENSORS; k++) {
        char what[64];
        snprintf(what, sizeof what, "grad %s", qgpt_tensor_name(k));
        size_t off = p->lay.offset[k];
        fails += !check(what, rel_l2(gb + off, ga + off, p->lay.size[k]), tol_grad);
    }
    double nc = p->cpu->grad_norm(p->cpu), ng = p->gpu->grad_norm(p->gpu);
    fails += !check("grad norm", fabs(ng - nc) / nc, tol_grad);
    free(inp);
    free(tgt);
    free(la);
    free(lb);
    free(ga);
    free(gb);
    return fails;
}

/* 20 optimizer steps on both; returns failures */
static int compare_training(pair *p, int steps, double tol_loss, double tol_params)
{
    int fails = 0, B = p->B, T = p->T;
    size_t N = (size_t)B * T;
    int32_t *inp = malloc(N * sizeof(int32_t)), *tgt = malloc(N * sizeof(int32_t));
    float *wa = malloc(p->lay.total * sizeof(float)), *wb = malloc(p->lay.total * sizeof(float));
    assert_true(inp && tgt && wa && wb);
    qadamw hp = QADAMW_DEFAULTS;
    qsched sc = { QSCHED_COSINE, 3e-3, 3e-4, 3, steps, 0.2 };
    float first = 0, last = 0;
    for (int step = 1; step <= steps; step++) {
        make_batch(&p->cfg, B, T, 1000 + step, inp, tgt);
        qbackend *be[2] = { p->cpu, p->gpu };
        float loss[2];
        double norm[2];
        for (int i = 0; i < 2; i++) {
            be[i]->zero_grad(be[i]);
            loss[i] = be[i]->forward(be[i], inp, tgt, B, T);
            be[i]->backward(be[i], 1.0f);
            norm[i] = be[i]->grad_norm(be[i]);
            be[i]->update(be[i], &hp, (float)qsched_lr(&sc, step), qclip_scale(norm[i], 1.0f),
                          step);
        }
        double err = fabs((double)loss[1] - loss[0]) / fabs((double)loss[0]);
        printf("    step %2d  loss cpu %.5f cuda %.5f  norm cpu %.4f cuda %.4f  rel %.2e%s\n", step,
               loss[0], loss[1], norm[0], norm[1], err, err <= tol_loss ? "" : "  <-- FAIL");
        fails += err > tol_loss;
        if (step == 1) first = loss[0];
        last = loss[0];
    }
    /* the run must learn something, or the comparison proves little */
    fails += !check("cpu loss fell (last / first)", last / first, 0.98);
    assert_int_equal(p->cpu->get_state(p->cpu, wa, NULL, NULL), 0);
    assert_int_equal(p->gpu->get_state(p->gpu, wb, NULL, NULL), 0);
    fails += !check("weights after training", rel_l2(wb, wa, p->lay.total), tol_params);
    free(inp);
    free(tgt);
    free(wa);
    free(wb);
    return fails;
}

static void opts(qcuda_opts *o, int fp32, int recompute, int fuse)
{
    pl->opts_default(o);
    o->fp32 = fp32;
    o->recompute = recompute;
    o->fuse = fuse;
}

static void test_exact_all_shapes(void **state)
{
    NEED_GPU();
    int fails = 0;
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        if (skip_shape(&shapes[i])) continue;
        qcuda_opts o;
        opts(&o, 1, 0, 1);
        pair p;
        printf("  exact fp32, %s\n", shapes[i].name);
        pair_open(&p, &shapes[i], &o);
        fails += compare_step(&p, 1e-4, 5e-6, 1e-4);
        pair_close(&p);
    }
    assert_int_equal(fails, 0);
}

static void test_bf16_all_shapes(void **state)
{
    NEED_GPU();
    int fails = 0;
    double k = bf16_scale;
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        if (skip_shape(&shapes[i])) continue;
        /* head size 64: the tensor-core attention, then the SIMT one as well */
        int variants = shapes[i].C / shapes[i].H == 64 ? 3 : 2;
        for (int v = 0; v < variants; v++) {
            int fuse = v != 1, simt = v == 2;
            qcuda_opts o;
            opts(&o, 0, 0, fuse);
            if (simt) setenv("QUERN_CUDA_ATTN", "simt", 1);
            pair p;
            printf("  bf16, %s, epilogues %s%s\n", shapes[i].name, fuse ? "on" : "off",
                   simt ? ", SIMT attention" : "");
            pair_open(&p, &shapes[i], &o);
            fails += compare_step(&p, 2e-2 * k, 2e-2 * k, 5e-2 * k);
            pair_close(&p);
            unsetenv("QUERN_CUDA_ATTN");
        }
    }
    assert_int_equal(fails, 0);
}

static void test_recompute(void **state)
{
    NEED_GPU();
    int fails = 0;
    qcuda_opts o;
    opts(&o, 1, 1, 1);
    pair p;
    printf("  exact fp32 with recomputation, %s\n", shapes[0].name);
    pair_open(&p, &shapes[0], &o);
    fails += compare_step(&p, 1e-4, 5e-6, 1e-4);
    pair_close(&p);
    opts(&o, 0, 1, 1);
    printf("  bf16 with recomputation, %s\n", shapes[1].name);
    pair_open(&p, &shapes[1], &o);
    fails += compare_step(&p, 2e-2 * bf16_scale, 2e-2 * bf16_scale, 5e-2 * bf16_scale);
    pair_close(&p);
    assert_int_equal(fails, 0);
}

static void test_training_exact(void **state)
{
    NEED_GPU();
    qcuda_opts o;
    opts(&o, 1, 0, 1);
    pair p;
    printf("  20 steps, exact fp32, %s\n", shapes[0].name);
    pair_open(&p, &shapes[0], &o);
    int fails = compare_training(&p, 20, 1e-4, 1e-4);
    pair_close(&p);
    assert_int_equal(fails, 0);
}

static void test_training_bf16(void **state)
{
    NEED_GPU();
    qcuda_opts o;
    opts(&o, 0, 0, 1);
    pair p;
    printf("  20 steps, bf16, %s\n", shapes[0].name);
    pair_open(&p, &shapes[0], &o);
    int fails = compare_training(&p, 20, 2e-2 * bf16_scale, 5e-2 * bf16_scale);
    pair_close(&p);
    assert_int_equal(fails, 0);
}

/* set_state / get_state move the exact bits, moments included */
static void test_state_roundtrip(void **state)
{
    NEED_GPU();
    qcuda_opts o;
    opts(&o, 0, 0, 1);
    qgpt_config cfg;
    qgpt_layout lay;
    make_config(&shapes[0], &cfg);
    qgpt_layout_init(&lay, &cfg);
    char err[512];
    qbackend *be = pl->create_opts(&cfg, 2, shapes[0].T, &o, err, sizeof err);
    assert_non_null(be);
    size_t n = lay.total;
    float *a = malloc(3 * n * sizeof(float)), *b = malloc(3 * n * sizeof(float));
    assert_true(a && b);
    qgpt_init_params(&cfg, &lay, a, 3);
    for (size_t i = 0; i < n; i++) {
        a[n + i] = (float)i * 1e-3f;
        a[2 * n + i] = (float)(n - i) * 1e-4f;
    }
    assert_int_equal(be->set_state(be, a, a + n, a + 2 * n), 0);
    assert_int_equal(be->get_state(be, b, b + n, b + 2 * n), 0);
    assert_memory_equal(a, b, 3 * n * sizeof(float));
    be->destroy(be);
    free(a);
    free(b);
}

/* Shapes past the hardware's launch limits (gridDim.y <= 65535, which the CPU
 * emulation does not enforce) are refused at creation with a sentence, before
 * any GPU is touched; needs the plugin, not a GPU. */
static void test_launch_limits_refused(void **state)
{
    (void)state;
    if (!pl) skip();
    qcuda_opts o;
    pl->opts_default(&o);
    qgpt_config cfg;
    const shape tiny = { "tiny", 1, 1, 16, 1, 1, 60, 64 };
    make_config(&tiny, &cfg);
    char err[512];
    err[0] = 0;
    /* batch x heads above 65535 (the attention grid's y) */
    assert_null(pl->create_opts(&cfg, 70000, 1, &o, err, sizeof err));
    assert_non_null(strstr(err, "launch limits"));
    /* batch x seq above 65535 x 256 (the column sums' grid y) */
    err[0] = 0;
    cfg.seq_len = 1 << 24;
    assert_null(pl->create_opts(&cfg, 1, 1 << 24, &o, err, sizeof err));
    assert_non_null(strstr(err, "launch limits"));
}

int main(void)
{
    default_plugin_path();
    char err[1024];
    pl = qcuda_plugin_load(err, sizeof err);
    have_gpu = pl && pl->device_count() > 0;
    if (!have_gpu) {
        if (pl) printf("no CUDA GPU on this machine: every test is skipped\n");
        else printf("no CUDA plugin (%s): every test is skipped\n", err);
        const char *req = getenv("QUERN_REQUIRE_GPU");
        if (req && *req && strcmp(req, "0")) return 1;
    }
    const char *k = getenv("QUERN_PARITY_BF16");
    if (k && atof(k) > 0) bf16_scale = atof(k);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_launch_limits_refused),
        cmocka_unit_test(test_state_roundtrip),
        cmocka_unit_test(test_exact_all_shapes),
        cmocka_unit_test(test_bf16_all_shapes),
        cmocka_unit_test(test_recompute),
        cmocka_unit_test(test_training_exact),
        cmocka_unit_test(test_training_bf16),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
