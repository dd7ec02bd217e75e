/* checkpoint.c - atomic checkpoint files (format in checkpoint.h). */
#include "checkpoint.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "common/cli.h"
#include "common/json.h"
#include "common/outfile.h"
#include "common/strbuf.h"

#define MAGIC "QUERNCKP"
#define VERSION 1

static void meta_json(strbuf *sb, const qckpt_meta *m)
{
    const qgpt_config *c = &m->cfg;
    sb_addf(sb, "{\"model\":{\"layers\":%d,\"heads\":%d,\"dim\":%d,\"seq\":%d,\"vocab\":%d,"
                "\"padded_vocab\":%d},",
            c->n_layer, c->n_head, c->n_embd, c->seq_len, c->vocab_size, c->padded_vocab);
    sb_addf(sb, "\"batch\":%d,\"seq\":%d,\"accum\":%d,\"step\":%ld,\"total_steps\":%ld,"
                "\"tokens_done\":%" PRIu64 ",\"tokens_planned\":%" PRIu64 ",",
            m->B, m->T, m->accum, m->step, m->total_steps, m->tokens_done, m->tokens_planned);
    sb_addf(sb, "\"data\":{\"epoch\":%" PRIu64 ",\"index\":%" PRIu64 "},\"seed\":\"%" PRIu64 "\",",
            m->loader_epoch, m->loader_index, m->seed);
    sb_addf(sb, "\"rng\":[\"%016" PRIx64 "\",\"%016" PRIx64 "\",\"%016" PRIx64 "\",\"%016" PRIx64 "\"],",
            m->rng.s[0], m->rng.s[1], m->rng.s[2], m->rng.s[3]);
    sb_addf(sb, "\"adamw\":{\"beta1\":%.9g,\"beta2\":%.9g,\"eps\":%.9g,\"weight_decay\":%.9g},",
            m->adamw.beta1, m->adamw.beta2, m->adamw.eps, m->adamw.weight_decay);
    sb_addf(sb, "\"schedule\":{\"kind\":\"%s\",\"lr\":%.17g,\"min_lr\":%.17g,\"warmup\":%ld,"
                "\"total\":%ld,\"decay_frac\":%.17g},\"clip\":%.9g,",
            qsched_name(m->sched.kind), m->sched.lr, m->sched.min_lr, m->sched.warmup,
            m->sched.total, m->sched.decay_frac, m->clip);
    sb_addf(sb, "\"run\":{\"ckpt_every\":%ld,\"keep\":%ld,\"eval_every\":%ld,\"eval_tokens\":%ld},",
            m->ckpt_every, m->keep, m->eval_every, m->eval_tokens);
    sb_adds(sb, "\"manifest\":");
    json_put_str(sb, m->manifest, strlen(m->manifest));
    sb_adds(sb, ",\"tokenizer\":{\"name\":");
    json_put_str(sb, m->tok_name, strlen(m->tok_name));
    sb_adds(sb, ",\"spec\":");
    json_put_str(sb, m->tok_spec, strlen(m->tok_spec));
    sb_addf(sb, ",\"vocab_size\":%" PRIu64 ",\"eot\":%u,\"hash\":\"%s\"}}", m->tok_vocab, m->eot,
            m->tok_hash);
}

static uint64_t hex64(const char *s) { return s ? strtoull(s, NULL, 16) : 0; }

