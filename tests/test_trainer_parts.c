/* Unit tests for the trainer's parts: the matrix product against a naive one
 * (all stride forms, edges, K blocking), the learning-rate schedules, one
 * AdamW step by hand, the data order (a bijection, restorable), checkpoints
 * (round trip, keep-K, damage detected), sampling, presets and layout. */
#include <math.h>

#include "trainer/checkpoint.h"
#include "trainer/cpu_kernels.h"
#include "trainer/loader.h"
#include "trainer/model.h"
#include "trainer/optim.h"
#include "trainer/sampler.h"
#include "testlib.h"

static void fill(float *p, size_t n, uint64_t seed)
{
    qrng r;
    qrng_seed(&r, seed);
    for (size_t i = 0; i < n; i++) p[i] = (float)(qrng_uniform(&r) * 2 - 1);
}

/* C = init + A . B for every stride combination the layers use. */
static void check_gemm(int N, int K, int M, int a_trans, int b_trans, int accumulate, int bias)
{
    float *A = malloc(sizeof(float) * N * K), *B = malloc(sizeof(float) * K * M);
    float *C = malloc(sizeof(float) * N * M), *ref = malloc(sizeof(float) * N * M);
    float *b = malloc(sizeof(float) * M), *pack = malloc(sizeof(float) * qgemm_pack_floats(K, M));
    fill(A, (size_t)N * K, 1);
    fill(B, (size_t)K * M, 2);
    fill(C, (size_t)N * M, 3);
    fill(b, (size_t)M, 4);
    long a_rs = a_trans ? 1 : K, a_cs = a_trans ? N : 1;
    long b_rs = b_trans ? 1 : M, b_cs = b_trans ? K : 1;
    for (int n = 0; n < N; n++)
        for (int m = 0; m < M; m++) {
            double s = accumulate ? C[n * M + m] : bias ? b[m] : 0.0;
            for (int k = 0; k < K; k++) s += (double)A[n * a_rs + k * a_cs] * B[k * b_rs + m * b_cs];
            ref[n * M + m] = (float)s;
        }
    qgemm(C, A, a_rs, a_cs, B, b_rs, b_cs, bias ? b : NULL, N, K, M, accumulate, pack);
    for (int i = 0; i < N * M; i++) assert_true(fabsf(C[i] - ref[i]) <= 1e-5f * (1.0f + sqrtf((float)K)));
    free(A); free(B); free(C); free(ref); free(b); free(pack);
}

static void test_gemm_matches_naive(void **state)
{
    (void)state;
    int shapes[][3] = { { 1, 1, 1 }, { 3, 5, 7 }, { 17, 300, 33 }, { 70, 513, 50 }, { 64, 256, 64 },
                        { 9, 700, 40 }, { 150, 300, 290 } };
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int v = 0; v < 8; v++)
            check_gemm(shapes[s][0], shapes[s][1], shapes[s][2], v & 1, v >> 1 & 1, v >> 2 & 1, !(v >> 2 & 1));
}

static void test_schedules(void **state)
{
    (void)state;
    qsched s = { QSCHED_COSINE, 1.0, 0.1, 10, 110, 0.2 };
    assert_true(fabs(qsched_lr(&s, 1) - 0.1) < 1e-12);
    assert_true(fabs(qsched_lr(&s, 10) - 1.0) < 1e-12);
    assert_true(fabs(qsched_lr(&s, 60) - 0.55) < 1e-12); /* half way: mean of peak and floor */
    assert_true(fabs(qsched_lr(&s, 110) - 0.1) < 1e-12);
    s.kind = QSCHED_LINEAR;
    assert_true(fabs(qsched_lr(&s, 60) - 0.55) < 1e-12);
    assert_true(fabs(qsched_lr(&s, 35) - 0.775) < 1e-12);
    s.kind = QSCHED_CONSTANT;
    assert_true(qsched_lr(&s, 100) == 1.0);
    s.kind = QSCHED_WSD; /* decay over the last 22 steps */
    assert_true(qsched_lr(&s, 88) == 1.0);
    assert_true(fabs(qsched_lr(&s, 99) - 0.55) < 1e-12);
    assert_true(fabs(qsched_lr(&s, 110) - 0.1) < 1e-12);
    qsched_kind k;
    assert_int_equal(qsched_parse("wsd", &k), 0);
    assert_int_equal(k, QSCHED_WSD);
    assert_int_equal(qsched_parse("nope", &k), -1);
}

