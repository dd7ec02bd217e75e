/* cmd_clean.c - `quern clean`: options, and the batch pipeline that wires the
 * filter cascade (clean.h) to the document reader and writer.
 *
 * The main thread reads raw lines in batches; workers parse them, run the
 * cascade and serialize kept (and rejected) documents into the batch; the
 * main thread writes batches in input order (pool.h), so the output bytes do
 * not depend on -j. Counters are gathered per batch and summed in order. */
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/cli.h"
#include "../common/cli_stream.h"
#include "../common/commands.h"
#include "../common/doc.h"
#include "../common/io.h"
#include "../common/json.h"
#include "../common/linebatch.h"
#include "../common/outfile.h"
#include "../common/pool.h"
#include "../common/progress.h"
#include "clean.h"

#define BATCH_BYTES (1u << 20)
#define BATCH_LINES 4096

static void usage(FILE *f)
{
    fprintf(f,
            "usage: quern clean [options] [inputs...]\n"
            "\n"
            "Run a cascade of quality filters over JSONL documents: size guard, Unicode\n"
            "normalization, URL rules, CLD2 language ID, text regex rules, Gopher\n"
            "repetition, Gopher quality, C4 quality (drops lines), C4 bad words, FineWeb\n"
            "quality, PII replacement - in that fixed order; the first failing filter\n"
            "drops the document. Thresholds, order and reason names follow datatrove.\n"
            "\n"
            "  --preset NAME          fineweb (default), c4, gopher or none\n"
            "  --set F.P=V            set parameter P of filter F (repeatable)\n"
            "  --only LIST            run only these filters (comma-separated)\n"
            "  --skip LIST            do not run these filters\n"
            "  --list                 print every filter, its parameters and defaults\n"
            "  --lang LIST            languages to keep, e.g. en,de (lang.keep; 'all'\n"
            "                         labels without dropping)\n"
            "  --lang-threshold X     keep when a listed language scores > X (0.65)\n"
            "  --pii off|replace      replace e-mails and public IPv4 addresses (off)\n"
            "  --badwords FILE        enable c4_badwords with this word list\n"
            "  --url-blocklist FILE   blocked domains, one per line (subdomains too)\n"
            "  --url-banned FILE      banned URL substrings, one per line\n"
            "  --url-regex FILE       PCRE2 patterns for URLs, one per line\n"
            "  --text-regex FILE      rules 'drop-doc PATTERN' / 'drop-line PATTERN'\n"
            "  --tag                  keep every document; write the reasons it would\n"
            "                         have been dropped into metadata.clean_reasons\n"
            "  --rejected FILE        write dropped documents (as read) with\n"
            "                         metadata.clean_reason and clean_filter\n"
            "  --stats FILE           JSON summary: docs and bytes, drops per reason and\n"
            "                         per filter ('-' = stderr)\n"
            "  -o, --output PATH|DIR  stdout if absent; a file (.zst: zstd); a directory:\n"
            "                         .jsonl.zst shards\n"
            "      --force            redo even if the output file is already complete\n"
            "      --text-field NAME  the member holding the text (default text)\n"
            "  -j, --jobs N           worker threads (default: all cores)\n"
            "      --shard I/N        only the I-th of N slices of the inputs\n"
            "      --strict           stop at the first bad line (exit 1)\n"
            "      --progress         progress line on stderr even when not a terminal\n"
            "  -h, --help             this help\n"
            "\n"
            "Kept documents get metadata lang and lang_score when lang runs. See\n"
            "clean/README.md for the word and sentence splitting the ratios use.\n"
            "Exit: 0 ok, 1 unreadable input or --strict stop, 2 bad usage.\n");
}

/* ---- the batch pipeline ---- */
typedef struct counters {
    uint64_t docs_in, bytes_in, docs_out, bytes_out, bad_lines, repairs;
    uint64_t reason_docs[CR_N], reason_bytes[CR_N];
    uint64_t tagged[CR_N];             /* tag mode: documents that fail each reason */
    uint64_t rewritten_docs[CF_N], lines_dropped[CF_N];
    uint64_t pii_emails, pii_ips, lang_docs;
} counters;

