/* export.h - where mixed documents are written: one output shard per sink.
 *
 *  llmc       stem.bin + stem.idx: llm.c's shard format (common/shard.h), the default.
 *  megatron   stem.bin + stem.idx: Megatron-LM's indexed dataset ("MMIDIDX"
 *             index, version 1: dtype code 8 = uint16 or 4 = int32, sequence
 *             lengths int32, byte pointers int64, document indices int64);
 *             one sequence per document; a prefix per shard for --data-path.
 *  datatrove  stem.ds + stem.ds.index (+ stem.ds.metadata): datatrove's
 *             tokenized files: raw uint16 (uint32 past 65,536 tokens) tokens,
 *             the index holding uint64 document ends in tokens.
 *
 * Tokens are the same in every format: each document starts with the
 * end-of-text token (llm.c's convention; Megatron and datatrove usually put
 * it at the end, so a reader sees one boundary token per document either way).
 * Every file is written under a temporary name and renamed when complete. */
#ifndef QUERN_MIX_EXPORT_H
#define QUERN_MIX_EXPORT_H

#include <stddef.h>
#include <stdint.h>

enum { MIX_FMT_LLMC = 0, MIX_FMT_MEGATRON = 1, MIX_FMT_DATATROVE = 2 };

int mix_format_parse(const char *s);           /* -1 if unknown */
const char *mix_format_name(int fmt);
/* The file the manifest names for a shard stem ("train_000000" -> "train_000000.bin"). */
const char *mix_format_data_ext(int fmt);

typedef struct mix_sink mix_sink;

/* version: 1 (16-bit tokens) or 2 (32-bit). expected_tokens lets the llmc
 * writer checksum as it goes. tok_name goes in datatrove's metadata. */
mix_sink *mix_sink_open(int fmt, const char *dir, const char *stem, int version, uint64_t expected_tokens,
                        const char *tok_name, char *err, size_t errlen);
/* One document of n tokens stored at src_version's width. */
int mix_sink_add(mix_sink *s, const void *tokens, size_t n, int src_version);
const char *mix_sink_error(const mix_sink *s);   /* why the last add failed */
/* Commits; hex gets XXH3-64 of the data file (.bin / .ds). Frees s. */
int mix_sink_close(mix_sink *s, char hex[17], char *err, size_t errlen);
void mix_sink_abort(mix_sink *s);

#endif
