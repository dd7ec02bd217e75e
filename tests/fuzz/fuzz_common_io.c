/* libFuzzer target for common/io: arbitrary bytes (plain, gzip or zstd by
 * magic) through a memory source that returns short reads, read with
 * qin_getline_max; must never crash or over-read, and offsets stay consistent.
 * The first input byte sets the read size.
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -I. \
 *     tests/fuzz/fuzz_common_io.c common/{io,utf8,strbuf,cli,fetch,outfile}.c \
 *     -lzstd -lz -lcurl -o fuzz_common_io && ./fuzz_common_io -max_len=2048 corpus/
 * FUZZ_MODULES: common (tests/fuzz/run.sh builds and runs it) */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "common/io.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    qsrc src = fz_src(data + 1, size - 1, 1 + data[0] * 37, "mem");
    char err[QERR_LEN];
    qin *in = qin_from_src(&src, err, sizeof err);
    if (!in) abort();
    strbuf line = STRBUF_INIT;
    int rc, n = 0;
    uint64_t total = 0;
    while ((rc = qin_getline_max(in, &line, 1000, err, sizeof err)) > 0 && n < 100000) { n++; total += line.len; }
    if (qin_offset(in) < total) abort();
    if (qin_format(in) == QFMT_PLAIN && rc == 0 && qin_offset(in) != size - 1) abort();
    qin_close(in);
    sb_free(&line);
    return 0;
}
