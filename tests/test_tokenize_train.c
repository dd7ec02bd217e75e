/* Unit tests for tokenize/bpe_train: the incremental trainer gives the same
 * merges as a deliberately simple reference (recount every pair after every
 * merge, same tie-break, same duplicate rule); trained vocabularies round-trip
 * any text; counting is independent of batching; pruning is bounded and
 * reported. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/io.h"
#include "common/strbuf.h"
#include "tokenize/bpe.h"
#include "tokenize/bpe_train.h"
#include "tokenize/pretok.h"
#include "tokenize/vocab.h"

/* ---------------- the reference trainer ---------------- */

typedef struct ref_word {
    uint32_t *s;
    size_t n;
    uint64_t count;
} ref_word;

typedef struct ref_tok {
    char *b;
    size_t n;
} ref_tok;

/* Recount all pairs, take the max count (ties: smallest left, then right),
 * make (or reuse) the token with the concatenated bytes, rewrite every word
 * left to right. O(merges x corpus): only for small inputs. */
static size_t reference_train(ref_word *w, size_t nw, size_t target, uint64_t min_count,
                              qbpe_merge *out)
{
    ref_tok *tok = calloc(target + 1, sizeof *tok);
    size_t ntok = 256, nm = 0;
    for (int b = 0; b < 256; b++) {
        tok[b].b = malloc(1);
        tok[b].b[0] = (char)b;
        tok[b].n = 1;
    }
    while (ntok < target) {
        uint64_t best = 0;
        uint32_t ba = 0, bb = 0;
        /* a dense recount through a simple list of (pair, count) */
        size_t cap = 1024, np = 0;
        uint64_t *keys = malloc(cap * sizeof *keys), *cnt = malloc(cap * sizeof *cnt);
        for (size_t i = 0; i < nw; i++)
            for (size_t k = 0; k + 1 < w[i].n; k++) {
                uint64_t key = (uint64_t)w[i].s[k] << 32 | w[i].s[k + 1];
                size_t j = 0;
                while (j < np && keys[j] != key) j++;
                if (j == np) {
                    if (np == cap) {
                        cap *= 2;
                        keys = realloc(keys, cap * sizeof *keys);
                        cnt = realloc(cnt, cap * sizeof *cnt);
                    }
                    keys[np] = key;
                    cnt[np++] = 0;
                }
                cnt[j] += w[i].count;
            }
        for (size_t j = 0; j < np; j++) {
            uint32_t a = (uint32_t)(keys[j] >> 32), b = (uint32_t)keys[j];
            if (cnt[j] > best || (cnt[j] == best && best && (a < ba || (a == ba && b < bb)))) {
                best = cnt[j];
                ba = a;
                bb = b;
            }
        }
        free(keys);
        free(cnt);
        if (best < min_count || best == 0) break;
        size_t len = tok[ba].n + tok[bb].n;
        char *cat = malloc(len);
        memcpy(cat, tok[ba].b, tok[ba].n);
        memcpy(cat + tok[ba].n, tok[bb].b, tok[bb].n);
        uint32_t id = UINT32_MAX;
        for (size_t t = 0; t < ntok; t++)
            if (tok[t].n == len && !memcmp(tok[t].b, cat, len)) id = (uint32_t)t;
        if (id == UINT32_MAX) {
            id = (uint32_t)ntok;
            tok[ntok].b = cat;
            tok[ntok++].n = len;
        } else {
            free(cat);
        }
        out[nm++] = (qbpe_merge){ ba, bb, id, best };
        for (size_t i = 0; i < nw; i++) {
            size_t j = 0;
            for (size_t k = 0; k < w[i].n;) {
                if (k + 1 < w[i].n && w[i].s[k] == ba && w[i].s[k + 1] == bb) {
                    w[i].s[j++] = id;
                    k += 2;
                } else {
                    w[i].s[j++] = w[i].s[k++];
                }
            }
            w[i].n = j;
        }
    }
    for (size_t t = 0; t < ntok; t++) free(tok[t].b);
    free(tok);
    return nm;
}

static ref_word *words_of(const qbpe_counter *c, size_t *nw)
{
    ref_word *w = calloc(qbpe_counter_size(c) + 1, sizeof *w);
    size_t n = 0;
    for (size_t i = 0; i < qbpe_counter_capacity(c); i++) {
        const char *p;
        size_t len;
        uint64_t cnt;
        if (!qbpe_counter_entry(c, i, &p, &len, &cnt)) continue;
        w[n].s = malloc(len * sizeof *w[n].s);
        for (size_t k = 0; k < len; k++) w[n].s[k] = (unsigned char)p[k];
        w[n].n = len;
        w[n].count = cnt;
        n++;
    }
    *nw = n;
    return w;
}

static void free_words(ref_word *w, size_t n)
{
    for (size_t i = 0; i < n; i++) free(w[i].s);
    free(w);
}

