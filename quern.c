/* quern.c - the multi-call dispatcher: `quern <command> [options]`.
 * One table of commands; each entry calls one cmd_<name>() (commands.h). */
#include <stdio.h>
#include <string.h>

#include "common/cli.h"
#include "common/commands.h"

struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    { "ingest",   cmd_ingest,   "WARC/WET archives (files, globs, stdin, URLs) -> JSONL documents" },
    { "clean",    cmd_clean,    "language ID, Gopher/C4/FineWeb filters, URL/regex rules, PII, Unicode" },
    { "dedup",    cmd_dedup,    "exact and MinHash-LSH near-duplicate removal (in memory or phased)" },
    { "tokenize", cmd_tokenize, "JSONL documents -> llm.c token shards + .idx + manifest.json" },
    { "bpe",      cmd_bpe,      "train a byte-level BPE vocabulary (bpe train), convert vocabularies" },
    { "tokens",   cmd_tokens,   "inspect or decode token shards" },
    { "budget",   cmd_budget,   "Chinchilla token budgets, FLOPs, training time and cost" },
    { "mix",      cmd_mix,      "weighted multi-epoch mixing of token directories into training shards" },
    { "train",    cmd_train,    "train a GPT on mixed shards (CPU reference, CUDA when available)" },
    { "sample",   cmd_sample,   "generate text from a checkpoint" },
    { "pipeline", cmd_pipeline, "run a whole pipeline file locally or on Slurm" },
    { "cat",      cmd_cat,      "read documents from any inputs and write them (recompress, reshard)" },
    { "count",    cmd_count,    "count documents, bytes and characters" },
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
    fprintf(f, "usage: quern <command> [options] [inputs...]\n\n"
               "quern turns raw web crawls into token shards and a trained model.\n\ncommands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n`quern <command> --help` describes a command's options.\n"
               "Inputs: paths, globs, '-' (stdin) or http(s) URLs; plain, gzip or zstd.\n"
               "Exit codes: 0 ok, 1 bad or unreadable input, 2 bad usage.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return QEXIT_USAGE;
    }
    const char *name = argv[1];
    if (!strcmp(name, "help") || !strcmp(name, "--help") || !strcmp(name, "-h")) {
        if (argc > 2) {
            for (size_t i = 0; i < N_COMMANDS; i++)
                if (!strcmp(argv[2], commands[i].name)) {
                    char help[] = "--help";
                    char *av[] = { argv[2], help, NULL };
                    qerr_set_cmd(commands[i].name);
                    return commands[i].fn(2, av);
                }
        }
        usage(stdout);
        return QEXIT_OK;
    }
    if (!strcmp(name, "--version") || !strcmp(name, "version")) {
        printf("quern %s\n", QUERN_VERSION);
        return QEXIT_OK;
    }
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (!strcmp(name, commands[i].name)) {
            qerr_set_cmd(commands[i].name);
            return commands[i].fn(argc - 1, argv + 1);
        }
    fprintf(stderr, "quern: '%s' is not a command; see 'quern help'\n", name);
    return QEXIT_USAGE;
}
