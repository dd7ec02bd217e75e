/* config.c - from the parsed pipeline file to a validated qpl_config:
 * known sections and keys only (a typo is an error with its line), inputs
 * expanded, paths made absolute relative to the file's directory. */
#include "pipeline.h"

#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const stage_names[QPL_NSTAGES] = {
    "clean", "signatures", "pairs", "clusters", "filter", "tokenize", "mix", "train",
};

const char *qpl_stage_name(qpl_stage s)
{
    return (unsigned)s < QPL_NSTAGES ? stage_names[s] : "?";
}

int qpl_stage_from_name(const char *name)
{
    for (int i = 0; i < QPL_NSTAGES; i++)
        if (!strcmp(name, stage_names[i])) return i;
    if (!strcmp(name, "ingest") || !strcmp(name, "docs")) return QPL_DOCS;
    return -1;
}

typedef struct loader {
    qpl_ini ini;
    const char *file;   /* for messages */
    char *err;
    size_t errlen;
} loader;

static int fail_at(loader *L, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail_at(loader *L, int line, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (line > 0) snprintf(L->err, L->errlen, "%s:line %d: %s", L->file, line, msg);
    else snprintf(L->err, L->errlen, "%s: %s", L->file, msg);
    return -1;
}

/* The single value of key in sec (marks it used); a repeated key is an
 * error except where the caller collects all (inputs). */
static int get1(loader *L, qpl_section *sec, const char *key, const char **val, int *line)
{
    *val = NULL;
    if (!sec) return 0;
    for (size_t i = 0; i < sec->n_kv; i++) {
        if (strcmp(sec->kv[i].key, key)) continue;
        if (*val) return fail_at(L, sec->kv[i].line, "'%s' given twice in [%s]", key, sec->name);
        *val = sec->kv[i].val;
        if (line) *line = sec->kv[i].line;
        sec->kv[i].used = 1;
    }
    return 0;
}

static int get_words(loader *L, qpl_section *sec, const char *key, char ***out)
{
    const char *v;
    int line = 0;
    *out = NULL;
    if (get1(L, sec, key, &v, &line)) return -1;
    char e[128];
    *out = qpl_split_words(v ? v : "", NULL, e, sizeof e);
    if (!*out) return fail_at(L, line, "%s: %s", key, e);
    return 0;
}

static int get_uint(loader *L, qpl_section *sec, const char *key, unsigned *out, unsigned min)
{
    const char *v;
    int line = 0;
    if (get1(L, sec, key, &v, &line)) return -1;
    if (!v) return 0;
    char *end;
    errno = 0;
    unsigned long x = strtoul(v, &end, 10);
    if (errno || end == v || *end || v[0] == '-' || x < min || x > 1000000)
        return fail_at(L, line, "%s: expected a whole number >= %u, got '%s'", key, min, v);
    *out = (unsigned)x;
    return 0;
}

static int load_res(loader *L, qpl_section *sec, qpl_res *r)
{
    const char *v;
    const char *keys[] = { "partition", "time", "mem", "account", "qos" };
    char **dst[] = { &r->partition, &r->time, &r->mem, &r->account, &r->qos };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        int line = 0;
        if (get1(L, sec, keys[i], &v, &line)) return -1;
        if (!v) continue;
        if (!*v || strpbrk(v, " \t'\"\\$`"))
            return fail_at(L, line, "%s: expected one word, got '%s'", keys[i], v);
        *dst[i] = qpl_strdup(v);
    }
    unsigned cpus = 0;
    if (get_uint(L, sec, "cpus", &cpus, 1)) return -1;
    r->cpus = (int)cpus;
    const char *ex;
    if (get1(L, sec, "sbatch", &ex, NULL)) return -1;
    if (ex && get_words(L, sec, "sbatch", &r->extra)) return -1;
    return 0;
}

static void free_res(qpl_res *r)
{
    free(r->partition); free(r->time); free(r->mem); free(r->account); free(r->qos);
    qpl_words_free(r->extra);
    memset(r, 0, sizeof *r);
}

static int has_glob_meta(const char *s) { return strpbrk(s, "*?[") != NULL; }
static int is_url(const char *s) { return !strncmp(s, "http://", 7) || !strncmp(s, "https://", 8); }

