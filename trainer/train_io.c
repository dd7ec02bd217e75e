/* train_io.c - what a training run reads and writes around its loop: set-up
 * from the manifest or a checkpoint, the JSONL log (cut back to the
 * checkpoint on resume), evaluation, checkpoints, the final summary and plot,
 * and the reference trace (--trace) the PyTorch parity test reads. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cli.h"
#include "common/json.h"
#include "common/outfile.h"
#include "common/progress.h"
#include "common/strbuf.h"
#include "tokenize/tokenizer.h"
#include "tokenize/vocab.h"
#include "cuda_plugin.h"
#include "train_run.h"

/* --tokenizer: must load and agree with the manifest; recorded (as an
 * absolute path when it is one) for `quern sample`. */
static int check_tokenizer(qrun *r)
{
    const char *spec = r->o->tokenizer;
    char why[512], real[PATH_MAX];
    qtok *t = qtok_load(spec, why, sizeof why);
    if (!t) {
        qerr("--tokenizer %s: %s", spec, why);
        return -1;
    }
    int ok = qtok_vocab_size(t) == r->man.vocab_size && qtok_eot(t) == r->man.eot;
    if (!ok)
        qerr("--tokenizer %s has %u ids and EOT %u, the manifest %" PRIu64 " and %u", spec,
             qtok_vocab_size(t), qtok_eot(t), r->man.vocab_size, r->man.eot);
    qtok_free(t);
    struct stat sb;
    snprintf(r->st.tok_spec, sizeof r->st.tok_spec, "%s",
             !stat(spec, &sb) && realpath(spec, real) ? real : spec);
    return ok ? 0 : -1;
}

/* No --tokenizer: the vocabulary file that tokenize recorded in the manifest
 * (tokenizer.path, carried through mix) is recorded instead when it still
 * loads and is the same vocabulary (the manifest's hash, size and EOT), so
 * that `quern sample` needs no --tokenizer either. Not an error when it is
 * not (moved, retrained in place, another machine): training needs only the
 * ids, and sample will then ask for --tokenizer. */
static void adopt_manifest_tokenizer(qrun *r)
{
    const char *path = r->man.tok_path;
    char why[512], hash[17] = "";
    qvocab v;
    qvocab_init(&v);
    int loaded = qvocab_load(&v, path, why, sizeof why) == 0;
    if (loaded) qvocab_hash(&v, hash);
    int same = loaded && v.n_ids == r->man.vocab_size && v.eot == r->man.eot &&
               (!r->man.tok_hash[0] || !strcmp(hash, r->man.tok_hash));
    if (same)
        snprintf(r->st.tok_spec, sizeof r->st.tok_spec, "%s", path);
    else
        fprintf(stderr, "quern train: note: the manifest's tokenizer %s: %s; `quern sample` will "
                "need --tokenizer\n", path, loaded ? "not the vocabulary the data was tokenized with "
                "(hash, size or EOT differs)" : why);
    qvocab_free(&v);
}

