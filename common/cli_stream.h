/* cli_stream.h - the options that every streaming command shares
 * (DESIGN.md section 3): -o/--output, --text-field, -j/--jobs, --shard I/N,
 * --strict, --skip-bad, --stats, --progress, --force and --help.
 *
 * Why: cat, count, clean, dedup, ingest, tokenize, bpe train and mix each
 * spelled these options, their defaults and their switch cases out again.
 * Here, as git's parse-options does for its common flags, each has one
 * getopt_long entry (CLI_OPT_*), one default (cli_stream_init) and one
 * handler (cli_stream_opt). A command splices the entries it accepts into its
 * own table, in the order it wants (the order getopt_long lists candidates
 * in for an ambiguous abbreviation), and reads its options with
 * cli_stream_getopt(), which settles the shared ones and returns the rest:
 *
 *     static const struct option longopts[] = {
 *         { "prefix", required_argument, NULL, O_PREFIX },
 *         CLI_OPT_TEXT_FIELD, CLI_OPT_JOBS, CLI_OPT_SHARD, CLI_OPT_HELP,
 *         CLI_OPT_END,
 *     };
 *     cli_stream cli;
 *     cli_stream_init(&cli);
 *     optind = 1;
 *     while ((c = cli_stream_getopt(&cli, argc, argv, "j:h", longopts)) != -1) {
 *         switch (c) {
 *         case CLI_STREAM_BAD: return QEXIT_USAGE;   (the error is printed)
 *         case O_PREFIX: ...
 *         case 'h': usage(stdout); return QEXIT_OK;
 *         default: usage(stderr); return QEXIT_USAGE;
 *         }
 *     }
 *
 * Only what is truly the same lives here: each command keeps its --help text
 * (the wording differs per command) and any option whose meaning differs
 * (pipeline's -j counts units, not threads, and keeps its own parser). */
#ifndef QUERN_CLI_STREAM_H
#define QUERN_CLI_STREAM_H

#include <getopt.h>

/* getopt_long values of the shared long-only options; above any command's
 * own enum (those start at 256 or 1000) so the two never collide. -o, -j and
 * -h keep their letters, so the short and long spellings arrive as one value. */
enum {
    CLI_O_TEXT_FIELD = 0x10000,
    CLI_O_SHARD,
    CLI_O_STRICT,
    CLI_O_SKIP_BAD,
    CLI_O_STATS,
    CLI_O_PROGRESS,
    CLI_O_FORCE,
};

/* The entries to splice into a command's struct option table. */
#define CLI_OPT_OUTPUT     { "output", required_argument, NULL, 'o' }
#define CLI_OPT_TEXT_FIELD { "text-field", required_argument, NULL, CLI_O_TEXT_FIELD }
#define CLI_OPT_JOBS       { "jobs", required_argument, NULL, 'j' }
#define CLI_OPT_SHARD      { "shard", required_argument, NULL, CLI_O_SHARD }
#define CLI_OPT_STRICT     { "strict", no_argument, NULL, CLI_O_STRICT }
#define CLI_OPT_SKIP_BAD   { "skip-bad", no_argument, NULL, CLI_O_SKIP_BAD }
#define CLI_OPT_STATS      { "stats", required_argument, NULL, CLI_O_STATS }
#define CLI_OPT_PROGRESS   { "progress", no_argument, NULL, CLI_O_PROGRESS }
#define CLI_OPT_FORCE      { "force", no_argument, NULL, CLI_O_FORCE }
#define CLI_OPT_HELP       { "help", no_argument, NULL, 'h' }
#define CLI_OPT_END        { NULL, 0, NULL, 0 }

/* The settings those options give. */
typedef struct cli_stream {
    const char *output;       /* -o, --output PATH: NULL = stdout (or required) */
    const char *text_field;   /* --text-field NAME: NULL = "text" */
    const char *stats_path;   /* --stats FILE: NULL = none, "-" = stderr */
    int jobs;                 /* -j, --jobs N: default cli_jobs_default() */
    unsigned shard_i, shard_n;   /* --shard I/N: default cli_shard_default() */
    int strict;               /* --strict: stop at the first bad line (exit 1) */
    int skip_bad;             /* --skip-bad was the last of --strict/--skip-bad:
                               * bad input is skipped and does not fail the run */
    int progress;             /* --progress: progress line even when not a TTY */
    int force;                /* --force: redo outputs that are already complete */
} cli_stream;

/* The defaults: no output path, text field or stats, -j all cores, the shard
 * from SLURM_ARRAY_TASK_ID/COUNT (else 0/1), nothing strict or forced. */
void cli_stream_init(cli_stream *s);

/* What cli_stream_opt returns when the option was one of the shared ones;
 * negative, so never a getopt_long value inside the loop. */
enum {
    CLI_STREAM_TAKEN = -2,    /* stored in *s */
    CLI_STREAM_BAD = -3,      /* a bad -j or --shard value; the error line is
                               * printed, the caller exits QEXIT_USAGE */
};

/* Handle option c (a getopt_long return value, its argument in arg) if it is
 * one of the shared options above except --help; otherwise return c itself,
 * so it can head the command's own switch. */
int cli_stream_opt(cli_stream *s, int c, const char *arg);

/* getopt_long (optarg, optind as usual) that stores the shared options in *s
 * itself and returns only the others: the command's own options, 'h', '?' or
 * ':', CLI_STREAM_BAD after a bad -j or --shard (printed), -1 at the end.
 * The loop every command had, written once. */
int cli_stream_getopt(cli_stream *s, int argc, char **argv, const char *shortopts,
                      const struct option *longopts);

#endif
