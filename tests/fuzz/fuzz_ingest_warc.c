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
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static convert_ctx *cv;
    if (!cv) cv = convert_new();
    if (size < 1) return 0;
    qsrc s = fz_src(data + 1, size - 1, (size_t)data[0] + 1, "fuzz");
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