int qrun_setup(qrun *r)
{
    const qtrain_opts *o = r->o;
    char err[1024];
    const char *data = o->data;
    if (o->resume) {
        char file[4200];
        if (qckpt_read(o->resume, &r->st, &r->ck_params, &r->ck_m, &r->ck_v, file, sizeof file,
                       err, sizeof err)) {
            qerr_at(o->resume, "0", "%s", err);
            return QEXIT_BADINPUT;
        }
        printf("resuming from %s at step %ld of %ld\n", file, r->st.step, r->st.total_steps);
        if (!data) data = r->st.manifest;
    }
    /* run settings: given > the checkpoint's > defaults */
    qckpt_meta *st = &r->st;
    if (!o->resume) {
        st->ckpt_every = 0;
        st->keep = 3;
        st->eval_every = 0;
        st->eval_tokens = 32768;
    }
    if (o->ckpt_every >= 0) st->ckpt_every = o->ckpt_every;
    if (o->keep >= 0) st->keep = o->keep;
    if (o->eval_every >= 0) st->eval_every = o->eval_every;
    if (o->eval_tokens >= 0) st->eval_tokens = o->eval_tokens;
    if (!data || !*data) {
        qerr("--data DIR/manifest.json is required");
        return QEXIT_USAGE;
    }
    if (qmanifest_read(&r->man, data, err, sizeof err)) {
        qerr_at(data, "0", "%s", err);
        return QEXIT_BADINPUT;
    }
    char real[PATH_MAX];
    const char *dir = r->man.dir ? r->man.dir : ".";
    snprintf(r->manifest_path, sizeof r->manifest_path, "%s/manifest.json",
             realpath(dir, real) ? real : dir);
    snprintf(r->st.manifest, sizeof r->st.manifest, "%s", r->manifest_path);
    if (o->resume && (r->man.vocab_size != r->st.tok_vocab || r->man.eot != r->st.eot)) {
        qerr_at(r->manifest_path, "tokenizer", "vocabulary %" PRIu64 "/EOT %u differs from the "
                "checkpoint's %" PRIu64 "/%u", r->man.vocab_size, r->man.eot, r->st.tok_vocab, r->st.eot);
        return QEXIT_BADINPUT;
    }
    if (o->tokenizer && check_tokenizer(r)) return QEXIT_BADINPUT;
    if (!o->tokenizer && !r->st.tok_spec[0] && r->man.tok_path) adopt_manifest_tokenizer(r);
    if (o->verify && qmanifest_verify(&r->man, err, sizeof err)) {
        qerr_at(r->manifest_path, "shards", "%s", err);
        return QEXIT_BADINPUT;
    }
    if (o->out) {
        snprintf(r->out, sizeof r->out, "%s", o->out);
    } else if (o->resume) {
        struct stat sb;
        snprintf(r->out, sizeof r->out, "%s", o->resume);
        if (!stat(o->resume, &sb) && !S_ISDIR(sb.st_mode)) {
            char *slash = strrchr(r->out, '/');
            if (slash) *slash = 0;
            else snprintf(r->out, sizeof r->out, ".");
        }
    } else {
        qerr("-o DIR (the run directory) is required");
        return QEXIT_USAGE;
    }
    if (qmkdirs(r->out)) {
        qerr_at(r->out, "0", "cannot create the run directory: %s", strerror(errno));
        return QEXIT_BADINPUT;
    }
    /* a fresh run must not mix its checkpoints with an earlier run's */
    if (!o->resume) {
        DIR *d = opendir(r->out);
        struct dirent *e;
        int found = 0;
        while (d && (e = readdir(d))) {
            long step;
            char tail[8];
            if (sscanf(e->d_name, "ckpt_%ld.%7s", &step, tail) != 2 || strcmp(tail, "bin")) continue;
            if (!o->force) {
                found = 1;
                break;
            }
            char path[8400];
            snprintf(path, sizeof path, "%s/%s", r->out, e->d_name);
            unlink(path);
        }
        if (d) closedir(d);
        if (found) {
            qerr_at(r->out, "0", "holds checkpoints of an earlier run: --resume %s to continue it, "
                    "or --force to start afresh", r->out);
            return QEXIT_USAGE;
        }
    }
    return 0;
}

static double unigram_entropy(const qloader *ld, uint32_t vocab)
{
    uint64_t n = ld->total_tokens < (1u << 24) ? ld->total_tokens : (1u << 24);
    uint64_t *counts = calloc(vocab, sizeof *counts);
    for (uint64_t i = 0; i < n; i++) {
        uint32_t t = qloader_token(ld, i);
        if (t < vocab) counts[t]++;
    }
    double h = 0;
    for (uint32_t v = 0; v < vocab; v++)
        if (counts[v]) {
            double p = (double)counts[v] / (double)n;
            h -= p * log(p);
        }
    free(counts);
    return h;
}

