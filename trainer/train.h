/* train.h - the training run: plan from the budget, the step loop over a
 * device backend, evaluation, logging, checkpoints and resume.
 * cmd_train.c fills qtrain_opts from the command line. */
#ifndef QUERN_TRAINER_TRAIN_H
#define QUERN_TRAINER_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "optim.h"

typedef struct qtrain_opts {
    const char *data;           /* manifest.json or its directory */
    const char *out;            /* run directory: checkpoints, log.jsonl, loss.svg */
    const char *resume;         /* checkpoint file or directory, or NULL */
    const char *preset;         /* d6, d12, d24, d36, d48, or NULL */
    int layers, heads, dim, seq;/* explicit sizes (0: from the preset) */
    int vocab_pad;              /* padded vocabulary multiple (64 or 128) */
    int batch;                  /* sequences per micro-batch */
    uint64_t batch_tokens;      /* tokens per optimizer step (0: batch x seq) */
    double tokens;              /* run length in tokens (0: from the budget) */
    long steps;                 /* run length in steps (0: from tokens) */
    qsched_kind schedule;
    double lr, min_lr_frac;     /* peak rate; final rate as a fraction of it */
    long warmup;                /* steps; -1: 5% of the run */
    double decay_frac;          /* wsd */
    qadamw adamw;
    float clip;                 /* global gradient norm limit (0: off) */
    uint64_t seed;
    /* run settings: -1 = not given (a resumed run keeps its checkpoint's) */
    long ckpt_every;            /* 0: only at the end (default) */
    long keep;                  /* checkpoints kept (0: all; default 3) */
    long eval_every;            /* 0: only at the end (default) */
    long eval_tokens;           /* validation tokens per evaluation (default 32768) */
    const char *device;         /* auto, cpu, cuda */
    double peak;                /* peak FLOP/s for MFU (0: not reported) */
    int threads;                /* 0: all cores */
    long print_every;
    int verify;                 /* check shard checksums before training */
    const char *trace;          /* directory for a reference trace, or NULL */
    const char *tokenizer;      /* tokenizer spec recorded for `quern sample`, or NULL */
    const char *stats;          /* --stats FILE: JSON summary, or NULL */
    int recompute;              /* GPU: recompute LayerNorm/GELU outputs in backward */
    int force;                  /* start afresh in a run directory that holds checkpoints */
    long stop_at;               /* stop (with a checkpoint) after this step; 0: run to the end */
} qtrain_opts;

void qtrain_opts_default(qtrain_opts *o);
/* Runs (or resumes) a training run; returns the exit code (cli.h). */
int qtrain_run(const qtrain_opts *o);

/* Writes the loss curve as an SVG: training loss per step, validation loss
 * at its steps, and a dashed reference line (e.g. the unigram entropy; NaN
 * for none). 0, or -1 with err. */
int qplot_loss_svg(const char *path, const long *steps, const float *loss, size_t n,
                   const long *vsteps, const float *vloss, size_t nv, double ref,
                   const char *ref_label, const char *title, char *err, size_t errlen);

#endif
