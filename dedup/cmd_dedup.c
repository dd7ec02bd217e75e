/* cmd_dedup.c - `quern dedup`: options, then the in-memory streaming mode or
 * one step of the phased mode (signatures, pairs, clusters, filter). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/cli.h"
#include "../common/cli_stream.h"
#include "../common/commands.h"
#include "../common/io.h"
#include "engine.h"
#include "phases.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: quern dedup [options] [inputs...]            one machine, streaming\n"
            "       quern dedup signatures --shard I/N -o DIR [options] [inputs...]\n"
            "       quern dedup pairs --band B|all DIR\n"
            "       quern dedup clusters [--verify J] [--keep first|longest] DIR\n"
            "       quern dedup filter --shard I/N --dir DIR -o OUT [inputs...]\n"
            "\n"
            "Removes exact duplicates (128-bit xxh3 of the normalised text, optionally\n"
            "of the URL; the first document wins) and near duplicates (MinHash LSH:\n"
            "shingles of the normalised text, permutations (a*h+b) mod 2^61-1, b bands of\n"
            "r rows). A document is a near duplicate of an earlier bucket representative\n"
            "it shares a band with (and, with --verify J, whose exact Jaccard is >= J).\n"
            "Normalisation: NFD, diacritics (Mn) dropped, lower case, digits -> 0,\n"
            "punctuation/symbols/spaces -> one space (dedup/README.md).\n"
            "\n"
            "  --preset NAME        fineweb (word 5-grams, 14 bands x 8 rows, default) or\n"
            "                       nemo (character 24-grams, 20 x 13)\n"
            "  --ngram N --bands B --rows R   override the preset; --shingle word|char\n"
            "  --seed N             permutation seed (default 1)\n"
            "  --exact KEYS         text (default), url, text,url or none\n"
            "  --no-near            exact dedup only\n"
            "  --verify J           join only candidates of exact Jaccard >= J (removes\n"
            "                       LSH false positives); in memory this keeps the shingle\n"
            "                       sets of bucket representatives (counted in --max-memory)\n"
            "  --keep first|longest which document of a cluster stays: first keeps every\n"
            "                       document with no earlier match (streams); longest keeps\n"
            "                       the longest of each cluster (reads the inputs twice)\n"
            "  --clusters FILE      write clusters (JSONL: cluster, size, kept, members);\n"
            "                       documents are named INPUT:LINE (input index, 1-based line)\n"
            "  --pairs FILE         write the joined pairs (TSV rep, doc, kind, jaccard)\n"
            "  --max-memory SIZE    fail cleanly before the index would exceed SIZE\n"
            "                       (default: 80%% of physical memory; 0 = no limit)\n"
            "  -o, --output PATH    documents kept (stdout if absent); for signatures: DIR\n"
            "  -j, --jobs N         worker threads (default: all cores)\n"
            "  --shard I/N          the I-th of N slices of the inputs (input i goes to\n"
            "                       slice i %% N; default from SLURM_ARRAY_TASK_ID/COUNT)\n"
            "  --text-field NAME    the member holding the text (default text)\n"
            "  --strict             stop at the first bad line (exit 1)\n"
            "  --stats FILE         JSON summary: documents in/out, exact and near removed,\n"
            "                       memory per document, signature speed; candidate\n"
            "                       pairs and clusters only with --clusters, --pairs,\n"
            "                       --verify or --keep longest (which keep representatives)\n"
            "  --progress           progress line on stderr\n"
            "  --force              redo phase outputs that are already complete\n"
            "  -h, --help           this help\n"
            "\n"
            "Phased mode (one Slurm array per step): signatures writes per-band files\n"
            "sorted by bucket key with checksums into DIR (--keep-shingles also stores\n"
            "shingle sets, which clusters --verify needs); pairs merges one band's files\n"
            "into candidate pairs; clusters joins all pairs (memory grows with the\n"
            "documents that have a candidate, not with all documents) and writes a\n"
            "removal list per shard; filter drops them. Every step verifies its inputs\n"
            "(complete, sorted, checksums) and refuses corrupt ones; outputs are atomic\n"
            "and complete outputs are skipped on rerun. The result equals the in-memory\n"
            "mode's on the same inputs.\n"
            "\n"
            "Exit: 0 ok, 1 unreadable/corrupt input or memory limit, 2 bad usage.\n");
}

static int parse_keys(const char *s, int *out)
{
    *out = 0;
    if (!strcmp(s, "none")) return 0;
    char *copy = strdup(s), *save = NULL;
    int rc = 0;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (!strcmp(t, "text")) *out |= DD_EXACT_TEXT;
        else if (!strcmp(t, "url")) *out |= DD_EXACT_URL;
        else rc = -1;
    }
    free(copy);
    return rc;
}

static int parse_uint(const char *s, unsigned long long max, unsigned long long *out)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (!*s || *end || v > max) return -1;
    *out = v;
    return 0;
}

static uint64_t default_max_memory(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || psz <= 0) return 0;
    return (uint64_t)pages * (uint64_t)psz / 10 * 8;
}

int cmd_dedup(int argc, char **argv)
{
    int phase = DD_PHASE_NONE;
    if (argc > 1) {
        if (!strcmp(argv[1], "signatures")) phase = DD_PHASE_SIGNATURES;
        else if (!strcmp(argv[1], "pairs")) phase = DD_PHASE_PAIRS;
        else if (!strcmp(argv[1], "clusters")) phase = DD_PHASE_CLUSTERS;
        else if (!strcmp(argv[1], "filter")) phase = DD_PHASE_FILTER;
        if (phase != DD_PHASE_NONE) {
            argc--;
            argv++;
        }
    }
    enum { O_PRESET = 256, O_NGRAM, O_BANDS, O_ROWS, O_SHINGLE, O_SEED, O_EXACT, O_NO_NEAR,
           O_VERIFY, O_KEEP, O_CLUSTERS, O_PAIRS, O_MAXMEM, O_BAND, O_DIR, O_KEEP_SHINGLES };
    static const struct option longopts[] = {
        { "preset", required_argument, NULL, O_PRESET },
        { "ngram", required_argument, NULL, O_NGRAM },
        { "bands", required_argument, NULL, O_BANDS },
        { "rows", required_argument, NULL, O_ROWS },
        { "shingle", required_argument, NULL, O_SHINGLE },
        { "seed", required_argument, NULL, O_SEED },
        { "exact", required_argument, NULL, O_EXACT },
        { "no-near", no_argument, NULL, O_NO_NEAR },
        { "verify", required_argument, NULL, O_VERIFY },
        { "keep", required_argument, NULL, O_KEEP },
        { "clusters", required_argument, NULL, O_CLUSTERS },
        { "pairs", required_argument, NULL, O_PAIRS },
        { "max-memory", required_argument, NULL, O_MAXMEM },
        CLI_OPT_OUTPUT, CLI_OPT_JOBS, CLI_OPT_SHARD, CLI_OPT_TEXT_FIELD, CLI_OPT_STRICT,
        CLI_OPT_SKIP_BAD, CLI_OPT_STATS, CLI_OPT_PROGRESS, CLI_OPT_FORCE,
        { "band", required_argument, NULL, O_BAND },
        { "dir", required_argument, NULL, O_DIR },
        { "keep-shingles", no_argument, NULL, O_KEEP_SHINGLES },
        CLI_OPT_HELP,
        CLI_OPT_END,
    };
    dd_opts o;
    memset(&o, 0, sizeof o);
    dd_params_preset(&o.params, "fineweb");
    o.near = 1;
    o.exact = DD_EXACT_TEXT;
    o.keep = DD_KEEP_FIRST;
    o.max_memory = default_max_memory();
    cli_stream cli;
    cli_stream_init(&cli);
    const char *dir = NULL, *band = NULL;
    int keep_shingles = 0;
    long ngram = -1, bands = -1, rows = -1, kind = -1;
    unsigned long long u;
    int c;
    optind = 1;
    while ((c = cli_stream_getopt(&cli, argc, argv, "o:j:h", longopts)) != -1) {
        switch (c) {
        case CLI_STREAM_BAD: return QEXIT_USAGE;
        case O_PRESET:
            if (dd_params_preset(&o.params, optarg)) {
                qerr("unknown --preset '%s' (fineweb or nemo)", optarg);
                return QEXIT_USAGE;
            }
            break;
        case O_NGRAM:
            if (parse_uint(optarg, 1024, &u) || !u) { qerr("--ngram wants 1..1024"); return QEXIT_USAGE; }
            ngram = (long)u;
            break;
        case O_BANDS:
            if (parse_uint(optarg, DD_MAX_HASHES, &u) || !u) { qerr("--bands wants 1..%d", DD_MAX_HASHES); return QEXIT_USAGE; }
            bands = (long)u;
            break;
        case O_ROWS:
            if (parse_uint(optarg, 64, &u) || !u) { qerr("--rows wants 1..64"); return QEXIT_USAGE; }
            rows = (long)u;
            break;
        case O_SHINGLE:
            if (!strcmp(optarg, "word")) kind = DD_SHINGLE_WORD;
            else if (!strcmp(optarg, "char")) kind = DD_SHINGLE_CHAR;
            else { qerr("--shingle wants word or char"); return QEXIT_USAGE; }
            break;
        case O_SEED:
            if (parse_uint(optarg, UINT64_MAX, &u)) { qerr("--seed wants a number"); return QEXIT_USAGE; }
            o.params.seed = u;
            break;
        case O_EXACT:
            if (parse_keys(optarg, &o.exact)) { qerr("--exact wants text, url, text,url or none"); return QEXIT_USAGE; }
            break;
        case O_NO_NEAR: o.near = 0; break;
        case O_VERIFY: {
            char *end;
            o.verify = strtod(optarg, &end);
            if (*end || !(o.verify > 0 && o.verify <= 1)) { qerr("--verify wants a Jaccard in (0, 1]"); return QEXIT_USAGE; }
            break;
        }
        case O_KEEP:
            if (!strcmp(optarg, "first")) o.keep = DD_KEEP_FIRST;
            else if (!strcmp(optarg, "longest")) o.keep = DD_KEEP_LONGEST;
            else { qerr("--keep wants first or longest"); return QEXIT_USAGE; }
            break;
        case O_CLUSTERS: o.clusters_path = optarg; break;
        case O_PAIRS: o.pairs_path = optarg; break;
        case O_MAXMEM:
            if (cli_parse_size(optarg, &o.max_memory)) { qerr("bad --max-memory '%s'", optarg); return QEXIT_USAGE; }
            break;
        case O_BAND: band = optarg; break;
        case O_DIR: dir = optarg; break;
        case O_KEEP_SHINGLES: keep_shingles = 1; break;
        case 'h': usage(stdout); return QEXIT_OK;
        default: usage(stderr); return QEXIT_USAGE;
        }
    }
    const char *out = cli.output;
    unsigned shard_i = cli.shard_i, shard_n = cli.shard_n;
    o.jobs = cli.jobs;
    o.text_field = cli.text_field;
    o.strict = cli.strict;
    o.stats_path = cli.stats_path;
    o.progress = cli.progress;
    o.force = cli.force;
    if (ngram > 0) o.params.ngram = (unsigned)ngram;
    if (bands > 0) o.params.bands = (unsigned)bands;
    if (rows > 0) o.params.rows = (unsigned)rows;
    if (kind >= 0) o.params.kind = (dd_shingle_kind)kind;
    if (o.params.bands * o.params.rows > DD_MAX_HASHES) {
        qerr("--bands x --rows must be at most %d", DD_MAX_HASHES);
        return QEXIT_USAGE;
    }
    if (o.params.kind == DD_SHINGLE_WORD && o.params.ngram > 64) {
        qerr("word shingles: --ngram at most 64");
        return QEXIT_USAGE;
    }
    if (!o.near && o.verify > 0) {
        qerr("--verify needs near dedup (drop --no-near)");
        return QEXIT_USAGE;
    }
    if (!o.near && !o.exact) {
        qerr("nothing to do: --no-near and --exact none");
        return QEXIT_USAGE;
    }
    if (!o.near) o.params.bands = o.params.rows = 0;
    char **args = argv + optind;
    int nargs = argc - optind;

    switch (phase) {
    case DD_PHASE_SIGNATURES:
        if (!out && !dir) { qerr("signatures: -o DIR is required"); return QEXIT_USAGE; }
        return dd_phase_signatures(&o, dir ? dir : out, shard_i, shard_n, keep_shingles, args, nargs);
    case DD_PHASE_PAIRS:
        if (!dir && nargs == 1) dir = args[0];
        else if (nargs) { qerr("pairs: takes one directory"); return QEXIT_USAGE; }
        if (!dir) { qerr("pairs: the signatures directory is required"); return QEXIT_USAGE; }
        if (!band) { qerr("pairs: --band B (0..bands-1, exact-text, exact-url or all) is required"); return QEXIT_USAGE; }
        return dd_phase_pairs(&o, dir, band);
    case DD_PHASE_CLUSTERS:
        if (!dir && nargs == 1) dir = args[0];
        else if (nargs) { qerr("clusters: takes one directory"); return QEXIT_USAGE; }
        if (!dir) { qerr("clusters: the signatures directory is required"); return QEXIT_USAGE; }
        return dd_phase_clusters(&o, dir);
    case DD_PHASE_FILTER:
        if (!dir) { qerr("filter: --dir DIR (the signatures directory) is required"); return QEXIT_USAGE; }
        return dd_phase_filter(&o, dir, out, shard_i, shard_n, args, nargs);
    default:
        break;
    }

    /* in-memory mode: the shard's inputs; references use the input's index
     * in the full list (i % N == I), as the phased mode does */
    qinputs full;
    char err[512];
    if (qinputs_expand(&full, args, nargs, 0, 1, err, sizeof err)) {
        qerr("%s", err);
        return QEXIT_BADINPUT;
    }
    char **paths;
    uint64_t *index;
    size_t n = dd_shard_inputs(&full, shard_i, shard_n, &paths, &index);
    int rc = dd_run_memory(&o, paths, n, index, out);
    free(paths);
    free(index);
    qinputs_free(&full);
    return rc;
}