static void compare_with_reference(const qbpe_counter *c, uint32_t vocab_size, uint64_t min_count)
{
    qvocab v;
    qvocab_init(&v);
    qbpe_train_opts o = { .vocab_size = vocab_size, .min_count = min_count, .pattern = "gpt2" };
    qbpe_merge *got = NULL;
    size_t ngot = 0;
    char err[256];
    assert_int_equal(qbpe_train(c, &o, &v, &got, &ngot, err, sizeof err), 0);
    size_t nw;
    ref_word *w = words_of(c, &nw);
    qbpe_merge *want = calloc(vocab_size * 4 + 16, sizeof *want);
    size_t nwant = reference_train(w, nw, vocab_size, min_count, want);
    assert_int_equal(ngot, nwant);
    for (size_t i = 0; i < ngot; i++) {
        if (got[i].left != want[i].left || got[i].right != want[i].right || got[i].id != want[i].id ||
            got[i].count != want[i].count)
            fail_msg("merge %zu: got (%u,%u)->%u x%llu, reference (%u,%u)->%u x%llu", i, got[i].left,
                     got[i].right, got[i].id, (unsigned long long)got[i].count, want[i].left, want[i].right,
                     want[i].id, (unsigned long long)want[i].count);
    }
    /* the vocabulary has no duplicate byte strings: qbpe_new would refuse it */
    qbpe *b = qbpe_new(&v, err, sizeof err);
    assert_non_null(b);
    qbpe_free(b);
    free(got);
    free(want);
    free_words(w, nw);
    qvocab_free(&v);
}

/* ---------------- tests ---------------- */

static qbpe_counter *count_file(const char *path, const char *pattern, size_t chunk)
{
    strbuf sb = STRBUF_INIT;
    char err[QERR_LEN];
    assert_int_equal(qread_file(path, &sb, err, sizeof err), 0);
    char e2[256];
    qpretok *p = qpretok_new(pattern, e2, sizeof e2);
    assert_non_null(p);
    qpretok_scratch *s = qpretok_scratch_new();
    qbpe_counter *total = qbpe_counter_new(0);
    /* count line by line, in batches of `chunk` lines merged in order */
    qbpe_counter *part = qbpe_counter_new(0);
    size_t lines = 0;
    const char *q = sb.buf, *end = sb.buf + sb.len;
    while (q < end) {
        const char *nl = memchr(q, '\n', (size_t)(end - q));
        const char *le = nl ? nl + 1 : end;
        assert_int_equal(qbpe_counter_add_text(part, p, s, q, (size_t)(le - q)), 0);
        if (++lines % chunk == 0) {
            qbpe_counter_merge(total, part);
            qbpe_counter_clear(part);
        }
        q = le;
    }
    qbpe_counter_merge(total, part);
    qbpe_counter_free(part);
    qpretok_scratch_free(s);
    qpretok_free(p);
    sb_free(&sb);
    return total;
}

static void test_counting_is_independent_of_batching(void **state)
{
    (void)state;
    qbpe_counter *a = count_file("tests/data/tokenize/train_small.txt", "gpt2", 1);
    qbpe_counter *b = count_file("tests/data/tokenize/train_small.txt", "gpt2", 7);
    assert_int_equal(qbpe_counter_size(a), qbpe_counter_size(b));
    assert_true(qbpe_counter_size(a) > 1000);
    for (size_t i = 0; i < qbpe_counter_capacity(a); i++) {
        const char *p;
        size_t len;
        uint64_t ca;
        if (!qbpe_counter_entry(a, i, &p, &len, &ca)) continue;
        assert_int_equal(qbpe_counter_get(b, p, len), ca);
    }
    qbpe_counter_free(a);
    qbpe_counter_free(b);
}

static void test_merges_equal_reference_on_text(void **state)
{
    (void)state;
    qbpe_counter *c = count_file("tests/data/tokenize/train_small.txt", "gpt2", 16);
    compare_with_reference(c, 256 + 300, 1);
    compare_with_reference(c, 256 + 120, 3);   /* stops early at min_count */
    qbpe_counter_free(c);
}

static void test_merges_equal_reference_on_overlapping_words(void **state)
{
    (void)state;
    /* Runs of one letter and words over {a, b}: overlapping pairs (a, a),
     * where left-to-right rewriting and the neighbour deltas are easy to get
     * wrong. */
    srand(12345);
    qbpe_counter *c = qbpe_counter_new(0);
    char w[16];
    for (int i = 0; i < 400; i++) {
        size_t len = 2 + (size_t)rand() % 12;
        for (size_t k = 0; k < len; k++) w[k] = i % 2 ? 'a' : "ab"[rand() % 2];
        qbpe_counter_add(c, w, len, 1 + (uint64_t)(rand() % 50));
    }
    compare_with_reference(c, 256 + 150, 1);
    qbpe_counter_free(c);
}

