/* plan.c - the stage graph: how many units each stage has, where each unit
 * writes, what it reads, and the quern command lines that do its work.
 * Only the public CLI of the stages is used (DESIGN.md section 3). */
#include "pipeline.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

unsigned qpl_units(const qpl_config *c, qpl_stage s)
{
    if ((unsigned)s >= QPL_NSTAGES || !c->enabled[s]) return 0;
    switch (s) {
    case QPL_DOCS: case QPL_SIGNATURES: case QPL_FILTER: case QPL_TOKENIZE:
        return (unsigned)c->n_inputs;
    case QPL_PAIRS:
        return c->bands + (unsigned)c->exact_text + (unsigned)c->exact_url;
    default:
        return 1;
    }
}

int qpl_stage_in_place(qpl_stage s)
{
    return s == QPL_SIGNATURES || s == QPL_PAIRS || s == QPL_CLUSTERS || s == QPL_TRAIN;
}

/* Where a stage's documents come from, walking back over disabled stages. */
static int docs_stage_before(const qpl_config *c, qpl_stage s)
{
    if (s > QPL_FILTER && c->enabled[QPL_FILTER]) return QPL_FILTER;
    if (c->enabled[QPL_DOCS]) return QPL_DOCS;
    return -1;   /* the inputs themselves */
}

int qpl_stage_deps(const qpl_config *c, qpl_stage s, qpl_stage *deps)
{
    int n = 0;
    if (!c->enabled[s]) return 0;
    switch (s) {
    case QPL_DOCS:
        break;
    case QPL_SIGNATURES: {
        int d = docs_stage_before(c, s);
        if (d >= 0) deps[n++] = (qpl_stage)d;
        break;
    }
    case QPL_PAIRS: deps[n++] = QPL_SIGNATURES; break;
    case QPL_CLUSTERS: deps[n++] = QPL_PAIRS; break;
    case QPL_FILTER: {
        deps[n++] = QPL_CLUSTERS;
        if (c->enabled[QPL_DOCS]) deps[n++] = QPL_DOCS;
        break;
    }
    case QPL_TOKENIZE: {
        int d = docs_stage_before(c, s);
        if (d >= 0) deps[n++] = (qpl_stage)d;
        break;
    }
    case QPL_MIX: deps[n++] = QPL_TOKENIZE; break;
    case QPL_TRAIN: deps[n++] = QPL_MIX; break;
    default: break;
    }
    return n;
}

int qpl_dep_is_all(const qpl_config *c, qpl_stage s, qpl_stage dep)
{
    (void)c;
    (void)dep;
    /* dedup's signatures and filter take the full document list with --shard
     * (a document is known by its input's position in that list) */
    return s != QPL_TOKENIZE;
}

static const char *const out_dirs[QPL_NSTAGES] = {
    "clean", "dedup/done/signatures", "dedup/done/pairs", "dedup/done/clusters",
    "dedup/filtered", "tokens", "mix", "train/done",
};

char *qpl_unit_output(const qpl_config *c, qpl_stage s, unsigned u)
{
    strbuf sb = STRBUF_INIT;
    sb_addf(&sb, "%s/%s", c->workdir, out_dirs[s]);
    if (s != QPL_MIX && s != QPL_TRAIN && s != QPL_CLUSTERS) sb_addf(&sb, "/%05u", u);
    return sb_detach(&sb, NULL);
}

char *qpl_dedup_dir(const qpl_config *c)
{
    return qpl_path_join(c->workdir, "dedup/work");
}

char *qpl_train_dir(const qpl_config *c)
{
    return qpl_path_join(c->workdir, "train/run");
}

/* A checkpoint left in the run directory by an earlier, unfinished train job. */
static int has_checkpoint(const char *run)
{
    DIR *d = opendir(run);
    if (!d) return 0;
    int found = 0;
    struct dirent *e;
    while (!found && (e = readdir(d))) {
        size_t l = strlen(e->d_name);
        found = !strncmp(e->d_name, "ckpt_", 5) && l > 9 && !strcmp(e->d_name + l - 4, ".bin");
    }
    closedir(d);
    return found;
}