static int meta_parse(qckpt_meta *m, const char *text, size_t len, char *err, size_t errlen)
{
    char why[256];
    qjson *root = qjson_parse(text, len, why, sizeof why);
    if (!root) {
        snprintf(err, errlen, "checkpoint header: %s", why);
        return -1;
    }
    memset(m, 0, sizeof *m);
    qgpt_config *c = &m->cfg;
    c->n_layer = (int)qjson_num(qjson_path(root, "model.layers"), 0);
    c->n_head = (int)qjson_num(qjson_path(root, "model.heads"), 0);
    c->n_embd = (int)qjson_num(qjson_path(root, "model.dim"), 0);
    c->seq_len = (int)qjson_num(qjson_path(root, "model.seq"), 0);
    c->vocab_size = (int)qjson_num(qjson_path(root, "model.vocab"), 0);
    c->padded_vocab = (int)qjson_num(qjson_path(root, "model.padded_vocab"), 0);
    m->B = (int)qjson_num(qjson_get(root, "batch"), 0);
    m->T = (int)qjson_num(qjson_get(root, "seq"), 0);
    m->accum = (int)qjson_num(qjson_get(root, "accum"), 1);
    m->step = (long)qjson_num(qjson_get(root, "step"), 0);
    m->total_steps = (long)qjson_num(qjson_get(root, "total_steps"), 0);
    m->tokens_done = (uint64_t)qjson_num(qjson_get(root, "tokens_done"), 0);
    m->tokens_planned = (uint64_t)qjson_num(qjson_get(root, "tokens_planned"), 0);
    m->loader_epoch = (uint64_t)qjson_num(qjson_path(root, "data.epoch"), 0);
    m->loader_index = (uint64_t)qjson_num(qjson_path(root, "data.index"), 0);
    m->seed = strtoull(qjson_str(qjson_get(root, "seed"), "0"), NULL, 10);
    const qjson *rng = qjson_get(root, "rng");
    for (int i = 0; i < 4; i++) m->rng.s[i] = hex64(qjson_str(qjson_at(rng, (size_t)i), NULL));
    m->adamw.beta1 = (float)qjson_num(qjson_path(root, "adamw.beta1"), 0.9);
    m->adamw.beta2 = (float)qjson_num(qjson_path(root, "adamw.beta2"), 0.95);
    m->adamw.eps = (float)qjson_num(qjson_path(root, "adamw.eps"), 1e-8);
    m->adamw.weight_decay = (float)qjson_num(qjson_path(root, "adamw.weight_decay"), 0);
    if (qsched_parse(qjson_str(qjson_path(root, "schedule.kind"), "cosine"), &m->sched.kind))
        m->sched.kind = QSCHED_COSINE;
    m->sched.lr = qjson_num(qjson_path(root, "schedule.lr"), 0);
    m->sched.min_lr = qjson_num(qjson_path(root, "schedule.min_lr"), 0);
    m->sched.warmup = (long)qjson_num(qjson_path(root, "schedule.warmup"), 0);
    m->sched.total = (long)qjson_num(qjson_path(root, "schedule.total"), 0);
    m->sched.decay_frac = qjson_num(qjson_path(root, "schedule.decay_frac"), 0);
    m->clip = (float)qjson_num(qjson_get(root, "clip"), 0);
    m->ckpt_every = (long)qjson_num(qjson_path(root, "run.ckpt_every"), 0);
    m->keep = (long)qjson_num(qjson_path(root, "run.keep"), 3);
    m->eval_every = (long)qjson_num(qjson_path(root, "run.eval_every"), 0);
    m->eval_tokens = (long)qjson_num(qjson_path(root, "run.eval_tokens"), 32768);
    snprintf(m->manifest, sizeof m->manifest, "%s", qjson_str(qjson_get(root, "manifest"), ""));
    snprintf(m->tok_name, sizeof m->tok_name, "%s", qjson_str(qjson_path(root, "tokenizer.name"), ""));
    snprintf(m->tok_spec, sizeof m->tok_spec, "%s", qjson_str(qjson_path(root, "tokenizer.spec"), ""));
    m->tok_vocab = (uint64_t)qjson_num(qjson_path(root, "tokenizer.vocab_size"), 0);
    m->eot = (uint32_t)qjson_num(qjson_path(root, "tokenizer.eot"), 0);
    snprintf(m->tok_hash, sizeof m->tok_hash, "%s", qjson_str(qjson_path(root, "tokenizer.hash"), ""));
    qjson_free(root);
    if (qgpt_config_error(c) || m->B < 1 || m->T < 1) {
        snprintf(err, errlen, "checkpoint header: incomplete model or batch settings");
        return -1;
    }
    return 0;
}

