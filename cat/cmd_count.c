/* cmd_count.c - `quern count`: documents, bytes and characters of JSONL inputs. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/cli.h"
#include "../common/commands.h"
#include "../common/doc.h"
#include "../common/io.h"
#include "../common/progress.h"
#include "cat.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: quern count [options] [inputs...]\n"
            "\n"
            "Count the documents in JSONL inputs (paths, globs, directories, '-';\n"
            "plain, gzip or zstd) and print, one per line, tab-separated:\n"
            "  docs        documents (good lines)\n"
            "  bytes       bytes of those JSONL lines, newlines included (decoded)\n"
            "  text_bytes  UTF-8 bytes of their texts\n"
            "  chars       Unicode code points of their texts\n"
            "  bad_lines   lines that are not documents (each also reported on stderr)\n"
            "\n"
            "      --json             print one JSON object instead\n"
            "      --text-field NAME  the member holding the text (default text)\n"
            "  -j, --jobs N           worker threads (default: all cores)\n"
            "      --shard I/N        count only the I-th of N slices of the inputs\n"
            "      --strict           stop at the first bad line or input (exit 1)\n"
            "      --stats FILE       write a JSON summary ('-' = stderr)\n"
            "      --progress         progress line on stderr even when not a terminal\n"
            "  -h, --help             this help\n"
            "\n"
            "Exit: 0 ok, 1 an input could not be read to its end or --strict stopped,\n"
            "2 bad usage.\n");
}

int cmd_count(int argc, char **argv)
{
    enum { O_TEXT_FIELD = 256, O_SHARD, O_STRICT, O_STATS, O_PROGRESS, O_JSON, O_SKIP_BAD };
    static const struct option longopts[] = {
        { "text-field", required_argument, NULL, O_TEXT_FIELD },
        { "jobs", required_argument, NULL, 'j' },
        { "shard", required_argument, NULL, O_SHARD },
        { "strict", no_argument, NULL, O_STRICT },
        { "skip-bad", no_argument, NULL, O_SKIP_BAD },
        { "stats", required_argument, NULL, O_STATS },
        { "progress", no_argument, NULL, O_PROGRESS },
        { "json", no_argument, NULL, O_JSON },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    qcat_opts o;
    qcat_opts_default(&o);
    unsigned shard_i, shard_n;
    cli_shard_default(&shard_i, &shard_n);
    const char *stats_path = NULL;
    int force_progress = 0, json = 0;

    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "j:h", longopts, NULL)) != -1) {
        switch (c) {
        case O_TEXT_FIELD: o.text_field = optarg; break;
        case 'j':
            if (cli_parse_jobs(optarg, &o.jobs)) return QEXIT_USAGE;
            break;
        case O_SHARD:
            if (cli_parse_shard(optarg, &shard_i, &shard_n)) return QEXIT_USAGE;
            break;
        case O_STRICT: o.strict = 1; break;
        case O_SKIP_BAD: o.strict = 0; break;
        case O_STATS: stats_path = optarg; break;
        case O_PROGRESS: force_progress = 1; break;
        case O_JSON: json = 1; break;
        case 'h': usage(stdout); return QEXIT_OK;
        default: usage(stderr); return QEXIT_USAGE;
        }
    }

    char err[QERR_LEN];
    qinputs inputs;
    if (qinputs_expand(&inputs, argv + optind, argc - optind, shard_i, shard_n, err, sizeof err)) {
        qerr("%s", err);
        return QEXIT_BADINPUT;
    }
    qdoc_reader_opts ro = { .text_field = o.text_field, .skip_bad = !o.strict, .max_line = 0 };
    qdoc_reader *r = qdoc_reader_open(inputs.paths, inputs.n, &ro);
    int64_t total = qdoc_reader_total_raw(r);
    qprogress *prog = qprogress_new("count", total > 0 ? (uint64_t)total : 0, force_progress);
    qcat_result res;
    int rc = qcount_run(&o, r, prog, &res);
    qprogress_finish(prog);
    int exit_code = rc || qdoc_reader_failed_inputs(r) ? QEXIT_BADINPUT : QEXIT_OK;

    if (json)
        printf("{\"docs\":%llu,\"bytes\":%llu,\"text_bytes\":%llu,\"chars\":%llu,\"bad_lines\":%llu}\n",
               (unsigned long long)res.docs_in, (unsigned long long)res.jsonl_bytes,
               (unsigned long long)res.text_bytes, (unsigned long long)res.chars,
               (unsigned long long)res.bad_lines);
    else
        printf("docs\t%llu\nbytes\t%llu\ntext_bytes\t%llu\nchars\t%llu\nbad_lines\t%llu\n",
               (unsigned long long)res.docs_in, (unsigned long long)res.jsonl_bytes,
               (unsigned long long)res.text_bytes, (unsigned long long)res.chars,
               (unsigned long long)res.bad_lines);
    if (fflush(stdout)) exit_code = QEXIT_BADINPUT;
    if (stats_path) {
        qstats *st = qstats_new("count");
        qstats_set_int(st, "inputs", (int64_t)inputs.n);
        qstats_set_int(st, "docs_in", (int64_t)res.docs_in);
        qstats_set_int(st, "bytes_in", (int64_t)qdoc_reader_bytes(r));
        qstats_set_int(st, "raw_bytes_in", (int64_t)qdoc_reader_raw_bytes(r));
        qstats_set_int(st, "text_bytes", (int64_t)res.text_bytes);
        qstats_set_int(st, "chars", (int64_t)res.chars);
        qstats_set_int(st, "bad_lines", (int64_t)res.bad_lines);
        qstats_set_int(st, "failed_inputs", (int64_t)qdoc_reader_failed_inputs(r));
        qstats_set_int(st, "utf8_repairs", (int64_t)res.repairs);
        if (qstats_write(st, stats_path)) exit_code = QEXIT_BADINPUT;
        qstats_free(st);
    }
    qdoc_reader_close(r);
    qinputs_free(&inputs);
    return exit_code;
}
