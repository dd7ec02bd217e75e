/* budget.h - compute-budget arithmetic: parameters N, tokens D, FLOPs C,
 * training time and cost on an accelerator, and serving cost.
 *
 * Reference facts and constants: /work/shared/budget.md (copied into
 * mix/README.md). C = 6 N D counts 2 FLOPs per parameter per token forward
 * and 4 backward; the attention-score term adds attn_factor * L * d * T per
 * token for context T (6: llm.c's causal count, 12: PaLM's). */
#ifndef QUERN_MIX_BUDGET_H
#define QUERN_MIX_BUDGET_H

#include <stddef.h>

/* A GPT shape in llm.c's layout: tied token embedding (V x d), learned
 * position embedding (T x d), L blocks of attention + 4d MLP with biases and
 * two layer norms, a final layer norm. */
typedef struct qgpt_shape {
    int n_layer, d_model, n_head, ctx, vocab;
} qgpt_shape;

typedef struct qparam_count {
    double total;          /* every trained weight; the tied embedding once */
    double token_embedding;
    double position_embedding;
    double non_embedding;  /* total - both embeddings (Kaplan et al.'s N) */
} qparam_count;

void qbudget_count_params(const qgpt_shape *s, qparam_count *out);

typedef struct qmodel_preset {
    const char *name, *alias;
    qgpt_shape shape;
    const char *note;
} qmodel_preset;

/* Looked up by name or alias, case-insensitive; NULL if unknown. */
const qmodel_preset *qbudget_preset(const char *name);
const qmodel_preset *qbudget_preset_at(size_t i);   /* NULL past the end */

/* Loss fit L(N, D) = E + A / N^alpha + B / D^beta. */
typedef struct qfit_consts {
    const char *name;
    double E, A, B, alpha, beta;
} qfit_consts;

extern const qfit_consts QFIT_HOFFMANN2022;   /* Chinchilla, Approach 3 */
extern const qfit_consts QFIT_BESIROGLU2024;  /* the 2024 refit */

/* Compute-optimal N and D for budget C (C = 6 N D). */
void qfit_optimum_for_flops(const qfit_consts *f, double C, double *N, double *D);
/* The budget whose optimum has N parameters / D tokens. */
double qfit_flops_for_params(const qfit_consts *f, double N);
double qfit_flops_for_tokens(const qfit_consts *f, double D);
double qfit_loss(const qfit_consts *f, double N, double D);

typedef struct qaccel {
    const char *name;
    double peak_flops;      /* dense bf16, per device */
    int gpus;               /* GPUs in one device (8 for a server) */
    const char *what;
} qaccel;

const qaccel *qbudget_accel(const char *name);
const qaccel *qbudget_accel_at(size_t i);

enum { QRULE_RATIO = 0, QRULE_FIT = 1 };

typedef struct qbudget_in {
    double params, tokens, flops;  /* 0 = not given; at least one given */
    int rule;                      /* QRULE_RATIO (D = ratio N) or QRULE_FIT */
    double ratio;                  /* tokens per parameter, default 20 */
    const qfit_consts *fit;        /* for QRULE_FIT */
    /* Attention term (only when ctx > 0 and the shape is known). */
    int n_layer, d_model, ctx;
    double attn_factor;            /* 6 or 12 */
} qbudget_in;

typedef struct qbudget_out {
    double params, tokens;
    double flops_6nd, flops_attn, flops;   /* flops = 6ND + attention term */
    double tokens_per_param;
    double loss;                   /* predicted by the fit (NaN when rule is the ratio) */
    const char *solved;            /* which quantities were derived, e.g. "tokens, flops" */
    int used_rule;                 /* 1 when only one quantity was given, so the rule decided */
} qbudget_out;

/* Fills out from whichever of N, D, C are given. -1 with err if they are
 * inconsistent (all three given and C != 6 N D within 1%) or none given. */
int qbudget_solve(const qbudget_in *in, qbudget_out *out, char *err, size_t errlen);

typedef struct qtrain_cost {
    double peak_flops, mfu, devices, price;  /* price per device-hour */
    double device_hours, wall_hours, cost;
    double single_device_years;
} qtrain_cost;

void qbudget_train_cost(double flops, qtrain_cost *t);

#define QHOURS_PER_MONTH 730.5   /* 365.25 * 24 / 12 */

typedef struct qserve_cost {
    double params;
    double tokens_per_hour;        /* generated tokens per hour at peak load */
    double peak_flops, mfu, price;
    double flops_per_token;        /* 2 N */
    double flops_per_hour;
    double devices_needed;         /* fractional */
    double devices_provisioned;    /* rounded up */
    double cost_per_month;         /* provisioned x price x QHOURS_PER_MONTH */
} qserve_cost;

void qbudget_serve_cost(qserve_cost *s);

/* "1.2B", "3.14e23" style short rendering into buf (returns buf). */
const char *qbudget_human(double v, char *buf, size_t n);

#endif
