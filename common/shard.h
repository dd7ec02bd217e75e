/* shard.h - token shards in llm.c's format, with a document index.
 *
 * File layout (DESIGN.md section 2): a header of 256 little-endian int32:
 *   [0] = 20240520 (magic), [1] = version (1: uint16 tokens, 2: uint32 tokens),
 *   [2] = number of tokens (low 32 bits; files stay < 2^31 tokens),
 * then the tokens. Every document is preceded by the end-of-text token; the
 * writer does NOT add it: callers pass documents that already start with EOT.
 * Beside "x.bin" sits "x.idx": little-endian uint64 end offsets (in tokens)
 * of every document, one per document, so readers can take whole documents.
 * The checksum of a shard is XXH3-64 of the whole .bin file, as 16 lowercase
 * hex digits, recorded in manifest.json.
 *
 * Both files are written atomically (outfile.h); a reader never sees a
 * half-written shard. Readers mmap and validate (magic, version, size). */
#ifndef QUERN_SHARD_H
#define QUERN_SHARD_H

#include <stddef.h>
#include <stdint.h>

#define QSHARD_MAGIC 20240520
#define QSHARD_HEADER_INTS 256
#define QSHARD_HEADER_BYTES (QSHARD_HEADER_INTS * 4)

typedef struct qshard_writer qshard_writer;

/* version 1 (uint16) requires every token < 65536. */
qshard_writer *qshard_writer_open(const char *bin_path, int version, char *err, size_t errlen);
int qshard_writer_add_doc(qshard_writer *w, const uint32_t *tokens, size_t n);
uint64_t qshard_writer_tokens(const qshard_writer *w);
uint64_t qshard_writer_docs(const qshard_writer *w);
/* Writes header, .bin and .idx atomically; checksum_hex gets 17 bytes. Frees w. */
int qshard_writer_close(qshard_writer *w, char checksum_hex[17], char *err, size_t errlen);
void qshard_writer_abort(qshard_writer *w);

/* Additions (mix helper; the functions above keep their contract):
 * add_native copies tokens stored at src_version's width (1: uint16, 2:
 * uint32), e.g. straight out of another shard's mapping, without a uint32
 * detour; it widens or (checking < 65536) narrows as needed. */
int qshard_writer_add_native(qshard_writer *w, const void *tokens, size_t n, int src_version);
/* Declares the final token count before the first add: the checksum is then
 * computed while writing instead of by reading the file back at close. A
 * different final count is still correct, only slower. */
void qshard_writer_expect(qshard_writer *w, uint64_t n_tokens);
/* Why the last add failed ("" if none). */
const char *qshard_writer_error(const qshard_writer *w);

typedef struct qshard {
    int version;              /* 1 or 2 */
    uint64_t n_tokens;
    const void *tokens;       /* uint16_t* (v1) or uint32_t* (v2), into the mapping */
    uint64_t n_docs;          /* 0 if no .idx */
    const uint64_t *doc_ends; /* into the .idx mapping; NULL if none */
    /* private */
    void *map_bin; size_t map_bin_len;
    void *map_idx; size_t map_idx_len;
} qshard;

/* Opens and validates; the .idx is optional unless need_idx. */
int qshard_open(qshard *s, const char *bin_path, int need_idx, char *err, size_t errlen);
static inline uint32_t qshard_token(const qshard *s, uint64_t i)
{
    return s->version == 1 ? ((const uint16_t *)s->tokens)[i] : ((const uint32_t *)s->tokens)[i];
}
/* Token range [start, end) of document i (requires the .idx). */
static inline void qshard_doc_range(const qshard *s, uint64_t i, uint64_t *start, uint64_t *end)
{
    *start = i ? s->doc_ends[i - 1] : 0;
    *end = s->doc_ends[i];
}
/* Bytes per token: 2 (v1) or 4 (v2). */
static inline size_t qshard_width(const qshard *s) { return s->version == 1 ? 2 : 4; }
void qshard_close(qshard *s);
/* XXH3-64 of a whole file as hex; 0 or -1. */
int qshard_file_checksum(const char *path, char hex[17], char *err, size_t errlen);

#endif
