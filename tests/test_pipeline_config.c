/* Unit tests for pipeline/: the file syntax, word splitting, validation of
 * the configuration, and the stage graph (units, outputs, commands). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pipeline/pipeline.h"

static char g_dir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/test_pipeline_config.XXXXXX");
    return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return qpl_rmtree(g_dir);
}

static char *write_tmp(const char *name, const char *text)
{
    char *p = qpl_path_join(g_dir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return p;
}

static void touch(const char *path)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("x\n", f);
    fclose(f);
}

/* ---- syntax ---- */
static void test_ini_sections_comments_continuation(void **state)
{
    (void)state;
    const char *t = "# comment\n; other comment\n[a]\nk = v1 \n  long = x \\\n   y\\\n z\n\n[b.c]\nempty =\n";
    qpl_ini ini;
    char err[256];
    assert_int_equal(qpl_ini_parse(&ini, t, strlen(t), "f", err, sizeof err), 0);
    assert_int_equal(ini.n_sec, 2);
    qpl_section *a = qpl_ini_section(&ini, "a");
    assert_non_null(a);
    assert_int_equal(a->n_kv, 2);
    assert_string_equal(a->kv[0].key, "k");
    assert_string_equal(a->kv[0].val, "v1");
    assert_int_equal(a->kv[0].line, 4);
    assert_string_equal(a->kv[1].val, "x y z");
    assert_int_equal(a->kv[1].line, 5);
    qpl_section *b = qpl_ini_section(&ini, "b.c");
    assert_non_null(b);
    assert_string_equal(b->kv[0].val, "");
    assert_null(qpl_ini_section(&ini, "zz"));
    qpl_ini_free(&ini);
}

static void expect_ini_error(const char *text, const char *want)
{
    qpl_ini ini;
    char err[256] = "";
    assert_int_equal(qpl_ini_parse(&ini, text, strlen(text), "p.conf", err, sizeof err), -1);
    if (!strstr(err, want)) fail_msg("error '%s' lacks '%s'", err, want);
}

static void test_ini_errors_name_the_line(void **state)
{
    (void)state;
    expect_ini_error("k = v\n", "p.conf:line 1: 'key = value' before any [section]");
    expect_ini_error("[a]\n\n[b\n", "p.conf:line 3: section header without closing");
    expect_ini_error("[a]\njust words\n", "p.conf:line 2: expected 'key = value'");
    expect_ini_error("[a]\n[a]\n", "line 2: section [a] appears twice");
    expect_ini_error("[a]\n = v\n", "line 2: bad key name");
    expect_ini_error("[a b]\n", "line 1: bad section name");
}

static void test_split_words(void **state)
{
    (void)state;
    char err[64];
    size_t n;
    char **w = qpl_split_words("  --a 1 'two words' \"q\\\"x\" back\\ slash ''  ", &n, err, sizeof err);
    assert_non_null(w);
    assert_int_equal(n, 6);
    assert_string_equal(w[0], "--a");
    assert_string_equal(w[1], "1");
    assert_string_equal(w[2], "two words");
    assert_string_equal(w[3], "q\"x");
    assert_string_equal(w[4], "back slash");
    assert_string_equal(w[5], "");
    assert_null(w[6]);
    qpl_words_free(w);
    w = qpl_split_words("", &n, err, sizeof err);
    assert_non_null(w);
    assert_int_equal(n, 0);
    qpl_words_free(w);
    assert_null(qpl_split_words("a 'open", &n, err, sizeof err));
    assert_non_null(strstr(err, "unterminated"));
    assert_null(qpl_split_words("a \"open", &n, err, sizeof err));
}

static void test_shell_quote_round_trips(void **state)
{
    (void)state;
    const char *in[] = { "plain-word_1.txt", "has space", "it's", "", "$HOME", NULL };
    for (int i = 0; in[i]; i++) {
        strbuf sb = STRBUF_INIT;
        qpl_shell_quote(&sb, in[i]);
        char err[64];
        size_t n;
        char **w = qpl_split_words(sb_str(&sb), &n, err, sizeof err);
        assert_non_null(w);
        assert_int_equal(n, 1);
        assert_string_equal(w[0], in[i]);
        qpl_words_free(w);
        sb_free(&sb);
    }
}

/* ---- configuration ---- */
static void make_inputs(void)
{
    char *d = qpl_path_join(g_dir, "in");
    mkdir(d, 0755);
    const char *names[] = { "b.warc.gz", "a.warc.gz", "c.warc.gz", "notes.txt" };
    for (int i = 0; i < 4; i++) {
        char *p = qpl_path_join(d, names[i]);
        touch(p);
        free(p);
    }
    free(d);
}

