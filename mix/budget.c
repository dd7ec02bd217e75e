/* budget.c - see budget.h. */
#include "budget.h"
#include "../common/cli.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ---- parameter counts ---- */

void qbudget_count_params(const qgpt_shape *s, qparam_count *out)
{
    double L = s->n_layer, d = s->d_model, T = s->ctx, V = s->vocab;
    /* Per block: ln1 (2d) + qkv (3d^2 + 3d) + attn proj (d^2 + d) + ln2 (2d)
     * + fc (4d^2 + 4d) + fc proj (4d^2 + d) = 12 d^2 + 13 d. */
    double blocks = L * (12.0 * d * d + 13.0 * d);
    out->token_embedding = V * d;      /* tied with the output layer */
    out->position_embedding = T * d;
    out->non_embedding = blocks + 2.0 * d; /* + final layer norm */
    out->total = out->non_embedding + out->token_embedding + out->position_embedding;
}

/* Shapes as published: GPT-2 in llm.c's dN naming (Radford et al. 2019),
 * GPT-3 from Brown et al. 2020, Table 2.1 (context 2048). */
static const qmodel_preset presets[] = {
    { "d6", NULL, { 6, 384, 6, 1024, 50257 }, "a small test model (quern train's d6)" },
    { "d12", "gpt2-124m", { 12, 768, 12, 1024, 50257 }, "GPT-2 small, llm.c d12" },
    { "d24", "gpt2-350m", { 24, 1024, 16, 1024, 50257 }, "GPT-2 medium, llm.c d24" },
    { "d36", "gpt2-774m", { 36, 1280, 20, 1024, 50257 }, "GPT-2 large, llm.c d36" },
    { "d48", "gpt2-1558m", { 48, 1600, 25, 1024, 50257 }, "GPT-2 XL, llm.c d48" },
    { "gpt3-125m", "gpt3-small", { 12, 768, 12, 2048, 50257 }, "GPT-3 Small" },
    { "gpt3-1.3b", "gpt3-xl", { 24, 2048, 24, 2048, 50257 }, "GPT-3 XL" },
    { "gpt3-6.7b", NULL, { 32, 4096, 32, 2048, 50257 }, "GPT-3 6.7B" },
    { "gpt3-13b", NULL, { 40, 5140, 40, 2048, 50257 }, "GPT-3 13B" },
    { "gpt3-175b", "gpt3", { 96, 12288, 96, 2048, 50257 }, "GPT-3 175B" },
};
#define N_PRESETS (sizeof presets / sizeof presets[0])

const qmodel_preset *qbudget_preset(const char *name)
{
    for (size_t i = 0; i < N_PRESETS; i++)
        if (!strcasecmp(name, presets[i].name) || (presets[i].alias && !strcasecmp(name, presets[i].alias)))
            return &presets[i];
    return NULL;
}

const qmodel_preset *qbudget_preset_at(size_t i) { return i < N_PRESETS ? &presets[i] : NULL; }

/* ---- the Chinchilla loss fit ---- */

const qfit_consts QFIT_HOFFMANN2022 = { "chinchilla", 1.69, 406.4, 410.7, 0.34, 0.28 };
const qfit_consts QFIT_BESIROGLU2024 = { "besiroglu", 1.8172, 482.01, 2085.43, 0.3478, 0.3658 };

/* Minimising L under C = 6 N D gives N = G (C/6)^a, D = (C/6)^b / G with
 * G = (alpha A / (beta B))^(1/(alpha+beta)), a = beta/(alpha+beta),
 * b = alpha/(alpha+beta) (Hoffmann et al. 2022, appendix D.2). */
static double fit_G(const qfit_consts *f)
{
    return pow(f->alpha * f->A / (f->beta * f->B), 1.0 / (f->alpha + f->beta));
}

void qfit_optimum_for_flops(const qfit_consts *f, double C, double *N, double *D)
{
    double a = f->beta / (f->alpha + f->beta), b = f->alpha / (f->alpha + f->beta);
    double G = fit_G(f);
    *N = G * pow(C / 6.0, a);
    *D = pow(C / 6.0, b) / G;
}

double qfit_flops_for_params(const qfit_consts *f, double N)
{
    double a = f->beta / (f->alpha + f->beta);
    return 6.0 * pow(N / fit_G(f), 1.0 / a);
}

double qfit_flops_for_tokens(const qfit_consts *f, double D)
{
    double b = f->alpha / (f->alpha + f->beta);
    return 6.0 * pow(D * fit_G(f), 1.0 / b);
}

double qfit_loss(const qfit_consts *f, double N, double D)
{
    return f->E + f->A / pow(N, f->alpha) + f->B / pow(D, f->beta);
}

/* ---- accelerators (vendor dense bf16 peaks, budget.md) ---- */

