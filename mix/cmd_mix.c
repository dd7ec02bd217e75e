/* cmd_mix.c - `quern mix`: weighted, multi-epoch mixing of token directories
 * into training shards. Options and wiring here; the plan and the document
 * stream are mixture.c, the file formats export.c. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/cli.h"
#include "../common/cli_stream.h"
#include "../common/commands.h"
#include "../common/json.h"
#include "../common/manifest.h"
#include "../common/outfile.h"
#include "../common/progress.h"
#include "../common/strbuf.h"
#include <xxhash.h>
#include "budget.h"
#include "export.h"
#include "mixture.h"
#include "source.h"

#define DEFAULT_SEED 1234
#define DEFAULT_SHARD_TOKENS 100000000ull
#define DEFAULT_MAX_EPOCHS 4.0

static void usage(FILE *f)
{
    fprintf(f,
        "usage: quern mix [options] -o DIR name=DIR:weight[:max_epochs]...\n"
        "\n"
        "Mixes token directories (tokenize output: manifest.json, shards, .idx) by weight into\n"
        "training shards whose every shard holds the mixture proportions. Each source gives\n"
        "weight x total tokens: whole passes over a fresh seeded permutation of its documents\n"
        "when it is smaller than its share (epochs > 1), sampling without replacement when it\n"
        "is larger. Sources are read by their .idx offsets, never loaded.\n"
        "\n"
        "sources:\n"
        "  name=DIR:weight[:max_epochs]   weight as 0.6 or 60%%\n"
        "  name=size:TOKENS:weight[:max_epochs]   a declared size, for --plan only (e.g. cc=size:410B:0.60)\n"
        "  -m, --mix FILE         a file of such specs, one per line ('#' comments)\n"
        "total train tokens (one of):\n"
        "  -D, --tokens D         e.g. 300B\n"
        "  -N, --params N         D = ratio x N (--ratio, default 20): Chinchilla's rule\n"
        "  -b, --budget FILE      the JSON of `quern budget --json` (its tokens, params, flops)\n"
        "options:\n"
        "  -o, --output DIR       output directory (manifest.json + shards)\n"
        "      --format F         llmc (default: llm.c .bin + .idx) | megatron (.bin/.idx) | datatrove (.ds/.ds.index)\n"
        "      --shard-tokens S   tokens per output shard, at most (default 100M; whole documents)\n"
        "      --val-tokens V     validation tokens held out from every source by weight (default 0)\n"
        "      --seed N           seed for every permutation and the interleaving (default %d)\n"
        "      --max-epochs E     limit for sources that give none (default %g; 0 = none)\n"
        "      --renormalise      hold sources over max_epochs at it and give the rest to the others\n"
        "      --normalise-weights  divide weights by their sum (default: weight x total as given,\n"
        "                         so weights summing to 1.01 give 1.01 x the tokens, with a note)\n"
        "      --plan             print the per-source plan and write nothing\n"
        "      --json             with --plan: the plan as JSON\n"
        "      --verify-sources   check every source shard's checksum first (reads all of them)\n"
        "  -j, --jobs N           shards written in parallel (default: all cores); output is the same for any N\n"
        "      --shard I/N        write only output shards k with k %% N == I (one Slurm array task\n"
        "                         each; every task plans the same layout); the task that finds all\n"
        "                         N parts done writes manifest.json\n"
        "      --force            redo even if DIR/manifest.json exists\n"
        "      --stats FILE       JSON summary\n"
        "      --progress         progress line on stderr even when it is not a TTY\n"
        "  -h, --help\n"
        "\n"
        "The last document each source gives is truncated so every token count is exact (the\n"
        "piece still starts with its end-of-text token); likewise the last validation document\n"
        "of each source, whose remainder is used nowhere.\n",
        DEFAULT_SEED, DEFAULT_MAX_EPOCHS);
}

typedef struct mix_opts {
    mix_source *srcs;
    size_t n_srcs;
    double tokens, params, ratio;
    const char *budget_file;
    cli_stream cli;             /* -o DIR, -j, --force, --stats, --progress, --shard I/N:
                                 * write output shards k with k % N == I */
    int format;
    uint64_t shard_tokens, val_tokens, seed;
    double max_epochs;
    int renormalise, normalise_weights, plan, json, verify;
} mix_opts;

