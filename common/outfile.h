/* outfile.h - output files that are either complete or absent.
 *
 * qout writes to "<path>.tmp.<pid>" and, on commit, flushes, fsyncs, renames
 * to <path> and fsyncs the directory. A killed run leaves only *.tmp.* files,
 * which no stage ever reads as complete (readers ignore them; a rerun removes
 * stale ones for the paths it writes). path NULL or "-" means stdout (commit
 * then only flushes). Optional zstd compression of everything written. */
#ifndef QUERN_OUTFILE_H
#define QUERN_OUTFILE_H

#include <stddef.h>
#include <stdint.h>

typedef struct qout qout;

enum { QOUT_PLAIN = 0, QOUT_ZSTD = 1 };

/* compress: QOUT_PLAIN or QOUT_ZSTD (level 3). Creates parent directories.
 * Returns NULL with err filled on failure. */
qout *qout_open(const char *path, int compress, char *err, size_t errlen);
int qout_write(qout *o, const void *data, size_t n);   /* 0 or -1 */
int qout_commit(qout *o, char *err, size_t errlen);   /* 0 or -1; frees o */
void qout_abort(qout *o);                              /* removes the temp file; frees o */
uint64_t qout_bytes(const qout *o);                    /* uncompressed bytes written */
/* zstd output: compress on `threads` extra threads (libzstd's own workers).
 * Call right after qout_open, before any write. No effect on plain output.
 * The compressed bytes differ from single-threaded output, so never derive
 * `threads` from -j if output must be byte-identical at any -j (cat does
 * not use it). */
void qout_set_threads(qout *o, int threads);
const char *qout_path(const qout *o);

/* True if path exists as a complete (renamed) output. */
int qout_is_complete(const char *path);
/* Write a whole buffer atomically (manifest, stats). */
int qout_write_file(const char *path, const void *data, size_t n, char *err, size_t errlen);
/* Remove "<path>.tmp.<pid>" files left by processes that are gone (a killed
 * run), keeping those of live processes. qout_open does this for its path;
 * writers that make their own temp files (shard.c) call it too. */
void qout_remove_stale_temps(const char *path);
/* The same for every "<prefix>*.tmp.<pid>" in dir: for a stage that owns an
 * output directory and may write other names than a killed run did. */
void qout_remove_stale_temps_in(const char *dir, const char *prefix);
/* mkdir -p */
int qmkdirs(const char *dir);

#endif
