/* tokenizer.c - the public tokenizer API (tokenizer.h) over vocab + bpe. */
#include "tokenizer.h"

#include <stdlib.h>

#include "bpe.h"
#include "vocab.h"

struct qtok {
    qbpe *bpe;
};

qtok *qtok_load(const char *spec, char *err, size_t errlen)
{
    qvocab v;
    qvocab_init(&v);
    if (qvocab_load(&v, spec, err, errlen) < 0) {
        qvocab_free(&v);
        return NULL;
    }
    qbpe *b = qbpe_new(&v, err, errlen);
    qvocab_free(&v);
    if (!b) return NULL;
    qtok *t = calloc(1, sizeof *t);
    if (!t) abort();
    t->bpe = b;
    return t;
}

void qtok_free(qtok *t)
{
    if (!t) return;
    qbpe_free(t->bpe);
    free(t);
}

const char *qtok_name(const qtok *t)
{
    const char *n = qbpe_vocab(t->bpe)->name;
    return n ? n : "bpe";
}

uint32_t qtok_vocab_size(const qtok *t) { return qbpe_vocab(t->bpe)->n_ids; }

uint32_t qtok_eot(const qtok *t) { return qbpe_vocab(t->bpe)->eot; }

size_t qtok_encode(const qtok *t, const char *text, size_t len, uint32_t **ids)
{
    qbpe_scratch *s = qbpe_scratch_new();
    qbpe_ids out = { 0 };
    qbpe_encode(t->bpe, s, text, len, 0, &out, NULL);
    qbpe_scratch_free(s);
    *ids = out.v;
    return out.n;
}

const char *qtok_token(const qtok *t, uint32_t id, size_t *len)
{
    return qvocab_bytes(qbpe_vocab(t->bpe), id, len);
}

size_t qtok_decode(const qtok *t, const uint32_t *ids, size_t n, strbuf *out)
{
    return qbpe_decode(t->bpe, ids, n, out);
}