/* The budget JSON of `quern budget --json`. */
static int read_budget(const char *path, double *params, double *tokens, double *flops)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        qerr_at(path, NULL, "cannot open: %s", strerror(errno));
        return -1;
    }
    strbuf sb = STRBUF_INIT;
    char buf[4096];
    size_t k;
    while ((k = fread(buf, 1, sizeof buf, f)) > 0) sb_add(&sb, buf, k);
    fclose(f);
    char err[256];
    qjson *root = qjson_parse(sb_str(&sb), sb.len, err, sizeof err);
    sb_free(&sb);
    if (!root) {
        qerr_at(path, NULL, "%s", err);
        return -1;
    }
    *tokens = qjson_num(qjson_get(root, "tokens"), 0);
    *params = qjson_num(qjson_get(root, "params"), 0);
    *flops = qjson_num(qjson_get(root, "flops"), 0);
    qjson_free(root);
    if (!(*tokens > 0)) {
        qerr_at(path, NULL, "no positive \"tokens\" (expected the output of quern budget --json)");
        return -1;
    }
    return 0;
}

static void print_plan_text(const mix_plan *p, const mix_opts *o)
{
    char a[32], b[32], c[32], d[32];
    printf("mix plan: %s train tokens asked, %s planned (+ %s validation), seed %llu, format %s\n",
           qbudget_human((double)p->cfg.total_tokens, a, sizeof a),
           qbudget_human((double)p->train_total, b, sizeof b), qbudget_human((double)p->val_total, c, sizeof c),
           (unsigned long long)p->cfg.seed, mix_format_name(o->format));
    printf("%-16s %10s %8s %10s %8s %9s %10s\n", "source", "size", "weight", "tokens", "epochs", "max", "val");
    for (size_t i = 0; i < p->n; i++) {
        const mix_source *s = &p->srcs[i];
        const mix_alloc *al = &p->alloc[i];
        char mx[32];
        if (al->max_epochs > 0) snprintf(mx, sizeof mx, "%g%s", al->max_epochs, al->capped ? "*" : "");
        else snprintf(mx, sizeof mx, "-");
        printf("%-16s %10s %8.3f %10s %8.2f %9s %10s\n", s->name, qbudget_human((double)s->n_tokens, a, sizeof a),
               s->weight, qbudget_human((double)al->share, b, sizeof b), al->epochs, mx,
               qbudget_human((double)al->val_target, d, sizeof d));
    }
    printf("%-16s %10s %8.3f %10s\n", "total", "", p->weight_sum, qbudget_human((double)p->train_total, a, sizeof a));
    printf("epochs = tokens taken / tokens available for train (size less the validation share)\n");
    for (size_t i = 0; i < p->n; i++)
        if (p->alloc[i].capped)
            printf("* %s held at max_epochs by --renormalise: realised weight %.4f instead of %.4f\n",
                   p->srcs[i].name, p->alloc[i].weight_used, p->alloc[i].weight_norm);
}

static void print_plan_json(const mix_plan *p)
{
    strbuf o = STRBUF_INIT;
    sb_addf(&o, "{\"train_tokens_asked\":%llu,\"train_tokens\":%llu,\"val_tokens\":%llu,\"seed\":%llu,\"weights_sum\":",
            (unsigned long long)p->cfg.total_tokens, (unsigned long long)p->train_total,
            (unsigned long long)p->val_total, (unsigned long long)p->cfg.seed);
    json_put_num(&o, p->weight_sum);
    sb_adds(&o, ",\"sources\":[");
    for (size_t i = 0; i < p->n; i++) {
        const mix_source *s = &p->srcs[i];
        const mix_alloc *a = &p->alloc[i];
        sb_adds(&o, i ? ",{\"name\":" : "{\"name\":");
        json_put_str(&o, s->name, strlen(s->name));
        sb_addf(&o, ",\"size\":%llu,\"available\":%llu,\"tokens\":%llu,\"val_tokens\":%llu,\"weight\":",
                (unsigned long long)s->n_tokens, (unsigned long long)a->avail, (unsigned long long)a->share,
                (unsigned long long)a->val_target);
        json_put_num(&o, s->weight);
        sb_adds(&o, ",\"realised_fraction\":");
        json_put_num(&o, a->weight_used);
        sb_adds(&o, ",\"epochs\":");
        json_put_num(&o, a->epochs);
        sb_adds(&o, ",\"max_epochs\":");
        json_put_num(&o, a->max_epochs);
        sb_addf(&o, ",\"capped\":%s}", a->capped ? "true" : "false");
    }
    sb_adds(&o, "]}");
    puts(sb_str(&o));
    sb_free(&o);
}

/* ---- writing ---- */

typedef struct shard_job {
    const mix_plan *plan;
    const mix_shard_plan *sp;
    int val;
    char stem[32];
    char hex[17];
    char err[600];
    int failed;
    uint64_t no_eot;            /* documents not starting with EOT */
    char first_no_eot[600];     /* where the first one is */
} shard_job;

