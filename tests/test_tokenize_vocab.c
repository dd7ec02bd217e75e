/* Unit tests for tokenize/vocab: base64, GPT-2's byte alphabet, .tiktoken
 * text, and save/load round trips through .tiktoken + sidecar,
 * tokenizer.json and encoder.json + vocab.bpe, and built-in name lookup. */
#include "common/strbuf.h"
#include "tokenize/bpe.h"
#include "tokenize/pretok.h"
#include "tokenize/tokenizer.h"
#include "tokenize/vocab.h"
#include "testlib.h"

/* bytes, a few merged tokens (some with bytes >= 0x80 and spaces), specials */
static void sample_vocab(qvocab *v)
{
    qvocab_init(v);
    for (int b = 0; b < 256; b++) {
        char c = (char)b;
        qvocab_add(v, (uint32_t)b, &c, 1, 0);
    }
    static const char *const m[] = { " t", "he", " the", "\xc3\xa9", "\n\n", " \xc3\xa9t\xc3\xa9", "  " };
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++) qvocab_add(v, (uint32_t)(256 + i), m[i], strlen(m[i]), 0);
    qvocab_add(v, 270, "<|endoftext|>", 13, 1);   /* a gap at 263..269 */
    qvocab_set_pattern(v, "cl100k_base");
    qvocab_set_name(v, "sample");
    qvocab_default_eot(v);
}

static void assert_same_vocab(const qvocab *a, const qvocab *b)
{
    assert_int_equal(a->n_ids, b->n_ids);
    assert_int_equal(a->eot, b->eot);
    assert_string_equal(a->pattern, b->pattern);
    for (uint32_t id = 0; id < a->n_ids; id++) {
        assert_int_equal(qvocab_has(a, id), qvocab_has(b, id));
        if (!qvocab_has(a, id)) continue;
        size_t la, lb;
        const char *pa = qvocab_bytes(a, id, &la), *pb = qvocab_bytes(b, id, &lb);
        assert_int_equal(la, lb);
        assert_memory_equal(pa, pb, la);
        assert_int_equal(a->special[id], b->special[id]);
    }
}

static void test_base64(void **state)
{
    (void)state;
    strbuf e = STRBUF_INIT, d = STRBUF_INIT;
    qb64_encode("!", 1, &e);
    assert_string_equal(e.buf, "IQ==");
    sb_reset(&e);
    qb64_encode(" the", 4, &e);
    assert_string_equal(e.buf, "IHRoZQ==");
    srand(3);
    for (int r = 0; r < 200; r++) {
        unsigned char buf[40];
        size_t n = (size_t)rand() % 40;
        for (size_t i = 0; i < n; i++) buf[i] = (unsigned char)rand();
        sb_reset(&e);
        sb_reset(&d);
        qb64_encode(buf, n, &e);
        assert_int_equal(qb64_decode(e.buf, e.len, &d), 0);
        assert_int_equal(d.len, n);
        if (n) assert_memory_equal(d.buf, buf, n);
    }
    sb_reset(&d);
    assert_int_equal(qb64_decode("I=Q=", 4, &d), -1);
    assert_int_equal(qb64_decode("IQ=", 3, &d), -1);
    assert_int_equal(qb64_decode("I*==", 4, &d), -1);
    sb_free(&e);
    sb_free(&d);
}

static void test_byte_alphabet(void **state)
{
    (void)state;
    assert_int_equal(qvocab_byte_to_cp(' '), 0x120);    /* "Ġ" */
    assert_int_equal(qvocab_byte_to_cp('\n'), 0x10A);   /* "Ċ" */
    assert_int_equal(qvocab_byte_to_cp('A'), 'A');
    assert_int_equal(qvocab_byte_to_cp(0xAD), 0x143);   /* the last of the 68 remapped bytes */
    int seen[400] = { 0 };
    for (int b = 0; b < 256; b++) {
        uint32_t cp = qvocab_byte_to_cp((unsigned char)b);
        assert_true(cp < 400);
        assert_int_equal(seen[cp], 0);
        seen[cp] = 1;
        assert_int_equal(qvocab_cp_to_byte(cp), b);
    }
    assert_int_equal(qvocab_cp_to_byte(0x20), -1);
    assert_int_equal(qvocab_cp_to_byte(0x144), -1);
}

