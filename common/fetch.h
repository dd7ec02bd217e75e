/* fetch.h - http(s) sources through libcurl, streamed while they download.
 *
 * Retries with exponential backoff; after a dropped connection the transfer
 * resumes with a Range request from the last byte delivered, so the consumer
 * never sees a byte twice. Only http and https are allowed, for the first URL
 * and for every redirect. An optional cache directory keeps completed
 * downloads (atomically renamed) and serves them on later runs. */
#ifndef QUERN_FETCH_H
#define QUERN_FETCH_H

#include <stddef.h>

#include "io.h"

typedef struct qfetch_opts {
    int max_retries;       /* default 5 */
    double backoff_s;      /* first backoff, doubled each retry; default 0.5 */
    const char *cache_dir; /* NULL: no cache */
    long timeout_s;        /* low-speed timeout; default 60 */
} qfetch_opts;

void qfetch_opts_default(qfetch_opts *o);
/* Process-wide options used by qsrc_open() for URLs (set by commands). */
void qfetch_set_default_opts(const qfetch_opts *o);

int qfetch_is_url(const char *path);
/* Fill `src` with a streaming reader for url. Returns 0 or -1 (err filled). */
int qfetch_open(qsrc *src, const char *url, const qfetch_opts *opts, char *err, size_t errlen);

#endif
