/* cmd_cat.c - `quern cat`: read documents from any inputs, write them back.
 *
 * The smallest real stage: inputs (paths, globs, directories, stdin; plain,
 * gzip, zstd) -> parse -> serialize -> stdout, one file, or a directory of
 * .jsonl.zst shards. Lines are batched on the main thread, parsed and
 * re-serialized by workers (pool.h), and written in input order, so the
 * output bytes are the same at any -j. Bad lines are reported in order too. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/cli.h"
#include "../common/cli_stream.h"
#include "../common/commands.h"
#include "../common/doc.h"
#include "../common/io.h"
#include "../common/pool.h"
#include "../common/progress.h"
#include "cat.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: quern cat [options] [inputs...]\n"
            "\n"
            "Read JSONL documents from the inputs (paths, globs, directories, '-' for\n"
            "stdin; plain, gzip or zstd, detected by content) and write them unchanged:\n"
            "lines already in quern's form are copied byte for byte, others are\n"
            "normalized (no whitespace between members, invalid UTF-8 -> U+FFFD).\n"
            "\n"
            "  -o, --output PATH|DIR  stdout if absent; a file (.zst suffix: zstd); a\n"
            "                         directory (existing, or ending in /): shards\n"
            "                         DIR/part-000000.jsonl.zst, ...\n"
            "      --shard-bytes SIZE uncompressed bytes per output shard (default 256M)\n"
            "      --compress         zstd shards in directory mode (the default)\n"
            "      --no-compress      plain .jsonl shards in directory mode\n"
            "      --prefix NAME      shard file name prefix (default part, or part-IIIII\n"
            "                         with --shard I/N, so array tasks share a directory)\n"
            "      --text-field NAME  the member holding the text (default text)\n"
            "  -j, --jobs N           worker threads (default: all cores)\n"
            "      --shard I/N        read only the I-th of N slices of the inputs\n"
            "                         (default from SLURM_ARRAY_TASK_ID/COUNT)\n"
            "      --skip-bad         report bad lines and go on (the default)\n"
            "      --strict           stop at the first bad line or input (exit 1)\n"
            "      --stats FILE       write a JSON summary ('-' = stderr)\n"
            "      --progress         progress line on stderr even when not a terminal\n"
            "  -h, --help             this help\n"
            "\n"
            "Exit: 0 ok (bad lines skipped are counted in --stats), 1 an input could\n"
            "not be read to its end (documents before the damage are kept) or --strict\n"
            "stopped, 2 bad usage.\n");
}

int cmd_cat(int argc, char **argv)
{
    enum { O_SHARD_BYTES = 256, O_COMPRESS, O_NO_COMPRESS, O_PREFIX };
    static const struct option longopts[] = {
        CLI_OPT_OUTPUT,
        { "shard-bytes", required_argument, NULL, O_SHARD_BYTES },
        { "compress", no_argument, NULL, O_COMPRESS },
        { "no-compress", no_argument, NULL, O_NO_COMPRESS },
        { "prefix", required_argument, NULL, O_PREFIX },
        CLI_OPT_TEXT_FIELD, CLI_OPT_JOBS, CLI_OPT_SHARD, CLI_OPT_SKIP_BAD, CLI_OPT_STRICT,
        CLI_OPT_STATS, CLI_OPT_PROGRESS, CLI_OPT_HELP,
        CLI_OPT_END,
    };
    cli_stream cli;
    cli_stream_init(&cli);
    qdoc_writer_opts wo = { .out = NULL, .shard_bytes = 0, .prefix = NULL, .compress = 1 };

    optind = 1;
    int c;
    while ((c = cli_stream_getopt(&cli, argc, argv, "o:j:h", longopts)) != -1) {
        switch (c) {
        case CLI_STREAM_BAD: return QEXIT_USAGE;
        case O_SHARD_BYTES:
            if (cli_parse_size(optarg, &wo.shard_bytes) || !wo.shard_bytes) {
                qerr("--shard-bytes: '%s' is not a size such as 256M", optarg);
                return QEXIT_USAGE;
            }
            break;
        case O_COMPRESS: wo.compress = 1; break;
        case O_NO_COMPRESS: wo.compress = 0; break;
        case O_PREFIX: wo.prefix = optarg; break;
        case 'h': usage(stdout); return QEXIT_OK;
        default: usage(stderr); return QEXIT_USAGE;
        }
    }
    wo.out = cli.output;
    qcat_opts o = { .text_field = cli.text_field, .jobs = cli.jobs, .strict = cli.strict };

    /* Array tasks writing into one directory must not collide. */
    char prefix[64];
    if (!wo.prefix && cli.shard_n > 1) {
        snprintf(prefix, sizeof prefix, "part-%05u", cli.shard_i);
        wo.prefix = prefix;
    }
    char err[QERR_LEN];
    qinputs inputs;
    if (qinputs_expand(&inputs, argv + optind, argc - optind, cli.shard_i, cli.shard_n, err, sizeof err)) {
        qerr("%s", err);
        return QEXIT_BADINPUT;
    }
    qdoc_writer *w = qdoc_writer_open(&wo, err, sizeof err);
    if (!w) {
        qerr("%s", err);
        qinputs_free(&inputs);
        return QEXIT_BADINPUT;
    }
    qdoc_reader *r;
    qcat_result res;
    int rc = qcat_run_inputs(&o, &inputs, "cat", cli.progress, w, &r, &res);

    int exit_code = rc ? QEXIT_BADINPUT : QEXIT_OK;
    if (qdoc_reader_failed_inputs(r)) exit_code = QEXIT_BADINPUT;
    res.docs_out = qdoc_writer_docs(w);
    res.bytes_out = qdoc_writer_bytes(w);
    /* Complete documents read before an input error are kept: commit anyway. */
    if (qdoc_writer_close(w, err, sizeof err)) {
        qerr("%s", err);
        exit_code = QEXIT_BADINPUT;
    }
    if (cli.stats_path) {
        qstats *st = qstats_new("cat");
        qstats_set_int(st, "inputs", (int64_t)inputs.n);
        qstats_set_int(st, "docs_in", (int64_t)res.docs_in);
        qstats_set_int(st, "docs_out", (int64_t)res.docs_out);
        qstats_set_int(st, "bytes_in", (int64_t)qdoc_reader_bytes(r));
        qstats_set_int(st, "raw_bytes_in", (int64_t)qdoc_reader_raw_bytes(r));
        qstats_set_int(st, "bytes_out", (int64_t)res.bytes_out);
        qstats_set_int(st, "bad_lines", (int64_t)res.bad_lines);
        qstats_set_int(st, "failed_inputs", (int64_t)qdoc_reader_failed_inputs(r));
        qstats_set_int(st, "utf8_repairs", (int64_t)res.repairs);
        qstats_set_int(st, "jobs", o.jobs);
        if (qstats_write(st, cli.stats_path)) exit_code = QEXIT_BADINPUT;
        qstats_free(st);
    }
    qdoc_reader_close(r);
    qinputs_free(&inputs);
    return exit_code;
}
