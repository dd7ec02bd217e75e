/* Unit tests for pipeline/: running units (staging directory, atomic rename,
 * markers, skipping done units, failures, signals) and the local runner.
 * The stage commands are played by a small shell script given as `quern =`
 * in the pipeline file, so these tests check the runner's own behaviour
 * whatever state the real stages are in; tests/e2e/pipeline_*.sh run the
 * real binary. */
#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "pipeline/pipeline.h"
#include "testlib.h"

/* The fake stage binary: `ingest` copies its input to stdout (exit 3 when the
 * input holds FAILINGEST), `clean` copies stdin or its input into
 * -o FILE (exit 1 on FAIL, sleeps on SLOW), `tokenize` concatenates
 * its inputs into -o DIR/tokens.txt. Every call appends its argv to calls.log
 * and fails if SLURM_ARRAY_TASK_ID leaked into it. */
static const char fake[] =
    "#!/bin/sh\n"
    "echo \"$*\" >> \"$(dirname \"$0\")/calls.log\"\n"
    "[ -z \"${SLURM_ARRAY_TASK_ID:-}\" ] || { echo leaked >&2; exit 9; }\n"
    "cmd=$1; shift\n"
    "out=''; ins=''\n"
    "while [ $# -gt 0 ]; do case $1 in -o) out=$2; shift 2;; -j*) shift;; *) ins=\"$ins $1\"; shift;; esac; done\n"
    "case $cmd in\n"
    "ingest) cat $ins; grep -q FAILINGEST $ins && exit 3; exit 0;;\n"
    "clean) if [ -n \"$ins\" ]; then cat $ins; else cat; fi > \"$out\"\n"
    "  grep -q SLOW \"$out\" && sleep 30\n"
    "  grep -q FAIL \"$out\" && { echo 'clean: bad input' >&2; exit 1; }; exit 0;;\n"
    "tokenize) cat $ins > \"$out/tokens.txt\";;\n"
    "*) exit 2;;\n"
    "esac\n";

/* Every test runs in a fresh directory holding the fake stage binary and
 * the inputs (some of them made to fail or hang the fake stages). */
static int setup(void **state)
{
    if (tl_tmpdir_setup(state)) return -1;
    char p[400];
    tl_write_text(tl_path(p, sizeof p, "fake-quern"), fake);
    assert_int_equal(chmod(p, 0755), 0);
    const char *ins[][2] = { { "in0.jsonl", "doc zero\n" }, { "in1.jsonl", "doc one\n" },
                             { "bad.jsonl", "FAIL here\n" }, { "slow.jsonl", "SLOW\n" },
                             { "badingest.jsonl", "FAILINGEST\n" } };
    for (size_t i = 0; i < sizeof ins / sizeof ins[0]; i++)
        tl_write_text(tl_path(p, sizeof p, "%s", ins[i][0]), ins[i][1]);
    return 0;
}

static void load(qpl_config *c, const char *inputs, const char *extra)
{
    char text[1024];
    snprintf(text, sizeof text,
             "[pipeline]\nname = t\nworkdir = work\ninputs = %s\nquern = fake-quern\n[clean]\n%s", inputs, extra);
    char *p = qpl_path_join(tl_tmpdir(), "t.pipeline");
    tl_write_text(p, text);
    char err[512];
    if (qpl_config_load(c, p, "/nonexistent", err, sizeof err) != 0) fail_msg("%s", err);
    free(p);
}

static char *out_file(const qpl_config *c, qpl_stage s, unsigned u, const char *name)
{
    char *d = qpl_unit_output(c, s, u);
    char *f = qpl_path_join(d, name);
    free(d);
    return f;
}

static int exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

/* Nothing of a staging directory (a name with ".tmp.") may be left in the
 * stage's directory; a stage directory not made at all holds none. */
static void assert_no_staging(const qpl_config *c, const char *stage_dir)
{
    char *d = qpl_path_join(c->workdir, stage_dir);
    DIR *dir = opendir(d);
    if (dir) {
        struct dirent *e;
        while ((e = readdir(dir)))
            if (strstr(e->d_name, ".tmp.")) fail_msg("staging left in %s: %s", d, e->d_name);
        closedir(dir);
    }
    free(d);
}

/* The file `name` of the unit's output holds exactly want. */
static void assert_unit_file(const qpl_config *c, qpl_stage s, unsigned u, const char *name, const char *want)
{
    char *f = out_file(c, s, u, name);
    char *got = tl_read_file(f, NULL);
    assert_string_equal(got, want);
    free(got);
    free(f);
}