static const char *full_text =
    "[pipeline]\n"
    "name = demo\n"
    "workdir = out\n"
    "inputs = in/*.warc.gz\n"
    "inputs = https://example.org/x.warc.gz\n"
    "quern = /opt/quern\n"
    "[ingest]\n"
    "options = --min-length 10\n"
    "[clean]\n"
    "options = --preset fineweb 'x y'\n"
    "[dedup]\n"
    "options = --num-perm 64\n"
    "bands = 4\n"
    "pairs = --threshold 0.8\n"
    "[tokenize]\n"
    "options = --vocab gpt2\n"
    "[mix]\n"
    "options = --seed 1\n"
    "[slurm]\n"
    "partition = debug\n"
    "time = 0:10:00\n"
    "array_max = 2\n"
    "sbatch = --exclusive --comment='a b'\n"
    "[slurm.pairs]\n"
    "mem = 2G\n"
    "cpus = 4\n";

static void test_config_full(void **state)
{
    (void)state;
    make_inputs();
    char *p = write_tmp("p.conf", full_text);
    qpl_config c;
    char err[512];
    assert_int_equal(qpl_config_load(&c, p, "/usr/bin/quern", err, sizeof err), 0);
    assert_string_equal(c.name, "demo");
    char *wd = qpl_path_join(g_dir, "out");
    assert_string_equal(c.workdir, wd);
    assert_string_equal(c.quern, "/opt/quern");
    assert_int_equal(c.n_inputs, 4);
    /* glob matches come sorted, then the URL as written */
    assert_non_null(strstr(c.inputs[0], "/in/a.warc.gz"));
    assert_non_null(strstr(c.inputs[1], "/in/b.warc.gz"));
    assert_non_null(strstr(c.inputs[2], "/in/c.warc.gz"));
    assert_string_equal(c.inputs[3], "https://example.org/x.warc.gz");
    assert_true(c.has_ingest && c.has_clean);
    assert_string_equal(c.opt_clean[2], "x y");
    assert_int_equal(c.bands, 4);
    assert_string_equal(c.opt[QPL_PAIRS][0], "--threshold");
    assert_null(c.opt[QPL_SIGNATURES][0]);
    assert_string_equal(c.res_default.partition, "debug");
    assert_string_equal(c.res_default.extra[1], "--comment=a b");
    assert_string_equal(c.res[QPL_PAIRS].mem, "2G");
    assert_int_equal(c.res[QPL_PAIRS].cpus, 4);
    assert_int_equal(c.array_max, 2);
    assert_true(c.enabled[QPL_MIX] && !c.enabled[QPL_TRAIN]);
    assert_int_equal(qpl_units(&c, QPL_DOCS), 4);
    assert_int_equal(qpl_units(&c, QPL_PAIRS), 5);   /* 4 bands + the exact-text keys */
    assert_int_equal(qpl_units(&c, QPL_CLUSTERS), 1);
    assert_int_equal(qpl_units(&c, QPL_TRAIN), 0);
    free(wd);
    qpl_config_free(&c);
    free(p);
}

static void expect_config_error(const char *text, const char *want)
{
    char *p = write_tmp("bad.conf", text);
    qpl_config c;
    char err[512] = "";
    assert_int_equal(qpl_config_load(&c, p, "/q", err, sizeof err), -1);
    if (!strstr(err, want)) fail_msg("error '%s' lacks '%s'", err, want);
    free(p);
}

