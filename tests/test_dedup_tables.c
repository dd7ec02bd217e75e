/* Unit tests for dedup: band index, exact key set, map, union-find. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "dedup/dedup.h"

static void test_bandidx(void **state)
{
    (void)state;
    dd_bandidx *x = dd_bandidx_new(3);
    uint32_t reps[3];
    uint64_t k1[3] = { 10, 20, 0 }, k2[3] = { 11, 20, 31 }, k3[3] = { 12, 21, 0 };
    assert_int_equal(dd_bandidx_probe(x, k1, 0, 1, reps), 0);
    assert_int_equal(reps[0], UINT32_MAX);
    /* doc 1 shares band 1 with doc 0 */
    assert_int_equal(dd_bandidx_probe(x, k2, 1, 1, reps), 1);
    assert_int_equal(reps[0], UINT32_MAX);
    assert_int_equal(reps[1], 0);
    assert_int_equal(reps[2], UINT32_MAX);
    /* the zero key is a key like any other; doc 0 stays representative */
    assert_int_equal(dd_bandidx_probe(x, k3, 2, 0, reps), 1);
    assert_int_equal(reps[2], 0);
    /* many keys: growth keeps every representative */
    for (uint32_t d = 3; d < 20000; d++) {
        uint64_t k[3] = { d * 7919ull + 100, d * 104729ull + 100, d };
        dd_bandidx_probe(x, k, d, 1, reps);
    }
    for (uint32_t d = 3; d < 20000; d++) {   /* in the runs and in the deltas */
        uint64_t k[3] = { d * 7919ull + 100, d * 104729ull + 100, d };
        assert_int_equal(dd_bandidx_probe(x, k, 999999, 1, reps), 3);
        assert_int_equal(reps[0], d);
    }
    size_t now = dd_bandidx_bytes(x);
    /* 4-byte representative and at least 7 bytes of key (the directory
     * gives the top bits at 20000 keys) */
    assert_true(now >= 3 * 20000 * 11);
    assert_true(dd_bandidx_bytes_after(x, 100000) > now);
    assert_true(dd_bandidx_bytes_after(x, 0) >= now);
    /* about 12 bytes per key: the runs are exact-size */
    assert_true(now < 3 * 20000 * 12 * 2);
    dd_bandidx_free(x);

    /* structured keys (0, 1, 2, ...) through many merges, then every lookup */
    x = dd_bandidx_new(1);
    for (uint32_t d = 0; d < 100000; d++) {
        uint64_t k = d;
        assert_int_equal(dd_bandidx_probe(x, &k, d, 1, reps), 0);
    }
    for (uint32_t d = 0; d < 100000; d++) {
        uint64_t k = d;
        assert_int_equal(dd_bandidx_probe(x, &k, 7, 0, reps), 1);
        assert_int_equal(reps[0], d);
    }
    uint64_t absent = 100000;
    assert_int_equal(dd_bandidx_probe(x, &absent, 7, 0, reps), 0);
    dd_bandidx_free(x);
}

/* Past 2^19 keys a band's run stores 6 bytes per key (its directory gives
 * the top 16 bits); every key must still be found, and none invented. */
