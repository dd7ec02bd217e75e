/* phases.h - the phased (many machines) mode's steps, and what they share. */
#ifndef QUERN_DEDUP_PHASES_H
#define QUERN_DEDUP_PHASES_H

#include "engine.h"

enum { DD_PHASE_NONE = 0, DD_PHASE_SIGNATURES, DD_PHASE_PAIRS, DD_PHASE_CLUSTERS, DD_PHASE_FILTER };

int dd_phase_signatures(const dd_opts *o, const char *dir, unsigned shard, unsigned nshards,
                        int keep_shingles, char **args, int nargs);
int dd_phase_pairs(const dd_opts *o, const char *dir, const char *band);
int dd_phase_clusters(const dd_opts *o, const char *dir);
int dd_phase_filter(const dd_opts *o, const char *dir, const char *out, unsigned shard,
                    unsigned nshards, char **args, int nargs);

/* DIR/dedup.json: what every shard's signatures were made with. */
typedef struct dd_setup {
    dd_params params;
    int near, exact, keep_shingles;
    unsigned nshards;
    char **inputs;            /* the full, unsharded input list */
    size_t n_inputs;
} dd_setup;

/* Writes DIR/dedup.json, or checks that the one there says the same.
 * Returns 0 or -1 (error printed). */
int dd_setup_write(const char *dir, const dd_setup *s);
int dd_setup_read(const char *dir, dd_setup *s);
void dd_setup_free(dd_setup *s);
/* Hash of the parameters, stored in every phase file's header. */
uint64_t dd_setup_hash(const dd_setup *s);

#endif
