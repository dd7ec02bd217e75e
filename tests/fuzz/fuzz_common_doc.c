/* libFuzzer target for common/doc: the streaming document parser must agree
 * with the DOM parser (json.c) on what is a document and on its text; output
 * is valid UTF-8, parses back to the same text, and serialize is idempotent.
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -I. \
 *     tests/fuzz/fuzz_common_doc.c common/{doc,doc_stream,json,utf8,strbuf,io,outfile,cli,fetch}.c \
 *     -lzstd -lz -lcurl -o fuzz_common_doc && ./fuzz_common_doc -max_len=4096 corpus/
 * FUZZ_MODULES: common (tests/fuzz/run.sh builds and runs it) */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "common/doc.h"
#include "common/json.h"
#include "common/utf8.h"

static int depth_ok(const char *s, size_t n)
{
    int d = 0, m = 0, instr = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (instr) { if (c == '\\') i++; else if (c == '"') instr = 0; continue; }
        if (c == '"') instr = 1;
        else if (c == '{' || c == '[') { if (++d > m) m = d; }
        else if (c == '}' || c == ']') d--;
    }
    return m < 200;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    if (memchr(s, '\n', size)) return 0;
    qdoc d; qdoc_init(&d);
    char err[256];
    int rc = qdoc_parse(&d, s, size, NULL, err, sizeof err);
    /* the DOM parser on the same (repaired) bytes */
    strbuf fixed = STRBUF_INIT;
    utf8_repair(&fixed, s, size);
    int bom = fixed.len >= 3 && !memcmp(fixed.buf, "\xEF\xBB\xBF", 3);
    qjson *j = bom ? NULL : qjson_parse(fixed.buf ? fixed.buf : "", fixed.len, err, sizeof err);
    const qjson *jt = NULL;
    if (j && j->type == QJ_OBJECT)
        for (size_t i = 0; i < j->len; i++)
            if (j->key_lens[i] == 4 && !memcmp(j->keys[i], "text", 4)) { jt = j->items[i]; break; }
    if (rc == 0) {
        if (!bom && !j) abort();                        /* we accepted what the DOM rejects */
        if (j && (!jt || jt->type != QJ_STRING)) abort();
        if (jt && (jt->len != d.text.len || memcmp(jt->str, d.text.buf, d.text.len))) abort();
        strbuf a = STRBUF_INIT, b = STRBUF_INIT;
        qdoc_serialize(&d, &a);
        if (!utf8_is_valid(a.buf, a.len)) abort();
        qdoc e; qdoc_init(&e);
        if (qdoc_parse(&e, a.buf, a.len - 1, NULL, err, sizeof err)) abort();
        if (e.text.len != d.text.len || memcmp(e.text.buf, d.text.buf, d.text.len)) abort();
        qdoc_serialize(&e, &b);
        if (a.len != b.len || memcmp(a.buf, b.buf, a.len)) abort();   /* idempotent */
        qdoc_meta_set_str(&e, "k", "v\"", 2);
        sb_reset(&b);
        qdoc_serialize(&e, &b);
        qdoc f; qdoc_init(&f);
        if (qdoc_parse(&f, b.buf, b.len - 1, NULL, err, sizeof err)) abort();
        strbuf v = STRBUF_INIT;
        /* a set key reads back (a non-object metadata is replaced by an object) */
        if (!qdoc_meta_get_str(&f, "k", &v) || strcmp(v.buf, "v\"")) abort();
        sb_free(&v); qdoc_free(&f); qdoc_free(&e); sb_free(&a); sb_free(&b);
    } else if (jt && jt->type == QJ_STRING && depth_ok(fixed.buf, fixed.len)) {
        abort();                                        /* the DOM accepts a document we rejected */
    }
    if (j) qjson_free(j);
    sb_free(&fixed);
    qdoc_free(&d);
    return 0;
}
