/* exec.c - run one unit: its quern commands as child processes connected by
 * pipes, writing into a staging directory that is renamed to the unit's
 * output only when every process exited 0. Markers under
 * <workdir>/.pipeline/state record a unit that is running or has failed (with
 * its log), so `status` can tell running, failed and missing apart.
 *
 * The same code runs a unit for the local runner (in a forked child) and for
 * a Slurm array task (`quern pipeline unit`), so both produce the same bytes. */
#include "pipeline.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/cli.h"
#include "../common/outfile.h"

/* The unit's processes share one process group (led by the first), so a
 * signal reaches whatever they started too. */
static volatile sig_atomic_t g_signal;
static volatile pid_t g_pgid;

static void on_signal(int sig)
{
    g_signal = sig;
    if (g_pgid > 0) kill(-g_pgid, sig);
}

static void fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) { fsync(fd); close(fd); }
}

char *qpl_marker_path(const qpl_config *c, qpl_stage s, unsigned u, const char *kind)
{
    strbuf sb = STRBUF_INIT;
    sb_addf(&sb, "%s/.pipeline/state/%s/%05u.%s", c->workdir, qpl_stage_name(s), u, kind);
    return sb_detach(&sb, NULL);
}

/* Marker line: kind \t id \t host \t log \t why (tabs and newlines in the
 * fields are replaced so the line stays parseable). */
static void write_marker(const char *path, const char *kind, const char *id, const char *host,
                         const char *log, const char *why)
{
    strbuf sb = STRBUF_INIT;
    const char *f[] = { kind, id, host, log ? log : "", why ? why : "" };
    for (int i = 0; i < 5; i++) {
        if (i) sb_addc(&sb, '\t');
        for (const char *p = f[i]; *p; p++) sb_addc(&sb, *p == '\t' || *p == '\n' ? ' ' : *p);
    }
    sb_addc(&sb, '\n');
    char *dir = qpl_strdup(path);
    *strrchr(dir, '/') = '\0';
    qmkdirs(dir);
    free(dir);
    strbuf tmp = STRBUF_INIT;
    sb_addf(&tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *fp = fopen(sb_str(&tmp), "w");
    if (fp) {
        fwrite(sb.buf, 1, sb.len, fp);
        if (fclose(fp) == 0) rename(sb_str(&tmp), path);
        else unlink(sb_str(&tmp));
    }
    sb_free(&tmp);
    sb_free(&sb);
}

/* Who runs this unit: a Slurm task or a local process. */
static void identity(char *kind, size_t kl, char *id, size_t il, char *host, size_t hl)
{
    qpl_hostname(host, hl);
    const char *job = getenv("SLURM_JOB_ID");
    if (job && *job) {
        const char *aj = getenv("SLURM_ARRAY_JOB_ID"), *at = getenv("SLURM_ARRAY_TASK_ID");
        const char *node = getenv("SLURMD_NODENAME");
        snprintf(kind, kl, "slurm");
        if (aj && at) snprintf(id, il, "%s:%s_%s", job, aj, at);
        else snprintf(id, il, "%s:%s", job, job);
        if (node && *node) snprintf(host, hl, "%s", node);
    } else {
        snprintf(kind, kl, "local");
        snprintf(id, il, "%ld", (long)getpid());
    }
}

/* Remove staging directories that an earlier, killed run of this unit left
 * (".<base>.tmp.<host>.<pid>"). Only one run of a unit is ever submitted at
 * a time, so whatever is there is dead. */
static void remove_stale_staging(const char *parent, const char *base)
{
    strbuf pre = STRBUF_INIT;
    sb_addf(&pre, ".%s.tmp.", base);
    DIR *d = opendir(parent);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)))
            if (!strncmp(e->d_name, sb_str(&pre), pre.len)) {
                char *p = qpl_path_join(parent, e->d_name);
                qpl_rmtree(p);
                free(p);
            }
        closedir(d);
    }
    sb_free(&pre);
}

static int threads_default(void)
{
    const char *s = getenv("SLURM_CPUS_PER_TASK");
    if (s && atoi(s) > 0) return atoi(s);
    return cli_jobs_default();
}

static void describe_status(int status, const char *cmd, char *why, size_t wl)
{
    if (WIFEXITED(status)) snprintf(why, wl, "%s exited with %d", cmd, WEXITSTATUS(status));
    else if (WIFSIGNALED(status)) snprintf(why, wl, "%s killed by signal %d", cmd, WTERMSIG(status));
    else snprintf(why, wl, "%s failed", cmd);
}