int qpl_unit_done(const qpl_config *c, qpl_stage s, unsigned u)
{
    char *p = qpl_unit_output(c, s, u);
    struct stat st;
    int done = stat(p, &st) == 0 && (qpl_stage_in_place(s) ? S_ISREG(st.st_mode) : S_ISDIR(st.st_mode));
    free(p);
    return done;
}

/* The pairs unit's --band value: 0..bands-1, then the exact keys. */
static void band_name(const qpl_config *c, unsigned u, char *out, size_t len)
{
    if (u < c->bands) snprintf(out, len, "%u", u);
    else if (u == c->bands && c->exact_text) snprintf(out, len, "exact-text");
    else snprintf(out, len, "exact-url");
}

void qpl_unit_label(const qpl_config *c, qpl_stage s, unsigned u, strbuf *out)
{
    switch (s) {
    case QPL_DOCS: case QPL_SIGNATURES: case QPL_FILTER: case QPL_TOKENIZE:
        sb_addf(out, "shard %u (%s)", u, u < c->n_inputs ? c->inputs[u] : "?");
        break;
    case QPL_PAIRS: {
        char b[32];
        band_name(c, u, b, sizeof b);
        if (u < c->bands) sb_addf(out, "band %s of %u", b, c->bands);
        else sb_addf(out, "%s keys", b);
        break;
    }
    default:
        sb_adds(out, "the one unit");
        break;
    }
}

/* ---- argv building ---- */
typedef struct argvb {
    char **v;
    size_t n, cap;
} argvb;

static void arg(argvb *a, const char *s)
{
    if (a->n + 2 > a->cap) {
        a->cap = a->cap ? a->cap * 2 : 16;
        a->v = realloc(a->v, a->cap * sizeof *a->v);
        if (!a->v) abort();
    }
    a->v[a->n++] = qpl_strdup(s);
    a->v[a->n] = NULL;
}