const char *qrun_device_label(const qrun *r)
{
    const qcuda_plugin *pl = !strcmp(r->be->name, "cuda") ? qcuda_plugin_load(NULL, 0) : NULL;
    if (pl) return pl->device_name(r->be);
    return r->be->name;
}

int qrun_prepare(qrun *r)
{
    qckpt_meta *st = &r->st;
    char err[1024];
    if (qloader_open(&r->train, &r->man, "train", st->T, 1, st->seed, err, sizeof err)) {
        qerr_at(r->manifest_path, "train split", "%s", err);
        return QEXIT_BADINPUT;
    }
    r->train.epoch = st->loader_epoch;
    r->train.index = st->loader_index;
    int any_val = 0;
    for (size_t i = 0; i < r->man.n_shards; i++) any_val |= !strcmp(r->man.shards[i].split, "val");
    if (any_val) {
        if (qloader_open(&r->val, &r->man, "val", st->T, 0, 0, err, sizeof err))
            fprintf(stderr, "quern train: no validation: %s\n", err);
        else
            r->has_val = 1;
    } else {
        fprintf(stderr, "quern train: the manifest has no val split; no validation loss\n");
    }
    qbackend_opts bo = { r->o->recompute };
    int usage;
    r->be = qbackend_create_opts(r->o->device, &st->cfg, st->B, st->T, &bo, &usage, err, sizeof err);
    if (!r->be) {
        qerr("%s", err);
        return usage ? QEXIT_USAGE : QEXIT_BADINPUT;
    }
    if (r->ck_params) {
        r->be->set_state(r->be, r->ck_params, r->ck_m, r->ck_v);
    } else {
        qgpt_layout lay;
        qgpt_layout_init(&lay, &st->cfg);
        float *p = malloc(lay.total * sizeof(float));
        if (!p) {
            qerr("out of memory for %zu parameters", lay.total);
            return QEXIT_BADINPUT;
        }
        qgpt_init_params(&st->cfg, &lay, p, st->seed);
        r->be->set_state(r->be, p, NULL, NULL);
        free(p);
    }
    free(r->ck_params);
    free(r->ck_m);
    free(r->ck_v);
    r->ck_params = r->ck_m = r->ck_v = NULL;
    size_t n = (size_t)st->B * st->T;
    r->inputs = malloc(n * sizeof(int32_t));
    r->targets = malloc(n * sizeof(int32_t));
    r->unigram = unigram_entropy(&r->train, (uint32_t)st->cfg.vocab_size);
    return 0;
}

double qrun_probe(qrun *r)
{
    uint64_t epoch = r->train.epoch, index = r->train.index;
    char err[256];
    double secs = 0;
    if (!qloader_next(&r->train, r->st.B, r->inputs, r->targets, err, sizeof err)) {
        double t0 = qtrain_now();
        r->be->forward(r->be, r->inputs, r->targets, r->st.B, r->st.T);
        r->be->backward(r->be, 1.0f);
        secs = qtrain_now() - t0;
        r->be->zero_grad(r->be);
    }
    r->train.epoch = epoch;
    r->train.index = index;
    return secs;
}

/* ---- the log ---- */

static void push_hist(long **s, float **v, size_t *n, size_t *cap, long step, float val)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 256;
        *s = realloc(*s, *cap * sizeof **s);
        *v = realloc(*v, *cap * sizeof **v);
    }
    (*s)[*n] = step;
    (*v)[*n] = val;
    (*n)++;
}

/* On resume, keep the log lines up to the checkpoint's step (a run that died
 * after its last checkpoint logged steps that will now be redone). */
