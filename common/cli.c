/* cli.c - see cli.h. */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *g_cmd = "quern";

void qerr_set_cmd(const char *cmd) { g_cmd = cmd; }
const char *qerr_cmd(void) { return g_cmd; }

static void vreport(const char *file, const char *where, const char *fmt, va_list ap)
{
    /* Build the whole line first so concurrent writers do not interleave. */
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    for (char *p = msg; *p; p++)
        if (*p == '\n' || *p == '\r') *p = ' ';
    char line[1400];
    if (file && where)
        snprintf(line, sizeof line, "quern %s: %s:%s: %s\n", g_cmd, file, where, msg);
    else if (file)
        snprintf(line, sizeof line, "quern %s: %s: %s\n", g_cmd, file, msg);
    else
        snprintf(line, sizeof line, "quern %s: %s\n", g_cmd, msg);
    fputs(line, stderr);
}

void qerr_at(const char *file, const char *where, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(file, where, fmt, ap);
    va_end(ap);
}

void qerr(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(NULL, NULL, fmt, ap);
    va_end(ap);
}

void qerr_off(const char *file, uint64_t offset, const char *fmt, ...)
{
    char where[32];
    snprintf(where, sizeof where, "%llu", (unsigned long long)offset);
    va_list ap;
    va_start(ap, fmt);
    vreport(file, where, fmt, ap);
    va_end(ap);
}

void qseterr(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static int parse_uint(const char *s, char **end, unsigned long long *v)
{
    if (!s || *s < '0' || *s > '9') return -1;
    errno = 0;
    *v = strtoull(s, end, 10);
    return errno ? -1 : 0;
}

int cli_parse_shard(const char *s, unsigned *i, unsigned *n)
{
    unsigned long long a, b;
    char *end;
    if (parse_uint(s, &end, &a) || *end != '/' || parse_uint(end + 1, &end, &b) || *end ||
        b == 0 || a >= b || b > 1000000) {
        qerr("--shard: '%s' is not I/N with 0 <= I < N", s ? s : "");
        return -1;
    }
    *i = (unsigned)a;
    *n = (unsigned)b;
    return 0;
}

void cli_shard_default(unsigned *i, unsigned *n)
{
    *i = 0;
    *n = 1;
    const char *id = getenv("SLURM_ARRAY_TASK_ID");
    const char *cnt = getenv("SLURM_ARRAY_TASK_COUNT");
    const char *min = getenv("SLURM_ARRAY_TASK_MIN");
    if (!id || !cnt) return;
    long a = strtol(id, NULL, 10), c = strtol(cnt, NULL, 10);
    long m = min ? strtol(min, NULL, 10) : 0;
    if (c <= 0 || a - m < 0 || a - m >= c) return;
    *i = (unsigned)(a - m);
    *n = (unsigned)c;
}

int cli_parse_jobs(const char *s, int *jobs)
{
    char *end;
    errno = 0;
    long j = strtol(s, &end, 10);
    if (errno || end == s || *end || j < 1 || j > 4096) {
        qerr("-j: '%s' is not a thread count", s);
        return -1;
    }
    *jobs = (int)j;
    return 0;
}

int cli_jobs_default(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

int cli_parse_size(const char *s, uint64_t *out)
{
    if (!s || !*s) return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || v < 0) return -1;
    double mul = 1;
    switch (*end) {
    case 'k': case 'K': mul = 1024.0; end++; break;
    case 'm': case 'M': mul = 1024.0 * 1024; end++; break;
    case 'g': case 'G': mul = 1024.0 * 1024 * 1024; end++; break;
    case 't': case 'T': mul = 1024.0 * 1024 * 1024 * 1024; end++; break;
    default: break;
    }
    if (*end == 'B' || *end == 'b') end++;
    if (*end) return -1;
    v *= mul;
    if (v > 1.8e19) return -1;
    *out = (uint64_t)v;
    return 0;
}

int cli_parse_count(const char *s, double *out)
{
    if (!s || !*s) return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || v < 0) return -1;
    switch (*end) {
    case 'k': case 'K': v *= 1e3; end++; break;
    case 'M': v *= 1e6; end++; break;
    case 'B': case 'G': v *= 1e9; end++; break;
    case 'T': v *= 1e12; end++; break;
    default: break;
    }
    if (*end) return -1;
    *out = v;
    return 0;
}
