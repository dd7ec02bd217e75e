/* doc_stream.c - the streaming JSONL reader over many inputs and the writer
 * to stdout, one file, or a directory of shards (see doc.h).
 *
 * Shard boundaries depend only on the byte stream (a shard ends after the
 * first line that brings it to shard_bytes), never on how the caller batched
 * its writes, so output files are identical at any -j. */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "badlines.h"
#include "cli.h"
#include "doc.h"
#include "fetch.h"
#include "outfile.h"

#define DEFAULT_MAX_LINE ((size_t)1 << 30)
#define DEFAULT_SHARD_BYTES ((uint64_t)256 << 20)

/* ------------------------------------------------------------ reader */

struct qdoc_reader {
    char **paths;
    size_t n, cur;
    qin *in;
    uint64_t line_no;
    char *text_field;
    int skip_bad;
    size_t max_line;
    strbuf line;
    uint64_t errors, failed_inputs;
    uint64_t bytes_done, raw_done;   /* totals of inputs already finished */
    int64_t total_raw;
    qbadlines bad;           /* the first bad line of each input, then a count */
};

qdoc_reader *qdoc_reader_open(char **paths, size_t n, const qdoc_reader_opts *o)
{
    qdoc_reader *r = calloc(1, sizeof *r);
    if (!r) abort();
    r->paths = calloc(n ? n : 1, sizeof *r->paths);
    if (!r->paths) abort();
    r->total_raw = 0;
    for (size_t i = 0; i < n; i++) {
        r->paths[i] = strdup(paths[i]);
        if (!r->paths[i]) abort();
        struct stat st;
        if (r->total_raw >= 0 && strcmp(paths[i], "-") && !qfetch_is_url(paths[i]) &&
            !stat(paths[i], &st) && S_ISREG(st.st_mode))
            r->total_raw += (int64_t)st.st_size;
        else
            r->total_raw = -1;
    }
    r->n = n;
    r->text_field = strdup(o && o->text_field ? o->text_field : "text");
    if (!r->text_field) abort();
    r->skip_bad = o ? o->skip_bad : 0;
    r->max_line = o && o->max_line ? o->max_line : DEFAULT_MAX_LINE;
    r->bad.every = o ? o->every_bad_line : 0;
    return r;
}

static void finish_input(qdoc_reader *r)
{
    r->bytes_done += qin_offset(r->in);
    r->raw_done += qin_raw_offset(r->in);
    qin_close(r->in);
    r->in = NULL;
    r->cur++;
}

static int is_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r') return 0;
    return 1;
}

int qdoc_reader_next_line(qdoc_reader *r, strbuf *line, uint64_t *line_no, const char **input_name)
{
    char err[QERR_LEN];
    for (;;) {
        if (!r->in) {
            if (r->cur >= r->n) return 0;
            r->in = qin_open(r->paths[r->cur], err, sizeof err);
            r->line_no = 0;
            if (!r->in) {
                qerr("%s", err);
                r->errors++;
                r->failed_inputs++;
                r->cur++;
                if (!r->skip_bad) return -1;
                continue;
            }
        }
        int rc = qin_getline_max(r->in, line, r->max_line, err, sizeof err);
        if (rc == 0) {
            finish_input(r);
            continue;
        }
        if (rc < 0) {
            qerr("%s", err);
            r->errors++;
            r->failed_inputs++;
            finish_input(r);
            if (!r->skip_bad) return -1;
            continue;
        }
        r->line_no++;
        if (rc == 2) {
            qdoc_reader_bad_line(r, qin_name(r->in), r->line_no, "line longer than the limit of %zu bytes",
                                 r->max_line);
            if (!r->skip_bad) return -1;
            continue;
        }
        if (r->line_no == 1 && line->len >= 3 && !memcmp(line->buf, "\xEF\xBB\xBF", 3)) {
            memmove(line->buf, line->buf + 3, line->len - 3);
            sb_setlen(line, line->len - 3);
        }
        if (is_blank(line->buf, line->len)) continue;
        *line_no = r->line_no;
        /* The path, not qin_name(): it must outlive this input (batches are
         * reported after the reader has moved on). */
        *input_name = strcmp(r->paths[r->cur], "-") ? r->paths[r->cur] : "<stdin>";
        return 1;
    }
}

void qdoc_reader_flush_bad(qdoc_reader *r) { qbadlines_flush(&r->bad); }

