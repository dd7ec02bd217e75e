/* libFuzzer target for ingest: arbitrary bytes (plain, gzip or zstd by magic)
 * through the WARC reader with short reads, every record's block read and
 * converted to a document (HTTP parsing, charset decoding, HTML extraction).
 * Must never crash, hang or over-read; every document must be valid UTF-8.
 * The first input byte sets the read size.
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -I. \
 *     tests/fuzz/fuzz_ingest_warc.c ingest/{warc,unpack,http,charset,html,boilerplate,convert}.c \
 *     common/{utf8,strbuf,json}.c -lgumbo -luchardet -ldeflate -lzstd -lz -o fuzz_ingest_warc \
 *     && ./fuzz_ingest_warc -max_len=4096 corpus/
 * FUZZ_MODULES: ingest common (tests/fuzz/run.sh builds and runs it) */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/utf8.h"
#include "ingest/convert.h"
#include "ingest/warc.h"

typedef struct { const uint8_t *d; size_t n, pos, step; } mem;
static ssize_t mread(void *ctx, void *buf, size_t n, char *err, size_t errlen)
{
    (void)err; (void)errlen;
    mem *m = ctx;
    size_t k = m->n - m->pos;
    if (k > n) k = n;
    if (k > m->step) k = m->step;
    memcpy(buf, m->d + m->pos, k);
    m->pos += k;
    return (ssize_t)k;
}
static void mclose(void *ctx) { free(ctx); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static convert_ctx *cv;
    if (!cv) cv = convert_new();
    if (size < 1) return 0;
    mem *m = calloc(1, sizeof *m);
    m->d = data + 1;
    m->n = size - 1;
    m->step = (size_t)data[0] + 1;
    qsrc s = { mread, mclose, m, strdup("fuzz"), -1 };
    warc_reader *w = warc_open(&s, 4096);
    warc_record r;
    warc_record_init(&r);
    strbuf block = STRBUF_INIT, out = STRBUF_INIT;
    convert_opts o = { NULL, 0, 1, 1 << 16, (data[0] & 1) };
    int rc, guard = 0;
    while ((rc = warc_next(w, &r)) != 0 && guard++ < 10000) {
        if (rc < 0) continue;
        int trunc;
        if (warc_read_block(w, &block, 1 << 16, &trunc) < 0) continue;
        size_t tb, hb;
        sb_reset(&out);
        if (convert_record(cv, &o, &r, block.buf ? block.buf : "", block.len, "f", &out, &tb, &hb) == SKIP_NONE &&
            !utf8_is_valid(out.buf, out.len))
            abort();
    }
    if (guard >= 10000) abort();   /* a loop that does not advance */
    warc_record_free(&r);
    sb_free(&block);
    sb_free(&out);
    warc_close(w);
    return 0;
}
