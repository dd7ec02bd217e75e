/* Unit tests for dedup: MinHash signatures, the Jaccard estimate, the LSH S-curve. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dedup/dedup.h"

static uint64_t rng_state;
static uint64_t rnd(void)   /* splitmix64: deterministic test data */
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Two shingle sets with |A&B| = c and |A\B| = |B\A| = d: Jaccard c/(c+2d). */
static void make_pair(dd_u64vec *a, dd_u64vec *b, size_t c, size_t d)
{
    a->n = b->n = 0;
    for (size_t i = 0; i < c; i++) {
        uint64_t x = rnd();
        dd_u64vec_push(a, x);
        dd_u64vec_push(b, x);
    }
    for (size_t i = 0; i < d; i++) dd_u64vec_push(a, rnd());
    for (size_t i = 0; i < d; i++) dd_u64vec_push(b, rnd());
}

static void signature_of_text(dd_minhash *m, const char *text, uint64_t *sig)
{
    strbuf norm = STRBUF_INIT;
    dd_u64vec sh = { 0 };
    dd_normalize(text, strlen(text), &norm);
    dd_shingles(norm.buf, norm.len, DD_SHINGLE_WORD, 5, &sh);
    dd_minhash_sign(m, sh.v, sh.n, sig);
    dd_u64vec_free(&sh);
    sb_free(&norm);
}

static void test_identical_texts_identical_signatures(void **state)
{
    (void)state;
    dd_minhash m;
    dd_minhash_init(&m, 112, 1);
    uint64_t s1[112], s2[112], s3[112];
    const char *t = "The quick brown fox jumps over the lazy dog, again and again, "
                    "while the cat watches from the warm windowsill of the old house.";
    signature_of_text(&m, t, s1);
    signature_of_text(&m, t, s2);
    assert_memory_equal(s1, s2, sizeof s1);
    /* same text after normalisation (case, punctuation, spacing) */
    signature_of_text(&m, "THE quick  brown fox: jumps over the lazy dog again and again "
                          "while the cat watches from the warm windowsill of the old house",
                      s3);
    assert_memory_equal(s1, s3, sizeof s1);
    for (int i = 0; i < 112; i++) assert_true(s1[i] < DD_MERSENNE61);
    /* a different text differs in most rows */
    signature_of_text(&m, "Completely unrelated words make a signature of their own here "
                          "with nothing shared at all between them today.", s2);
    assert_true(dd_sig_similarity(s1, s2, 112) < 0.1);
    /* no shingles: the empty signature */
    signature_of_text(&m, " ,.;! ", s2);
    for (int i = 0; i < 112; i++) assert_int_equal(s2[i], DD_SIG_EMPTY);
    dd_minhash_free(&m);
}

/* Every vector kernel equals the scalar reference bit for bit. */
static void test_kernels_match_reference(void **state)
{
    (void)state;
    rng_state = 42;
    unsigned ks[] = { 112, 260, 7, 1, 17 };
    for (size_t t = 0; t < sizeof ks / sizeof ks[0]; t++) {
        dd_minhash m;
        dd_minhash_init(&m, ks[t], 7 + t);
        dd_u64vec h = { 0 };
        size_t n = 1 + rnd() % 300;
        for (size_t i = 0; i < n; i++) dd_u64vec_push(&h, rnd());
        /* edge values around the modulus */
        dd_u64vec_push(&h, 0);
        dd_u64vec_push(&h, UINT64_MAX);
        dd_u64vec_push(&h, DD_MERSENNE61);
        dd_u64vec_push(&h, DD_MERSENNE61 - 1);
        dd_u64vec_push(&h, DD_MERSENNE61 + 1);
        uint64_t ref[260], got[260];
        dd_minhash_sign_reference(&m, h.v, h.n, ref);
        for (int kern = 0; kern <= 2; kern++) {
            if (dd_minhash_force_kernel(kern) != 0) continue;
            memset(got, 0, sizeof got);
            dd_minhash_sign(&m, h.v, h.n, got);
            assert_memory_equal(ref, got, ks[t] * sizeof(uint64_t));
        }
        dd_minhash_free(&m);
        dd_u64vec_free(&h);
    }
    /* back to the automatic choice */
    assert_int_equal(dd_minhash_force_kernel(0), 0);
    if (dd_minhash_force_kernel(2) != 0 && dd_minhash_force_kernel(1) != 0) dd_minhash_force_kernel(0);
}

/* The estimate (fraction of equal rows) is unbiased with standard deviation
 * sqrt(J(1-J)/k): over many random pairs, check the mean error and that the
 * errors stay within the binomial spread. */
