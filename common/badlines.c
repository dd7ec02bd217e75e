/* badlines.c - the first bad line of each input in full, the rest counted. */
#include "badlines.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

void qbadlines_flush(qbadlines *b)
{
    if (b->more)
        qerr_at(b->name, NULL, "%llu more bad line%s skipped", (unsigned long long)b->more,
                b->more == 1 ? "" : "s");
    b->more = 0;
}

static void report(qbadlines *b, const char *name, uint64_t line_no, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void report(qbadlines *b, const char *name, uint64_t line_no, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    qbadlines_vreport(b, name, line_no, fmt, ap);
    va_end(ap);
}

void qbadlines_vreport(qbadlines *b, const char *name, uint64_t line_no, const char *fmt, va_list ap)
{
    if (!b->every && b->name && !strcmp(b->name, name)) {
        b->more++;
        return;
    }
    qbadlines_flush(b);
    free(b->name);
    b->name = strdup(name);
    if (!b->name) abort();
    char what[1024], where[40];
    vsnprintf(what, sizeof what, fmt, ap);
    snprintf(where, sizeof where, "line %llu", (unsigned long long)line_no);
    qerr_at(name, where, "%s", what);
}

void qbadlines_free(qbadlines *b)
{
    qbadlines_flush(b);
    free(b->name);
    b->name = NULL;
}

void qbadlines_queue(strbuf *q, size_t index, const char *msg)
{
    sb_addf(q, "%zu\t", index);
    for (const char *m = msg; *m; m++) sb_addc(q, *m == '\n' ? ' ' : *m);   /* one record per line */
    sb_addc(q, '\n');
}

size_t qbadlines_report_queue(qbadlines *b, const strbuf *q, qbadlines_locate locate,
                              const void *batch)
{
    size_t n = 0;
    const char *p = q->buf, *end = p ? p + q->len : p;
    while (p && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *tab = memchr(p, '\t', (size_t)(nl - p));
        const char *name;
        uint64_t line_no;
        locate(batch, strtoull(p, NULL, 10), &name, &line_no);
        report(b, name, line_no, "%.*s", (int)(nl - tab - 1), tab + 1);
        n++;
        p = nl + 1;
    }
    return n;
}