static void test_bandidx_large(void **state)
{
    (void)state;
    dd_bandidx *x = dd_bandidx_new_set(1);
    const uint32_t n = 700000;
    for (uint32_t d = 0; d < n; d++) {
        uint64_t k = 2ull * d + 1;   /* odd keys in; even keys stay out */
        assert_int_equal(dd_bandidx_probe(x, &k, d, 1, NULL), 0);
    }
    for (uint32_t d = 0; d < n; d++) {
        uint64_t k = 2ull * d + 1, absent = 2ull * d + 2;
        assert_int_equal(dd_bandidx_probe(x, &k, 0, 0, NULL), 1);
        assert_int_equal(dd_bandidx_probe(x, &absent, 0, 0, NULL), 0);
    }
    size_t b = dd_bandidx_bytes(x);
    assert_true(b >= (size_t)n * 6 && b < (size_t)n * 8);
    dd_bandidx_free(x);

    /* the exact keys' runs store 6 bytes of hi there too */
    dd_keyset128 *s = dd_keyset128_new();
    for (uint32_t d = 0; d < 400000; d++) {
        dd_key128 k = { d / 2, d };
        assert_int_equal(dd_keyset128_insert(s, k, d, NULL), 0);
    }
    for (uint32_t d = 0; d < 400000; d++) {
        dd_key128 k = { d / 2, d }, other = { d / 2 + 1, d };
        uint32_t first = 0;
        assert_int_equal(dd_keyset128_insert(s, k, 0, &first), 1);
        assert_int_equal(first, d);
        /* the same lo with another hi is a new key (inserted now) */
        assert_int_equal(dd_keyset128_insert(s, other, 0, NULL), 0);
    }
    dd_keyset128_free(s);
}

static void test_keyset(void **state)
{
    (void)state;
    dd_keyset128 *s = dd_keyset128_new();
    dd_key128 z = { 0, 0 }, a = { 1, 2 }, b = { 2, 1 };
    uint32_t first = 0;
    assert_int_equal(dd_keyset128_insert(s, z, 10, &first), 0);
    assert_int_equal(dd_keyset128_insert(s, z, 11, &first), 1);
    assert_int_equal(first, 10);
    assert_int_equal(dd_keyset128_insert(s, a, 12, NULL), 0);
    assert_int_equal(dd_keyset128_insert(s, b, 13, NULL), 0);
    assert_int_equal(dd_keyset128_insert(s, a, 14, &first), 1);
    assert_int_equal(first, 12);
    for (uint64_t i = 0; i < 50000; i++) {
        dd_key128 k = { i * 31, i };
        assert_int_equal(dd_keyset128_insert(s, k, (uint32_t)i + 100, NULL), i == 0);
    }
    for (uint64_t i = 7; i < 50000; i += 7) {
        dd_key128 k = { i * 31, i };
        assert_int_equal(dd_keyset128_insert(s, k, 0, &first), 1);
        assert_int_equal(first, i + 100);
    }
    dd_keyset128_free(s);
}

/* The membership variants answer "seen before?" exactly like the maps (the
 * same keys present, the same bands hit) in fewer bytes. */
static void test_bandidx_set(void **state)
{
    (void)state;
    dd_bandidx *full = dd_bandidx_new(3), *set = dd_bandidx_new_set(3);
    uint32_t reps[3], sreps[3];
    uint64_t z[3] = { 0, 5, 0 };
    assert_int_equal(dd_bandidx_probe(set, z, 0, 1, sreps), 0);
    assert_int_equal(sreps[0], UINT32_MAX);
    assert_int_equal(dd_bandidx_probe(set, z, 1, 1, NULL), 3);   /* reps may be NULL */
    assert_int_equal(dd_bandidx_probe(set, z, 2, 0, sreps), 3);
    assert_int_equal(sreps[1], 0);
    dd_bandidx_free(set);
    set = dd_bandidx_new_set(3);
    /* pseudo-random keys with repeats, through many merges */
    uint64_t x = 88172645463325252ull;
    for (uint32_t d = 0; d < 60000; d++) {
        uint64_t k[3];
        for (int j = 0; j < 3; j++) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            k[j] = (x % 5 == 0) ? x % 1000 : x;   /* 20% from a small pool: hits */
        }
        unsigned a = dd_bandidx_probe(full, k, d, 1, reps);
        unsigned b = dd_bandidx_probe(set, k, d, 1, sreps);
        assert_int_equal(a, b);
        for (int j = 0; j < 3; j++) assert_int_equal(reps[j] == UINT32_MAX, sreps[j] == UINT32_MAX);
    }
    size_t fb = dd_bandidx_bytes(full), sb = dd_bandidx_bytes(set);
    assert_true(sb < fb);
    /* ~49000 distinct keys a band, 7 bytes each at this size (the directory
     * gives the top byte); the directory and delta add at most 1.5 bytes */
    assert_true(sb >= 3 * 48000 * 7);
    assert_true(sb < 3 * 60000 * 10);
    assert_true(dd_bandidx_bytes_after(set, 0) >= sb);
    assert_true(dd_bandidx_bytes_after(set, 50000) > sb + 3 * 50000 * 8);
    dd_bandidx_free(full);
    dd_bandidx_free(set);
}