static void test_unit_success_then_skip(void **state)
{
    (void)state;
    qpl_config c;
    load(&c, "in0.jsonl in1.jsonl", "");
    setenv("SLURM_ARRAY_TASK_ID", "1", 1);   /* must not reach the stage */
    qpl_exec_opts o = { .threads = 2, .quiet = 1 };
    assert_int_equal(qpl_exec_unit(&c, QPL_DOCS, 1, &o), 0);
    unsetenv("SLURM_ARRAY_TASK_ID");
    assert_true(qpl_unit_done(&c, QPL_DOCS, 1));
    assert_false(qpl_unit_done(&c, QPL_DOCS, 0));
    char *f = out_file(&c, QPL_DOCS, 1, "docs.jsonl.zst");
    char *got = tl_read_file(f, NULL);
    assert_string_equal(got, "doc one\n");
    free(got);
    struct stat st1, st2;
    assert_int_equal(stat(f, &st1), 0);
    char *m = qpl_marker_path(&c, QPL_DOCS, 1, "running");
    assert_false(exists(m));
    free(m);
    assert_no_staging(&c, "clean");
    /* a second run skips the done unit: same file, not rewritten */
    char *calls = qpl_path_join(tl_tmpdir(), "calls.log");
    unlink(calls);
    assert_int_equal(qpl_exec_unit(&c, QPL_DOCS, 1, &o), 0);
    assert_false(exists(calls));
    assert_int_equal(stat(f, &st2), 0);
    assert_int_equal(st1.st_ino, st2.st_ino);
    /* --force redoes it */
    o.force = 1;
    assert_int_equal(qpl_exec_unit(&c, QPL_DOCS, 1, &o), 0);
    assert_true(exists(calls));
    qpl_unit_status us;
    qpl_unit_status_get(&c, QPL_DOCS, 1, 0, &us);
    assert_int_equal(us.state, QPL_DONE);
    qpl_unit_status_get(&c, QPL_DOCS, 0, 0, &us);
    assert_int_equal(us.state, QPL_MISSING);
    free(calls);
    free(f);
    qpl_config_free(&c);
}

static void test_unit_failure_leaves_marker_not_output(void **state)
{
    (void)state;
    qpl_config c;
    load(&c, "in0.jsonl bad.jsonl", "");
    qpl_exec_opts o = { .threads = 1, .quiet = 1, .log = "/logs/x.log" };
    assert_int_equal(qpl_exec_unit(&c, QPL_DOCS, 1, &o), 1);
    assert_false(qpl_unit_done(&c, QPL_DOCS, 1));
    assert_no_staging(&c, "clean");
    qpl_unit_status us;
    qpl_unit_status_get(&c, QPL_DOCS, 1, 0, &us);
    assert_int_equal(us.state, QPL_FAILED);
    assert_string_equal(us.log, "/logs/x.log");
    assert_string_equal(us.why, "quern clean exited with 1");
    assert_non_null(strstr(us.where, "pid "));
    /* a later successful run clears the failure */
    char *bad = qpl_path_join(tl_tmpdir(), "bad.jsonl");
    tl_write_text(bad, "fixed\n");
    assert_int_equal(qpl_exec_unit(&c, QPL_DOCS, 1, &o), 0);
    qpl_unit_status_get(&c, QPL_DOCS, 1, 0, &us);
    assert_int_equal(us.state, QPL_DONE);
    char *m = qpl_marker_path(&c, QPL_DOCS, 1, "failed");
    assert_false(exists(m));
    free(m);
    free(bad);
    qpl_config_free(&c);
}

static void test_pipe_failure_names_the_failing_command(void **state)
{
    (void)state;
    qpl_config c;
    load(&c, "in0.jsonl badingest.jsonl", "[ingest]\n");
    qpl_exec_opts o = { .threads = 1, .quiet = 1 };
    /* ingest | clean: clean succeeds, ingest exits 3: the unit must fail */
    assert_int_equal(qpl_exec_unit(&c, QPL_DOCS, 1, &o), 1);
    assert_false(qpl_unit_done(&c, QPL_DOCS, 1));
    qpl_unit_status us;
    qpl_unit_status_get(&c, QPL_DOCS, 1, 0, &us);
    assert_string_equal(us.why, "quern ingest exited with 3");
    assert_int_equal(qpl_exec_unit(&c, QPL_DOCS, 0, &o), 0);
    assert_unit_file(&c, QPL_DOCS, 0, "docs.jsonl.zst", "doc zero\n");
    qpl_config_free(&c);
}

static void test_stale_staging_removed_and_inputs_checked(void **state)
{
    (void)state;
    qpl_config c;
    load(&c, "in0.jsonl", "[tokenize]\n");
    /* a staging directory left by a unit that died on another host */
    char stale[700];
    snprintf(stale, sizeof stale, "%s/clean/.00000.tmp.deadhost.1", c.workdir);
    tl_mkdirs(stale);
    strcat(stale, "/junk");
    tl_write_text(stale, "");
    qpl_exec_opts o = { .threads = 1, .quiet = 1 };
    /* tokenize before its input exists: refused (exit 2), nothing written */
    assert_int_equal(qpl_exec_unit(&c, QPL_TOKENIZE, 0, &o), 2);
    assert_false(qpl_unit_done(&c, QPL_TOKENIZE, 0));
    assert_int_equal(qpl_exec_unit(&c, QPL_DOCS, 0, &o), 0);
    assert_no_staging(&c, "clean");
    assert_int_equal(qpl_exec_unit(&c, QPL_TOKENIZE, 0, &o), 0);
    assert_unit_file(&c, QPL_TOKENIZE, 0, "tokens.txt", "doc zero\n");
    assert_int_equal(qpl_exec_unit(&c, QPL_TOKENIZE, 5, &o), 2);
    qpl_config_free(&c);
}

