/* libFuzzer target for clean/: every filter (all on, tag mode) on arbitrary
 * bytes; no crash, the result text is valid UTF-8 without controls.
 * FUZZ_MODULES: clean common (tests/fuzz/run.sh builds and runs it) */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "clean/clean.h"
#include "common/utf8.h"
static clean_cascade *cc;
static clean_worker *w;
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!cc) {
        char err[256];
        clean_config *c = clean_config_new();
        clean_config_select(c, "size,normalize,lang,gopher_repetition,gopher_quality,c4_quality,fineweb_quality,pii", 1, err, sizeof err);
        clean_config_set(c, "lang.keep=all", err, sizeof err);
        cc = clean_cascade_new(c, err, sizeof err);
        w = clean_worker_new(cc);
        clean_config_free(c);
    }
    clean_doc d;
    clean_doc_init(&d);
    sb_add(&d.text, data, size);
    d.tag = size & 1;
    d.url = "http://example.com/";
    d.url_len = 19;
    clean_run(w, &d);
    if (!utf8_is_valid(d.text.buf, d.text.len)) abort();
    for (size_t i = 0; i < d.text.len; i++) {
        unsigned char ch = (unsigned char)d.text.buf[i];
        if ((ch < 0x20 && ch != '\t' && ch != '\n') || ch == 0x7F) abort();
    }
    clean_doc_free(&d);
    return 0;
}
