/* io.h - input sources and transparent decompression.
 *
 * Two layers, as in zstd's streaming API: a raw byte source (qsrc: a file,
 * stdin, or an http(s) URL through fetch.h) and a decoded stream (qin) that
 * detects gzip (1f 8b, multi-member), zstd (28 b5 2f fd) or plain input by
 * magic bytes, never by name. Stages that need compressed offsets (the WARC
 * reader) use qsrc directly; everything else uses qin.
 *
 * Errors: functions return -1 and fill the caller's err buffer with a message
 * of the form "<file>:<offset>: <what>" (offset in the *compressed* input for
 * decode errors), ready for qerr(). Data decoded before the damage has already
 * been returned to the caller.
 *
 * Verification before release: the output of a gzip member / zstd frame is
 * held back until the unit's checksum (gzip CRC32 + ISIZE; zstd content
 * checksum when the frame has one) has been checked, so a damaged unit
 * yields none of its bytes and one error "<file>:<offset where the unit
 * starts>: corrupt gzip member: ...". Units are held up to a limit of
 * decoded bytes (default 8 MiB; env QUERN_VERIFY_LIMIT, e.g. "64M", or
 * qin_set_hold_limit): a larger unit (a whole file gzipped as one member) is
 * passed on as it decodes and damage in it is found at its end, after the
 * bytes before that point (the error then says so); a zstd frame that
 * declares a larger content size (the zstd tool writes one frame per file)
 * streams from its start. Files of many small members / frames are thus
 * verified unit by unit. A truncated unit (input ends inside it) passes on
 * what it decoded, then reports the truncation: its bytes are unverified
 * but not known bad. (WARC input is read by ingest through qsrc, not here.) */
#ifndef QUERN_IO_H
#define QUERN_IO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "strbuf.h"

#define QERR_LEN 512

/* ---- raw byte source ---- */
typedef struct qsrc {
    /* Returns bytes read (>0), 0 at end, -1 on error (message in err). */
    ssize_t (*read)(void *ctx, void *buf, size_t n, char *err, size_t errlen);
    void (*close)(void *ctx);
    void *ctx;
    char *name;          /* display name (path, "<stdin>", or URL); owned */
    int64_t size;        /* total size if known, else -1 */
} qsrc;

/* path: a file path, "-" for stdin, or an http:// / https:// URL (through
 * qfetch_open() with the process-wide options, qfetch_set_default_opts). */
int qsrc_open(qsrc *src, const char *path, char *err, size_t errlen);
ssize_t qsrc_read(qsrc *src, void *buf, size_t n, char *err, size_t errlen);
void qsrc_close(qsrc *src);

/* ---- decoded stream ---- */
typedef enum { QFMT_PLAIN, QFMT_GZIP, QFMT_ZSTD } qfmt;

typedef struct qin qin;

qin *qin_open(const char *path, char *err, size_t errlen);
/* Takes ownership of an already opened raw source. */
qin *qin_from_src(qsrc *src, char *err, size_t errlen);
/* Like read(2): >0 bytes, 0 at clean end, -1 on error (err filled). A
 * truncated compressed stream is an error, reported after all complete data. */
ssize_t qin_read(qin *in, void *buf, size_t n, char *err, size_t errlen);
/* Read one line (up to and including '\n', which is stripped) into `line`.
 * Lines of any length are supported. Returns 1 if a line was read, 0 at end,
 * -1 on error. A final line without '\n' is returned as a line. */
int qin_getline(qin *in, strbuf *line, char *err, size_t errlen);
/* Like qin_getline, but keeps at most `max` bytes of a line: returns 2 when
 * the line was longer (line holds its first max bytes; the rest is skipped,
 * so the next call starts at the following line). */
int qin_getline_max(qin *in, strbuf *line, size_t max, char *err, size_t errlen);
/* Hold-back limit in decoded bytes for this stream (see above; at least 64 KiB). */
void qin_set_hold_limit(qin *in, size_t max);
qfmt qin_format(const qin *in);
const char *qin_name(const qin *in);
uint64_t qin_raw_offset(const qin *in);   /* compressed bytes consumed so far */
uint64_t qin_offset(const qin *in);       /* decoded bytes returned so far */
int64_t qin_raw_size(const qin *in);      /* -1 if unknown */
void qin_close(qin *in);

/* ---- lists of inputs ---- */
typedef struct qinputs {
    char **paths;
    size_t n;
} qinputs;

/* Expand command-line inputs: glob patterns (sorted), "-" kept as is, URLs
 * kept as is, a directory -> the regular files directly inside it (sorted);
 * hidden files and unfinished outputs (*.tmp.*) are never inputs; no
 * arguments -> {"-"}. Then keep only the shard-th of nshards
 * slices (input i goes to shard i % nshards, so adding files never reshuffles
 * completed ones... in order). Returns 0, or -1 with err filled (e.g. a glob
 * that matches nothing). */
int qinputs_expand(qinputs *out, char **args, int nargs, unsigned shard, unsigned nshards,
                   char *err, size_t errlen);
void qinputs_free(qinputs *in);
/* Sum of the sizes of the inputs that are local files (for progress). */
int64_t qinputs_total_size(const qinputs *in);

/* Read a whole small file (config, vocabulary, manifest) into sb, with
 * transparent decompression. Returns 0 or -1 with err filled. */
int qread_file(const char *path, strbuf *sb, char *err, size_t errlen);

#endif
