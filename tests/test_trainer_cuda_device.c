/* The CUDA backend's device handling, which runs everywhere (a GPU is not
 * needed): loading the plugin (quern-cuda.so, cuda_plugin.h) and its errors,
 * the peak-FLOPs table by device name (specific names before general ones,
 * whole-word matches, 0 for unknown GPUs), the options read from the
 * environment, and the choice of device - `auto` takes the GPU when one
 * answers and the CPU otherwise, `cuda` without a plugin or a GPU fails with a
 * sentence. Tests needing the plugin skip where it is not built (NO_CUDA,
 * SAN=1). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "trainer/backend.h"
#include "trainer/cuda_plugin.h"
#include "trainer/model.h"
#include "trainer_testlib.h"

static const qcuda_plugin *plugin(void)
{
    char err[1024];
    const qcuda_plugin *pl = qcuda_plugin_load(err, sizeof err);
    if (!pl) printf("  no CUDA plugin: %s\n", err);
    return pl;
}

/* The loader answers once per process, so a failing path is tried in a child:
 * the error names the path and the reason, and every later call says the same. */
static int child_load_fails(const char *path, const char *want1, const char *want2)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        setenv("QUERN_CUDA_PLUGIN", path, 1);
        char err[1024] = "", again[1024] = "";
        const qcuda_plugin *pl = qcuda_plugin_load(err, sizeof err);
        const qcuda_plugin *pl2 = qcuda_plugin_load(again, sizeof again);
        printf("  QUERN_CUDA_PLUGIN=%s: %s\n", path, err);
        fflush(stdout);
        _exit(!pl && !pl2 && strstr(err, want1) && strstr(err, want2) && !strcmp(err, again) ? 0 : 1);
    }
    int st;
    if (pid < 0 || waitpid(pid, &st, 0) != pid) return 0;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* must run before anything in this process loads the plugin (child processes
 * inherit the answer) */
static void test_load_errors(void **state)
{
    (void)state;
    assert_true(child_load_fails("/nonexistent/quern-cuda.so", "/nonexistent/quern-cuda.so",
                                 "No such file"));
    /* a real library without the plugin's symbol */
    assert_true(child_load_fails("libm.so.6", "libm.so.6", QCUDA_PLUGIN_SYMBOL));
}

static void test_peak_table(void **state)
{
    (void)state;
    const qcuda_plugin *pl = plugin();
    if (!pl) skip();
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
        double got = pl->peak_flops_by_name(cases[i].name);
        if (got != cases[i].peak)
            fail_msg("%s: peak %g, expected %g", cases[i].name, got, cases[i].peak);
    }
    assert_true(pl->peak_flops_by_name(NULL) == 0);
}

static void test_options_from_env(void **state)
{
    (void)state;
    const qcuda_plugin *pl = plugin();
    if (!pl) skip();
    qcuda_opts o;
    unsetenv("QUERN_CUDA_FP32");
    unsetenv("QUERN_CUDA_RECOMPUTE");
    unsetenv("QUERN_CUDA_FUSE");
    unsetenv("QUERN_CUDA_DEVICE");
    pl->opts_default(&o);
    assert_int_equal(o.fp32, 0);
    assert_int_equal(o.recompute, 0);
    assert_int_equal(o.fuse, 1);
    assert_int_equal(o.device, 0);
    setenv("QUERN_CUDA_FP32", "1", 1);
    setenv("QUERN_CUDA_RECOMPUTE", "1", 1);
    setenv("QUERN_CUDA_FUSE", "0", 1);
    setenv("QUERN_CUDA_DEVICE", "3", 1);
    pl->opts_default(&o);
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
    char err[1024] = "";
    const qcuda_plugin *pl = plugin();
    int gpus = pl ? pl->device_count() : 0;
    assert_true(gpus >= 0);
    qbackend *be = qbackend_create("auto", &cfg, 2, 16, err, sizeof err);
    assert_non_null(be);
    printf("  plugin %s, %d GPU(s); auto chose %s\n", pl ? "loaded" : "absent", gpus, be->name);
    if (gpus == 0) assert_string_equal(be->name, "cpu");
    be->destroy(be);
    err[0] = 0;
    be = qbackend_create("cuda", &cfg, 2, 16, err, sizeof err);
    if (!pl) {
        /* the loader's sentence, naming the path it tried */
        assert_null(be);
        printf("  %s\n", err);
        assert_non_null(strstr(err, "--device cuda: "));
        assert_non_null(strstr(err, QCUDA_PLUGIN_FILE));
    } else if (gpus == 0) {
        assert_null(be);
        printf("  %s\n", err);
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
    const qcuda_plugin *pl = plugin();
    if (!pl) skip();
    qcuda_opts o;
    pl->opts_default(&o);
    qbackend *be = pl->create_opts(&cfg, 1, 16, &o, err, sizeof err);
    assert_null(be);
    printf("  %s\n", err);
    assert_non_null(strstr(err, "head size"));
}

int main(void)
{
    default_plugin_path();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_errors), /* first: see there */
        cmocka_unit_test(test_peak_table),
        cmocka_unit_test(test_options_from_env),
        cmocka_unit_test(test_device_choice),
        cmocka_unit_test(test_refuses_wide_heads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