static void test_config_errors(void **state)
{
    (void)state;
    make_inputs();
    const char *head = "[pipeline]\nworkdir = w\ninputs = in/a.warc.gz\n";
    char buf[1024];
    snprintf(buf, sizeof buf, "%s[clean]\noptoins = x\n", head);
    expect_config_error(buf, "line 5: unknown key 'optoins' in [clean]");
    snprintf(buf, sizeof buf, "%s[cleen]\n", head);
    expect_config_error(buf, "line 4: unknown section [cleen]");
    snprintf(buf, sizeof buf, "%s[clean]\n[mix]\n", head);
    expect_config_error(buf, "[mix] needs a [tokenize] section");
    snprintf(buf, sizeof buf, "%s[clean]\n[tokenize]\n[train]\n", head);
    expect_config_error(buf, "[train] needs a [mix] section");
    snprintf(buf, sizeof buf, "%s[clean]\n[dedup]\nbands = 0\n", head);
    expect_config_error(buf, "line 6: bands: expected a whole number >= 1");
    snprintf(buf, sizeof buf, "%s[clean]\n[slurm.pears]\n", head);
    expect_config_error(buf, "no stage named 'pears'");
    snprintf(buf, sizeof buf, "%s[clean]\n[slurm]\npartition = a b\n", head);
    expect_config_error(buf, "partition: expected one word");
    snprintf(buf, sizeof buf, "%s[clean]\noptions = 'unterminated\n", head);
    expect_config_error(buf, "line 5: options: unterminated");
    snprintf(buf, sizeof buf, "%s", head);
    expect_config_error(buf, "no stage sections");
    expect_config_error("[pipeline]\ninputs = in/a.warc.gz\n[clean]\n", "needs 'workdir = DIR'");
    expect_config_error("[pipeline]\nworkdir = w\n[clean]\n", "needs 'inputs = ...'");
    expect_config_error("[pipeline]\nworkdir = w\ninputs = in/*.nothing\n[clean]\n", "matches no file");
    expect_config_error("[pipeline]\nworkdir = w\ninputs = in/a.warc.gz in/a.warc.gz\n[clean]\n", "listed twice");
    expect_config_error("[pipeline]\nworkdir = w\nworkdir = v\ninputs = x\n[clean]\n", "line 3: 'workdir' given twice");
    expect_config_error("[clean]\n", "no [pipeline] section");
    qpl_config c;
    char err[256];
    char *missing = qpl_path_join(g_dir, "nope.conf");
    assert_int_equal(qpl_config_load(&c, missing, "/q", err, sizeof err), -1);
    assert_non_null(strstr(err, "No such file"));
    free(missing);
}

static void test_config_defaults(void **state)
{
    (void)state;
    make_inputs();
    char *p = write_tmp("my-run.pipeline", "[pipeline]\nworkdir = ./w/../w2\ninputs = in/c.warc.gz in/a.warc.gz\n[clean]\n");
    qpl_config c;
    char err[256];
    assert_int_equal(qpl_config_load(&c, p, "/usr/local/bin/quern", err, sizeof err), 0);
    assert_string_equal(c.name, "my-run");                 /* from the file name */
    assert_string_equal(c.quern, "/usr/local/bin/quern");  /* the running binary */
    char *wd = qpl_path_join(g_dir, "w2");
    assert_string_equal(c.workdir, wd);                    /* normalised */
    assert_non_null(strstr(c.inputs[0], "/in/c.warc.gz")); /* listed order kept */
    assert_false(c.has_ingest);
    assert_int_equal(qpl_units(&c, QPL_SIGNATURES), 0);    /* no [dedup] */
    free(wd);
    qpl_config_free(&c);
    free(p);
}

/* pairs units follow the dedup options: one per band, one per exact key */
static void test_pairs_units_from_dedup_options(void **state)
{
    (void)state;
    make_inputs();
    const char *cases[][2] = {
        { "", "15" },                                   /* fineweb preset: 14 bands + exact-text */
        { "options = --preset nemo", "21" },
        { "options = --bands=3 --rows 5 --exact text,url", "5" },
        { "options = --no-near --exact url", "1" },
        { "options = --exact none", "14" },
        { "signatures = --preset nemo\nbands = 7", "8" }, /* bands = N wins */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[512];
        snprintf(text, sizeof text, "[pipeline]\nworkdir = w\ninputs = in/a.warc.gz in/b.warc.gz\n[dedup]\n%s\n",
                 cases[i][0]);
        char *p = write_tmp("d.conf", text);
        qpl_config c;
        char err[256];
        assert_int_equal(qpl_config_load(&c, p, "/q", err, sizeof err), 0);
        char got[16];
        snprintf(got, sizeof got, "%u", qpl_units(&c, QPL_PAIRS));
        if (strcmp(got, cases[i][1])) fail_msg("case %zu: %s pairs units, want %s", i, got, cases[i][1]);
        assert_int_equal(qpl_units(&c, QPL_SIGNATURES), 2);
        assert_int_equal(qpl_units(&c, QPL_CLUSTERS), 1);
        assert_int_equal(qpl_units(&c, QPL_DOCS), 0);   /* no ingest/clean: inputs are documents */
        qpl_config_free(&c);
        free(p);
    }
}

