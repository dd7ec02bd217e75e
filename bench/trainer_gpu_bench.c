/* trainer_gpu_bench.c - training speed of the CUDA backend through the
 * backend interface the train loop uses (forward, backward, gradient norm,
 * AdamW), without the data loader: a preset model on random tokens.
 *
 * usage: trainer_gpu_bench [--model d12] [--batch 32] [--seq 1024] [--steps 50]
 *                          [--warmup 3] [--accum 1] [--recompute] [--fp32] [--peak FLOPS]
 * Prints one line per timed step and a summary with tokens/s and MFU
 * (6 N + 6 L C T FLOPs per token, qgpt_flops_per_token; peak from the device
 * table unless --peak). Built and run by trainer/gpu_check.sh and
 * bench/trainer_gpu.sh into $BUILD, where the loader finds the CUDA plugin
 * (quern-cuda.so next to the executable, or $QUERN_CUDA_PLUGIN). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "trainer/backend.h"
#include "trainer/model.h"
#include "trainer/optim.h"
#include "trainer/cuda_plugin.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    char err[1024];
    const qcuda_plugin *pl = qcuda_plugin_load(err, sizeof err);
    if (!pl) {
        printf("trainer_gpu_bench: %s: skipped\n", err);
        return 77;
    }
    const char *model = "d12";
    int B = 32, T = 1024, steps = 50, warmup = 3, accum = 1;
    double peak = 0;
    qcuda_opts o;
    pl->opts_default(&o);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--recompute")) o.recompute = 1;
        else if (!strcmp(a, "--fp32")) o.fp32 = 1;
        else if (!strcmp(a, "--no-fuse")) o.fuse = 0;
        else if (v && !strcmp(a, "--model")) model = argv[++i];
        else if (v && !strcmp(a, "--batch")) B = atoi(argv[++i]);
        else if (v && !strcmp(a, "--seq")) T = atoi(argv[++i]);
        else if (v && !strcmp(a, "--steps")) steps = atoi(argv[++i]);
        else if (v && !strcmp(a, "--warmup")) warmup = atoi(argv[++i]);
        else if (v && !strcmp(a, "--accum")) accum = atoi(argv[++i]);
        else if (v && !strcmp(a, "--peak")) peak = atof(argv[++i]);
        else {
            fprintf(stderr, "trainer_gpu_bench: unknown or incomplete option '%s'\n", a);
            return 2;
        }
    }
    if (pl->device_count() < 1) {
        printf("trainer_gpu_bench: no CUDA GPU: skipped\n");
        return 77;
    }
    qgpt_config cfg;
    memset(&cfg, 0, sizeof cfg);
    if (qgpt_preset(model, &cfg)) {
        fprintf(stderr, "trainer_gpu_bench: unknown model %s\n", model);
        return 2;
    }
    cfg.seq_len = T;
    qgpt_set_vocab(&cfg, 50257, 128);
    qgpt_layout lay;
    qgpt_layout_init(&lay, &cfg);
    double t0 = now();
    qbackend *be = pl->create_opts(&cfg, B, T, &o, err, sizeof err);
    if (!be) {
        fprintf(stderr, "trainer_gpu_bench: %s\n", err);
        return 1;
    }
    float *w = malloc(lay.total * sizeof(float));
    size_t N = (size_t)B * T;
    int32_t *inp = malloc(N * sizeof(int32_t)), *tgt = malloc(N * sizeof(int32_t));
    if (!w || !inp || !tgt) return 1;
    qgpt_init_params(&cfg, &lay, w, 1);
    be->set_state(be, w, NULL, NULL);
    free(w);
    const char *dev = pl->device_name(be);
    if (peak <= 0) peak = pl->peak_flops(be);
    double fpt = qgpt_flops_per_token(&cfg, T);
    printf("device %s | model %s (%.1fM parameters) | batch %d x %d x %d accumulation | %s%s%s\n",
           dev, model, qgpt_num_params(&cfg) / 1e6, B, T, accum, o.fp32 ? "fp32" : "bf16",
           o.recompute ? " | recompute" : "", o.fuse ? "" : " | no epilogues");
    printf("device memory held: %.2f GiB (set-up %.1f s)\n",
           pl->memory_bytes(be) / (double)(1 << 30), now() - t0);
    if (peak <= 0)
        printf("peak FLOP/s unknown for '%s': MFU not reported (pass --peak)\n", dev);
    qrng r;
    qrng_seed(&r, 5);
    qadamw hp = QADAMW_DEFAULTS;
    double timed = 0;
    int timed_steps = 0;
    for (int step = 1; step <= warmup + steps; step++) {
        double s0 = now();
        float loss = 0;
        be->zero_grad(be);
        for (int a = 0; a < accum; a++) {
            for (size_t i = 0; i < N; i++) {
                inp[i] = (int32_t)(qrng_next(&r) % 50257);
                tgt[i] = (int32_t)(qrng_next(&r) % 50257);
            }
            loss += be->forward(be, inp, tgt, B, T) / accum;
            be->backward(be, 1.0f / accum);
        }
        double norm = be->grad_norm(be);
        be->update(be, &hp, 3e-4f, qclip_scale(norm, 1.0f), step);
        be->get_state(be, NULL, NULL, NULL); /* waits for the update */
        double dt = now() - s0;
        double tps = (double)N * accum / dt;
        if (step > warmup) {
            timed += dt;
            timed_steps++;
        }
        printf("step %3d%s | loss %.4f | norm %.3f | %.1f ms | %.0f tok/s", step,
               step <= warmup ? " (warm-up)" : "", loss, norm, dt * 1e3, tps);
        if (peak > 0) printf(" | MFU %.1f%%", 100 * fpt * tps / peak);
        printf("\n");
        fflush(stdout);
    }
    double tps = timed_steps ? (double)N * accum * timed_steps / timed : 0;
    printf("summary: %s %s batch %dx%d: %.0f tokens/s over %d steps (%.1f ms/step)", dev, model, B,
           T, tps, timed_steps, timed_steps ? timed / timed_steps * 1e3 : 0);
    if (peak > 0) printf(", MFU %.1f%% of %.0f TFLOP/s", 100 * fpt * tps / peak, peak / 1e12);
    printf("\n");
    be->destroy(be);
    free(inp);
    free(tgt);
    return 0;
}
