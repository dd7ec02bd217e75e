/* cat.h - the cat and count stages as a library (cmd_cat.c / cmd_count.c
 * only parse options and call these).
 *
 * Both read raw lines on the calling thread in batches of about 1 MiB, parse
 * (and for cat re-serialize) the documents on `jobs` workers, and consume the
 * batches in input order, so results and output bytes never depend on -j.
 * Bad lines are reported (qerr_at file:"line N") in input order. */
#ifndef QUERN_CAT_H
#define QUERN_CAT_H

#include <stdint.h>

#include "../common/doc.h"
#include "../common/io.h"
#include "../common/progress.h"

typedef struct qcat_opts {
    const char *text_field;   /* NULL = "text" */
    int jobs;                 /* worker threads; 1 = all on the calling thread */
    int strict;               /* stop at the first bad line */
} qcat_opts;

typedef struct qcat_result {
    uint64_t docs_in;         /* lines parsed successfully */
    uint64_t bad_lines;       /* lines rejected (not JSON, no text field, ...) */
    uint64_t repairs;         /* invalid UTF-8 sequences / lone surrogates replaced */
    uint64_t docs_out, bytes_out;   /* filled by the caller from the writer */
    uint64_t text_bytes;      /* count: UTF-8 bytes of the texts */
    uint64_t chars;           /* count: code points of the texts */
    uint64_t jsonl_bytes;     /* count: bytes of the good lines, newline included */
    int write_failed;         /* cat: the writer failed (error printed) */
} qcat_result;

/* What `quern cat` and `quern count` both do once their options are read,
 * written once: open a reader over the inputs (o's text field; bad lines
 * skipped unless strict), show a progress line labelled `label` (forced by
 * progress), and copy into w (cat) or count when w is NULL (count). The
 * reader is left in *r for the caller's stats (close it with
 * qdoc_reader_close). Returns what qcat_run / qcount_run return. */
int qcat_run_inputs(const qcat_opts *o, const qinputs *in, const char *label, int progress, qdoc_writer *w,
                    qdoc_reader **r, qcat_result *res);

/* Copy every document from r to w. Returns 0, or 1 when --strict stopped at
 * a bad line, an input could not be read in strict mode, or writing failed. */
int qcat_run(const qcat_opts *o, qdoc_reader *r, qdoc_writer *w, qprogress *prog, qcat_result *res);
/* Count documents, bytes and characters (no output). Same return values. */
int qcount_run(const qcat_opts *o, qdoc_reader *r, qprogress *prog, qcat_result *res);

#endif
