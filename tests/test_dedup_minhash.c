/* Unit tests for dedup: MinHash signatures (every kernel against the reference),
 * the normalisation they sign (fast paths against the rule), the Jaccard
 * estimate, the LSH S-curve. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>
#include <xmmintrin.h>
#include <xxhash.h>

#include "dedup/dedup.h"
#include "dedup_reference.h"

static uint64_t rng_state;
static uint64_t rnd(void)   /* splitmix64: deterministic test data */
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Back to the best kernel the CPU has, after a test forced others. */
static void use_best_kernel(void)
{
    if (dd_minhash_force_kernel(2) != 0 && dd_minhash_force_kernel(1) != 0) dd_minhash_force_kernel(0);
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
    use_best_kernel();
}

/* (x * y) mod p and x^e mod p, for building shingles with chosen values. */
static uint64_t mulmod61(uint64_t x, uint64_t y)
{
    __uint128_t t = (__uint128_t)x * y;
    uint64_t r = ((uint64_t)t & DD_MERSENNE61) + (uint64_t)(t >> 61);
    r = (r & DD_MERSENNE61) + (r >> 61);
    return r >= DD_MERSENNE61 ? r - DD_MERSENNE61 : r;
}

static uint64_t powmod61(uint64_t x, uint64_t e)
{
    uint64_t r = 1;
    for (; e; e >>= 1, x = mulmod61(x, x))
        if (e & 1) r = mulmod61(r, x);
    return r;
}

/* The hash h with (a_j * h + b_j) mod p == c. */
static uint64_t hash_with_value(const dd_minhash *m, unsigned j, uint64_t c)
{
    const uint64_t p = DD_MERSENNE61;
    uint64_t inv = powmod61(m->a[j], p - 2);
    return mulmod61((c + p - m->b[j]) % p, inv);
}

/* Permutation values at the ends of [0, p): 0..4 and p-1, p-2. The vector
 * kernels postpone the canonical reduction and redo a lane exactly when a
 * value may have wrapped past p, which only values 0..3 do; random hashes
 * (a 4-in-2^61 chance) never reach that path, these shingles do. */
static void test_kernels_match_reference_at_extremes(void **state)
{
    (void)state;
    rng_state = 5;
    const uint64_t p = DD_MERSENNE61;
    const uint64_t values[] = { 0, 1, 2, 3, 4, p - 1, p - 2 };
    unsigned ks[] = { 112, 260, 17 };
    for (size_t t = 0; t < sizeof ks / sizeof ks[0]; t++) {
        dd_minhash m;
        dd_minhash_init(&m, ks[t], 100 + t);
        uint64_t ref[260], got[260];
        for (size_t v = 0; v < sizeof values / sizeof values[0]; v++) {
            for (unsigned j = 0; j < ks[t]; j += 1 + (unsigned)(rnd() % 5)) {
                dd_u64vec h = { 0 };
                size_t n = rnd() % 40;
                for (size_t i = 0; i < n; i++) dd_u64vec_push(&h, rnd());
                uint64_t x = hash_with_value(&m, j, values[v]);
                /* also as an unreduced hash (x + p), which must reduce to x */
                dd_u64vec_push(&h, rnd() & 1 ? x + p : x);
                for (size_t i = 0; i < n % 7; i++) dd_u64vec_push(&h, rnd());
                dd_minhash_sign_reference(&m, h.v, h.n, ref);
                if (values[v] <= 4) assert_true(ref[j] <= values[v]);
                for (int kern = 0; kern <= 2; kern++) {
                    if (dd_minhash_force_kernel(kern) != 0) continue;
                    memset(got, 0, sizeof got);
                    dd_minhash_sign(&m, h.v, h.n, got);
                    assert_memory_equal(ref, got, ks[t] * sizeof(uint64_t));
                }
                dd_u64vec_free(&h);
            }
        }
        /* no shingles at all: the empty signature from every kernel */
        for (int kern = 0; kern <= 2; kern++) {
            if (dd_minhash_force_kernel(kern) != 0) continue;
            dd_minhash_sign(&m, NULL, 0, got);
            for (unsigned j = 0; j < ks[t]; j++) assert_int_equal(got[j], DD_SIG_EMPTY);
        }
        dd_minhash_free(&m);
    }
    use_best_kernel();
}

/* The AVX2 kernel takes its minimum with a double-precision min, which reads
 * small values as denormals: with denormals-are-zero set by someone else
 * (e.g. code built with -ffast-math) the signatures must not change, and the
 * caller's floating-point mode must come back as it was. */
static void test_kernels_ignore_denormals_are_zero(void **state)
{
    (void)state;
    rng_state = 11;
    dd_minhash m;
    dd_minhash_init(&m, 112, 1);
    dd_u64vec h = { 0 };
    /* values below 2^52 (denormal as doubles) as well as ordinary ones */
    for (unsigned j = 0; j < 112; j += 3) dd_u64vec_push(&h, hash_with_value(&m, j, rnd() >> 14));
    for (int i = 0; i < 50; i++) dd_u64vec_push(&h, rnd());
    uint64_t ref[112], got[112];
    dd_minhash_sign_reference(&m, h.v, h.n, ref);
    unsigned saved = _mm_getcsr();
    const unsigned daz_ftz = 0x8040;
    for (int kern = 0; kern <= 2; kern++) {
        if (dd_minhash_force_kernel(kern) != 0) continue;
        _mm_setcsr(saved | daz_ftz);
        dd_minhash_sign(&m, h.v, h.n, got);
        unsigned after = _mm_getcsr();
        _mm_setcsr(saved);
        assert_int_equal(after & daz_ftz, daz_ftz);
        assert_memory_equal(ref, got, sizeof ref);
    }
    use_best_kernel();
    dd_minhash_free(&m);
    dd_u64vec_free(&h);
}