/* qout plus a running checksum of what was written */
typedef struct hashed_out { qout *o; XXH3_state_t *h; int failed; } hashed_out;

static void hwrite(hashed_out *w, const void *p, size_t n)
{
    if (w->failed) return;
    XXH3_64bits_update(w->h, p, n);
    if (qout_write(w->o, p, n)) w->failed = 1;
}

static void harray(hashed_out *w, const float *a, size_t n)
{
    static const float zeros[4096];
    if (a) {
        hwrite(w, a, n * sizeof(float));
        return;
    }
    for (size_t i = 0; i < n; i += 4096) hwrite(w, zeros, (n - i < 4096 ? n - i : 4096) * sizeof(float));
}

static int is_ckpt_name(const char *name, long *step)
{
    char tail[8];
    return sscanf(name, "ckpt_%ld.%7s", step, tail) == 2 && !strcmp(tail, "bin");
}

static int cmp_long_desc(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* Steps of the checkpoints in dir, newest first; count in *n. */
static long *list_steps(const char *dir, size_t *n)
{
    *n = 0;
    DIR *d = opendir(dir);
    if (!d) return NULL;
    size_t cap = 16;
    long *steps = malloc(cap * sizeof *steps);
    struct dirent *e;
    while ((e = readdir(d))) {
        long s;
        if (!is_ckpt_name(e->d_name, &s)) continue;
        if (*n == cap) steps = realloc(steps, (cap *= 2) * sizeof *steps);
        steps[(*n)++] = s;
    }
    closedir(d);
    qsort(steps, *n, sizeof *steps, cmp_long_desc);
    return steps;
}

int qckpt_write(const char *dir, const qckpt_meta *meta, const float *params, const float *m,
                const float *v, int keep, char *path_out, size_t path_len, char *err,
                size_t errlen)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/ckpt_%08ld.bin", dir, meta->step);
    qout *o = qout_open(path, QOUT_PLAIN, err, errlen);
    if (!o) return -1;
    hashed_out w = { o, XXH3_createState(), 0 };
    XXH3_64bits_reset(w.h);
    strbuf js = STRBUF_INIT;
    meta_json(&js, meta);
    uint32_t ver[2] = { VERSION, 0 };
    uint64_t jlen = js.len;
    hwrite(&w, MAGIC, 8);
    hwrite(&w, ver, sizeof ver);
    hwrite(&w, &jlen, sizeof jlen);
    hwrite(&w, js.buf, js.len);
    size_t head = 8 + sizeof ver + sizeof jlen + js.len, pad = (64 - head % 64) % 64;
    char zeros[64] = { 0 };
    hwrite(&w, zeros, pad);
    sb_free(&js);
    qgpt_layout lay;
    qgpt_layout_init(&lay, &meta->cfg);
    harray(&w, params, lay.total);
    harray(&w, m, lay.total);
    harray(&w, v, lay.total);
    uint64_t sum = XXH3_64bits_digest(w.h);
    XXH3_freeState(w.h);
    if (!w.failed && qout_write(o, &sum, sizeof sum)) w.failed = 1;
    if (w.failed) {
        snprintf(err, errlen, "%s: write failed: %s", path, strerror(errno));
        qout_abort(o);
        return -1;
    }
    if (qout_commit(o, err, errlen)) return -1;
    if (path_out) snprintf(path_out, path_len, "%s", path);
    if (keep > 0) {
        size_t n;
        long *steps = list_steps(dir, &n);
        for (size_t i = (size_t)keep; i < n; i++) {
            char old[4200];
            snprintf(old, sizeof old, "%s/ckpt_%08ld.bin", dir, steps[i]);
            unlink(old);
        }
        free(steps);
    }
    return 0;
}