static void push(qpl_config *c, size_t *cap, char *p)
{
    if (c->n_inputs == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        c->inputs = realloc(c->inputs, *cap * sizeof *c->inputs);
        if (!c->inputs) abort();
    }
    c->inputs[c->n_inputs++] = p;
}

static int load_inputs(loader *L, qpl_config *c, qpl_section *sec)
{
    size_t cap = 0;
    for (size_t i = 0; sec && i < sec->n_kv; i++) {
        qpl_kv *kv = &sec->kv[i];
        if (strcmp(kv->key, "inputs")) continue;
        kv->used = 1;
        char e[128];
        size_t nw;
        char **w = qpl_split_words(kv->val, &nw, e, sizeof e);
        if (!w) return fail_at(L, kv->line, "inputs: %s", e);
        for (size_t k = 0; k < nw; k++) {
            if (is_url(w[k])) { push(c, &cap, qpl_strdup(w[k])); continue; }
            char *abs = qpl_abspath(c->dir, w[k]);
            if (!has_glob_meta(w[k])) { push(c, &cap, abs); continue; }
            glob_t g;
            int rc = glob(abs, 0, NULL, &g);
            if (rc != 0) {
                fail_at(L, kv->line, rc == GLOB_NOMATCH ? "inputs: '%s' matches no file"
                                                        : "inputs: cannot expand '%s'", w[k]);
                free(abs);
                qpl_words_free(w);
                return -1;
            }
            for (size_t j = 0; j < g.gl_pathc; j++) push(c, &cap, qpl_abspath(NULL, g.gl_pathv[j]));
            globfree(&g);
            free(abs);
        }
        qpl_words_free(w);
    }
    if (!c->n_inputs) return fail_at(L, sec ? sec->line : 0, "[pipeline] needs 'inputs = ...'");
    for (size_t i = 0; i < c->n_inputs; i++)
        for (size_t j = i + 1; j < c->n_inputs; j++)
            if (!strcmp(c->inputs[i], c->inputs[j]))
                return fail_at(L, 0, "input '%s' is listed twice", c->inputs[i]);
    return 0;
}

/* The pairs phase runs once per LSH band and once per exact key, so the
 * number of pairs units follows from the dedup options every phase gets
 * (as `quern dedup --help` documents them); `bands = N` in [dedup] states
 * the band count outright, for a preset this code does not know. */
static void derive_pairs_units(qpl_config *c, unsigned bands_given)
{
    unsigned bands = 14;   /* the default preset, fineweb: 14 bands x 8 rows */
    int near = 1, text = 1, url = 0;
    char **lists[] = { c->opt_dedup_common, c->opt[QPL_SIGNATURES] };
    for (int l = 0; l < 2; l++) {
        for (char **w = lists[l]; w && *w; w++) {
            const char *val = NULL;
            const char *opt = *w;
            char name[32];
            const char *eq = strchr(opt, '=');
            if (eq && (size_t)(eq - opt) < sizeof name) {
                snprintf(name, sizeof name, "%.*s", (int)(eq - opt), opt);
                opt = name;
                val = eq + 1;
            } else if (w[1]) {
                val = w[1];
            }
            if (!strcmp(opt, "--no-near")) near = 0;
            else if (!strcmp(opt, "--preset") && val) {
                if (!strcmp(val, "fineweb")) bands = 14;
                else if (!strcmp(val, "nemo")) bands = 20;
            } else if (!strcmp(opt, "--bands") && val) {
                unsigned long b = strtoul(val, NULL, 10);
                if (b > 0 && b < 100000) bands = (unsigned)b;
            } else if (!strcmp(opt, "--exact") && val) {
                text = strstr(val, "text") != NULL;
                url = strstr(val, "url") != NULL;
            }
        }
    }
    if (bands_given) bands = bands_given;
    c->bands = near ? bands : 0;
    c->exact_text = text;
    c->exact_url = url;
}

static char *self_dir_of(const char *path)
{
    char *d = qpl_strdup(path);
    char *slash = strrchr(d, '/');
    if (slash == d) d[1] = '\0';
    else if (slash) *slash = '\0';
    return d;
}

