/* libFuzzer target for ingest's HTTP and charset handling: the bytes are an
 * HTTP response as found in a WARC response block. Status line and headers
 * are parsed, the body's chunking and content encodings undone (bounded
 * output), the Content-Type split into type and charset, and the payload
 * decoded to UTF-8 through the declared, <meta> or detected charset.
 * Properties: no crash or over-read; head_len within the input; the decoded
 * body never exceeds its bound; charset output is always valid UTF-8; a
 * canonical charset name is stable (canonical(canonical(x)) == canonical(x)).
 * Input: [0] flags (bit0 html, bit1 use the HTTP charset), then the response.
 * FUZZ_MODULES: ingest common (tests/fuzz/run.sh builds and runs it) */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/utf8.h"
#include "ingest/charset.h"
#include "ingest/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static charset_ctx *cs;
    if (!cs) cs = charset_new();
    if (size < 1) return 0;
    int flags = data[0];
    const char *p = (const char *)data + 1;
    size_t n = size - 1;

    http_resp h;
    memset(&h, 0, sizeof h);
    const char *body = p;
    size_t body_n = n;
    char mime[64] = "", charset[64] = "";
    if (http_parse_response(p, n, &h) == 0) {
        if (h.head_len > n) abort();
        if (h.status < 100 || h.status > 999) abort();
        if (h.ctype && (h.ctype < p || h.ctype + h.ctype_len > p + n)) abort();
        if (h.cenc && (h.cenc < p || h.cenc + h.cenc_len > p + n)) abort();
        body = p + h.head_len;
        body_n = n - h.head_len;
        if (h.ctype) http_media_type(h.ctype, h.ctype_len, mime, sizeof mime, charset, sizeof charset);
        if (strlen(mime) >= sizeof mime || strlen(charset) >= sizeof charset) abort();
        strbuf dec = STRBUF_INIT;
        const char *why = NULL;
        size_t max_out = 1 << 16;
        if (http_decode_body(&h, body, body_n, max_out, &dec, &why) == 0) {
            if (dec.len > max_out) abort();
        } else if (!why || !*why) {
            abort();   /* a failure must say why */
        }
        sb_free(&dec);
    }
    /* media type splitting on arbitrary values too */
    http_media_type(p, n, mime, sizeof mime, charset, sizeof charset);

    strbuf out = STRBUF_INIT;
    char used[64];
    used[0] = 0;
    charset_to_utf8(cs, body, body_n, (flags & 2) ? charset : NULL, flags & 1, &out, used, sizeof used);
    if (!utf8_is_valid(out.buf ? out.buf : "", out.len)) abort();
    if (strnlen(used, sizeof used) >= sizeof used) abort();
    sb_free(&out);

    char name[64], canon[64], again[64];
    charset_bom(p, n, name, sizeof name);
    if (charset_from_meta(p, n, name, sizeof name) && strnlen(name, sizeof name) >= sizeof name) abort();
    /* the first line of the input as a label */
    char label[80];
    size_t ll = 0;
    while (ll < n && ll < sizeof label - 1 && p[ll] != '\n' && p[ll]) { label[ll] = p[ll]; ll++; }
    label[ll] = 0;
    if (charset_canonical(label, canon, sizeof canon)) {
        if (!charset_canonical(canon, again, sizeof again) || strcmp(canon, again)) abort();
    }
    return 0;
}