static void test_tiktoken_text(void **state)
{
    (void)state;
    qvocab v;
    sample_vocab(&v);
    strbuf t = STRBUF_INIT;
    qvocab_format_tiktoken(&v, &t);
    assert_non_null(strstr(t.buf, "IHRoZQ== 258\n"));   /* " the" */
    assert_null(strstr(t.buf, "<|"));                   /* specials live in the sidecar */
    qvocab w;
    qvocab_init(&w);
    char err[256];
    assert_int_equal(qvocab_parse_tiktoken(&w, t.buf, t.len, err, sizeof err), 0);
    assert_int_equal(w.n_ids, 263);
    qvocab_free(&w);
    qvocab_init(&w);
    assert_int_equal(qvocab_parse_tiktoken(&w, "IQ== 0\nIQ== 0\n", 14, err, sizeof err), -1);
    assert_non_null(strstr(err, "line 2"));
    qvocab_free(&w);
    qvocab_init(&w);
    assert_int_equal(qvocab_parse_tiktoken(&w, "IQ==0\n", 6, err, sizeof err), -1);
    qvocab_free(&w);
    sb_free(&t);
    qvocab_free(&v);
}

static void test_tiktoken_file_round_trip(void **state)
{
    (void)state;
    qvocab v, w;
    sample_vocab(&v);
    char path[400], err[512];
    tl_path(path, sizeof path, "sample.tiktoken");
    assert_int_equal(qvocab_save_tiktoken(&v, path, err, sizeof err), 0);
    qvocab_init(&w);
    assert_int_equal(qvocab_load(&w, path, err, sizeof err), 0);
    assert_same_vocab(&v, &w);
    assert_string_equal(w.name, "sample");
    char h1[17], h2[17];
    qvocab_hash(&v, h1);
    qvocab_hash(&w, h2);
    assert_string_equal(h1, h2);
    qvocab_free(&w);
    /* the directory resolves to its one .tiktoken */
    qvocab_init(&w);
    assert_int_equal(qvocab_load(&w, tl_tmpdir(), err, sizeof err), 0);
    assert_same_vocab(&v, &w);
    qvocab_free(&w);
    qvocab_free(&v);
}

static void test_hf_round_trip(void **state)
{
    (void)state;
    qvocab v, w;
    sample_vocab(&v);
    char path[400], err[512];
    tl_path(path, sizeof path, "tokenizer.json");
    assert_int_equal(qvocab_save_hf(&v, path, err, sizeof err), 0);
    qvocab_init(&w);
    assert_int_equal(qvocab_load(&w, path, err, sizeof err), 0);
    assert_same_vocab(&v, &w);
    qvocab_free(&w);
    /* gpt2's pattern is written as ByteLevel(use_regex) and read back */
    qvocab_set_pattern(&v, "gpt2");
    assert_int_equal(qvocab_save_hf(&v, path, err, sizeof err), 0);
    char *json = tl_read_file(path, NULL);
    assert_non_null(strstr(json, "\"use_regex\":true"));
    assert_non_null(strstr(json, "\"\xC4\xA0t\"")); /* " t" in the byte alphabet: "Ġt" */
    free(json);
    qvocab_init(&w);
    assert_int_equal(qvocab_load(&w, path, err, sizeof err), 0);
    assert_same_vocab(&v, &w);
    qvocab_free(&w);
    qvocab_free(&v);
}

