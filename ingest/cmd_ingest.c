/* cmd_ingest.c - `quern ingest`: WARC/WET archives -> JSONL documents.
 *
 * The main thread reads records (warc.h) in input order and cuts them into
 * batches; workers turn batches into JSON lines (convert.h); the main thread
 * writes the batches in the order they were read (pool.h), so the output is
 * the same at any -j. Damage is reported as it is met, one line each, and
 * reading goes on after it; the exit status is 1 if anything was damaged or
 * unreadable, unless --skip-bad. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../common/cli.h"
#include "../common/cli_stream.h"
#include "../common/commands.h"
#include "../common/doc.h"
#include "../common/fetch.h"
#include "../common/io.h"
#include "../common/pool.h"
#include "../common/progress.h"
#include "convert.h"
#include "listing.h"
#include "warc.h"

#define BATCH_RECORDS 64
#define BATCH_BYTES (8u << 20)

static void usage(FILE *f)
{
    fprintf(f,
            "usage: quern ingest [options] [inputs...]\n"
            "\n"
            "Read web archives (WARC/WET: plain, gzip or zstd; files, globs, '-', http(s)\n"
            "URLs, or Common Crawl path listings *.paths.gz) and write one JSON document\n"
            "per line: {\"id\",\"text\",\"source\",\"metadata\":{\"url\",\"date\",...}}.\n"
            "Response records with HTTP 200 and HTML become text (main content only unless\n"
            "--no-boilerplate-removal); WET conversion and text resource records are taken\n"
            "as they are.\n"
            "\n"
            "options:\n"
            "  -o OUT                   output: file (.zst compresses), or DIR/ for .jsonl.zst shards\n"
            "                           (default stdout)\n"
            "  -j N                     worker threads (default: all cores); output is the same at any N\n"
            "  --source NAME            source name in every document (default: the input's file name)\n"
            "  --types LIST             record types to convert (default response,resource,conversion;\n"
            "                           also warcinfo,request,metadata,revisit,continuation,all)\n"
            "  --mime LIST              payload types accepted for response/resource records\n"
            "                           (default text/html,application/xhtml+xml; resources also text/plain)\n"
            "  --min-chars N            drop documents shorter than N characters (default 1)\n"
            "  --max-record-bytes SIZE  skip records larger than SIZE (default 16M)\n"
            "  --no-boilerplate-removal keep every text block, link lists and furniture included\n"
            "                           (script, style, nav, header, footer, aside, form and hidden\n"
            "                           elements are always dropped)\n"
            "  --skip-bad               damaged or unreadable input does not make the exit status 1\n"
            "  --base-url URL           prefix for path listings (default " LISTING_DEFAULT_BASE ")\n"
            "  --cache DIR              keep downloaded archives in DIR and reuse them\n"
            "  --retries N              download retries after a failure (default 5)\n"
            "  --shard I/N              process archives k with k %% N == I (default from SLURM_ARRAY_*)\n"
            "  --stats FILE             JSON summary: records by type, kept, skipped by reason, bytes\n"
            "  --progress               progress line on stderr even when it is not a terminal\n"
            "  -h, --help               this help\n"
            "\n"
            "exit status: 0 ok, 1 damaged or unreadable input (see --skip-bad), 2 bad usage.\n");
}

typedef struct slot {
    warc_record rec;
    strbuf block;
    const char *source;
} slot;

typedef struct batch {
    slot s[BATCH_RECORDS];
    size_t n;
    strbuf out;
    uint64_t reasons[SKIP_N];
    uint64_t text_bytes, html_bytes;
} batch;

typedef struct run {
    char **inputs;
    size_t n_inputs, next_input;
    char **sources;            /* per input */
    warc_reader *r;
    size_t cur;                /* input being read */
    unsigned types;
    uint64_t max_record;
    convert_opts copts;
    convert_ctx **workers;
    qdoc_writer *w;
    qstats *stats;
    qprogress *prog;
    uint64_t errors, records, raw_done, warc_done, docs;
    uint64_t skipped_early[SKIP_N];
    uint64_t by_type[9];
} run;

