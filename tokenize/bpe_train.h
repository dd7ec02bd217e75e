/* bpe_train.h - learning a byte-level BPE vocabulary.
 *
 * Two phases, as in Hugging Face tokenizers and rustbpe:
 *  1. Counting: every piece of the split pattern is counted once in a hash
 *     map (piece bytes -> u64 count). Counting runs per batch on worker
 *     threads into private counters that are added to the global one in
 *     input order, so the result does not depend on -j. When the global map
 *     outgrows max_bytes, the rarest pieces are pruned (count below a
 *     threshold, kept from the last prune and doubled until the map fits in
 *     3/4 of the limit); what was pruned is counted and reported.
 *  2. Merging: ids 0..255 are the bytes; each step takes the most frequent
 *     adjacent pair (u64 counts), gives the concatenation the next id and
 *     rewrites only the words that contain the pair, adjusting neighbouring
 *     pair counts by deltas. Per pair: its count and the words where it
 *     occurs; a max-heap of pairs with lazy refresh (a popped entry whose
 *     count is stale is pushed back with the current count).
 *
 * Tie-break (documented, deterministic): the highest count wins; among equal
 * counts the pair with the smallest left id, then the smallest right id.
 * If a pair's concatenation is already a token (two merge paths can build
 * the same bytes), the pair is merged into that token and no new id is
 * used, so the vocabulary never holds duplicate byte strings. (With the
 * global left-to-right rewriting this has not been seen to happen on real or
 * random data; the check is a guard, and the .tiktoken export relies on it.) */
#ifndef QUERN_TOKENIZE_BPE_TRAIN_H
#define QUERN_TOKENIZE_BPE_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "pretok.h"
#include "vocab.h"

/* ---- piece counting ---- */
typedef struct qbpe_counter qbpe_counter;

/* max_bytes: memory bound for the map (0 = unbounded). */
qbpe_counter *qbpe_counter_new(uint64_t max_bytes);
void qbpe_counter_free(qbpe_counter *c);
void qbpe_counter_add(qbpe_counter *c, const char *piece, size_t len, uint64_t count);
/* Split valid UTF-8 text with the pattern and count its pieces. Returns 0,
 * or -1 if the pattern engine gave up (resource limit). */
int qbpe_counter_add_text(qbpe_counter *c, const qpretok *p, qpretok_scratch *s, const char *text,
                          size_t len);
/* dst += src; prunes dst if it outgrows its bound. */
void qbpe_counter_merge(qbpe_counter *dst, const qbpe_counter *src);
void qbpe_counter_clear(qbpe_counter *c);
uint64_t qbpe_counter_get(const qbpe_counter *c, const char *piece, size_t len);   /* 0 if absent */
size_t qbpe_counter_size(const qbpe_counter *c);          /* distinct pieces */
uint64_t qbpe_counter_bytes(const qbpe_counter *c);       /* memory estimate */
uint64_t qbpe_counter_pruned_pieces(const qbpe_counter *c);
uint64_t qbpe_counter_pruned_count(const qbpe_counter *c); /* occurrences dropped */
uint64_t qbpe_counter_threshold(const qbpe_counter *c);   /* current pruning threshold (0: none) */
/* Iterate: i in [0, capacity); returns 1 and fills piece/len/count if slot i is used. */
size_t qbpe_counter_capacity(const qbpe_counter *c);
int qbpe_counter_entry(const qbpe_counter *c, size_t i, const char **piece, size_t *len,
                       uint64_t *count);

/* ---- merging ---- */
typedef struct qbpe_merge {
    uint32_t left, right, id;   /* id: the token made (a new one, or an existing one) */
    uint64_t count;             /* pair count when it was merged */
} qbpe_merge;

typedef struct qbpe_train_opts {
    uint32_t vocab_size;        /* total, special tokens included */
    const char *const *specials;   /* e.g. "<|endoftext|>", placed after the merged tokens */
    size_t n_specials;
    uint64_t min_count;         /* stop when the best pair is rarer (default 1) */
    const char *pattern;        /* stored in the vocabulary */
    const char *name;
    /* optional progress callback every 1000 merges */
    void (*progress)(void *ctx, size_t merges_done, size_t merges_total);
    void *progress_ctx;
} qbpe_train_opts;

/* Learn merges from counted pieces into out (initialised by the caller).
 * merges/n_merges (optional) receive the merge list (malloc'd). Returns 0 or
 * -1 (err filled, e.g. vocab_size below 256 + specials). */
int qbpe_train(const qbpe_counter *c, const qbpe_train_opts *o, qvocab *out, qbpe_merge **merges,
               size_t *n_merges, char *err, size_t errlen);

/* `quern bpe train` (cmd_bpe_train.c). */
int cmd_bpe_train(int argc, char **argv);

#endif