/* ---- the stage graph ---- */
static void test_graph_and_outputs(void **state)
{
    (void)state;
    make_inputs();
    char *p = write_tmp("p.conf", full_text);
    qpl_config c;
    char err[512];
    assert_int_equal(qpl_config_load(&c, p, "/q", err, sizeof err), 0);
    qpl_stage d[QPL_NSTAGES];
    assert_int_equal(qpl_stage_deps(&c, QPL_DOCS, d), 0);
    assert_int_equal(qpl_stage_deps(&c, QPL_SIGNATURES, d), 1);
    assert_int_equal(d[0], QPL_DOCS);
    assert_true(qpl_dep_is_all(&c, QPL_SIGNATURES, QPL_DOCS));
    assert_int_equal(qpl_stage_deps(&c, QPL_FILTER, d), 2);
    assert_int_equal(d[0], QPL_CLUSTERS);
    assert_true(qpl_dep_is_all(&c, QPL_FILTER, QPL_CLUSTERS));
    assert_true(qpl_dep_is_all(&c, QPL_FILTER, QPL_DOCS));
    assert_false(qpl_dep_is_all(&c, QPL_TOKENIZE, QPL_FILTER));
    assert_int_equal(qpl_stage_deps(&c, QPL_TOKENIZE, d), 1);
    assert_int_equal(d[0], QPL_FILTER);
    assert_int_equal(qpl_stage_deps(&c, QPL_MIX, d), 1);
    assert_true(qpl_dep_is_all(&c, QPL_MIX, QPL_TOKENIZE));

    char *o = qpl_unit_output(&c, QPL_PAIRS, 3);
    char want[512];
    snprintf(want, sizeof want, "%s/dedup/done/pairs/00003", c.workdir);   /* a marker file */
    assert_true(qpl_stage_in_place(QPL_PAIRS));
    assert_false(qpl_stage_in_place(QPL_FILTER));
    assert_string_equal(o, want);
    free(o);
    o = qpl_unit_output(&c, QPL_MIX, 0);
    snprintf(want, sizeof want, "%s/mix", c.workdir);
    assert_string_equal(o, want);
    free(o);
    assert_int_equal(qpl_stage_from_name("ingest"), QPL_DOCS);
    assert_int_equal(qpl_stage_from_name("pairs"), QPL_PAIRS);
    assert_int_equal(qpl_stage_from_name("nope"), -1);
    qpl_config_free(&c);
    free(p);
}

static void test_commands(void **state)
{
    (void)state;
    make_inputs();
    char *p = write_tmp("p.conf", full_text);
    qpl_config c;
    char err[512];
    assert_int_equal(qpl_config_load(&c, p, "/q", err, sizeof err), 0);
    qpl_cmds cmds;
    /* docs unit: ingest | clean, the options in place, output in staging */
    assert_int_equal(qpl_unit_cmds(&c, QPL_DOCS, 1, "/st", 3, 0, &cmds, err, sizeof err), 0);
    assert_int_equal(cmds.n, 2);
    strbuf line = STRBUF_INIT;
    qpl_cmds_format(&cmds, &line);
    char want[1024];
    snprintf(want, sizeof want, "/opt/quern ingest -j3 --min-length 10 %s | /opt/quern clean -j3 --preset fineweb 'x y' -o /st/docs.jsonl.zst",
             c.inputs[1]);
    assert_string_equal(sb_str(&line), want);
    sb_free(&line);
    qpl_cmds_free(&cmds);

    /* signatures need every shard's clean output (dedup numbers documents by
     * their input's place in the full list): missing -> error, or a preview */
    assert_int_equal(qpl_unit_cmds(&c, QPL_SIGNATURES, 2, NULL, 1, 0, &cmds, err, sizeof err), -1);
    assert_non_null(strstr(err, "clean/00000 (stage clean) is not complete"));
    assert_int_equal(qpl_unit_cmds(&c, QPL_SIGNATURES, 2, NULL, 1, QPL_CMD_PREVIEW, &cmds, err, sizeof err), 0);
    line = (strbuf)STRBUF_INIT;
    qpl_cmds_format(&cmds, &line);
    snprintf(want, sizeof want, "/opt/quern dedup signatures -j1 --num-perm 64 --shard=2/4 -o %s/dedup/work "
             "%s/clean/00000/docs.jsonl.zst %s/clean/00001/docs.jsonl.zst %s/clean/00002/docs.jsonl.zst "
             "%s/clean/00003/docs.jsonl.zst", c.workdir, c.workdir, c.workdir, c.workdir, c.workdir);
    assert_string_equal(sb_str(&line), want);
    sb_free(&line);
    qpl_cmds_free(&cmds);

    /* once every clean unit's directory exists, the command can be built */
    char *parent = qpl_path_join(c.workdir, "clean");
    mkdir(c.workdir, 0755);
    mkdir(parent, 0755);
    char *cd = NULL;
    for (unsigned i = 0; i < 4; i++) {
        free(cd);
        cd = qpl_unit_output(&c, QPL_DOCS, i);
        assert_false(qpl_unit_done(&c, QPL_DOCS, i));
        mkdir(cd, 0755);
        assert_true(qpl_unit_done(&c, QPL_DOCS, i));
    }
    assert_int_equal(qpl_unit_cmds(&c, QPL_SIGNATURES, 2, NULL, 1, 0, &cmds, err, sizeof err), 0);
    assert_int_equal(cmds.n, 1);
    qpl_cmds_free(&cmds);
    /* pairs: one unit per band (4, from bands = 4), then the exact-text keys */
    assert_int_equal(qpl_units(&c, QPL_PAIRS), 5);
    assert_int_equal(qpl_unit_cmds(&c, QPL_PAIRS, 4, NULL, 2, QPL_CMD_PREVIEW | QPL_CMD_FORCE, &cmds, err, sizeof err), 0);
    line = (strbuf)STRBUF_INIT;
    qpl_cmds_format(&cmds, &line);
    snprintf(want, sizeof want, "/opt/quern dedup pairs -j2 --num-perm 64 --threshold 0.8 --force --band=exact-text %s/dedup/work",
             c.workdir);
    assert_string_equal(sb_str(&line), want);
    sb_free(&line);
    qpl_cmds_free(&cmds);
    assert_int_equal(qpl_unit_cmds(&c, QPL_PAIRS, 9, NULL, 1, 0, &cmds, err, sizeof err), -1);
    assert_non_null(strstr(err, "no unit 9"));
    free(cd); free(parent);
    qpl_config_free(&c);
    free(p);
}

