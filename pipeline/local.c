/* local.c - `quern pipeline run`: every unit of every stage on this machine,
 * up to -j units at once, each in a forked child (exec.c) with its own log.
 * A unit starts as soon as the units it reads are done, so a shard's dedup
 * signatures can start while other shards are still being cleaned. */
#include "pipeline.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../common/cli.h"

enum { U_TODO, U_RUNNING, U_DONE, U_FAILED };

typedef struct slot {
    pid_t pid;
    qpl_stage s;
    unsigned u;
    double t0;
} slot;

static volatile sig_atomic_t g_stop;
static void on_stop(int sig) { g_stop = sig; }

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static char *log_path(const qpl_config *c, qpl_stage s, unsigned u)
{
    strbuf sb = STRBUF_INIT;
    sb_addf(&sb, "%s/logs/local/%s_%05u.log", c->workdir, qpl_stage_name(s), u);
    return sb_detach(&sb, NULL);
}

/* Print the last lines of a log so a failure is understandable at once. */
static void print_tail(const char *path, int lines)
{
    FILE *f = fopen(path, "r");
    if (!f) return;
    char **ring = calloc((size_t)lines, sizeof *ring);
    char buf[1024];
    int n = 0;
    while (fgets(buf, sizeof buf, f)) {
        free(ring[n % lines]);
        ring[n % lines] = qpl_strdup(buf);
        n++;
    }
    fclose(f);
    for (int i = n > lines ? n - lines : 0; i < n; i++) {
        fprintf(stderr, "    %s", ring[i % lines]);
        size_t l = strlen(ring[i % lines]);
        if (!l || ring[i % lines][l - 1] != '\n') fputc('\n', stderr);
    }
    for (int i = 0; i < lines; i++) free(ring[i]);
    free(ring);
}

