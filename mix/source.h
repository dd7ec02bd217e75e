/* source.h - one input of a mix: a token directory written by tokenize (its
 * manifest.json, shards and .idx files), or for planning only a declared size.
 *
 * Documents are numbered across the directory's train shards in manifest
 * order; a document is found by binary search over the shards' document
 * counts and read by its .idx offsets. Nothing proportional to the source's
 * size is held in memory (the .idx files are mapped, not loaded). */
#ifndef QUERN_MIX_SOURCE_H
#define QUERN_MIX_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "../common/manifest.h"
#include "../common/shard.h"

typedef struct mix_source {
    char *name;
    char *dir;             /* NULL for a declared size */
    double weight;
    double max_epochs;     /* 0: the mix's default */
    int declared;          /* "size:410B" instead of a directory */
    uint64_t n_tokens;     /* all tokens (train shards) */
    uint64_t n_docs;
    /* data (when opened) */
    qmanifest man;
    size_t n_shards;
    char **shard_paths;
    uint64_t *doc_base;    /* n_shards + 1 cumulative document counts */
    unsigned char *shard_version;  /* 1 or 2 per shard */
    /* Open descriptors of each shard's .bin and .idx. Documents are looked up
     * and read with pread, not through mappings: random access through a
     * mapping leaves every page touched (and the kernel's fault-around)
     * resident, so memory would grow with the source. */
    int *bin_fds, *idx_fds;
    int version;           /* widest shard version */
} mix_source;

/* Parses "name=DIR:weight[:max_epochs]" or "name=size:TOKENS:weight[:max_epochs]".
 * The directory may itself contain ':'; the numeric fields are taken from the
 * right. 0 or -1 with err. */
int mix_source_parse(const char *spec, mix_source *s, char *err, size_t errlen);
/* Reads a mix file: one spec per line; blank lines and '#' comments skipped.
 * Appends to *srcs (realloc'd). */
int mix_source_read_file(const char *path, mix_source **srcs, size_t *n, char *err, size_t errlen);
/* Opens the directory: manifest, every train shard with its .idx (validated
 * with qshard_open, then unmapped), and checks the shards against the
 * manifest. Declared sources need nothing. */
int mix_source_open(mix_source *s, char *err, size_t errlen);
void mix_source_free(mix_source *s);

/* Locates document `doc` (0-based across the source): its shard, first
 * token and length. Aborts on an I/O error (the .idx was validated at open;
 * a file changing underneath is not survivable). */
void mix_source_doc(const mix_source *s, uint64_t doc, size_t *shard, uint64_t *start, uint64_t *len);

static inline uint64_t mix_source_doc_len(const mix_source *s, uint64_t doc)
{
    size_t sh;
    uint64_t a, n;
    mix_source_doc(s, doc, &sh, &a, &n);
    return n;
}

static inline size_t mix_source_width(const mix_source *s, size_t shard)
{
    return s->shard_version[shard] == 1 ? 2 : 4;
}

/* Reads n tokens from token offset `start` of shard `shard` into buf (at the
 * shard's width). 0 or -1 with err. */
int mix_source_read(const mix_source *s, size_t shard, uint64_t start, uint64_t n, void *buf, char *err,
                    size_t errlen);

#endif
