/* pipeline.h - a whole quern pipeline described in one small text file, cut
 * into units of work that run on one machine (`quern pipeline run`) or as
 * Slurm job arrays (`quern pipeline slurm`). The file format is documented
 * in pipeline/README.md and by `quern pipeline --help`.
 *
 * The model: a fixed list of stages (qpl_stage), each cut into a number of
 * units that depends only on the pipeline file (the inputs and the dedup
 * band count), never on how many processes or array tasks execute them.
 * A unit's completion is one path under the work directory: an output
 * directory built under a temporary name and renamed when every process of
 * the unit succeeded, or (for stages that write in place) a marker file
 * written then. "The path exists" means "the unit is done", and any run
 * (local or Slurm, with any number of tasks) skips done units. */
#ifndef QUERN_PIPELINE_H
#define QUERN_PIPELINE_H

#include <stddef.h>

#include "../common/strbuf.h"

/* ---- the parsed text: sections of key = value lines ---- */
typedef struct qpl_kv {
    char *key;
    char *val;
    int line;        /* 1-based line of the key */
    int used;        /* set when the config reader consumed it */
} qpl_kv;

typedef struct qpl_section {
    char *name;
    int line;
    qpl_kv *kv;
    size_t n_kv, cap_kv;
} qpl_section;

typedef struct qpl_ini {
    qpl_section *sec;
    size_t n_sec, cap_sec;
} qpl_ini;

/* Parse INI-like text (see README.md). name is used in error messages.
 * Returns 0, or -1 with err = "<name>:line N: <what>". */
int qpl_ini_parse(qpl_ini *ini, const char *text, size_t len, const char *name,
                  char *err, size_t errlen);
void qpl_ini_free(qpl_ini *ini);
qpl_section *qpl_ini_section(qpl_ini *ini, const char *name);

/* Split a value into words like a shell without expansion: blanks separate,
 * '...' is literal, "..." allows \" and \\, a backslash escapes outside
 * quotes. Returns a NULL-terminated malloc'd array (free with qpl_words_free),
 * or NULL with err filled (unterminated quote). */
char **qpl_split_words(const char *s, size_t *n_out, char *err, size_t errlen);
void qpl_words_free(char **w);

/* ---- stages ---- */
typedef enum {
    QPL_DOCS = 0,     /* ingest and/or clean, one unit per input */
    QPL_SIGNATURES,   /* dedup signatures, one unit per document shard */
    QPL_PAIRS,        /* dedup candidate pairs, one unit per LSH band */
    QPL_CLUSTERS,     /* dedup connected components, one unit */
    QPL_FILTER,       /* dedup removal, one unit per document shard */
    QPL_TOKENIZE,     /* one unit per document shard */
    QPL_MIX,          /* one unit */
    QPL_TRAIN,        /* one unit */
    QPL_NSTAGES
} qpl_stage;

const char *qpl_stage_name(qpl_stage s);            /* "clean", "signatures", ... */
int qpl_stage_from_name(const char *name);          /* -1 if unknown */

/* Slurm resources of one stage (NULL / 0 = not given: Slurm's default). */
typedef struct qpl_res {
    char *partition, *time, *mem, *account, *qos;
    int cpus;
    char **extra;     /* more sbatch options, NULL-terminated, or NULL */
} qpl_res;

typedef struct qpl_config {
    char *path;       /* absolute path of the pipeline file */
    char *dir;        /* its directory: relative paths and commands start there */
    char *name;
    char *workdir;    /* absolute */
    char *quern;      /* binary the units' stage commands run; absolute */
    char *self;       /* the quern running now: generated scripts call it */
    char **inputs;    /* expanded inputs (absolute paths or URLs), in order */
    size_t n_inputs;
    int has_ingest, has_clean;
    int enabled[QPL_NSTAGES];
    unsigned bands;   /* LSH bands: one pairs unit each ... */
    int exact_text, exact_url;   /* ... and one per exact key (dedup --exact) */
    /* per stage: options appended to the stage command(s); NULL-terminated */
    char **opt_ingest, **opt_clean, **opt_dedup_common;
    char **opt[QPL_NSTAGES];
    char *mix_weight;     /* [mix] weight of the corpus as a mix source ("1") */
    char **train_resume;  /* [train] resume: options when continuing a checkpoint, or NULL */
    qpl_res res_default;
    qpl_res res[QPL_NSTAGES];
    unsigned array_max;   /* [slurm] array_max, 0 = unlimited */
    unsigned throttle;    /* [slurm] throttle: %N concurrent tasks, 0 = none */
} qpl_config;