static const char *const type_keys[9] = {
    "warcinfo", "response", "resource", "request", "metadata", "revisit", "conversion", "continuation", "other",
};

static int type_index(unsigned bit)
{
    for (int i = 0; i < 9; i++)
        if (bit == (1u << i)) return i;
    return 8;
}

static void report(run *R)
{
    qerr_off(warc_name(R->r), warc_error_offset(R->r), "%s", warc_error(R->r));
    R->errors++;
}

static void finish_input(run *R)
{
    R->raw_done += warc_raw_bytes(R->r);
    R->warc_done += warc_bytes(R->r);
    warc_close(R->r);
    R->r = NULL;
}

/* Next record that should be converted, or 0 at the end of all inputs. */
static int next_record(run *R, slot *s)
{
    for (;;) {
        if (!R->r) {
            if (R->next_input >= R->n_inputs) return 0;
            R->cur = R->next_input++;
            qsrc src;
            char err[QERR_LEN];
            if (qsrc_open(&src, R->inputs[R->cur], err, sizeof err)) {
                qerr("%s", err);
                R->errors++;
                continue;
            }
            R->r = warc_open(&src, 0);
        }
        int rc = warc_next(R->r, &s->rec);
        if (rc == 0) {
            finish_input(R);
            continue;
        }
        if (rc < 0) {
            report(R);
            continue;
        }
        R->records++;
        unsigned bit = convert_type_bit(warc_type(&s->rec));
        R->by_type[type_index(bit)]++;
        if (!(R->types & bit)) {
            R->skipped_early[SKIP_TYPE]++;
            continue;
        }
        if ((uint64_t)s->rec.content_length > R->max_record) {
            R->skipped_early[SKIP_TOO_LARGE]++;
            continue;
        }
        int trunc = 0;
        if (warc_read_block(R->r, &s->block, (size_t)R->max_record, &trunc) < 0) {
            report(R);
            R->skipped_early[SKIP_DAMAGED]++;
            continue;
        }
        s->source = R->sources[R->cur];
        return 1;
    }
}

static void batch_free(batch *b)
{
    for (size_t i = 0; i < BATCH_RECORDS; i++) {
        warc_record_free(&b->s[i].rec);
        sb_free(&b->s[i].block);
    }
    sb_free(&b->out);
    free(b);
}

static void *produce(void *ctx, int *stop)
{
    run *R = ctx;
    (void)stop;
    batch *b = calloc(1, sizeof *b);
    if (!b) abort();
    for (size_t i = 0; i < BATCH_RECORDS; i++) warc_record_init(&b->s[i].rec);
    size_t bytes = 0;
    while (b->n < BATCH_RECORDS && bytes < BATCH_BYTES) {
        if (!next_record(R, &b->s[b->n])) break;
        bytes += b->s[b->n].block.len;
        b->n++;
    }
    if (R->prog) qprogress_update(R->prog, R->raw_done + (R->r ? warc_raw_bytes(R->r) : 0), R->docs);
    if (!b->n) {
        batch_free(b);
        return NULL;
    }
    return b;
}

static void work(void *item, int worker, void *ctx)
{
    run *R = ctx;
    batch *b = item;
    for (size_t i = 0; i < b->n; i++) {
        size_t tb = 0, hb = 0;
        int why = convert_record(R->workers[worker], &R->copts, &b->s[i].rec, sb_str(&b->s[i].block),
                                 b->s[i].block.len, b->s[i].source, &b->out, &tb, &hb);
        b->reasons[why]++;
        b->text_bytes += tb;
        b->html_bytes += hb;
    }
}

static int consume(void *item, void *ctx)
{
    run *R = ctx;
    batch *b = item;
    int rc = 0;
    if (b->out.len && qdoc_writer_write(R->w, b->out.buf, b->out.len) < 0) {
        qerr("cannot write the output");
        rc = 1;
    }
    for (int k = 0; k < SKIP_N; k++) R->skipped_early[k] += k ? b->reasons[k] : 0;
    R->docs += b->reasons[SKIP_NONE];
    qstats_add(R->stats, "text_bytes", (int64_t)b->text_bytes);
    qstats_add(R->stats, "html_bytes", (int64_t)b->html_bytes);
    batch_free(b);
    return rc;
}

