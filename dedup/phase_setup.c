/* phase_setup.c - DIR/dedup.json, the one description every phase agrees on:
 * parameters, exact keys, shard count and the full input list. Each
 * signatures task writes it (atomically, the same bytes) or checks that the
 * one already there matches, so shards made with other settings never mix. */
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "../common/cli.h"
#include "../common/io.h"
#include "../common/json.h"
#include "../common/outfile.h"
#include "phases.h"

static void render(const dd_setup *s, strbuf *sb)
{
    strbuf ps = STRBUF_INIT;
    dd_params_describe(&s->params, &ps);
    sb_adds(sb, "{\n  \"format\": \"quern-dedup-1\",\n  \"params\": ");
    json_put_str(sb, ps.buf, ps.len);
    sb_addf(sb, ",\n  \"shingle\": \"%s\",\n  \"ngram\": %u,\n  \"bands\": %u,\n  \"rows\": %u,\n"
                "  \"seed\": %llu,\n  \"near\": %s,\n  \"exact_text\": %s,\n  \"exact_url\": %s,\n"
                "  \"keep_shingles\": %s,\n  \"shards\": %u,\n  \"inputs\": [",
            s->params.kind == DD_SHINGLE_WORD ? "word" : "char", s->params.ngram, s->params.bands,
            s->params.rows, (unsigned long long)s->params.seed, s->near ? "true" : "false",
            (s->exact & DD_EXACT_TEXT) ? "true" : "false", (s->exact & DD_EXACT_URL) ? "true" : "false",
            s->keep_shingles ? "true" : "false", s->nshards);
    for (size_t i = 0; i < s->n_inputs; i++) {
        sb_adds(sb, i ? ",\n    " : "\n    ");
        json_put_str(sb, s->inputs[i], strlen(s->inputs[i]));
    }
    sb_adds(sb, s->n_inputs ? "\n  ]\n}\n" : "]\n}\n");
    sb_free(&ps);
}

uint64_t dd_setup_hash(const dd_setup *s)
{
    strbuf ps = STRBUF_INIT;
    dd_params_describe(&s->params, &ps);
    sb_addf(&ps, "|near=%d|exact=%d", s->near, s->exact);
    uint64_t h = XXH3_64bits(ps.buf, ps.len);
    sb_free(&ps);
    return h ? h : 1;   /* 0 means "do not check" to readers */
}

int dd_setup_write(const char *dir, const dd_setup *s)
{
    strbuf want = STRBUF_INIT, have = STRBUF_INIT, path = STRBUF_INIT;
    render(s, &want);
    sb_addf(&path, "%s/dedup.json", dir);
    char err[512];
    int rc = 0;
    if (qout_is_complete(path.buf)) {
        if (qread_file(path.buf, &have, err, sizeof err)) {
            qerr("%s", err);
            rc = -1;
        } else if (have.len != want.len || memcmp(have.buf, want.buf, want.len)) {
            qerr_at(path.buf, "0", "this directory holds signatures made with other settings or "
                                   "inputs; use another directory (or remove it)");
            rc = -1;
        }
    } else if (qmkdirs(dir) || qout_write_file(path.buf, want.buf, want.len, err, sizeof err)) {
        qerr("%s", err[0] ? err : "cannot create the signatures directory");
        rc = -1;
    }
    sb_free(&want);
    sb_free(&have);
    sb_free(&path);
    return rc;
}

int dd_setup_read(const char *dir, dd_setup *s)
{
    memset(s, 0, sizeof *s);
    strbuf text = STRBUF_INIT, path = STRBUF_INIT;
    sb_addf(&path, "%s/dedup.json", dir);
    char err[512];
    int rc = -1;
    qjson *root = NULL;
    if (qread_file(path.buf, &text, err, sizeof err)) {
        qerr("%s (run `quern dedup signatures -o %s` first)", err, dir);
        goto out;
    }
    root = qjson_parse(text.buf, text.len, err, sizeof err);
    if (!root || strcmp(qjson_str(qjson_get(root, "format"), ""), "quern-dedup-1")) {
        qerr_at(path.buf, "0", "not a quern dedup setup file%s%s", root ? "" : ": ", root ? "" : err);
        goto out;
    }
    s->params.kind = strcmp(qjson_str(qjson_get(root, "shingle"), "word"), "char") ? DD_SHINGLE_WORD : DD_SHINGLE_CHAR;
    s->params.ngram = (unsigned)qjson_num(qjson_get(root, "ngram"), 0);
    s->params.bands = (unsigned)qjson_num(qjson_get(root, "bands"), 0);
    s->params.rows = (unsigned)qjson_num(qjson_get(root, "rows"), 0);
    s->params.seed = (uint64_t)qjson_num(qjson_get(root, "seed"), 1);
    const qjson *v;
    s->near = (v = qjson_get(root, "near")) && v->type == QJ_TRUE;
    if ((v = qjson_get(root, "exact_text")) && v->type == QJ_TRUE) s->exact |= DD_EXACT_TEXT;
    if ((v = qjson_get(root, "exact_url")) && v->type == QJ_TRUE) s->exact |= DD_EXACT_URL;
    s->keep_shingles = (v = qjson_get(root, "keep_shingles")) && v->type == QJ_TRUE;
    s->nshards = (unsigned)qjson_num(qjson_get(root, "shards"), 0);
    const qjson *in = qjson_get(root, "inputs");
    if (!s->nshards || !in || in->type != QJ_ARRAY || s->params.bands * s->params.rows > DD_MAX_HASHES) {
        qerr_at(path.buf, "0", "incomplete or invalid setup");
        goto out;
    }
    s->n_inputs = in->len;
    s->inputs = calloc(in->len ? in->len : 1, sizeof *s->inputs);
    if (!s->inputs) abort();
    for (size_t i = 0; i < in->len; i++) s->inputs[i] = strdup(qjson_str(qjson_at(in, i), ""));
    rc = 0;
out:
    qjson_free(root);
    sb_free(&text);
    sb_free(&path);
    return rc;
}

void dd_setup_free(dd_setup *s)
{
    for (size_t i = 0; i < s->n_inputs; i++) free(s->inputs[i]);
    free(s->inputs);
    memset(s, 0, sizeof *s);
}
