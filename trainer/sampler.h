/* sampler.h - choosing the next token from logits (temperature, top-k) and
 * resolving the tokenizer a checkpoint was trained with. */
#ifndef QUERN_TRAINER_SAMPLER_H
#define QUERN_TRAINER_SAMPLER_H

#include <stddef.h>
#include <stdint.h>

#include "checkpoint.h"
#include "model.h"

/* Samples an id in [0, V) from softmax(logits / temperature) restricted to
 * the top_k largest logits (top_k <= 0: all). temperature <= 0: the argmax.
 */
uint32_t qsample_token(const float *logits, int V, float temperature, int top_k, qrng *rng);

typedef struct qtok qtok;
/* The tokenizer of a checkpoint: spec if given, else the one recorded at
 * training (--tokenizer), else the manifest's tokenizer name (built-ins such
 * as gpt2). Checks that its vocabulary and EOT match the checkpoint's.
 * NULL with err (saying which specs were tried) on failure. */
qtok *qsample_tokenizer(const qckpt_meta *meta, const char *spec, char *err, size_t errlen);

#endif
