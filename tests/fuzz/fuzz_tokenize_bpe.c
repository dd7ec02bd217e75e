/* libFuzzer target for tokenize's BPE encoder and decoder. A vocabulary of
 * 1,200 tokens is trained at start-up (quern's own trainer, GPT-2 pattern)
 * on a small multilingual text embedded here, so the target needs no files.
 * Properties, on arbitrary bytes:
 *  - round trip: decode(encode(x)) == x after UTF-8 repair, with and without
 *    special tokens allowed; every id is a defined token;
 *  - encoding equals a naive reference: split into pieces with the same
 *    pattern, each piece merged by the textbook loop (lowest rank of the
 *    concatenated pair first, leftmost on ties; a piece that is itself a token
 *    is emitted whole), which checks the fast scan and the heap paths
 *    (pieces up to 2000 bytes: the reference is quadratic);
 *  - a long piece (the input repeated past QBPE_SCAN_MAX) encodes like the
 *    reference too (the heap path).
 * Input: [0] flags (bit0 allow specials, bit1 long piece), then the text.
 * FUZZ_MODULES: tokenize common (tests/fuzz/run.sh builds and runs it) */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/utf8.h"
#include "tokenize/bpe.h"
#include "tokenize/bpe_train.h"
#include "tokenize/pretok.h"
#include "tokenize/vocab.h"

static const char TRAIN_TEXT[] =
    "The quick brown fox jumps over the lazy dog. It's the 2024 edition; they'll read it, we've seen it.\n"
    "In the beginning there was the word, and the word was with the people who tokenize things.\n"
    "Der schnelle braune Fuchs springt über den faulen Hund. Ärger, Öl, Übermut, Straße.\n"
    "Le renard brun rapide saute par-dessus le chien paresseux. Où est la bibliothèque? Très bien.\n"
    "速い茶色のキツネは怠け者の犬を飛び越える。日本語のテキストです。東京、大阪。\n"
    "Быстрая коричневая лиса прыгает через ленивую собаку. Привет, мир!\n"
    "    def tokenize(self, text):\n        return [t for t in text.split() if t]\n"
    "1234567890 3.14159 2,718 100% $5.00 #hashtag @user https://example.com/path?q=1&r=2\n"
    "aaaaaaaaaaaaaaaa bbbbbbbb          \t\t\t\n\n\n!!!??? ... --- *** ===\n"
    "emoji 😀😃😄 🎉 ✨ and symbols ∑∫√ ≤≥ ±×÷ ©®™\n";

static qbpe *bpe;
static qpretok *pre;
static qpretok_scratch *pscratch;
static qbpe_scratch *bscratch;

static void setup(void)
{
    char err[256];
    pre = qpretok_new("gpt2", err, sizeof err);
    if (!pre) abort();
    pscratch = qpretok_scratch_new();
    bscratch = qbpe_scratch_new();
    qbpe_counter *c = qbpe_counter_new(0);
    for (int rep = 0; rep < 3; rep++)
        if (qbpe_counter_add_text(c, pre, pscratch, TRAIN_TEXT, sizeof TRAIN_TEXT - 1)) abort();
    static const char *const specials[] = { "<|endoftext|>", "<|fim|>" };
    qbpe_train_opts o;
    memset(&o, 0, sizeof o);
    o.vocab_size = 1200;
    o.specials = specials;
    o.n_specials = 2;
    o.min_count = 1;
    o.pattern = QPRETOK_GPT2;
    o.name = "fuzz";
    qvocab v;
    qvocab_init(&v);
    if (qbpe_train(c, &o, &v, NULL, NULL, err, sizeof err)) abort();
    qbpe_counter_free(c);
    qvocab_default_eot(&v);
    bpe = qbpe_new(&v, err, sizeof err);
    if (!bpe) abort();
    qvocab_free(&v);
}

/* The textbook merge loop over one piece; appends ids. Pair ranks are kept
 * in an array and only the merged pair's neighbours are looked up again, so
 * a piece of n bytes costs O(n^2) comparisons but O(n) lookups. */
static uint32_t pair_rank(const char *p, const size_t *start, size_t parts, size_t i)
{
    if (i + 1 >= parts) return QVOCAB_NONE;
    return qbpe_rank(bpe, p + start[i], start[i + 2] - start[i]);
}