static void write_shard(shard_job *job, const mix_opts *o, int version, uint32_t eot, int check_eot,
                        const char *tok_name)
{
    const mix_plan *p = job->plan;
    mix_sink *sink = mix_sink_open(o->format, o->cli.output, job->stem, version, job->sp->tokens, tok_name, job->err,
                                   sizeof job->err);
    if (!sink) {
        job->failed = 1;
        return;
    }
    mix_stream st;
    mix_stream_init(&st, p, job->val);
    mix_stream_restore(&st, job->sp->snap);
    mix_doc d;
    void *buf = NULL;   /* one document, grown to the longest */
    size_t buf_cap = 0;
    for (uint64_t k = 0; k < job->sp->docs; k++) {
        if (!mix_stream_peek(&st, &d)) {
            snprintf(job->err, sizeof job->err, "internal: stream ended early in %s", job->stem);
            goto fail;
        }
        const mix_source *s = &p->srcs[d.src];
        size_t shi = d.shard;
        uint64_t start = d.start;
        int sver = s->shard_version[shi];
        size_t need = (size_t)d.len * mix_source_width(s, shi);
        if (need > buf_cap) {
            buf_cap = need + need / 2;
            free(buf);
            buf = malloc(buf_cap);
            if (!buf) abort();
        }
        if (mix_source_read(s, shi, start, d.len, buf, job->err, sizeof job->err)) goto fail;
        uint32_t first = sver == 1 ? ((const uint16_t *)buf)[0] : ((const uint32_t *)buf)[0];
        /* tokenize cuts a document longer than its shard size into pieces;
         * the pieces after the first do not start with EOT. They are copied
         * as they are (a piece is a document to mix), and counted. */
        if (check_eot && first != eot) {
            if (!job->no_eot)
                snprintf(job->first_no_eot, sizeof job->first_no_eot, "%s:%llu", s->shard_paths[shi],
                         (unsigned long long)(QSHARD_HEADER_BYTES + start * mix_source_width(s, shi)));
            job->no_eot++;
        }
        if (mix_sink_add(sink, buf, d.len, sver)) {
            snprintf(job->err, sizeof job->err, "%s", mix_sink_error(sink));
            goto fail;
        }
        mix_stream_take(&st, &d);
    }
    mix_stream_free(&st);
    free(buf);
    if (mix_sink_close(sink, job->hex, job->err, sizeof job->err)) job->failed = 1;
    return;
fail:
    mix_stream_free(&st);
    free(buf);
    mix_sink_abort(sink);
    job->failed = 1;
}

static int check_tokenizers(mix_source *srcs, size_t n, const mix_source **ref)
{
    *ref = NULL;
    for (size_t i = 0; i < n; i++) {
        const mix_source *s = &srcs[i];
        if (s->declared) continue;
        if (!*ref) {
            *ref = s;
            continue;
        }
        const qmanifest *a = &(*ref)->man, *b = &s->man;
        int same = (!a->tok_name) == (!b->tok_name) &&
                   (!a->tok_name || (!strcmp(a->tok_name, b->tok_name) && a->vocab_size == b->vocab_size &&
                                     a->eot == b->eot && !strcmp(a->tok_hash, b->tok_hash)));
        if (!same) {
            qerr("sources '%s' and '%s' use different tokenizers (%s/%llu/%s vs %s/%llu/%s); mix needs one",
                 (*ref)->name, s->name, a->tok_name ? a->tok_name : "none", (unsigned long long)a->vocab_size,
                 a->tok_hash, b->tok_name ? b->tok_name : "none", (unsigned long long)b->vocab_size, b->tok_hash);
            return -1;
        }
    }
    return 0;
}

