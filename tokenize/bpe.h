/* bpe.h - byte-level BPE encoding and decoding with tiktoken's semantics.
 *
 *  - token id = rank; the lower rank merges first; ties go to the leftmost
 *    pair; a pair is looked up by its concatenated bytes (not by the ids);
 *  - a piece that is itself a token is emitted directly (whole-piece path);
 *  - pieces up to QBPE_SCAN_MAX bytes use the simple scan over pair ranks,
 *    longer ones a min-heap with lazy invalidation over a linked list, so a
 *    10 MB piece of one repeated character costs O(n log n), not O(n^2);
 *  - special tokens are recognised only when allowed; otherwise their text
 *    is encoded as ordinary text;
 *  - invalid UTF-8 is replaced by U+FFFD before splitting (counted).
 *
 * A qbpe is immutable after qbpe_new and may be shared by threads; each
 * thread encodes with its own qbpe_scratch. */
#ifndef QUERN_TOKENIZE_BPE_H
#define QUERN_TOKENIZE_BPE_H

#include <stddef.h>
#include <stdint.h>

#include "../common/strbuf.h"
#include "vocab.h"

#define QBPE_SCAN_MAX 128

typedef struct qbpe qbpe;

typedef struct qbpe_ids {
    uint32_t *v;
    size_t n, cap;
} qbpe_ids;

void qbpe_ids_push(qbpe_ids *ids, uint32_t id);
void qbpe_ids_free(qbpe_ids *ids);

/* Build the encoder; takes over the contents of *v (left empty). Compiles the
 * pattern. Errors: duplicate token bytes, a missing single byte, a bad
 * pattern. NULL with err filled. */
qbpe *qbpe_new(qvocab *v, char *err, size_t errlen);
void qbpe_free(qbpe *b);
const qvocab *qbpe_vocab(const qbpe *b);

/* Rank (id) of a mergeable byte string, or QVOCAB_NONE. */
uint32_t qbpe_rank(const qbpe *b, const void *bytes, size_t len);

typedef struct qbpe_scratch qbpe_scratch;
qbpe_scratch *qbpe_scratch_new(void);
void qbpe_scratch_free(qbpe_scratch *s);

/* Encode one pre-tokenised piece (any bytes), appending ids. */
void qbpe_encode_piece(const qbpe *b, qbpe_scratch *s, const char *piece, size_t len,
                       qbpe_ids *out);
/* As above, merging only through ranks < max_rank (used to derive merges
 * from ranks: a token's own bytes end as exactly two parts). */
void qbpe_encode_piece_max(const qbpe *b, qbpe_scratch *s, const char *piece, size_t len,
                           uint32_t max_rank, qbpe_ids *out);

/* Encode text (any bytes). allow_special: recognise special tokens.
 * *repairs (if not NULL) += invalid UTF-8 sequences replaced. Returns 0,
 * or -1 if the pattern engine gave up on this text (resource limit). */
int qbpe_encode(const qbpe *b, qbpe_scratch *s, const char *text, size_t len, int allow_special,
                qbpe_ids *out, size_t *repairs);

/* Append the bytes of ids; returns the number of unknown ids (skipped). */
size_t qbpe_decode(const qbpe *b, const uint32_t *ids, size_t n, strbuf *out);

/* The merge that makes mergeable token id from two lower-ranked tokens:
 * 1 with *left and *right set, 0 for single bytes or tokens no merge makes. */
int qbpe_merge_of(const qbpe *b, qbpe_scratch *s, uint32_t id, uint32_t *left, uint32_t *right);

/* ---- byte-string -> id hash map (also used by the trainer) ----
 * The map stores ids only; the bytes of id i are base[off[i] .. off[i]+len[i]),
 * passed at each call (the caller's arrays may move as they grow). */
typedef struct qbmap {
    uint64_t *slots;    /* (hash tag << 32) | (id + 1); 0 = empty */
    size_t mask;
    size_t n;
} qbmap;
void qbmap_init(qbmap *m, size_t expected);
void qbmap_free(qbmap *m);
uint64_t qbmap_hash(const void *bytes, size_t len);
uint32_t qbmap_get(const qbmap *m, const void *bytes, size_t len, const char *base,
                   const uint64_t *off, const uint32_t *lens);
/* Insert; returns the id already holding these bytes, or id if new. */
uint32_t qbmap_put(qbmap *m, const void *bytes, size_t len, uint32_t id, const char *base,
                   const uint64_t *off, const uint32_t *lens);

#endif