static int cut_log(qrun *r, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    strbuf kept = STRBUF_INIT;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) > 0) {
        qjson *j = qjson_parse(line, (size_t)len, NULL, 0);
        if (!j) continue;
        const qjson *step = qjson_get(j, "step");
        long s = (long)qjson_num(step, -1);
        if (!qjson_get(j, "event") && s > r->st.step) {
            qjson_free(j);
            continue;
        }
        if (qjson_get(j, "loss")) push_hist(&r->hs, &r->hl, &r->hn, &r->hcap, s, (float)qjson_num(qjson_get(j, "loss"), NAN));
        if (qjson_get(j, "val_loss")) push_hist(&r->vs, &r->vl, &r->vn, &r->vcap, s, (float)qjson_num(qjson_get(j, "val_loss"), NAN));
        sb_add(&kept, line, (size_t)len);
        qjson_free(j);
    }
    free(line);
    fclose(f);
    char err[512];
    int rc = qout_write_file(path, kept.buf ? kept.buf : "", kept.len, err, sizeof err);
    sb_free(&kept);
    if (rc) qerr("%s", err);
    return rc ? QEXIT_BADINPUT : 0;
}

int qrun_open_log(qrun *r)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/log.jsonl", r->out);
    if (r->st.step > 0 && cut_log(r, path)) return QEXIT_BADINPUT;
    r->log = fopen(path, r->st.step > 0 ? "a" : "w");
    if (!r->log) {
        qerr_at(path, "0", "%s", strerror(errno));
        return QEXIT_BADINPUT;
    }
    const qckpt_meta *st = &r->st;
    double fpt = qgpt_flops_per_token(&st->cfg, st->T);
    fprintf(r->log, "{\"event\":\"%s\",\"step\":%ld,\"params\":%" PRIu64 ",\"tokens\":%" PRIu64
                    ",\"steps\":%ld,\"batch_tokens\":%" PRIu64 ",\"flops\":%.6g,"
                    "\"unigram_entropy\":%.9g,\"device\":\"%s\",\"threads\":%d}\n",
            st->step ? "resume" : "plan", st->step, qgpt_num_params(&st->cfg), st->tokens_planned,
            st->total_steps, (uint64_t)st->B * st->T * st->accum, fpt * (double)st->tokens_planned,
            r->unigram, qrun_device_label(r), omp_get_max_threads());
    fflush(r->log);
    return 0;
}

void qrun_log_step(qrun *r, long step, float loss, double lr, double norm, double secs,
                   double tokens_per_s, double mfu)
{
    fprintf(r->log, "{\"step\":%ld,\"tokens\":%" PRIu64 ",\"loss\":%.9g,\"lr\":%.9g,"
                    "\"grad_norm\":%.9g,\"ms\":%.3f,\"tokens_per_s\":%.1f,\"mfu\":",
            step, r->st.tokens_done, loss, lr, norm, secs * 1e3, tokens_per_s);
    if (mfu >= 0) fprintf(r->log, "%.5f}\n", mfu);
    else fprintf(r->log, "null}\n");
    fflush(r->log);
    push_hist(&r->hs, &r->hl, &r->hn, &r->hcap, step, loss);
}

int qrun_evaluate(qrun *r, long step)
{
    const qckpt_meta *st = &r->st;
    uint64_t micro = (uint64_t)st->B * st->T;
    long batches = (long)((uint64_t)r->st.eval_tokens / micro);
    if (batches < 1) batches = 1;
    qloader_rewind(&r->val);
    double sum = 0;
    char err[512];
    for (long i = 0; i < batches; i++) {
        if (qloader_next(&r->val, st->B, r->inputs, r->targets, err, sizeof err)) {
            qerr_at(r->manifest_path, "val split", "%s", err);
            return QEXIT_BADINPUT;
        }
        sum += r->be->forward(r->be, r->inputs, r->targets, st->B, st->T);
    }
    float val = (float)(sum / batches);
    r->last_val = val;
    printf("step %ld: validation loss %.4f (%" PRIu64 " tokens)\n", step, val, (uint64_t)batches * micro);
    fprintf(r->log, "{\"step\":%ld,\"val_loss\":%.9g,\"val_tokens\":%" PRIu64 "}\n", step, val,
            (uint64_t)batches * micro);
    fflush(r->log);
    push_hist(&r->vs, &r->vl, &r->vn, &r->vcap, step, val);
    return 0;
}

