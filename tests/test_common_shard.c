/* Unit tests for common/shard: llm.c token shards with a document index. */
#include <unistd.h>
#include <xxhash.h>

#include "common/shard.h"
#include "testlib.h"

/* Three documents, each starting with EOT 50256; checks the exact bytes of
 * header, tokens and .idx against llm.c's layout. */
static void test_write_layout_v1(void **state)
{
    (void)state;
    char err[256];
    char bin[512];
    tl_path(bin, sizeof bin, "sub/dir/a.bin");
    qshard_writer *w = qshard_writer_open(bin, 1, err, sizeof err);
    assert_non_null(w);
    uint32_t d0[] = { 50256, 1, 2, 3 }, d1[] = { 50256 }, d2[] = { 50256, 65535, 7 };
    assert_int_equal(qshard_writer_add_doc(w, d0, 4), 0);
    assert_int_equal(qshard_writer_add_doc(w, d1, 1), 0);
    assert_int_equal(qshard_writer_add_doc(w, d2, 3), 0);
    assert_int_equal(qshard_writer_tokens(w), 8);
    assert_int_equal(qshard_writer_docs(w), 3);
    char hex[17];
    assert_int_equal(qshard_writer_close(w, hex, err, sizeof err), 0);

    size_t len;
    unsigned char *b = (unsigned char *)tl_read_file(bin, &len);
    assert_int_equal(len, 1024 + 8 * 2);
    int32_t hdr[3];
    memcpy(hdr, b, sizeof hdr);
    assert_int_equal(hdr[0], 20240520);
    assert_int_equal(hdr[1], 1);
    assert_int_equal(hdr[2], 8);
    for (int i = 3; i < 256; i++) assert_int_equal(((int32_t *)(void *)b)[i], 0);
    uint16_t toks[8];
    memcpy(toks, b + 1024, sizeof toks);
    uint16_t want[8] = { 50256, 1, 2, 3, 50256, 50256, 65535, 7 };
    assert_memory_equal(toks, want, sizeof want);
    char want_hex[17];
    snprintf(want_hex, sizeof want_hex, "%016llx", (unsigned long long)XXH3_64bits(b, len));
    assert_string_equal(hex, want_hex);
    free(b);

    char idx[512];
    tl_path(idx, sizeof idx, "sub/dir/a.idx");
    b = (unsigned char *)tl_read_file(idx, &len);
    assert_int_equal(len, 24);
    uint64_t ends[3];
    memcpy(ends, b, sizeof ends);
    assert_int_equal(ends[0], 4);
    assert_int_equal(ends[1], 5);
    assert_int_equal(ends[2], 8);
    free(b);

    char hex2[17];
    assert_int_equal(qshard_file_checksum(bin, hex2, err, sizeof err), 0);
    assert_string_equal(hex, hex2);
    /* No temporary file is left behind. */
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.tmp.%d", bin, (int)getpid());
    assert_int_equal(access(tmp, F_OK), -1);
}

static void test_roundtrip_v2_and_reader(void **state)
{
    (void)state;
    char err[256];
    char bin[512];
    tl_path(bin, sizeof bin, "b.bin");
    qshard_writer *w = qshard_writer_open(bin, 2, err, sizeof err);
    assert_non_null(w);
    /* Enough tokens to cross the writer's internal buffer several times. */
    size_t n = 700000;
    uint32_t *doc = malloc(n * sizeof *doc);
    for (size_t i = 0; i < n; i++) doc[i] = (uint32_t)(i * 2654435761u) % 200000u;
    doc[0] = 199999;
    assert_int_equal(qshard_writer_add_doc(w, doc, n), 0);
    assert_int_equal(qshard_writer_add_doc(w, doc, 10), 0);
    char hex[17];
    assert_int_equal(qshard_writer_close(w, hex, err, sizeof err), 0);

    qshard s;
    assert_int_equal(qshard_open(&s, bin, 1, err, sizeof err), 0);
    assert_int_equal(s.version, 2);
    assert_int_equal(s.n_tokens, n + 10);
    assert_int_equal(s.n_docs, 2);
    uint64_t a, e;
    qshard_doc_range(&s, 1, &a, &e);
    assert_int_equal(a, n);
    assert_int_equal(e, n + 10);
    for (size_t i = 0; i < n; i += 997) assert_int_equal(qshard_token(&s, i), doc[i]);
    assert_int_equal(qshard_token(&s, n + 9), doc[9]);
    assert_int_equal(qshard_width(&s), 4);
    qshard_close(&s);
    free(doc);
}

