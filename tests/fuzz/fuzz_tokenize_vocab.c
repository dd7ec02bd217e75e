/* libFuzzer target for tokenize's vocabulary loaders: .tiktoken (in memory,
 * and as a file with its JSON sidecar), Hugging Face tokenizer.json, GPT-2
 * encoder.json + vocab.bpe, npm tiktoken JSON, and qvocab_load's detection
 * by content. Properties: no crash, over-read or unbounded allocation; a
 * loaded vocabulary is self-consistent (every id's bytes inside the byte
 * store, eot a defined id, specials counted right); its .tiktoken text parses
 * back to the same mergeable tokens; if it builds an encoder, encoding then
 * decoding a text gives the text back (after UTF-8 repair).
 * Input: [0] format (low 3 bits), then the file(s); several files are
 * separated by a line "=====".
 * FUZZ_MODULES: tokenize common (tests/fuzz/run.sh builds and runs it) */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/utf8.h"
#include "fuzz_util.h"
#include "tokenize/bpe.h"
#include "tokenize/vocab.h"

static void check_consistent(const qvocab *v)
{
    uint32_t specials = 0;
    if (v->n_ids > v->cap_ids && v->cap_ids) abort();
    for (uint32_t i = 0; i < v->n_ids; i++) {
        if (v->len[i] == QVOCAB_NONE) continue;
        if (v->off[i] + v->len[i] > v->bytes.len) abort();
        if (v->special[i]) specials++;
    }
    if (specials != v->n_special) abort();
    if (v->eot != QVOCAB_NONE && !qvocab_has(v, v->eot)) abort();
}

/* mergeable tokens of a and b agree */
static void same_mergeable(const qvocab *a, const qvocab *b)
{
    uint32_t n = a->n_ids > b->n_ids ? a->n_ids : b->n_ids;
    for (uint32_t i = 0; i < n; i++) {
        int ha = qvocab_has(a, i) && !a->special[i], hb = qvocab_has(b, i) && !b->special[i];
        if (ha != hb) abort();
        if (!ha) continue;
        size_t la, lb;
        const char *pa = qvocab_bytes(a, i, &la), *pb = qvocab_bytes(b, i, &lb);
        if (la != lb || memcmp(pa, pb, la)) abort();
    }
}

static void round_trip(qvocab *v, const uint8_t *text, size_t n)
{
    char err[256];
    qvocab copy;
    qvocab_init(&copy);
    qvocab_set_name(&copy, v->name ? v->name : "x");
    if (v->pattern) qvocab_set_pattern(&copy, v->pattern);
    for (uint32_t i = 0; i < v->n_ids; i++) {
        size_t l;
        const char *b = qvocab_bytes(v, i, &l);
        if (b && qvocab_add(&copy, i, b, l, v->special[i])) abort();
    }
    copy.eot = v->eot;
    qbpe *bpe = qbpe_new(&copy, err, sizeof err);
    qvocab_free(&copy);
    if (!bpe) return;
    qbpe_scratch *s = qbpe_scratch_new();
    static const char *fixed[] = { "Hello, world! It's 2024.", "  naïve café — 日本語テキスト\n\n\t x",
                                   "<|endoftext|> and more" };
    for (int k = 0; k < 4; k++) {
        const char *t = k < 3 ? fixed[k] : (const char *)text;
        size_t tl = k < 3 ? strlen(fixed[k]) : (n > 512 ? 512 : n);
        qbpe_ids ids = { 0 };
        if (qbpe_encode(bpe, s, t, tl, k & 1, &ids, NULL) == 0) {
            const qvocab *bv = qbpe_vocab(bpe);
            for (size_t i = 0; i < ids.n; i++)
                if (!qvocab_has(bv, ids.v[i])) abort();
            strbuf dec = STRBUF_INIT, want = STRBUF_INIT;
            if (qbpe_decode(bpe, ids.v, ids.n, &dec)) abort();
            utf8_repair(&want, t, tl);
            if (dec.len != want.len || (dec.len && memcmp(dec.buf, want.buf, dec.len))) abort();
            sb_free(&dec);
            sb_free(&want);
        }
        qbpe_ids_free(&ids);
    }
    qbpe_scratch_free(s);
    qbpe_free(bpe);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    int fmt = data[0] & 7;
    const uint8_t *part[3];
    size_t len[3];
    size_t np = fz_split(data + 1, size - 1, "\n=====\n", part, len, 3);
    qvocab v;
    qvocab_init(&v);
    char err[512];
    int rc = -1;
    switch (fmt) {
    case 0: case 6: case 7:
        rc = qvocab_parse_tiktoken(&v, (const char *)part[0], len[0], err, sizeof err);
        break;
    case 1: {
        const char *p = fz_write(0, "v.tiktoken", part[0], len[0]);
        if (np > 1) fz_write(1, "v.tiktoken.json", part[1], len[1]);
        else fz_write(1, "v.tiktoken.json", "{}", 2);
        rc = qvocab_load_tiktoken(&v, p, err, sizeof err);
        break;
    }
    case 2:
        rc = qvocab_load_hf(&v, fz_write(0, "tokenizer.json", part[0], len[0]), err, sizeof err);
        break;
    case 3: {
        const char *p = fz_write(0, "encoder.json", part[0], len[0]);
        fz_write(1, "vocab.bpe", np > 1 ? part[1] : (const uint8_t *)"", np > 1 ? len[1] : 0);
        rc = qvocab_load_gpt2(&v, p, err, sizeof err);
        break;
    }
    case 4:
        rc = qvocab_load_npm_json(&v, fz_write(0, "enc.json", part[0], len[0]), err, sizeof err);
        break;
    case 5:
        rc = qvocab_load(&v, fz_write(0, "some.vocab", part[0], len[0]), err, sizeof err);
        break;
    }
    if (rc == 0) {
        check_consistent(&v);
        strbuf tt = STRBUF_INIT;
        qvocab_format_tiktoken(&v, &tt);
        qvocab back;
        qvocab_init(&back);
        if (qvocab_parse_tiktoken(&back, tt.buf ? tt.buf : "", tt.len, err, sizeof err)) abort();
        same_mergeable(&v, &back);
        qvocab_free(&back);
        sb_free(&tt);
        round_trip(&v, np > 2 ? part[2] : data, np > 2 ? len[2] : size);
    } else if (!err[0]) {
        abort();   /* a refusal must say why */
    }
    qvocab_free(&v);
    return 0;
}
