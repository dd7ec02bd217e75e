/* optim.c - AdamW, gradient norm and learning-rate schedules. */
#include "optim.h"

#include <math.h>
#include <string.h>

void qadamw_step(float *params, const float *grads, float *m, float *v, const qgpt_layout *lay,
                 const qadamw *hp, float lr, float grad_scale, long t)
{
    /* torch's formulation: decay, moments, bias corrections via step size and
     * sqrt(1 - beta2^t) in the denominator */
    float b1 = hp->beta1, b2 = hp->beta2;
    float bc1 = 1.0f - powf(b1, (float)t), bc2_sqrt = sqrtf(1.0f - powf(b2, (float)t));
    float step_size = lr / bc1;
    for (int k = 0; k < QP_NTENSORS; k++) {
        float decay = qgpt_tensor_decays(k) ? 1.0f - lr * hp->weight_decay : 1.0f;
        size_t off = lay->offset[k], n = lay->size[k];
        float *p = params + off, *mm = m + off, *vv = v + off;
        const float *g = grads + off;
#pragma omp parallel for schedule(static) if (n >= 16384)
        for (size_t i = 0; i < n; i++) {
            float gi = g[i] * grad_scale;
            p[i] *= decay;
            mm[i] = mm[i] * b1 + (1.0f - b1) * gi;
            vv[i] = vv[i] * b2 + (1.0f - b2) * gi * gi;
            float denom = sqrtf(vv[i]) / bc2_sqrt + hp->eps;
            p[i] -= step_size * (mm[i] / denom);
        }
    }
}

#define NORM_CHUNK 16384

double qgrad_norm(const float *grads, size_t n)
{
    size_t chunks = (n + NORM_CHUNK - 1) / NORM_CHUNK;
    double total = 0.0;
    /* partial sums per fixed chunk, then added in chunk order */
    double partial[256];
    for (size_t base = 0; base < chunks; base += 256) {
        size_t cnt = chunks - base < 256 ? chunks - base : 256;
#pragma omp parallel for schedule(static) if (cnt > 1)
        for (size_t c = 0; c < cnt; c++) {
            size_t i0 = (base + c) * NORM_CHUNK, i1 = i0 + NORM_CHUNK < n ? i0 + NORM_CHUNK : n;
            double s = 0.0;
            for (size_t i = i0; i < i1; i++) s += (double)grads[i] * grads[i];
            partial[c] = s;
        }
        for (size_t c = 0; c < cnt; c++) total += partial[c];
    }
    return sqrt(total);
}

float qclip_scale(double norm, float max_norm)
{
    if (max_norm <= 0) return 1.0f;
    double s = max_norm / (norm + 1e-6);
    return s < 1.0 ? (float)s : 1.0f;
}

static const char *const sched_names[] = { "cosine", "linear", "constant", "wsd" };

int qsched_parse(const char *name, qsched_kind *kind)
{
    for (int i = 0; i < 4; i++)
        if (!strcmp(name, sched_names[i])) {
            *kind = (qsched_kind)i;
            return 0;
        }
    return -1;
}

const char *qsched_name(qsched_kind kind)
{
    return (unsigned)kind < 4 ? sched_names[kind] : "?";
}

double qsched_lr(const qsched *s, long step)
{
    if (step <= s->warmup) return s->lr * (double)step / (double)s->warmup;
    if (s->kind == QSCHED_CONSTANT) return s->lr;
    long span = s->total - s->warmup;
    if (s->kind == QSCHED_WSD) {
        long decay = (long)llround(s->decay_frac * (double)s->total);
        if (decay > span) decay = span;
        long start = s->total - decay; /* last stable step */
        if (step <= start || decay <= 0) return s->lr;
        return s->lr - (s->lr - s->min_lr) * (double)(step - start) / (double)decay;
    }
    if (span <= 0) return s->lr;
    double progress = (double)(step - s->warmup) / (double)span;
    if (progress > 1.0) progress = 1.0;
    if (s->kind == QSCHED_LINEAR) return s->lr - (s->lr - s->min_lr) * progress;
    return s->min_lr + 0.5 * (1.0 + cos(M_PI * progress)) * (s->lr - s->min_lr);
}
