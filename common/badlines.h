/* badlines.h - reporting bad input lines without flooding stderr.
 *
 * A binary file read as JSONL has a "bad line" every few hundred bytes; one
 * error per line buries the message that matters. So the first bad line of
 * each input is printed in full,
 *     quern <cmd>: <name>:line <N>: <what>
 * later ones of the same input are only counted, and summarised in one line
 *     quern <cmd>: <name>: <K> more bad lines skipped
 * when a report names another input, or at qbadlines_flush(). Reports must
 * come in input order (a stage's in-order consumer), so the output does not
 * depend on -j. */
#ifndef QUERN_BADLINES_H
#define QUERN_BADLINES_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

typedef struct qbadlines {
    int every;          /* 1: print every bad line (no summary) */
    char *name;         /* the input the last report came from */
    uint64_t more;      /* its bad lines not printed yet */
} qbadlines;

/* Report one bad line (a zero-initialised qbadlines is ready to use). */
void qbadlines_vreport(qbadlines *b, const char *name, uint64_t line_no, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));
/* Print the pending "K more bad lines skipped" line, if any. */
void qbadlines_flush(qbadlines *b);
/* Flush, then release. */
void qbadlines_free(qbadlines *b);

/* Bad lines found by a worker, reported later by the in-order consumer: the
 * worker queues "INDEX\tMESSAGE\n" records (INDEX: the line's place in its
 * batch), the consumer replays them through locate(batch, INDEX) -> input
 * name and line number. Returns how many were reported. */
void qbadlines_queue(strbuf *q, size_t index, const char *msg);
typedef void (*qbadlines_locate)(const void *batch, size_t index, const char **name,
                                 uint64_t *line_no);
size_t qbadlines_report_queue(qbadlines *b, const strbuf *q, qbadlines_locate locate,
                              const void *batch);

#endif
