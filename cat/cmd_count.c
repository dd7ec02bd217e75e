/* cmd_count.c - `quern count`: documents, bytes and characters of JSONL inputs. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/cli.h"
#include "../common/cli_stream.h"
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
    enum { O_JSON = 256 };
    static const struct option longopts[] = {
        CLI_OPT_TEXT_FIELD, CLI_OPT_JOBS, CLI_OPT_SHARD, CLI_OPT_STRICT, CLI_OPT_SKIP_BAD,
        CLI_OPT_STATS, CLI_OPT_PROGRESS,
        { "json", no_argument, NULL, O_JSON },
        CLI_OPT_HELP,
        CLI_OPT_END,
    };
    cli_stream cli;
    cli_stream_init(&cli);
    int json = 0;

    optind = 1;
    int c;
    while ((c = cli_stream_getopt(&cli, argc, argv, "j:h", longopts)) != -1) {
        switch (c) {
        case CLI_STREAM_BAD: return QEXIT_USAGE;
        case O_JSON: json = 1; break;
        case 'h': usage(stdout); return QEXIT_OK;
        default: usage(stderr); return QEXIT_USAGE;
        }
    }
    qcat_opts o = { .text_field = cli.text_field, .jobs = cli.jobs, .strict = cli.strict };

    char err[QERR_LEN];
    qinputs inputs;
    if (qinputs_expand(&inputs, argv + optind, argc - optind, cli.shard_i, cli.shard_n, err, sizeof err)) {
        qerr("%s", err);
        return QEXIT_BADINPUT;
    }
    qdoc_reader *r;
    qcat_result res;
    int rc = qcat_run_inputs(&o, &inputs, "count", cli.progress, NULL, &r, &res);
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
    if (cli.stats_path) {
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
        if (qstats_write(st, cli.stats_path)) exit_code = QEXIT_BADINPUT;
        qstats_free(st);
    }
    qdoc_reader_close(r);
    qinputs_free(&inputs);
    return exit_code;
}
