/* manifest.c - see manifest.h. Written with json.h's escaping, read with its
 * DOM parser (manifests are small), written atomically with outfile.h. */
#include "manifest.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "json.h"
#include "outfile.h"
#include "shard.h"
#include "strbuf.h"

static char *xstrdup(const char *s)
{
    char *d = strdup(s ? s : "");
    if (!d) abort();
    return d;
}

void qmanifest_init(qmanifest *m)
{
    memset(m, 0, sizeof *m);
    snprintf(m->kind, sizeof m->kind, "tokenize");
}

void qmanifest_free(qmanifest *m)
{
    for (size_t i = 0; i < m->n_shards; i++) free(m->shards[i].name);
    for (size_t i = 0; i < m->n_sources; i++) free(m->sources[i].name);
    free(m->shards);
    free(m->sources);
    free(m->tok_name);
    free(m->tok_path);
    free(m->dir);
    free(m->extra);
    memset(m, 0, sizeof *m);
}

void qmanifest_add_shard(qmanifest *m, const char *name, uint64_t tokens, uint64_t docs,
                         const char *xxh3, const char *split)
{
    m->shards = realloc(m->shards, (m->n_shards + 1) * sizeof *m->shards);
    if (!m->shards) abort();
    qmanifest_shard *s = &m->shards[m->n_shards++];
    memset(s, 0, sizeof *s);
    s->name = xstrdup(name);
    s->tokens = tokens;
    s->docs = docs;
    snprintf(s->xxh3, sizeof s->xxh3, "%s", xxh3 ? xxh3 : "");
    snprintf(s->split, sizeof s->split, "%s", split ? split : "train");
}

void qmanifest_add_source(qmanifest *m, const char *name, double weight, uint64_t available,
                          uint64_t taken, double epochs, double realised)
{
    m->sources = realloc(m->sources, (m->n_sources + 1) * sizeof *m->sources);
    if (!m->sources) abort();
    qmanifest_source *s = &m->sources[m->n_sources++];
    s->name = xstrdup(name);
    s->weight = weight;
    s->available_tokens = available;
    s->tokens_taken = taken;
    s->epochs = epochs;
    s->realised_fraction = realised;
}

/* ---- write ---- */

/* A member's key, after a comma when it directly follows a value: the members
 * of an inner object are then listed without tracking which comes first (the
 * top-level members bring their own ",\n " to keep one per line). */
static void put_key(strbuf *o, const char *k)
{
    char last = o->len ? o->buf[o->len - 1] : '{';
    if (last != '{' && last != ' ' && last != '\n') sb_addc(o, ',');
    json_put_str(o, k, strlen(k));
    sb_addc(o, ':');
}

static void put_u64(strbuf *o, const char *k, uint64_t v)
{
    put_key(o, k);
    sb_addf(o, "%" PRIu64, v);
}

static void put_num(strbuf *o, const char *k, double v)
{
    put_key(o, k);
    if (isfinite(v)) json_put_num(o, v);
    else sb_adds(o, "null");
}

static void put_s(strbuf *o, const char *k, const char *v)
{
    put_key(o, k);
    json_put_str(o, v, strlen(v));
}

/* The JSON text of a manifest (one shard / source per line, so diffs and
 * greps stay readable). */
