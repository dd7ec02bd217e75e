/* Unit tests for common/cli_stream: the shared options of the streaming
 * commands, driven through getopt_long as a command drives them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cli.h"
#include "common/cli_stream.h"

enum { O_OWN = 256 };

/* A command's table: its own option between shared ones, as cmd_*.c splice them. */
static const struct option longopts[] = {
    CLI_OPT_OUTPUT, CLI_OPT_TEXT_FIELD, CLI_OPT_JOBS, CLI_OPT_SHARD,
    { "own", required_argument, NULL, O_OWN },
    CLI_OPT_STRICT, CLI_OPT_SKIP_BAD, CLI_OPT_STATS, CLI_OPT_PROGRESS, CLI_OPT_FORCE,
    CLI_OPT_HELP, CLI_OPT_END,
};

typedef struct parsed {
    cli_stream s;
    int bad;              /* CLI_STREAM_BAD seen */
    int help;             /* 'h' passed through */
    int unknown;          /* '?' passed through */
    const char *own;      /* --own's argument, passed through */
    int first_arg;        /* optind at the end */
} parsed;

/* Parse argv (NULL-terminated) like a command, with cli_stream_getopt; stops
 * at a bad value as they do. */
static void parse(parsed *p, char **argv)
{
    int argc = 0;
    while (argv[argc]) argc++;
    memset(p, 0, sizeof *p);
    cli_stream_init(&p->s);
    optind = 1;
    opterr = 0;
    int c;
    while ((c = cli_stream_getopt(&p->s, argc, argv, "o:j:h", longopts)) != -1) {
        switch (c) {
        case CLI_STREAM_TAKEN: fail_msg("cli_stream_getopt returned a shared option"); break;
        case CLI_STREAM_BAD: p->bad = 1; goto done;
        case O_OWN: p->own = optarg; break;
        case 'h': p->help = 1; break;
        default: p->unknown = 1; break;
        }
    }
done:
    p->first_arg = optind;
}

/* stderr of fn(arg) as a string (static buffer). */
static const char *stderr_of(void (*fn)(void *), void *arg)
{
    static char buf[512];
    fflush(stderr);
    int saved = dup(2);
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    dup2(fileno(tmp), 2);
    fn(arg);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    rewind(tmp);
    size_t n = fread(buf, 1, sizeof buf - 1, tmp);
    buf[n] = '\0';
    fclose(tmp);
    return buf;
}

static void test_defaults(void **state)
{
    (void)state;
    unsetenv("SLURM_ARRAY_TASK_ID");
    unsetenv("SLURM_ARRAY_TASK_COUNT");
    unsetenv("SLURM_ARRAY_TASK_MIN");
    cli_stream s;
    memset(&s, 0x5a, sizeof s);
    cli_stream_init(&s);
    assert_null(s.output);
    assert_null(s.text_field);
    assert_null(s.stats_path);
    assert_int_equal(s.jobs, cli_jobs_default());
    assert_int_equal(s.shard_i, 0);
    assert_int_equal(s.shard_n, 1);
    assert_int_equal(s.strict, 0);
    assert_int_equal(s.skip_bad, 0);
    assert_int_equal(s.progress, 0);
    assert_int_equal(s.force, 0);
}

static void test_shard_default_from_slurm(void **state)
{
    (void)state;
    setenv("SLURM_ARRAY_TASK_ID", "3", 1);
    setenv("SLURM_ARRAY_TASK_COUNT", "4", 1);
    unsetenv("SLURM_ARRAY_TASK_MIN");
    cli_stream s;
    cli_stream_init(&s);
    assert_int_equal(s.shard_i, 3);
    assert_int_equal(s.shard_n, 4);
    /* --shard on the command line wins over the environment */
    parsed p;
    char *argv[] = { "cmd", "--shard", "1/2", NULL };
    parse(&p, argv);
    assert_int_equal(p.s.shard_i, 1);
    assert_int_equal(p.s.shard_n, 2);
    unsetenv("SLURM_ARRAY_TASK_ID");
    unsetenv("SLURM_ARRAY_TASK_COUNT");
}

static void test_every_option_long_and_short(void **state)
{
    (void)state;
    parsed p;
    char *argv[] = { "cmd", "-o", "out.jsonl", "--text-field", "body", "-j", "3", "--shard", "2/5",
                     "--own", "x", "--strict", "--stats", "s.json", "--progress", "--force",
                     "in1", "in2", NULL };
    parse(&p, argv);
    assert_false(p.bad);
    assert_string_equal(p.s.output, "out.jsonl");
    assert_string_equal(p.s.text_field, "body");
    assert_int_equal(p.s.jobs, 3);
    assert_int_equal(p.s.shard_i, 2);
    assert_int_equal(p.s.shard_n, 5);
    assert_int_equal(p.s.strict, 1);
    assert_string_equal(p.s.stats_path, "s.json");
    assert_int_equal(p.s.progress, 1);
    assert_int_equal(p.s.force, 1);
    assert_string_equal(p.own, "x");   /* the command's own option came back to it */
    assert_int_equal(p.first_arg, 16);
    assert_string_equal(argv[p.first_arg], "in1");

    char *argv2[] = { "cmd", "--output=o2", "--jobs=7", "--stats", "-", NULL };
    parse(&p, argv2);
    assert_string_equal(p.s.output, "o2");
    assert_int_equal(p.s.jobs, 7);
    assert_string_equal(p.s.stats_path, "-");
}

