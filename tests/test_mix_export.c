/* Unit tests for mix/export: the byte layouts of the Megatron and datatrove
 * exporters, and the llm.c sink. */
#include <xxhash.h>

#include "common/shard.h"
#include "mix/export.h"
#include "testlib.h"

/* The whole file `name` of the test directory. */
static unsigned char *slurp(const char *name, size_t *len)
{
    char p[600];
    return (unsigned char *)tl_read_file(tl_path(p, sizeof p, "%s", name), len);
}

static const uint16_t doc0[] = { 50256, 10, 11 };
static const uint32_t doc1[] = { 50256, 65535, 7, 8 };

/* Writes doc0 (given as uint16) and doc1 (given as uint32) into a sink. */
static void write_two(int fmt, const char *stem, int version, char hex[17])
{
    char err[300];
    mix_sink *s = mix_sink_open(fmt, tl_tmpdir(), stem, version, 7, "gpt2", err, sizeof err);
    if (!s) fail_msg("%s", err);
    assert_int_equal(mix_sink_add(s, doc0, 3, 1), 0);
    assert_int_equal(mix_sink_add(s, doc1, 4, 2), 0);
    assert_int_equal(mix_sink_close(s, hex, err, sizeof err), 0);
}

static void test_megatron_layout(void **state)
{
    (void)state;
    char hex[17];
    write_two(MIX_FMT_MEGATRON, "m", 1, hex);
    size_t n;
    unsigned char *bin = slurp("m.bin", &n);
    assert_int_equal(n, 7 * 2);
    uint16_t want[7] = { 50256, 10, 11, 50256, 65535, 7, 8 };
    assert_memory_equal(bin, want, sizeof want);
    char want_hex[17];
    snprintf(want_hex, sizeof want_hex, "%016llx", (unsigned long long)XXH3_64bits(bin, n));
    assert_string_equal(hex, want_hex);
    free(bin);

    unsigned char *idx = slurp("m.idx", &n);
    assert_int_equal(n, 9 + 8 + 1 + 8 + 8 + 2 * 4 + 2 * 8 + 3 * 8);
    assert_memory_equal(idx, "MMIDIDX\0\0", 9);
    uint64_t u;
    memcpy(&u, idx + 9, 8);
    assert_int_equal(u, 1);            /* version */
    assert_int_equal(idx[17], 8);      /* dtype uint16 */
    memcpy(&u, idx + 18, 8);
    assert_int_equal(u, 2);            /* sequences */
    memcpy(&u, idx + 26, 8);
    assert_int_equal(u, 3);            /* document index entries */
    int32_t lens[2];
    memcpy(lens, idx + 34, 8);
    assert_int_equal(lens[0], 3);
    assert_int_equal(lens[1], 4);
    int64_t ptrs[2], docs[3];
    memcpy(ptrs, idx + 42, 16);
    assert_int_equal(ptrs[0], 0);
    assert_int_equal(ptrs[1], 6);      /* bytes */
    memcpy(docs, idx + 58, 24);
    assert_int_equal(docs[0], 0);
    assert_int_equal(docs[1], 1);
    assert_int_equal(docs[2], 2);
    free(idx);

    /* 32-bit tokens: dtype int32 (code 4), pointers in 4-byte units. */
    write_two(MIX_FMT_MEGATRON, "m4", 2, hex);
    idx = slurp("m4.idx", &n);
    assert_int_equal(idx[17], 4);
    memcpy(ptrs, idx + 42, 16);
    assert_int_equal(ptrs[1], 12);
    free(idx);
    bin = slurp("m4.bin", &n);
    assert_int_equal(n, 7 * 4);
    free(bin);
}

static void test_datatrove_layout(void **state)
{
    (void)state;
    char hex[17];
    write_two(MIX_FMT_DATATROVE, "d", 1, hex);
    size_t n;
    unsigned char *ds = slurp("d.ds", &n);
    assert_int_equal(n, 14);
    free(ds);
    unsigned char *ix = slurp("d.ds.index", &n);
    assert_int_equal(n, 16);
    uint64_t ends[2];
    memcpy(ends, ix, 16);
    assert_int_equal(ends[0], 3);
    assert_int_equal(ends[1], 7);
    free(ix);
    unsigned char *meta = slurp("d.ds.metadata", &n);
    assert_true(!strncmp((char *)meta, "gpt2\n7\n", 7));
    free(meta);
}

static void test_llmc_sink_and_narrowing(void **state)
{
    (void)state;
    char hex[17], err[300], path[600];
    write_two(MIX_FMT_LLMC, "l", 1, hex);
    tl_path(path, sizeof path, "l.bin");
    qshard s;
    assert_int_equal(qshard_open(&s, path, 1, err, sizeof err), 0);
    assert_int_equal(s.n_tokens, 7);
    assert_int_equal(s.n_docs, 2);
    assert_int_equal(qshard_token(&s, 4), 65535);
    qshard_close(&s);
    char again[17];
    assert_int_equal(qshard_file_checksum(path, again, err, sizeof err), 0);
    assert_string_equal(hex, again);

    /* A 32-bit token that does not fit a 16-bit output is refused. */
    const uint32_t big[] = { 50256, 70000 };
    mix_sink *k = mix_sink_open(MIX_FMT_DATATROVE, tl_tmpdir(), "bad", 1, 2, NULL, err, sizeof err);
    assert_non_null(k);
    assert_int_equal(mix_sink_add(k, big, 2, 2), -1);
    assert_non_null(strstr(mix_sink_error(k), "70000"));
    mix_sink_abort(k);
    tl_path(path, sizeof path, "bad.ds");
    FILE *f = fopen(path, "rb");
    assert_null(f);

    assert_int_equal(mix_format_parse("megatron"), MIX_FMT_MEGATRON);
    assert_int_equal(mix_format_parse("nope"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_megatron_layout),
        cmocka_unit_test(test_datatrove_layout),
        cmocka_unit_test(test_llmc_sink_and_narrowing),
    };
    return cmocka_run_group_tests(tests, tl_tmpdir_setup, tl_tmpdir_teardown);
}
