/* engine.h - dedup's private glue shared by the in-memory mode, the phases
 * and cmd_dedup.c: options, per-document features computed in worker
 * threads, batches read from qdoc_reader, and the duplicate resolver. */
#ifndef QUERN_DEDUP_ENGINE_H
#define QUERN_DEDUP_ENGINE_H

#include <stdint.h>
#include <stdio.h>

#include "../common/doc.h"
#include "../common/io.h"
#include "../common/progress.h"
#include "dedup.h"

enum { DD_KEEP_FIRST = 0, DD_KEEP_LONGEST = 1 };
enum { DD_EXACT_TEXT = 1, DD_EXACT_URL = 2 };

typedef struct dd_opts {
    dd_params params;
    int near;                 /* MinHash LSH on */
    int exact;                /* DD_EXACT_* bits */
    double verify;            /* 0: off; else the Jaccard threshold */
    int keep;                 /* DD_KEEP_* */
    const char *text_field;
    int jobs;
    int strict;               /* stop at the first bad line */
    uint64_t max_memory;      /* 0: no limit */
    const char *clusters_path, *pairs_path, *stats_path;
    int progress, force;
} dd_opts;

/* ---- per-document features (worker threads) ---- */
typedef struct dd_feat {
    uint64_t ref;             /* dd_ref(input, line) */
    uint64_t text_len;        /* bytes of the text field (UTF-8) */
    dd_key128 text_key, url_key;
    int has_url;
    int no_shingles;          /* empty after normalisation: never a near duplicate */
    uint64_t *band_keys;      /* params.bands keys (points into the batch) */
    uint64_t *shingles;       /* sorted set, when kept (verify); malloc'd */
    size_t n_shingles;
    size_t arena_off;         /* text (then URL) in the worker's arena */
    long url_len;             /* -1: no URL */
    int bad;                  /* the line did not parse */
    char *err;                /* its error (malloc'd) */
} dd_feat;

typedef struct dd_signer {
    const dd_opts *o;
    dd_minhash mh;
    strbuf norm;
    dd_u64vec sh;
    uint64_t *sig;
    qdoc doc;
    strbuf tmp;
    strbuf arena;             /* a batch's texts, for the timed signing pass */
    double cpu_seconds;       /* thread CPU time spent signing */
    uint64_t bytes_signed;
} dd_signer;

void dd_signer_init(dd_signer *s, const dd_opts *o);
void dd_signer_free(dd_signer *s);
/* Features of one parsed document's text (and URL); keep_shingles: store the set. */
void dd_signer_text(dd_signer *s, const char *text, size_t len, const char *url, size_t url_len,
                    int keep_shingles, dd_feat *f);

/* ---- batches: lines read on the main thread, parsed and signed by workers ---- */
typedef struct dd_batch {
    size_t n;
    strbuf *lines;            /* raw lines */
    uint64_t *line_no;
    const char **names;
    dd_feat *feat;
    uint64_t *band_keys;      /* n * bands */
    strbuf *out;              /* serialised documents (when want_output) */
    size_t cap;
} dd_batch;

typedef struct dd_source {
    qdoc_reader *reader;
    char **paths;             /* the inputs read, in order */
    size_t n_paths;
    uint64_t *input_index;    /* each path's index in the full (unsharded) list */
    size_t cur;               /* index into paths of the current input */
    const char *cur_name;
    int failed;               /* reader stopped on an error */
    const dd_opts *o;
    int keep_shingles, want_output;
    dd_signer *signers;       /* one per worker */
    int jobs;
    uint64_t docs_read;
} dd_source;

/* paths are the inputs to read (already sharded); input_index their index in
 * the full list (NULL: 0, 1, 2, ...). Returns 0 or -1 (error printed). */
int dd_source_open(dd_source *src, char **paths, size_t n, const uint64_t *input_index,
                   const dd_opts *o, int keep_shingles, int want_output);
void dd_source_close(dd_source *src);
/* The inputs of shard `shard` of `nshards` in the full expanded list (input i
 * belongs to shard i % nshards, as qinputs_expand slices), each with its index
 * in that list: documents are named by (input index, line), so every shard
 * and every mode (in memory, phased) names a document the same way. *paths
 * points into full; the caller frees both arrays. Returns how many. */
size_t dd_shard_inputs(const qinputs *full, unsigned shard, unsigned nshards, char ***paths,
                       uint64_t **index);
/* qpipe plumbing for dd_batch items, the same in every phase. ctx is the
 * phase's state, whose FIRST member is its dd_source (a pointer to a struct,
 * converted, points to its first member), so a phase lists these three in its
 * qpipe_ops as they are and writes only its consume. */
void *dd_pipe_produce(void *ctx, int *stop);
void dd_pipe_work(void *item, int worker, void *ctx);
void dd_pipe_discard(void *item, void *ctx);
void dd_batch_free(dd_batch *b);
/* Report the bad lines among the batch's first `upto` documents in order
 * (main thread); returns how many. */
size_t dd_batch_report_bad(dd_source *src, dd_batch *b, size_t upto);
/* The index of the batch's first bad line, or b->n when it has none: with
 * --strict the documents before it are still processed, nothing after it. */
size_t dd_batch_first_bad(const dd_batch *b);

/* ---- resolving duplicates (shared, so every mode decides the same way) ---- */
enum { DD_EDGE_EXACT = 1, DD_EDGE_NEAR = 2 };
typedef struct dd_edge {
    uint64_t rep, doc;        /* rep < doc */
    uint32_t kind;            /* DD_EDGE_* */
    float jaccard;            /* verified Jaccard, or -1 when not verified */
} dd_edge;

typedef struct dd_edgevec {
    dd_edge *v;
    size_t n, cap;
} dd_edgevec;
void dd_edgevec_push(dd_edgevec *e, dd_edge x);
void dd_edgevec_free(dd_edgevec *e);
/* Sort by (doc, rep, kind) and drop repeated (doc, rep, kind). */
void dd_edges_sort(dd_edgevec *e);

/* Lengths of documents, for --keep longest (ref -> text bytes). */
typedef uint64_t (*dd_len_fn)(void *ctx, uint64_t ref);

/* Given every joined edge (sorted), the removed references (sorted) by the
 * keep rule, and optionally the clusters/pairs files. Returns 0 or -1. */
typedef struct dd_resolved {
    dd_u64vec removed;        /* sorted */
    uint64_t removed_exact, removed_near, clusters, clustered_docs;
} dd_resolved;
int dd_resolve(const dd_edgevec *edges, int keep, dd_len_fn len_fn, void *len_ctx,
               const char *clusters_path, const char *pairs_path, dd_resolved *out);
void dd_resolved_free(dd_resolved *r);

/* "3:17" */
void dd_ref_format(uint64_t ref, strbuf *out);

/* Memory limit check helper: prints the error and returns -1 when over. */
int dd_memory_check(const dd_opts *o, uint64_t need, uint64_t docs, const char *what,
                    const char *hint);

/* Modes (each returns an exit code). */
int dd_run_memory(const dd_opts *o, char **paths, size_t n, const uint64_t *input_index,
                  const char *out_path);

#endif