static int read_file(const char *path, qckpt_meta *meta, float **params, float **m, float **v,
                     char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char magic[8];
    uint32_t ver[2];
    uint64_t jlen;
    char *json = NULL;
    float *arr[3] = { NULL, NULL, NULL };
    XXH3_state_t *h = XXH3_createState();
    XXH3_64bits_reset(h);
    int rc = -1;
    if (fread(magic, 1, 8, f) != 8 || memcmp(magic, MAGIC, 8) || fread(ver, sizeof ver, 1, f) != 1 ||
        fread(&jlen, sizeof jlen, 1, f) != 1 || jlen > (1 << 24)) {
        snprintf(err, errlen, "%s: not a quern checkpoint", path);
        goto out;
    }
    if (ver[0] != VERSION) {
        snprintf(err, errlen, "%s: checkpoint version %u (this quern reads %d)", path, ver[0], VERSION);
        goto out;
    }
    XXH3_64bits_update(h, magic, 8);
    XXH3_64bits_update(h, ver, sizeof ver);
    XXH3_64bits_update(h, &jlen, sizeof jlen);
    size_t head = 8 + sizeof ver + sizeof jlen + jlen, pad = (64 - head % 64) % 64;
    json = malloc(jlen + pad + 1);
    if (fread(json, 1, jlen + pad, f) != jlen + pad) {
        snprintf(err, errlen, "%s: truncated header", path);
        goto out;
    }
    XXH3_64bits_update(h, json, jlen + pad);
    if (meta_parse(meta, json, jlen, err, errlen)) goto out;
    qgpt_layout lay;
    qgpt_layout_init(&lay, &meta->cfg);
    for (int i = 0; i < 3; i++) {
        arr[i] = malloc(lay.total * sizeof(float));
        if (!arr[i]) {
            snprintf(err, errlen, "%s: out of memory", path);
            goto out;
        }
        if (fread(arr[i], sizeof(float), lay.total, f) != lay.total) {
            snprintf(err, errlen, "%s: truncated", path);
            goto out;
        }
        XXH3_64bits_update(h, arr[i], lay.total * sizeof(float));
    }
    uint64_t want;
    if (fread(&want, sizeof want, 1, f) != 1 || want != XXH3_64bits_digest(h)) {
        snprintf(err, errlen, "%s: checksum mismatch (damaged checkpoint)", path);
        goto out;
    }
    float **outs[3] = { params, m, v };
    for (int i = 0; i < 3; i++)
        if (outs[i]) {
            *outs[i] = arr[i];
            arr[i] = NULL;
        }
    rc = 0;
out:
    for (int i = 0; i < 3; i++) free(arr[i]);
    free(json);
    XXH3_freeState(h);
    fclose(f);
    return rc;
}

int qckpt_read(const char *path, qckpt_meta *meta, float **params, float **m, float **v,
               char *path_out, size_t path_len, char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st)) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        if (path_out) snprintf(path_out, path_len, "%s", path);
        return read_file(path, meta, params, m, v, err, errlen);
    }
    size_t n;
    long *steps = list_steps(path, &n);
    if (!n) {
        free(steps);
        snprintf(err, errlen, "%s: no checkpoint (ckpt_*.bin) in this directory", path);
        return -1;
    }
    /* newest first; a damaged newest one falls back to the one before */
    for (size_t i = 0; i < n; i++) {
        char file[4200];
        snprintf(file, sizeof file, "%s/ckpt_%08ld.bin", path, steps[i]);
        if (!read_file(file, meta, params, m, v, err, errlen)) {
            if (path_out) snprintf(path_out, path_len, "%s", file);
            free(steps);
            return 0;
        }
        qerr("%s; trying an older checkpoint", err);
    }
    free(steps);
    return -1;
}