int qrun_checkpoint(qrun *r)
{
    qgpt_layout lay;
    qgpt_layout_init(&lay, &r->st.cfg);
    float *p = malloc(lay.total * sizeof(float)), *m = malloc(lay.total * sizeof(float));
    float *v = malloc(lay.total * sizeof(float));
    char err[1024], path[4200];
    int rc = 0;
    if (!p || !m || !v) {
        qerr("out of memory writing a checkpoint");
        rc = QEXIT_BADINPUT;
    } else {
        r->be->get_state(r->be, p, m, v);
        if (qckpt_write(r->out, &r->st, p, m, v, (int)r->st.keep, path, sizeof path, err, sizeof err)) {
            qerr("%s", err);
            rc = QEXIT_BADINPUT;
        } else {
            printf("checkpoint %s\n", path);
        }
    }
    free(p);
    free(m);
    free(v);
    return rc;
}

int qrun_finish(qrun *r)
{
    const qckpt_meta *st = &r->st;
    printf("%s: %ld steps, %" PRIu64 " tokens consumed (plan %" PRIu64 ")",
           r->stopped ? "stopped" : "done", st->step,
           st->tokens_done, st->tokens_planned);
    if (r->hn) printf(", final training loss %.4f", r->hl[r->hn - 1]);
    if (r->vn) printf(", validation loss %.4f", r->vl[r->vn - 1]);
    printf(" (unigram entropy %.4f)\n", r->unigram);
    if (!r->stopped && st->tokens_done != st->tokens_planned) {
        qerr("consumed %" PRIu64 " tokens but planned %" PRIu64, st->tokens_done, st->tokens_planned);
        return QEXIT_BADINPUT;
    }
    char path[4200], err[512], title[256];
    snprintf(path, sizeof path, "%s/loss.svg", r->out);
    snprintf(title, sizeof title, "quern train: %d layers, width %d, %" PRIu64 " tokens",
             st->cfg.n_layer, st->cfg.n_embd, st->tokens_planned);
    if (qplot_loss_svg(path, r->hs, r->hl, r->hn, r->vs, r->vl, r->vn, r->unigram,
                       "unigram entropy", title, err, sizeof err)) {
        qerr("%s", err);
        return QEXIT_BADINPUT;
    }
    printf("wrote %s/log.jsonl and %s\n", r->out, path);
    if (r->stats) {
        qstats *s = r->stats;
        qstats_set_int(s, "params", (int64_t)qgpt_num_params(&st->cfg));
        qstats_set_int(s, "steps", st->step);
        qstats_set_int(s, "steps_planned", st->total_steps);
        qstats_set_int(s, "tokens", (int64_t)st->tokens_done);
        qstats_set_int(s, "tokens_planned", (int64_t)st->tokens_planned);
        qstats_set_num(s, "flops", qgpt_flops_per_token(&st->cfg, st->T) * (double)st->tokens_planned);
        if (r->hn) qstats_set_num(s, "final_loss", r->hl[r->hn - 1]);
        if (r->vn) qstats_set_num(s, "val_loss", r->vl[r->vn - 1]);
        qstats_set_num(s, "unigram_entropy", r->unigram);
        qstats_set_num(s, "train_seconds", r->elapsed);
        qstats_set_str(s, "device", r->be->name);
        if (qstats_write(s, r->o->stats)) return QEXIT_BADINPUT;
    }
    return 0;
}

void qrun_free(qrun *r)
{
    if (r->stats) qstats_free(r->stats);
    if (r->trace_batches) qout_abort(r->trace_batches);
    if (r->log) fclose(r->log);
    if (r->be) r->be->destroy(r->be);
    if (r->train.shards) qloader_close(&r->train);
    if (r->has_val) qloader_close(&r->val);
    qmanifest_free(&r->man);
    free(r->ck_params);
    free(r->ck_m);
    free(r->ck_v);
    free(r->inputs);
    free(r->targets);
    free(r->hs);
    free(r->hl);
    free(r->vs);
    free(r->vl);
}

/* ---- the reference trace (--trace DIR) ---- */

