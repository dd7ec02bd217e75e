/* clean_testlib.h - helpers shared by tests/test_clean_*.c: run one filter
 * (or a preset) with parameter overrides on a text and get the reason. */
#ifndef QUERN_CLEAN_TESTLIB_H
#define QUERN_CLEAN_TESTLIB_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clean/clean.h"
#include "common/strbuf.h"

/* Build a configuration: preset "none", then `filter` enabled (if not
 * NULL), then each "f.p=v" in sets (NULL-terminated). */
static inline clean_config *tl_config(const char *filter, const char *const *sets)
{
    char err[256];
    clean_config *c = clean_config_new();
    assert_int_equal(clean_config_preset(c, "none", err, sizeof err), 0);
    if (filter) {
        int f = clean_filter_index(filter);
        assert_true(f >= 0);
        clean_config_enable(c, f, 1);
    }
    for (; sets && *sets; sets++) {
        if (clean_config_set(c, *sets, err, sizeof err)) fail_msg("%s: %s", *sets, err);
    }
    return c;
}

/* Run the configuration on text (and url); returns the reason (CR_NONE if
 * kept); the resulting text goes to out when out != NULL. */
static inline int tl_run_cfg(clean_config *c, const char *text, size_t len, const char *url,
                             strbuf *out)
{
    char err[256];
    clean_cascade *cc = clean_cascade_new(c, err, sizeof err);
    if (!cc) fail_msg("cascade: %s", err);
    clean_worker *w = clean_worker_new(cc);
    clean_doc d;
    clean_doc_init(&d);
    sb_add(&d.text, text, len);
    d.url = url;
    d.url_len = url ? strlen(url) : 0;
    clean_run(w, &d);
    int r = d.reason;
    if (out) {
        sb_reset(out);
        sb_add(out, d.text.buf, d.text.len);
    }
    clean_doc_free(&d);
    clean_worker_free(w);
    clean_cascade_free(cc);
    return r;
}

static inline int tl_run(const char *filter, const char *const *sets, const char *text)
{
    clean_config *c = tl_config(filter, sets);
    int r = tl_run_cfg(c, text, strlen(text), NULL, NULL);
    clean_config_free(c);
    return r;
}

/* Expect reason `want` (CR_NONE = kept), with a readable failure message. */
#define assert_reason(got, want)                                                          \
    do {                                                                                  \
        int g_ = (got), w_ = (want);                                                      \
        if (g_ != w_) fail_msg("reason %s, expected %s", clean_reason_name(g_), clean_reason_name(w_)); \
    } while (0)

/* Append `n` copies of word (each followed by sep) to sb. */
static inline void tl_repeat(strbuf *sb, const char *word, int n, const char *sep)
{
    for (int i = 0; i < n; i++) {
        sb_adds(sb, word);
        sb_adds(sb, sep);
    }
}

/* A distinct lower-case word of exactly len letters for index i. */
static inline void tl_word(strbuf *sb, int i, int len)
{
    char w[64];
    int x = i;
    for (int k = 0; k < len && k < 63; k++) {
        w[k] = (char)('a' + x % 26);
        x /= 26;
    }
    w[len < 63 ? len : 63] = 0;
    sb_adds(sb, w);
}

#endif