static void discard(void *item, void *ctx)
{
    (void)ctx;
    batch_free(item);
}

static int split_list(const char *s, char ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    size_t cap = 0;
    const char *p = s;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len) {
            if (*n == cap) {
                cap = cap ? 2 * cap : 8;
                *out = realloc(*out, cap * sizeof **out);
                if (!*out) abort();
            }
            (*out)[(*n)++] = strndup(p, len);
        }
        p += len + (e ? 1 : 0);
    }
    return *n ? 0 : -1;
}

enum {
    O_SOURCE = 256, O_TYPES, O_MIME, O_MIN_CHARS, O_MAX_RECORD, O_NO_BOILER, O_BASE_URL, O_CACHE,
    O_RETRIES,
};

int cmd_ingest(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "source", required_argument, NULL, O_SOURCE },
        { "types", required_argument, NULL, O_TYPES },
        { "mime", required_argument, NULL, O_MIME },
        { "min-chars", required_argument, NULL, O_MIN_CHARS },
        { "max-record-bytes", required_argument, NULL, O_MAX_RECORD },
        { "no-boilerplate-removal", no_argument, NULL, O_NO_BOILER },
        CLI_OPT_SKIP_BAD,
        { "base-url", required_argument, NULL, O_BASE_URL },
        { "cache", required_argument, NULL, O_CACHE },
        { "retries", required_argument, NULL, O_RETRIES },
        CLI_OPT_SHARD, CLI_OPT_STATS, CLI_OPT_PROGRESS, CLI_OPT_JOBS, CLI_OPT_HELP,
        CLI_OPT_END,
    };
    run R;
    memset(&R, 0, sizeof R);
    R.types = WT_DEFAULT;
    R.max_record = 16u << 20;
    R.copts.min_chars = 1;
    R.copts.main_content = 1;
    qfetch_opts fo;
    qfetch_opts_default(&fo);
    cli_stream cli;
    cli_stream_init(&cli);
    const char *source = NULL, *base_url = NULL;
    char **mimes = NULL;
    size_t n_mimes = 0;

    optind = 1;
    int c;
    while ((c = cli_stream_getopt(&cli, argc, argv, "o:j:h", longopts)) != -1) {
        switch (c) {
        case CLI_STREAM_BAD: return QEXIT_USAGE;
        case O_SOURCE: source = optarg; break;
        case O_TYPES:
            if (convert_parse_types(optarg, &R.types)) {
                qerr("--types: '%s' is not a list of WARC record types", optarg);
                return QEXIT_USAGE;
            }
            break;
        case O_MIME:
            if (mimes) {
                for (size_t i = 0; i < n_mimes; i++) free(mimes[i]);
                free(mimes);
            }
            if (split_list(optarg, &mimes, &n_mimes)) {
                qerr("--mime: '%s' is not a list of media types", optarg);
                return QEXIT_USAGE;
            }
            break;
        case O_MIN_CHARS: {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || v < 0) {
                qerr("--min-chars: '%s' is not a count", optarg);
                return QEXIT_USAGE;
            }
            R.copts.min_chars = (size_t)v;
            break;
        }
        case O_MAX_RECORD:
            if (cli_parse_size(optarg, &R.max_record) || !R.max_record) {
                qerr("--max-record-bytes: '%s' is not a size such as 16M", optarg);
                return QEXIT_USAGE;
            }
            break;
        case O_NO_BOILER: R.copts.main_content = 0; break;
        case O_BASE_URL: base_url = optarg; break;
        case O_CACHE: fo.cache_dir = optarg; break;
        case O_RETRIES: {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || v < 0 || v > 100) {
                qerr("--retries: '%s' is not a count", optarg);
                return QEXIT_USAGE;
            }
            fo.max_retries = (int)v;
            break;
        }
        case 'h': usage(stdout); return QEXIT_OK;
        default: usage(stderr); return QEXIT_USAGE;
        }
    }
    qdoc_writer_opts wo = { .out = cli.output, .shard_bytes = 0, .prefix = NULL, .compress = 1 };
    int jobs = cli.jobs;
    R.copts.mimes = mimes;
    R.copts.n_mimes = n_mimes;
    R.copts.max_bytes = (size_t)R.max_record;
    qfetch_set_default_opts(&fo);

    char err[QERR_LEN];
    qinputs globbed;
    if (qinputs_expand(&globbed, argv + optind, argc - optind, 0, 1, err, sizeof err)) {
        qerr("%s", err);
        return QEXIT_BADINPUT;
    }
    int rc = listing_expand(globbed.paths, globbed.n, base_url, cli.shard_i, cli.shard_n, &R.inputs, &R.n_inputs, err,
                            sizeof err);
    qinputs_free(&globbed);
    if (rc) {
        qerr("%s", err);
        return QEXIT_BADINPUT;
    }
    R.sources = calloc(R.n_inputs ? R.n_inputs : 1, sizeof *R.sources);
    uint64_t total = 0;
    for (size_t i = 0; i < R.n_inputs; i++) {
        char name[512];
        if (source) snprintf(name, sizeof name, "%s", source);
        else listing_source_name(R.inputs[i], name, sizeof name);
        R.sources[i] = strdup(name);
        struct stat st;
        if (!qfetch_is_url(R.inputs[i]) && !stat(R.inputs[i], &st) && S_ISREG(st.st_mode)) total += (uint64_t)st.st_size;
    }

    R.w = qdoc_writer_open(&wo, err, sizeof err);
    if (!R.w) {
        qerr("%s", err);
        listing_free(R.inputs, R.n_inputs);
        return QEXIT_BADINPUT;
    }
    R.stats = qstats_new("ingest");
    R.prog = qprogress_new("ingest", total, cli.progress);
    R.workers = calloc((size_t)jobs, sizeof *R.workers);
    for (int i = 0; i < jobs; i++) R.workers[i] = convert_new();

    qpipe_ops ops = { produce, work, consume, discard };
    int prc = qpipe_run(jobs, &ops, &R, 0);
    if (R.r) finish_input(&R);
    qprogress_finish(R.prog);

    int exit_code = QEXIT_OK;
    uint64_t bytes_out = qdoc_writer_bytes(R.w);
    if (prc != 0) {
        qdoc_writer_abort(R.w);
        exit_code = QEXIT_BADINPUT;
    } else if (qdoc_writer_close(R.w, err, sizeof err)) {
        qerr("%s", err);
        exit_code = QEXIT_BADINPUT;
    }
    qstats_set_int(R.stats, "inputs", (int64_t)R.n_inputs);
    qstats_set_int(R.stats, "records_in", (int64_t)R.records);
    for (int i = 0; i < 9; i++)
        if (R.by_type[i]) {
            char key[64];
            snprintf(key, sizeof key, "records_by_type.%s", type_keys[i]);
            qstats_set_int(R.stats, key, (int64_t)R.by_type[i]);
        }
    qstats_set_int(R.stats, "docs_out", (int64_t)R.docs);
    for (int k = 1; k < SKIP_N; k++) {
        char key[64];
        snprintf(key, sizeof key, "skipped.%s", convert_skip_name(k));
        qstats_set_int(R.stats, key, (int64_t)R.skipped_early[k]);
    }
    qstats_set_int(R.stats, "errors", (int64_t)R.errors);
    qstats_set_int(R.stats, "bytes_in", (int64_t)R.raw_done);
    qstats_set_int(R.stats, "bytes_warc", (int64_t)R.warc_done);
    qstats_set_int(R.stats, "bytes_out", (int64_t)bytes_out);
    if (cli.stats_path && qstats_write(R.stats, cli.stats_path)) exit_code = QEXIT_BADINPUT;
    qstats_free(R.stats);

    for (int i = 0; i < jobs; i++) convert_free(R.workers[i]);
    free(R.workers);
    for (size_t i = 0; i < R.n_inputs; i++) free(R.sources[i]);
    free(R.sources);
    listing_free(R.inputs, R.n_inputs);
    for (size_t i = 0; i < n_mimes; i++) free(mimes[i]);
    free(mimes);
    if (exit_code == QEXIT_OK && R.errors && !cli.skip_bad) exit_code = QEXIT_BADINPUT;
    return exit_code;
}
