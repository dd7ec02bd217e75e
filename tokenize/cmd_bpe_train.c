/* cmd_bpe_train.c - `quern bpe train`: count pieces on worker threads (in
 * input order, so the result is the same at any -j), learn the merges, and
 * write DIR/NAME.tiktoken (+ .json sidecar) and DIR/tokenizer.json. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "../common/cli.h"
#include "../common/cli_stream.h"
#include "../common/io.h"
#include "../common/outfile.h"
#include "../common/progress.h"
#include "../common/utf8.h"
#include "bpe.h"
#include "bpe_train.h"
#include "docpass.h"

static void usage(FILE *f)
{
    fprintf(f,
        "usage: quern bpe train --vocab-size V -o DIR [options] [inputs...]\n\n"
        "Learn a byte-level BPE vocabulary (tiktoken semantics) from JSONL documents or text.\n"
        "Writes DIR/NAME.tiktoken, DIR/NAME.tiktoken.json (pattern, special tokens) and\n"
        "DIR/tokenizer.json (Hugging Face). Use the result with `quern tokenize --vocab DIR`.\n\n"
        "  --vocab-size V       total vocabulary size, special tokens included (>= 256 + specials)\n"
        "  -o, --output DIR     output directory (created)\n"
        "  --name NAME          file name and tokenizer name (default: bpe)\n"
        "  --pattern P          split pattern: gpt2, cl100k_base, o200k_base or a regex\n"
        "                       (default: cl100k_base)\n"
        "  --special TEXT       a special token (repeatable; default: <|endoftext|>)\n"
        "  --no-special         no special tokens\n"
        "  --min-count N        stop when the best pair occurs fewer than N times (default 2)\n"
        "  --max-memory SIZE    bound for the piece counts (default 4G); the rarest pieces are\n"
        "                       pruned when it is reached, and reported\n"
        "  --format jsonl|text  jsonl (default): the text field of each line; text: each line,\n"
        "                       newline included, is one document\n"
        "  --text-field F       JSON field holding the text (default: text)\n"
        "  -j N                 counting threads (default: all cores); output is the same at any N\n"
        "  --stats FILE         JSON summary; --progress forces the progress line\n\n"
        "Merging: most frequent pair first; ties go to the smallest (left id, right id). A pair\n"
        "whose bytes are already a token merges into that token (no duplicates).\n\n"
        "Exit: 0 ok; 1 an input that cannot be read, bad lines skipped (the first of each\n"
        "input reported, the rest counted), the split pattern's resource limit hit, or an\n"
        "output that cannot be written; 2 bad usage.\n");
}

typedef struct train_item {
    qdocpass_item base;
    qbpe_counter *counts;
    int engine_failed;
} train_item;

typedef struct worker_state {
    qpretok_scratch *pt;
    strbuf fixed;
} worker_state;

typedef struct train_ctx {
    const qpretok *pt;
    worker_state *ws;
    qbpe_counter *global;
    int engine_failed;
} train_ctx;

static void train_begin(void *vctx, qdocpass_item *base, int worker)
{
    (void)vctx;
    (void)worker;
    ((train_item *)base)->counts = qbpe_counter_new(0);
}

static void train_doc(void *vctx, qdocpass_item *base, int worker, const char *text, size_t len)
{
    train_ctx *c = vctx;
    train_item *it = (train_item *)base;
    worker_state *w = &c->ws[worker];
    if (utf8_valid_prefix(text, len) != len) {
        sb_reset(&w->fixed);
        base->repairs += utf8_repair(&w->fixed, text, len);
        text = w->fixed.buf;
        len = w->fixed.len;
    }
    if (qbpe_counter_add_text(it->counts, c->pt, w->pt, text, len) < 0) it->engine_failed = 1;
}

static void train_release(qdocpass_item *base)
{
    qbpe_counter_free(((train_item *)base)->counts);
}

static int train_consume(void *vctx, qdocpass_item *base)
{
    train_ctx *c = vctx;
    train_item *it = (train_item *)base;
    qbpe_counter_merge(c->global, it->counts);
    c->engine_failed |= it->engine_failed;
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int cmd_bpe_train(int argc, char **argv)
{
    enum { O_VS = 1000, O_NAME, O_PAT, O_SPEC, O_NOSPEC, O_MIN, O_MEM, O_FMT };
    static const struct option opts[] = {
        { "vocab-size", required_argument, 0, O_VS }, CLI_OPT_OUTPUT,
        { "name", required_argument, 0, O_NAME },     { "pattern", required_argument, 0, O_PAT },
        { "special", required_argument, 0, O_SPEC },  { "no-special", no_argument, 0, O_NOSPEC },
        { "min-count", required_argument, 0, O_MIN }, { "max-memory", required_argument, 0, O_MEM },
        { "format", required_argument, 0, O_FMT },    CLI_OPT_TEXT_FIELD,
        CLI_OPT_JOBS, CLI_OPT_STATS, CLI_OPT_PROGRESS, CLI_OPT_HELP,
        CLI_OPT_END,
    };
    cli_stream cli;
    cli_stream_init(&cli);
    const char *name = "bpe", *pattern = "cl100k_base";
    const char **specials = NULL;
    size_t n_specials = 0;
    int no_special = 0, text_mode = 0, c;
    uint64_t vocab_size = 0, max_mem = 4ULL << 30, min_count = 2;
    optind = 1;
    while ((c = cli_stream_getopt(&cli, argc, argv, "o:j:h", opts)) != -1) {
        switch (c) {
        case CLI_STREAM_BAD: free(specials); return QEXIT_USAGE;
        case O_VS: {
            double d;
            if (cli_parse_count(optarg, &d) < 0 || d < 1 || d > (double)QVOCAB_MAX_ID + 1) {
                qerr("--vocab-size: bad number '%s'", optarg);
                return QEXIT_USAGE;
            }
            vocab_size = (uint64_t)d;
            break;
        }
        case O_NAME: name = optarg; break;
        case O_PAT: pattern = optarg; break;
        case O_SPEC:
            specials = realloc(specials, (n_specials + 1) * sizeof *specials);
            specials[n_specials++] = optarg;
            break;
        case O_NOSPEC: no_special = 1; break;
        case O_MIN: {
            double d;
            if (cli_parse_count(optarg, &d) < 0) {
                qerr("--min-count: bad number '%s'", optarg);
                return QEXIT_USAGE;
            }
            min_count = d < 1 ? 1 : (uint64_t)d;
            break;
        }
        case O_MEM:
            if (cli_parse_size(optarg, &max_mem) < 0) {
                qerr("--max-memory: bad size '%s'", optarg);
                return QEXIT_USAGE;
            }
            break;
        case O_FMT:
            if (qdocpass_parse_format(optarg, &text_mode)) return QEXIT_USAGE;
            break;
        case 'h': usage(stdout); free(specials); return QEXIT_OK;
        default: usage(stderr); free(specials); return QEXIT_USAGE;
        }
    }
    const char *out = cli.output;
    int jobs = cli.jobs;
    static const char *default_special[] = { "<|endoftext|>" };
    if (no_special) n_specials = 0;
    else if (!n_specials) {
        free(specials);
        specials = NULL;
    }
    const char *const *spec_list = no_special ? NULL : n_specials ? specials : default_special;
    size_t spec_n = no_special ? 0 : n_specials ? n_specials : 1;
    if (!vocab_size || !out) {
        qerr("train: --vocab-size and -o DIR are required (see --help)");
        free(specials);
        return QEXIT_USAGE;
    }
    if (vocab_size < 256 + spec_n) {
        qerr("train: --vocab-size %llu is below 256 bytes + %zu special tokens",
             (unsigned long long)vocab_size, spec_n);
        free(specials);
        return QEXIT_USAGE;
    }
    char err[QERR_LEN];
    qpretok *pt = qpretok_new(pattern, err, sizeof err);
    if (!pt) {
        qerr("--pattern: %s", err);
        free(specials);
        return QEXIT_USAGE;
    }
    qinputs in;
    if (qinputs_expand(&in, argv + optind, argc - optind, 0, 1, err, sizeof err) < 0) {
        qerr("%s", err);
        qpretok_free(pt);
        free(specials);
        return QEXIT_BADINPUT;
    }
    qstats *stats = cli.stats_path ? qstats_new("bpe train") : NULL;
    double t0 = now_s();
    train_ctx ctx = { .pt = pt, .global = qbpe_counter_new(max_mem) };
    ctx.ws = calloc((size_t)jobs, sizeof *ctx.ws);
    if (!ctx.ws) abort();
    for (int i = 0; i < jobs; i++) ctx.ws[i].pt = qpretok_scratch_new();
    int64_t total = qinputs_total_size(&in);
    qdocpass_opts po = { .text_mode = text_mode, .text_field = cli.text_field, .jobs = jobs,
                         .batch_bytes = 1 << 20 };
    po.prog = qprogress_new("quern bpe train: counting", (uint64_t)total, cli.progress);
    static const qdocpass_ops ops = { sizeof(train_item), train_begin, train_doc, train_consume,
                                      train_release };
    qdocpass_totals t;
    qdocpass_run(&in, &po, &ops, &ctx, &t);
    qprogress_finish(po.prog);
    uint64_t bytes_in = t.bytes_in, failed = t.failed_inputs, bad = t.bad_lines;
    for (int i = 0; i < jobs; i++) {
        qpretok_scratch_free(ctx.ws[i].pt);
        sb_free(&ctx.ws[i].fixed);
    }
    free(ctx.ws);
    double t1 = now_s();

    qvocab v;
    qvocab_init(&v);
    qbpe_train_opts to = { .vocab_size = (uint32_t)vocab_size, .specials = spec_list,
                           .n_specials = spec_n, .min_count = min_count,
                           .pattern = qpretok_pattern(pt), .name = name };
    size_t n_merges = 0;
    qbpe_merge *merges = NULL;
    int rc = QEXIT_OK;
    if (qbpe_train(ctx.global, &to, &v, &merges, &n_merges, err, sizeof err) < 0) {
        qerr("train: %s", err);
        rc = QEXIT_USAGE;
    }
    double t2 = now_s();
    if (rc == QEXIT_OK) {
        strbuf p = STRBUF_INIT;
        qmkdirs(out);
        sb_addf(&p, "%s/%s.tiktoken", out, name);
        if (qvocab_save_tiktoken(&v, p.buf, err, sizeof err) < 0) {
            qerr("%s", err);
            rc = QEXIT_BADINPUT;
        }
        sb_reset(&p);
        sb_addf(&p, "%s/tokenizer.json", out);
        if (rc == QEXIT_OK && qvocab_save_hf(&v, p.buf, err, sizeof err) < 0) {
            qerr("%s", err);
            rc = QEXIT_BADINPUT;
        }
        sb_free(&p);
    }
    double t3 = now_s();
    size_t new_tokens = v.n_ids > spec_n ? v.n_ids - spec_n - 256 : 0;
    fprintf(stderr,
            "quern bpe train: %llu documents, %.1f MB, %zu distinct pieces; %zu merges -> vocabulary %u "
            "(%zu new tokens%s); counting %.2fs (-j %d), merging %.2fs, writing %.2fs\n",
            (unsigned long long)t.docs, bytes_in / 1e6, qbpe_counter_size(ctx.global), n_merges, v.n_ids,
            new_tokens, v.n_ids < vocab_size ? ", fewer than asked: no pair left above --min-count" : "",
            t1 - t0, jobs, t2 - t1, t3 - t2);
    if (qbpe_counter_pruned_pieces(ctx.global))
        fprintf(stderr, "quern bpe train: --max-memory reached: pruned %llu rare pieces (%llu occurrences, "
                "threshold %llu)\n", (unsigned long long)qbpe_counter_pruned_pieces(ctx.global),
                (unsigned long long)qbpe_counter_pruned_count(ctx.global),
                (unsigned long long)qbpe_counter_threshold(ctx.global));
    if (t.repairs)
        fprintf(stderr, "quern bpe train: %llu invalid UTF-8 sequences replaced by U+FFFD\n",
                (unsigned long long)t.repairs);
    if (ctx.engine_failed) {
        qerr("train: the split pattern hit a PCRE2 resource limit; some text was not counted");
        if (rc == QEXIT_OK) rc = QEXIT_BADINPUT;
    }
    if ((failed || bad) && rc == QEXIT_OK) rc = QEXIT_BADINPUT;
    if (stats) {
        qstats *s = stats;
        qstats_set_int(s, "docs_in", (int64_t)t.docs);
        qstats_set_int(s, "bytes_in", (int64_t)bytes_in);
        qstats_set_int(s, "bad_lines", (int64_t)bad);
        qstats_set_int(s, "failed_inputs", (int64_t)failed);
        qstats_set_int(s, "utf8_repairs", (int64_t)t.repairs);
        qstats_set_int(s, "distinct_pieces", (int64_t)qbpe_counter_size(ctx.global));
        qstats_set_int(s, "pruned.pieces", (int64_t)qbpe_counter_pruned_pieces(ctx.global));
        qstats_set_int(s, "pruned.occurrences", (int64_t)qbpe_counter_pruned_count(ctx.global));
        qstats_set_int(s, "pruned.threshold", (int64_t)qbpe_counter_threshold(ctx.global));
        qstats_set_int(s, "merges", (int64_t)n_merges);
        qstats_set_int(s, "vocab_size", (int64_t)v.n_ids);
        qstats_set_num(s, "seconds_counting", t1 - t0);
        qstats_set_num(s, "seconds_merging", t2 - t1);
        qstats_set_int(s, "jobs", jobs);
        if (qstats_write(s, cli.stats_path) < 0 && rc == QEXIT_OK) rc = QEXIT_BADINPUT;
        qstats_free(s);
    }
    free(merges);
    qvocab_free(&v);
    qbpe_counter_free(ctx.global);
    qinputs_free(&in);
    qpretok_free(pt);
    free(specials);
    return rc;
}