static void test_sigterm_stops_the_unit_cleanly(void **state)
{
    (void)state;
    qpl_config c;
    load(&c, "slow.jsonl", "");
    char *run = qpl_marker_path(&c, QPL_DOCS, 0, "running");
    char *stage_out = out_file(&c, QPL_DOCS, 0, "docs.jsonl.zst");
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        qpl_exec_opts o = { .threads = 1, .quiet = 1 };
        _exit(qpl_exec_unit(&c, QPL_DOCS, 0, &o));
    }
    /* wait until the fake stage has started writing, then stop the unit */
    char *calls = qpl_path_join(tl_tmpdir(), "calls.log");
    for (int i = 0; i < 200 && !exists(calls); i++) usleep(20000);
    usleep(200000);
    qpl_unit_status us;
    qpl_unit_status_get(&c, QPL_DOCS, 0, 0, &us);
    assert_int_equal(us.state, QPL_RUNNING);
    kill(pid, SIGTERM);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 128 + SIGTERM);
    assert_false(qpl_unit_done(&c, QPL_DOCS, 0));
    assert_false(exists(run));
    assert_no_staging(&c, "clean");
    qpl_unit_status_get(&c, QPL_DOCS, 0, 0, &us);
    assert_int_equal(us.state, QPL_FAILED);
    assert_string_equal(us.why, "stopped by signal 15");
    free(calls);
    free(run);
    free(stage_out);
    qpl_config_free(&c);
}

static void test_dead_running_marker_counts_as_failed(void **state)
{
    (void)state;
    qpl_config c;
    load(&c, "in0.jsonl", "");
    /* a unit killed with SIGKILL leaves its "running" marker behind */
    pid_t pid = fork();
    if (pid == 0) _exit(0);
    waitpid(pid, NULL, 0);
    char host[256];
    qpl_hostname(host, sizeof host);
    char *m = qpl_marker_path(&c, QPL_DOCS, 0, "running");
    char marker[800];
    snprintf(marker, sizeof marker, "%s", m);
    *strrchr(marker, '/') = 0;
    tl_mkdirs(marker);
    snprintf(marker, sizeof marker, "local\t%ld\t%s\t/l.log\t\n", (long)pid, host);
    tl_write_text(m, marker);
    qpl_unit_status us;
    qpl_unit_status_get(&c, QPL_DOCS, 0, 0, &us);
    assert_int_equal(us.state, QPL_FAILED);
    assert_non_null(strstr(us.why, "lost"));
    assert_string_equal(us.log, "/l.log");
    free(m);
    qpl_config_free(&c);
}

static void test_local_runner(void **state)
{
    (void)state;
    qpl_config c;
    load(&c, "in0.jsonl bad.jsonl in1.jsonl", "[tokenize]\n");
    qpl_run_opts o = { .jobs = 2, .until = QPL_NSTAGES - 1, .keep_going = 1 };
    /* one shard fails: the others finish (keep going), the run reports failure */
    assert_int_equal(qpl_run_local(&c, &o), 1);
    assert_true(qpl_unit_done(&c, QPL_TOKENIZE, 0));
    assert_false(qpl_unit_done(&c, QPL_DOCS, 1));
    assert_false(qpl_unit_done(&c, QPL_TOKENIZE, 1));
    assert_true(qpl_unit_done(&c, QPL_TOKENIZE, 2));
    char *logp = qpl_path_join(c.workdir, "logs/local/clean_00001.log");
    char *log = tl_read_file(logp, NULL);
    assert_non_null(log);
    assert_non_null(strstr(log, "clean: bad input"));
    free(log);
    free(logp);
    /* fix the input and rerun: only the failed shard and its dependants run */
    char *bad = qpl_path_join(tl_tmpdir(), "bad.jsonl");
    tl_write_text(bad, "now fine\n");
    char *calls = qpl_path_join(tl_tmpdir(), "calls.log");
    unlink(calls);
    assert_int_equal(qpl_run_local(&c, &o), 0);
    char *got = tl_read_file(calls, NULL);
    int lines = 0;
    for (char *p = got; *p; p++) lines += *p == '\n';
    assert_int_equal(lines, 2);   /* clean 1, tokenize 1 */
    assert_non_null(strstr(got, "bad.jsonl"));
    free(got);
    assert_unit_file(&c, QPL_TOKENIZE, 1, "tokens.txt", "now fine\n");
    /* everything done: a rerun runs nothing */
    unlink(calls);
    assert_int_equal(qpl_run_local(&c, &o), 0);
    assert_false(exists(calls));
    free(calls);
    free(bad);
    qpl_config_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_unit_success_then_skip, setup, tl_tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_unit_failure_leaves_marker_not_output, setup, tl_tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_pipe_failure_names_the_failing_command, setup, tl_tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_stale_staging_removed_and_inputs_checked, setup, tl_tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_sigterm_stops_the_unit_cleanly, setup, tl_tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_dead_running_marker_counts_as_failed, setup, tl_tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_local_runner, setup, tl_tmpdir_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