typedef struct batch {
    struct batch *next_free;
    qlinebatch in;
    strbuf out, rej, errs;   /* errs: "index\tmessage\n" for bad lines */
    counters k;
} batch;

typedef struct wstate {
    clean_worker *cw;
    clean_doc cd;
    qdoc d;
    strbuf meta, langm, json;
} wstate;

typedef struct run_ctx {
    const clean_cascade *cc;
    int tag, strict, want_rejected;
    const char *text_field;
    qdoc_reader *r;
    qdoc_writer *w, *rw;
    qprogress *prog;
    wstate *ws;
    qline_feed feed;
    batch *free_list;
    counters total;
    int write_failed;
} run_ctx;

static void recycle(run_ctx *c, batch *b)
{
    qlinebatch_reset(&b->in);
    sb_reset(&b->out);
    sb_reset(&b->rej);
    sb_reset(&b->errs);
    memset(&b->k, 0, sizeof b->k);
    b->next_free = c->free_list;
    c->free_list = b;
}

static void *produce(void *ctx, int *stop)
{
    run_ctx *c = ctx;
    batch *b = c->free_list;
    if (b) c->free_list = b->next_free;
    else if (!(b = calloc(1, sizeof *b))) abort();
    if (qlinebatch_produce(&c->feed, &b->in, BATCH_BYTES, BATCH_LINES, stop)) return b;
    recycle(c, b);
    return NULL;
}

static void put_reasons_json(strbuf *j, const clean_doc *cd)
{
    sb_reset(j);
    sb_addc(j, '[');
    for (int i = 0; i < cd->n_fails; i++) {
        if (i) sb_addc(j, ',');
        const char *n = clean_reason_name(cd->fails[i].reason);
        json_put_str(j, n, strlen(n));
    }
    sb_addc(j, ']');
}

static void set_lang_meta(wstate *s)
{
    if (!s->cd.lang_set) return;
    qdoc_meta_set_str(&s->d, "lang", s->cd.lang, strlen(s->cd.lang));
    sb_reset(&s->json);
    json_put_num(&s->json, s->cd.lang_score);
    qdoc_meta_set_json(&s->d, "lang_score", s->json.buf, s->json.len);
}

static void work(void *item, int worker, void *ctx)
{
    run_ctx *c = ctx;
    batch *b = item;
    wstate *s = &c->ws[worker];
    char err[QERR_LEN];
    sb_grow(&b->out, b->in.data.len + b->in.n);
    for (size_t i = 0; i < b->in.n; i++) {
        const qline_ref *l = &b->in.lines[i];
        qdoc *d = &s->d;
        if (qdoc_parse(d, qlinebatch_line(&b->in, i), l->len, c->text_field, err, sizeof err)) {
            qbadlines_queue(&b->errs, i, err);
            b->k.bad_lines++;
            if (c->strict) {
                b->in.n = i + 1;
                break;
            }
            continue;
        }
        counters *k = &b->k;
        k->docs_in++;
        k->bytes_in += d->text.len;
        k->repairs += d->repairs;
        clean_doc *cd = &s->cd;
        clean_doc_reset(cd);
        sb_add(&cd->text, d->text.buf, d->text.len);
        cd->tag = c->tag;
        cd->utf8_ok = 1;   /* qdoc_parse repaired the text to valid UTF-8 */
        sb_reset(&s->meta);
        cd->url = qdoc_meta_get_str(d, "url", &s->meta) ? s->meta.buf : NULL;
        cd->url_len = s->meta.len;
        /* input metadata lang (for c4_badwords when lang does not run) */
        sb_reset(&s->langm);
        cd->lang_in = qdoc_meta_get_str(d, "lang", &s->langm) ? s->langm.buf : NULL;
        int kept = clean_run(s->cw, cd);
        for (int f = 0; f < CF_N; f++) {
            if (cd->rewritten & (1u << f)) k->rewritten_docs[f]++;
            k->lines_dropped[f] += cd->lines_dropped[f];
        }
        k->pii_emails += cd->pii_emails;
        k->pii_ips += cd->pii_ips;
        k->repairs += cd->utf8_repairs;
        if (cd->lang_set) k->lang_docs++;
        if (c->tag)
            for (int f = 0; f < cd->n_fails; f++) k->tagged[cd->fails[f].reason]++;
        if (kept) {
            if (cd->rewritten) qdoc_set_text(d, cd->text.buf, cd->text.len);
            set_lang_meta(s);
            if (c->tag) {
                put_reasons_json(&s->json, cd);
                qdoc_meta_set_json(d, "clean_reasons", s->json.buf, s->json.len);
            }
            k->docs_out++;
            k->bytes_out += cd->text.len;
            qdoc_serialize(d, &b->out);
        } else {
            k->reason_docs[cd->reason]++;
            k->reason_bytes[cd->reason] += d->text.len;
            if (c->want_rejected) {
                set_lang_meta(s);
                const char *rn = clean_reason_name(cd->reason);
                const char *fn = clean_filter_name(cd->drop_filter);
                qdoc_meta_set_str(d, "clean_reason", rn, strlen(rn));
                qdoc_meta_set_str(d, "clean_filter", fn, strlen(fn));
                qdoc_serialize(d, &b->rej);
            }
        }
    }
}

