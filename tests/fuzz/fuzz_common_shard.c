/* libFuzzer target for common/shard (token shards and their .idx):
 *  - reader: arbitrary .bin and .idx bytes (the header's magic, version and
 *    count patched in from the input when flag bit0 is set, so the fuzzer
 *    reaches past the header checks); when qshard_open accepts, every token
 *    and every document range is read (ASan catches any reach past the
 *    mapping) and ranges are ordered and inside the shard;
 *  - writer round trip (flag bit1): documents cut from the input written with
 *    qshard_writer (version 1 or 2) read back identical, with the documented
 *    checksum.
 * Input: [0] flags, [1] version byte, then the .bin bytes, a line "=====",
 * then the .idx bytes.
 * FUZZ_MODULES: common (tests/fuzz/run.sh builds and runs it) */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/shard.h"
#include "fuzz_util.h"

static void read_back(const char *bin, int need_idx)
{
    qshard s;
    char err[1024];
    if (qshard_open(&s, bin, need_idx, err, sizeof err)) {
        if (!err[0]) abort();
        return;
    }
    if (s.version != 1 && s.version != 2) abort();
    uint64_t sum = 0;
    for (uint64_t i = 0; i < s.n_tokens; i++) sum += qshard_token(&s, i);
    uint64_t prev = 0;
    for (uint64_t d = 0; d < s.n_docs; d++) {
        uint64_t a, b;
        qshard_doc_range(&s, d, &a, &b);
        if (a != prev || b < a || b > s.n_tokens) abort();
        if (b > a) sum += qshard_token(&s, b - 1);
        prev = b;
    }
    if (s.n_docs && prev != s.n_tokens) abort();
    if (sum == 0x123456789abcdefull) abort();   /* keep the reads */
    qshard_close(&s);
}

static void writer_round_trip(const uint8_t *d, size_t n, int version)
{
    char path[600], err[1024], hex[17];
    snprintf(path, sizeof path, "%s/w.bin", fz_dir());
    qshard_writer *w = qshard_writer_open(path, version, err, sizeof err);
    if (!w) abort();
    /* tokens: 2 input bytes each (v1) or 3 (v2); a byte 0xFF ends a document */
    uint32_t toks[4096];
    size_t nt = 0, total = 0, docs = 0;
    size_t step = version == 1 ? 2 : 3;
    for (size_t i = 0; i + step <= n; i += step) {
        uint32_t t = version == 1 ? (uint32_t)(d[i] | d[i + 1] << 8)
                                  : (uint32_t)(d[i] | d[i + 1] << 8 | d[i + 2] << 16);
        if (nt < 4096) toks[nt++] = t;
        if (d[i] == 0xFF || nt == 4096) {
            if (qshard_writer_add_doc(w, toks, nt)) abort();
            total += nt; docs++; nt = 0;
        }
    }
    if (nt) { if (qshard_writer_add_doc(w, toks, nt)) abort(); total += nt; docs++; }
    if (qshard_writer_tokens(w) != total || qshard_writer_docs(w) != docs) abort();
    if (qshard_writer_close(w, hex, err, sizeof err)) abort();
    char again[17];
    if (qshard_file_checksum(path, again, err, sizeof err) || strcmp(hex, again)) abort();
    qshard s;
    if (qshard_open(&s, path, 1, err, sizeof err)) abort();
    if (s.n_tokens != total || s.n_docs != docs || s.version != version) abort();
    size_t k = 0;
    for (size_t i = 0; i + step <= n && k < total; i += step, k++) {
        uint32_t t = version == 1 ? (uint32_t)(d[i] | d[i + 1] << 8)
                                  : (uint32_t)(d[i] | d[i + 1] << 8 | d[i + 2] << 16);
        if (qshard_token(&s, k) != t) abort();
    }
    qshard_close(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    int flags = data[0];
    const uint8_t *part[2];
    size_t len[2];
    size_t np = fz_split(data + 2, size - 2, "\n=====\n", part, len, 2);
    if (flags & 2) {
        writer_round_trip(part[0], len[0], (flags & 4) ? 2 : 1);
        return 0;
    }
    uint8_t *bin = malloc(len[0] + QSHARD_HEADER_BYTES);
    size_t bn = len[0];
    memcpy(bin, part[0], len[0]);
    if (flags & 1) {   /* a plausible header in front of the body */
        int version = (data[1] & 1) ? 2 : 1;
        memmove(bin + QSHARD_HEADER_BYTES, part[0], len[0]);
        memset(bin, 0, QSHARD_HEADER_BYTES);
        int32_t h[3] = { QSHARD_MAGIC, version, (int32_t)(len[0] / (size_t)(version == 1 ? 2 : 4)) };
        if (data[1] & 2) h[2] += (int8_t)data[1] >> 2;   /* sometimes wrong */
        memcpy(bin, h, sizeof h);
        bn = len[0] + QSHARD_HEADER_BYTES;
    }
    const char *binp = fz_write(0, "s.bin", bin, bn);
    char idxp[600];
    snprintf(idxp, sizeof idxp, "%s/s.idx", fz_dir());
    if (np > 1) fz_write(1, "s.idx", part[1], len[1]);
    else unlink(idxp);
    read_back(binp, (flags >> 3) & 1);
    free(bin);
    return 0;
}