static void test_strict_and_skip_bad_last_wins(void **state)
{
    (void)state;
    parsed p;
    char *a[] = { "cmd", "--strict", "--skip-bad", NULL };
    parse(&p, a);
    assert_int_equal(p.s.strict, 0);
    assert_int_equal(p.s.skip_bad, 1);
    char *b[] = { "cmd", "--skip-bad", "--strict", NULL };
    parse(&p, b);
    assert_int_equal(p.s.strict, 1);
    assert_int_equal(p.s.skip_bad, 0);
}

static void opt_jobs_abc(void *arg)
{
    cli_stream *s = arg;
    assert_int_equal(cli_stream_opt(s, 'j', "abc"), CLI_STREAM_BAD);
}

static void opt_shard_3_of_2(void *arg)
{
    cli_stream *s = arg;
    assert_int_equal(cli_stream_opt(s, CLI_O_SHARD, "3/2"), CLI_STREAM_BAD);
}

static void test_bad_values_print_and_keep_settings(void **state)
{
    (void)state;
    qerr_set_cmd("test");
    cli_stream s;
    cli_stream_init(&s);
    s.jobs = 5;
    assert_string_equal(stderr_of(opt_jobs_abc, &s), "quern test: -j: 'abc' is not a thread count\n");
    assert_int_equal(s.jobs, 5);
    unsigned i = s.shard_i, n = s.shard_n;
    assert_string_equal(stderr_of(opt_shard_3_of_2, &s),
                        "quern test: --shard: '3/2' is not I/N with 0 <= I < N\n");
    assert_int_equal(s.shard_i, i);
    assert_int_equal(s.shard_n, n);
    assert_int_equal(cli_stream_opt(&s, 'j', "0"), CLI_STREAM_BAD);
    assert_int_equal(cli_stream_opt(&s, 'j', "4097"), CLI_STREAM_BAD);
    assert_int_equal(cli_stream_opt(&s, 'j', "4096"), CLI_STREAM_TAKEN);
    assert_int_equal(s.jobs, 4096);

    /* a parse stops at the bad value, as the commands do (they exit 2) */
    parsed p;
    char *argv[] = { "cmd", "-j", "abc", "--force", NULL };
    fflush(stderr);
    parse(&p, argv);
    assert_true(p.bad);
    assert_int_equal(p.s.force, 0);
}

static void test_others_pass_through(void **state)
{
    (void)state;
    cli_stream s, before;
    cli_stream_init(&s);
    before = s;
    const int others[] = { 'h', '?', ':', 'v', O_OWN, 1000, 0 };
    for (size_t k = 0; k < sizeof others / sizeof *others; k++) {
        assert_int_equal(cli_stream_opt(&s, others[k], "arg"), others[k]);
        assert_true(s.output == before.output && s.text_field == before.text_field &&
                    s.stats_path == before.stats_path && s.jobs == before.jobs &&
                    s.shard_i == before.shard_i && s.shard_n == before.shard_n &&
                    s.strict == before.strict && s.skip_bad == before.skip_bad &&
                    s.progress == before.progress && s.force == before.force);
    }
    parsed p;
    char *argv[] = { "cmd", "--help", "--no-such-option", NULL };
    parse(&p, argv);
    assert_true(p.help);
    assert_true(p.unknown);
}

static void test_values_do_not_collide(void **state)
{
    (void)state;
    /* the shared long-only values sit above any command's own enum and below
     * nothing getopt returns; the two results are neither -1 nor a value */
    const int vals[] = { CLI_O_TEXT_FIELD, CLI_O_SHARD, CLI_O_STRICT, CLI_O_SKIP_BAD, CLI_O_STATS,
                         CLI_O_PROGRESS, CLI_O_FORCE };
    for (size_t a = 0; a < sizeof vals / sizeof *vals; a++) {
        assert_true(vals[a] >= 0x10000);
        for (size_t b = 0; b < a; b++) assert_int_not_equal(vals[a], vals[b]);
    }
    assert_true(CLI_STREAM_TAKEN < -1 && CLI_STREAM_BAD < -1);
    assert_int_not_equal(CLI_STREAM_TAKEN, CLI_STREAM_BAD);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_shard_default_from_slurm),
        cmocka_unit_test(test_every_option_long_and_short),
        cmocka_unit_test(test_strict_and_skip_bad_last_wins),
        cmocka_unit_test(test_bad_values_print_and_keep_settings),
        cmocka_unit_test(test_others_pass_through),
        cmocka_unit_test(test_values_do_not_collide),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