/* Read and validate a pipeline file. quern_default: the binary to use when
 * the file does not name one (the running binary). Returns 0, or -1 with err
 * filled ("<file>:line N: <what>" where a line is known). */
int qpl_config_load(qpl_config *c, const char *path, const char *quern_default,
                    char *err, size_t errlen);
void qpl_config_free(qpl_config *c);

/* Units of a stage (0 when the stage is disabled). */
unsigned qpl_units(const qpl_config *c, qpl_stage s);
/* Stages whose units a stage reads (direct dependencies), enabled ones only.
 * Returns how many were written to deps (at most QPL_NSTAGES). */
int qpl_stage_deps(const qpl_config *c, qpl_stage s, qpl_stage *deps);
/* Whether unit u of s needs every unit of dep (1) or only unit u (0). */
int qpl_dep_is_all(const qpl_config *c, qpl_stage s, qpl_stage dep);

/* Where a unit's completion shows, absolute (malloc'd). Most stages write
 * one directory per unit, built under a temporary name and renamed: that
 * directory. The dedup phases signatures, pairs and clusters write into one
 * shared dedup directory (qpl_dedup_dir; dedup makes each of its files
 * atomically and skips complete ones on rerun), so theirs is a marker file
 * written once every command of the unit succeeded. Train writes its run
 * directory in place (checkpoints survive a failed job): also a marker. */
char *qpl_unit_output(const qpl_config *c, qpl_stage s, unsigned u);
/* 1 for the stages whose completion is a marker file (see above). */
int qpl_stage_in_place(qpl_stage s);
char *qpl_dedup_dir(const qpl_config *c);
/* train's run directory (checkpoints); a train unit with a checkpoint there
 * resumes from it, unless forced (then the directory is emptied first). */
char *qpl_train_dir(const qpl_config *c);
/* 1 when the unit's output is complete. */
int qpl_unit_done(const qpl_config *c, qpl_stage s, unsigned u);
/* A short description for status lines: the input of a docs unit, "band 3"... */
void qpl_unit_label(const qpl_config *c, qpl_stage s, unsigned u, strbuf *out);

/* The processes of one unit: commands connected by pipes (stdout of one to
 * stdin of the next), each a NULL-terminated argv. */
typedef struct qpl_cmds {
    char **argv[3];
    int n;
} qpl_cmds;

enum {
    QPL_CMD_PREVIEW = 1,   /* inputs need not be complete (scripts, `plan`) */
    QPL_CMD_FORCE = 2,     /* in-place stages: make the command redo its outputs */
};

/* Build the unit's commands; directory stages write into `staging`. threads:
 * the -j given to each command. Fails (-1, err filled) when an input of the
 * unit is not complete, unless QPL_CMD_PREVIEW. */
int qpl_unit_cmds(const qpl_config *c, qpl_stage s, unsigned u, const char *staging,
                  int threads, int flags, qpl_cmds *out, char *err, size_t errlen);
void qpl_cmds_free(qpl_cmds *cmds);
/* The commands as one shell-quoted line ("a | b"), for logs and scripts. */
void qpl_cmds_format(const qpl_cmds *cmds, strbuf *out);
/* Append s shell-quoted (only when needed) to out. */
void qpl_shell_quote(strbuf *out, const char *s);

/* Write <workdir>/tokens/manifest.json naming every tokenize unit's shards,
 * so mix reads the corpus as one source (merge.c). 0 or -1 (err filled). */
int qpl_merge_tokens(const qpl_config *c, char *err, size_t errlen);

/* Compare the inputs and each stage's options with what the done units were
 * made from (<workdir>/.pipeline/record.tsv, record.c): -1 with err when
 * done work would be mixed with work from the changed file; else 0, and the
 * record is updated when write. */
int qpl_check_record(const qpl_config *c, int write, char *err, size_t errlen);

/* ---- state of units (markers under <workdir>/.pipeline/state) ---- */
typedef enum { QPL_MISSING, QPL_DONE, QPL_RUNNING, QPL_FAILED } qpl_ustate;

