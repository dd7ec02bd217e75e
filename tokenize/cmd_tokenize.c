/* cmd_tokenize.c - `quern tokenize`: JSONL documents -> llm.c token shards
 * (EOT before every document) + .idx + manifest.json.
 *
 * Workers encode batches of documents (docpass.h); the main thread receives
 * them in input order and cuts shards, so the files are byte-identical at any -j.
 * A document longer than a whole shard is split into shard-sized pieces
 * (each piece is one .idx entry) instead of looping forever. */
#include <errno.h>
#include <getopt.h>
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
#include "../common/shard.h"
#include "bpe.h"
#include "docpass.h"
#include "vocab.h"

static void usage(FILE *f)
{
    fprintf(f,
        "usage: quern tokenize --vocab SPEC -o DIR [options] [inputs...]\n\n"
        "Encode JSONL documents into llm.c token shards: DIR/PREFIX_000000.bin (256 x int32 header,\n"
        "magic 20240520, version 1 = uint16 tokens or 2 = uint32 when the vocabulary exceeds 65536),\n"
        "a .idx of uint64 document end offsets beside each, and DIR/manifest.json. Every document\n"
        "is preceded by the end-of-text token.\n\n"
        "  --vocab SPEC         gpt2, cl100k_base, o200k_base (in $QUERN_DATA/tokenizers), a vocabulary\n"
        "                       file (.tiktoken, tokenizer.json, encoder.json) or a directory with one\n"
        "                       (e.g. the -o of `quern bpe train`)\n"
        "  -o, --output DIR     output directory\n"
        "  --shard-tokens N     tokens per shard (default 100M); a longer document is split\n"
        "  --prefix NAME        shard file prefix (default: train)\n"
        "  --source NAME        source name in the manifest (default: first input's base name)\n"
        "  --text-field F       JSON field holding the text (default: text)\n"
        "  --format jsonl|text  text: each line of plain text is one document\n"
        "  --allow-special      recognise special-token text (default: encoded as plain text)\n"
        "  -j N                 threads (default: all cores); output is identical at any N\n"
        "  --shard I/N          only the I-th of N slices of the inputs (default from\n"
        "                       SLURM_ARRAY_TASK_ID/COUNT); give each slice its own -o DIR\n"
        "  --force              redo even if DIR/manifest.json is complete\n"
        "  --stats FILE         JSON summary; --progress forces the progress line\n\n"
        "Exit: 0 ok; 1 bad lines were skipped (the first of each input reported, the rest\n"
        "counted; the other documents are kept and manifest.json is written), an input could\n"
        "not be read to its end (no manifest.json, so a rerun redoes it) or an output could\n"
        "not be written; 2 bad usage or a vocabulary that cannot be loaded.\n");
}

typedef struct tok_item {
    qdocpass_item base;
    qbpe_ids ids;           /* all documents' tokens, EOT first in each */
    size_t *doc_end;        /* per document: end offset in ids */
    size_t n_docs;
    int engine_failed;
} tok_item;

typedef struct tok_ctx {
    const qbpe *bpe;
    uint32_t eot;
    int allow_special, version;
    const char *dir, *prefix;
    qbpe_scratch **scratch;  /* per worker */
    uint64_t shard_tokens;
    /* output */
    qshard_writer *w;
    qmanifest man;
    strbuf path;
    int failed;
    uint64_t tokens, split_docs;
    int engine_failed;
} tok_ctx;

static void tok_begin(void *vctx, qdocpass_item *base, int worker)
{
    tok_item *it = (tok_item *)base;
    (void)vctx;
    (void)worker;
    it->doc_end = malloc((base->batch->n + 1) * sizeof *it->doc_end);
    if (!it->doc_end) abort();
}

static void tok_doc(void *vctx, qdocpass_item *base, int worker, const char *text, size_t len)
{
    tok_ctx *c = vctx;
    tok_item *it = (tok_item *)base;
    qbpe_ids_push(&it->ids, c->eot);
    size_t repairs = 0;
    if (qbpe_encode(c->bpe, c->scratch[worker], text, len, c->allow_special, &it->ids, &repairs) < 0)
        it->engine_failed = 1;
    base->repairs += repairs;
    it->doc_end[it->n_docs++] = it->ids.n;
}

static void tok_release(qdocpass_item *base)
{
    tok_item *it = (tok_item *)base;
    qbpe_ids_free(&it->ids);
    free(it->doc_end);
}