static void test_trained_vocab_round_trips(void **state)
{
    (void)state;
    qbpe_counter *c = count_file("tests/data/tokenize/train_small.txt", "cl100k_base", 16);
    qvocab v;
    qvocab_init(&v);
    static const char *const specials[] = { "<|endoftext|>" };
    qbpe_train_opts o = { .vocab_size = 700, .specials = specials, .n_specials = 1, .min_count = 2,
                          .pattern = "cl100k_base", .name = "t" };
    char err[256];
    assert_int_equal(qbpe_train(c, &o, &v, NULL, NULL, err, sizeof err), 0);
    assert_int_equal(v.n_ids, 700);
    assert_int_equal(v.eot, 699);
    qbpe *b = qbpe_new(&v, err, sizeof err);
    assert_non_null(b);
    qbpe_scratch *s = qbpe_scratch_new();
    qbpe_ids ids = { 0 };
    strbuf back = STRBUF_INIT, text = STRBUF_INIT;
    srand(99);
    for (int round = 0; round < 200; round++) {
        /* arbitrary bytes through the piece encoder: exact */
        size_t len = 1 + (size_t)rand() % 300;
        sb_reset(&text);
        for (size_t i = 0; i < len; i++) sb_addc(&text, (char)(round % 2 ? rand() % 256 : "the cat  \n"[rand() % 10]));
        ids.n = 0;
        qbpe_encode_piece(b, s, text.buf, text.len, &ids);
        sb_reset(&back);
        assert_int_equal(qbpe_decode(b, ids.v, ids.n, &back), 0);
        assert_int_equal(back.len, text.len);
        assert_memory_equal(back.buf, text.buf, text.len);
        /* valid UTF-8 text (every 2nd round: invalid bytes removed) through the full encoder */
        if (round % 2) continue;
        ids.n = 0;
        assert_int_equal(qbpe_encode(b, s, text.buf, text.len, 0, &ids, NULL), 0);
        sb_reset(&back);
        qbpe_decode(b, ids.v, ids.n, &back);
        assert_int_equal(back.len, text.len);
        assert_memory_equal(back.buf, text.buf, text.len);
    }
    /* the training text itself, with multi-byte characters */
    sb_reset(&text);
    char e2[QERR_LEN];
    assert_int_equal(qread_file("tests/data/tokenize/train_small.txt", &text, e2, sizeof e2), 0);
    ids.n = 0;
    assert_int_equal(qbpe_encode(b, s, text.buf, text.len, 0, &ids, NULL), 0);
    assert_true(ids.n < text.len / 2);   /* it learned something */
    sb_reset(&back);
    qbpe_decode(b, ids.v, ids.n, &back);
    assert_int_equal(back.len, text.len);
    assert_memory_equal(back.buf, text.buf, text.len);
    sb_free(&back);
    sb_free(&text);
    qbpe_ids_free(&ids);
    qbpe_scratch_free(s);
    qbpe_free(b);
    qvocab_free(&v);
    qbpe_counter_free(c);
}

static void test_pruning_is_bounded_and_reported(void **state)
{
    (void)state;
    qbpe_counter *c = qbpe_counter_new(256 * 1024);
    char w[32];
    uint64_t total = 0;
    for (int i = 0; i < 200000; i++) {
        int n = snprintf(w, sizeof w, "w%d", i % 50 == 0 ? 7 : i);   /* "w7" is frequent */
        qbpe_counter_add(c, w, (size_t)n, 1);
        total++;
        assert_true(qbpe_counter_bytes(c) <= 256 * 1024);
    }
    assert_true(qbpe_counter_pruned_pieces(c) > 0);
    assert_true(qbpe_counter_threshold(c) >= 2);
    /* the frequent piece survived with all its counts since the last prune */
    int found = 0;
    uint64_t kept = 0;
    for (size_t i = 0; i < qbpe_counter_capacity(c); i++) {
        const char *p;
        size_t len;
        uint64_t cnt;
        if (!qbpe_counter_entry(c, i, &p, &len, &cnt)) continue;
        kept += cnt;
        if (len == 2 && !memcmp(p, "w7", 2)) found = cnt >= 4000;
    }
    assert_true(found);
    assert_int_equal(kept + qbpe_counter_pruned_count(c), total);
    qbpe_counter_free(c);
}

static void test_vocab_size_too_small(void **state)
{
    (void)state;
    qbpe_counter *c = qbpe_counter_new(0);
    qbpe_counter_add(c, "ab", 2, 5);
    qvocab v;
    qvocab_init(&v);
    static const char *const specials[] = { "<|endoftext|>" };
    qbpe_train_opts o = { .vocab_size = 256, .specials = specials, .n_specials = 1 };
    char err[256];
    assert_int_equal(qbpe_train(c, &o, &v, NULL, NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "below"));
    qvocab_free(&v);
    qbpe_counter_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counting_is_independent_of_batching),
        cmocka_unit_test(test_merges_equal_reference_on_text),
        cmocka_unit_test(test_merges_equal_reference_on_overlapping_words),
        cmocka_unit_test(test_trained_vocab_round_trips),
        cmocka_unit_test(test_pruning_is_bounded_and_reported),
        cmocka_unit_test(test_vocab_size_too_small),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