static void test_adamw_step_by_hand(void **state)
{
    (void)state;
    qgpt_config cfg = { 1, 1, 4, 2, 5, 8 };
    qgpt_layout lay;
    qgpt_layout_init(&lay, &cfg);
    float *p = calloc(lay.total, 4), *g = calloc(lay.total, 4), *m = calloc(lay.total, 4), *v = calloc(lay.total, 4);
    size_t w = lay.offset[QP_QKVW], b = lay.offset[QP_QKVB];
    p[w] = 0.5f; g[w] = 0.2f; p[b] = 0.5f; g[b] = 0.2f;
    qadamw hp = { 0.9f, 0.95f, 1e-8f, 0.1f };
    qadamw_step(p, g, m, v, &lay, &hp, 0.01f, 0.5f, 1);
    /* gradient 0.1 after the scale; first step: m/(1-b1) = g, sqrt(v/(1-b2)) = |g| */
    double want_w = 0.5 * (1 - 0.01 * 0.1) - 0.01 * 0.1 / (0.1 + 1e-8);
    double want_b = 0.5 - 0.01 * 0.1 / (0.1 + 1e-8); /* biases are not decayed */
    assert_true(fabs(p[w] - want_w) < 1e-6);
    assert_true(fabs(p[b] - want_b) < 1e-6);
    assert_true(fabs(qgrad_norm(g, lay.total) - sqrt(0.08)) < 1e-7);
    assert_true(qclip_scale(2.0, 1.0f) < 0.5f + 1e-6f && qclip_scale(0.5, 1.0f) == 1.0f);
    free(p); free(g); free(m); free(v);
}

static void test_data_order_is_a_restorable_bijection(void **state)
{
    (void)state;
    qloader ld;
    memset(&ld, 0, sizeof ld);
    ld.shuffle = 1;
    ld.seed = 99;
    for (uint64_t n = 1; n < 3000; n = n * 3 + 1) {
        ld.n_windows = n;
        char *seen = calloc(n, 1);
        int moved = 0;
        for (uint64_t i = 0; i < n; i++) {
            uint64_t w = qloader_window(&ld, 2, i);
            assert_true(w < n);
            assert_false(seen[w]);
            seen[w] = 1;
            moved |= w != i;
            assert_int_equal(w, qloader_window(&ld, 2, i)); /* a pure function of (epoch, index) */
        }
        if (n > 4) assert_true(moved);
        if (n > 4) { /* another epoch, another order */
            int differs = 0;
            for (uint64_t i = 0; i < n; i++) differs |= qloader_window(&ld, 2, i) != qloader_window(&ld, 3, i);
            assert_true(differs);
        }
        free(seen);
    }
}

static void test_checkpoint_round_trip_keep_and_damage(void **state)
{
    (void)state;
    const char *dir = tl_tmpdir();
    qckpt_meta meta;
    memset(&meta, 0, sizeof meta);
    meta.cfg = (qgpt_config){ 2, 2, 8, 16, 50, 64 };
    meta.B = 3; meta.T = 16; meta.accum = 2; meta.total_steps = 9; meta.tokens_planned = 864;
    meta.loader_epoch = 1; meta.loader_index = 12345678901ULL; meta.seed = 18446744073709551615ULL;
    qrng_seed(&meta.rng, 5);
    meta.adamw = (qadamw){ 0.9f, 0.95f, 1e-8f, 0.1f };
    meta.sched = (qsched){ QSCHED_WSD, 6e-4, 6e-5, 3, 9, 0.2 };
    meta.clip = 1.0f;
    strcpy(meta.tok_name, "gpt2 \"quoted\"");
    meta.tok_vocab = 50; meta.eot = 49;
    qgpt_layout lay;
    qgpt_layout_init(&lay, &meta.cfg);
    float *p = malloc(lay.total * 4), *m = malloc(lay.total * 4);
    fill(p, lay.total, 7);
    fill(m, lay.total, 8);
    char err[512], path[4300];
    for (long step = 1; step <= 4; step++) {
        meta.step = step;
        meta.tokens_done = (uint64_t)step * 96;
        p[0] = (float)step;
        assert_int_equal(qckpt_write(dir, &meta, p, m, NULL, 2, path, sizeof path, err, sizeof err), 0);
    }
    qckpt_meta back;
    float *p2 = NULL, *m2 = NULL, *v2 = NULL;
    assert_int_equal(qckpt_read(dir, &back, &p2, &m2, &v2, path, sizeof path, err, sizeof err), 0);
    assert_non_null(strstr(path, "ckpt_00000004.bin"));
    assert_int_equal(back.step, 4);
    assert_memory_equal(&back.cfg, &meta.cfg, sizeof meta.cfg);
    assert_true(back.loader_index == meta.loader_index && back.seed == meta.seed);
    assert_memory_equal(&back.rng, &meta.rng, sizeof meta.rng);
    assert_true(back.sched.kind == QSCHED_WSD && back.sched.lr == 6e-4 && back.sched.warmup == 3);
    assert_string_equal(back.tok_name, meta.tok_name);
    assert_true(p2[0] == 4.0f);
    assert_memory_equal(p2 + 1, p + 1, (lay.total - 1) * 4);
    assert_memory_equal(m2, m, lay.total * 4);
    for (size_t i = 0; i < lay.total; i++) assert_true(v2[i] == 0.0f);
    free(p2); free(m2); free(v2);
    char old[4300];
    snprintf(old, sizeof old, "%s/ckpt_00000002.bin", dir);
    assert_int_not_equal(access(old, F_OK), 0); /* keep 2: steps 3 and 4 remain */
    /* damage the newest: reading the directory falls back to step 3 */
    snprintf(old, sizeof old, "%s/ckpt_00000004.bin", dir);
    FILE *f = fopen(old, "r+b");
    assert_non_null(f);
    fseek(f, 2000, SEEK_SET);
    fputc(0x5a, f);
    fclose(f);
    assert_int_equal(qckpt_read(old, &back, NULL, NULL, NULL, NULL, 0, err, sizeof err), -1);
    assert_non_null(strstr(err, "checksum"));
    assert_int_equal(qckpt_read(dir, &back, NULL, NULL, NULL, NULL, 0, err, sizeof err), 0);
    assert_int_equal(back.step, 3);
    free(p); free(m);
}

