/* Unit tests for common/manifest: write, read back, verify shards. */
#include "common/manifest.h"
#include "common/shard.h"
#include "testlib.h"

/* Writes a small shard and returns its checksum. */
static void make_shard(const char *name, uint32_t first, char hex[17])
{
    char p[512], err[256];
    tl_path(p, sizeof p, "%s", name);
    qshard_writer *w = qshard_writer_open(p, 1, err, sizeof err);
    assert_non_null(w);
    uint32_t d[3] = { 50256, first, first + 1 };
    assert_int_equal(qshard_writer_add_doc(w, d, 3), 0);
    assert_int_equal(qshard_writer_add_doc(w, d, 2), 0);
    assert_int_equal(qshard_writer_close(w, hex, err, sizeof err), 0);
}

static void test_roundtrip_and_verify(void **state)
{
    (void)state;
    char err[512], h0[17], h1[17];
    make_shard("train_000000.bin", 10, h0);
    make_shard("val_000000.bin", 20, h1);

    qmanifest m;
    qmanifest_init(&m);
    snprintf(m.kind, sizeof m.kind, "mix");
    m.tok_name = strdup("gpt2 \"quoted\"");
    m.vocab_size = 50257;
    m.eot = 50256;
    snprintf(m.tok_hash, sizeof m.tok_hash, "0123456789abcdef");
    m.tok_path = strdup("/data/vocab \"v1\".tiktoken");
    qmanifest_add_shard(&m, "train_000000.bin", 5, 2, h0, "train");
    qmanifest_add_shard(&m, "val_000000.bin", 5, 2, h1, "val");
    qmanifest_add_source(&m, "web", 0.6, 1000, 1500, 1.5, 0.6012);
    qmanifest_add_source(&m, "books", 0.4, 9000000000ull, 1000, 0.000111, 0.3988);
    m.has_budget = 1;
    m.budget_params = 124e6;
    m.budget_tokens = 2.48e9;
    m.budget_flops = 6 * 124e6 * 2.48e9;
    m.seed = 1234567890123ull;
    m.extra = strdup("\"mix\":{\"shard_tokens\":100}");
    char path[512];
    tl_path(path, sizeof path, "manifest.json");
    assert_int_equal(qmanifest_write(&m, path, err, sizeof err), 0);
    qmanifest_free(&m);

    qmanifest r;
    assert_int_equal(qmanifest_read(&r, tl_tmpdir(), err, sizeof err), 0); /* directory form */
    assert_string_equal(r.kind, "mix");
    assert_string_equal(r.tok_name, "gpt2 \"quoted\"");
    assert_int_equal(r.vocab_size, 50257);
    assert_int_equal(r.eot, 50256);
    assert_string_equal(r.tok_hash, "0123456789abcdef");
    assert_string_equal(r.tok_path, "/data/vocab \"v1\".tiktoken");
    assert_int_equal(r.n_shards, 2);
    assert_string_equal(r.shards[1].name, "val_000000.bin");
    assert_int_equal(r.shards[1].tokens, 5);
    assert_int_equal(r.shards[1].docs, 2);
    assert_string_equal(r.shards[1].xxh3, h1);
    assert_string_equal(r.shards[1].split, "val");
    assert_int_equal(r.n_sources, 2);
    assert_string_equal(r.sources[1].name, "books");
    assert_int_equal(r.sources[1].available_tokens, 9000000000ull);
    assert_true(r.sources[1].epochs == 0.000111);
    assert_true(r.sources[0].realised_fraction == 0.6012);
    assert_true(r.has_budget);
    assert_true(r.budget_flops == 6 * 124e6 * 2.48e9);
    assert_int_equal(r.seed, 1234567890123ull);
    assert_string_equal(r.dir, tl_tmpdir());
    char *sp = qmanifest_shard_path(&r, 0);
    char want[600];
    tl_path(want, sizeof want, "train_000000.bin");
    assert_string_equal(sp, want);
    free(sp);
    assert_null(qmanifest_shard_path(&r, 2));
    assert_int_equal(qmanifest_verify(&r, err, sizeof err), 0);

    /* A shard whose bytes change no longer verifies, and the error names it. */
    char other[17];
    make_shard("val_000000.bin", 21, other);
    assert_int_equal(qmanifest_verify(&r, err, sizeof err), -1);
    assert_non_null(strstr(err, "val_000000.bin"));
    assert_non_null(strstr(err, "checksum"));
    qmanifest_free(&r);

    /* The file form of the path works too. */
    assert_int_equal(qmanifest_read(&r, path, err, sizeof err), 0);
    assert_string_equal(r.dir, tl_tmpdir());
    qmanifest_free(&r);
}

