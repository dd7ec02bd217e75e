/* backend_cpu.c - the C reference (cpu.c + optim.c) behind the device
 * interface, and the choice of device. */
#include "backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpu.h"
#include "cuda_plugin.h"

typedef struct cpu_ctx {
    qcpu_model model;
    float *m, *v;
} cpu_ctx;

static float cpu_forward(qbackend *be, const int32_t *inputs, const int32_t *targets, int B, int T)
{
    cpu_ctx *c = be->ctx;
    return qcpu_forward(&c->model, inputs, targets, B, T);
}

static void cpu_backward(qbackend *be, float scale)
{
    cpu_ctx *c = be->ctx;
    qcpu_backward(&c->model, scale);
}

static void cpu_zero_grad(qbackend *be)
{
    cpu_ctx *c = be->ctx;
    qcpu_zero_grad(&c->model);
}

static double cpu_grad_norm(qbackend *be)
{
    cpu_ctx *c = be->ctx;
    return qgrad_norm(c->model.grads, c->model.lay.total);
}

static void cpu_update(qbackend *be, const qadamw *hp, float lr, float grad_scale, long t)
{
    cpu_ctx *c = be->ctx;
    qadamw_step(c->model.params, c->model.grads, c->m, c->v, &c->model.lay, hp, lr, grad_scale, t);
}

static int cpu_set_state(qbackend *be, const float *params, const float *m, const float *v)
{
    cpu_ctx *c = be->ctx;
    size_t bytes = c->model.lay.total * sizeof(float);
    memcpy(c->model.params, params, bytes);
    if (m) memcpy(c->m, m, bytes); else memset(c->m, 0, bytes);
    if (v) memcpy(c->v, v, bytes); else memset(c->v, 0, bytes);
    return 0;
}

static int cpu_get_state(qbackend *be, float *params, float *m, float *v)
{
    cpu_ctx *c = be->ctx;
    size_t bytes = c->model.lay.total * sizeof(float);
    if (params) memcpy(params, c->model.params, bytes);
    if (m) memcpy(m, c->m, bytes);
    if (v) memcpy(v, c->v, bytes);
    return 0;
}

static int cpu_get_grads(qbackend *be, float *grads)
{
    cpu_ctx *c = be->ctx;
    memcpy(grads, c->model.grads, c->model.lay.total * sizeof(float));
    return 0;
}

static int cpu_get_logits(qbackend *be, float *logits)
{
    cpu_ctx *c = be->ctx;
    const qcpu_model *m = &c->model;
    memcpy(logits, m->acts.logits, (size_t)m->B * m->T * m->cfg.padded_vocab * sizeof(float));
    return 0;
}

static void cpu_destroy(qbackend *be)
{
    cpu_ctx *c = be->ctx;
    qcpu_model_free(&c->model);
    free(c->m);
    free(c->v);
    free(c);
    free(be);
}

qbackend *qbackend_cpu_create(const qgpt_config *cfg, int B, int T, char *err, size_t errlen)
{
    cpu_ctx *c = calloc(1, sizeof *c);
    qbackend *be = calloc(1, sizeof *be);
    if (!c || !be || qcpu_model_init(&c->model, cfg, B, T)) {
        snprintf(err, errlen, "out of memory for the model and its activations (batch %d x %d)", B, T);
        free(c);
        free(be);
        return NULL;
    }
    c->m = calloc(c->model.lay.total, sizeof(float));
    c->v = calloc(c->model.lay.total, sizeof(float));
    if (!c->m || !c->v) {
        snprintf(err, errlen, "out of memory for the optimizer state");
        be->ctx = c;
        cpu_destroy(be);
        return NULL;
    }
    be->name = "cpu";
    be->ctx = c;
    be->forward = cpu_forward;
    be->backward = cpu_backward;
    be->zero_grad = cpu_zero_grad;
    be->grad_norm = cpu_grad_norm;
    be->update = cpu_update;
    be->set_state = cpu_set_state;
    be->get_state = cpu_get_state;
    be->get_grads = cpu_get_grads;
    be->get_logits = cpu_get_logits;
    be->destroy = cpu_destroy;
    return be;
}

/* An NVIDIA kernel driver is loaded: a GPU is most likely there. */
static int nvidia_driver_present(void)
{
    return access("/proc/driver/nvidia/version", F_OK) == 0 || access("/dev/nvidiactl", F_OK) == 0;
}

qbackend *qbackend_create_opts(const char *device, const qgpt_config *cfg, int B, int T,
                               const qbackend_opts *opts, int *usage, char *err, size_t errlen)
{
    if (usage) *usage = 0;
    if (!strcmp(device, "cpu")) return qbackend_cpu_create(cfg, B, T, err, errlen);
    if (!strcmp(device, "cuda") || !strcmp(device, "auto")) {
        int want_cuda = !strcmp(device, "cuda");
        char perr[1024];
        const qcuda_plugin *pl = qcuda_plugin_load(perr, sizeof perr);
        if (!pl) {
            if (want_cuda) {
                snprintf(err, errlen, "--device cuda: %s", perr);
                return NULL;
            }
            /* no plugin is the normal CPU-only install: quiet, unless a GPU
             * driver says the user probably expected the GPU */
            if (nvidia_driver_present()) fprintf(stderr, "quern: %s; training on the CPU\n", perr);
            return qbackend_cpu_create(cfg, B, T, err, errlen);
        }
        qcuda_opts co;
        pl->opts_default(&co); /* QUERN_CUDA_* from the environment */
        if (opts && opts->recompute) co.recompute = 1;
        int gpus = pl->device_count();
        qbackend *be = gpus > 0 ? pl->create_opts(cfg, B, T, &co, err, errlen) : NULL;
        if (be) return be;
        if (want_cuda) {
            if (gpus <= 0) snprintf(err, errlen, "--device cuda: no CUDA GPU available");
            return NULL;
        }
        if (gpus > 0) fprintf(stderr, "quern: %s; training on the CPU\n", err);
        return qbackend_cpu_create(cfg, B, T, err, errlen);
    }
    snprintf(err, errlen, "unknown device '%s' (auto, cpu or cuda)", device);
    if (usage) *usage = 1;
    return NULL;
}

qbackend *qbackend_create(const char *device, const qgpt_config *cfg, int B, int T, char *err,
                          size_t errlen)
{
    return qbackend_create_opts(device, cfg, B, T, NULL, NULL, err, errlen);
}