int qpl_exec_unit(const qpl_config *c, qpl_stage s, unsigned u, const qpl_exec_opts *o)
{
    if (u >= qpl_units(c, s)) {
        qerr("stage %s has no unit %u (it has %u)", qpl_stage_name(s), u, qpl_units(c, s));
        return 2;
    }
    char *out = qpl_unit_output(c, s, u);
    if (!o->force && qpl_unit_done(c, s, u)) {
        if (!o->quiet) fprintf(stderr, "quern pipeline: %s unit %u: already done (%s)\n",
                               qpl_stage_name(s), u, out);
        free(out);
        return 0;
    }
    char kind[16], id[128], host[256], why[1200] = "";
    identity(kind, sizeof kind, id, sizeof id, host, sizeof host);

    char *parent = qpl_strdup(out);
    char *slash = strrchr(parent, '/');
    *slash = '\0';
    const char *base = slash + 1;
    if (qmkdirs(parent) != 0) {
        qerr("%s: cannot create: %s", parent, strerror(errno));
        free(parent); free(out);
        return 1;
    }
    remove_stale_staging(parent, base);
    int in_place = qpl_stage_in_place(s);
    if (o->force && in_place) {
        unlink(out);
        if (s == QPL_TRAIN) {   /* start over: no checkpoint to resume from */
            char *run = qpl_train_dir(c);
            qpl_rmtree(run);
            free(run);
        }
    }
    strbuf staging = STRBUF_INIT;
    sb_addf(&staging, "%s/.%s.tmp.%s.%ld", parent, base, host, (long)getpid());
    if (!in_place) {
        qpl_rmtree(sb_str(&staging));
        if (mkdir(sb_str(&staging), 0755) != 0) {
            qerr("%s: cannot create: %s", sb_str(&staging), strerror(errno));
            sb_free(&staging); free(parent); free(out);
            return 1;
        }
    }
    char *m_run = qpl_marker_path(c, s, u, "running");
    char *m_fail = qpl_marker_path(c, s, u, "failed");
    unlink(m_fail);
    write_marker(m_run, kind, id, host, o->log, NULL);

    int rc = 1;
    qpl_cmds cmds;
    char err[1024];
    int threads = o->threads > 0 ? o->threads : threads_default();
    if (s == QPL_MIX && qpl_merge_tokens(c, err, sizeof err) != 0) {
        qerr("%s unit %u: %s", qpl_stage_name(s), u, err);
        snprintf(why, sizeof why, "%s", err);
        goto done;
    }
    if (qpl_unit_cmds(c, s, u, in_place ? NULL : sb_str(&staging), threads, o->force ? QPL_CMD_FORCE : 0,
                      &cmds, err, sizeof err) != 0) {
        qerr("%s unit %u: %s", qpl_stage_name(s), u, err);
        snprintf(why, sizeof why, "%s", err);
        rc = 2;
        goto done;
    }
    strbuf line = STRBUF_INIT;
    qpl_cmds_format(&cmds, &line);
    fprintf(stderr, "quern pipeline: %s unit %u on %s: + %s\n", qpl_stage_name(s), u, host, sb_str(&line));
    sb_free(&line);

    struct sigaction sa, old_term, old_int, old_hup;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    g_signal = 0;
    g_pgid = 0;
    sigaction(SIGTERM, &sa, &old_term);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGHUP, &sa, &old_hup);

    fflush(NULL);
    int prev_read = -1;
    pid_t pids[3] = { 0 };
    for (int i = 0; i < cmds.n && !g_signal; i++) {
        int fds[2] = { -1, -1 };
        if (i + 1 < cmds.n && pipe(fds) != 0) {
            snprintf(why, sizeof why, "pipe: %s", strerror(errno));
            break;
        }
        pid_t pid = fork();
        if (pid < 0) {
            snprintf(why, sizeof why, "fork: %s", strerror(errno));
            if (fds[0] >= 0) { close(fds[0]); close(fds[1]); }
            break;
        }
        if (pid == 0) {
            setpgid(0, g_pgid > 0 ? g_pgid : 0);
            signal(SIGTERM, SIG_DFL);
            signal(SIGINT, SIG_DFL);
            signal(SIGHUP, SIG_DFL);
            signal(SIGPIPE, SIG_DFL);
            if (prev_read >= 0) { dup2(prev_read, 0); close(prev_read); }
            else {
                int dn = open("/dev/null", O_RDONLY);
                if (dn >= 0) { dup2(dn, 0); close(dn); }
            }
            if (fds[1] >= 0) { dup2(fds[1], 1); close(fds[1]); close(fds[0]); }
            else dup2(2, 1);   /* nothing is expected on stdout: keep it in the log */
            /* The unit is the whole shard: a stage must not cut it again
             * from the Slurm array variables (cli_shard_default). */
            unsetenv("SLURM_ARRAY_TASK_ID");
            unsetenv("SLURM_ARRAY_TASK_COUNT");
            unsetenv("SLURM_ARRAY_TASK_MIN");
            unsetenv("SLURM_ARRAY_TASK_MAX");
            unsetenv("SLURM_ARRAY_TASK_STEP");
            if (chdir(c->dir) != 0) {
                fprintf(stderr, "quern pipeline: %s: %s\n", c->dir, strerror(errno));
                _exit(126);
            }
            execv(cmds.argv[i][0], cmds.argv[i]);
            fprintf(stderr, "quern pipeline: %s: %s\n", cmds.argv[i][0], strerror(errno));
            _exit(127);
        }
        pids[i] = pid;
        /* set in the parent as well, so the group exists before any signal */
        setpgid(pid, g_pgid > 0 ? g_pgid : pid);
        if (g_pgid <= 0) g_pgid = pid;
        if (prev_read >= 0) close(prev_read);
        if (fds[1] >= 0) close(fds[1]);
        prev_read = fds[0];
    }
    if (prev_read >= 0) close(prev_read);
    /* A signal that arrived before the children existed still stops them. */
    if (g_signal) on_signal(g_signal);

    int all_ok = why[0] == '\0';
    int why_is_pipe = 0;
    for (int i = 0; i < cmds.n; i++) {
        if (!pids[i]) continue;
        int st;
        while (waitpid(pids[i], &st, 0) < 0 && errno == EINTR) {}
        if (WIFEXITED(st) && WEXITSTATUS(st) == 0) continue;
        /* Name the command that failed, not an upstream one it killed with
         * SIGPIPE by exiting early. */
        int is_pipe = WIFSIGNALED(st) && WTERMSIG(st) == SIGPIPE;
        if (all_ok || (why_is_pipe && !is_pipe)) {
            char name[64];
            snprintf(name, sizeof name, "quern %s", cmds.argv[i][1]);
            describe_status(st, name, why, sizeof why);
            why_is_pipe = is_pipe;
        }
        all_ok = 0;
    }
    g_pgid = 0;
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGHUP, &old_hup, NULL);
    if (g_signal) {
        snprintf(why, sizeof why, "stopped by signal %d", (int)g_signal);
        all_ok = 0;
    }
    qpl_cmds_free(&cmds);

    if (all_ok && in_place) {
        /* the commands wrote their own files atomically: record completion */
        strbuf note = STRBUF_INIT;
        sb_addf(&note, "%s unit %u done by %s %s on %s\n", qpl_stage_name(s), u, kind, id, host);
        if (qpl_write_atomic(out, note.buf, note.len) == 0) rc = 0;
        else snprintf(why, sizeof why, "%s: cannot write: %s", out, strerror(errno));
        sb_free(&note);
    } else if (all_ok) {
        if (o->force && qpl_unit_done(c, s, u)) {
            strbuf old = STRBUF_INIT;
            sb_addf(&old, "%s/.%s.tmp.old.%ld", parent, base, (long)getpid());
            if (rename(out, sb_str(&old)) == 0) qpl_rmtree(sb_str(&old));
            sb_free(&old);
        }
        fsync_dir(sb_str(&staging));
        if (rename(sb_str(&staging), out) != 0) {
            if ((errno == ENOTEMPTY || errno == EEXIST) && qpl_unit_done(c, s, u)) {
                /* another run of the same unit finished first: its output stands */
                qpl_rmtree(sb_str(&staging));
                rc = 0;
            } else {
                snprintf(why, sizeof why, "rename %s -> %s: %s", sb_str(&staging), out, strerror(errno));
            }
        } else {
            fsync_dir(parent);
            rc = 0;
        }
    }
done:
    if (rc != 0) {
        if (!in_place) qpl_rmtree(sb_str(&staging));
        write_marker(m_fail, kind, id, host, o->log, why);
        fprintf(stderr, "quern pipeline: %s unit %u failed: %s\n", qpl_stage_name(s), u, why);
        if (g_signal) rc = 128 + (int)g_signal;
        else if (rc != 2) rc = 1;
    } else {
        fprintf(stderr, "quern pipeline: %s unit %u done: %s\n", qpl_stage_name(s), u, out);
    }
    unlink(m_run);
    free(m_run); free(m_fail);
    sb_free(&staging);
    free(parent);
    free(out);
    return rc;
}
