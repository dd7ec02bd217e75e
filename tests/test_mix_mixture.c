/* Unit tests for mix/perm, mix/source and mix/mixture: permutations, source
 * specs, the plan (GPT-3's Table 2.2, max_epochs, --renormalise) and the
 * document stream on small real sources. */
#include <math.h>

#include "common/manifest.h"
#include "common/shard.h"
#include "mix/mixture.h"
#include "mix/perm.h"
#include "mix/source.h"
#include "testlib.h"

#define EOT 50256

static void test_perm_is_a_bijection(void **state)
{
    (void)state;
    uint64_t sizes[] = { 1, 2, 3, 5, 17, 1000, 4097, 65536 };
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        uint64_t n = sizes[k];
        unsigned char *seen = calloc(n, 1);
        qperm p;
        qperm_init(&p, n, 42 + k);
        uint64_t fixed = 0;
        for (uint64_t i = 0; i < n; i++) {
            uint64_t v = qperm_at(&p, i);
            assert_true(v < n);
            assert_false(seen[v]);
            seen[v] = 1;
            fixed += v == i;
        }
        if (n >= 1000) assert_true(fixed < n / 50); /* it does shuffle */
        free(seen);
    }
    /* Another key gives another order. */
    qperm a, b;
    qperm_init(&a, 1000, 1);
    qperm_init(&b, 1000, 2);
    int same = 0;
    for (uint64_t i = 0; i < 1000; i++) same += qperm_at(&a, i) == qperm_at(&b, i);
    assert_true(same < 20);
}

