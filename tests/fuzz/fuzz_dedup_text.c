/* libFuzzer target for dedup's text path (normalise -> shingle -> sign), as
 * a differential test: arbitrary bytes as a document's text. Properties:
 *  - dd_normalize (16-byte SSSE3 ASCII blocks, a byte table, utf8proc for
 *    the rest) gives exactly what the rule written out one code point at a
 *    time gives (tests/dedup_reference.h), with and without the SSSE3 path,
 *    and its output is a fixed point;
 *  - word and character shingles of the normalised text are hashed without
 *    reading past it, for n from the input (1..32);
 *  - every MinHash kernel the CPU has (scalar, AVX2, AVX-512) gives the
 *    signature of the plain reference, bit for bit, so documents dedup the
 *    same on every machine.
 * The first input byte picks n and the number of permutations; the rest is
 * the text.
 * FUZZ_MODULES: common dedup (tests/fuzz/run.sh builds and runs it) */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"
#include "dedup/dedup.h"
#include "tests/dedup_reference.h"

/* equal contents; an empty strbuf may have no buffer at all */
static int same(const strbuf *a, const strbuf *b)
{
    return a->len == b->len && (!a->len || !memcmp(a->buf, b->buf, a->len));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    unsigned n = 1 + (data[0] & 31);                  /* shingle length 1..32 */
    unsigned k = 1 + ((unsigned)(data[0] >> 5) * 37); /* 1..260 permutations, odd tails included */
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    if (len > 4096) len = 4096;   /* longer texts add time, not paths */

    strbuf norm = STRBUF_INIT, ref = STRBUF_INIT, again = STRBUF_INIT;
    dd_normalize(text, len, &norm);
    normalize_reference(text, len, &ref);
    if (!same(&norm, &ref)) abort();
    dd_normalize(norm.buf, norm.len, &again);   /* normalised text is already normal */
    if (!same(&again, &norm)) abort();
    again.len = 0;
    dd_normalize_force_bytes(1);                 /* the byte loop of CPUs without SSSE3 */
    dd_normalize(text, len, &again);
    dd_normalize_force_bytes(0);
    if (!same(&again, &norm)) abort();

    static dd_minhash m[2];   /* permutations depend only on k and the seed: made once per k */
    static unsigned m_k[2];
    dd_u64vec h = { 0 };
    uint64_t *want = malloc(k * sizeof *want), *got = malloc(k * sizeof *got);
    if (!want || !got) abort();
    for (int kind = 0; kind < 2; kind++) {
        dd_shingles(norm.buf, norm.len, kind ? DD_SHINGLE_CHAR : DD_SHINGLE_WORD, n, &h);
        if ((norm.len == 0) != (h.n == 0)) abort();   /* empty text: no shingle, else some */
        if (m_k[kind] != k) {
            if (m_k[kind]) dd_minhash_free(&m[kind]);
            dd_minhash_init(&m[kind], k, 1 + (uint64_t)kind);
            m_k[kind] = k;
        }
        dd_minhash_sign_reference(&m[kind], h.v, h.n, want);
        for (int kernel = 0; kernel < 3; kernel++) {
            if (dd_minhash_force_kernel(kernel)) continue;   /* not on this CPU */
            dd_minhash_sign(&m[kind], h.v, h.n, got);
            if (memcmp(want, got, k * sizeof *got)) abort();   /* k >= 1: both allocated */
        }
    }
    free(want);
    free(got);
    dd_u64vec_free(&h);
    sb_free(&norm);
    sb_free(&ref);
    sb_free(&again);
    return 0;
}