static const qaccel accels[] = {
    { "a100", 312e12, 1, "NVIDIA A100 (SXM/PCIe), one GPU" },
    { "h100", 989e12, 1, "NVIDIA H100 SXM, one GPU" },
    { "h100-pcie", 756e12, 1, "NVIDIA H100 PCIe, one GPU" },
    { "h200", 989e12, 1, "NVIDIA H200 (H100's chip, more memory), one GPU" },
    { "dgx-a100", 8 * 312e12, 8, "DGX A100 server, 8 x A100" },
    { "dgx-h100", 8 * 989e12, 8, "DGX H100 server, 8 x H100 SXM" },
    { "hgx-h200", 8 * 989e12, 8, "HGX H200 server, 8 x H200" },
};
#define N_ACCELS (sizeof accels / sizeof accels[0])

const qaccel *qbudget_accel(const char *name)
{
    for (size_t i = 0; i < N_ACCELS; i++)
        if (!strcasecmp(name, accels[i].name)) return &accels[i];
    return NULL;
}

const qaccel *qbudget_accel_at(size_t i) { return i < N_ACCELS ? &accels[i] : NULL; }

/* ---- solving for the missing quantities ---- */

int qbudget_solve(const qbudget_in *in, qbudget_out *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->loss = NAN;
    double N = in->params, D = in->tokens, C = in->flops;
    int gN = N > 0, gD = D > 0, gC = C > 0;
    double ratio = in->ratio > 0 ? in->ratio : 20.0;
    int fit = in->rule == QRULE_FIT && in->fit;
    /* Attention FLOPs per training token, when the shape is known. */
    double attn = (in->ctx > 0 && in->n_layer > 0 && in->d_model > 0)
                      ? (in->attn_factor > 0 ? in->attn_factor : 6.0) * in->n_layer * in->d_model * (double)in->ctx
                      : 0.0;
    if (!gN && !gD && !gC) {
        qseterr(err, errlen, "give at least one of parameters, tokens or FLOPs");
        return -1;
    }
    if (gN && gD && gC) {
        double want = (6.0 * N + attn) * D;
        if (fabs(want - C) > 0.01 * C) {
            qseterr(err, errlen, "parameters, tokens and FLOPs disagree: (6 N + attention) D = %.4g, not %.4g",
                   want, C);
            return -1;
        }
        out->solved = "nothing (all three given)";
    } else if (gN && gD) {
        out->solved = "flops";
    } else if (gN && gC) {
        D = C / (6.0 * N + attn);
        out->solved = "tokens";
    } else if (gD && gC) {
        N = (C / D - attn) / 6.0;
        if (N <= 0) {
            qseterr(err, errlen, "the attention term alone exceeds C / D");
            return -1;
        }
        out->solved = "params";
    } else if (gN) {
        D = fit ? qfit_flops_for_params(in->fit, N) / (6.0 * N) : ratio * N;
        out->solved = "tokens, flops";
        out->used_rule = 1;
    } else if (gD) {
        N = fit ? qfit_flops_for_tokens(in->fit, D) / (6.0 * D) : D / ratio;
        out->solved = "params, flops";
        out->used_rule = 1;
    } else {
        /* C alone: the attention term is not known without a shape. */
        if (fit) {
            qfit_optimum_for_flops(in->fit, C, &N, &D);
        } else {
            N = sqrt(C / (6.0 * ratio));
            D = ratio * N;
        }
        attn = 0;
        out->solved = "params, tokens";
        out->used_rule = 1;
    }
    out->params = N;
    out->tokens = D;
    out->flops_6nd = 6.0 * N * D;
    out->flops_attn = attn * D;
    out->flops = gC ? C : out->flops_6nd + out->flops_attn;
    out->tokens_per_param = D / N;
    if (in->fit) out->loss = qfit_loss(in->fit, N, D);
    return 0;
}

void qbudget_train_cost(double flops, qtrain_cost *t)
{
    double per_s = t->peak_flops * t->mfu;
    t->device_hours = flops / per_s / 3600.0;
    t->wall_hours = t->device_hours / (t->devices > 0 ? t->devices : 1);
    t->cost = t->device_hours * t->price;
    t->single_device_years = t->device_hours / (365.25 * 24);
}

void qbudget_serve_cost(qserve_cost *s)
{
    s->flops_per_token = 2.0 * s->params;
    s->flops_per_hour = s->flops_per_token * s->tokens_per_hour;
    s->devices_needed = s->flops_per_hour / 3600.0 / (s->peak_flops * s->mfu);
    /* Whole devices, with a tolerance so 395.0000001 does not become 396. */
    s->devices_provisioned = ceil(s->devices_needed - 1e-9);
    s->cost_per_month = s->devices_provisioned * s->price * QHOURS_PER_MONTH;
}

const char *qbudget_human(double v, char *buf, size_t n)
{
    static const struct { double scale; const char *suffix; } units[] = {
        { 1e12, "T" }, { 1e9, "B" }, { 1e6, "M" }, { 1e3, "K" },
    };
    if (!isfinite(v)) {
        snprintf(buf, n, "-");
        return buf;
    }
    if (fabs(v) >= 1e15) {
        snprintf(buf, n, "%.3e", v);
        return buf;
    }
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (fabs(v) >= units[i].scale) {
            snprintf(buf, n, "%.4g%s", v / units[i].scale, units[i].suffix);
            return buf;
        }
    snprintf(buf, n, "%.4g", v);
    return buf;
}
