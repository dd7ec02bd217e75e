/* train.c - the training run (train.h): set-up from the manifest and the
 * budget (or from a checkpoint), the plan, and the step loop. Logging,
 * evaluation, checkpoints and traces live in train_io.c. */
#include "train.h"

#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/cli.h"
#include "common/outfile.h"
#include "common/progress.h"
#include "cuda_plugin.h"
#include "train_run.h"

void qtrain_opts_default(qtrain_opts *o)
{
    memset(o, 0, sizeof *o);
    o->vocab_pad = 128;
    o->batch = 4;
    o->seq = 0;
    o->schedule = QSCHED_COSINE;
    o->lr = 6e-4;
    o->min_lr_frac = 0.1;
    o->warmup = -1;
    o->decay_frac = 0.2;
    qadamw hp = QADAMW_DEFAULTS;
    o->adamw = hp;
    o->clip = 1.0f;
    o->seed = 1337;
    o->ckpt_every = o->keep = o->eval_every = o->eval_tokens = -1;
    o->device = "auto";
    o->print_every = 1;
    o->verify = 1;
}

double qtrain_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void fmt_duration(char *buf, size_t n, double s)
{
    long t = (long)(s + 0.5);
    snprintf(buf, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
}

static void fmt_count(char *buf, size_t n, uint64_t v)
{
    char raw[32];
    snprintf(raw, sizeof raw, "%" PRIu64, v);
    size_t len = strlen(raw), k = 0;
    for (size_t i = 0; i < len && k + 2 < n; i++) {
        if (i && (len - i) % 3 == 0) buf[k++] = ',';
        buf[k++] = raw[i];
    }
    buf[k] = 0;
}

/* Model, batch shape and plan of a fresh run, from the options and manifest. */
static int plan_fresh(qrun *r)
{
    const qtrain_opts *o = r->o;
    qckpt_meta *st = &r->st;
    qgpt_config *cfg = &st->cfg;
    memset(cfg, 0, sizeof *cfg);
    if (o->preset && qgpt_preset(o->preset, cfg)) {
        qerr("unknown model '%s' (d6, d12, d24, d36, d48)", o->preset);
        return QEXIT_USAGE;
    }
    if (o->layers) cfg->n_layer = o->layers;
    if (o->heads) cfg->n_head = o->heads;
    if (o->dim) cfg->n_embd = o->dim;
    if (!cfg->n_layer || !cfg->n_head || !cfg->n_embd) {
        qerr("choose a model: --model d6|d12|d24|d36|d48, or --layers, --heads and --dim");
        return QEXIT_USAGE;
    }
    cfg->seq_len = o->seq ? o->seq : 1024;
    if (r->man.vocab_size < 2 || r->man.vocab_size > INT_MAX / 2 || r->man.eot >= r->man.vocab_size) {
        qerr_at(r->manifest_path, "tokenizer", "vocabulary size %" PRIu64 " / EOT %u unusable",
                r->man.vocab_size, r->man.eot);
        return QEXIT_BADINPUT;
    }
    qgpt_set_vocab(cfg, (int)r->man.vocab_size, o->vocab_pad);
    const char *why = qgpt_config_error(cfg);
    if (why) {
        qerr("%s", why);
        return QEXIT_USAGE;
    }
    st->B = o->batch;
    st->T = cfg->seq_len;
    uint64_t micro = (uint64_t)st->B * st->T;
    uint64_t bt = o->batch_tokens ? o->batch_tokens : micro;
    if (bt % micro) {
        qerr("--batch-tokens %" PRIu64 " is not a multiple of batch x seq = %" PRIu64, bt, micro);
        return QEXIT_USAGE;
    }
    st->accum = (int)(bt / micro);

    double N = (double)qgpt_num_params(cfg), D;
    if (o->steps > 0) {
        D = (double)o->steps * (double)bt;
        r->d_source = "--steps";
    } else if (o->tokens > 0) {
        D = o->tokens;
        r->d_source = "--tokens";
    } else if (r->man.has_budget && r->man.budget_tokens > 0) {
        D = r->man.budget_tokens;
        r->d_source = "the manifest's budget";
    } else {
        D = 20.0 * N;
        r->d_source = "20 N (Chinchilla; the manifest has no budget)";
    }
    r->d_requested = D;
    long steps = (long)llround(D / (double)bt);
    if (steps < 1) steps = 1;
    st->total_steps = steps;
    st->tokens_planned = (uint64_t)steps * bt;
    st->step = 0;
    st->tokens_done = 0;
    st->seed = o->seed;
    qrng_seed(&st->rng, o->seed);
    st->adamw = o->adamw;
    st->clip = o->clip;
    st->sched.kind = o->schedule;
    st->sched.lr = o->lr;
    st->sched.min_lr = o->lr * o->min_lr_frac;
    st->sched.warmup = o->warmup >= 0 ? o->warmup : (steps * 5 + 99) / 100;
    if (st->sched.warmup > steps) st->sched.warmup = steps;
    st->sched.total = steps;
    st->sched.decay_frac = o->decay_frac;
    snprintf(st->tok_name, sizeof st->tok_name, "%s", r->man.tok_name ? r->man.tok_name : "");
    st->tok_vocab = r->man.vocab_size;
    st->eot = r->man.eot;
    memcpy(st->tok_hash, r->man.tok_hash, sizeof st->tok_hash);
    return 0;
}

static void print_plan(qrun *r, double probe_s)
{
    const qckpt_meta *st = &r->st;
    const qgpt_config *c = &st->cfg;
    uint64_t bt = (uint64_t)st->B * st->T * st->accum;
    double N = (double)qgpt_num_params(c), D = (double)st->tokens_planned;
    double fpt = qgpt_flops_per_token(c, st->T);
    char nb[32], db[32], tb[32], vb[32], btb[32];
    fmt_count(nb, sizeof nb, (uint64_t)N);
    fmt_count(db, sizeof db, st->tokens_planned);
    fmt_count(tb, sizeof tb, r->train.total_tokens);
    fmt_count(vb, sizeof vb, r->has_val ? r->val.total_tokens : 0);
    fmt_count(btb, sizeof btb, bt);
    printf("plan:\n");
    printf("  model       %d layers, %d heads, width %d, context %d, vocabulary %d (padded to %d)\n",
           c->n_layer, c->n_head, c->n_embd, c->seq_len, c->vocab_size, c->padded_vocab);
    printf("  parameters  N = %s (%.3g)\n", nb, N);
    if (r->d_source)
        printf("  tokens      D = %s (%.3g; from %s%s)\n", db, D, r->d_source,
               fabs(r->d_requested - D) > 0.5 ? ", rounded to whole steps" : "");
    else
        printf("  tokens      D = %s (%.3g; the checkpoint's plan)\n", db, D);
    printf("  steps       %ld x %s tokens (micro-batch %d x %d, %d accumulation%s)\n",
           st->total_steps, btb, st->B, st->T, st->accum, st->accum == 1 ? "" : "s");
    printf("  FLOPs       %.3g = 6 N D %.3g + attention 6 L C T D %.3g\n", fpt * D, 6 * N * D,
           (fpt - 6 * N) * D);
    printf("  data        train %s tokens (%.2f epochs), validation %s tokens; "
           "unigram entropy %.4f nats/token\n", tb,
           D / (double)(r->train.n_windows * (uint64_t)st->T), vb, r->unigram);
    printf("  optimizer   AdamW lr %.3g (%s, warm-up %ld, final %.3g), betas %.3g/%.3g, "
           "weight decay %.3g, clip %.3g\n", st->sched.lr, qsched_name(st->sched.kind),
           st->sched.warmup, st->sched.min_lr, st->adamw.beta1, st->adamw.beta2,
           st->adamw.weight_decay, st->clip);
    char eta[32];
    long left = st->total_steps - st->step;
    fmt_duration(eta, sizeof eta, probe_s * st->accum * left);
    if (!strcmp(r->be->name, "cpu"))
        printf("  device      cpu, %d threads\n", omp_get_max_threads());
    else
        printf("  device      %s (%s)\n", r->be->name, qrun_device_label(r));
    printf("  estimate    %s for %ld steps (from a timed first micro-batch: %.0f ms)\n", eta, left,
           probe_s * 1e3);
    fflush(stdout);
}

/* One optimizer step: accumulate gradients over the micro-batches, clip,
 * update. Returns 0 or an exit code. */
static int train_step(qrun *r, long step, float *loss_out, double *norm_out, double *lr_out)
{
    qckpt_meta *st = &r->st;
    qbackend *be = r->be;
    char err[512];
    be->zero_grad(be);
    double loss_sum = 0.0;
    for (int a = 0; a < st->accum; a++) {
        if (qloader_next(&r->train, st->B, r->inputs, r->targets, err, sizeof err)) {
            qerr_at(r->manifest_path, "train split", "%s", err);
            return QEXIT_BADINPUT;
        }
        if (r->trace && qtrace_batch(r, step, a)) return QEXIT_BADINPUT;
        loss_sum += be->forward(be, r->inputs, r->targets, st->B, st->T);
        be->backward(be, 1.0f / (float)st->accum);
    }
    if (r->trace && step == 1 && qtrace_grads(r)) return QEXIT_BADINPUT;
    double norm = be->grad_norm(be);
    double lr = qsched_lr(&st->sched, step);
    be->update(be, &st->adamw, (float)lr, qclip_scale(norm, st->clip), step);
    st->loader_epoch = r->train.epoch;
    st->loader_index = r->train.index;
    st->tokens_done += (uint64_t)st->B * st->T * st->accum;
    st->step = step;
    *loss_out = (float)(loss_sum / st->accum);
    *norm_out = norm;
    *lr_out = lr;
    return 0;
}

static int run_loop(qrun *r)
{
    qckpt_meta *st = &r->st;
    const qtrain_opts *o = r->o;
    double fpt = qgpt_flops_per_token(&st->cfg, st->T);
    uint64_t bt = (uint64_t)st->B * st->T * st->accum;
    double peak = o->peak;
    /* a "cuda" backend came from the plugin, which is loaded by then */
    const qcuda_plugin *pl = !strcmp(r->be->name, "cuda") ? qcuda_plugin_load(NULL, 0) : NULL;
    if (peak <= 0 && pl) {
        peak = pl->peak_flops(r->be);
        if (peak <= 0)
            fprintf(stderr, "quern train: unknown GPU '%s': pass --peak to report MFU\n",
                    pl->device_name(r->be));
    }
    double t_start = qtrain_now(), measured = 0;
    long measured_steps = 0, first = st->step + 1;
    for (long step = first; step <= st->total_steps; step++) {
        double t0 = qtrain_now();
        float loss;
        double norm, lr;
        int rc = train_step(r, step, &loss, &norm, &lr);
        if (rc) return rc;
        double dt = qtrain_now() - t0;
        if (!isfinite(loss)) {
            qerr("step %ld: the loss is %f; stopping (lower --lr?)", step, loss);
            return QEXIT_BADINPUT;
        }
        if (step > first) { /* the first step pays for page faults and thread start-up */
            measured += dt;
            measured_steps++;
        }
        double tps = (double)bt / dt, mfu = peak > 0 ? fpt * tps / peak : -1;
        qrun_log_step(r, step, loss, lr, norm, dt, tps, mfu);
        if (o->print_every > 0 && (step % o->print_every == 0 || step == first || step == st->total_steps)) {
            printf("step %*ld/%ld | loss %.4f | lr %.3e | norm %.3f | %.0f tok/s | %.0f ms",
                   (int)snprintf(NULL, 0, "%ld", st->total_steps), step, st->total_steps, loss, lr,
                   norm, tps, dt * 1e3);
            if (mfu >= 0) printf(" | MFU %.1f%%", mfu * 100);
            printf("\n");
        }
        if (measured_steps == 3 && step < st->total_steps) {
            char eta[32];
            fmt_duration(eta, sizeof eta, measured / measured_steps * (double)(st->total_steps - step));
            printf("estimate: %.0f ms/step measured, %s to go\n", measured / measured_steps * 1e3, eta);
        }
        fflush(stdout);
        int stop = o->stop_at > 0 && step == o->stop_at && step < st->total_steps;
        int last = step == st->total_steps;
        if (r->has_val && ((st->eval_every > 0 && step % st->eval_every == 0) || last)) {
            if ((rc = qrun_evaluate(r, step))) return rc;
        }
        if ((st->ckpt_every > 0 && step % st->ckpt_every == 0) || last || stop) {
            if ((rc = qrun_checkpoint(r))) return rc;
        }
        if (stop) {
            printf("stopped at step %ld of %ld as asked (--stop-at); continue with --resume %s\n",
                   step, st->total_steps, r->out);
            r->stopped = 1;
            break;
        }
    }
    r->elapsed = qtrain_now() - t_start;
    return 0;
}

int qtrain_run(const qtrain_opts *o)
{
    qrun r;
    memset(&r, 0, sizeof r);
    r.o = o;
    r.unigram = NAN;
    qmanifest_init(&r.man);
    if (o->threads > 0) omp_set_num_threads(o->threads);
    if (o->stats) r.stats = qstats_new("train");
    int rc = qrun_setup(&r);
    if (!rc && !o->resume) rc = plan_fresh(&r);
    if (!rc) rc = qrun_prepare(&r);
    if (!rc) {
        double probe = qrun_probe(&r);
        print_plan(&r, probe);
        rc = qrun_open_log(&r);
        if (!rc && r.st.step == 0 && o->trace) rc = qtrace_start(&r);
        if (!rc && r.st.step >= r.st.total_steps) printf("the checkpoint is already at the end of its plan\n");
        if (!rc) rc = run_loop(&r);
        if (!rc && r.trace) rc = qtrace_finish(&r);
        if (!rc) rc = qrun_finish(&r);
    }
    qrun_free(&r);
    return rc;
}
