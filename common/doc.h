/* doc.h - the document record and its streaming JSONL reader/writer.
 *
 * A document is one JSON object per line (DESIGN.md section 2):
 *   {"id":"...","text":"...","source":"...","metadata":{"url":...,"lang":...}}
 * Field names follow Dolma/datatrove. The reader accepts any object with a
 * text field (name configurable), keeps the raw bytes of every other member,
 * and the writer re-emits them untouched, in their original order, so unknown
 * fields pass through. Edits (new text, metadata keys set) are applied on
 * output. A line already in quern's output form is written back byte for byte.
 *
 * Canonical output form written by quern: members in input order, "text"
 * escaped minimally (", \, control characters as \n \t \r \b \f or \u00XX;
 * non-ASCII as raw UTF-8, U+2028/2029 raw), no spaces, one '\n' per line.
 * Whitespace between top-level members is dropped; member values (the text
 * too, unless it was changed or held lone surrogates) are copied verbatim, so
 * their JSON values never change. Blank lines are skipped, a UTF-8 BOM at the
 * start of an input is ignored.
 *
 * Invalid UTF-8 inside strings (raw bytes) is repaired to U+FFFD, counted in
 * qdoc.repairs; lone \u surrogates become U+FFFD too. A line that is not a
 * JSON object, or lacks the text field, is an error naming file:line. */
#ifndef QUERN_DOC_H
#define QUERN_DOC_H

#include <stddef.h>
#include <stdint.h>

#include "badlines.h"
#include "io.h"
#include "strbuf.h"

typedef struct qdoc_member {   /* one top-level member, spans into qdoc.raw */
    size_t key_off, key_len;   /* raw key bytes between the quotes (still escaped) */
    size_t val_off, val_len;   /* raw JSON value text */
} qdoc_member;

typedef struct qdoc_meta_edit {
    strbuf key;                /* unescaped key */
    strbuf json;               /* JSON value text to emit */
} qdoc_meta_edit;

typedef struct qdoc {
    strbuf raw;                /* the input line, without '\n' */
    qdoc_member *members;      /* parsed top-level members */
    size_t n_members, cap_members;
    strbuf text;               /* unescaped, valid UTF-8 text */
    strbuf id;                 /* unescaped id ("" if absent) */
    int text_changed;          /* set by qdoc_set_text */
    qdoc_meta_edit *edits;     /* metadata keys to set on output */
    size_t n_edits, cap_edits;
    uint64_t line_no;          /* 1-based line in its input */
    const char *input_name;    /* the input it came from (not owned) */
    size_t repairs;            /* invalid UTF-8 sequences replaced */
    void *user;                /* free for a stage's per-document state */
    /* private to doc.c */
    long text_member;          /* index of the text member, -1 if none */
    long meta_member;          /* index of "metadata", -1 if none */
    int text_reencode;         /* raw text had lone surrogates: re-escape on output */
} qdoc;

void qdoc_init(qdoc *d);
void qdoc_free(qdoc *d);
/* Reset to empty, keeping allocations (for reuse in loops). */
void qdoc_clear(qdoc *d);

/* Parse one JSONL line into d (copies the line). text_field: NULL = "text".
 * Returns 0, or -1 with err filled ("<what>", no position: the caller adds it). */
int qdoc_parse(qdoc *d, const char *line, size_t len, const char *text_field,
               char *err, size_t errlen);

/* Build a new document from parts (used by ingest). meta is a JSON object
 * text such as {"url":"..."} or NULL. */
void qdoc_build(qdoc *d, const char *id, const char *text, size_t text_len,
                const char *source, const char *meta_json);

void qdoc_set_text(qdoc *d, const char *text, size_t len);
/* Top-level string member value (unescaped) into out; returns 1 if present
 * and a string, 0 otherwise. e.g. qdoc_get_str(d, "source", &sb). */
int qdoc_get_str(const qdoc *d, const char *key, strbuf *out);
/* metadata.<key> as a string (unescaped); returns 1 if present and a string.
 * Also sees values set by qdoc_meta_set_* . */
int qdoc_meta_get_str(const qdoc *d, const char *key, strbuf *out);
/* metadata.<key> as a number; returns 1 if present and numeric. */
int qdoc_meta_get_num(const qdoc *d, const char *key, double *out);
void qdoc_meta_set_str(qdoc *d, const char *key, const char *val, size_t len);
void qdoc_meta_set_num(qdoc *d, const char *key, double v);   /* %.17g, or integer form */
void qdoc_meta_set_json(qdoc *d, const char *key, const char *json, size_t len);

/* Append the document as one JSON line (with '\n') to out. */
void qdoc_serialize(const qdoc *d, strbuf *out);

/* ---- streaming reader over many inputs ---- */
typedef struct qdoc_reader qdoc_reader;

