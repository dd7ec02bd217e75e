/* progress.c - see progress.h. */
#include "progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "json.h"
#include "outfile.h"
#include "strbuf.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ------------------------------------------------------------ progress */

struct qprogress {
    char *label;
    uint64_t total, bytes, docs;
    int shown, tty;
    double start, last;
    int drew;
};

qprogress *qprogress_new(const char *label, uint64_t total_bytes, int force)
{
    qprogress *p = calloc(1, sizeof *p);
    if (!p) abort();
    p->label = strdup(label ? label : qerr_cmd());
    if (!p->label) abort();
    p->total = total_bytes;
    p->tty = isatty(STDERR_FILENO);
    p->shown = p->tty || force;
    p->start = p->last = now_s();
    return p;
}

static void human_bytes(char *out, size_t n, double b)
{
    const char *units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
    int u = 0;
    while (b >= 1024 && u < 5) {
        b /= 1024;
        u++;
    }
    snprintf(out, n, u ? "%.1f %s" : "%.0f %s", b, units[u]);
}

static void draw(qprogress *p, double now, int final)
{
    double el = now - p->start;
    if (el <= 0) el = 1e-9;
    char done[32], tot[32];
    human_bytes(done, sizeof done, (double)p->bytes);
    strbuf line = STRBUF_INIT;
    sb_addf(&line, "quern %s: %s", p->label, done);
    if (p->total) {
        human_bytes(tot, sizeof tot, (double)p->total);
        double frac = (double)p->bytes / (double)p->total;
        if (frac > 1) frac = 1;
        sb_addf(&line, " / %s %.0f%%", tot, frac * 100);
    }
    sb_addf(&line, "  %.1f MB/s  %llu docs  %.0f docs/s", (double)p->bytes / el / 1e6,
            (unsigned long long)p->docs, (double)p->docs / el);
    if (p->total && !final && p->bytes > 0 && p->bytes < p->total) {
        double eta = el * (double)(p->total - p->bytes) / (double)p->bytes;
        long s = (long)(eta + 0.5);
        sb_addf(&line, "  ETA %ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
    } else if (final) {
        sb_addf(&line, "  %.1fs", el);
    }
    /* A terminal gets one line redrawn in place; a log gets whole lines. */
    if (p->tty) fprintf(stderr, "\r\033[K%s%s", line.buf, final ? "\n" : "");
    else fprintf(stderr, "%s\n", line.buf);
    fflush(stderr);
    sb_free(&line);
    p->drew = 1;
}

void qprogress_update(qprogress *p, uint64_t bytes_done, uint64_t docs_done)
{
    if (!p) return;
    p->bytes = bytes_done;
    p->docs = docs_done;
    if (!p->shown) return;
    double now = now_s();
    double every = p->tty ? 0.2 : 5.0;
    if (now - p->last < every) return;
    p->last = now;
    draw(p, now, 0);
}

void qprogress_finish(qprogress *p)
{
    if (!p) return;
    if (p->shown) draw(p, now_s(), 1);
    free(p->label);
    free(p);
}

/* ------------------------------------------------------------ stats */

enum { V_INT, V_NUM, V_STR };

typedef struct stat_entry {
    char *key;
    int type;
    int64_t i;
    double d;
    char *s;
} stat_entry;

struct qstats {
    char *command;
    double start;
    stat_entry *e;
    size_t n, cap;
};

qstats *qstats_new(const char *command)
{
    qstats *s = calloc(1, sizeof *s);
    if (!s) abort();
    s->command = strdup(command ? command : qerr_cmd());
    if (!s->command) abort();
    s->start = now_s();
    return s;
}

static stat_entry *entry(qstats *s, const char *key, int create)
{
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->e[i].key, key)) return &s->e[i];
    if (!create) return NULL;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 16;
        s->e = realloc(s->e, s->cap * sizeof *s->e);
        if (!s->e) abort();
    }
    stat_entry *e = &s->e[s->n++];
    memset(e, 0, sizeof *e);
    e->key = strdup(key);
    if (!e->key) abort();
    return e;
}