static int trace_file(qrun *r, const char *name, const void *data, size_t bytes)
{
    char path[4200], err[512];
    snprintf(path, sizeof path, "%s/%s", r->o->trace, name);
    if (qout_write_file(path, data, bytes, err, sizeof err)) {
        qerr("%s", err);
        return -1;
    }
    return 0;
}

int qtrace_start(qrun *r)
{
    const qckpt_meta *st = &r->st;
    const qgpt_config *c = &st->cfg;
    qgpt_layout lay;
    qgpt_layout_init(&lay, c);
    if (qmkdirs(r->o->trace)) {
        qerr_at(r->o->trace, "0", "%s", strerror(errno));
        return QEXIT_BADINPUT;
    }
    strbuf js = STRBUF_INIT;
    sb_addf(&js, "{\"layers\":%d,\"heads\":%d,\"dim\":%d,\"seq\":%d,\"vocab\":%d,\"padded_vocab\":%d,"
                 "\"batch\":%d,\"accum\":%d,\"steps\":%ld,\"beta1\":%.9g,\"beta2\":%.9g,\"eps\":%.9g,"
                 "\"weight_decay\":%.9g,\"clip\":%.9g,\"tensors\":[",
            c->n_layer, c->n_head, c->n_embd, c->seq_len, c->vocab_size, c->padded_vocab, st->B,
            st->accum, st->total_steps, st->adamw.beta1, st->adamw.beta2, st->adamw.eps,
            st->adamw.weight_decay, st->clip);
    for (int i = 0; i < QP_NTENSORS; i++)
        sb_addf(&js, "%s{\"name\":\"%s\",\"offset\":%zu,\"size\":%zu,\"decay\":%d}", i ? "," : "",
                qgpt_tensor_name(i), lay.offset[i], lay.size[i], qgpt_tensor_decays(i));
    sb_adds(&js, "]}\n");
    int rc = trace_file(r, "config.json", js.buf, js.len);
    sb_free(&js);
    float *p = malloc(lay.total * sizeof(float));
    r->be->get_state(r->be, p, NULL, NULL);
    if (!rc) rc = trace_file(r, "params0.f32", p, lay.total * sizeof(float));
    free(p);
    char path[4200], err[512];
    snprintf(path, sizeof path, "%s/batches.i32", r->o->trace);
    if (!rc && !(r->trace_batches = qout_open(path, QOUT_PLAIN, err, sizeof err))) {
        qerr("%s", err);
        rc = -1;
    }
    r->trace = !rc;
    return rc ? QEXIT_BADINPUT : 0;
}

int qtrace_batch(qrun *r, long step, int micro)
{
    size_t n = (size_t)r->st.B * r->st.T;
    if (qout_write(r->trace_batches, r->inputs, n * sizeof(int32_t)) ||
        qout_write(r->trace_batches, r->targets, n * sizeof(int32_t)))
        return -1;
    if (step == 1 && micro == 0) {
        size_t nl = n * (size_t)r->st.cfg.padded_vocab;
        float *logits = malloc(nl * sizeof(float));
        r->be->forward(r->be, r->inputs, NULL, r->st.B, r->st.T);
        r->be->get_logits(r->be, logits);
        int rc = trace_file(r, "logits1.f32", logits, nl * sizeof(float));
        free(logits);
        if (rc) return -1;
    }
    return 0;
}

int qtrace_finish(qrun *r)
{
    char err[512];
    void *o = r->trace_batches;
    r->trace_batches = NULL;
    if (o && qout_commit(o, err, sizeof err)) {
        qerr("%s", err);
        return QEXIT_BADINPUT;
    }
    return 0;
}

int qtrace_grads(qrun *r)
{
    qgpt_layout lay;
    qgpt_layout_init(&lay, &r->st.cfg);
    float *g = malloc(lay.total * sizeof(float));
    r->be->get_grads(r->be, g);
    int rc = trace_file(r, "grads1.f32", g, lay.total * sizeof(float));
    free(g);
    return rc;
}