typedef struct qdoc_reader_opts {
    const char *text_field;  /* NULL = "text" */
    int skip_bad;            /* 1: report bad lines and continue; 0: stop at the first */
    size_t max_line;         /* 0 = default (1 GiB); longer lines are an error */
    int every_bad_line;      /* 1: print every bad line; 0 (default): the first of
                                each input, then one summary line (qdoc_reader_bad_line) */
} qdoc_reader_opts;

/* paths: already expanded (qinputs). Inputs are read in order. */
qdoc_reader *qdoc_reader_open(char **paths, size_t n, const qdoc_reader_opts *o);
/* 1: a document in d; 0: end of all inputs; -1: error. Every error has been
 * printed with qerr_at(file, "line N" / offset, ...) before returning; with
 * skip_bad the reader prints and continues, and qdoc_reader_errors() counts
 * (bad lines after the first of an input: see qdoc_reader_bad_line). */
int qdoc_reader_next(qdoc_reader *r, qdoc *d);
uint64_t qdoc_reader_errors(const qdoc_reader *r);
/* Inputs that could not be opened or read to their end (truncated, corrupt):
 * a command exits 1 when this is non-zero, even with skip_bad. */
uint64_t qdoc_reader_failed_inputs(const qdoc_reader *r);
/* For stages that parse in worker threads (pool.h): the next non-blank raw
 * line, unparsed, into `line`, with its 1-based line number and input name
 * (valid until qdoc_reader_close). Same returns and error handling for
 * unreadable inputs as qdoc_reader_next; parse it with qdoc_parse, report a
 * bad line with qdoc_reader_bad_line (or a worker's queue with
 * qdoc_reader_report_queue). */
int qdoc_reader_next_line(qdoc_reader *r, strbuf *line, uint64_t *line_no, const char **input_name);
/* Report and count a bad line:
 * the first bad line of each input is printed in full,
 *     quern <cmd>: <name>:line <N>: <what>
 * later ones of the same input are only counted, and summarised in one line
 *     quern <cmd>: <name>: <K> more bad lines skipped
 * when a report names another input, at qdoc_reader_flush_bad() or at
 * qdoc_reader_close(). So a binary file read as JSONL gives two lines, not
 * one per "line". Call in input order (a stage's in-order consumer); with
 * opts.every_bad_line each one is printed. The reader's own bad-line errors
 * (over max_line, and qdoc_reader_next's parse errors) go through it too. */
void qdoc_reader_bad_line(qdoc_reader *r, const char *name, uint64_t line_no, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Print the pending "K more bad lines skipped" line now, if any (e.g. before
 * a stage's own end-of-run summary). */
void qdoc_reader_flush_bad(qdoc_reader *r);
/* qdoc_reader_bad_line for each bad line a worker queued (badlines.h's
 * qbadlines_queue); returns how many. */
size_t qdoc_reader_report_queue(qdoc_reader *r, const strbuf *q, qbadlines_locate locate,
                                const void *batch);
uint64_t qdoc_reader_bytes(const qdoc_reader *r);   /* decoded bytes consumed */
uint64_t qdoc_reader_raw_bytes(const qdoc_reader *r);   /* raw (compressed) bytes */
int64_t qdoc_reader_total_raw(const qdoc_reader *r);    /* sum of input sizes, -1 if unknown */
void qdoc_reader_close(qdoc_reader *r);

/* ---- writer: stdout, one file, or a directory of .jsonl.zst shards ---- */
typedef struct qdoc_writer qdoc_writer;

typedef struct qdoc_writer_opts {
    const char *out;          /* NULL or "-": stdout; a path ending in / or an
                                 existing directory: shards inside it,
                                 named <prefix>-000000.jsonl[.zst];
                                 else a single file (.zst suffix -> zstd) */
    uint64_t shard_bytes;     /* uncompressed bytes per shard in dir mode; default 256 MiB */
    const char *prefix;       /* shard file prefix in dir mode; default "part" */
    int compress;             /* dir mode: 1 = .jsonl.zst (default), 0 = .jsonl */
} qdoc_writer_opts;

qdoc_writer *qdoc_writer_open(const qdoc_writer_opts *o, char *err, size_t errlen);
/* Append already-serialized JSONL bytes (one or more whole lines). */
int qdoc_writer_write(qdoc_writer *w, const char *data, size_t n);
int qdoc_writer_put(qdoc_writer *w, const qdoc *d);
/* zstd outputs: compress with this many threads (call before writing);
 * see qout_set_threads about byte-identical output. */
void qdoc_writer_set_threads(qdoc_writer *w, int threads);
/* Commit every shard (atomic). In directory mode, shards of an earlier run
 * with the same prefix that this run did not rewrite are removed, so the
 * directory holds exactly this run's documents (give each writer sharing a
 * directory its own prefix). Returns 0 or -1 (err filled); frees w. */
int qdoc_writer_close(qdoc_writer *w, char *err, size_t errlen);
void qdoc_writer_abort(qdoc_writer *w);
uint64_t qdoc_writer_docs(const qdoc_writer *w);
uint64_t qdoc_writer_bytes(const qdoc_writer *w);

#endif
