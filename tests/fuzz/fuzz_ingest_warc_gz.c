/* libFuzzer target for ingest's WARC reader on compressed input, the way
 * crawls ship it: the fuzz input is plain WARC text, cut before every line
 * starting "WARC/" into parts that become one gzip member (or zstd frame)
 * each. Properties:
 *  - undamaged compressed input reads exactly like the plain text: the same
 *    sequence of results, record types, lengths and blocks;
 *  - with one byte of one member flipped, or the stream cut short, the reader
 *    reports damage and goes on, never crashes, hangs or over-reads, and every
 *    record returned before the damaged member is still returned intact.
 * Input: [0] read size, [1] flags (bit0 flip a byte, bit1 truncate, bit2 zstd),
 * [2..3] where (scaled to the compressed size), then the WARC text.
 * FUZZ_MODULES: ingest common (tests/fuzz/run.sh builds and runs it) */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "fuzz_util.h"
#include "ingest/warc.h"

typedef struct {
    int rc;
    char type[24];
    int64_t clen;
    uint64_t block_hash;
    size_t block_len;
    int block_rc;
    uint64_t end;        /* decoded offset after the block */
} rec_sig;

static uint64_t hash_bytes(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
    return h;
}

/* Read everything; up to max signatures kept. Returns the count. */
static size_t read_all(const uint8_t *d, size_t n, size_t step, rec_sig *sig, size_t max)
{
    qsrc s = fz_src(d, n, step, "fuzz");
    warc_reader *w = warc_open(&s, 4096);
    warc_record r;
    warc_record_init(&r);
    strbuf block = STRBUF_INIT;
    size_t k = 0;
    int rc, guard = 0;
    while ((rc = warc_next(w, &r)) != 0) {
        if (++guard > 20000) abort();   /* a loop that does not advance */
        rec_sig x;
        memset(&x, 0, sizeof x);
        x.rc = rc;
        if (rc > 0) {
            snprintf(x.type, sizeof x.type, "%s", warc_type(&r));
            x.clen = r.content_length;
            int trunc;
            x.block_rc = warc_read_block(w, &block, 1 << 16, &trunc);
            if (x.block_rc == 0) {
                x.block_len = block.len;
                x.block_hash = hash_bytes(block.buf ? block.buf : "", block.len);
            }
            x.end = warc_bytes(w);
        } else {
            const char *e = warc_error(w);
            if (!e || !*e) abort();      /* damage must say what it is */
        }
        if (k < max) sig[k] = x;
        k++;
    }
    warc_record_free(&r);
    sb_free(&block);
    warc_close(w);
    return k;
}

static void add_member(strbuf *out, const uint8_t *p, size_t n, int zstd)
{
    if (zstd) {
        size_t cap = ZSTD_compressBound(n);
        sb_grow(out, cap);
        size_t z = ZSTD_compress(out->buf + out->len, cap, p, n, 1);
        if (ZSTD_isError(z)) abort();
        out->len += z;
        return;
    }
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (deflateInit2(&zs, 1, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK) abort();
    size_t cap = deflateBound(&zs, n) + 32;
    sb_grow(out, cap);
    zs.next_in = (Bytef *)p;
    zs.avail_in = (uInt)n;
    zs.next_out = (Bytef *)out->buf + out->len;
    zs.avail_out = (uInt)cap;
    if (deflate(&zs, Z_FINISH) != Z_STREAM_END) abort();
    out->len += cap - zs.avail_out;
    deflateEnd(&zs);
}

#define MAXSIG 512
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4) return 0;
    size_t step = (size_t)data[0] * 29 + 1;
    int flags = data[1];
    size_t where = (size_t)data[2] << 8 | data[3];
    const uint8_t *text = data + 4;
    size_t n = size - 4;

    /* members: cut before every line that starts with "WARC/" */
    strbuf z = STRBUF_INIT;
    size_t starts[MAXSIG + 2], n_members = 0, member_off[MAXSIG + 2];
    starts[n_members++] = 0;
    for (size_t i = 1; i + 5 <= n && n_members <= MAXSIG; i++)
        if (text[i - 1] == '\n' && !memcmp(text + i, "WARC/", 5)) starts[n_members++] = i;
    starts[n_members] = n;
    for (size_t m = 0; m < n_members; m++) {
        member_off[m] = z.len;
        add_member(&z, text + starts[m], starts[m + 1] - starts[m], flags & 4);
    }
    member_off[n_members] = z.len;

    static rec_sig plain[MAXSIG], comp[MAXSIG];
    size_t np = read_all(text, n, step, plain, MAXSIG);
    size_t damaged_member = n_members;
    if ((flags & 1) && z.len) {
        size_t at = where % z.len;
        z.buf[at] ^= (char)(0x01 << (flags >> 5));
        for (size_t m = 0; m < n_members; m++)
            if (at >= member_off[m] && at < member_off[m + 1]) { damaged_member = m; break; }
    } else if ((flags & 2) && z.len) {
        size_t at = where % z.len;
        z.len = at;
        for (size_t m = 0; m < n_members; m++)
            if (at >= member_off[m] && at < member_off[m + 1]) { damaged_member = m; break; }
    }
    size_t nc = read_all((const uint8_t *)(z.buf ? z.buf : ""), z.len, step, comp, MAXSIG);

    if (damaged_member == n_members) {
        /* intact: identical to reading the plain text */
        if (nc != np) abort();
        for (size_t i = 0; i < np && i < MAXSIG; i++)
            if (memcmp(&plain[i], &comp[i], sizeof plain[i])) abort();
    } else {
        /* every record that plain reading returned intact and whose block
         * ends before the damaged member must come first, the same */
        size_t safe_end = starts[damaged_member];
        for (size_t i = 0; i < np && i < MAXSIG; i++) {
            if (plain[i].rc <= 0 || plain[i].block_rc || plain[i].end > safe_end) break;
            if (i >= nc || memcmp(&plain[i], &comp[i], sizeof plain[i])) abort();
        }
    }
    sb_free(&z);
    return 0;
}