static void add_extra(strbuf *x, const mix_plan *p, const mix_opts *o, const mix_shard_plan *tr, size_t ntr,
                      const mix_shard_plan *va, size_t nva)
{
    sb_adds(x, "\"mix\":{\"format\":");
    const char *f = mix_format_name(o->format);
    json_put_str(x, f, strlen(f));
    sb_addf(x, ",\"shard_tokens\":%llu,\"train_tokens_asked\":%llu,\"val_tokens\":%llu,\"default_max_epochs\":",
            (unsigned long long)o->shard_tokens, (unsigned long long)p->cfg.total_tokens,
            (unsigned long long)p->val_total);
    json_put_num(x, o->max_epochs);
    sb_addf(x, ",\"renormalise\":%s,\"normalise_weights\":%s,\"weights_sum\":", o->renormalise ? "true" : "false",
            o->normalise_weights ? "true" : "false");
    json_put_num(x, p->weight_sum);
    sb_adds(x, ",\"truncation\":\"the last document each source gives to train, and the last of its validation "
               "documents, is cut to make token counts exact; each piece starts with its EOT token\"");
    sb_adds(x, ",\n  \"sources\":[");
    for (size_t i = 0; i < p->n; i++) {
        const mix_source *s = &p->srcs[i];
        const mix_alloc *a = &p->alloc[i];
        sb_adds(x, i ? ",\n   {\"name\":" : "\n   {\"name\":");
        json_put_str(x, s->name, strlen(s->name));
        sb_adds(x, ",\"dir\":");
        json_put_str(x, s->dir, strlen(s->dir));
        sb_addf(x, ",\"tokens\":%llu,\"docs\":%llu,\"val_tokens\":%llu,\"val_docs\":%llu,\"val_remainder_dropped\":%llu,"
                   "\"train_available\":%llu,\"max_epochs\":",
                (unsigned long long)s->n_tokens, (unsigned long long)s->n_docs, (unsigned long long)a->val_target, (unsigned long long)a->val_docs,
                (unsigned long long)a->val_lost, (unsigned long long)a->avail);
        json_put_num(x, a->max_epochs);
        sb_addf(x, ",\"capped\":%s}", a->capped ? "true" : "false");
    }
    sb_adds(x, "],\n  \"shard_source_tokens\":[");
    for (size_t k = 0; k < ntr + nva; k++) {
        const mix_shard_plan *sp = k < ntr ? &tr[k] : &va[k - ntr];
        sb_adds(x, k ? ",[" : "[");
        for (size_t i = 0; i < p->n; i++) sb_addf(x, i ? ",%llu" : "%llu", (unsigned long long)sp->src_tokens[i]);
        sb_addc(x, ']');
    }
    sb_adds(x, "]}");
}

/* ---- --shard I/N: one Slurm task writes every N-th output shard ----
 *
 * Each task writes its shards and then a part file with their checksums,
 * tagged with a fingerprint of the whole layout (so a part of another run is
 * never taken for one of this run). The task that finds all N parts present
 * writes manifest.json; if two do at once they write the same bytes. */

static uint64_t layout_fingerprint(const mix_plan *p, const mix_opts *o, const shard_job *jobs, size_t njobs)
{
    strbuf b = STRBUF_INIT;
    sb_addf(&b, "%d %llu %llu|", o->format, (unsigned long long)o->shard_tokens, (unsigned long long)o->seed);
    for (size_t i = 0; i < p->n; i++)
        sb_addf(&b, "%s=%s %llu %llu|", p->srcs[i].name, p->srcs[i].dir ? p->srcs[i].dir : "",
                (unsigned long long)p->alloc[i].share, (unsigned long long)p->alloc[i].val_target);
    for (size_t k = 0; k < njobs; k++)
        sb_addf(&b, "%s %llu %llu|", jobs[k].stem, (unsigned long long)jobs[k].sp->tokens,
                (unsigned long long)jobs[k].sp->docs);
    uint64_t h = XXH3_64bits(b.buf, b.len);
    sb_free(&b);
    return h;
}

static char *part_path(const mix_opts *o, unsigned i)
{
    char *path;
    if (asprintf(&path, "%s/.mix-part-%u-of-%u.json", o->cli.output, i, o->cli.shard_n) < 0) abort();
    return path;
}

static int write_part(const mix_opts *o, const shard_job *jobs, size_t njobs, uint64_t fp)
{
    strbuf b = STRBUF_INIT;
    sb_addf(&b, "{\"fingerprint\":\"%016llx\",\"shards\":{", (unsigned long long)fp);
    int first = 1;
    for (size_t k = o->cli.shard_i; k < njobs; k += o->cli.shard_n) {
        sb_addf(&b, "%s\"%s\":\"%s\"", first ? "" : ",", jobs[k].stem, jobs[k].hex);
        first = 0;
    }
    sb_adds(&b, "}}\n");
    char *path = part_path(o, o->cli.shard_i), err[600];
    int rc = qout_write_file(path, b.buf, b.len, err, sizeof err);
    if (rc) qerr("%s", err);
    free(path);
    sb_free(&b);
    return rc;
}

