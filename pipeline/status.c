/* status.c - `quern pipeline status`: per stage how many units are done,
 * running, queued, failed or missing, read from the outputs themselves
 * (done = the unit's output directory exists) and from the markers that
 * exec.c leaves, checked against the process table or Slurm's queue. */
#include "pipeline.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int slurm_job_alive(const char *id)
{
    return qpl_squeue_alive(id);
}

/* Split a marker line into its 5 tab-separated fields (in place). */
static int read_marker(const char *path, char *line, size_t len, char *f[5])
{
    FILE *fp = fopen(path, "r");
    if (!fp) return -1;
    if (!fgets(line, (int)len, fp)) { fclose(fp); return -1; }
    fclose(fp);
    line[strcspn(line, "\n")] = '\0';
    char *p = line;
    for (int i = 0; i < 5; i++) {
        f[i] = p;
        char *t = p ? strchr(p, '\t') : NULL;
        if (t) { *t = '\0'; p = t + 1; } else p = NULL;
        if (!f[i]) f[i] = "";
    }
    return 0;
}

static void where_from(char *f[5], char *out, size_t len)
{
    if (!strcmp(f[0], "slurm")) {
        const char *colon = strchr(f[1], ':');
        snprintf(out, len, "slurm job %s on %s", colon ? colon + 1 : f[1], f[2]);
    } else {
        snprintf(out, len, "pid %s on %s", f[1], f[2]);
    }
}

void qpl_unit_status_get(const qpl_config *c, qpl_stage s, unsigned u, int check_slurm,
                         qpl_unit_status *st)
{
    memset(st, 0, sizeof *st);
    if (qpl_unit_done(c, s, u)) { st->state = QPL_DONE; return; }
    char line[2048], *f[5];
    char *run = qpl_marker_path(c, s, u, "running");
    char *fail = qpl_marker_path(c, s, u, "failed");
    if (read_marker(run, line, sizeof line, f) == 0) {
        where_from(f, st->where, sizeof st->where);
        snprintf(st->log, sizeof st->log, "%s", f[3]);
        st->state = QPL_RUNNING;
        if (!strcmp(f[0], "local")) {
            char host[256];
            qpl_hostname(host, sizeof host);
            pid_t pid = (pid_t)atol(f[1]);
            if (!strcmp(host, f[2]) && pid > 0 && kill(pid, 0) != 0 && errno == ESRCH) {
                st->state = QPL_FAILED;
                snprintf(st->why, sizeof st->why, "lost: the process ended without a report");
            }
        } else if (check_slurm) {
            char id[64];
            snprintf(id, sizeof id, "%.*s", (int)strcspn(f[1], ":"), f[1]);
            if (slurm_job_alive(id) == 0) {
                st->state = QPL_FAILED;
                snprintf(st->why, sizeof st->why, "lost: the Slurm job ended without a report (killed?)");
            }
        }
    } else if (read_marker(fail, line, sizeof line, f) == 0) {
        st->state = QPL_FAILED;
        where_from(f, st->where, sizeof st->where);
        snprintf(st->log, sizeof st->log, "%s", f[3]);
        snprintf(st->why, sizeof st->why, "%s", f[4]);
    }
    free(run);
    free(fail);
}

/* The last submission's jobs: lines "stage \t jobid \t unit,unit,..." */
typedef struct jobrec {
    int stage;
    char id[32];
    char *units;   /* ",1,4,7," for cheap lookups */
} jobrec;

