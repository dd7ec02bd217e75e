/* merge.c - one token directory out of the tokenize units, for mix.
 *
 * Tokenize runs once per shard, each unit writing tokens/NNNNN/ with its own
 * manifest.json. Mix takes whole token directories as sources, and the
 * corpus is one source, so before mix runs the pipeline writes
 * tokens/manifest.json naming every unit's shards ("00003/train_000000.bin",
 * paths relative to tokens/) in shard order, with the tokenizer they share.
 * The shards themselves are not touched. It is rewritten each time the mix
 * unit runs, so it always describes the tokenize outputs mix reads. */
#include "pipeline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/manifest.h"

int qpl_merge_tokens(const qpl_config *c, char *err, size_t errlen)
{
    unsigned n = qpl_units(c, QPL_TOKENIZE);
    qmanifest all;
    qmanifest_init(&all);
    snprintf(all.kind, sizeof all.kind, "tokenize");
    uint64_t total = 0;
    int rc = 0;
    for (unsigned u = 0; u < n && !rc; u++) {
        char *dir = qpl_unit_output(c, QPL_TOKENIZE, u);
        qmanifest m;
        qmanifest_init(&m);
        char e[512];
        if (qmanifest_read(&m, dir, e, sizeof e) != 0) {
            snprintf(err, errlen, "%s", e);
            rc = -1;
        } else if (u == 0) {
            all.tok_name = qpl_strdup(m.tok_name ? m.tok_name : "");
            all.vocab_size = m.vocab_size;
            all.eot = m.eot;
            memcpy(all.tok_hash, m.tok_hash, sizeof all.tok_hash);
            all.seed = m.seed;
        } else if (strcmp(m.tok_hash, all.tok_hash) || m.vocab_size != all.vocab_size || m.eot != all.eot) {
            snprintf(err, errlen, "%s: tokenizer %s differs from shard 0's %s", dir, m.tok_hash, all.tok_hash);
            rc = -1;
        }
        for (size_t i = 0; !rc && i < m.n_shards; i++) {
            const qmanifest_shard *s = &m.shards[i];
            char name[600];
            snprintf(name, sizeof name, "%05u/%s", u, s->name);
            qmanifest_add_shard(&all, name, s->tokens, s->docs, s->xxh3, s->split);
            total += s->tokens;
        }
        qmanifest_free(&m);
        free(dir);
    }
    if (!rc) {
        qmanifest_add_source(&all, c->name, 1.0, total, total, 1.0, 1.0);
        char *path = qpl_path_join(c->workdir, "tokens/manifest.json");
        char e[512];
        if (qmanifest_write(&all, path, e, sizeof e) != 0) {
            snprintf(err, errlen, "%s", e);
            rc = -1;
        }
        free(path);
    }
    qmanifest_free(&all);
    return rc;
}