static void test_jaccard_estimate_within_expected_error(void **state)
{
    (void)state;
    rng_state = 7;
    const unsigned k = 112;
    dd_minhash m;
    dd_minhash_init(&m, k, 1);
    dd_u64vec a = { 0 }, b = { 0 };
    uint64_t sa[112], sb[112];
    const int pairs = 600;
    double sum_err = 0, sum_sq_z = 0;
    int beyond_2sd = 0;
    for (int p = 0; p < pairs; p++) {
        size_t c = 20 + rnd() % 200, d = rnd() % 120;
        make_pair(&a, &b, c, d);
        double j = (double)c / (double)(c + 2 * d);
        dd_minhash_sign(&m, a.v, a.n, sa);
        dd_minhash_sign(&m, b.v, b.n, sb);
        double est = dd_sig_similarity(sa, sb, k);
        double sd = sqrt(j * (1 - j) / k);
        double err = est - j;
        sum_err += err;
        if (sd > 0) {
            sum_sq_z += (err / sd) * (err / sd);
            if (fabs(err) > 2 * sd) beyond_2sd++;
            assert_true(fabs(err) <= 5 * sd + 1e-12);   /* a 5-sigma miss means a broken hash */
        } else {
            assert_true(fabs(err) < 1e-12);   /* J = 1 is exact */
        }
    }
    double mean_err = sum_err / pairs;
    /* the mean of 600 errors of sd <= 0.048 has sd <= 0.002 */
    assert_true(fabs(mean_err) < 0.008);
    /* chi-square per degree of freedom near 1: the spread is as predicted */
    double chi = sum_sq_z / pairs;
    assert_true(chi > 0.75 && chi < 1.3);
    /* about 5% beyond two standard deviations (binomial, so a little less) */
    assert_true(beyond_2sd < pairs / 10);
    dd_minhash_free(&m);
    dd_u64vec_free(&a);
    dd_u64vec_free(&b);
}

/* The fraction of pairs of similarity s that share a band follows
 * 1 - (1 - s^r)^b. */
static void test_s_curve(void **state)
{
    (void)state;
    rng_state = 99;
    const unsigned bands = 14, rows = 8, k = bands * rows;
    dd_minhash m;
    dd_minhash_init(&m, k, 3);
    dd_u64vec a = { 0 }, b = { 0 };
    uint64_t sa[112], sb[112], ka[14], kb[14];
    struct { size_t c, d; } cases[] = { { 50, 25 }, { 70, 15 }, { 80, 10 }, { 90, 5 } };
    const int trials = 1500;
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        double s = (double)cases[t].c / (double)(cases[t].c + 2 * cases[t].d);
        int hits = 0;
        for (int i = 0; i < trials; i++) {
            make_pair(&a, &b, cases[t].c, cases[t].d);
            dd_minhash_sign(&m, a.v, a.n, sa);
            dd_minhash_sign(&m, b.v, b.n, sb);
            dd_band_keys(sa, bands, rows, ka);
            dd_band_keys(sb, bands, rows, kb);
            int shared = 0;
            for (unsigned j = 0; j < bands; j++) shared |= ka[j] == kb[j];
            hits += shared;
        }
        double want = dd_lsh_probability(s, bands, rows);
        double got = (double)hits / trials;
        double sd = sqrt(want * (1 - want) / trials);
        print_message("s=%.2f want %.4f got %.4f (sd %.4f)\n", s, want, got, sd);
        assert_true(fabs(got - want) <= 4 * sd + 0.005);
    }
    /* the formula itself */
    assert_true(fabs(dd_lsh_probability(0.8, 14, 8) - (1 - pow(1 - pow(0.8, 8), 14))) < 1e-15);
    assert_true(dd_lsh_probability(1.0, 14, 8) == 1.0);
    assert_true(dd_lsh_probability(0.0, 14, 8) == 0.0);
    dd_minhash_free(&m);
    dd_u64vec_free(&a);
    dd_u64vec_free(&b);
}

static void test_params_and_band_keys(void **state)
{
    (void)state;
    dd_params p;
    assert_int_equal(dd_params_preset(&p, "fineweb"), 0);
    assert_int_equal(p.kind, DD_SHINGLE_WORD);
    assert_int_equal(p.ngram, 5);
    assert_int_equal(p.bands * p.rows, 112);
    assert_int_equal(dd_params_preset(&p, "nemo"), 0);
    assert_int_equal(p.kind, DD_SHINGLE_CHAR);
    assert_int_equal(p.ngram, 24);
    assert_int_equal(p.bands, 20);
    assert_int_equal(p.rows, 13);
    assert_int_equal(dd_params_preset(&p, "nope"), -1);
    strbuf sb = STRBUF_INIT;
    dd_params_preset(&p, "fineweb");
    dd_params_describe(&p, &sb);
    assert_string_equal(sb.buf, "word5-b14r8-s1");
    sb_free(&sb);
    /* one changed row changes exactly its band's key */
    uint64_t sig[112], keys1[14], keys2[14];
    for (int i = 0; i < 112; i++) sig[i] = (uint64_t)i * 12345;
    dd_band_keys(sig, 14, 8, keys1);
    sig[8 * 3 + 5] ^= 1;
    dd_band_keys(sig, 14, 8, keys2);
    for (int j = 0; j < 14; j++) {
        if (j == 3) assert_true(keys1[j] != keys2[j]);
        else assert_true(keys1[j] == keys2[j]);
    }
    /* equal rows in different bands still give different keys (seeded by band) */
    for (int i = 0; i < 112; i++) sig[i] = 5;
    dd_band_keys(sig, 14, 8, keys1);
    assert_true(keys1[0] != keys1[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identical_texts_identical_signatures),
        cmocka_unit_test(test_kernels_match_reference),
        cmocka_unit_test(test_jaccard_estimate_within_expected_error),
        cmocka_unit_test(test_s_curve),
        cmocka_unit_test(test_params_and_band_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