static int read_jobs(const qpl_config *c, jobrec *recs, int max)
{
    char *path = qpl_path_join(c->workdir, ".pipeline/slurm/jobs.tsv");
    FILE *fp = fopen(path, "r");
    free(path);
    if (!fp) return 0;
    int n = 0;
    char *line = NULL;
    size_t cap = 0;
    while (n < max && getline(&line, &cap, fp) > 0) {
        line[strcspn(line, "\n")] = '\0';
        char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
        if (!t2) continue;
        *t1 = *t2 = '\0';
        int s = qpl_stage_from_name(line);
        if (s < 0) continue;
        recs[n].stage = s;
        snprintf(recs[n].id, sizeof recs[n].id, "%s", t1 + 1);
        strbuf u = STRBUF_INIT;
        sb_addf(&u, ",%s,", t2 + 1);
        recs[n].units = sb_detach(&u, NULL);
        n++;
    }
    free(line);
    fclose(fp);
    return n;
}

void qpl_slurm_queued_jobs(const qpl_config *c, strbuf *out)
{
    jobrec recs[QPL_NSTAGES * 4];
    int n = read_jobs(c, recs, QPL_NSTAGES * 4);
    for (int i = 0; i < n; i++) {
        if (slurm_job_alive(recs[i].id) == 1) {
            if (out->len) sb_addc(out, ',');
            sb_adds(out, recs[i].id);
        }
        free(recs[i].units);
    }
}

int qpl_status_print(const qpl_config *c, int last, int check_slurm, int verbose)
{
    if (last < 0 || last >= QPL_NSTAGES) last = QPL_NSTAGES - 1;
    jobrec recs[QPL_NSTAGES * 4];
    int nrec = check_slurm ? read_jobs(c, recs, QPL_NSTAGES * 4) : 0;
    int alive[QPL_NSTAGES * 4];
    for (int i = 0; i < nrec; i++) alive[i] = slurm_job_alive(recs[i].id) == 1;

    printf("pipeline %s (work dir %s)\n", c->name, c->workdir);
    printf("%-11s %7s %7s %8s %7s %7s %8s\n", "stage", "units", "done", "running", "queued", "failed", "missing");
    strbuf details = STRBUF_INIT;
    int all_done = 1;
    for (int s = 0; s < QPL_NSTAGES; s++) {
        unsigned n = qpl_units(c, (qpl_stage)s);
        if (!n) continue;
        unsigned cnt[5] = { 0 };   /* done running queued failed missing */
        for (unsigned u = 0; u < n; u++) {
            qpl_unit_status st;
            qpl_unit_status_get(c, (qpl_stage)s, u, check_slurm, &st);
            strbuf label = STRBUF_INIT;
            qpl_unit_label(c, (qpl_stage)s, u, &label);
            switch (st.state) {
            case QPL_DONE: cnt[0]++; break;
            case QPL_RUNNING:
                cnt[1]++;
                if (verbose) sb_addf(&details, "running: %s %s (%s)%s%s\n", qpl_stage_name((qpl_stage)s),
                                     sb_str(&label), st.where, st.log[0] ? "; log: " : "", st.log);
                break;
            case QPL_FAILED:
                cnt[3]++;
                sb_addf(&details, "failed: %s %s: %s (%s)%s%s\n", qpl_stage_name((qpl_stage)s),
                        sb_str(&label), st.why[0] ? st.why : "failed", st.where,
                        st.log[0] ? "; log: " : "", st.log);
                break;
            default: {
                char key[32];
                snprintf(key, sizeof key, ",%u,", u);
                int queued = 0;
                for (int i = 0; i < nrec && !queued; i++)
                    queued = recs[i].stage == s && alive[i] && strstr(recs[i].units, key);
                cnt[queued ? 2 : 4]++;
                break;
            }
            }
            sb_free(&label);
        }
        if (s <= last && cnt[0] != n) all_done = 0;
        printf("%-11s %7u %7u %8u %7u %7u %8u\n", qpl_stage_name((qpl_stage)s), n, cnt[0], cnt[1],
               cnt[2], cnt[3], cnt[4]);
    }
    if (details.len) fputs(sb_str(&details), stdout);
    sb_free(&details);
    for (int i = 0; i < nrec; i++) free(recs[i].units);
    fflush(stdout);
    return all_done ? 0 : 1;
}
