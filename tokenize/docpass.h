/* docpass.h - one parallel pass over the documents of some inputs: the batch
 * pipeline that `quern tokenize` and `quern bpe train` share.
 *
 * Why: both read batches of lines (docbatch.h) on the main thread, turn each
 * line into a document's text on a worker (bad lines are queued and reported
 * in input order), and fold the batches in input order with a progress line;
 * only what they do with a text and with a finished batch differs. Those two
 * steps are the caller's callbacks; the reading, the parsing, the bad-line
 * reports and the counts are written once, here. Results never depend on -j
 * (pool.h). */
#ifndef QUERN_TOKENIZE_DOCPASS_H
#define QUERN_TOKENIZE_DOCPASS_H

#include <stddef.h>
#include <stdint.h>

#include "../common/io.h"
#include "../common/progress.h"
#include "../common/strbuf.h"
#include "docbatch.h"

/* The first member of every caller's item type. */
typedef struct qdocpass_item {
    qdocbatch *batch;         /* the raw lines */
    strbuf errors;            /* bad lines the worker queued (qbadlines_queue) */
    uint64_t docs;            /* good documents in the batch */
    uint64_t repairs;         /* invalid UTF-8 replaced while parsing JSONL; the
                               * caller's doc() may add the repairs it makes */
    uint64_t text_bytes;      /* bytes of the good documents' texts */
} qdocpass_item;

typedef struct qdocpass_ops {
    size_t item_size;         /* sizeof the caller's item (begins with a qdocpass_item) */
    /* Worker thread, before the item's documents; NULL for nothing. */
    void (*begin)(void *ctx, qdocpass_item *it, int worker);
    /* Worker thread: each good document's text, in input order within the
     * item (JSONL: the text field, repaired to valid UTF-8; text mode: the
     * line and its newline). `worker` in [0, jobs) indexes the caller's state. */
    void (*doc)(void *ctx, qdocpass_item *it, int worker, const char *text, size_t len);
    /* Main thread, items in input order, after their bad lines were reported
     * and their counts added to the totals. Non-zero stops the pass. */
    int (*consume)(void *ctx, qdocpass_item *it);
    /* Frees what the caller added to an item; NULL for nothing. */
    void (*release)(qdocpass_item *it);
} qdocpass_ops;

typedef struct qdocpass_opts {
    int text_mode;            /* 1: each plain-text line is a document */
    const char *text_field;   /* JSONL: NULL = "text" */
    int jobs;                 /* worker threads */
    size_t batch_bytes;       /* bytes of lines per item (at least one line) */
    qprogress *prog;          /* updated after each item (bytes read, documents); may be NULL */
} qdocpass_opts;

typedef struct qdocpass_totals {
    uint64_t docs, repairs, text_bytes;          /* summed over the consumed items */
    uint64_t bytes_in, failed_inputs, bad_lines; /* the line source's counts at the end */
} qdocpass_totals;

/* --format jsonl|text, the option that picks text_mode in both commands:
 * sets *text_mode and returns 0, or prints the usage error and returns -1. */
int qdocpass_parse_format(const char *arg, int *text_mode);

/* Runs the pass over the inputs and fills *t. Returns what qpipe_run returns
 * (0, or the non-zero value of the consume() that stopped it). */
int qdocpass_run(qinputs *in, const qdocpass_opts *o, const qdocpass_ops *ops, void *ctx,
                 qdocpass_totals *t);

#endif