void qdoc_reader_bad_line(qdoc_reader *r, const char *name, uint64_t line_no, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    qbadlines_vreport(&r->bad, name, line_no, fmt, ap);
    va_end(ap);
    r->errors++;
}

size_t qdoc_reader_report_queue(qdoc_reader *r, const strbuf *q, qbadlines_locate locate,
                                const void *batch)
{
    size_t n = qbadlines_report_queue(&r->bad, q, locate, batch);
    r->errors += n;
    return n;
}

int qdoc_reader_next(qdoc_reader *r, qdoc *d)
{
    char err[QERR_LEN];
    for (;;) {
        uint64_t line_no;
        const char *name;
        int rc = qdoc_reader_next_line(r, &r->line, &line_no, &name);
        if (rc <= 0) return rc;
        d->line_no = line_no;
        d->input_name = name;
        if (!qdoc_parse(d, r->line.buf, r->line.len, r->text_field, err, sizeof err)) return 1;
        qdoc_reader_bad_line(r, name, line_no, "%s", err);
        if (!r->skip_bad) return -1;
    }
}

uint64_t qdoc_reader_errors(const qdoc_reader *r) { return r->errors; }
uint64_t qdoc_reader_failed_inputs(const qdoc_reader *r) { return r->failed_inputs; }

uint64_t qdoc_reader_bytes(const qdoc_reader *r)
{
    return r->bytes_done + (r->in ? qin_offset(r->in) : 0);
}

uint64_t qdoc_reader_raw_bytes(const qdoc_reader *r)
{
    return r->raw_done + (r->in ? qin_raw_offset(r->in) : 0);
}

int64_t qdoc_reader_total_raw(const qdoc_reader *r) { return r->total_raw; }

void qdoc_reader_close(qdoc_reader *r)
{
    if (!r) return;
    qbadlines_free(&r->bad);
    if (r->in) qin_close(r->in);
    for (size_t i = 0; i < r->n; i++) free(r->paths[i]);
    free(r->paths);
    free(r->text_field);
    sb_free(&r->line);
    free(r);
}

/* ------------------------------------------------------------ writer */

struct qdoc_writer {
    int dir_mode;
    char *out;          /* file path, or directory in dir mode (NULL: stdout) */
    char *prefix;
    int compress;       /* of the current/next output */
    uint64_t shard_bytes;
    int threads;
    qout *cur;
    unsigned next_idx;
    uint64_t docs, bytes;
    int failed;
    char err[QERR_LEN];
    strbuf tmp;
};

static int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

qdoc_writer *qdoc_writer_open(const qdoc_writer_opts *o, char *err, size_t errlen)
{
    qdoc_writer *w = calloc(1, sizeof *w);
    if (!w) abort();
    const char *out = o ? o->out : NULL;
    w->shard_bytes = o && o->shard_bytes ? o->shard_bytes : DEFAULT_SHARD_BYTES;
    w->prefix = strdup(o && o->prefix ? o->prefix : "part");
    if (!w->prefix) abort();
    struct stat st;
    if (out && strcmp(out, "-") && (ends_with(out, "/") || (!stat(out, &st) && S_ISDIR(st.st_mode)))) {
        w->dir_mode = 1;
        w->compress = o->compress ? QOUT_ZSTD : QOUT_PLAIN;
        w->out = strdup(out);
        if (!w->out) abort();
        size_t l = strlen(w->out);
        while (l > 1 && w->out[l - 1] == '/') w->out[--l] = '\0';
        if (qmkdirs(w->out)) {
            snprintf(err, errlen, "%s: cannot create directory: %s", w->out, strerror(errno));
            goto fail;
        }
        return w;
    }
    if (out && strcmp(out, "-")) {
        if (ends_with(out, ".gz")) {
            snprintf(err, errlen, "%s: gzip output is not supported; name it .jsonl or .jsonl.zst", out);
            goto fail;
        }
        w->out = strdup(out);
        if (!w->out) abort();
        w->compress = ends_with(out, ".zst") ? QOUT_ZSTD : QOUT_PLAIN;
    }
    w->cur = qout_open(w->out, w->compress, err, errlen);
    if (!w->cur) goto fail;
    return w;
fail:
    free(w->out);
    free(w->prefix);
    free(w);
    return NULL;
}

void qdoc_writer_set_threads(qdoc_writer *w, int threads)
{
    w->threads = threads;
    if (w->cur && !qout_bytes(w->cur)) qout_set_threads(w->cur, threads);
}