/* Random text of ASCII words, punctuation and whitespace runs, mixed with
 * accented and other non-ASCII letters, combining marks, non-ASCII
 * separators, digits of other scripts and invalid bytes, in runs of every
 * length around the 16-byte blocks. */
static void random_text(strbuf *t, size_t len)
{
    static const char *pieces[] = {
        "a", "Z", "q", "7", " ", "  ", ".", ",", "-", "\n", "\t", "_", "~", "\x7f", "\x01",
        "\xc3\xa9", "\xc3\x89", "e\xcc\x81", "\xc2\xa0", "\xe2\x80\x94", "\xe4\xb8\xad",
        "\xd9\xa3", "\xce\x91", "\xff", "\xc3", "\xf0\x9f\x98\x80",
    };
    t->len = 0;
    while (t->len < len) {
        uint64_t r = rnd();
        if (r % 4) {   /* mostly ASCII words and single spaces, as in prose */
            size_t w = 1 + r / 4 % 12;
            for (size_t i = 0; i < w && t->len < len; i++)
                sb_addc(t, (char)((r >> 8) % 3 ? 'a' + (rnd() % 26) : 'A' + (rnd() % 26)));
            sb_addc(t, (r >> 20) % 5 ? ' ' : ",.!?"[r >> 24 & 3]);
        } else {
            sb_adds(t, pieces[(r >> 8) % (sizeof pieces / sizeof pieces[0])]);
        }
    }
}

static void test_normalize_fast_paths_match_rule(void **state)
{
    (void)state;
    rng_state = 3;
    strbuf text = STRBUF_INIT, got = STRBUF_INIT, want = STRBUF_INIT;
    /* the second half with the byte loop only: the path of CPUs without SSSE3 */
    for (int t = 0; t < 6000; t++) {
        if (t == 3000) rng_state = 3;
        dd_normalize_force_bytes(t >= 3000);
        random_text(&text, t % 3000 < 200 ? (size_t)(t % 3000) : (size_t)(rnd() % 700));
        /* sometimes appended after existing content (ending in a word or a space) */
        const char *prefix = t % 3 == 0 ? "" : t % 3 == 1 ? "x:" : "y ";
        got.len = want.len = 0;
        sb_adds(&got, prefix);
        sb_adds(&want, prefix);
        dd_normalize(text.buf, text.len, &got);
        normalize_reference(text.buf, text.len, &want);
        assert_int_equal(got.len, want.len);
        assert_memory_equal(got.buf, want.buf, want.len);
        assert_int_equal(got.buf[got.len], 0);
    }
    dd_normalize_force_bytes(0);
    sb_free(&text);
    sb_free(&got);
    sb_free(&want);
}

/* Word shingles of normalised random text against a plain split on spaces. */
static void test_word_shingles_match_split(void **state)
{
    (void)state;
    rng_state = 4;
    strbuf text = STRBUF_INIT, norm = STRBUF_INIT, joined = STRBUF_INIT;
    dd_u64vec got = { 0 };
    for (int t = 0; t < 500; t++) {
        random_text(&text, (size_t)(rnd() % 400));
        norm.len = 0;
        dd_normalize(text.buf, text.len, &norm);
        unsigned n = 1 + (unsigned)(rnd() % 6);
        dd_shingles(norm.buf, norm.len, DD_SHINGLE_WORD, n, &got);
        /* word starts and lengths */
        size_t starts[1024], lens[1024], words = 0;
        for (size_t i = 0; i < norm.len && words < 1024;) {
            size_t e = i;
            while (e < norm.len && norm.buf[e] != ' ') e++;
            starts[words] = i;
            lens[words++] = e - i;
            i = e + 1;
        }
        size_t want_n = words == 0 ? 0 : words < n ? 1 : words - n + 1;
        assert_int_equal(got.n, want_n);
        for (size_t k = 0; k < want_n; k++) {
            joined.len = 0;
            for (size_t w = k; w < k + n && w < words; w++) {
                if (w > k) sb_addc(&joined, ' ');
                sb_add(&joined, norm.buf + starts[w], lens[w]);
            }
            assert_true(got.v[k] == XXH3_64bits(joined.buf, joined.len));
        }
    }
    dd_u64vec_free(&got);
    sb_free(&text);
    sb_free(&norm);
    sb_free(&joined);
}

/* main() sets QUERN_MINHASH_KERNEL=scalar before anything signs: the
 * automatic choice follows it (benchmarks use it to time a slower kernel). */
static void test_kernel_chosen_by_environment(void **state)
{
    (void)state;
    assert_string_equal(dd_minhash_kernel(), "scalar");
    use_best_kernel();
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
    setenv("QUERN_MINHASH_KERNEL", "scalar", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kernel_chosen_by_environment),
        cmocka_unit_test(test_identical_texts_identical_signatures),
        cmocka_unit_test(test_kernels_match_reference),
        cmocka_unit_test(test_kernels_match_reference_at_extremes),
        cmocka_unit_test(test_kernels_ignore_denormals_are_zero),
        cmocka_unit_test(test_normalize_fast_paths_match_rule),
        cmocka_unit_test(test_word_shingles_match_split),
        cmocka_unit_test(test_jaccard_estimate_within_expected_error),
        cmocka_unit_test(test_s_curve),
        cmocka_unit_test(test_params_and_band_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