/* 1: every part is present and matches (checksums filled in), 0: not yet. */
static int collect_parts(const mix_opts *o, shard_job *jobs, size_t njobs, uint64_t fp)
{
    char want[17];
    snprintf(want, sizeof want, "%016llx", (unsigned long long)fp);
    for (unsigned i = 0; i < o->cli.shard_n; i++) {
        if (i == o->cli.shard_i) continue;
        char *path = part_path(o, i);
        FILE *f = fopen(path, "rb");
        free(path);
        if (!f) return 0;
        strbuf b = STRBUF_INIT;
        char buf[4096];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, f)) > 0) sb_add(&b, buf, n);
        fclose(f);
        char err[200];
        qjson *root = qjson_parse(sb_str(&b), b.len, err, sizeof err);
        sb_free(&b);
        int ok = root && !strcmp(qjson_str(qjson_get(root, "fingerprint"), ""), want);
        const qjson *sh = qjson_get(root, "shards");
        for (size_t k = i; ok && k < njobs; k += o->cli.shard_n) {
            const char *hex = qjson_str(qjson_get(sh, jobs[k].stem), NULL);
            if (!hex || strlen(hex) != 16) ok = 0;
            else memcpy(jobs[k].hex, hex, 17);
        }
        qjson_free(root);
        if (!ok) return 0;   /* another run's part, or not rewritten yet */
    }
    return 1;
}