static void add_counters(counters *t, const counters *k)
{
    const uint64_t *src = (const uint64_t *)k;
    uint64_t *dst = (uint64_t *)t;
    for (size_t i = 0; i < sizeof *k / sizeof(uint64_t); i++) dst[i] += src[i];
}

/* qbadlines_locate for a batch's line i */
static void locate_line(const void *vb, size_t i, const char **name, uint64_t *line_no)
{
    const batch *b = vb;
    *name = b->in.lines[i].name;
    *line_no = b->in.lines[i].line_no;
}

static int consume(void *item, void *ctx)
{
    run_ctx *c = ctx;
    batch *b = item;
    qdoc_reader_report_queue(c->r, &b->errs, locate_line, b);   /* bad lines, in order */
    add_counters(&c->total, &b->k);
    int rc = 0;
    if (b->out.len && qdoc_writer_write(c->w, b->out.buf, b->out.len)) rc = c->write_failed = 1;
    if (c->rw && b->rej.len && qdoc_writer_write(c->rw, b->rej.buf, b->rej.len))
        rc = c->write_failed = 1;
    if (c->strict && b->k.bad_lines) rc = 1;
    qprogress_update(c->prog, qdoc_reader_raw_bytes(c->r), c->total.docs_in);
    recycle(c, b);
    return rc;
}

static void discard(void *item, void *ctx) { recycle(ctx, item); }

static void batch_free(batch *b)
{
    qlinebatch_free(&b->in);
    sb_free(&b->out);
    sb_free(&b->rej);
    sb_free(&b->errs);
    free(b);
}

static int run_pipeline(run_ctx *c, int jobs)
{
    /* CLD2 allocates and frees ~100 KiB per call; without this glibc hands
     * it back to the kernel each time (brk/munmap + page faults), which cost
     * 4x CLD2's own work on short documents. */
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    qline_feed_init(&c->feed, c->r);
    c->ws = calloc((size_t)jobs, sizeof *c->ws);
    if (!c->ws) abort();
    for (int i = 0; i < jobs; i++) {
        c->ws[i].cw = clean_worker_new(c->cc);
        clean_doc_init(&c->ws[i].cd);
        qdoc_init(&c->ws[i].d);
    }
    qpipe_ops ops = { produce, work, consume, discard };
    int rc = qpipe_run(jobs, &ops, c, 0);
    for (int i = 0; i < jobs; i++) {
        clean_worker_free(c->ws[i].cw);
        clean_doc_free(&c->ws[i].cd);
        qdoc_free(&c->ws[i].d);
        sb_free(&c->ws[i].meta);
        sb_free(&c->ws[i].langm);
        sb_free(&c->ws[i].json);
    }
    free(c->ws);
    while (c->free_list) {
        batch *b = c->free_list;
        c->free_list = b->next_free;
        batch_free(b);
    }
    qline_feed_free(&c->feed);
    return rc;
}

