/* manifest.h - manifest.json of a token directory (written by tokenize and
 * mix, read by mix and train). The trainer reads only the manifest and the
 * shards it names. Paths of shards are relative to the manifest's directory.
 *
 *  {
 *   "quern_version": "0.1.0",
 *   "kind": "tokenize" | "mix",
 *   "tokenizer": {"name":"gpt2","vocab_size":50257,"eot":50256,"hash":"<xxh3 hex>",
 *                 "path":"/abs/vocab.tiktoken"},   (path: absent for built-ins)
 *   "shards": [{"name":"train_000000.bin","tokens":N,"docs":M,"xxh3":"...","split":"train"|"val"}],
 *   "sources": [{"name":"web","weight":0.6,"available_tokens":N,"tokens_taken":N,
 *                "epochs":1.5,"realised_fraction":0.6}],
 *   "budget": {"params":N,"tokens":D,"flops":C},     (absent if none)
 *   "seed": 1234
 *  }
 */
#ifndef QUERN_MANIFEST_H
#define QUERN_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

typedef struct qmanifest_shard {
    char *name;         /* relative to the manifest's directory */
    uint64_t tokens, docs;
    char xxh3[17];
    char split[8];      /* "train" or "val" */
} qmanifest_shard;

typedef struct qmanifest_source {
    char *name;
    double weight;
    uint64_t available_tokens, tokens_taken;
    double epochs, realised_fraction;
} qmanifest_source;

typedef struct qmanifest {
    char kind[16];
    char *tok_name;
    /* The vocabulary file tokenize loaded, absolute (NULL for a built-in
     * name): later stages (tokens, train -> sample) find it without being
     * told. Only a hint: its hash is checked against tok_hash by the user. */
    char *tok_path;
    uint64_t vocab_size;
    uint32_t eot;
    char tok_hash[17];
    qmanifest_shard *shards; size_t n_shards;
    qmanifest_source *sources; size_t n_sources;
    int has_budget;
    double budget_params, budget_tokens, budget_flops;
    uint64_t seed;
    char *dir;          /* directory the manifest was read from (set by read) */
    /* Added by the mix helper: raw JSON members (`"k":v,"k2":v2`, no braces)
     * that write appends to the top-level object, for a stage's own record
     * (mix: shard size, truncation, exporter files). NULL if none; owned
     * (freed by qmanifest_free); read leaves it NULL. */
    char *extra;
} qmanifest;

void qmanifest_init(qmanifest *m);
void qmanifest_free(qmanifest *m);
void qmanifest_add_shard(qmanifest *m, const char *name, uint64_t tokens, uint64_t docs,
                         const char *xxh3, const char *split);
void qmanifest_add_source(qmanifest *m, const char *name, double weight, uint64_t available,
                          uint64_t taken, double epochs, double realised);
/* path: the manifest.json path, or a directory containing one. */
int qmanifest_read(qmanifest *m, const char *path, char *err, size_t errlen);
int qmanifest_write(const qmanifest *m, const char *path, char *err, size_t errlen);
/* Full path of shard i (dir + name) into a malloc'd string. */
char *qmanifest_shard_path(const qmanifest *m, size_t i);
/* Verify every shard exists and its checksum matches. 0 or -1 (err names the shard). */
int qmanifest_verify(const qmanifest *m, char *err, size_t errlen);

#endif