static int run_mix(mix_plan *p, mix_opts *o, const mix_source *ref, double b_params, double b_flops,
                   double b_tokens)
{
    char err[600];
    char mpath[4096];
    snprintf(mpath, sizeof mpath, "%s/manifest.json", o->cli.output);
    /* Writing into a source directory would overwrite the shards being read
     * (tokenize names its shards train_NNNNNN.bin too). */
    char out_real[PATH_MAX], src_real[PATH_MAX];
    if (realpath(o->cli.output, out_real))
        for (size_t i = 0; i < p->n; i++)
            if (p->srcs[i].dir && realpath(p->srcs[i].dir, src_real) && !strcmp(out_real, src_real)) {
                qerr("-o %s is the directory of source '%s'; write the mix elsewhere", o->cli.output, p->srcs[i].name);
                return QEXIT_USAGE;
            }
    if (!o->cli.force && qout_is_complete(mpath)) {
        fprintf(stderr, "quern mix: %s exists; skipping (--force to redo)\n", mpath);
        return QEXIT_OK;
    }
    /* A redo first withdraws the old manifest: until the new one is written
     * the directory must not look complete. */
    if (unlink(mpath) && errno != ENOENT) {
        qerr_at(mpath, NULL, "cannot remove the previous manifest: %s", strerror(errno));
        return QEXIT_BADINPUT;
    }
    if (qmkdirs(o->cli.output)) {
        qerr_at(o->cli.output, NULL, "cannot create: %s", strerror(errno));
        return QEXIT_BADINPUT;
    }
    qout_remove_stale_temps_in(o->cli.output, "");   /* a killed run's leftovers: the directory is ours */
    int version = 1;
    for (size_t i = 0; i < p->n; i++)
        if (p->srcs[i].version > version) version = p->srcs[i].version;
    if (ref && ref->man.vocab_size > 65536) version = 2;
    uint32_t eot = ref && ref->man.tok_name ? ref->man.eot : 0;
    int check_eot = ref && ref->man.tok_name;
    const char *tok_name = ref && ref->man.tok_name ? ref->man.tok_name : NULL;

    mix_shard_plan *tr = NULL, *va = NULL;
    size_t ntr = 0, nva = 0;
    mix_layout(p, 0, o->shard_tokens, &tr, &ntr);
    mix_layout(p, 1, o->shard_tokens, &va, &nva);
    size_t njobs = ntr + nva;
    shard_job *jobs = calloc(njobs ? njobs : 1, sizeof *jobs);
    if (!jobs) abort();
    uint64_t total_bytes = 0;
    for (size_t k = 0; k < njobs; k++) {
        shard_job *j = &jobs[k];
        j->plan = p;
        j->val = k >= ntr;
        j->sp = j->val ? &va[k - ntr] : &tr[k];
        snprintf(j->stem, sizeof j->stem, "%s_%06zu", j->val ? "val" : "train", j->val ? k - ntr : k);
        if (k % o->cli.shard_n == o->cli.shard_i) total_bytes += j->sp->tokens * (version == 1 ? 2 : 4);
    }
    qprogress *prog = qprogress_new("mix", total_bytes, o->cli.progress);
    uint64_t done_bytes = 0, done_docs = 0;
    int failed = 0;
#pragma omp parallel for schedule(dynamic, 1) num_threads(o->cli.jobs)
    for (size_t k = 0; k < njobs; k++) {
        int stop;
#pragma omp atomic read
        stop = failed;
        if (stop || k % o->cli.shard_n != o->cli.shard_i) continue;
        write_shard(&jobs[k], o, version, eot, check_eot, tok_name);
#pragma omp critical(mix_progress)
        {
            if (jobs[k].failed) {
#pragma omp atomic write
                failed = 1;
            }
            done_bytes += jobs[k].sp->tokens * (version == 1 ? 2 : 4);
            done_docs += jobs[k].sp->docs;
            qprogress_update(prog, done_bytes, done_docs);
        }
    }
    qprogress_finish(prog);
    int rc = QEXIT_OK;
    for (size_t k = 0; k < njobs; k++)
        if (jobs[k].failed && jobs[k].err[0]) {
            qerr("%s", jobs[k].err);
            rc = QEXIT_BADINPUT;
            break;
        }
    if (failed && rc == QEXIT_OK) rc = QEXIT_BADINPUT;
    uint64_t no_eot = 0;
    const char *first_no_eot = NULL;
    for (size_t k = 0; k < njobs; k++) {
        if (jobs[k].no_eot && !first_no_eot) first_no_eot = jobs[k].first_no_eot;
        no_eot += jobs[k].no_eot;
    }
    if (no_eot)
        fprintf(stderr, "quern mix: note: %llu documents do not start with the EOT token %u (pieces of documents "
                        "tokenize split across shards), e.g. at %s; copied as they are\n",
                (unsigned long long)no_eot, eot, first_no_eot);

    int complete = 1;
    if (rc == QEXIT_OK && o->cli.shard_n > 1) {
        uint64_t fp = layout_fingerprint(p, o, jobs, njobs);
        if (write_part(o, jobs, njobs, fp)) rc = QEXIT_BADINPUT;
        else complete = collect_parts(o, jobs, njobs, fp);
        if (rc == QEXIT_OK && !complete)
            fprintf(stderr, "quern mix: part %u of %u written; the part that finds all %u present writes "
                            "manifest.json\n", o->cli.shard_i, o->cli.shard_n, o->cli.shard_n);
    }
    if (rc == QEXIT_OK && complete) {
        qmanifest m;
        qmanifest_init(&m);
        /* Only llm.c shards are readable by qshard/the trainer: other formats
         * get a kind that a reader expecting "mix" refuses. */
        snprintf(m.kind, sizeof m.kind, "%s", o->format == MIX_FMT_LLMC ? "mix"
                                              : o->format == MIX_FMT_MEGATRON ? "mix-megatron" : "mix-datatrove");
        if (ref && ref->man.tok_name) {
            m.tok_name = strdup(ref->man.tok_name);
            m.vocab_size = ref->man.vocab_size;
            m.eot = ref->man.eot;
            memcpy(m.tok_hash, ref->man.tok_hash, sizeof m.tok_hash);
            /* every source has the same vocabulary (checked above), so the
             * first one's file serves them all */
            if (ref->man.tok_path) m.tok_path = strdup(ref->man.tok_path);
        }
        for (size_t k = 0; k < njobs; k++) {
            char name[64];
            snprintf(name, sizeof name, "%s%s", jobs[k].stem, mix_format_data_ext(o->format));
            qmanifest_add_shard(&m, name, jobs[k].sp->tokens, jobs[k].sp->docs, jobs[k].hex,
                                jobs[k].val ? "val" : "train");
        }
        for (size_t i = 0; i < p->n; i++)
            qmanifest_add_source(&m, p->srcs[i].name, p->srcs[i].weight, p->alloc[i].avail, p->alloc[i].share,
                                 p->alloc[i].epochs, p->alloc[i].weight_used);
        m.has_budget = 1;
        double D = (double)p->train_total;
        m.budget_tokens = D;
        m.budget_params = b_params > 0 ? b_params : NAN;
        if (b_flops > 0 && b_tokens > 0) m.budget_flops = b_flops * D / b_tokens;
        else m.budget_flops = b_params > 0 ? 6.0 * b_params * D : NAN;
        m.seed = o->seed;
        strbuf x = STRBUF_INIT;
        add_extra(&x, p, o, tr, ntr, va, nva);
        m.extra = sb_detach(&x, NULL);
        if (qmanifest_write(&m, mpath, err, sizeof err)) {
            qerr("%s", err);
            rc = QEXIT_BADINPUT;
        }
        qmanifest_free(&m);
    }
    if (o->cli.stats_path) {
        qstats *st = qstats_new("mix");
        qstats_set_int(st, "train_tokens", (int64_t)p->train_total);
        qstats_set_int(st, "val_tokens", (int64_t)p->val_total);
        qstats_set_int(st, "train_shards", (int64_t)ntr);
        qstats_set_int(st, "val_shards", (int64_t)nva);
        qstats_set_int(st, "bytes_out", (int64_t)total_bytes);
        qstats_set_int(st, "docs_out", (int64_t)done_docs);
        qstats_set_int(st, "docs_without_eot", (int64_t)no_eot);
        for (size_t i = 0; i < p->n; i++) {
            char key[300];
            snprintf(key, sizeof key, "sources.%s.tokens", p->srcs[i].name);
            qstats_set_int(st, key, (int64_t)p->alloc[i].share);
            snprintf(key, sizeof key, "sources.%s.epochs", p->srcs[i].name);
            qstats_set_num(st, key, p->alloc[i].epochs);
        }
        if (qstats_write(st, o->cli.stats_path)) rc = rc ? rc : QEXIT_BADINPUT;
        qstats_free(st);
    }
    free(jobs);
    mix_layout_free(tr, ntr);
    mix_layout_free(va, nva);
    return rc;
}