static void argf(argvb *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void argf(argvb *a, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    arg(a, buf);
}

static void args(argvb *a, char **words)
{
    for (char **w = words; w && *w; w++) arg(a, *w);
}

/* The train options minus those that fix the model and the plan, which
 * `quern train --resume` takes from the checkpoint (and refuses), and minus
 * --data, which the checkpoint names too. */
static void args_for_resume(argvb *a, char **w)
{
    static const char *const fixed[] = { "--model", "--layers", "--heads", "--dim", "--seq",
                                         "--tokens", "--steps", "--data", NULL };
    for (; w && *w; w++) {
        int drop = 0;
        for (int i = 0; fixed[i] && !drop; i++) {
            size_t l = strlen(fixed[i]);
            if (!strcmp(*w, fixed[i])) {
                drop = 1;
                if (w[1]) w++;   /* and its value */
            } else if (!strncmp(*w, fixed[i], l) && (*w)[l] == '=') {
                drop = 1;
            }
        }
        if (!drop) arg(a, *w);
    }
}

/* Head of a stage command: quern <cmd...> -j T */
static void head(argvb *a, const qpl_config *c, const char *cmd, const char *sub, int threads)
{
    arg(a, c->quern);
    arg(a, cmd);
    if (sub) arg(a, sub);
    argf(a, "-j%d", threads);
}

/* The document file of shard u as stage s reads it: the one file the stage
 * before it wrote, or the input itself when no document stage ran. */
static char *docs_file(const qpl_config *c, qpl_stage s, unsigned u)
{
    int d = docs_stage_before(c, s);
    if (d < 0) return qpl_strdup(c->inputs[u]);
    char *dir = qpl_unit_output(c, (qpl_stage)d, u);
    char *f = qpl_path_join(dir, "docs.jsonl.zst");
    free(dir);
    return f;
}

/* Check that unit u (or every unit, u < 0) of stage d is complete. */
static int need(const qpl_config *c, qpl_stage d, long u, int flags, char *err, size_t errlen)
{
    if (flags & QPL_CMD_PREVIEW) return 0;
    unsigned lo = u < 0 ? 0 : (unsigned)u, hi = u < 0 ? qpl_units(c, d) : (unsigned)u + 1;
    for (unsigned i = lo; i < hi; i++) {
        if (qpl_unit_done(c, d, i)) continue;
        char *p = qpl_unit_output(c, d, i);
        snprintf(err, errlen, "input %s (stage %s) is not complete", p, qpl_stage_name(d));
        free(p);
        return -1;
    }
    return 0;
}

/* Every shard's documents, in shard order (dedup's full input list). */
static void add_all_docs(argvb *a, const qpl_config *c, qpl_stage s)
{
    for (unsigned i = 0; i < c->n_inputs; i++) {
        char *f = docs_file(c, s, i);
        arg(a, f);
        free(f);
    }
}

static char *staged(const char *staging, const char *name)
{
    return qpl_path_join(staging, name);
}

int qpl_unit_cmds(const qpl_config *c, qpl_stage s, unsigned u, const char *staging,
                  int threads, int flags, qpl_cmds *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    argvb a = { 0 }, b = { 0 };
    char *o = NULL;
    if (threads < 1) threads = 1;
    if (u >= qpl_units(c, s)) {
        snprintf(err, errlen, "stage %s has no unit %u", qpl_stage_name(s), u);
        return -1;
    }
    int docs_dep = docs_stage_before(c, s);
    char *dd = qpl_dedup_dir(c);
    switch (s) {
    case QPL_DOCS:
        /* ingest | clean: the documents of one input, cleaned, in one file */
        o = staged(staging, "docs.jsonl.zst");
        if (c->has_ingest) {
            head(&a, c, "ingest", NULL, threads);
            args(&a, c->opt_ingest);
            if (!c->has_clean) { arg(&a, "-o"); arg(&a, o); }
            arg(&a, c->inputs[u]);
        }
        if (c->has_clean) {
            argvb *t = c->has_ingest ? &b : &a;
            head(t, c, "clean", NULL, threads);
            args(t, c->opt_clean);
            arg(t, "-o");
            arg(t, o);
            if (!c->has_ingest) arg(t, c->inputs[u]);
        }
        break;
    case QPL_SIGNATURES:
        if (docs_dep >= 0 && need(c, (qpl_stage)docs_dep, -1, flags, err, errlen)) goto fail;
        head(&a, c, "dedup", "signatures", threads);
        args(&a, c->opt_dedup_common);
        args(&a, c->opt[s]);
        if (flags & QPL_CMD_FORCE) arg(&a, "--force");
        argf(&a, "--shard=%u/%u", u, qpl_units(c, s));
        arg(&a, "-o");
        arg(&a, dd);
        add_all_docs(&a, c, s);
        break;
    case QPL_PAIRS: {
        if (need(c, QPL_SIGNATURES, -1, flags, err, errlen)) goto fail;
        char band[32];
        band_name(c, u, band, sizeof band);
        head(&a, c, "dedup", "pairs", threads);
        args(&a, c->opt_dedup_common);
        args(&a, c->opt[s]);
        if (flags & QPL_CMD_FORCE) arg(&a, "--force");
        argf(&a, "--band=%s", band);
        arg(&a, dd);
        break;
    }
    case QPL_CLUSTERS:
        if (need(c, QPL_PAIRS, -1, flags, err, errlen)) goto fail;
        head(&a, c, "dedup", "clusters", threads);
        args(&a, c->opt_dedup_common);
        args(&a, c->opt[s]);
        if (flags & QPL_CMD_FORCE) arg(&a, "--force");
        arg(&a, dd);
        break;
    case QPL_FILTER:
        if (need(c, QPL_CLUSTERS, 0, flags, err, errlen)) goto fail;
        if (docs_dep >= 0 && need(c, (qpl_stage)docs_dep, -1, flags, err, errlen)) goto fail;
        head(&a, c, "dedup", "filter", threads);
        args(&a, c->opt_dedup_common);
        args(&a, c->opt[s]);
        argf(&a, "--shard=%u/%u", u, qpl_units(c, s));
        arg(&a, "--dir");
        arg(&a, dd);
        arg(&a, "-o");
        arg(&a, (o = staged(staging, "docs.jsonl.zst")));
        add_all_docs(&a, c, s);
        break;
    case QPL_TOKENIZE: {
        if (docs_dep >= 0 && need(c, (qpl_stage)docs_dep, u, flags, err, errlen)) goto fail;
        head(&a, c, "tokenize", NULL, threads);
        args(&a, c->opt[s]);
        arg(&a, "-o");
        arg(&a, (o = qpl_path_join(staging, "")));
        char *f = docs_file(c, s, u);
        arg(&a, f);
        free(f);
        break;
    }
    case QPL_MIX:
        if (need(c, QPL_TOKENIZE, -1, flags, err, errlen)) goto fail;
        /* the tokenize units, as one source (tokens/manifest.json, merge.c) */
        head(&a, c, "mix", NULL, threads);
        args(&a, c->opt[s]);
        arg(&a, "-o");
        arg(&a, (o = qpl_path_join(staging, "")));
        argf(&a, "%s=%s/tokens:%s", c->name, c->workdir, c->mix_weight ? c->mix_weight : "1");
        break;
    case QPL_TRAIN: {
        if (need(c, QPL_MIX, 0, flags, err, errlen)) goto fail;
        char *run = qpl_train_dir(c);
        head(&a, c, "train", NULL, threads);
        if (!(flags & (QPL_CMD_PREVIEW | QPL_CMD_FORCE)) && has_checkpoint(run)) {
            /* a job that ran out of time (or was killed) continues where its
             * last checkpoint left off */
            if (c->train_resume) args(&a, c->train_resume);
            else args_for_resume(&a, c->opt[s]);
            arg(&a, "--resume");
            arg(&a, run);
        } else {
            args(&a, c->opt[s]);
            char *m = qpl_unit_output(c, QPL_MIX, 0);
            char *mf = qpl_path_join(m, "manifest.json");
            arg(&a, "--data");
            arg(&a, mf);
            free(m);
            free(mf);
        }
        arg(&a, "-o");
        arg(&a, run);
        free(run);
        break;
    }
    default:
        snprintf(err, errlen, "no such stage");
        goto fail;
    }
    free(dd);
    dd = NULL;
    free(o);
    out->argv[out->n++] = a.v;
    if (b.v) out->argv[out->n++] = b.v;
    return 0;
fail:
    free(dd);
    free(o);
    qpl_words_free(a.v);
    qpl_words_free(b.v);
    return -1;
}

void qpl_cmds_free(qpl_cmds *cmds)
{
    for (int i = 0; i < cmds->n; i++) qpl_words_free(cmds->argv[i]);
    memset(cmds, 0, sizeof *cmds);
}

void qpl_shell_quote(strbuf *out, const char *s)
{
    int plain = *s != '\0';
    for (const char *p = s; *p; p++)
        if (!(isalnum((unsigned char)*p) || strchr("-_./=:,+@%", *p))) { plain = 0; break; }
    if (plain) { sb_adds(out, s); return; }
    sb_addc(out, '\'');
    for (const char *p = s; *p; p++) {
        if (*p == '\'') sb_adds(out, "'\\''");
        else sb_addc(out, *p);
    }
    sb_addc(out, '\'');
}

void qpl_cmds_format(const qpl_cmds *cmds, strbuf *out)
{
    for (int i = 0; i < cmds->n; i++) {
        if (i) sb_adds(out, " | ");
        for (char **w = cmds->argv[i]; *w; w++) {
            if (w != cmds->argv[i]) sb_addc(out, ' ');
            qpl_shell_quote(out, *w);
        }
    }
}
