/* vocab.h - a byte-level BPE vocabulary and its file formats.
 *
 * Model: token id = rank; each id maps to a byte string (the mergeable
 * tokens) or to a special token (e.g. "<|endoftext|>"), matched only when
 * allowed. Ids may have gaps (cl100k_base has no 100256).
 *
 * Formats read (qvocab_load picks by content, not by name):
 *   - .tiktoken: "base64(bytes) rank" per line, plus a JSON sidecar
 *     "<file>.json": {"name","pattern","special_tokens":{text:id},"eot"}.
 *     Without a sidecar, a file named like a built-in (cl100k_base.tiktoken)
 *     takes the built-in pattern and special tokens.
 *   - npm tiktoken "encoders/<name>.json" ({pat_str, special_tokens,
 *     bpe_ranks: "<label> <first rank> b64 b64 ..." lines}).
 *   - GPT-2 encoder.json (+ vocab.bpe beside it, which must agree) and
 *     Hugging Face tokenizer.json (BPE model, ByteLevel alphabet): ids are
 *     taken as ranks, which is what makes them encode like tiktoken.
 * Formats written: .tiktoken + sidecar, tokenizer.json, encoder.json +
 * vocab.bpe (merges derived from the ranks as tiktoken's own converter does).
 *
 * Built-in names (gpt2, r50k_base, p50k_base, cl100k_base, o200k_base)
 * resolve to "<data>/tokenizers/<name>.tiktoken" where <data> is
 * $QUERN_DATA, else $XDG_DATA_HOME/quern, else ~/.local/share/quern. The files
 * are produced offline by scripts/vocab-from-npm.sh; nothing is downloaded. */
#ifndef QUERN_TOKENIZE_VOCAB_H
#define QUERN_TOKENIZE_VOCAB_H

#include <stddef.h>
#include <stdint.h>

#include "../common/strbuf.h"

#define QVOCAB_NONE UINT32_MAX
/* Ids above this are refused (real vocabularies stay far below; per-id
 * arrays are sized by the largest id). */
#define QVOCAB_MAX_ID ((1u << 24) - 1)

typedef struct qvocab {
    char *name;         /* "cl100k_base", "bpe", ... (owned) */
    char *path;         /* absolute path of the file it was loaded from, or NULL (owned) */
    char *pattern;      /* split regex (owned; a built-in pattern text) */
    uint32_t n_ids;     /* max id + 1: the vocabulary size */
    uint32_t *len;      /* per id: byte length, QVOCAB_NONE for an unused id */
    uint64_t *off;      /* per id: offset into bytes */
    uint8_t *special;   /* per id: 1 for a special token */
    strbuf bytes;       /* every token's bytes, concatenated */
    uint32_t eot;       /* the end-of-text id, QVOCAB_NONE if none */
    uint32_t n_special;
    size_t cap_ids;
} qvocab;

void qvocab_init(qvocab *v);
void qvocab_free(qvocab *v);
void qvocab_set_name(qvocab *v, const char *name);
void qvocab_set_pattern(qvocab *v, const char *pattern);
/* Define id (growing n_ids). Redefining an id, or an id above QVOCAB_MAX_ID,
 * is an error: -1. */
int qvocab_add(qvocab *v, uint32_t id, const void *bytes, size_t len, int special);
static inline int qvocab_has(const qvocab *v, uint32_t id)
{
    return id < v->n_ids && v->len[id] != QVOCAB_NONE;
}
static inline const char *qvocab_bytes(const qvocab *v, uint32_t id, size_t *len)
{
    if (!qvocab_has(v, id)) return NULL;
    *len = v->len[id];
    return v->bytes.buf + v->off[id];
}
/* id of the special token with this text, or QVOCAB_NONE. */
uint32_t qvocab_special_id(const qvocab *v, const char *text);
/* Set eot to <|endoftext|> if present (else the first special), when unset. */
void qvocab_default_eot(qvocab *v);

/* Where built-in vocabularies live (malloc'd). */
char *qvocab_data_dir(void);
/* Load from a built-in name, a file (any format above) or a directory
 * holding one *.tiktoken or tokenizer.json. 0 or -1 with err filled. */
int qvocab_load(qvocab *v, const char *spec, char *err, size_t errlen);

int qvocab_load_tiktoken(qvocab *v, const char *path, char *err, size_t errlen);
int qvocab_parse_tiktoken(qvocab *v, const char *text, size_t len, char *err, size_t errlen);
int qvocab_load_npm_json(qvocab *v, const char *path, char *err, size_t errlen);
int qvocab_load_hf(qvocab *v, const char *path, char *err, size_t errlen);
int qvocab_load_gpt2(qvocab *v, const char *encoder_json, char *err, size_t errlen);

/* .tiktoken text of the mergeable tokens (rank order). */
void qvocab_format_tiktoken(const qvocab *v, strbuf *out);
/* The sidecar JSON. */
void qvocab_format_sidecar(const qvocab *v, strbuf *out);
/* Writes path and path + ".json" atomically. */
int qvocab_save_tiktoken(const qvocab *v, const char *path, char *err, size_t errlen);
int qvocab_save_hf(const qvocab *v, const char *path, char *err, size_t errlen);
int qvocab_save_gpt2(const qvocab *v, const char *encoder_json, const char *vocab_bpe,
                     char *err, size_t errlen);

/* XXH3 of the .tiktoken text + sidecar: identifies a tokenizer (manifest). */
void qvocab_hash(const qvocab *v, char hex[17]);

/* GPT-2's byte <-> unicode alphabet used by encoder.json / tokenizer.json. */
uint32_t qvocab_byte_to_cp(unsigned char b);
int qvocab_cp_to_byte(uint32_t cp);   /* -1 if not in the alphabet */

/* base64 (standard alphabet, padded). decode returns -1 on bad input. */
void qb64_encode(const void *data, size_t len, strbuf *out);
int qb64_decode(const char *s, size_t len, strbuf *out);

#endif