int cmd_mix(int argc, char **argv)
{
    enum { O_FORMAT = 256, O_SHARD, O_VAL, O_SEED, O_MAXE, O_RENORM, O_NORMW, O_PLAN, O_JSON, O_VERIFY,
           O_RATIO };
    static const struct option opts[] = {
        { "mix", required_argument, 0, 'm' }, { "tokens", required_argument, 0, 'D' },
        { "params", required_argument, 0, 'N' }, { "budget", required_argument, 0, 'b' },
        { "ratio", required_argument, 0, O_RATIO }, CLI_OPT_OUTPUT,
        { "format", required_argument, 0, O_FORMAT }, { "shard-tokens", required_argument, 0, O_SHARD },
        { "val-tokens", required_argument, 0, O_VAL }, { "seed", required_argument, 0, O_SEED },
        { "max-epochs", required_argument, 0, O_MAXE }, { "renormalise", no_argument, 0, O_RENORM },
        { "renormalize", no_argument, 0, O_RENORM }, { "normalise-weights", no_argument, 0, O_NORMW },
        { "normalize-weights", no_argument, 0, O_NORMW }, { "plan", no_argument, 0, O_PLAN },
        { "json", no_argument, 0, O_JSON }, { "verify-sources", no_argument, 0, O_VERIFY },
        CLI_OPT_JOBS, CLI_OPT_FORCE, CLI_OPT_STATS, CLI_OPT_PROGRESS, CLI_OPT_SHARD, CLI_OPT_HELP,
        CLI_OPT_END,
    };
    mix_opts o = { 0 };
    o.ratio = 20;
    o.shard_tokens = DEFAULT_SHARD_TOKENS;
    o.seed = DEFAULT_SEED;
    o.max_epochs = DEFAULT_MAX_EPOCHS;
    cli_stream_init(&o.cli);
    o.cli.shard_i = 0;   /* --shard only when given: mix is one job unless split on purpose */
    o.cli.shard_n = 1;
    int rc = QEXIT_USAGE;
    char err[800];
    optind = 1;
    int c;
    while ((c = cli_stream_getopt(&o.cli, argc, argv, "m:D:N:b:o:j:h", opts)) != -1) {
        double v;
        switch (c) {
        case CLI_STREAM_BAD: goto done;
        case 'm':
            if (mix_source_read_file(optarg, &o.srcs, &o.n_srcs, err, sizeof err)) {
                qerr("%s", err);
                goto done;
            }
            break;
        case 'D':
            if (cli_parse_count(optarg, &o.tokens) || o.tokens < 1) { qerr("--tokens: '%s' is not a token count", optarg); goto done; }
            break;
        case 'N':
            if (cli_parse_count(optarg, &o.params) || o.params < 1) {
                const qmodel_preset *pr = qbudget_preset(optarg);
                if (!pr) { qerr("--params: '%s' is neither a number nor a preset", optarg); goto done; }
                qparam_count pc;
                qbudget_count_params(&pr->shape, &pc);
                o.params = pc.total;
            }
            break;
        case 'b': o.budget_file = optarg; break;
        case O_RATIO: if (cli_parse_count(optarg, &o.ratio) || o.ratio <= 0) { qerr("--ratio: a positive number"); goto done; } break;
        case O_FORMAT:
            o.format = mix_format_parse(optarg);
            if (o.format < 0) { qerr("--format: llmc, megatron or datatrove, not '%s'", optarg); goto done; }
            break;
        case O_SHARD:
            if (cli_parse_count(optarg, &v) || v < 1 || v > 2147483647.0) { qerr("--shard-tokens: 1 to 2^31-1 tokens"); goto done; }
            o.shard_tokens = (uint64_t)v;
            break;
        case O_VAL: if (cli_parse_count(optarg, &v)) { qerr("--val-tokens: '%s' is not a token count", optarg); goto done; } o.val_tokens = (uint64_t)v; break;
        case O_SEED: {
            char *end;
            errno = 0;
            unsigned long long s = strtoull(optarg, &end, 10);
            /* Below 2^53 so the manifest's JSON number holds it exactly. */
            if (errno || *end || end == optarg || s >= (1ull << 53)) { qerr("--seed: an integer below 2^53"); goto done; }
            o.seed = s;
            break;
        }
        case O_MAXE:
            if (cli_parse_count(optarg, &o.max_epochs)) { qerr("--max-epochs: a number (0 = no limit)"); goto done; }
            break;
        case O_RENORM: o.renormalise = 1; break;
        case O_NORMW: o.normalise_weights = 1; break;
        case O_PLAN: o.plan = 1; break;
        case O_JSON: o.json = 1; break;
        case O_VERIFY: o.verify = 1; break;
        case 'h': usage(stdout); rc = QEXIT_OK; goto done;
        default: usage(stderr); goto done;
        }
    }
    for (int i = optind; i < argc; i++) {
        o.srcs = realloc(o.srcs, (o.n_srcs + 1) * sizeof *o.srcs);
        if (!o.srcs) abort();
        if (mix_source_parse(argv[i], &o.srcs[o.n_srcs], err, sizeof err)) {
            qerr("%s", err);
            goto done;
        }
        o.n_srcs++;
    }
    if (!o.n_srcs) {
        qerr("no sources; give name=DIR:weight[:max_epochs] arguments or --mix FILE (see --help)");
        goto done;
    }
    for (size_t i = 0; i < o.n_srcs; i++)
        for (size_t j = 0; j < i; j++)
            if (!strcmp(o.srcs[i].name, o.srcs[j].name)) {
                qerr("source name '%s' given twice", o.srcs[i].name);
                goto done;
            }
    int given = (o.tokens > 0) + (o.params > 0 && !o.budget_file) + (o.budget_file != NULL);
    if (given != 1) {
        qerr("give exactly one of --tokens, --params or --budget for the total");
        goto done;
    }
    double b_params = o.params, b_flops = 0, b_tokens = 0;
    if (o.budget_file) {
        if (read_budget(o.budget_file, &b_params, &b_tokens, &b_flops)) goto done;
        o.tokens = b_tokens;
    } else if (o.params > 0) {
        o.tokens = o.ratio * o.params;
    }
    if (!o.plan && !o.cli.output) {
        qerr("no output directory: give -o DIR (or --plan to only print the plan)");
        goto done;
    }
    if (o.json && !o.plan) {
        qerr("--json goes with --plan");
        goto done;
    }

    rc = QEXIT_BADINPUT;
    for (size_t i = 0; i < o.n_srcs; i++) {
        if (o.srcs[i].declared && !o.plan) {
            qerr("source '%s' only declares a size; real mixing needs its directory (or use --plan)", o.srcs[i].name);
            rc = QEXIT_USAGE;
            goto done;
        }
        if (mix_source_open(&o.srcs[i], err, sizeof err)) {
            qerr("%s", err);
            goto done;
        }
        if (o.verify && !o.srcs[i].declared && qmanifest_verify(&o.srcs[i].man, err, sizeof err)) {
            qerr("source '%s': %s", o.srcs[i].name, err);
            goto done;
        }
    }
    const mix_source *ref;
    if (check_tokenizers(o.srcs, o.n_srcs, &ref)) goto done;

    mix_config cfg = { 0 };
    cfg.total_tokens = (uint64_t)llround(o.tokens);
    cfg.val_tokens = o.val_tokens;
    cfg.seed = o.seed;
    cfg.default_max_epochs = o.max_epochs;
    cfg.renormalise = o.renormalise;
    cfg.normalise_weights = o.normalise_weights;
    mix_plan plan;
    if (mix_plan_make(&plan, o.srcs, o.n_srcs, &cfg, err, sizeof err)) {
        qerr("%s", err);
        goto done;
    }
    if (!o.normalise_weights && fabs(plan.weight_sum - 1) > 1e-9) {
        char a[32], b[32];
        fprintf(stderr, "quern mix: note: the weights sum to %g, so the mix holds %s train tokens, not %s "
                        "(each source gets weight x total; --normalise-weights divides by the sum)\n",
                plan.weight_sum, qbudget_human((double)plan.train_total, a, sizeof a),
                qbudget_human((double)cfg.total_tokens, b, sizeof b));
    }
    if (o.plan) {
        if (o.json) print_plan_json(&plan);
        else print_plan_text(&plan, &o);
        rc = QEXIT_OK;
    } else {
        rc = run_mix(&plan, &o, ref, b_params, b_flops, b_tokens);
    }
    mix_plan_free(&plan);
done:
    for (size_t i = 0; i < o.n_srcs; i++) mix_source_free(&o.srcs[i]);
    free(o.srcs);
    return rc;
}
