/* phasefile.h - files between the phased steps (dedup-private).
 *
 * Layout, little-endian:
 *   header, 64 bytes: magic "QDEDUP1\n", kind, band, shard, nshards,
 *                     rec_size (0: variable), version, params_hash, 3 x reserved
 *   records           fixed rec_size bytes each (or a kind-defined layout)
 *   trailer, 24 bytes: record count, XXH3-64 of header + records + count,
 *                     magic "QDEND01\n"
 * A reader checks magic, kind, band, shard count and parameters on open, the
 * record count and checksum at the end, and the caller checks the sort order
 * as records stream by; a step commits its own outputs only after every input
 * passed, so a corrupt or truncated file is refused, never half-used. */
#ifndef QUERN_DEDUP_PHASEFILE_H
#define QUERN_DEDUP_PHASEFILE_H

#include <stddef.h>
#include <stdint.h>
#include <xxhash.h>

#include "../common/strbuf.h"

enum {
    DD_PF_BAND = 1,      /* {key u64, ref u64} sorted by (key, ref) */
    DD_PF_EXACT = 2,     /* {hi u64, lo u64, ref u64} sorted by (hi, lo, ref) */
    DD_PF_DOCS = 3,      /* {ref u64, text bytes u64} in input order */
    DD_PF_SHINGLES = 4,  /* variable: {ref u64, n u64, n x hash u64 (sorted)} in input order */
    DD_PF_PAIRS = 5,     /* {rep u64, doc u64} sorted by (doc, rep), rep < doc */
    DD_PF_REMOVE = 6,    /* {ref u64} sorted */
};

/* band numbers of the exact keys (band files sit beside the LSH bands) */
#define DD_BAND_EXACT_TEXT 0xFFFF0001u
#define DD_BAND_EXACT_URL 0xFFFF0002u

typedef struct dd_pf_hdr {
    char magic[8];
    uint32_t kind, band, shard, nshards, rec_size, version;
    uint64_t params_hash;
    uint64_t reserved[3];
} dd_pf_hdr;
_Static_assert(sizeof(dd_pf_hdr) == 64, "phase file header is 64 bytes");

typedef struct dd_pfw dd_pfw;
dd_pfw *dd_pfw_open(const char *path, const dd_pf_hdr *h, char *err, size_t errlen);
int dd_pfw_write(dd_pfw *w, const void *data, size_t n, uint64_t records);
int dd_pfw_commit(dd_pfw *w, char *err, size_t errlen);
void dd_pfw_abort(dd_pfw *w);

typedef struct dd_pfr dd_pfr;
/* want: kind, band, rec_size must match; nshards and params_hash when non-zero. */
dd_pfr *dd_pfr_open(const char *path, const dd_pf_hdr *want, char *err, size_t errlen);
const dd_pf_hdr *dd_pfr_header(const dd_pfr *r);
uint64_t dd_pfr_body_bytes(const dd_pfr *r);
uint64_t dd_pfr_offset(const dd_pfr *r);
const char *dd_pfr_path(const dd_pfr *r);
/* Exactly n bytes: 1 read, 0 at the end of the records, -1 error. */
int dd_pfr_read(dd_pfr *r, void *buf, size_t n, char *err, size_t errlen);
/* At the end: trailer, record count and checksum. 0 or -1. */
int dd_pfr_finish(dd_pfr *r, uint64_t records, char *err, size_t errlen);
void dd_pfr_close(dd_pfr *r);

/* DIR/<group>/shard-IIIII-of-NNNNN.qdd */
void dd_pf_path(strbuf *out, const char *dir, const char *group, uint32_t shard, uint32_t nshards);
void dd_pf_band_group(strbuf *out, uint32_t band);   /* "sig/band-003", "sig/exact-text" */
void dd_pf_pairs_path(strbuf *out, const char *dir, uint32_t band);

#endif