static void render(const qmanifest *m, strbuf *o)
{
    sb_adds(o, "{\n ");
    put_s(o, "quern_version", QUERN_VERSION);
    sb_adds(o, ",\n ");
    put_s(o, "kind", m->kind);
    if (m->tok_name) {
        sb_adds(o, ",\n ");
        put_key(o, "tokenizer");
        sb_addc(o, '{');
        put_s(o, "name", m->tok_name);
        put_u64(o, "vocab_size", m->vocab_size);
        put_u64(o, "eot", m->eot);
        put_s(o, "hash", m->tok_hash);
        if (m->tok_path) put_s(o, "path", m->tok_path);
        sb_addc(o, '}');
    }
    sb_adds(o, ",\n ");
    put_key(o, "shards");
    sb_addc(o, '[');
    for (size_t i = 0; i < m->n_shards; i++) {
        const qmanifest_shard *s = &m->shards[i];
        sb_adds(o, i ? ",\n  {" : "\n  {");
        put_s(o, "name", s->name);
        put_u64(o, "tokens", s->tokens);
        put_u64(o, "docs", s->docs);
        put_s(o, "xxh3", s->xxh3);
        put_s(o, "split", s->split);
        sb_addc(o, '}');
    }
    sb_adds(o, m->n_shards ? "\n ]" : "]");
    if (m->n_sources) {
        sb_adds(o, ",\n ");
        put_key(o, "sources");
        sb_addc(o, '[');
        for (size_t i = 0; i < m->n_sources; i++) {
            const qmanifest_source *s = &m->sources[i];
            sb_adds(o, i ? ",\n  {" : "\n  {");
            put_s(o, "name", s->name);
            put_num(o, "weight", s->weight);
            put_u64(o, "available_tokens", s->available_tokens);
            put_u64(o, "tokens_taken", s->tokens_taken);
            put_num(o, "epochs", s->epochs);
            put_num(o, "realised_fraction", s->realised_fraction);
            sb_addc(o, '}');
        }
        sb_adds(o, "\n ]");
    }
    if (m->has_budget) {
        sb_adds(o, ",\n ");
        put_key(o, "budget");
        sb_addc(o, '{');
        put_num(o, "params", m->budget_params);
        put_num(o, "tokens", m->budget_tokens);
        put_num(o, "flops", m->budget_flops);
        sb_addc(o, '}');
    }
    sb_adds(o, ",\n ");
    put_u64(o, "seed", m->seed);
    if (m->extra && *m->extra) {
        sb_adds(o, ",\n ");
        sb_adds(o, m->extra);
    }
    sb_adds(o, "\n}\n");
}

int qmanifest_write(const qmanifest *m, const char *path, char *err, size_t errlen)
{
    strbuf o = STRBUF_INIT;
    render(m, &o);
    int rc = qout_write_file(path, o.buf, o.len, err, errlen);
    sb_free(&o);
    return rc;
}

/* ---- read ---- */

static char *slurp(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        qseterr(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    strbuf sb = STRBUF_INIT;
    char buf[65536];
    size_t k;
    while ((k = fread(buf, 1, sizeof buf, f)) > 0) sb_add(&sb, buf, k);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        qseterr(err, errlen, "%s: read failed", path);
        sb_free(&sb);
        return NULL;
    }
    if (!sb.buf) sb_add(&sb, "", 0);
    return sb_detach(&sb, len);
}

/* A non-negative integer member (absent: dflt). -1 if present but not one. */
static int get_u64(const qjson *obj, const char *key, uint64_t dflt, uint64_t *out)
{
    const qjson *v = qjson_get(obj, key);
    if (!v || v->type == QJ_NULL) {
        *out = dflt;
        return 0;
    }
    if (v->type != QJ_NUMBER || v->num < 0 || v->num != floor(v->num) || v->num > 1.8e19) return -1;
    *out = (uint64_t)v->num;
    return 0;
}

static double get_num(const qjson *obj, const char *key, double dflt)
{
    const qjson *v = qjson_get(obj, key);
    return v && v->type == QJ_NUMBER ? v->num : dflt;
}

/* Shard names stay inside the manifest's directory. */
static int safe_name(const char *n)
{
    if (!*n || n[0] == '/') return 0;
    for (const char *p = n; *p;) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if ((len == 2 && p[0] == '.' && p[1] == '.') || len == 0) return 0;
        if (!slash) break;
        p = slash + 1;
    }
    return 1;
}

/* A checksum field: absent/empty, or 16 lowercase hex digits (xxh3 as written). */
static int hex16_or_empty(const char *s)
{
    size_t n = strlen(s);
    if (n == 0) return 1;
    if (n != 16) return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
    return 1;
}