static void test_keyset_set(void **state)
{
    (void)state;
    dd_keyset128 *full = dd_keyset128_new(), *set = dd_keyset128_new_set();
    dd_key128 z = { 0, 0 };
    uint32_t first = 99;
    assert_int_equal(dd_keyset128_insert(set, z, 10, &first), 0);
    assert_int_equal(dd_keyset128_insert(set, z, 11, &first), 1);
    assert_int_equal(first, 0);
    for (uint64_t i = 1; i < 40000; i++) {   /* (0,0) is in set only */
        dd_key128 k = { (i % 3) * 0x9e3779b97f4a7c15ull * (i / 3 + 1), i % 7 ? i / 2 : i };
        int a = dd_keyset128_insert(full, k, (uint32_t)i, NULL);
        int b = dd_keyset128_insert(set, k, (uint32_t)i, &first);
        assert_int_equal(a, b);
        if (b) assert_int_equal(first, 0);
    }
    assert_true(dd_keyset128_bytes(set) < dd_keyset128_bytes(full));
    assert_true(dd_keyset128_bytes_after(set, 1000) > dd_keyset128_bytes(set));
    dd_keyset128_free(full);
    dd_keyset128_free(set);
}

static void test_map(void **state)
{
    (void)state;
    dd_map *m = dd_map_new();
    int ins;
    *dd_map_upsert(m, 0, 5, &ins) += 1;
    assert_int_equal(ins, 1);
    assert_int_equal(*dd_map_get(m, 0), 6);
    for (uint64_t i = 1; i < 30000; i++) *dd_map_upsert(m, i << 40, i, &ins) = i * 2;
    for (uint64_t i = 1; i < 30000; i++) assert_int_equal(*dd_map_get(m, i << 40), i * 2);
    assert_null(dd_map_get(m, 12345));
    assert_int_equal(dd_map_size(m), 30000);
    dd_map_free(m);
}

static void test_union_find(void **state)
{
    (void)state;
    dd_uf *u = dd_uf_new();
    dd_uf_union(u, 50, 7);
    dd_uf_union(u, 9, 50);
    dd_uf_union(u, 100, 200);
    assert_int_equal(dd_uf_find(u, 50), 7);
    assert_int_equal(dd_uf_find(u, 9), 7);
    assert_int_equal(dd_uf_find(u, 200), 100);
    assert_int_equal(dd_uf_find(u, 12345), 12345);   /* unknown: itself */
    dd_uf_union(u, 200, 9);
    assert_int_equal(dd_uf_find(u, 100), 7);
    assert_int_equal(dd_uf_count(u), 5);
    assert_int_equal(dd_uf_ref(u, 0), 50);
    /* a long chain stays correct */
    for (uint64_t i = 1000; i < 21000; i++) dd_uf_union(u, i, i + 1);
    assert_int_equal(dd_uf_find(u, 21000), 1000);
    dd_uf_union(u, 21000, 3);
    assert_int_equal(dd_uf_find(u, 15000), 3);
    assert_int_equal(dd_uf_find(u, 50), 7);   /* a separate component */
    dd_uf_free(u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bandidx),
        cmocka_unit_test(test_keyset),
        cmocka_unit_test(test_bandidx_set),
        cmocka_unit_test(test_bandidx_large),
        cmocka_unit_test(test_keyset_set),
        cmocka_unit_test(test_map),
        cmocka_unit_test(test_union_find),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