static void retype(stat_entry *e, int type)
{
    if (e->type == V_STR) {
        free(e->s);
        e->s = NULL;
    }
    e->type = type;
}

void qstats_add(qstats *s, const char *key, int64_t delta)
{
    stat_entry *e = entry(s, key, 1);
    if (e->type != V_INT) {
        retype(e, V_INT);
        e->i = 0;
    }
    e->i += delta;
}

void qstats_set_int(qstats *s, const char *key, int64_t v)
{
    stat_entry *e = entry(s, key, 1);
    retype(e, V_INT);
    e->i = v;
}

void qstats_set_num(qstats *s, const char *key, double v)
{
    stat_entry *e = entry(s, key, 1);
    retype(e, V_NUM);
    e->d = v;
}

void qstats_set_str(qstats *s, const char *key, const char *v)
{
    stat_entry *e = entry(s, key, 1);
    retype(e, V_STR);
    e->s = strdup(v ? v : "");
    if (!e->s) abort();
}

int64_t qstats_get_int(const qstats *s, const char *key)
{
    stat_entry *e = entry((qstats *)s, key, 0);
    return e && e->type == V_INT ? e->i : 0;
}

static void indent(strbuf *out, int depth)
{
    sb_addc(out, '\n');
    for (int i = 0; i < depth; i++) sb_add(out, "  ", 2);
}

/* Members whose keys start with prefix (length pl), nested by dots, in the
 * order their first key was added. */
static void put_level(strbuf *out, const qstats *s, const char *prefix, size_t pl, int depth, int *first)
{
    for (size_t i = 0; i < s->n; i++) {
        const char *k = s->e[i].key;
        if (strncmp(k, prefix, pl)) continue;
        const char *seg = k + pl, *dot = strchr(seg, '.');
        size_t sl = dot ? (size_t)(dot - seg) : strlen(seg);
        if (dot) {
            /* Emit a group once, at the first key that opens it. */
            int seen = 0;
            for (size_t j = 0; j < i && !seen; j++)
                seen = !strncmp(s->e[j].key, k, pl + sl + 1);
            if (seen) continue;
        }
        if (!*first) sb_addc(out, ',');
        *first = 0;
        indent(out, depth);
        json_put_str(out, seg, sl);
        sb_add(out, ": ", 2);
        if (dot) {
            sb_addc(out, '{');
            int f = 1;
            put_level(out, s, k, pl + sl + 1, depth + 1, &f);
            indent(out, depth);
            sb_addc(out, '}');
            continue;
        }
        const stat_entry *e = &s->e[i];
        if (e->type == V_INT) sb_addf(out, "%lld", (long long)e->i);
        else if (e->type == V_NUM) json_put_num(out, e->d);
        else json_put_str(out, e->s, strlen(e->s));
    }
}

int qstats_write(qstats *s, const char *path)
{
    qstats_set_num(s, "seconds", (double)(long long)((now_s() - s->start) * 1000 + 0.5) / 1000);
    strbuf out = STRBUF_INIT;
    sb_adds(&out, "{");
    indent(&out, 1);
    sb_adds(&out, "\"command\": ");
    json_put_str(&out, s->command, strlen(s->command));
    sb_addc(&out, ',');
    indent(&out, 1);
    sb_adds(&out, "\"quern_version\": \"" QUERN_VERSION "\"");
    int first = 0;
    put_level(&out, s, "", 0, 1, &first);
    sb_adds(&out, "\n}\n");
    int rc = 0;
    if (!strcmp(path, "-")) {
        fputs(out.buf, stderr);
    } else {
        char err[512];
        if (qout_write_file(path, out.buf, out.len, err, sizeof err)) {
            qerr("--stats: %s", err);
            rc = -1;
        }
    }
    sb_free(&out);
    return rc;
}

void qstats_free(qstats *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->n; i++) {
        free(s->e[i].key);
        free(s->e[i].s);
    }
    free(s->e);
    free(s->command);
    free(s);
}
