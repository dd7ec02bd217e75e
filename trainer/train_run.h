/* train_run.h - the state of one training run, shared by train.c (plan and
 * loop) and train_io.c (set-up, log, evaluation, checkpoints, trace).
 * Internal to trainer/. */
#ifndef QUERN_TRAINER_TRAIN_RUN_H
#define QUERN_TRAINER_TRAIN_RUN_H

#include <stdio.h>

#include "backend.h"
#include "checkpoint.h"
#include "common/manifest.h"
#include "loader.h"
#include "train.h"

typedef struct qrun {
    const qtrain_opts *o;
    qmanifest man;
    char manifest_path[4200];   /* absolute path of manifest.json */
    char out[4096];             /* run directory */
    qckpt_meta st;              /* everything a checkpoint stores besides the arrays */
    float *ck_params, *ck_m, *ck_v; /* state read from a checkpoint, until handed over */
    qloader train, val;
    int has_val;
    qbackend *be;
    int32_t *inputs, *targets;
    double unigram;             /* entropy of the training tokens' unigram distribution */
    const char *d_source;       /* where D came from (fresh runs) */
    double d_requested;
    FILE *log;
    long *hs; float *hl; size_t hn, hcap;  /* training loss history (plot) */
    long *vs; float *vl; size_t vn, vcap;  /* validation loss history */
    float last_val;
    int trace;
    void *trace_batches;        /* qout of the trace's batches */
    double elapsed;
    int stopped;                /* --stop-at ended the loop early */
    struct qstats *stats;       /* --stats, started with the run */
} qrun;

double qtrain_now(void);
/* "cpu", or the GPU's name */
const char *qrun_device_label(const qrun *r);
/* resume checkpoint (if any), manifest, output directory */
int qrun_setup(qrun *r);
/* loaders, backend, parameters, unigram entropy */
int qrun_prepare(qrun *r);
/* seconds for one forward + backward micro-batch (nothing changes) */
double qrun_probe(qrun *r);
int qrun_open_log(qrun *r);
void qrun_log_step(qrun *r, long step, float loss, double lr, double norm, double secs,
                   double tokens_per_s, double mfu);
int qrun_evaluate(qrun *r, long step);
int qrun_checkpoint(qrun *r);
int qrun_finish(qrun *r);
void qrun_free(qrun *r);

int qtrace_start(qrun *r);
int qtrace_batch(qrun *r, long step, int micro);
int qtrace_grads(qrun *r);
int qtrace_finish(qrun *r);   /* commits the batches file */

#endif
