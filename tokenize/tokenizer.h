/* tokenizer.h - the tokenizer as other stages use it (the trainer's sampler
 * decodes through this; DESIGN.md section 1). Small on purpose: load, encode,
 * decode, the end-of-text id and the vocabulary size.
 *
 * A qtok is immutable once loaded and may be shared by threads. Encoding
 * follows tiktoken exactly (see bpe.h); invalid UTF-8 input is replaced by
 * U+FFFD first. */
#ifndef QUERN_TOKENIZE_TOKENIZER_H
#define QUERN_TOKENIZE_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "../common/strbuf.h"

typedef struct qtok qtok;

/* spec: a built-in name (gpt2, cl100k_base, o200k_base, ... resolved in
 * $QUERN_DATA/tokenizers, see vocab.h), a vocabulary file (.tiktoken with its
 * .json sidecar, tokenizer.json, encoder.json) or a directory holding one
 * (e.g. the output directory of `quern bpe train`). NULL + err on failure. */
qtok *qtok_load(const char *spec, char *err, size_t errlen);
void qtok_free(qtok *t);

const char *qtok_name(const qtok *t);
uint32_t qtok_vocab_size(const qtok *t);   /* highest id + 1 */
/* The end-of-text id, or UINT32_MAX if the vocabulary has none. */
uint32_t qtok_eot(const qtok *t);

/* Encode text as ordinary text (special-token text is not special). Returns
 * the number of ids; *ids is malloc'd (caller frees; NULL when 0). */
size_t qtok_encode(const qtok *t, const char *text, size_t len, uint32_t **ids);

/* The bytes of one token (may be part of a UTF-8 character); NULL if the id
 * is unknown. */
const char *qtok_token(const qtok *t, uint32_t id, size_t *len);
/* Append the bytes of ids to out; returns how many ids were unknown (skipped). */
size_t qtok_decode(const qtok *t, const uint32_t *ids, size_t n, strbuf *out);

#endif
