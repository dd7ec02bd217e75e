/* util.c - small file-system and process helpers for the pipeline module. */
#include "pipeline.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

char *qpl_strdup(const char *s)
{
    if (!s) return NULL;
    char *d = strdup(s);
    if (!d) abort();
    return d;
}

char *qpl_path_join(const char *a, const char *b)
{
    strbuf sb = STRBUF_INIT;
    sb_adds(&sb, a);
    if (sb.len && sb.buf[sb.len - 1] != '/') sb_addc(&sb, '/');
    sb_adds(&sb, b);
    return sb_detach(&sb, NULL);
}

/* Lexical normalisation: drop "." segments and fold "x/.." pairs, so paths
 * in scripts and status lines read cleanly. */
static char *normalize(const char *p)
{
    size_t n = strlen(p);
    char **seg = calloc(n / 2 + 2, sizeof *seg);
    char *copy = qpl_strdup(p);
    size_t ns = 0;
    for (char *save = NULL, *t = strtok_r(copy, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
        if (!strcmp(t, ".")) continue;
        if (!strcmp(t, "..") && ns > 0 && strcmp(seg[ns - 1], "..")) { ns--; continue; }
        seg[ns++] = t;
    }
    strbuf sb = STRBUF_INIT;
    for (size_t i = 0; i < ns; i++) { sb_addc(&sb, '/'); sb_adds(&sb, seg[i]); }
    if (!sb.len) sb_addc(&sb, '/');
    free(seg);
    free(copy);
    return sb_detach(&sb, NULL);
}

char *qpl_abspath(const char *base, const char *p)
{
    if (p[0] == '/') return normalize(p);
    char *j;
    if (base) j = qpl_path_join(base, p);
    else {
        char cwd[4096];
        if (!getcwd(cwd, sizeof cwd)) return qpl_strdup(p);
        j = qpl_path_join(cwd, p);
    }
    char *r = normalize(j);
    free(j);
    return r;
}

int qpl_rmtree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0) return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(st.st_mode)) return unlink(path);
    DIR *d = opendir(path);
    if (!d) return -1;
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char *sub = qpl_path_join(path, e->d_name);
        if (qpl_rmtree(sub) != 0) rc = -1;
        free(sub);
    }
    closedir(d);
    if (rmdir(path) != 0) rc = -1;
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char **qpl_list_files(const char *dir, size_t *n_out)
{
    size_t n = 0, cap = 8;
    char **v = malloc(cap * sizeof *v);
    if (!v) abort();
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.') continue;
            char *full = qpl_path_join(dir, e->d_name);
            struct stat st;
            if (stat(full, &st) != 0 || !S_ISREG(st.st_mode)) { free(full); continue; }
            if (n + 2 > cap) {
                cap *= 2;
                v = realloc(v, cap * sizeof *v);
                if (!v) abort();
            }
            v[n++] = full;
        }
        closedir(d);
    }
    qsort(v, n, sizeof *v, cmp_str);
    v[n] = NULL;
    if (n_out) *n_out = n;
    return v;
}

int qpl_capture(char *const argv[], strbuf *out, int merge_stderr)
{
    int fds[2];
    if (pipe(fds) != 0) return -1;
    pid_t pid = fork();
    if (pid < 0) { close(fds[0]); close(fds[1]); return -1; }
    if (pid == 0) {
        dup2(fds[1], 1);
        if (merge_stderr) dup2(fds[1], 2);
        close(fds[0]);
        close(fds[1]);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) { dup2(devnull, 0); close(devnull); }
        execvp(argv[0], argv);
        _exit(127);
    }
    close(fds[1]);
    char buf[4096];
    ssize_t r;
    while ((r = read(fds[0], buf, sizeof buf)) != 0) {
        if (r < 0) { if (errno == EINTR) continue; break; }
        if (out) sb_add(out, buf, (size_t)r);
    }
    close(fds[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return -1;
    if (WIFEXITED(status)) return WEXITSTATUS(status) == 127 ? -1 : WEXITSTATUS(status);
    return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

int qpl_hostname(char *buf, size_t len)
{
    if (gethostname(buf, len) != 0) { snprintf(buf, len, "localhost"); return -1; }
    buf[len - 1] = '\0';
    return 0;
}

int qpl_write_atomic(const char *path, const void *data, size_t n)
{
    strbuf tmp = STRBUF_INIT;
    sb_addf(&tmp, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(sb_str(&tmp), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int rc = -1;
    if (fd >= 0) {
        int ok = write(fd, data, n) == (ssize_t)n && fsync(fd) == 0;
        if (close(fd) == 0 && ok && rename(sb_str(&tmp), path) == 0) rc = 0;
    }
    if (rc) {
        int e = errno;
        unlink(sb_str(&tmp));
        errno = e;
    }
    sb_free(&tmp);
    return rc;
}

int qpl_squeue_alive(const char *ids)
{
    char *argv[] = { "squeue", "-h", "-o", "%i", "-j", (char *)ids, NULL };
    strbuf out = STRBUF_INIT;
    int rc = qpl_capture(argv, &out, 1);
    int alive = -1;
    if (rc == 0) {
        alive = 0;
        for (const char *p = sb_str(&out); *p; p++)
            if (*p >= '0' && *p <= '9') { alive = 1; break; }
    } else if (rc > 0 && strstr(sb_str(&out), "Invalid job id")) {
        alive = 0;   /* every id has left the queue (and Slurm's memory) */
    }
    sb_free(&out);
    return alive;
}
