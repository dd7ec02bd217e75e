/* loader.c - batches of windows over memory-mapped shards (see loader.h). */
#include "loader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int qloader_open(qloader *ld, const qmanifest *m, const char *split, int T, int shuffle,
                 uint64_t seed, char *err, size_t errlen)
{
    memset(ld, 0, sizeof *ld);
    ld->T = T;
    ld->shuffle = shuffle;
    ld->seed = seed;
    ld->vocab_size = (uint32_t)m->vocab_size;
    for (size_t i = 0; i < m->n_shards; i++)
        if (!strcmp(m->shards[i].split, split)) ld->n_shards++;
    if (!ld->n_shards) {
        snprintf(err, errlen, "the manifest names no %s shard", split);
        return -1;
    }
    ld->shards = calloc(ld->n_shards, sizeof *ld->shards);
    ld->starts = calloc(ld->n_shards, sizeof *ld->starts);
    size_t k = 0;
    for (size_t i = 0; i < m->n_shards; i++) {
        if (strcmp(m->shards[i].split, split)) continue;
        char *path = qmanifest_shard_path(m, i);
        char why[256];
        if (qshard_open(&ld->shards[k], path, 0, why, sizeof why)) {
            snprintf(err, errlen, "%s: %s", path, why);
            free(path);
            ld->n_shards = k;
            qloader_close(ld);
            return -1;
        }
        free(path);
        ld->starts[k] = ld->total_tokens;
        ld->total_tokens += ld->shards[k].n_tokens;
        k++;
    }
    if (ld->total_tokens < (uint64_t)T + 1) {
        snprintf(err, errlen, "the %s split has %llu tokens, fewer than one sequence of %d + 1",
                 split, (unsigned long long)ld->total_tokens, T);
        qloader_close(ld);
        return -1;
    }
    ld->n_windows = (ld->total_tokens - 1) / (uint64_t)T;
    return 0;
}

void qloader_close(qloader *ld)
{
    for (size_t i = 0; i < ld->n_shards; i++) qshard_close(&ld->shards[i]);
    free(ld->shards);
    free(ld->starts);
    memset(ld, 0, sizeof *ld);
}

uint32_t qloader_token(const qloader *ld, uint64_t pos)
{
    /* binary search for the shard holding pos */
    size_t lo = 0, hi = ld->n_shards;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (ld->starts[mid] <= pos) lo = mid;
        else hi = mid;
    }
    return qshard_token(&ld->shards[lo], pos - ld->starts[lo]);
}

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* A keyed bijection of [0, n): a balanced Feistel network on the smallest
 * even number of bits covering n, walked until it lands below n (each walk
 * stays a bijection; fewer than 4 rounds of walking on average). */
uint64_t qloader_window(const qloader *ld, uint64_t epoch, uint64_t index)
{
    uint64_t n = ld->n_windows;
    if (!ld->shuffle || n <= 1) return index % (n ? n : 1);
    int bits = 2;
    while (bits < 64 && (1ULL << bits) < n) bits += 2;
    int half = bits / 2;
    uint64_t mask = (1ULL << half) - 1;
    uint64_t key = mix64(ld->seed * 0x9e3779b97f4a7c15ULL + epoch + 1);
    uint64_t x = index;
    do {
        uint64_t l = x >> half, r = x & mask;
        for (int round = 0; round < 4; round++) {
            uint64_t f = mix64(r ^ key ^ ((uint64_t)round << 56)) & mask;
            uint64_t nl = r;
            r = l ^ f;
            l = nl;
        }
        x = (l << half) | r;
    } while (x >= n);
    return x;
}

int qloader_next(qloader *ld, int B, int32_t *inputs, int32_t *targets, char *err,
                 size_t errlen)
{
    int T = ld->T;
    for (int b = 0; b < B; b++) {
        uint64_t w = qloader_window(ld, ld->epoch, ld->index);
        uint64_t pos = w * (uint64_t)T;
        for (int t = 0; t <= T; t++) {
            uint32_t tok = qloader_token(ld, pos + (uint64_t)t);
            if (tok >= ld->vocab_size) {
                snprintf(err, errlen, "token %u at position %llu is outside the vocabulary of %u",
                         tok, (unsigned long long)(pos + (uint64_t)t), ld->vocab_size);
                return -1;
            }
            if (t < T) inputs[b * T + t] = (int32_t)tok;
            if (t > 0) targets[b * T + t - 1] = (int32_t)tok;
        }
        if (++ld->index == ld->n_windows) {
            ld->index = 0;
            ld->epoch++;
        }
    }
    return 0;
}

void qloader_rewind(qloader *ld)
{
    ld->epoch = 0;
    ld->index = 0;
}
