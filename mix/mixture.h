/* mixture.h - weights, epochs and sampling: which documents of which source
 * go where in a mix, decided without reading a single token.
 *
 * Plan: the validation split takes val_tokens x weight from every source:
 * the first documents of a seeded permutation of the source (the last one
 * truncated so the count is exact; its remainder is dropped, so no validation
 * document is ever also in train). Each source then gets weight x total train
 * tokens from its remaining documents: whole passes over a fresh seeded
 * permutation each (epochs > 1), then part of one more pass; a source larger
 * than its share is sampled without replacement. The last document a source
 * contributes is truncated so that every source's token count, and the total,
 * is exact. Permutations are Feistel networks (perm.h): O(1) memory.
 *
 * Stream: documents of all sources interleaved in a seeded order that keeps
 * every prefix at the mixture proportions: the next document comes from the
 * source i minimising (emitted_i + u x len_i) / share_i, u a seeded uniform
 * draw per document (stride scheduling with random jitter). So every output
 * shard holds the proportions to within one document per source.
 *
 * The stream's whole state is a small cursor per source: a snapshot taken at
 * each shard boundary lets shards be written in parallel with output that
 * does not depend on the number of threads. */
#ifndef QUERN_MIX_MIXTURE_H
#define QUERN_MIX_MIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "perm.h"
#include "source.h"

typedef struct mix_config {
    uint64_t total_tokens;      /* train tokens asked for */
    uint64_t val_tokens;        /* validation tokens, split by weight */
    uint64_t seed;
    double default_max_epochs;  /* for sources without their own; 0 = no limit */
    int renormalise;            /* cap sources at max_epochs, give the rest to others */
    int normalise_weights;      /* divide weights by their sum (else weight x total as given) */
} mix_config;

typedef struct mix_alloc {
    double weight_norm;         /* weight / sum of weights */
    double weight_used;         /* after --renormalise: share / train total */
    double max_epochs;          /* effective limit (0 = none) */
    uint64_t val_target;        /* validation tokens taken */
    uint64_t val_docs;          /* documents held out (the last may be truncated) */
    uint64_t val_lost;          /* tokens of the truncated validation document used nowhere */
    uint64_t train_docs;
    uint64_t avail;             /* train tokens available */
    uint64_t share;             /* train tokens taken */
    double epochs;              /* share / avail */
    int capped;                 /* held at max_epochs by --renormalise */
    qperm pval;                 /* document order for the validation split */
} mix_alloc;

typedef struct mix_plan {
    mix_source *srcs;
    size_t n;
    mix_alloc *alloc;
    mix_config cfg;
    double weight_sum;
    uint64_t train_total, val_total;
} mix_plan;

/* Data sources must be opened (mix_source_open) first; declared sizes only
 * make sense for planning. Returns -1 with err (e.g. a source over its
 * max_epochs, saying by how much). */
int mix_plan_make(mix_plan *p, mix_source *srcs, size_t n, const mix_config *cfg, char *err, size_t errlen);
void mix_plan_free(mix_plan *p);

typedef struct mix_cursor {
    uint64_t remaining, emitted, ndocs;
    uint64_t epoch, pos;
    /* the next document, once looked at */
    int peeked;
    uint64_t doc, len, start;
    size_t shard;
    double key;
} mix_cursor;

typedef struct mix_stream {
    const mix_plan *plan;
    int val;                    /* 1: the validation stream */
    mix_cursor *cur;            /* one per source */
    qperm *eperm;               /* current epoch's permutation per source */
    uint64_t *eperm_epoch;
} mix_stream;

typedef struct mix_doc {
    size_t src;
    uint64_t doc;               /* document number within the source */
    uint64_t len;               /* tokens taken (< the document's length if truncated) */
    uint64_t full_len;
    size_t shard;               /* where it is: shard of the source, first token */
    uint64_t start;
} mix_doc;

void mix_stream_init(mix_stream *s, const mix_plan *p, int val);
void mix_stream_free(mix_stream *s);
/* The next document, without taking it; 0 when the stream is done. */
int mix_stream_peek(mix_stream *s, mix_doc *d);
void mix_stream_take(mix_stream *s, const mix_doc *d);
void mix_stream_save(const mix_stream *s, mix_cursor *snap);       /* plan->n cursors */
void mix_stream_restore(mix_stream *s, const mix_cursor *snap);

/* Output shards: whole documents, at most shard_tokens each (a document
 * longer than that gets a shard of its own). */
typedef struct mix_shard_plan {
    uint64_t tokens, docs;
    mix_cursor *snap;           /* stream state at the shard's start */
    uint64_t *src_tokens;       /* tokens per source */
} mix_shard_plan;

int mix_layout(const mix_plan *p, int val, uint64_t shard_tokens, mix_shard_plan **out, size_t *n_out);
void mix_layout_free(mix_shard_plan *s, size_t n);

#endif
