/* cli.h - conventions every command shares (DESIGN.md section 3):
 * error lines, exit codes, -j, --shard I/N, sizes like "100M".
 *
 * Error line format, always one line on stderr:
 *     quern <cmd>: <file>:<offset or line>: <what>
 * qerr_at() prints it; qerr() prints "quern <cmd>: <what>" for errors that
 * have no position. The command name is set once by the dispatcher. */
#ifndef QUERN_CLI_H
#define QUERN_CLI_H

#include <stddef.h>
#include <stdint.h>

enum {
    QEXIT_OK = 0,
    QEXIT_BADINPUT = 1, /* input could not be read, or was skipped past with --strict */
    QEXIT_USAGE = 2,    /* bad options */
};

#define QUERN_VERSION "0.1.0"

void qerr_set_cmd(const char *cmd);
const char *qerr_cmd(void);
/* where: e.g. "1234" (byte offset) or "line 17"; may be NULL. */
void qerr_at(const char *file, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void qerr(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Convenience for the common byte-offset case. */
void qerr_off(const char *file, uint64_t offset, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Fill a caller's error buffer (err may be NULL) - the library-side half of
 * error reporting: the command adds the "quern <cmd>:" prefix with qerr(). */
void qseterr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* --shard "I/N" with 0 <= I < N. Returns 0, or -1 after printing
 * "--shard: '<s>' is not I/N with 0 <= I < N" (the caller exits QEXIT_USAGE). */
int cli_parse_shard(const char *s, unsigned *i, unsigned *n);
/* Defaults from SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT, else 0/1.
 * (SLURM_ARRAY_TASK_ID is taken relative to SLURM_ARRAY_TASK_MIN when set.) */
void cli_shard_default(unsigned *i, unsigned *n);
/* -j N: an integer 1..4096. Returns 0, or -1 after printing
 * "-j: '<s>' is not a thread count" (the caller exits QEXIT_USAGE). */
int cli_parse_jobs(const char *s, int *jobs);
/* Number of online cores, at least 1. */
int cli_jobs_default(void);
/* "123", "64K", "100M", "2G", "1T" (powers of 1024 for K/M/G/T; also "1e9").
 * Returns 0 on success, -1 if malformed. */
int cli_parse_size(const char *s, uint64_t *out);
/* Plain non-negative integer with optional SI-ish suffix k/M/B (1000-based)
 * and scientific notation: "124M", "1.5B", "3e11". For token and parameter counts. */
int cli_parse_count(const char *s, double *out);

#endif