int qpl_config_load(qpl_config *c, const char *path, const char *quern_default,
                    char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    loader L = { .file = path, .err = err, .errlen = errlen };
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    strbuf text = STRBUF_INIT;
    char buf[8192];
    size_t r;
    while ((r = fread(buf, 1, sizeof buf, f)) > 0) {
        sb_add(&text, buf, r);
        if (text.len > (1u << 20)) {
            fclose(f);
            sb_free(&text);
            snprintf(err, errlen, "%s: larger than 1 MiB: not a pipeline file", path);
            return -1;
        }
    }
    int rd_err = ferror(f);
    fclose(f);
    if (rd_err) {
        sb_free(&text);
        snprintf(err, errlen, "%s: read error", path);
        return -1;
    }
    int rc = qpl_ini_parse(&L.ini, sb_str(&text), text.len, path, err, errlen);
    sb_free(&text);
    if (rc) return -1;

    c->path = qpl_abspath(NULL, path);
    c->dir = self_dir_of(c->path);
    c->self = qpl_strdup(quern_default);

    static const char *const known[] = {
        "pipeline", "ingest", "clean", "dedup", "tokenize", "mix", "train", "slurm",
    };
    for (size_t i = 0; i < L.ini.n_sec; i++) {
        const char *n = L.ini.sec[i].name;
        int ok = 0;
        for (size_t k = 0; k < sizeof known / sizeof known[0]; k++) ok |= !strcmp(n, known[k]);
        if (!strncmp(n, "slurm.", 6)) {
            int s = qpl_stage_from_name(n + 6);
            if (s < 0) { fail_at(&L, L.ini.sec[i].line, "[%s]: no stage named '%s'", n, n + 6); goto fail; }
            ok = 1;
        }
        if (!ok) { fail_at(&L, L.ini.sec[i].line, "unknown section [%s]", n); goto fail; }
    }

    qpl_section *pl = qpl_ini_section(&L.ini, "pipeline");
    if (!pl) { fail_at(&L, 0, "no [pipeline] section"); goto fail; }
    const char *v;
    int line = 0;
    if (get1(&L, pl, "name", &v, &line)) goto fail;
    if (v) {
        for (const char *p = v; *p; p++)
            if (!(isalnum((unsigned char)*p) || *p == '-' || *p == '_' || *p == '.')) {
                fail_at(&L, line, "name: use letters, digits, '-', '_' or '.' only");
                goto fail;
            }
        if (!*v) { fail_at(&L, line, "name is empty"); goto fail; }
        c->name = qpl_strdup(v);
    } else {
        const char *base = strrchr(c->path, '/');
        c->name = qpl_strdup(base ? base + 1 : c->path);
        char *dot = strrchr(c->name, '.');
        if (dot && dot != c->name) *dot = '\0';
    }
    if (get1(&L, pl, "workdir", &v, &line)) goto fail;
    if (!v || !*v) { fail_at(&L, pl->line, "[pipeline] needs 'workdir = DIR'"); goto fail; }
    c->workdir = qpl_abspath(c->dir, v);
    if (get1(&L, pl, "quern", &v, &line)) goto fail;
    c->quern = v ? qpl_abspath(c->dir, v) : qpl_strdup(quern_default);
    if (load_inputs(&L, c, pl)) goto fail;

    qpl_section *s;
    if ((s = qpl_ini_section(&L.ini, "ingest"))) {
        c->has_ingest = 1;
        if (get_words(&L, s, "options", &c->opt_ingest)) goto fail;
    }
    if ((s = qpl_ini_section(&L.ini, "clean"))) {
        c->has_clean = 1;
        if (get_words(&L, s, "options", &c->opt_clean)) goto fail;
    }
    c->enabled[QPL_DOCS] = c->has_ingest || c->has_clean;
    if ((s = qpl_ini_section(&L.ini, "dedup"))) {
        c->enabled[QPL_SIGNATURES] = c->enabled[QPL_PAIRS] = 1;
        c->enabled[QPL_CLUSTERS] = c->enabled[QPL_FILTER] = 1;
        if (get_words(&L, s, "options", &c->opt_dedup_common)) goto fail;
        for (int st = QPL_SIGNATURES; st <= QPL_FILTER; st++)
            if (get_words(&L, s, stage_names[st], &c->opt[st])) goto fail;
        unsigned bands = 0;
        if (get_uint(&L, s, "bands", &bands, 1)) goto fail;
        derive_pairs_units(c, bands);
    }
    const char *single[] = { "tokenize", "mix", "train" };
    const qpl_stage sid[] = { QPL_TOKENIZE, QPL_MIX, QPL_TRAIN };
    for (int i = 0; i < 3; i++)
        if ((s = qpl_ini_section(&L.ini, single[i]))) {
            c->enabled[sid[i]] = 1;
            if (get_words(&L, s, "options", &c->opt[sid[i]])) goto fail;
        }
    if ((s = qpl_ini_section(&L.ini, "train"))) {
        if (get1(&L, s, "resume", &v, &line)) goto fail;
        if (v && get_words(&L, s, "resume", &c->train_resume)) goto fail;
    }
    if ((s = qpl_ini_section(&L.ini, "mix"))) {
        if (get1(&L, s, "weight", &v, &line)) goto fail;
        if (v) {
            char *end;
            double w = strtod(v, &end);
            if (end == v || (*end && strcmp(end, "%")) || !(w > 0)) {
                fail_at(&L, line, "weight: expected a positive number such as 0.6 or 60%%, got '%s'", v);
                goto fail;
            }
            c->mix_weight = qpl_strdup(v);
        }
    }
    if (c->enabled[QPL_MIX] && !c->enabled[QPL_TOKENIZE]) {
        fail_at(&L, qpl_ini_section(&L.ini, "mix")->line, "[mix] needs a [tokenize] section");
        goto fail;
    }
    if (c->enabled[QPL_TRAIN] && !c->enabled[QPL_MIX]) {
        fail_at(&L, qpl_ini_section(&L.ini, "train")->line, "[train] needs a [mix] section");
        goto fail;
    }
    int any = 0;
    for (int st = 0; st < QPL_NSTAGES; st++) any |= c->enabled[st];
    if (!any) { fail_at(&L, 0, "no stage sections: nothing to do"); goto fail; }

    if ((s = qpl_ini_section(&L.ini, "slurm"))) {
        if (load_res(&L, s, &c->res_default)) goto fail;
        if (get_uint(&L, s, "array_max", &c->array_max, 1)) goto fail;
        if (get_uint(&L, s, "throttle", &c->throttle, 1)) goto fail;
    }
    for (size_t i = 0; i < L.ini.n_sec; i++) {
        if (strncmp(L.ini.sec[i].name, "slurm.", 6)) continue;
        int st = qpl_stage_from_name(L.ini.sec[i].name + 6);
        if (load_res(&L, &L.ini.sec[i], &c->res[st])) goto fail;
    }

    /* Every key must have been consumed: anything left is a typo. */
    for (size_t i = 0; i < L.ini.n_sec; i++)
        for (size_t k = 0; k < L.ini.sec[i].n_kv; k++)
            if (!L.ini.sec[i].kv[k].used) {
                fail_at(&L, L.ini.sec[i].kv[k].line, "unknown key '%s' in [%s]",
                        L.ini.sec[i].kv[k].key, L.ini.sec[i].name);
                goto fail;
            }
    qpl_ini_free(&L.ini);
    return 0;
fail:
    qpl_ini_free(&L.ini);
    qpl_config_free(c);
    return -1;
}

void qpl_config_free(qpl_config *c)
{
    free(c->path); free(c->dir); free(c->name); free(c->workdir); free(c->quern); free(c->self);
    free(c->mix_weight);
    qpl_words_free(c->train_resume);
    for (size_t i = 0; i < c->n_inputs; i++) free(c->inputs[i]);
    free(c->inputs);
    qpl_words_free(c->opt_ingest);
    qpl_words_free(c->opt_clean);
    qpl_words_free(c->opt_dedup_common);
    for (int i = 0; i < QPL_NSTAGES; i++) {
        qpl_words_free(c->opt[i]);
        free_res(&c->res[i]);
    }
    free_res(&c->res_default);
    memset(c, 0, sizeof *c);
}