/* The streaming checksum (declared size) equals the read-back one, and a
 * wrong declaration still gives the right checksum. */
static void test_expected_size_checksum(void **state)
{
    (void)state;
    char err[256];
    uint16_t toks[3000];
    for (int i = 0; i < 3000; i++) toks[i] = (uint16_t)(i * 7);
    const char *names[3] = { "e1.bin", "e2.bin", "e3.bin" };
    uint64_t expect[3] = { UINT64_MAX, 3000, 2999 };
    char hex[3][17];
    for (int k = 0; k < 3; k++) {
        char p[512];
        tl_path(p, sizeof p, "%s", names[k]);
        qshard_writer *w = qshard_writer_open(p, 1, err, sizeof err);
        assert_non_null(w);
        if (expect[k] != UINT64_MAX) qshard_writer_expect(w, expect[k]);
        assert_int_equal(qshard_writer_add_native(w, toks, 1000, 1), 0);
        assert_int_equal(qshard_writer_add_native(w, toks + 1000, 2000, 1), 0);
        assert_int_equal(qshard_writer_close(w, hex[k], err, sizeof err), 0);
        char again[17];
        assert_int_equal(qshard_file_checksum(p, again, err, sizeof err), 0);
        assert_string_equal(hex[k], again);
    }
    assert_string_equal(hex[0], hex[1]);
    assert_string_equal(hex[0], hex[2]);
}

static void test_native_widen_and_narrow(void **state)
{
    (void)state;
    char err[256];
    char p[512];
    tl_path(p, sizeof p, "n.bin");
    qshard_writer *w = qshard_writer_open(p, 2, err, sizeof err);
    uint16_t small[3] = { 1, 2, 65535 };
    assert_int_equal(qshard_writer_add_native(w, small, 3, 1), 0);
    assert_int_equal(qshard_writer_close(w, NULL, err, sizeof err), 0);
    qshard s;
    assert_int_equal(qshard_open(&s, p, 1, err, sizeof err), 0);
    assert_int_equal(qshard_token(&s, 2), 65535);
    qshard_close(&s);

    w = qshard_writer_open(p, 1, err, sizeof err);
    uint32_t big[2] = { 5, 70000 };
    assert_int_equal(qshard_writer_add_native(w, big, 1, 2), 0);
    assert_int_equal(qshard_writer_add_native(w, big, 2, 2), -1);
    assert_non_null(strstr(qshard_writer_error(w), "70000"));
    assert_int_equal(qshard_writer_add_doc(w, big + 1, 1), -1);
    qshard_writer_abort(w);
    /* The earlier complete shard at p is untouched by the aborted rewrite. */
    assert_int_equal(qshard_open(&s, p, 1, err, sizeof err), 0);
    assert_int_equal(s.version, 2);
    qshard_close(&s);
}

static void test_reader_rejects_bad_files(void **state)
{
    (void)state;
    char err[256];
    qshard s;
    char p[512];
    tl_path(p, sizeof p, "bad.bin");
    int32_t hdr[256 + 2];
    memset(hdr, 0, sizeof hdr);

    tl_write_file(p, hdr, 100);
    assert_int_equal(qshard_open(&s, p, 0, err, sizeof err), -1);
    assert_non_null(strstr(err, "header"));

    hdr[0] = 1234;
    tl_write_file(p, hdr, 1024);
    assert_int_equal(qshard_open(&s, p, 0, err, sizeof err), -1);
    assert_non_null(strstr(err, "magic"));

    hdr[0] = QSHARD_MAGIC;
    hdr[1] = 3;
    tl_write_file(p, hdr, 1024);
    assert_int_equal(qshard_open(&s, p, 0, err, sizeof err), -1);
    assert_non_null(strstr(err, "version"));

    hdr[1] = 1;
    hdr[2] = 5; /* but 4 tokens follow */
    tl_write_file(p, hdr, 1024 + 8);
    assert_int_equal(qshard_open(&s, p, 0, err, sizeof err), -1);
    assert_non_null(strstr(err, "header says 5"));

    hdr[2] = 4;
    tl_write_file(p, hdr, 1024 + 8);
    assert_int_equal(qshard_open(&s, p, 0, err, sizeof err), 0); /* no .idx, not needed */
    assert_int_equal(s.n_docs, 0);
    assert_null(s.doc_ends);
    qshard_close(&s);
    assert_int_equal(qshard_open(&s, p, 1, err, sizeof err), -1); /* needed */

    char idx[512];
    tl_path(idx, sizeof idx, "bad.idx");
    uint64_t ends[2] = { 3, 2 };
    tl_write_file(idx, ends, sizeof ends);
    assert_int_equal(qshard_open(&s, p, 0, err, sizeof err), -1);
    assert_non_null(strstr(err, "out of order"));
    ends[0] = 1;
    ends[1] = 3;
    tl_write_file(idx, ends, sizeof ends);
    assert_int_equal(qshard_open(&s, p, 0, err, sizeof err), -1);
    assert_non_null(strstr(err, "end at token 3"));
    tl_write_file(idx, ends, 5);
    assert_int_equal(qshard_open(&s, p, 0, err, sizeof err), -1);
    assert_non_null(strstr(err, "multiple of 8"));
}