static void reference_piece(const char *p, size_t n, qbpe_ids *out)
{
    uint32_t whole = qbpe_rank(bpe, p, n);
    if (whole != QVOCAB_NONE) { qbpe_ids_push(out, whole); return; }
    size_t *start = malloc((n + 1) * sizeof *start);
    uint32_t *rank = malloc((n + 1) * sizeof *rank);
    size_t parts = n;
    for (size_t i = 0; i <= n; i++) start[i] = i;   /* part i = [start[i], start[i+1]) */
    for (size_t i = 0; i < parts; i++) rank[i] = pair_rank(p, start, parts, i);
    for (;;) {
        uint32_t best = QVOCAB_NONE;
        size_t at = 0;
        for (size_t i = 0; i + 1 < parts; i++)
            if (rank[i] < best) { best = rank[i]; at = i; }
        if (best == QVOCAB_NONE) break;
        memmove(start + at + 1, start + at + 2, (parts - at - 1) * sizeof *start);
        memmove(rank + at + 1, rank + at + 2, (parts - at - 2) * sizeof *rank);
        parts--;
        rank[at] = pair_rank(p, start, parts, at);
        if (at) rank[at - 1] = pair_rank(p, start, parts, at - 1);
    }
    for (size_t i = 0; i < parts; i++) {
        uint32_t r = qbpe_rank(bpe, p + start[i], start[i + 1] - start[i]);
        if (r == QVOCAB_NONE) abort();   /* single bytes are always tokens */
        qbpe_ids_push(out, r);
    }
    free(start);
    free(rank);
}

static void same_ids(const qbpe_ids *a, const qbpe_ids *b)
{
    if (a->n != b->n) abort();
    for (size_t i = 0; i < a->n; i++)
        if (a->v[i] != b->v[i]) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!bpe) setup();
    if (size < 1) return 0;
    int allow = data[0] & 1;
    const char *text = (const char *)data + 1;
    size_t n = size - 1;
    const qvocab *v = qbpe_vocab(bpe);

    qbpe_ids ids = { 0 };
    size_t repairs = 0;
    if (qbpe_encode(bpe, bscratch, text, n, allow, &ids, &repairs) == 0) {
        for (size_t i = 0; i < ids.n; i++)
            if (!qvocab_has(v, ids.v[i])) abort();
        strbuf dec = STRBUF_INIT, want = STRBUF_INIT;
        if (qbpe_decode(bpe, ids.v, ids.n, &dec)) abort();
        size_t bad = utf8_repair(&want, text, n);
        if (bad != repairs) abort();
        if (dec.len != want.len || (dec.len && memcmp(dec.buf, want.buf, dec.len))) abort();

        if (!allow) {   /* the reference: same pieces, textbook merges */
            qbpe_ids ref = { 0 };
            const char *w = want.buf ? want.buf : "";
            size_t pos = 0, s, e;
            int rc;
            qpretok_prepare(pre, pscratch, w, want.len);
            int checked = 1;
            while ((rc = qpretok_next(pre, pscratch, w, want.len, pos, &s, &e)) == 1) {
                if (e - s > 2000) { checked = 0; break; }   /* the reference is quadratic */
                reference_piece(w + s, e - s, &ref);
                pos = e;
            }
            if (rc == 0 && checked) same_ids(&ids, &ref);
            qbpe_ids_free(&ref);
        }
        sb_free(&dec);
        sb_free(&want);
    }
    qbpe_ids_free(&ids);

    if ((data[0] & 2) && n) {   /* one long piece: the heap path */
        size_t target = QBPE_SCAN_MAX * 2 + data[0];
        strbuf longp = STRBUF_INIT;
        while (longp.len < target) sb_add(&longp, text, n);
        qbpe_ids a = { 0 }, b = { 0 };
        qbpe_encode_piece(bpe, bscratch, longp.buf, longp.len, &a);
        reference_piece(longp.buf, longp.len, &b);
        same_ids(&a, &b);
        strbuf dec = STRBUF_INIT;
        qbpe_decode(bpe, a.v, a.n, &dec);
        if (dec.len != longp.len || memcmp(dec.buf, longp.buf, dec.len)) abort();
        qbpe_ids_free(&a);
        qbpe_ids_free(&b);
        sb_free(&dec);
        sb_free(&longp);
    }
    return 0;
}