/* train continues from a checkpoint left in its run directory, without the
 * options that fix the model and the plan (train --resume refuses them) */
static void test_train_resumes_from_checkpoint(void **state)
{
    (void)state;
    make_inputs();
    char *p = write_tmp("t.conf", "[pipeline]\nworkdir = w\ninputs = in/a.warc.gz\n[clean]\n[tokenize]\n[mix]\n"
                                  "[train]\noptions = --model d6 --steps=9 --lr 1e-3 --device cpu\n");
    qpl_config c;
    char err[512];
    assert_int_equal(qpl_config_load(&c, p, "/q", err, sizeof err), 0);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s/mix' '%s/train/run'", c.workdir, c.workdir);
    assert_int_equal(system(cmd), 0);
    qpl_cmds cmds;
    strbuf line = STRBUF_INIT;
    char want[1024];
    assert_int_equal(qpl_unit_cmds(&c, QPL_TRAIN, 0, NULL, 2, 0, &cmds, err, sizeof err), 0);
    qpl_cmds_format(&cmds, &line);
    snprintf(want, sizeof want, "/q train -j2 --model d6 --steps=9 --lr 1e-3 --device cpu --data %s/mix/manifest.json -o %s/train/run",
             c.workdir, c.workdir);
    assert_string_equal(sb_str(&line), want);
    qpl_cmds_free(&cmds);
    snprintf(cmd, sizeof cmd, "touch '%s/train/run/ckpt_00000004.bin'", c.workdir);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(qpl_unit_cmds(&c, QPL_TRAIN, 0, NULL, 2, 0, &cmds, err, sizeof err), 0);
    sb_reset(&line);
    qpl_cmds_format(&cmds, &line);
    snprintf(want, sizeof want, "/q train -j2 --lr 1e-3 --device cpu --resume %s/train/run -o %s/train/run",
             c.workdir, c.workdir);
    assert_string_equal(sb_str(&line), want);
    qpl_cmds_free(&cmds);
    /* forced: start over */
    assert_int_equal(qpl_unit_cmds(&c, QPL_TRAIN, 0, NULL, 2, QPL_CMD_FORCE, &cmds, err, sizeof err), 0);
    sb_reset(&line);
    qpl_cmds_format(&cmds, &line);
    assert_null(strstr(sb_str(&line), "--resume"));
    qpl_cmds_free(&cmds);
    sb_free(&line);
    qpl_config_free(&c);
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ini_sections_comments_continuation),
        cmocka_unit_test(test_ini_errors_name_the_line),
        cmocka_unit_test(test_split_words),
        cmocka_unit_test(test_shell_quote_round_trips),
        cmocka_unit_test_setup_teardown(test_config_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pairs_units_from_dedup_options, setup, teardown),
        cmocka_unit_test_setup_teardown(test_graph_and_outputs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commands, setup, teardown),
        cmocka_unit_test_setup_teardown(test_train_resumes_from_checkpoint, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
