/* loader.h - training batches from the token shards a manifest names.
 *
 * The shards of one split are read (memory-mapped) as one concatenated token
 * stream, cut into windows of T+1 tokens that overlap by one (window w covers
 * tokens [w*T, w*T + T]: inputs are the first T, targets the last T). The
 * training split visits the windows of each epoch in a seeded pseudo-random
 * order (a keyed bijection of the window numbers, so it needs no memory and
 * any position can be restored from (epoch, index) alone); the validation
 * split reads them in order. */
#ifndef QUERN_TRAINER_LOADER_H
#define QUERN_TRAINER_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "common/manifest.h"
#include "common/shard.h"

typedef struct qloader {
    qshard *shards;
    uint64_t *starts;        /* first stream position of each shard */
    size_t n_shards;
    uint64_t total_tokens;
    uint64_t n_windows;
    int T;
    uint32_t vocab_size;     /* tokens >= this are reported as errors */
    int shuffle;
    uint64_t seed;
    /* position: the next window is number `index` of epoch `epoch` */
    uint64_t epoch, index;
} qloader;

/* Opens the shards of manifest split ("train" or "val"). T: sequence length.
 * Fails (with err) when the split has no shard or fewer than T+1 tokens. */
int qloader_open(qloader *ld, const qmanifest *m, const char *split, int T, int shuffle,
                 uint64_t seed, char *err, size_t errlen);
void qloader_close(qloader *ld);

/* Fills inputs and targets ([B][T] each) with the next B windows and
 * advances. Returns 0, or -1 with err when a token is outside the
 * vocabulary. */
int qloader_next(qloader *ld, int B, int32_t *inputs, int32_t *targets, char *err,
                 size_t errlen);
/* Rewinds to the first window of epoch 0 (validation). */
void qloader_rewind(qloader *ld);
/* The window number visited at (epoch, index): exposed for the tests. */
uint64_t qloader_window(const qloader *ld, uint64_t epoch, uint64_t index);
/* Token at stream position pos. */
uint32_t qloader_token(const qloader *ld, uint64_t pos);

#endif
