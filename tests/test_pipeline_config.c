/* Unit tests for pipeline/: the file syntax, word splitting, validation of
 * the configuration, and the stage graph (units, outputs, commands). */
#include "pipeline/pipeline.h"
#include "testlib.h"

/* A pipeline file in the test directory; returns its path (malloc'd). */
static char *write_tmp(const char *name, const char *text)
{
    char *p = qpl_path_join(tl_tmpdir(), name);
    tl_write_text(p, text);
    return p;
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
/* Every configuration test starts in a fresh directory holding the inputs
 * its pipeline files name: in/{a,b,c}.warc.gz, and in/notes.txt that no
 * pattern of theirs may pick up. */
static int setup_inputs(void **state)
{
    if (tl_tmpdir_setup(state)) return -1;
    char p[400];
    tl_mkdirs(tl_path(p, sizeof p, "in"));
    const char *names[] = { "b.warc.gz", "a.warc.gz", "c.warc.gz", "notes.txt" };
    for (int i = 0; i < 4; i++) tl_write_text(tl_path(p, sizeof p, "in/%s", names[i]), "x\n");
    return 0;
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
    char *p = write_tmp("p.conf", full_text);
    qpl_config c;
    char err[512];
    assert_int_equal(qpl_config_load(&c, p, "/usr/bin/quern", err, sizeof err), 0);
    assert_string_equal(c.name, "demo");
    char *wd = qpl_path_join(tl_tmpdir(), "out");
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
    /* a valid [pipeline] section (lines 1-3), then what is wrong after it */
    const char *head = "[pipeline]\nworkdir = w\ninputs = in/a.warc.gz\n";
    const char *after_head[][2] = {
        { "[clean]\noptoins = x\n", "line 5: unknown key 'optoins' in [clean]" },
        { "[cleen]\n", "line 4: unknown section [cleen]" },
        { "[clean]\n[mix]\n", "[mix] needs a [tokenize] section" },
        { "[clean]\n[tokenize]\n[train]\n", "[train] needs a [mix] section" },
        { "[clean]\n[dedup]\nbands = 0\n", "line 6: bands: expected a whole number >= 1" },
        { "[clean]\n[slurm.pears]\n", "no stage named 'pears'" },
        { "[clean]\n[slurm]\npartition = a b\n", "partition: expected one word" },
        { "[clean]\noptions = 'unterminated\n", "line 5: options: unterminated" },
        { "", "no stage sections" },
    };
    for (size_t i = 0; i < sizeof after_head / sizeof after_head[0]; i++) {
        char buf[1024];
        snprintf(buf, sizeof buf, "%s%s", head, after_head[i][0]);
        expect_config_error(buf, after_head[i][1]);
    }
    /* a [pipeline] section that is wrong, or none */
    expect_config_error("[pipeline]\ninputs = in/a.warc.gz\n[clean]\n", "needs 'workdir = DIR'");
    expect_config_error("[pipeline]\nworkdir = w\n[clean]\n", "needs 'inputs = ...'");
    expect_config_error("[pipeline]\nworkdir = w\ninputs = in/*.nothing\n[clean]\n", "matches no file");
    expect_config_error("[pipeline]\nworkdir = w\ninputs = in/a.warc.gz in/a.warc.gz\n[clean]\n", "listed twice");
    expect_config_error("[pipeline]\nworkdir = w\nworkdir = v\ninputs = x\n[clean]\n", "line 3: 'workdir' given twice");
    expect_config_error("[clean]\n", "no [pipeline] section");
    qpl_config c;
    char err[256];
    char *missing = qpl_path_join(tl_tmpdir(), "nope.conf");
    assert_int_equal(qpl_config_load(&c, missing, "/q", err, sizeof err), -1);
    assert_non_null(strstr(err, "No such file"));
    free(missing);
}

static void test_config_defaults(void **state)
{
    (void)state;
    char *p = write_tmp("my-run.pipeline", "[pipeline]\nworkdir = ./w/../w2\ninputs = in/c.warc.gz in/a.warc.gz\n[clean]\n");
    qpl_config c;
    char err[256];
    assert_int_equal(qpl_config_load(&c, p, "/usr/local/bin/quern", err, sizeof err), 0);
    assert_string_equal(c.name, "my-run");                 /* from the file name */
    assert_string_equal(c.quern, "/usr/local/bin/quern");  /* the running binary */
    char *wd = qpl_path_join(tl_tmpdir(), "w2");
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
/* The full example in p.conf, loaded as if run by /q. */
static void load_full(qpl_config *c)
{
    char *p = write_tmp("p.conf", full_text);
    char err[512];
    if (qpl_config_load(c, p, "/q", err, sizeof err)) fail_msg("%s", err);
    free(p);
}

/* The commands formatted as one shell line equal the formatted text; the
 * commands are freed. */
__attribute__((format(printf, 2, 3)))
static void assert_cmds(qpl_cmds *cmds, const char *fmt, ...)
{
    char want[1024];
    TL_FORMAT(want, fmt);
    strbuf line = STRBUF_INIT;
    qpl_cmds_format(cmds, &line);
    assert_string_equal(sb_str(&line), want);
    sb_free(&line);
    qpl_cmds_free(cmds);
}

static void test_graph_and_outputs(void **state)
{
    (void)state;
    qpl_config c;
    load_full(&c);
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
}

static void test_commands(void **state)
{
    (void)state;
    qpl_config c;
    char err[512];
    load_full(&c);
    qpl_cmds cmds;
    /* docs unit: ingest | clean, the options in place, output in staging */
    assert_int_equal(qpl_unit_cmds(&c, QPL_DOCS, 1, "/st", 3, 0, &cmds, err, sizeof err), 0);
    assert_int_equal(cmds.n, 2);
    assert_cmds(&cmds, "/opt/quern ingest -j3 --min-length 10 %s | /opt/quern clean -j3 --preset fineweb 'x y' -o /st/docs.jsonl.zst",
                c.inputs[1]);

    /* signatures need every shard's clean output (dedup numbers documents by
     * their input's place in the full list): missing -> error, or a preview */
    assert_int_equal(qpl_unit_cmds(&c, QPL_SIGNATURES, 2, NULL, 1, 0, &cmds, err, sizeof err), -1);
    assert_non_null(strstr(err, "clean/00000 (stage clean) is not complete"));
    assert_int_equal(qpl_unit_cmds(&c, QPL_SIGNATURES, 2, NULL, 1, QPL_CMD_PREVIEW, &cmds, err, sizeof err), 0);
    assert_cmds(&cmds, "/opt/quern dedup signatures -j1 --num-perm 64 --shard=2/4 -o %s/dedup/work "
                "%s/clean/00000/docs.jsonl.zst %s/clean/00001/docs.jsonl.zst %s/clean/00002/docs.jsonl.zst "
                "%s/clean/00003/docs.jsonl.zst", c.workdir, c.workdir, c.workdir, c.workdir, c.workdir);

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
    assert_cmds(&cmds, "/opt/quern dedup pairs -j2 --num-perm 64 --threshold 0.8 --force --band=exact-text %s/dedup/work",
                c.workdir);
    assert_int_equal(qpl_unit_cmds(&c, QPL_PAIRS, 9, NULL, 1, 0, &cmds, err, sizeof err), -1);
    assert_non_null(strstr(err, "no unit 9"));
    free(cd); free(parent);
    qpl_config_free(&c);
}

/* train continues from a checkpoint left in its run directory, without the
 * options that fix the model and the plan (train --resume refuses them) */
static void test_train_resumes_from_checkpoint(void **state)
{
    (void)state;
    char *p = write_tmp("t.conf", "[pipeline]\nworkdir = w\ninputs = in/a.warc.gz\n[clean]\n[tokenize]\n[mix]\n"
                                  "[train]\noptions = --model d6 --steps=9 --lr 1e-3 --device cpu\n");
    qpl_config c;
    char err[512];
    assert_int_equal(qpl_config_load(&c, p, "/q", err, sizeof err), 0);
    char path[1024];
    snprintf(path, sizeof path, "%s/mix", c.workdir);
    tl_mkdirs(path);
    snprintf(path, sizeof path, "%s/train/run", c.workdir);
    tl_mkdirs(path);
    qpl_cmds cmds;
    assert_int_equal(qpl_unit_cmds(&c, QPL_TRAIN, 0, NULL, 2, 0, &cmds, err, sizeof err), 0);
    assert_cmds(&cmds, "/q train -j2 --model d6 --steps=9 --lr 1e-3 --device cpu --data %s/mix/manifest.json -o %s/train/run",
                c.workdir, c.workdir);
    snprintf(path, sizeof path, "%s/train/run/ckpt_00000004.bin", c.workdir);
    tl_write_text(path, "");
    assert_int_equal(qpl_unit_cmds(&c, QPL_TRAIN, 0, NULL, 2, 0, &cmds, err, sizeof err), 0);
    assert_cmds(&cmds, "/q train -j2 --lr 1e-3 --device cpu --resume %s/train/run -o %s/train/run",
                c.workdir, c.workdir);
    /* forced: start over */
    assert_int_equal(qpl_unit_cmds(&c, QPL_TRAIN, 0, NULL, 2, QPL_CMD_FORCE, &cmds, err, sizeof err), 0);
    strbuf line = STRBUF_INIT;
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
        cmocka_unit_test_setup_teardown(test_config_full, setup_inputs, tl_tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_config_errors, setup_inputs, tl_tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_config_defaults, setup_inputs, tl_tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_pairs_units_from_dedup_options, setup_inputs, tl_tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_graph_and_outputs, setup_inputs, tl_tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_commands, setup_inputs, tl_tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_train_resumes_from_checkpoint, setup_inputs, tl_tmpdir_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