static void test_gpt2_files_round_trip(void **state)
{
    (void)state;
    qvocab v, w;
    sample_vocab(&v);
    qvocab_set_pattern(&v, "gpt2");
    char enc[400], bpe[400], err[512];
    tl_path(enc, sizeof enc, "encoder.json");
    tl_path(bpe, sizeof bpe, "vocab.bpe");
    assert_int_equal(qvocab_save_gpt2(&v, enc, bpe, err, sizeof err), 0);
    qvocab_init(&w);
    assert_int_equal(qvocab_load(&w, enc, err, sizeof err), 0);
    assert_same_vocab(&v, &w);
    qvocab_free(&w);
    /* a vocab.bpe whose merge makes no token is refused */
    FILE *f = fopen(bpe, "a");
    assert_non_null(f);
    fputs("x y\n", f);
    assert_int_equal(fclose(f), 0);
    qvocab_init(&w);
    assert_int_equal(qvocab_load(&w, enc, err, sizeof err), -1);
    assert_non_null(strstr(err, "vocab.bpe"));
    qvocab_free(&w);
    qvocab_free(&v);
}

static void test_builtin_name_lookup(void **state)
{
    (void)state;
    qvocab v, w;
    sample_vocab(&v);
    char dir[400], path[500], err[512];
    tl_path(dir, sizeof dir, "data/tokenizers");
    snprintf(path, sizeof path, "%s/gpt2.tiktoken", dir);
    /* only the ranks, no sidecar: the built-in pattern and specials apply */
    strbuf t = STRBUF_INIT;
    qvocab_format_tiktoken(&v, &t);
    tl_mkdirs(dir);
    tl_write_file(path, t.buf, t.len);
    sb_free(&t);
    char data[450];
    tl_path(data, sizeof data, "data");
    setenv("QUERN_DATA", data, 1);
    qvocab_init(&w);
    assert_int_equal(qvocab_load(&w, "gpt2", err, sizeof err), 0);
    assert_string_equal(w.pattern, QPRETOK_GPT2);
    assert_int_equal(w.eot, 50256);
    assert_int_equal(w.n_ids, 50257);
    qvocab_free(&w);
    /* through the public API */
    qtok *tk = qtok_load("gpt2", err, sizeof err);
    assert_non_null(tk);
    assert_int_equal(qtok_eot(tk), 50256);
    assert_int_equal(qtok_vocab_size(tk), 50257);
    assert_string_equal(qtok_name(tk), "gpt2");
    uint32_t *ids;
    size_t n = qtok_encode(tk, " the the", 8, &ids);
    assert_int_equal(n, 2);
    assert_int_equal(ids[0], 258);
    strbuf back = STRBUF_INIT;
    assert_int_equal(qtok_decode(tk, ids, n, &back), 0);
    assert_string_equal(back.buf, " the the");
    size_t len;
    assert_memory_equal(qtok_token(tk, 258, &len), " the", 4);
    assert_int_equal(len, 4);
    assert_null(qtok_token(tk, 300, &len));
    free(ids);
    sb_free(&back);
    qtok_free(tk);
    /* a missing built-in names the file and the script */
    qvocab_init(&w);
    assert_int_equal(qvocab_load(&w, "o200k_base", err, sizeof err), -1);
    assert_non_null(strstr(err, "vocab-from-npm.sh"));
    qvocab_free(&w);
    qvocab_init(&w);
    assert_int_equal(qvocab_load(&w, "no-such-vocab", err, sizeof err), -1);
    qvocab_free(&w);
    unsetenv("QUERN_DATA");
    qvocab_free(&v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_byte_alphabet),
        cmocka_unit_test(test_tiktoken_text),
        cmocka_unit_test(test_tiktoken_file_round_trip),
        cmocka_unit_test(test_hf_round_trip),
        cmocka_unit_test(test_gpt2_files_round_trip),
        cmocka_unit_test(test_builtin_name_lookup),
    };
    return cmocka_run_group_tests(tests, tl_tmpdir_setup, tl_tmpdir_teardown);
}