int qpl_run_local(const qpl_config *c, const qpl_run_opts *o)
{
    int jobs = o->jobs > 0 ? o->jobs : cli_jobs_default();
    int last = o->until >= 0 && o->until < QPL_NSTAGES ? o->until : QPL_NSTAGES - 1;
    unsigned *state[QPL_NSTAGES] = { 0 };
    unsigned total = 0, todo = 0;
    for (int s = 0; s <= last; s++) {
        unsigned n = qpl_units(c, (qpl_stage)s);
        state[s] = calloc(n + 1, sizeof **state);
        for (unsigned u = 0; u < n; u++) {
            int done = !o->force && qpl_unit_done(c, (qpl_stage)s, u);
            state[s][u] = done ? U_DONE : U_TODO;
            todo += !done;
        }
        total += n;
    }
    fprintf(stderr, "quern pipeline: %s: %u units, %u to run, up to %d at once (work dir %s)\n",
            c->name, total, todo, jobs, c->workdir);

    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    g_stop = 0;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);

    slot *slots = calloc((size_t)jobs, sizeof *slots);
    int running = 0, failed = 0;
    unsigned finished = 0;
    double start = now_s();
    for (;;) {
        /* Start every ready unit while there is a free slot, in stage order. */
        for (int s = 0; s <= last && running < jobs && !g_stop && (!failed || o->keep_going); s++) {
            unsigned n = qpl_units(c, (qpl_stage)s);
            qpl_stage deps[QPL_NSTAGES];
            int nd = qpl_stage_deps(c, (qpl_stage)s, deps);
            for (unsigned u = 0; u < n && running < jobs; u++) {
                if (state[s][u] != U_TODO) continue;
                int ready = 1;
                for (int d = 0; d < nd && ready; d++) {
                    if (!state[deps[d]]) { ready = 0; break; }
                    if (qpl_dep_is_all(c, (qpl_stage)s, deps[d])) {
                        for (unsigned k = 0; k < qpl_units(c, deps[d]); k++)
                            if (state[deps[d]][k] != U_DONE) { ready = 0; break; }
                    } else if (state[deps[d]][u] != U_DONE) ready = 0;
                }
                if (!ready) continue;
                /* Threads per command: the cores shared by the units of this
                 * stage that can run at once (a lone unit gets them all). */
                int threads = o->threads;
                if (threads <= 0) {
                    int par = (int)(n < (unsigned)jobs ? n : (unsigned)jobs);
                    threads = jobs / (par > 0 ? par : 1);
                    if (threads < 1) threads = 1;
                }
                char *logp = log_path(c, (qpl_stage)s, u);
                char *ldir = qpl_strdup(logp);
                *strrchr(ldir, '/') = '\0';
                char *mk = qpl_path_join(ldir, "x");
                /* mkdir -p of the log directory */
                for (char *p = mk + 1; *p; p++)
                    if (*p == '/') { *p = '\0'; mkdir(mk, 0755); *p = '/'; }
                free(mk);
                free(ldir);
                fflush(NULL);
                pid_t pid = fork();
                if (pid < 0) {
                    qerr("fork: %s", strerror(errno));
                    free(logp);
                    failed = 1;
                    break;
                }
                if (pid == 0) {
                    sigaction(SIGINT, &old_int, NULL);
                    sigaction(SIGTERM, &old_term, NULL);
                    int fd = open(logp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
                    if (fd >= 0) { dup2(fd, 2); dup2(fd, 1); close(fd); }
                    qpl_exec_opts eo = { .threads = threads, .force = o->force, .log = logp, .quiet = 1 };
                    _exit(qpl_exec_unit(c, (qpl_stage)s, u, &eo));
                }
                free(logp);
                for (int k = 0; k < jobs; k++)
                    if (!slots[k].pid) { slots[k] = (slot){ pid, (qpl_stage)s, u, now_s() }; break; }
                state[s][u] = U_RUNNING;
                running++;
                if (o->verbose) fprintf(stderr, "quern pipeline: started %s unit %u\n", qpl_stage_name((qpl_stage)s), u);
            }
        }
        if (!running) break;
        int st;
        pid_t pid = wait(&st);
        if (pid < 0) {
            if (errno == EINTR) {
                /* forward ^C / TERM to the units; they clean up and report */
                for (int k = 0; k < jobs; k++) if (slots[k].pid) kill(slots[k].pid, g_stop ? g_stop : SIGTERM);
                continue;
            }
            break;
        }
        for (int k = 0; k < jobs; k++) {
            if (slots[k].pid != pid) continue;
            slot sl = slots[k];
            slots[k].pid = 0;
            running--;
            int ok = WIFEXITED(st) && WEXITSTATUS(st) == 0 && qpl_unit_done(c, sl.s, sl.u);
            state[sl.s][sl.u] = ok ? U_DONE : U_FAILED;
            finished++;
            strbuf label = STRBUF_INIT;
            qpl_unit_label(c, sl.s, sl.u, &label);
            if (ok) {
                fprintf(stderr, "quern pipeline: [%u/%u] %s %s done (%.1f s)\n", finished, todo,
                        qpl_stage_name(sl.s), sb_str(&label), now_s() - sl.t0);
            } else {
                char *logp = log_path(c, sl.s, sl.u);
                qerr("%s %s failed (%s %d); log: %s", qpl_stage_name(sl.s), sb_str(&label),
                     WIFEXITED(st) ? "exit" : "signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st), logp);
                print_tail(logp, 6);
                free(logp);
                failed++;
            }
            sb_free(&label);
        }
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);

    unsigned left = 0;
    for (int s = 0; s <= last; s++)
        for (unsigned u = 0; u < qpl_units(c, (qpl_stage)s); u++) left += state[s][u] != U_DONE;
    for (int s = 0; s < QPL_NSTAGES; s++) free(state[s]);
    free(slots);
    if (g_stop) {
        qerr("stopped by signal %d; %u units not done (rerun to resume)", (int)g_stop, left);
        return 1;
    }
    if (failed || left) {
        qerr("%d units failed, %u not done; fix the cause and rerun: done units are kept", failed, left);
        return 1;
    }
    fprintf(stderr, "quern pipeline: %s: all %u units done in %.1f s\n", c->name, total, now_s() - start);
    return 0;
}