static int parse_into(qmanifest *m, const qjson *root, const char *path, char *err, size_t errlen)
{
    if (!root || root->type != QJ_OBJECT) {
        qseterr(err, errlen, "%s: not a JSON object", path);
        return -1;
    }
    const char *kind = qjson_str(qjson_get(root, "kind"), "tokenize");
    if (strlen(kind) >= sizeof m->kind) {   /* never truncate (it could split a UTF-8 character) */
        qseterr(err, errlen, "%s: unknown kind (longer than %zu bytes)", path, sizeof m->kind - 1);
        return -1;
    }
    snprintf(m->kind, sizeof m->kind, "%s", kind);

    const qjson *tok = qjson_get(root, "tokenizer");
    if (tok && tok->type == QJ_OBJECT) {
        m->tok_name = xstrdup(qjson_str(qjson_get(tok, "name"), ""));
        uint64_t eot;
        if (get_u64(tok, "vocab_size", 0, &m->vocab_size) || get_u64(tok, "eot", 0, &eot) ||
            eot > UINT32_MAX) {
            qseterr(err, errlen, "%s: tokenizer.vocab_size / eot must be non-negative integers", path);
            return -1;
        }
        m->eot = (uint32_t)eot;
        const char *hash = qjson_str(qjson_get(tok, "hash"), "");
        if (!hex16_or_empty(hash)) {
            qseterr(err, errlen, "%s: tokenizer.hash must be 16 hex digits", path);
            return -1;
        }
        snprintf(m->tok_hash, sizeof m->tok_hash, "%s", hash);
        /* "path"; manifests written before it was a member of "tokenizer"
         * carry it as a top-level "tokenizer_path" */
        const char *tp = qjson_str(qjson_get(tok, "path"), NULL);
        if (!tp) tp = qjson_str(qjson_get(root, "tokenizer_path"), NULL);
        if (tp && *tp) m->tok_path = xstrdup(tp);
    }

    const qjson *shards = qjson_get(root, "shards");
    if (!shards || shards->type != QJ_ARRAY) {
        qseterr(err, errlen, "%s: no \"shards\" array", path);
        return -1;
    }
    for (size_t i = 0; i < shards->len; i++) {
        const qjson *s = qjson_at(shards, i);
        const char *name = qjson_str(qjson_get(s, "name"), NULL);
        if (!s || s->type != QJ_OBJECT || !name || !safe_name(name)) {
            qseterr(err, errlen, "%s: shards[%zu]: needs a relative \"name\" inside the directory", path, i);
            return -1;
        }
        uint64_t tokens, docs;
        if (get_u64(s, "tokens", 0, &tokens) || get_u64(s, "docs", 0, &docs)) {
            qseterr(err, errlen, "%s: shards[%zu]: tokens / docs must be non-negative integers", path, i);
            return -1;
        }
        const char *split = qjson_str(qjson_get(s, "split"), "train");
        if (strcmp(split, "train") && strcmp(split, "val")) {
            qseterr(err, errlen, "%s: shards[%zu]: split \"%s\" is neither train nor val", path, i, split);
            return -1;
        }
        const char *xxh3 = qjson_str(qjson_get(s, "xxh3"), "");
        if (!hex16_or_empty(xxh3)) {
            qseterr(err, errlen, "%s: shards[%zu]: xxh3 must be 16 hex digits", path, i);
            return -1;
        }
        qmanifest_add_shard(m, name, tokens, docs, xxh3, split);
    }

    const qjson *sources = qjson_get(root, "sources");
    if (sources && sources->type == QJ_ARRAY) {
        for (size_t i = 0; i < sources->len; i++) {
            const qjson *s = qjson_at(sources, i);
            uint64_t avail, taken;
            if (!s || s->type != QJ_OBJECT || get_u64(s, "available_tokens", 0, &avail) ||
                get_u64(s, "tokens_taken", 0, &taken)) {
                qseterr(err, errlen, "%s: sources[%zu]: malformed", path, i);
                return -1;
            }
            qmanifest_add_source(m, qjson_str(qjson_get(s, "name"), ""), get_num(s, "weight", 0),
                                 avail, taken, get_num(s, "epochs", 0),
                                 get_num(s, "realised_fraction", 0));
        }
    }

    const qjson *b = qjson_get(root, "budget");
    if (b && b->type == QJ_OBJECT) {
        m->has_budget = 1;
        m->budget_params = get_num(b, "params", 0);
        m->budget_tokens = get_num(b, "tokens", 0);
        m->budget_flops = get_num(b, "flops", 0);
    }
    if (get_u64(root, "seed", 0, &m->seed)) {
        qseterr(err, errlen, "%s: seed must be a non-negative integer", path);
        return -1;
    }
    return 0;
}