static void write_stats(qstats *st, const run_ctx *c, int jobs, const clean_config *cfg)
{
    const counters *t = &c->total;
    qstats_set_int(st, "docs_in", (int64_t)t->docs_in);
    qstats_set_int(st, "bytes_in", (int64_t)t->bytes_in);
    qstats_set_int(st, "docs_out", (int64_t)t->docs_out);
    qstats_set_int(st, "bytes_out", (int64_t)t->bytes_out);
    qstats_set_int(st, "docs_dropped", (int64_t)(t->docs_in - t->docs_out));
    qstats_set_int(st, "raw_bytes_in", (int64_t)qdoc_reader_raw_bytes(c->r));
    qstats_set_int(st, "bad_lines", (int64_t)t->bad_lines);
    qstats_set_int(st, "utf8_repairs", (int64_t)t->repairs);
    qstats_set_int(st, "jobs", jobs);
    qstats_set_str(st, "mode", c->tag ? "tag" : "filter");
    strbuf key = STRBUF_INIT, list = STRBUF_INIT;
    for (int f = 0; f < CF_N; f++)
        if (clean_config_enabled(cfg, f)) {
            if (list.len) sb_addc(&list, ',');
            sb_adds(&list, clean_filter_name(f));
        }
    qstats_set_str(st, "filters_enabled", sb_str(&list));
    /* drops per reason: dropped.<reason>.docs / .bytes (first failure) */
    for (int r = 1; r < CR_N; r++) {
        if (!t->reason_docs[r]) continue;
        sb_reset(&key);
        sb_addf(&key, "dropped.%s.docs", clean_reason_name(r));
        qstats_set_int(st, key.buf, (int64_t)t->reason_docs[r]);
        sb_reset(&key);
        sb_addf(&key, "dropped.%s.bytes", clean_reason_name(r));
        qstats_set_int(st, key.buf, (int64_t)t->reason_bytes[r]);
    }
    /* per filter: drops, bytes, rewrites, lines removed */
    for (int f = 0; f < CF_N; f++) {
        if (!clean_config_enabled(cfg, f)) continue;
        uint64_t docs = 0, bytes = 0;
        for (int r = 1; r < CR_N; r++)
            if (clean_reason_filter(r) == f) {
                docs += t->reason_docs[r];
                bytes += t->reason_bytes[r];
            }
        const char *fn = clean_filter_name(f);
#define PUT(name, v) do { sb_reset(&key); sb_addf(&key, "filters.%s." name, fn); \
                          qstats_set_int(st, key.buf, (int64_t)(v)); } while (0)
        PUT("dropped_docs", docs);
        PUT("dropped_bytes", bytes);
        if (t->rewritten_docs[f]) PUT("rewritten_docs", t->rewritten_docs[f]);
        if (t->lines_dropped[f]) PUT("lines_dropped", t->lines_dropped[f]);
#undef PUT
    }
    if (c->tag)
        for (int r = 1; r < CR_N; r++)
            if (t->tagged[r]) {
                sb_reset(&key);
                sb_addf(&key, "tagged.%s", clean_reason_name(r));
                qstats_set_int(st, key.buf, (int64_t)t->tagged[r]);
            }
    if (clean_config_enabled(cfg, CF_PII)) {
        qstats_set_int(st, "pii.emails", (int64_t)t->pii_emails);
        qstats_set_int(st, "pii.ipv4", (int64_t)t->pii_ips);
    }
    sb_free(&key);
    sb_free(&list);
}

/* ---- options ---- */
static int set_or_fail(clean_config *cfg, const char *filter_param, const char *value)
{
    char buf[1024], err[256];
    snprintf(buf, sizeof buf, "%s=%s", filter_param, value);
    if (clean_config_set(cfg, buf, err, sizeof err)) {
        qerr("%s", err);
        return -1;
    }
    return 0;
}

