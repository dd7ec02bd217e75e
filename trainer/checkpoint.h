/* checkpoint.h - everything a run needs to continue exactly where it stopped.
 *
 * One file per checkpoint, DIR/ckpt_<step, 8 digits>.bin, written atomically
 * (outfile.h):
 *   "QUERNCKP", uint32 version (1), uint32 0, uint64 length of the JSON,
 *   the JSON (qckpt_meta: configuration, step, data position, RNG state,
 *   optimizer and schedule settings, tokenizer), zero padding to a multiple
 *   of 64 bytes, then params, AdamW m and v (each lay.total little-endian
 *   fp32 in model.h's layout), then the XXH3-64 of all preceding bytes. */
#ifndef QUERN_TRAINER_CHECKPOINT_H
#define QUERN_TRAINER_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "optim.h"

typedef struct qckpt_meta {
    qgpt_config cfg;
    int B, T, accum;            /* micro-batch and gradient accumulation */
    long step, total_steps;     /* completed steps; planned steps */
    uint64_t tokens_done, tokens_planned;
    uint64_t loader_epoch, loader_index;
    uint64_t seed;
    qrng rng;
    qadamw adamw;
    qsched sched;
    float clip;
    long ckpt_every, keep, eval_every, eval_tokens; /* run settings a resume keeps */
    char manifest[4200];        /* absolute path of the training manifest */
    char tok_name[256];
    char tok_spec[4200];        /* what qtok_load() takes (--tokenizer), or "" */
    uint64_t tok_vocab;
    uint32_t eot;
    char tok_hash[17];
} qckpt_meta;

/* Writes DIR/ckpt_<step>.bin; then removes all but the newest `keep`
 * checkpoints in dir (keep <= 0 keeps all). m and v may be NULL (zeros). */
int qckpt_write(const char *dir, const qckpt_meta *meta, const float *params, const float *m,
                const float *v, int keep, char *path_out, size_t path_len, char *err,
                size_t errlen);
/* Reads a checkpoint file, or the newest valid one in a directory. The
 * arrays are malloc'd (lay.total floats each); any of the out pointers may
 * be NULL to skip that array. */
int qckpt_read(const char *path, qckpt_meta *meta, float **params, float **m, float **v,
               char *path_out, size_t path_len, char *err, size_t errlen);

#endif