int qmanifest_read(qmanifest *m, const char *path, char *err, size_t errlen)
{
    qmanifest_init(m);
    struct stat st;
    char *file;
    if (!stat(path, &st) && S_ISDIR(st.st_mode)) {
        size_t n = strlen(path);
        if (asprintf(&file, "%s%smanifest.json", path, n && path[n - 1] == '/' ? "" : "/") < 0) abort();
    } else {
        file = xstrdup(path);
    }
    char *slash = strrchr(file, '/');
    m->dir = slash ? strndup(file, (size_t)(slash == file ? 1 : slash - file)) : xstrdup(".");
    if (!m->dir) abort();

    size_t len;
    char *text = slurp(file, &len, err, errlen);
    if (!text) {
        free(file);
        qmanifest_free(m);
        return -1;
    }
    char jerr[256];
    qjson *root = qjson_parse(text, len, jerr, sizeof jerr);
    int rc = -1;
    if (!root)
        qseterr(err, errlen, "%s: %s", file, jerr);
    else
        rc = parse_into(m, root, file, err, errlen);
    qjson_free(root);
    free(text);
    free(file);
    if (rc) qmanifest_free(m);
    return rc;
}

char *qmanifest_shard_path(const qmanifest *m, size_t i)
{
    if (i >= m->n_shards) return NULL;
    char *p;
    const char *dir = m->dir ? m->dir : ".";
    size_t n = strlen(dir);
    if (asprintf(&p, "%s%s%s", dir, n && dir[n - 1] == '/' ? "" : "/", m->shards[i].name) < 0) abort();
    return p;
}

int qmanifest_verify(const qmanifest *m, char *err, size_t errlen)
{
    for (size_t i = 0; i < m->n_shards; i++) {
        char *p = qmanifest_shard_path(m, i);
        char serr[512], hex[17];
        qshard s;
        if (qshard_open(&s, p, 0, serr, sizeof serr)) {
            qseterr(err, errlen, "%s", serr);
            free(p);
            return -1;
        }
        uint64_t n = s.n_tokens, d = s.n_docs;
        int has_idx = s.doc_ends != NULL;
        qshard_close(&s);
        if (n != m->shards[i].tokens || (has_idx && d != m->shards[i].docs)) {
            qseterr(err, errlen, "%s: holds %llu tokens / %llu docs, the manifest says %llu / %llu", p,
                   (unsigned long long)n, (unsigned long long)d,
                   (unsigned long long)m->shards[i].tokens, (unsigned long long)m->shards[i].docs);
            free(p);
            return -1;
        }
        if (qshard_file_checksum(p, hex, serr, sizeof serr)) {
            qseterr(err, errlen, "%s", serr);
            free(p);
            return -1;
        }
        if (strcmp(hex, m->shards[i].xxh3)) {
            qseterr(err, errlen, "%s: checksum %s does not match the manifest's %s", p, hex,
                   m->shards[i].xxh3);
            free(p);
            return -1;
        }
        free(p);
    }
    return 0;
}