int cmd_clean(int argc, char **argv)
{
    enum { O_PRESET = 256, O_SET, O_ONLY, O_SKIP, O_LIST, O_LANG, O_LANG_THR, O_PII, O_BADWORDS,
           O_URL_BLOCK, O_URL_BANNED, O_URL_REGEX, O_TEXT_REGEX, O_TAG, O_REJECTED };
    static const struct option longopts[] = {
        { "preset", required_argument, NULL, O_PRESET },
        { "set", required_argument, NULL, O_SET },
        { "only", required_argument, NULL, O_ONLY },
        { "skip", required_argument, NULL, O_SKIP },
        { "list", no_argument, NULL, O_LIST },
        { "lang", required_argument, NULL, O_LANG },
        { "lang-threshold", required_argument, NULL, O_LANG_THR },
        { "pii", required_argument, NULL, O_PII },
        { "badwords", required_argument, NULL, O_BADWORDS },
        { "url-blocklist", required_argument, NULL, O_URL_BLOCK },
        { "url-banned", required_argument, NULL, O_URL_BANNED },
        { "url-regex", required_argument, NULL, O_URL_REGEX },
        { "text-regex", required_argument, NULL, O_TEXT_REGEX },
        { "tag", no_argument, NULL, O_TAG },
        { "rejected", required_argument, NULL, O_REJECTED },
        CLI_OPT_STATS, CLI_OPT_OUTPUT, CLI_OPT_FORCE, CLI_OPT_TEXT_FIELD, CLI_OPT_JOBS,
        CLI_OPT_SHARD, CLI_OPT_STRICT, CLI_OPT_PROGRESS, CLI_OPT_HELP,
        CLI_OPT_END,
    };
    /* Two passes: the preset first (it resets the filter set), then the rest
     * in command-line order, so --set/--only/--skip apply on top of it. */
    const char *preset = "fineweb";
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "o:j:h", longopts, NULL)) != -1)
        if (c == O_PRESET) preset = optarg;
    opterr = 1;

    clean_config *cfg = clean_config_new();
    char err[QERR_LEN];
    int exit_code = QEXIT_USAGE;
    if (clean_config_preset(cfg, preset, err, sizeof err)) {
        qerr("%s", err);
        clean_config_free(cfg);
        return QEXIT_USAGE;
    }
    cli_stream cli;
    cli_stream_init(&cli);
    const char *rejected = NULL;
    int tag = 0, list = 0;
    int pii = -1;

    optind = 1;
    while ((c = cli_stream_getopt(&cli, argc, argv, "o:j:h", longopts)) != -1) {
        switch (c) {
        case CLI_STREAM_BAD: goto out;
        case O_PRESET: break;
        case O_SET:
            if (clean_config_set(cfg, optarg, err, sizeof err)) { qerr("%s", err); goto out; }
            break;
        case O_ONLY: case O_SKIP:
            if (clean_config_select(cfg, optarg, c == O_ONLY, err, sizeof err)) { qerr("%s", err); goto out; }
            break;
        case O_LIST: list = 1; break;
        case O_LANG:
            if (set_or_fail(cfg, "lang.keep", optarg)) goto out;
            break;
        case O_LANG_THR:
            if (set_or_fail(cfg, "lang.threshold", optarg)) goto out;
            break;
        case O_PII:
            if (!strcmp(optarg, "off")) pii = 0;
            else if (!strcmp(optarg, "replace")) pii = 1;
            else { qerr("--pii: '%s' is not off or replace", optarg); goto out; }
            break;
        case O_BADWORDS:
            if (set_or_fail(cfg, "c4_badwords.file", optarg)) goto out;
            clean_config_enable(cfg, CF_C4_BADWORDS, 1);
            break;
        case O_URL_BLOCK:
            if (set_or_fail(cfg, "url.domains", optarg)) goto out;
            clean_config_enable(cfg, CF_URL, 1);
            break;
        case O_URL_BANNED:
            if (set_or_fail(cfg, "url.substrings", optarg)) goto out;
            clean_config_enable(cfg, CF_URL, 1);
            break;
        case O_URL_REGEX:
            if (set_or_fail(cfg, "url.regex", optarg)) goto out;
            clean_config_enable(cfg, CF_URL, 1);
            break;
        case O_TEXT_REGEX:
            if (set_or_fail(cfg, "text_regex.file", optarg)) goto out;
            clean_config_enable(cfg, CF_TEXT_REGEX, 1);
            break;
        case O_TAG: tag = 1; break;
        case O_REJECTED: rejected = optarg; break;
        case 'h':
            usage(stdout);
            exit_code = QEXIT_OK;
            goto out;
        default: usage(stderr); goto out;
        }
    }
    if (pii >= 0) clean_config_enable(cfg, CF_PII, pii);
    qdoc_writer_opts wo = { .out = cli.output, .shard_bytes = 0, .prefix = NULL, .compress = 1 };
    if (list) {
        clean_list(stdout, cfg);
        exit_code = QEXIT_OK;
        goto out;
    }
    if (wo.out && strcmp(wo.out, "-") && !cli.force && qout_is_complete(wo.out)) {
        size_t n = strlen(wo.out);
        if (n && wo.out[n - 1] != '/') {   /* a single output file: a rerun skips it */
            fprintf(stderr, "quern clean: %s is complete; skipping (--force to redo)\n", wo.out);
            exit_code = QEXIT_OK;
            goto out;
        }
    }

    clean_cascade *cc = clean_cascade_new(cfg, err, sizeof err);
    if (!cc) {
        qerr("%s", err);
        exit_code = QEXIT_USAGE;
        goto out;
    }
    exit_code = QEXIT_BADINPUT;
    qinputs inputs;
    if (qinputs_expand(&inputs, argv + optind, argc - optind, cli.shard_i, cli.shard_n, err, sizeof err)) {
        qerr("%s", err);
        clean_cascade_free(cc);
        goto out;
    }
    qdoc_writer *w = qdoc_writer_open(&wo, err, sizeof err);
    qdoc_writer *rw = NULL;
    if (w && rejected) {
        qdoc_writer_opts ro = { .out = rejected, .shard_bytes = 0, .prefix = "rejected", .compress = 1 };
        if (!(rw = qdoc_writer_open(&ro, err, sizeof err))) {
            qdoc_writer_abort(w);
            w = NULL;
        }
    }
    if (!w) {
        qerr("%s", err);
        qinputs_free(&inputs);
        clean_cascade_free(cc);
        goto out;
    }
    qdoc_reader_opts ropts = { .text_field = cli.text_field, .skip_bad = !cli.strict, .max_line = 0 };
    qdoc_reader *r = qdoc_reader_open(inputs.paths, inputs.n, &ropts);
    int64_t total = qdoc_reader_total_raw(r);
    run_ctx rc_ = { .cc = cc, .tag = tag, .strict = cli.strict, .want_rejected = rejected != NULL,
                    .text_field = cli.text_field, .r = r, .w = w, .rw = rw };
    rc_.prog = qprogress_new("clean", total > 0 ? (uint64_t)total : 0, cli.progress);
    int rc = run_pipeline(&rc_, cli.jobs);
    qprogress_finish(rc_.prog);

    exit_code = (rc || rc_.write_failed || qdoc_reader_failed_inputs(r)) ? QEXIT_BADINPUT : QEXIT_OK;
    /* documents read before an input error are kept: commit anyway */
    if (qdoc_writer_close(w, err, sizeof err)) {
        qerr("%s", err);
        exit_code = QEXIT_BADINPUT;
    }
    if (rw && qdoc_writer_close(rw, err, sizeof err)) {
        qerr("%s", err);
        exit_code = QEXIT_BADINPUT;
    }
    if (cli.stats_path) {
        qstats *st = qstats_new("clean");
        qstats_set_int(st, "inputs", (int64_t)inputs.n);
        write_stats(st, &rc_, cli.jobs, cfg);
        if (qstats_write(st, cli.stats_path)) exit_code = QEXIT_BADINPUT;
        qstats_free(st);
    }
    qdoc_reader_close(r);
    qinputs_free(&inputs);
    clean_cascade_free(cc);
out:
    clean_config_free(cfg);
    return exit_code;
}