static void test_empty_shard(void **state)
{
    (void)state;
    char err[256], hex[17], again[17];
    char p[512];
    tl_path(p, sizeof p, "empty.bin");
    qshard_writer *w = qshard_writer_open(p, 1, err, sizeof err);
    qshard_writer_expect(w, 0);
    assert_int_equal(qshard_writer_close(w, hex, err, sizeof err), 0);
    assert_int_equal(qshard_file_checksum(p, again, err, sizeof err), 0);
    assert_string_equal(hex, again);
    qshard s;
    assert_int_equal(qshard_open(&s, p, 1, err, sizeof err), 0);
    assert_int_equal(s.n_tokens, 0);
    assert_int_equal(s.n_docs, 0);
    qshard_close(&s);
}

/* Past the writer's early-writeback chunk (8 MB): same bytes, same checksum
 * whether declared or not. */
static void test_large_shard_checksums(void **state)
{
    (void)state;
    char err[256], h1[17], h2[17], h3[17];
    size_t n = 3u << 20; /* 12 MB of uint32 */
    uint32_t *doc = malloc(n * sizeof *doc);
    for (size_t i = 0; i < n; i++) doc[i] = (uint32_t)(i * 40503u) % 100000u;
    for (int k = 0; k < 2; k++) {
        char p[512];
        tl_path(p, sizeof p, "%s", k ? "large2.bin" : "large1.bin");
        qshard_writer *w = qshard_writer_open(p, 2, err, sizeof err);
        if (k) qshard_writer_expect(w, n);
        assert_int_equal(qshard_writer_add_doc(w, doc, n / 2), 0);
        assert_int_equal(qshard_writer_add_doc(w, doc + n / 2, n - n / 2), 0);
        assert_int_equal(qshard_writer_close(w, k ? h2 : h1, err, sizeof err), 0);
        assert_int_equal(qshard_file_checksum(p, h3, err, sizeof err), 0);
        assert_string_equal(k ? h2 : h1, h3);
        qshard s;
        assert_int_equal(qshard_open(&s, p, 1, err, sizeof err), 0);
        assert_int_equal(s.n_tokens, n);
        assert_int_equal(qshard_token(&s, n - 1), doc[n - 1]);
        qshard_close(&s);
    }
    assert_string_equal(h1, h2);
    free(doc);
}

static void test_bad_version_rejected(void **state)
{
    (void)state;
    char err[256], p[512];
    assert_null(qshard_writer_open(tl_path(p, sizeof p, "v.bin"), 3, err, sizeof err));
    assert_non_null(strstr(err, "version"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_write_layout_v1),
        cmocka_unit_test(test_roundtrip_v2_and_reader),
        cmocka_unit_test(test_expected_size_checksum),
        cmocka_unit_test(test_native_widen_and_narrow),
        cmocka_unit_test(test_reader_rejects_bad_files),
        cmocka_unit_test(test_empty_shard),
        cmocka_unit_test(test_large_shard_checksums),
        cmocka_unit_test(test_bad_version_rejected),
    };
    return cmocka_run_group_tests(tests, tl_tmpdir_setup, tl_tmpdir_teardown);
}
