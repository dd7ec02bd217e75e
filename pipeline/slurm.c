/* slurm.c - `quern pipeline slurm`: one sbatch job array per stage that has
 * units left to do, chained with afterok dependencies. Each array task runs
 * `quern pipeline unit` for its share of the stage's missing units, so a
 * resubmission only redoes what is missing, whatever the array size was. A
 * failed task fails its array; the dependants are then cancelled by Slurm
 * (--kill-on-invalid-dep=yes, and kill_invalid_depend in slurm.conf) instead
 * of pending forever. */
#include "pipeline.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../common/cli.h"
#include "../common/outfile.h"

static int write_file(const char *path, const char *data, size_t n, int mode)
{
    strbuf tmp = STRBUF_INIT;
    sb_addf(&tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(sb_str(&tmp), "w");
    int rc = -1;
    if (f) {
        int ok = fwrite(data, 1, n, f) == n;
        if (fclose(f) == 0 && ok && chmod(sb_str(&tmp), (mode_t)mode) == 0 && rename(sb_str(&tmp), path) == 0) rc = 0;
    }
    if (rc) unlink(sb_str(&tmp));
    sb_free(&tmp);
    return rc;
}

static const char *pick(const char *cli, const char *stage, const char *dflt)
{
    return cli ? cli : stage ? stage : dflt;
}

/* The #SBATCH lines for a stage's resources. */
static void add_resources(strbuf *sc, const qpl_config *c, qpl_stage s, const qpl_slurm_opts *o, int *cpus_out)
{
    const qpl_res *r = &c->res[s], *d = &c->res_default;
    const char *part = pick(o->partition, r->partition, d->partition);
    const char *time = pick(o->time, r->time, d->time);
    const char *mem = pick(o->mem, r->mem, d->mem);
    const char *acct = pick(o->account, r->account, d->account);
    const char *qos = pick(NULL, r->qos, d->qos);
    int cpus = o->cpus > 0 ? o->cpus : r->cpus > 0 ? r->cpus : d->cpus > 0 ? d->cpus : 1;
    *cpus_out = cpus;
    sb_addf(sc, "#SBATCH --cpus-per-task=%d\n", cpus);
    if (part) sb_addf(sc, "#SBATCH --partition=%s\n", part);
    if (time) sb_addf(sc, "#SBATCH --time=%s\n", time);
    if (mem) sb_addf(sc, "#SBATCH --mem=%s\n", mem);
    if (acct) sb_addf(sc, "#SBATCH --account=%s\n", acct);
    if (qos) sb_addf(sc, "#SBATCH --qos=%s\n", qos);
    for (char **e = d->extra; e && *e; e++) sb_addf(sc, "#SBATCH %s\n", *e);
    for (char **e = r->extra; e && *e; e++) sb_addf(sc, "#SBATCH %s\n", *e);
}

static void build_script(strbuf *sc, const qpl_config *c, qpl_stage s, const unsigned *missing,
                         unsigned n_missing, unsigned tasks, unsigned throttle, const qpl_slurm_opts *o)
{
    const char *name = qpl_stage_name(s);
    unsigned n = qpl_units(c, s);
    sb_addf(sc, "#!/bin/bash\n");
    sb_addf(sc, "# quern pipeline '%s', stage %s: %u of %u units to do, in %u array task%s.\n", c->name,
            name, n_missing, n, tasks, tasks == 1 ? "" : "s");
    sb_addf(sc, "# Written by `quern pipeline slurm %s`; rerunning that resubmits only missing units.\n",
            c->path);
    sb_addf(sc, "#SBATCH --job-name=quern-%s-%s\n", c->name, name);
    sb_addf(sc, "#SBATCH --array=0-%u", tasks - 1);
    if (throttle) sb_addf(sc, "%%%u", throttle);
    sb_addc(sc, '\n');
    sb_addf(sc, "#SBATCH --output=%s/logs/%s_%%A_%%a.log\n", c->workdir, name);
    sb_addf(sc, "#SBATCH --chdir=%s\n", c->dir);
    sb_addf(sc, "#SBATCH --kill-on-invalid-dep=yes\n");
    int cpus;
    add_resources(sc, c, s, o, &cpus);

    /* What the units run, for a reader of the script (the unit builds these
     * itself when it starts, from the inputs complete by then). */
    if (qpl_stage_in_place(s))
        sb_adds(sc, "#\n# Each unit runs (its files are written atomically; a marker records the unit\n"
                    "# done when every command succeeded):\n");
    else
        sb_adds(sc, "#\n# Each unit runs (into a temporary directory, renamed to the unit's output when\n"
                    "# every command succeeded; OUT below):\n");
    for (unsigned k = 0; k < n_missing && k < 3; k++) {
        qpl_cmds cmds;
        char err[256];
        char *outp = qpl_unit_output(c, s, missing[k]);
        if (qpl_unit_cmds(c, s, missing[k], "OUT", cpus, QPL_CMD_PREVIEW, &cmds, err, sizeof err) == 0) {
            strbuf line = STRBUF_INIT;
            qpl_cmds_format(&cmds, &line);
            if (line.len > 600) { sb_setlen(&line, 600); sb_adds(&line, " ..."); }
            sb_addf(sc, "#   unit %u: %s\n", missing[k], sb_str(&line));
            if (!qpl_stage_in_place(s)) sb_addf(sc, "#     OUT: %s\n", outp);
            sb_free(&line);
            qpl_cmds_free(&cmds);
        }
        free(outp);
    }
    if (n_missing > 3) sb_addf(sc, "#   ... and %u more units\n", n_missing - 3);

    sb_adds(sc, "set -u\n");
    strbuf q = STRBUF_INIT;
    qpl_shell_quote(&q, c->self);
    sb_addf(sc, "quern=%s\n", sb_str(&q));
    sb_reset(&q);
    qpl_shell_quote(&q, c->path);
    sb_addf(sc, "pipeline=%s\n", sb_str(&q));
    sb_reset(&q);
    qpl_shell_quote(&q, c->workdir);
    sb_addf(sc, "log=%s/logs/%s_${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}.log\n", sb_str(&q), name);
    sb_free(&q);
    sb_adds(sc, "units=(");
    for (unsigned k = 0; k < n_missing; k++) {
        if (k) sb_addc(sc, k % 20 ? ' ' : '\n');
        sb_addf(sc, "%u", missing[k]);
    }
    sb_adds(sc, ")\n");
    sb_addf(sc, "# task t runs units[t], units[t + %u], ...; a failed unit fails the task.\n", tasks);
    sb_addf(sc, "rc=0\n"
                "for ((k = SLURM_ARRAY_TASK_ID; k < ${#units[@]}; k += %u)); do\n"
                "    \"$quern\" pipeline unit --threads %d --log \"$log\" \"$pipeline\" %s \"${units[k]}\" || rc=1\n"
                "done\n"
                "exit $rc\n",
            tasks, cpus, name);
}

/* sbatch --parsable ... -> the job id ("123" or "123;cluster"). */
static int submit(const char *script, const char *dep, char *id, size_t idlen)
{
    char *argv[8];
    int a = 0;
    char depopt[512];
    argv[a++] = "sbatch";
    argv[a++] = "--parsable";
    if (dep && *dep) {
        snprintf(depopt, sizeof depopt, "--dependency=afterok:%s", dep);
        argv[a++] = depopt;
    }
    argv[a++] = (char *)script;
    argv[a] = NULL;
    strbuf out = STRBUF_INIT;
    int rc = qpl_capture(argv, &out, 0);
    if (rc != 0) {
        qerr("sbatch %s failed (%s %d)", script, rc < 0 ? "could not run: is Slurm installed? status" : "exit", rc);
        sb_free(&out);
        return -1;
    }
    const char *s = sb_str(&out);
    size_t l = strspn(s, "0123456789");
    if (!l || l >= idlen) {
        qerr("sbatch %s: unexpected answer '%s'", script, s);
        sb_free(&out);
        return -1;
    }
    memcpy(id, s, l);
    id[l] = '\0';
    sb_free(&out);
    return 0;
}

static void cancel_jobs(char ids[][32], int n)
{
    for (int i = 0; i < n; i++) {
        if (!ids[i][0]) continue;
        char *argv[] = { "scancel", ids[i], NULL };
        qpl_capture(argv, NULL, 1);
    }
}

static void sleep_s(double s)
{
    struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

/* After the queue is empty: what Slurm says about each job's tasks. */
static void report_jobs(const qpl_config *c, char ids[][32])
{
    for (int s = 0; s < QPL_NSTAGES; s++) {
        if (!ids[s][0]) continue;
        char *argv[] = { "scontrol", "-o", "show", "job", ids[s], NULL };
        strbuf out = STRBUF_INIT;
        int rc = qpl_capture(argv, &out, 1);
        unsigned completed = 0, failed = 0, cancelled = 0, other = 0;
        char reason[64] = "";
        const char *p = sb_str(&out);
        while (rc == 0 && (p = strstr(p, "JobState="))) {
            p += 9;
            size_t l = strcspn(p, " \n");
            if (!strncmp(p, "COMPLETED", l)) completed++;
            else if (!strncmp(p, "CANCELLED", l)) {
                cancelled++;
                const char *r = strstr(p, "Reason=");
                if (r && !reason[0]) snprintf(reason, sizeof reason, "%.*s", (int)strcspn(r + 7, " \n"), r + 7);
            } else if (!strncmp(p, "FAILED", l) || !strncmp(p, "TIMEOUT", l) || !strncmp(p, "NODE_FAIL", l)
                       || !strncmp(p, "OUT_OF_MEMORY", l)) failed++;
            else other++;
        }
        if (rc != 0) printf("%-11s job %s: no longer known to Slurm\n", qpl_stage_name((qpl_stage)s), ids[s]);
        else {
            printf("%-11s job %s:", qpl_stage_name((qpl_stage)s), ids[s]);
            if (completed) printf(" %u completed", completed);
            if (failed) printf(" %u failed", failed);
            if (cancelled) printf(" %u cancelled%s%s%s", cancelled, reason[0] ? " (" : "", reason, reason[0] ? ")" : "");
            if (other) printf(" %u other", other);
            if (failed) printf("; logs: %s/logs/%s_%s_*.log", c->workdir, qpl_stage_name((qpl_stage)s), ids[s]);
            printf("\n");
        }
        sb_free(&out);
    }
}

int qpl_slurm_submit(const qpl_config *c, const qpl_slurm_opts *o)
{
    int last = o->until >= 0 && o->until < QPL_NSTAGES ? o->until : QPL_NSTAGES - 1;
    /* Slurm's default MaxArraySize is 1001: indices 0..1000 */
    unsigned array_max = o->array_max ? o->array_max : c->array_max ? c->array_max : 1000;
    unsigned throttle = o->throttle ? o->throttle : c->throttle;
    /* #SBATCH lines are split at blanks: paths there must not hold any */
    const char *paths[] = { c->workdir, c->dir };
    for (int i = 0; i < 2; i++)
        if (strpbrk(paths[i], " \t\n")) {
            qerr("%s: a path with blanks cannot go into #SBATCH --output/--chdir; use another work dir", paths[i]);
            return 2;
        }
    if (!o->dry_run && !o->force) {
        strbuf q = STRBUF_INIT;
        qpl_slurm_queued_jobs(c, &q);
        if (q.len) {
            qerr("jobs of an earlier submission are still in the queue: %s (wait for them, scancel them, "
                 "or pass --force)", sb_str(&q));
            sb_free(&q);
            return 1;
        }
        sb_free(&q);
    }
    char *sdir = qpl_path_join(c->workdir, ".pipeline/slurm");
    char *ldir = qpl_path_join(c->workdir, "logs");
    if (!o->dry_run && (qmkdirs(sdir) != 0 || qmkdirs(ldir) != 0)) {
        qerr("%s: cannot create: %s", c->workdir, strerror(errno));
        free(sdir); free(ldir);
        return 1;
    }
    char ids[QPL_NSTAGES][32];
    memset(ids, 0, sizeof ids);
    strbuf record = STRBUF_INIT, summary = STRBUF_INIT;
    int submitted = 0, rc = 0;
    for (int s = 0; s <= last; s++) {
        unsigned n = qpl_units(c, (qpl_stage)s);
        if (!n) continue;
        unsigned *missing = malloc((n + 1) * sizeof *missing), nm = 0;
        for (unsigned u = 0; u < n; u++)
            if (!qpl_unit_done(c, (qpl_stage)s, u)) missing[nm++] = u;
        const char *name = qpl_stage_name((qpl_stage)s);
        if (!nm) {
            sb_addf(&summary, "%-11s all %u units done: nothing to submit\n", name, n);
            free(missing);
            continue;
        }
        unsigned tasks = nm > array_max ? array_max : nm;
        strbuf dep = STRBUF_INIT, depshow = STRBUF_INIT;
        qpl_stage deps[QPL_NSTAGES];
        int nd = qpl_stage_deps(c, (qpl_stage)s, deps);
        for (int d = 0; d < nd; d++) {
            if (o->dry_run && qpl_units(c, deps[d])) {
                /* the dependency exists if that stage has a job in this run */
                int has = 0;
                for (unsigned u = 0; u < qpl_units(c, deps[d]) && !has; u++) has = !qpl_unit_done(c, deps[d], u);
                if (has) sb_addf(&depshow, "%s<job of %s>", depshow.len ? ":" : "", qpl_stage_name(deps[d]));
            } else if (ids[deps[d]][0]) {
                sb_addf(&dep, "%s%s", dep.len ? ":" : "", ids[deps[d]]);
            }
        }
        strbuf sc = STRBUF_INIT;
        build_script(&sc, c, (qpl_stage)s, missing, nm, tasks, throttle, o);
        strbuf path = STRBUF_INIT;
        sb_addf(&path, "%s/%s.sbatch", sdir, name);
        if (o->dry_run) {
            printf("# ---- stage %s: sbatch --parsable%s%s %s\n", name, depshow.len ? " --dependency=afterok:" : "",
                   sb_str(&depshow), sb_str(&path));
            fputs(sb_str(&sc), stdout);
            printf("\n");
        } else {
            if (write_file(sb_str(&path), sc.buf, sc.len, 0755) != 0) {
                qerr("%s: cannot write: %s", sb_str(&path), strerror(errno));
                rc = 1;
            } else if (submit(sb_str(&path), sb_str(&dep), ids[s], sizeof ids[s]) != 0) {
                rc = 1;
            } else {
                submitted++;
                sb_addf(&record, "%s\t%s\t", name, ids[s]);
                for (unsigned k = 0; k < nm; k++) sb_addf(&record, "%s%u", k ? "," : "", missing[k]);
                sb_addc(&record, '\n');
                sb_addf(&summary, "%-11s job %s: %u of %u units in %u array tasks%s%s\n", name, ids[s], nm, n,
                        tasks, dep.len ? ", after " : "", sb_str(&dep));
            }
        }
        sb_free(&sc); sb_free(&path); sb_free(&dep); sb_free(&depshow);
        free(missing);
        if (rc) break;
    }
    if (rc && submitted) {
        qerr("cancelling the jobs already submitted");
        cancel_jobs(ids, QPL_NSTAGES);
    }
    if (!o->dry_run && !rc) {
        char *rp = qpl_path_join(sdir, "jobs.tsv");
        if (write_file(rp, sb_str(&record), record.len, 0644) != 0) {
            qerr("%s: cannot write: %s", rp, strerror(errno));
            rc = 1;
        }
        free(rp);
    }
    if (!o->dry_run) fputs(sb_str(&summary), stdout);
    fflush(stdout);
    sb_free(&record); sb_free(&summary);
    free(sdir); free(ldir);
    if (rc || o->dry_run || !o->wait) return rc;
    if (!submitted) return qpl_status_print(c, last, 0, 0);

    /* --wait: poll the queue (sbatch --wait backs off to 32 s polls). */
    strbuf list = STRBUF_INIT;
    for (int s = 0; s < QPL_NSTAGES; s++)
        if (ids[s][0]) sb_addf(&list, "%s%s", list.len ? "," : "", ids[s]);
    double poll = o->poll_s > 0 ? o->poll_s : 0.5;
    double unknown_s = 0;
    for (;;) {
        int alive = qpl_squeue_alive(list.buf);
        if (alive == 0) break;
        if (alive < 0) {
            /* squeue failed for another reason (controller restarting?):
             * keep asking for a while rather than report too early */
            unknown_s += poll;
            if (unknown_s > 120) {
                qerr("squeue has not answered for 2 minutes; the jobs may still run (%s)", list.buf);
                sb_free(&list);
                return 1;
            }
        } else {
            unknown_s = 0;
        }
        sleep_s(poll);
    }
    sb_free(&list);
    report_jobs(c, ids);
    return qpl_status_print(c, last, 1, 0);
}
