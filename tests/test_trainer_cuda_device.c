/* The CUDA backend's device handling, which runs everywhere (a GPU is not
 * needed): the peak-FLOPs table by device name (specific names before
 * general ones, whole-word matches, 0 for unknown GPUs), the options read from
 * the environment, and the choice of device - `auto` takes the GPU when one
 * answers and the CPU otherwise, `cuda` without a GPU fails with a sentence. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trainer/backend.h"
#include "trainer/model.h"
#ifdef QUERN_CUDA
#include "trainer/cuda_backend.h"

static void test_peak_table(void **state)
{
    (void)state;
    static const struct { const char *name; double peak; } cases[] = {
        { "NVIDIA H100 80GB HBM3", 989e12 }, { "NVIDIA H100 PCIe", 756e12 },
        { "NVIDIA H100 NVL", 835e12 }, { "NVIDIA H200", 989e12 },
        { "NVIDIA GH200 480GB", 989e12 }, { "NVIDIA A100-SXM4-80GB", 312e12 },
        { "NVIDIA A100 80GB PCIe", 312e12 }, { "NVIDIA A10", 125e12 },
        { "NVIDIA L40S", 362e12 }, { "NVIDIA L40", 181e12 }, { "NVIDIA L4", 121e12 },
        { "NVIDIA A10G", 0 },          /* not in the table: no guess from "A10" */
        { "Tesla V100-SXM2-16GB", 0 }, /* no bf16 tensor cores */
        { "Some Future GPU", 0 }, { "", 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double got = qcuda_peak_flops_by_name(cases[i].name);
        if (got != cases[i].peak)
            fail_msg("%s: peak %g, expected %g", cases[i].name, got, cases[i].peak);
    }
    assert_true(qcuda_peak_flops_by_name(NULL) == 0);
}

static void test_options_from_env(void **state)
{
    (void)state;
    qcuda_opts o;
    unsetenv("QUERN_CUDA_FP32");
    unsetenv("QUERN_CUDA_RECOMPUTE");
    unsetenv("QUERN_CUDA_FUSE");
    unsetenv("QUERN_CUDA_DEVICE");
    qcuda_opts_default(&o);
    assert_int_equal(o.fp32, 0);
    assert_int_equal(o.recompute, 0);
    assert_int_equal(o.fuse, 1);
    assert_int_equal(o.device, 0);
    setenv("QUERN_CUDA_FP32", "1", 1);
    setenv("QUERN_CUDA_RECOMPUTE", "1", 1);
    setenv("QUERN_CUDA_FUSE", "0", 1);
    setenv("QUERN_CUDA_DEVICE", "3", 1);
    qcuda_opts_default(&o);
    assert_int_equal(o.fp32, 1);
    assert_int_equal(o.recompute, 1);
    assert_int_equal(o.fuse, 0);
    assert_int_equal(o.device, 3);
    unsetenv("QUERN_CUDA_FP32");
    unsetenv("QUERN_CUDA_RECOMPUTE");
    unsetenv("QUERN_CUDA_FUSE");
    unsetenv("QUERN_CUDA_DEVICE");
}

static void tiny(qgpt_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->n_layer = 1;
    cfg->n_head = 2;
    cfg->n_embd = 32;
    cfg->seq_len = 16;
    qgpt_set_vocab(cfg, 50, 16);
}

static void test_device_choice(void **state)
{
    (void)state;
    qgpt_config cfg;
    tiny(&cfg);
    char err[512] = "";
    int gpus = qcuda_device_count();
    assert_true(gpus >= 0);
    qbackend *be = qbackend_create("auto", &cfg, 2, 16, err, sizeof err);
    assert_non_null(be);
    printf("  %d GPU(s); auto chose %s\n", gpus, be->name);
    if (gpus == 0) assert_string_equal(be->name, "cpu");
    be->destroy(be);
    err[0] = 0;
    be = qbackend_create("cuda", &cfg, 2, 16, err, sizeof err);
    if (gpus == 0) {
        assert_null(be);
        printf("  --device cuda: %s\n", err);
        assert_non_null(strstr(err, "GPU"));
    } else if (be) {
        assert_string_equal(be->name, "cuda");
        be->destroy(be);
    }
}

/* head sizes the kernels do not take are refused with a sentence, not run */
static void test_refuses_wide_heads(void **state)
{
    (void)state;
    qgpt_config cfg;
    tiny(&cfg);
    cfg.n_head = 1;
    cfg.n_embd = 256; /* head size 256 */
    char err[512] = "";
    qcuda_opts o;
    qcuda_opts_default(&o);
    qbackend *be = qbackend_cuda_create_opts(&cfg, 1, 16, &o, err, sizeof err);
    assert_null(be);
    printf("  %s\n", err);
    assert_non_null(strstr(err, "head size"));
}

#else
static void test_no_cuda_backend(void **state)
{
    (void)state;
    printf("this build has no CUDA backend\n");
    skip();
}
#endif

int main(void)
{
#ifndef QUERN_CUDA
    const struct CMUnitTest tests[] = { cmocka_unit_test(test_no_cuda_backend) };
#else
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_peak_table),
        cmocka_unit_test(test_options_from_env),
        cmocka_unit_test(test_device_choice),
        cmocka_unit_test(test_refuses_wide_heads),
    };
#endif
    return cmocka_run_group_tests(tests, NULL, NULL);
}
