/* libFuzzer target for common/manifest (manifest.json of a token directory):
 * arbitrary bytes as manifest.json. Properties: no crash or over-read; a
 * refusal says why; an accepted manifest writes out and reads back with the
 * same kind, tokenizer, shards (name, tokens, docs, checksum, split),
 * sources, budget and seed (and the tokenizer path); shard paths stay under the manifest's directory
 * when names are plain file names; verify on it fails cleanly (the shards do
 * not exist, or a fuzzed s.bin in the directory does not match).
 * FUZZ_MODULES: common (tests/fuzz/run.sh builds and runs it) */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/manifest.h"
#include "fuzz_util.h"

static int same_str(const char *a, const char *b)
{
    if (!a || !b) return a == b || (!a && b && !*b) || (!b && a && !*a);
    return !strcmp(a, b);
}
static int same_num(double a, double b)
{
    if (isnan(a) || isnan(b)) return isnan(a) && isnan(b);
    return a == b || fabs(a - b) <= 1e-12 * fabs(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = fz_write(0, "manifest.json", data, size);
    qmanifest m;
    char err[1024];
    err[0] = 0;
    if (qmanifest_read(&m, p, err, sizeof err)) {
        if (!err[0]) abort();
        return 0;
    }
    for (size_t i = 0; i < m.n_shards; i++) {
        char *sp = qmanifest_shard_path(&m, i);
        if (!sp || strncmp(sp, m.dir, strlen(m.dir))) abort();
        free(sp);
    }
    char out[600];
    snprintf(out, sizeof out, "%s/out.json", fz_dir());
    if (qmanifest_write(&m, out, err, sizeof err)) { fprintf(stderr, "write: %s\n", err); abort(); }
    qmanifest b;
    if (qmanifest_read(&b, out, err, sizeof err)) { fprintf(stderr, "read back: %s\n", err); abort(); }
    if (strcmp(m.kind, b.kind) || !same_str(m.tok_name, b.tok_name) ||
        !same_str(m.tok_path, b.tok_path) || m.vocab_size != b.vocab_size || m.eot != b.eot ||
        strcmp(m.tok_hash, b.tok_hash) || m.n_shards != b.n_shards ||
        m.n_sources != b.n_sources || m.has_budget != b.has_budget || m.seed != b.seed)
        abort();
    for (size_t i = 0; i < m.n_shards; i++) {
        qmanifest_shard *x = &m.shards[i], *y = &b.shards[i];
        if (!same_str(x->name, y->name) || x->tokens != y->tokens || x->docs != y->docs ||
            strcmp(x->xxh3, y->xxh3) || strcmp(x->split, y->split))
            abort();
    }
    for (size_t i = 0; i < m.n_sources; i++) {
        qmanifest_source *x = &m.sources[i], *y = &b.sources[i];
        if (!same_str(x->name, y->name) || !same_num(x->weight, y->weight) ||
            x->available_tokens != y->available_tokens || x->tokens_taken != y->tokens_taken ||
            !same_num(x->epochs, y->epochs) || !same_num(x->realised_fraction, y->realised_fraction))
            abort();
    }
    if (m.has_budget && (!same_num(m.budget_params, b.budget_params) ||
                         !same_num(m.budget_tokens, b.budget_tokens) ||
                         !same_num(m.budget_flops, b.budget_flops)))
        abort();
    qmanifest_free(&b);
    /* verify, only when every name is a plain file name (never reach out of
     * the scratch directory) */
    int plain = 1;
    for (size_t i = 0; i < m.n_shards; i++)
        if (!m.shards[i].name || strchr(m.shards[i].name, '/') || !strcmp(m.shards[i].name, "..") ||
            !strcmp(m.shards[i].name, "."))
            plain = 0;
    if (plain && m.n_shards) {
        err[0] = 0;
        if (qmanifest_verify(&m, err, sizeof err) && !err[0]) abort();
    }
    qmanifest_free(&m);
    return 0;
}