static int close_shard(tok_ctx *c)
{
    if (!c->w) return 0;
    char hex[17], err[QERR_LEN];
    uint64_t tokens = qshard_writer_tokens(c->w), docs = qshard_writer_docs(c->w);
    if (qshard_writer_close(c->w, hex, err, sizeof err) < 0) {
        c->w = NULL;
        qerr("%s", err);
        return -1;
    }
    c->w = NULL;
    const char *slash = strrchr(c->path.buf, '/');
    qmanifest_add_shard(&c->man, slash ? slash + 1 : c->path.buf, tokens, docs, hex, "train");
    return 0;
}

static int open_shard(tok_ctx *c)
{
    char err[QERR_LEN];
    sb_reset(&c->path);
    sb_addf(&c->path, "%s/%s_%06zu.bin", c->dir, c->prefix, c->man.n_shards);
    c->w = qshard_writer_open(c->path.buf, c->version, err, sizeof err);
    if (!c->w) {
        qerr("%s", err);
        return -1;
    }
    return 0;
}

/* Append one document's tokens, cutting shards at shard_tokens. */
static int put_doc(tok_ctx *c, const uint32_t *t, size_t n)
{
    uint64_t cap = c->shard_tokens;
    if (c->w && qshard_writer_tokens(c->w) + n > cap && qshard_writer_tokens(c->w) > 0)
        if (close_shard(c) < 0) return -1;
    if (n > cap) c->split_docs++;
    while (n > 0) {
        if (!c->w && open_shard(c) < 0) return -1;
        size_t room = (size_t)(cap - qshard_writer_tokens(c->w));
        size_t k = n < room ? n : room;
        if (qshard_writer_add_doc(c->w, t, k) < 0) {
            qerr("%s: %s", c->path.buf, qshard_writer_error(c->w));
            return -1;
        }
        t += k;
        n -= k;
        if (n > 0 && close_shard(c) < 0) return -1;
    }
    return 0;
}

static int tok_consume(void *vctx, qdocpass_item *base)
{
    tok_ctx *c = vctx;
    tok_item *it = (tok_item *)base;
    c->engine_failed |= it->engine_failed;
    size_t start = 0;
    for (size_t d = 0; d < it->n_docs && !c->failed; d++) {
        if (put_doc(c, it->ids.v + start, it->doc_end[d] - start) < 0) c->failed = 1;
        start = it->doc_end[d];
    }
    c->tokens += it->ids.n;
    return c->failed ? 1 : 0;
}

static char *default_source(const qinputs *in)
{
    if (!in->n || !strcmp(in->paths[0], "-")) return strdup("stdin");
    const char *b = strrchr(in->paths[0], '/');
    b = b ? b + 1 : in->paths[0];
    size_t n = strcspn(b, ".");
    return n ? strndup(b, n) : strdup(b);
}

/* With --force: remove the shards a previous manifest named. */
static void remove_old_outputs(const char *dir)
{
    qmanifest old;
    qmanifest_init(&old);
    char err[QERR_LEN];
    if (qmanifest_read(&old, dir, err, sizeof err) == 0) {
        for (size_t i = 0; i < old.n_shards; i++) {
            char *p = qmanifest_shard_path(&old, i);
            size_t n = strlen(p);
            unlink(p);
            if (n > 4 && !strcmp(p + n - 4, ".bin")) {
                strcpy(p + n - 4, ".idx");
                unlink(p);
            }
            free(p);
        }
    }
    qmanifest_free(&old);
}