static int open_shard(qdoc_writer *w)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s-%06u.jsonl%s", w->out, w->prefix, w->next_idx++,
             w->compress == QOUT_ZSTD ? ".zst" : "");
    w->cur = qout_open(path, w->compress, w->err, sizeof w->err);
    if (!w->cur) {
        w->failed = 1;
        return -1;
    }
    if (w->threads > 1) qout_set_threads(w->cur, w->threads);
    return 0;
}

static int close_shard(qdoc_writer *w)
{
    qout *o = w->cur;
    w->cur = NULL;
    if (qout_commit(o, w->err, sizeof w->err)) {
        w->failed = 1;
        return -1;
    }
    return 0;
}

static int put_bytes(qdoc_writer *w, const char *data, size_t n)
{
    if (qout_write(w->cur, data, n)) {
        snprintf(w->err, sizeof w->err, "%s: write failed: %s", qout_path(w->cur), strerror(errno));
        w->failed = 1;
        return -1;
    }
    return 0;
}

int qdoc_writer_write(qdoc_writer *w, const char *data, size_t n)
{
    if (w->failed) return -1;
    for (const char *p = data, *end = data + n; (p = memchr(p, '\n', (size_t)(end - p))); p++) w->docs++;
    w->bytes += n;
    if (!w->dir_mode) return put_bytes(w, data, n);
    while (n) {
        if (!w->cur && open_shard(w)) return -1;
        uint64_t have = qout_bytes(w->cur);
        uint64_t room = have < w->shard_bytes ? w->shard_bytes - have : 1;
        size_t take = n;
        int full = 0;
        if (n >= room) {
            /* End this shard after the line that reaches the limit. */
            const char *nl = memchr(data + room - 1, '\n', n - (size_t)(room - 1));
            if (nl) {
                take = (size_t)(nl - data) + 1;
                full = 1;
            }
        }
        if (put_bytes(w, data, take)) return -1;
        if (full && close_shard(w)) return -1;
        data += take;
        n -= take;
    }
    return 0;
}

int qdoc_writer_put(qdoc_writer *w, const qdoc *d)
{
    sb_reset(&w->tmp);
    qdoc_serialize(d, &w->tmp);
    return qdoc_writer_write(w, w->tmp.buf, w->tmp.len);
}

/* After a successful run in directory mode, shards with our prefix and a
 * higher number are leftovers of an earlier, longer run: remove them so the
 * directory holds exactly this run's documents. */
static void remove_stale_shards(qdoc_writer *w)
{
    DIR *dir = opendir(w->out);
    if (!dir) return;
    size_t pl = strlen(w->prefix);
    struct dirent *e;
    while ((e = readdir(dir))) {
        const char *n = e->d_name;
        if (strncmp(n, w->prefix, pl) || n[pl] != '-') continue;
        const char *q = n + pl + 1;
        int digits = 0;
        unsigned idx = 0;
        while (q[digits] >= '0' && q[digits] <= '9' && digits < 7) idx = idx * 10 + (unsigned)(q[digits++] - '0');
        if (digits != 6 || (strcmp(q + 6, ".jsonl") && strcmp(q + 6, ".jsonl.zst"))) continue;
        int ours = idx < w->next_idx && !strcmp(q + 6, w->compress == QOUT_ZSTD ? ".jsonl.zst" : ".jsonl");
        if (ours) continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", w->out, n);
        unlink(path);
    }
    closedir(dir);
}

int qdoc_writer_close(qdoc_writer *w, char *err, size_t errlen)
{
    int rc = 0;
    if (w->cur && !w->failed && close_shard(w)) rc = -1;
    if (w->dir_mode && !w->failed) remove_stale_shards(w);
    if (w->failed) {
        snprintf(err, errlen, "%s", w->err);
        rc = -1;
        if (w->cur) qout_abort(w->cur);
    }
    free(w->out);
    free(w->prefix);
    sb_free(&w->tmp);
    free(w);
    return rc;
}

void qdoc_writer_abort(qdoc_writer *w)
{
    if (!w) return;
    if (w->cur) qout_abort(w->cur);
    free(w->out);
    free(w->prefix);
    sb_free(&w->tmp);
    free(w);
}

uint64_t qdoc_writer_docs(const qdoc_writer *w) { return w->docs; }
uint64_t qdoc_writer_bytes(const qdoc_writer *w) { return w->bytes; }
