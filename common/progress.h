/* progress.h - the stderr progress line and the --stats JSON summary.
 *
 * Progress: shown only when stderr is a TTY or when forced (--progress):
 *   "quern clean: 1.2 GiB / 4.0 GiB 30%  52.1 MB/s  81234 docs  12034 docs/s  ETA 0:00:54"
 * redrawn at most 5 times a second, with a final line at the end. Silent
 * otherwise, so logs stay clean.
 *
 * Stats: a flat-or-nested set of counters and values, written as one JSON
 * object. Keys may be dotted ("dropped.gopher_short_doc") to nest. Insertion
 * order is kept, so output is stable. Thread-safety: use from one thread. */
#ifndef QUERN_PROGRESS_H
#define QUERN_PROGRESS_H

#include <stdint.h>

typedef struct qprogress qprogress;

/* total_bytes: 0 if unknown (then no percentage/ETA). force: --progress. */
qprogress *qprogress_new(const char *label, uint64_t total_bytes, int force);
void qprogress_update(qprogress *p, uint64_t bytes_done, uint64_t docs_done);
void qprogress_finish(qprogress *p);   /* prints the final line if shown; frees */

typedef struct qstats qstats;

qstats *qstats_new(const char *command);   /* records start time */
void qstats_add(qstats *s, const char *key, int64_t delta);     /* counter += delta */
void qstats_set_int(qstats *s, const char *key, int64_t v);
void qstats_set_num(qstats *s, const char *key, double v);
void qstats_set_str(qstats *s, const char *key, const char *v);
int64_t qstats_get_int(const qstats *s, const char *key);       /* 0 if absent */
/* Adds "seconds" (wall time since qstats_new) and writes the JSON object to
 * path atomically ("-" = stderr). Returns 0 or -1 (error printed). */
int qstats_write(qstats *s, const char *path);
void qstats_free(qstats *s);

#endif
