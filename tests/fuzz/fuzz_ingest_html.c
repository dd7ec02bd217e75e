/* libFuzzer target for ingest's HTML extractor (gumbo + boilerplate
 * removal): arbitrary bytes, repaired to UTF-8 as charset.c guarantees, then
 * extracted with and without main-content selection. Properties: no crash,
 * hang or over-read; text and title are valid UTF-8; the text is no longer
 * than the page (extraction only removes and reflows, plus list markers and
 * table separators, bounded here by a generous factor); the same page
 * extracts the same way twice (the per-thread scratch carries no state).
 * Input: [0] flags (bit0 main content), then the page.
 * FUZZ_MODULES: ingest common (tests/fuzz/run.sh builds and runs it) */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/utf8.h"
#include "ingest/html.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static html_ctx *hc;
    if (!hc) hc = html_new();
    if (size < 1) return 0;
    int main_content = data[0] & 1;
    strbuf page = STRBUF_INIT, text = STRBUF_INIT, title = STRBUF_INIT;
    strbuf text2 = STRBUF_INIT, title2 = STRBUF_INIT;
    utf8_repair(&page, (const char *)data + 1, size - 1);
    const char *pg = page.buf ? page.buf : "";
    html_extract(hc, pg, page.len, main_content, &text, &title);
    if (!utf8_is_valid(text.buf ? text.buf : "", text.len)) abort();
    if (!utf8_is_valid(title.buf ? title.buf : "", title.len)) abort();
    if (text.len > 8 * page.len + 64) abort();
    html_extract(hc, pg, page.len, main_content, &text2, &title2);
    if (text.len != text2.len || (text.len && memcmp(text.buf, text2.buf, text.len))) abort();
    if (title.len != title2.len || (title.len && memcmp(title.buf, title2.buf, title.len))) abort();
    sb_free(&page); sb_free(&text); sb_free(&title); sb_free(&text2); sb_free(&title2);
    return 0;
}