typedef struct qpl_unit_status {
    qpl_ustate state;
    char where[64];    /* "slurm job 12_3 on n1" / "pid 1234 on vm" */
    char log[1024];    /* log path from the marker, or "" */
    char why[256];     /* failure reason, or "" */
} qpl_unit_status;

/* Path of a marker file: kind "running" or "failed" (malloc'd). */
char *qpl_marker_path(const qpl_config *c, qpl_stage s, unsigned u, const char *kind);
/* Reads the markers and checks whether a "running" unit really is: a local
 * pid on this host must be alive, a Slurm job must still be in squeue
 * (check_slurm); a dead one counts as failed ("lost"). */
void qpl_unit_status_get(const qpl_config *c, qpl_stage s, unsigned u, int check_slurm,
                         qpl_unit_status *st);

/* ---- running one unit (exec.c) ---- */
typedef struct qpl_exec_opts {
    int threads;        /* -j for every command; 0 = all cores */
    int force;          /* redo even when done */
    const char *log;    /* log path recorded in markers (may be NULL) */
    int quiet;          /* no "skip" lines */
} qpl_exec_opts;

/* Run one unit to completion in this process (its commands are children).
 * Returns 0 (done or skipped), 1 (a command failed: marker written), or 2
 * (bad use, e.g. inputs not complete). */
int qpl_exec_unit(const qpl_config *c, qpl_stage s, unsigned u, const qpl_exec_opts *o);

/* ---- the local runner (local.c) ---- */
typedef struct qpl_run_opts {
    int jobs;           /* concurrent units; 0 = all cores */
    int threads;        /* -j per command; 0 = chosen from jobs and unit count */
    int force;
    int keep_going;     /* continue with independent units after a failure */
    int until;          /* last stage to run (QPL_NSTAGES - 1 = all) */
    int verbose;
} qpl_run_opts;

int qpl_run_local(const qpl_config *c, const qpl_run_opts *o);

/* ---- Slurm (slurm.c) ---- */
typedef struct qpl_slurm_opts {
    int dry_run;            /* print the scripts and sbatch lines; submit nothing */
    int wait;               /* poll until every job left the queue, then report */
    unsigned array_max;     /* overrides [slurm] array_max when > 0 */
    unsigned throttle;      /* overrides [slurm] throttle when > 0 */
    const char *partition, *time, *mem, *account;   /* override every stage */
    int cpus;               /* overrides when > 0 */
    int until;              /* last stage to submit */
    int force;              /* submit even when jobs of an earlier submission are queued */
    double poll_s;          /* --wait poll interval */
} qpl_slurm_opts;

int qpl_slurm_submit(const qpl_config *c, const qpl_slurm_opts *o);

/* ---- status (status.c) ---- */
/* Prints the per-stage table and details of failed (and, verbose, running)
 * units; returns 0 when every unit of the stages up to `last` is done, 1
 * otherwise. check_slurm: ask squeue about units that Slurm runs. */
int qpl_status_print(const qpl_config *c, int last, int check_slurm, int verbose);
/* Job ids of the last Slurm submission that are still in the queue, as a
 * comma-separated list in out ("" if none or no Slurm). */
void qpl_slurm_queued_jobs(const qpl_config *c, strbuf *out);

/* ---- small helpers shared by the files above (util.c) ---- */
char *qpl_strdup(const char *s);
char *qpl_path_join(const char *a, const char *b);
/* Absolute form of p relative to base (no symlink resolution). */
char *qpl_abspath(const char *base, const char *p);
/* Remove a directory tree (used for stale staging directories only). */
int qpl_rmtree(const char *path);
/* Sorted regular files directly inside dir (no dot files); NULL-terminated. */
char **qpl_list_files(const char *dir, size_t *n);
/* Run argv, capture stdout (and stderr too when merge_stderr) into out (may
 * be NULL). Returns the exit status, or -1 if it could not run. */
int qpl_capture(char *const argv[], strbuf *out, int merge_stderr);
/* Is any of the Slurm jobs "id,id,..." still in the queue? 1 yes, 0 no,
 * -1 cannot tell (no squeue, controller unreachable). */
int qpl_squeue_alive(const char *ids);
int qpl_hostname(char *buf, size_t len);
/* Write a small file under a temporary name, fsync, rename. 0 or -1 (errno). */
int qpl_write_atomic(const char *path, const void *data, size_t n);

#endif