static void test_parse_specs(void **state)
{
    (void)state;
    mix_source s;
    char err[300];
    assert_int_equal(mix_source_parse("web=/data/web:0.6", &s, err, sizeof err), 0);
    assert_string_equal(s.name, "web");
    assert_string_equal(s.dir, "/data/web");
    assert_true(s.weight == 0.6 && s.max_epochs == 0 && !s.declared);
    mix_source_free(&s);
    assert_int_equal(mix_source_parse("web=/data/web:60%:3", &s, err, sizeof err), 0);
    assert_true(fabs(s.weight - 0.6) < 1e-12 && s.max_epochs == 3);
    mix_source_free(&s);
    assert_int_equal(mix_source_parse("odd=/a:b/c:0.5", &s, err, sizeof err), 0);
    assert_string_equal(s.dir, "/a:b/c");
    mix_source_free(&s);
    assert_int_equal(mix_source_parse("cc=size:410B:0.60", &s, err, sizeof err), 0);
    assert_true(s.declared && s.n_tokens == 410000000000ull && s.weight == 0.6 && !s.dir);
    mix_source_free(&s);
    assert_int_equal(mix_source_parse("cc=size:410B:0.60:2", &s, err, sizeof err), 0);
    assert_true(s.max_epochs == 2);
    mix_source_free(&s);
    const char *bad[] = { "noequals", "=dir:0.5", "x=dir", "x=dir:abc", "x=:0.5", "x=size:lots:0.5",
                          "x=dir:0.5:-1" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(mix_source_parse(bad[i], &s, err, sizeof err), -1);
}

/* GPT-3's Table 2.2: weight x 300B / size. */
static void gpt3_sources(mix_source *s)
{
    const char *specs[] = { "cc=size:410B:0.60", "webtext2=size:19B:0.22", "books1=size:12B:0.08",
                            "books2=size:55B:0.08", "wiki=size:3B:0.03" };
    char err[200];
    for (int i = 0; i < 5; i++) assert_int_equal(mix_source_parse(specs[i], &s[i], err, sizeof err), 0);
}

static void test_plan_gpt3(void **state)
{
    (void)state;
    mix_source s[5];
    gpt3_sources(s);
    mix_config cfg = { .total_tokens = 300000000000ull, .default_max_epochs = 4 };
    mix_plan p;
    char err[400];
    assert_int_equal(mix_plan_make(&p, s, 5, &cfg, err, sizeof err), 0);
    double want[5] = { 0.60 * 300 / 410, 0.22 * 300 / 19, 0.08 * 300 / 12, 0.08 * 300 / 55, 0.03 * 300 / 3 };
    for (int i = 0; i < 5; i++) assert_true(fabs(p.alloc[i].epochs - want[i]) < 1e-6);
    assert_true(fabs(p.alloc[0].epochs - 0.44) < 0.005);
    assert_true(fabs(p.alloc[1].epochs - 3.47) < 0.005);
    assert_true(fabs(p.alloc[2].epochs - 2.0) < 0.005);
    assert_true(fabs(p.alloc[3].epochs - 0.44) < 0.005);
    assert_true(fabs(p.alloc[4].epochs - 3.0) < 0.005);
    /* The paper's weights sum to 1.01: weight x total as given. */
    assert_int_equal(p.train_total, 303000000000ull);
    mix_plan_free(&p);

    cfg.normalise_weights = 1;
    assert_int_equal(mix_plan_make(&p, s, 5, &cfg, err, sizeof err), 0);
    assert_int_equal(p.train_total, 300000000000ull);
    assert_true(fabs(p.alloc[0].epochs - 0.60 / 1.01 * 300 / 410) < 1e-6);
    mix_plan_free(&p);
    for (int i = 0; i < 5; i++) mix_source_free(&s[i]);
}

static void test_plan_max_epochs_and_renormalise(void **state)
{
    (void)state;
    mix_source s[5];
    gpt3_sources(s);
    s[4].max_epochs = 2; /* Wikipedia needs 3 */
    mix_config cfg = { .total_tokens = 300000000000ull, .default_max_epochs = 4, .normalise_weights = 1 };
    mix_plan p;
    char err[400];
    assert_int_equal(mix_plan_make(&p, s, 5, &cfg, err, sizeof err), -1);
    assert_non_null(strstr(err, "'wiki'"));
    assert_non_null(strstr(err, "2.970 epochs"));
    assert_non_null(strstr(err, "0.970 over its max_epochs 2"));
    assert_non_null(strstr(err, "--renormalise"));

    cfg.renormalise = 1;
    assert_int_equal(mix_plan_make(&p, s, 5, &cfg, err, sizeof err), 0);
    assert_int_equal(p.train_total, 300000000000ull);
    assert_true(p.alloc[4].capped);
    assert_int_equal(p.alloc[4].share, 6000000000ull);
    /* The others keep their relative weights. */
    double r = (double)p.alloc[0].share / (double)p.alloc[3].share;
    assert_true(fabs(r - 0.60 / 0.08) < 1e-6);
    for (int i = 0; i < 4; i++) assert_false(p.alloc[i].capped);
    mix_plan_free(&p);

    /* Not enough data anywhere: every source limited to 0.1 epochs. */
    cfg.default_max_epochs = 0.1;
    s[4].max_epochs = 0;
    assert_int_equal(mix_plan_make(&p, s, 5, &cfg, err, sizeof err), -1);
    assert_non_null(strstr(err, "not enough data"));
    for (int i = 0; i < 5; i++) mix_source_free(&s[i]);
}

/* A source directory of n_docs documents of lengths 3 + (i * 7) % 50, each
 * [EOT, tag, i, ...], over two shards. */
static void make_source(const char *name, uint32_t tag, int n_docs)
{
    char dir[512], err[300];
    tl_path(dir, sizeof dir, "%s", name);
    qmanifest m;
    qmanifest_init(&m);
    m.tok_name = strdup("gpt2");
    m.vocab_size = 50257;
    m.eot = EOT;
    for (int sh = 0; sh < 2; sh++) {
        char path[600], sname[32], hex[17];
        snprintf(sname, sizeof sname, "s%d.bin", sh);
        snprintf(path, sizeof path, "%s/%s", dir, sname);
        qshard_writer *w = qshard_writer_open(path, 1, err, sizeof err);
        assert_non_null(w);
        for (int i = sh * n_docs / 2; i < (sh + 1) * n_docs / 2; i++) {
            uint32_t doc[64];
            size_t len = 3 + (size_t)(i * 7) % 50;
            doc[0] = EOT;
            doc[1] = tag;
            doc[2] = (uint32_t)i;
            for (size_t k = 3; k < len; k++) doc[k] = tag;
            assert_int_equal(qshard_writer_add_doc(w, doc, len), 0);
        }
        uint64_t toks = qshard_writer_tokens(w), docs = qshard_writer_docs(w);
        assert_int_equal(qshard_writer_close(w, hex, err, sizeof err), 0);
        qmanifest_add_shard(&m, sname, toks, docs, hex, "train");
    }
    char mp[600];
    snprintf(mp, sizeof mp, "%s/manifest.json", dir);
    assert_int_equal(qmanifest_write(&m, mp, err, sizeof err), 0);
    qmanifest_free(&m);
}

static void open_sources(mix_source *s, const char **specs, int n)
{
    char err[600];
    for (int i = 0; i < n; i++) {
        char spec[700];
        snprintf(spec, sizeof spec, specs[i], tl_tmpdir());
        assert_int_equal(mix_source_parse(spec, &s[i], err, sizeof err), 0);
        if (mix_source_open(&s[i], err, sizeof err)) fail_msg("%s", err);
    }
}

static void test_stream_on_real_sources(void **state)
{
    (void)state;
    make_source("big", 1, 2000);
    make_source("small", 2, 100);
    mix_source s[2];
    const char *specs[] = { "big=%s/big:0.7", "small=%s/small:0.3:10" };
    open_sources(s, specs, 2);
    assert_int_equal(s[1].n_docs, 100);
    mix_config cfg = { .total_tokens = 20000, .val_tokens = 300, .seed = 7, .default_max_epochs = 4 };
    mix_plan p;
    char err[400];
    assert_int_equal(mix_plan_make(&p, s, 2, &cfg, err, sizeof err), 0);
    assert_int_equal(p.alloc[0].share, 14000);
    assert_int_equal(p.alloc[1].share, 6000);
    assert_int_equal(p.alloc[0].val_target, 210);
    assert_int_equal(p.alloc[1].val_target, 90);
    assert_true(p.alloc[1].epochs > 2 && p.alloc[1].epochs < 3);

    /* Validation stream: exact per source, documents marked. */
    unsigned char val_doc[2][2000] = { { 0 } };
    mix_stream st;
    mix_doc d;
    uint64_t got[2] = { 0, 0 };
    mix_stream_init(&st, &p, 1);
    while (mix_stream_peek(&st, &d)) {
        val_doc[d.src][d.doc] = 1;
        got[d.src] += d.len;
        mix_stream_take(&st, &d);
    }
    mix_stream_free(&st);
    assert_int_equal(got[0], 210);
    assert_int_equal(got[1], 90);

    /* Train stream: exact shares, no validation document, small source's
     * documents each seen floor(e) or ceil(e) times, prefix proportions. */
    unsigned seen[2][2000] = { { 0 } };
    got[0] = got[1] = 0;
    uint64_t total = 0, worst = 0;
    mix_stream_init(&st, &p, 0);
    while (mix_stream_peek(&st, &d)) {
        assert_false(val_doc[d.src][d.doc]);
        seen[d.src][d.doc]++;
        got[d.src] += d.len;
        total += d.len;
        mix_stream_take(&st, &d);
        /* Every prefix within a couple of documents of 30% small. */
        double want = 0.3 * (double)total;
        uint64_t dev = (uint64_t)fabs((double)got[1] - want);
        if (dev > worst) worst = dev;
    }
    mix_stream_free(&st);
    assert_int_equal(got[0], 14000);
    assert_int_equal(got[1], 6000);
    assert_true(worst <= 2 * 53);
    double e = p.alloc[1].epochs;
    for (int i = 0; i < 100; i++) {
        if (val_doc[1][i]) {
            assert_int_equal(seen[1][i], 0);
            continue;
        }
        assert_true(seen[1][i] >= (unsigned)floor(e) && seen[1][i] <= (unsigned)ceil(e));
    }
    /* The big source is sampled without replacement. */
    for (int i = 0; i < 2000; i++) assert_true(seen[0][i] <= 1);

    /* Layout: shard snapshots replay the same documents as one pass. */
    mix_shard_plan *sp;
    size_t nsp;
    assert_int_equal(mix_layout(&p, 0, 3000, &sp, &nsp), 0);
    assert_true(nsp >= 7);
    uint64_t sum = 0;
    mix_stream one;
    mix_stream_init(&one, &p, 0);
    for (size_t k = 0; k < nsp; k++) {
        assert_true(sp[k].tokens <= 3000);
        sum += sp[k].tokens;
        mix_stream_init(&st, &p, 0);
        mix_stream_restore(&st, sp[k].snap);
        for (uint64_t j = 0; j < sp[k].docs; j++) {
            mix_doc a, b;
            assert_true(mix_stream_peek(&st, &a));
            assert_true(mix_stream_peek(&one, &b));
            assert_true(a.src == b.src && a.doc == b.doc && a.len == b.len);
            mix_stream_take(&st, &a);
            mix_stream_take(&one, &b);
        }
        mix_stream_free(&st);
    }
    assert_false(mix_stream_peek(&one, &d));
    mix_stream_free(&one);
    assert_int_equal(sum, 20000);
    mix_layout_free(sp, nsp);
    mix_plan_free(&p);

    /* Over the limit: the small source capped at 2 epochs. */
    s[1].max_epochs = 2;
    assert_int_equal(mix_plan_make(&p, s, 2, &cfg, err, sizeof err), -1);
    assert_non_null(strstr(err, "'small'"));
    for (int i = 0; i < 2; i++) mix_source_free(&s[i]);
}

static void test_open_errors(void **state)
{
    (void)state;
    mix_source s;
    char err[600], spec[600];
    snprintf(spec, sizeof spec, "x=%s/nonexistent:1", tl_tmpdir());
    assert_int_equal(mix_source_parse(spec, &s, err, sizeof err), 0);
    assert_int_equal(mix_source_open(&s, err, sizeof err), -1);
    assert_non_null(strstr(err, "nonexistent"));
    mix_source_free(&s);

    /* A manifest whose counts disagree with the shard. */
    make_source("liar", 3, 10);
    char mp[600];
    tl_path(mp, sizeof mp, "liar/manifest.json");
    qmanifest m;
    assert_int_equal(qmanifest_read(&m, mp, err, sizeof err), 0);
    m.shards[0].tokens += 1;
    assert_int_equal(qmanifest_write(&m, mp, err, sizeof err), 0);
    qmanifest_free(&m);
    snprintf(spec, sizeof spec, "x=%s/liar:1", tl_tmpdir());
    assert_int_equal(mix_source_parse(spec, &s, err, sizeof err), 0);
    assert_int_equal(mix_source_open(&s, err, sizeof err), -1);
    assert_non_null(strstr(err, "manifest says"));
    mix_source_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_perm_is_a_bijection),
        cmocka_unit_test(test_parse_specs),
        cmocka_unit_test(test_plan_gpt3),
        cmocka_unit_test(test_plan_max_epochs_and_renormalise),
        cmocka_unit_test(test_stream_on_real_sources),
        cmocka_unit_test(test_open_errors),
    };
    return cmocka_run_group_tests(tests, tl_tmpdir_setup, tl_tmpdir_teardown);
}