static void test_sampling(void **state)
{
    (void)state;
    float logits[6] = { 0.1f, 3.0f, 2.9f, -1.0f, 0.0f, 2.95f };
    qrng r;
    qrng_seed(&r, 1);
    assert_int_equal(qsample_token(logits, 6, 0.0f, 0, &r), 1);
    int counts[6] = { 0 };
    for (int i = 0; i < 3000; i++) counts[qsample_token(logits, 6, 1.0f, 3, &r)]++;
    assert_int_equal(counts[0] + counts[3] + counts[4], 0); /* outside the top 3 */
    assert_true(counts[1] > 800 && counts[2] > 800 && counts[5] > 800);
}

static void test_presets_and_layout(void **state)
{
    (void)state;
    qgpt_config c = { 0 };
    assert_int_equal(qgpt_preset("d12", &c), 0);
    c.seq_len = 1024;
    qgpt_set_vocab(&c, 50257, 128);
    assert_int_equal(c.padded_vocab, 50304);
    assert_null(qgpt_config_error(&c));
    assert_int_equal(qgpt_num_params(&c), 124439808); /* GPT-2 small */
    qgpt_layout lay;
    qgpt_layout_init(&lay, &c);
    assert_int_equal(lay.total, 124439808 + 47 * 768);
    assert_int_equal(qgpt_preset("d7", &c), -1);
    /* initialisation statistics on d6 with a small vocabulary */
    assert_int_equal(qgpt_preset("d6", &c), 0);
    c.seq_len = 64;
    qgpt_set_vocab(&c, 1000, 64);
    qgpt_layout_init(&lay, &c);
    float *p = malloc(lay.total * 4);
    qgpt_init_params(&c, &lay, p, 1);
    double s = 0, s2 = 0;
    size_t n = lay.size[QP_FCPROJW];
    for (size_t i = 0; i < n; i++) { s += p[lay.offset[QP_FCPROJW] + i]; s2 += (double)p[lay.offset[QP_FCPROJW] + i] * p[lay.offset[QP_FCPROJW] + i]; }
    double sd = sqrt(s2 / n - (s / n) * (s / n));
    assert_true(fabs(sd - 0.02 / sqrt(12.0)) < 1e-4); /* residual projections scaled by 1/sqrt(2L) */
    assert_true(p[lay.offset[QP_LN1W]] == 1.0f && p[lay.offset[QP_QKVB]] == 0.0f);
    assert_true(p[lay.offset[QP_WTE] + (size_t)1000 * 384 - 1] != 0.0f);
    for (size_t i = (size_t)1000 * 384; i < lay.size[QP_WTE]; i++)
        assert_true(p[lay.offset[QP_WTE] + i] == 0.0f); /* padding rows */
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gemm_matches_naive),
        cmocka_unit_test(test_schedules),
        cmocka_unit_test(test_adamw_step_by_hand),
        cmocka_unit_test(test_data_order_is_a_restorable_bijection),
        /* the only test that writes files: a directory of its own */
        cmocka_unit_test_setup_teardown(test_checkpoint_round_trip_keep_and_damage, tl_tmpdir_setup,
                                        tl_tmpdir_teardown),
        cmocka_unit_test(test_sampling),
        cmocka_unit_test(test_presets_and_layout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
