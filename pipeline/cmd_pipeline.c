/* cmd_pipeline.c - `quern pipeline run|slurm|status|plan|unit FILE`. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/cli.h"
#include "../common/cli_stream.h"
#include "../common/commands.h"
#include "pipeline.h"

static const char usage_text[] =
    "usage: quern pipeline run    [-j N] [--threads T] [--until STAGE] [--keep-going] [--force] FILE\n"
    "       quern pipeline slurm  [--dry-run] [--wait] [--array-max N] [--throttle N] [--partition P]\n"
    "                             [--time T] [--mem M] [--account A] [--cpus-per-task C]\n"
    "                             [--until STAGE] [--poll SECONDS] [--force] FILE\n"
    "       quern pipeline status [--no-slurm] [-v] FILE\n"
    "       quern pipeline plan   FILE\n"
    "       quern pipeline unit   [--threads T] [--log PATH] [--force] FILE STAGE UNIT\n"
    "\n"
    "Runs a whole pipeline described in FILE (ingest+clean -> dedup signatures -> pairs ->\n"
    "clusters -> filter -> tokenize -> mix -> train), on this machine or as Slurm job arrays.\n"
    "Each stage is cut into units (one per input file, per LSH band, or one); a unit writes one\n"
    "directory under the work dir, built under a temporary name and renamed when it succeeded\n"
    "(dedup phases and train, which write in place: a marker file then), so every run skips\n"
    "what is done and redoes only failed or missing units. A run refuses a FILE whose inputs or\n"
    "stage options changed under done units (WORKDIR/.pipeline/record.tsv).\n"
    "\n"
    "  run     every missing unit here, up to -j units at once (default: all cores); a unit\n"
    "          starts when its inputs are done. Logs: WORKDIR/logs/local/STAGE_UNIT.log\n"
    "  slurm   writes WORKDIR/.pipeline/slurm/STAGE.sbatch and submits one job array per stage\n"
    "          with missing units, chained with afterok (--kill-on-invalid-dep=yes: dependants\n"
    "          of a failed task are cancelled). --array-max N: at most N tasks per array (a task\n"
    "          then runs several units); --throttle N: at most N tasks at once (%N);\n"
    "          --dry-run prints the scripts; --wait polls until the jobs are gone, then reports\n"
    "          (exit 0 only when every unit is done). Logs: WORKDIR/logs/STAGE_JOB_TASK.log\n"
    "  status  per stage: units done, running, queued (in Slurm), failed (with log), missing;\n"
    "          exit 0 when all are done\n"
    "  plan    the stages, their units and the commands each unit runs\n"
    "  unit    run one unit (what the Slurm scripts call)\n"
    "\n"
    "Stages: clean (ingest and/or clean), signatures, pairs, clusters, filter, tokenize, mix, train.\n"
    "\n"
    "FILE format ('#' comments, 'key = value', a trailing '\\' continues a line):\n"
    "  [pipeline]  name = NAME   workdir = DIR   inputs = PATH|GLOB|URL ... (repeatable)\n"
    "              quern = BINARY (default: this one)\n"
    "  [ingest]    options = ...        (present: inputs are WARC/WET archives)\n"
    "  [clean]     options = ...        (e.g. --preset fineweb)\n"
    "  [dedup]     options = ... (every phase)  signatures|pairs|clusters|filter = ...  bands = N\n"
    "  [tokenize]  options = ...   [mix] options = ...  weight = W\n"
    "  [train]     options = ...  resume = ... (options when continuing from a checkpoint)\n"
    "  [slurm]     partition time mem cpus account qos sbatch(extra options) array_max throttle\n"
    "  [slurm.STAGE]  the same resource keys for one stage\n"
    "Relative paths are relative to FILE's directory, where every command runs.\n"
    "See pipeline/README.md for the full description.\n";

static int load(qpl_config *c, const char *file)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) snprintf(self, sizeof self, "quern");
    else self[n] = '\0';
    char err[1024];
    if (qpl_config_load(c, file, self, err, sizeof err) != 0) {
        qerr("%s", err);
        return -1;
    }
    return 0;
}

static int parse_stage(const char *s, int *out)
{
    int st = qpl_stage_from_name(s);
    if (st < 0) {
        qerr("unknown stage '%s' (clean, signatures, pairs, clusters, filter, tokenize, mix, train)", s);
        return -1;
    }
    *out = st;
    return 0;
}

static int parse_pos(const char *s, const char *what, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end || v < 1 || v > 100000) {
        qerr("%s: expected a positive number, got '%s'", what, s);
        return -1;
    }
    *out = (int)v;
    return 0;
}

static int cmd_plan(const qpl_config *c)
{
    printf("pipeline %s\n  file    %s\n  workdir %s\n  quern   %s\n  inputs  %zu\n", c->name, c->path,
           c->workdir, c->quern, c->n_inputs);
    for (int s = 0; s < QPL_NSTAGES; s++) {
        unsigned n = qpl_units(c, (qpl_stage)s);
        if (!n) continue;
        qpl_stage deps[QPL_NSTAGES];
        int nd = qpl_stage_deps(c, (qpl_stage)s, deps);
        unsigned done = 0;
        for (unsigned u = 0; u < n; u++) done += qpl_unit_done(c, (qpl_stage)s, u);
        printf("stage %s: %u units, %u done", qpl_stage_name((qpl_stage)s), n, done);
        for (int d = 0; d < nd; d++)
            printf("%s%s%s", d ? ", " : "; after ", qpl_stage_name(deps[d]),
                   qpl_dep_is_all(c, (qpl_stage)s, deps[d]) ? " (all)" : " (same shard)");
        printf("\n");
        for (unsigned u = 0; u < n; u++) {
            qpl_cmds cmds;
            char err[256];
            char *out = qpl_unit_output(c, (qpl_stage)s, u);
            if (qpl_unit_cmds(c, (qpl_stage)s, u, out, 1, QPL_CMD_PREVIEW, &cmds, err, sizeof err) == 0) {
                strbuf line = STRBUF_INIT;
                qpl_cmds_format(&cmds, &line);
                printf("  %05u %s\n", u, sb_str(&line));
                sb_free(&line);
                qpl_cmds_free(&cmds);
            }
            free(out);
        }
    }
    return 0;
}

int cmd_pipeline(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage_text, stderr);
        return QEXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        fputs(usage_text, stdout);
        return QEXIT_OK;
    }
    const char *verb = argv[1];
    /* -j, --force and --help are spelled as every command spells them
     * (cli_stream.h), but -j here counts units run at once, with its own
     * parser and message, so these are handled below, not by cli_stream_opt. */
    enum { O_THREADS = 256, O_UNTIL, O_KEEP, O_DRY, O_WAIT, O_AMAX, O_THROTTLE, O_PART,
           O_TIME, O_MEM, O_ACCT, O_CPUS, O_NOSLURM, O_LOG, O_POLL };
    static const struct option opts[] = {
        CLI_OPT_JOBS,
        { "threads", required_argument, NULL, O_THREADS },
        { "until", required_argument, NULL, O_UNTIL },
        { "keep-going", no_argument, NULL, O_KEEP },
        CLI_OPT_FORCE,
        { "dry-run", no_argument, NULL, O_DRY },
        { "wait", no_argument, NULL, O_WAIT },
        { "array-max", required_argument, NULL, O_AMAX },
        { "throttle", required_argument, NULL, O_THROTTLE },
        { "partition", required_argument, NULL, O_PART },
        { "time", required_argument, NULL, O_TIME },
        { "mem", required_argument, NULL, O_MEM },
        { "account", required_argument, NULL, O_ACCT },
        { "cpus-per-task", required_argument, NULL, O_CPUS },
        { "no-slurm", no_argument, NULL, O_NOSLURM },
        { "log", required_argument, NULL, O_LOG },
        { "poll", required_argument, NULL, O_POLL },
        { "verbose", no_argument, NULL, 'v' },
        CLI_OPT_HELP,
        CLI_OPT_END,
    };
    qpl_run_opts ro = { .until = QPL_NSTAGES - 1 };
    qpl_slurm_opts so = { .until = QPL_NSTAGES - 1 };
    qpl_exec_opts eo = { 0 };
    int no_slurm = 0, verbose = 0, v;
    optind = 1;
    int c;
    while ((c = getopt_long(argc - 1, argv + 1, "j:vh", opts, NULL)) != -1) {
        switch (c) {
        case 'j': if (parse_pos(optarg, "-j", &ro.jobs)) return QEXIT_USAGE; break;
        case O_THREADS:
            if (parse_pos(optarg, "--threads", &v)) return QEXIT_USAGE;
            ro.threads = eo.threads = v;
            break;
        case O_UNTIL:
            if (parse_stage(optarg, &v)) return QEXIT_USAGE;
            ro.until = so.until = v;
            break;
        case O_KEEP: ro.keep_going = 1; break;
        case CLI_O_FORCE: ro.force = so.force = eo.force = 1; break;
        case O_DRY: so.dry_run = 1; break;
        case O_WAIT: so.wait = 1; break;
        case O_AMAX: if (parse_pos(optarg, "--array-max", &v)) return QEXIT_USAGE; so.array_max = (unsigned)v; break;
        case O_THROTTLE: if (parse_pos(optarg, "--throttle", &v)) return QEXIT_USAGE; so.throttle = (unsigned)v; break;
        case O_PART: so.partition = optarg; break;
        case O_TIME: so.time = optarg; break;
        case O_MEM: so.mem = optarg; break;
        case O_ACCT: so.account = optarg; break;
        case O_CPUS: if (parse_pos(optarg, "--cpus-per-task", &so.cpus)) return QEXIT_USAGE; break;
        case O_NOSLURM: no_slurm = 1; break;
        case O_LOG: eo.log = optarg; break;
        case O_POLL: so.poll_s = atof(optarg); break;
        case 'v': verbose = ro.verbose = 1; break;
        case 'h': fputs(usage_text, stdout); return QEXIT_OK;
        default: fputs(usage_text, stderr); return QEXIT_USAGE;
        }
    }
    int nargs = argc - 1 - optind;
    char **args = argv + 1 + optind;
    int is_unit = !strcmp(verb, "unit");
    if (!strcmp(verb, "run") || !strcmp(verb, "slurm") || !strcmp(verb, "status") || !strcmp(verb, "plan")) {
        if (nargs != 1) {
            qerr("%s needs exactly one pipeline FILE", verb);
            return QEXIT_USAGE;
        }
    } else if (is_unit) {
        if (nargs != 3) {
            qerr("unit needs FILE STAGE UNIT");
            return QEXIT_USAGE;
        }
    } else {
        qerr("unknown action '%s' (run, slurm, status, plan, unit); see quern pipeline --help", verb);
        return QEXIT_USAGE;
    }
    qpl_config cfg;
    if (load(&cfg, args[0]) != 0) return QEXIT_USAGE;
    int rc;
    if (!strcmp(verb, "run") || !strcmp(verb, "slurm")) {
        char err[2048];
        if (qpl_check_record(&cfg, !so.dry_run, err, sizeof err) != 0) {
            qerr("%s", err);
            qpl_config_free(&cfg);
            return QEXIT_USAGE;
        }
    }
    if (!strcmp(verb, "run") && !ro.force) {
        /* two runners on one work dir would redo each other's units */
        strbuf q = STRBUF_INIT;
        qpl_slurm_queued_jobs(&cfg, &q);
        if (q.len) {
            qerr("Slurm jobs of this pipeline are still in the queue: %s (wait, scancel them, or pass --force)",
                 sb_str(&q));
            sb_free(&q);
            qpl_config_free(&cfg);
            return QEXIT_BADINPUT;
        }
        sb_free(&q);
    }
    if (!strcmp(verb, "run")) rc = qpl_run_local(&cfg, &ro);
    else if (!strcmp(verb, "slurm")) rc = qpl_slurm_submit(&cfg, &so);
    else if (!strcmp(verb, "status")) rc = qpl_status_print(&cfg, QPL_NSTAGES - 1, !no_slurm, verbose);
    else if (!strcmp(verb, "plan")) rc = cmd_plan(&cfg);
    else {
        int st;
        char *end;
        long u = strtol(args[2], &end, 10);
        if (parse_stage(args[1], &st)) rc = QEXIT_USAGE;
        else if (end == args[2] || *end || u < 0 || u > 100000000) {
            qerr("unit: '%s' is not a unit number", args[2]);
            rc = QEXIT_USAGE;
        } else {
            rc = qpl_exec_unit(&cfg, (qpl_stage)st, (unsigned)u, &eo);
        }
    }
    qpl_config_free(&cfg);
    return rc;
}
