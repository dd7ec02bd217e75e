/* sampler.c - next-token choice and the checkpoint's tokenizer. */
#include "sampler.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenize/tokenizer.h"

static int by_logit_desc(const void *a, const void *b, void *logits)
{
    const float *l = logits;
    float x = l[*(const int *)a], y = l[*(const int *)b];
    if (x != y) return x < y ? 1 : -1;
    return *(const int *)a - *(const int *)b; /* ties: lower id first, for reproducibility */
}

uint32_t qsample_token(const float *logits, int V, float temperature, int top_k, qrng *rng)
{
    if (temperature <= 0 || top_k == 1) {
        int best = 0;
        for (int i = 1; i < V; i++)
            if (logits[i] > logits[best]) best = i;
        return (uint32_t)best;
    }
    int *ids = malloc((size_t)V * sizeof *ids);
    for (int i = 0; i < V; i++) ids[i] = i;
    int k = top_k > 0 && top_k < V ? top_k : V;
    qsort_r(ids, (size_t)V, sizeof *ids, by_logit_desc, (void *)logits);
    double *w = malloc((size_t)k * sizeof *w), sum = 0;
    for (int i = 0; i < k; i++) {
        w[i] = exp(((double)logits[ids[i]] - logits[ids[0]]) / temperature);
        sum += w[i];
    }
    double u = qrng_uniform(rng) * sum, acc = 0;
    int pick = k - 1;
    for (int i = 0; i < k; i++) {
        acc += w[i];
        if (u < acc) {
            pick = i;
            break;
        }
    }
    uint32_t id = (uint32_t)ids[pick];
    free(ids);
    free(w);
    return id;
}

static qtok *try_load(const qckpt_meta *meta, const char *spec, char *err, size_t errlen)
{
    char why[512];
    qtok *t = qtok_load(spec, why, sizeof why);
    if (!t) {
        snprintf(err, errlen, "tokenizer '%s': %s", spec, why);
        return NULL;
    }
    if (qtok_vocab_size(t) != meta->tok_vocab || qtok_eot(t) != meta->eot) {
        snprintf(err, errlen, "tokenizer '%s' has %u ids and EOT %u; the model was trained on %llu "
                 "and EOT %u", spec, qtok_vocab_size(t), qtok_eot(t),
                 (unsigned long long)meta->tok_vocab, meta->eot);
        qtok_free(t);
        return NULL;
    }
    return t;
}

qtok *qsample_tokenizer(const qckpt_meta *meta, const char *spec, char *err, size_t errlen)
{
    if (spec) return try_load(meta, spec, err, errlen);
    if (meta->tok_spec[0]) return try_load(meta, meta->tok_spec, err, errlen);
    if (meta->tok_name[0]) {
        qtok *t = try_load(meta, meta->tok_name, err, errlen);
        if (t) return t;
        size_t n = strlen(err);
        snprintf(err + n, errlen - n, " (the run recorded no --tokenizer; give --tokenizer SPEC)");
        return NULL;
    }
    snprintf(err, errlen, "the checkpoint names no tokenizer; give --tokenizer SPEC");
    return NULL;
}