int cmd_tokenize(int argc, char **argv)
{
    enum { O_VOCAB = 1000, O_ST, O_PREFIX, O_SOURCE, O_FMT, O_ALLOW };
    static const struct option opts[] = {
        { "vocab", required_argument, 0, O_VOCAB },     CLI_OPT_OUTPUT,
        { "shard-tokens", required_argument, 0, O_ST }, { "prefix", required_argument, 0, O_PREFIX },
        { "source", required_argument, 0, O_SOURCE },   CLI_OPT_TEXT_FIELD,
        { "format", required_argument, 0, O_FMT },      { "allow-special", no_argument, 0, O_ALLOW },
        CLI_OPT_JOBS, CLI_OPT_FORCE, CLI_OPT_STATS, CLI_OPT_PROGRESS, CLI_OPT_SHARD, CLI_OPT_HELP,
        CLI_OPT_END,
    };
    cli_stream cli;
    cli_stream_init(&cli);
    const char *vocab = NULL, *prefix = "train", *source = NULL;
    int text_mode = 0, allow = 0, c;
    uint64_t shard_tokens = 100000000;
    optind = 1;
    while ((c = cli_stream_getopt(&cli, argc, argv, "o:j:h", opts)) != -1) {
        switch (c) {
        case CLI_STREAM_BAD: return QEXIT_USAGE;
        case O_VOCAB: vocab = optarg; break;
        case O_ST: {
            double d;
            if (cli_parse_count(optarg, &d) < 0 || d < 1 || d > 2147483647.0) {
                qerr("--shard-tokens: a count from 1 to 2^31-1, not '%s'", optarg);
                return QEXIT_USAGE;
            }
            shard_tokens = (uint64_t)d;
            break;
        }
        case O_PREFIX: prefix = optarg; break;
        case O_SOURCE: source = optarg; break;
        case O_FMT:
            if (qdocpass_parse_format(optarg, &text_mode)) return QEXIT_USAGE;
            break;
        case O_ALLOW: allow = 1; break;
        case 'h': usage(stdout); return QEXIT_OK;
        default: usage(stderr); return QEXIT_USAGE;
        }
    }
    const char *out = cli.output;
    int jobs = cli.jobs;
    if (!vocab || !out) {
        qerr("--vocab and -o DIR are required (see --help)");
        return QEXIT_USAGE;
    }
    char err[QERR_LEN];
    strbuf mpath = STRBUF_INIT;
    sb_addf(&mpath, "%s/manifest.json", out);
    if (!cli.force && qout_is_complete(mpath.buf)) {
        fprintf(stderr, "quern tokenize: %s is complete; skipping (--force to redo)\n", mpath.buf);
        sb_free(&mpath);
        return QEXIT_OK;
    }
    qvocab v;
    qvocab_init(&v);
    if (qvocab_load(&v, vocab, err, sizeof err) < 0) {
        qerr("%s", err);
        qvocab_free(&v);
        sb_free(&mpath);
        return QEXIT_USAGE;
    }
    char hash[17];
    qvocab_hash(&v, hash);
    qbpe *bpe = qbpe_new(&v, err, sizeof err);
    qvocab_free(&v);
    if (!bpe) {
        qerr("%s: %s", vocab, err);
        sb_free(&mpath);
        return QEXIT_USAGE;
    }
    const qvocab *V = qbpe_vocab(bpe);
    if (V->eot == QVOCAB_NONE) {
        qerr("%s: the vocabulary has no end-of-text token", vocab);
        qbpe_free(bpe);
        sb_free(&mpath);
        return QEXIT_USAGE;
    }
    qinputs in;
    if (qinputs_expand(&in, argv + optind, argc - optind, cli.shard_i, cli.shard_n, err, sizeof err) < 0) {
        qerr("%s", err);
        qbpe_free(bpe);
        sb_free(&mpath);
        return QEXIT_BADINPUT;
    }
    if (cli.force) remove_old_outputs(out);
    if (qmkdirs(out) < 0) {
        qerr("%s: cannot create directory: %s", out, strerror(errno));
        qinputs_free(&in);
        qbpe_free(bpe);
        sb_free(&mpath);
        return QEXIT_BADINPUT;
    }
    {   /* a killed run's leftovers (PREFIX_NNNNNN.{bin,idx}.tmp.<pid>): live runs' temps stay */
        strbuf pre = STRBUF_INIT;
        sb_addf(&pre, "%s_", prefix);
        qout_remove_stale_temps_in(out, pre.buf);
        sb_free(&pre);
    }
    qstats *stats = cli.stats_path ? qstats_new("tokenize") : NULL;
    tok_ctx ctx = { .bpe = bpe, .eot = V->eot, .allow_special = allow,
                    .version = V->n_ids > 65536 ? 2 : 1, .dir = out, .prefix = prefix,
                    .shard_tokens = shard_tokens };
    qmanifest_init(&ctx.man);
    ctx.scratch = calloc((size_t)jobs, sizeof *ctx.scratch);
    if (!ctx.scratch) abort();
    for (int i = 0; i < jobs; i++) ctx.scratch[i] = qbpe_scratch_new();
    int64_t total = qinputs_total_size(&in);
    qdocpass_opts po = { .text_mode = text_mode, .text_field = cli.text_field, .jobs = jobs,
                         .batch_bytes = 1 << 20 };
    po.prog = qprogress_new("quern tokenize", (uint64_t)total, cli.progress);
    static const qdocpass_ops ops = { sizeof(tok_item), tok_begin, tok_doc, tok_consume, tok_release };
    qdocpass_totals t;
    qdocpass_run(&in, &po, &ops, &ctx, &t);
    if (!ctx.failed && close_shard(&ctx) < 0) ctx.failed = 1;
    if (ctx.w) qshard_writer_abort(ctx.w);
    qprogress_finish(po.prog);
    uint64_t failed_inputs = t.failed_inputs, bad = t.bad_lines, bytes_in = t.bytes_in;
    int rc = ctx.failed ? QEXIT_BADINPUT : QEXIT_OK;
    /* An input that could not be read leaves the output incomplete: no
     * manifest, so a rerun does the work again. Bad lines only are skipped. */
    if (failed_inputs && !ctx.failed)
        qerr("%llu input(s) could not be read: %s/manifest.json not written",
             (unsigned long long)failed_inputs, out);
    if (!ctx.failed && !failed_inputs) {
        strcpy(ctx.man.kind, "tokenize");
        ctx.man.tok_name = strdup(V->name ? V->name : "bpe");
        ctx.man.vocab_size = V->n_ids;
        ctx.man.eot = V->eot;
        memcpy(ctx.man.tok_hash, hash, 17);
        /* so `tokens`, mix and train (hence sample) find the vocabulary */
        if (V->path) ctx.man.tok_path = strdup(V->path);
        char *src = source ? strdup(source) : default_source(&in);
        qmanifest_add_source(&ctx.man, src, 1.0, ctx.tokens, ctx.tokens, 1.0, 1.0);
        free(src);
        if (qmanifest_write(&ctx.man, mpath.buf, err, sizeof err) < 0) {
            qerr("%s", err);
            rc = QEXIT_BADINPUT;
        }
    }
    fprintf(stderr, "quern tokenize: %llu documents, %.2f MB of text -> %llu tokens in %zu shard%s (%s, EOT %u)%s\n",
            (unsigned long long)t.docs, t.text_bytes / 1e6, (unsigned long long)ctx.tokens,
            ctx.man.n_shards, ctx.man.n_shards == 1 ? "" : "s", V->name ? V->name : "bpe", V->eot,
            ctx.split_docs ? "; documents longer than a shard were split" : "");
    if (t.repairs)
        fprintf(stderr, "quern tokenize: %llu invalid UTF-8 sequences replaced by U+FFFD\n",
                (unsigned long long)t.repairs);
    if (ctx.engine_failed) {
        qerr("the split pattern hit a PCRE2 resource limit; some text was not encoded");
        rc = QEXIT_BADINPUT;
    }
    if (failed_inputs || bad) rc = QEXIT_BADINPUT;
    if (stats) {
        qstats *s = stats;
        qstats_set_int(s, "docs_in", (int64_t)(t.docs + bad));
        qstats_set_int(s, "docs_out", (int64_t)t.docs);
        qstats_set_int(s, "bytes_in", (int64_t)bytes_in);
        qstats_set_int(s, "text_bytes", (int64_t)t.text_bytes);
        qstats_set_int(s, "tokens", (int64_t)ctx.tokens);
        qstats_set_int(s, "shards", (int64_t)ctx.man.n_shards);
        qstats_set_int(s, "utf8_repairs", (int64_t)t.repairs);
        qstats_set_int(s, "dropped.bad_line", (int64_t)bad);
        qstats_set_int(s, "failed_inputs", (int64_t)failed_inputs);
        qstats_set_int(s, "split_docs", (int64_t)ctx.split_docs);
        qstats_set_int(s, "jobs", jobs);
        if (qstats_write(s, cli.stats_path) < 0 && rc == QEXIT_OK) rc = QEXIT_BADINPUT;
        qstats_free(s);
    }
    for (int i = 0; i < jobs; i++) qbpe_scratch_free(ctx.scratch[i]);
    free(ctx.scratch);
    qmanifest_free(&ctx.man);
    sb_free(&ctx.path);
    sb_free(&mpath);
    qinputs_free(&in);
    qbpe_free(bpe);
    return rc;
}