static void test_minimal_and_missing_fields(void **state)
{
    (void)state;
    char path[512], err[512];
    tl_path(path, sizeof path, "m2.json");
    tl_write_text(path, "{\"shards\":[{\"name\":\"a.bin\",\"tokens\":3}]}");
    qmanifest m;
    assert_int_equal(qmanifest_read(&m, path, err, sizeof err), 0);
    assert_string_equal(m.kind, "tokenize");
    assert_null(m.tok_name);
    assert_null(m.tok_path);
    assert_int_equal(m.n_shards, 1);
    assert_string_equal(m.shards[0].split, "train");
    assert_false(m.has_budget);
    assert_int_equal(m.n_sources, 0);
    /* Verification fails: the shard does not exist. */
    assert_int_equal(qmanifest_verify(&m, err, sizeof err), -1);
    assert_non_null(strstr(err, "a.bin"));
    qmanifest_free(&m);
}

/* Manifests written before the vocabulary's path moved into "tokenizer"
 * carry it as a top-level "tokenizer_path": still read. */
static void test_tokenizer_path_of_older_manifests(void **state)
{
    (void)state;
    char path[512], err[512];
    tl_path(path, sizeof path, "m3.json");
    tl_write_text(path, "{\"kind\":\"tokenize\",\"tokenizer\":{\"name\":\"bpe\",\"vocab_size\":600,"
                        "\"eot\":599,\"hash\":\"0123456789abcdef\"},\"shards\":[],"
                        "\"tokenizer_path\":\"/old/voc/bpe.tiktoken\"}");
    qmanifest m;
    assert_int_equal(qmanifest_read(&m, path, err, sizeof err), 0);
    assert_string_equal(m.tok_path, "/old/voc/bpe.tiktoken");
    qmanifest_free(&m);
}

static void test_rejects_bad_manifests(void **state)
{
    (void)state;
    char path[512], err[512];
    qmanifest m;
    tl_path(path, sizeof path, "bad.json");
    const char *bad[] = {
        "[1,2]",
        "{\"kind\":\"mix\"}",
        "{\"shards\":[{\"name\":\"../escape.bin\",\"tokens\":1}]}",
        "{\"shards\":[{\"name\":\"/abs.bin\",\"tokens\":1}]}",
        "{\"shards\":[{\"name\":\"a.bin\",\"tokens\":-1}]}",
        "{\"shards\":[{\"name\":\"a.bin\",\"tokens\":1.5}]}",
        "{\"shards\":[{\"name\":\"a.bin\",\"split\":\"test\"}]}",
        "{\"shards\":[]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        tl_write_text(path, bad[i]);
        err[0] = 0;
        assert_int_equal(qmanifest_read(&m, path, err, sizeof err), -1);
        assert_non_null(strstr(err, "bad.json"));
    }
    tl_path(path, sizeof path, "nonexistent.json");
    assert_int_equal(qmanifest_read(&m, path, err, sizeof err), -1);
    assert_non_null(strstr(err, "nonexistent.json"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_and_verify),
        cmocka_unit_test(test_minimal_and_missing_fields),
        cmocka_unit_test(test_tokenizer_path_of_older_manifests),
        cmocka_unit_test(test_rejects_bad_manifests),
    };
    return cmocka_run_group_tests(tests, tl_tmpdir_setup, tl_tmpdir_teardown);
}
