/* Unit tests for clean/clean.c and lang.c: CLD2 language ID, presets, --set,
 * --only/--skip, the fixed order (first failure wins), tag mode, and bad
 * input through the whole fineweb cascade. */
#include "clean_testlib.h"

static const char *EN =
    "The committee met on Tuesday to review the proposal for a new library in the "
    "northern district. Members raised questions about the budget, the timeline and "
    "the choice of architect, and asked the planning office to publish its traffic "
    "study before the next meeting. Residents who attended were mostly in favour.";
static const char *DE =
    "Der Ausschuss traf sich am Dienstag, um den Vorschlag für eine neue Bibliothek im "
    "nördlichen Bezirk zu prüfen. Die Mitglieder stellten Fragen zum Haushalt, zum "
    "Zeitplan und zur Wahl des Architekten und baten das Planungsamt, seine Studie zu "
    "veröffentlichen.";

static int lang_run(const char *keep, const char *text, clean_doc *d)
{
    char set[128];
    snprintf(set, sizeof set, "lang.keep=%s", keep);
    const char *sets[] = { set, NULL };
    clean_config *c = tl_config("lang", sets);
    char err[256];
    clean_cascade *cc = clean_cascade_new(c, err, sizeof err);
    assert_non_null(cc);
    clean_worker *w = clean_worker_new(cc);
    clean_doc_init(d);
    sb_adds(&d->text, text);
    clean_run(w, d);
    clean_worker_free(w);
    clean_cascade_free(cc);
    clean_config_free(c);
    return d->reason;
}

static void test_lang(void **state)
{
    (void)state;
    clean_doc d;
    assert_reason(lang_run("en", EN, &d), CR_NONE);
    assert_string_equal(d.lang, "en");
    assert_true(d.lang_score > 0.65 && d.lang_score <= 1.0);
    clean_doc_free(&d);
    assert_reason(lang_run("en", DE, &d), CR_LANG_NOT_ALLOWED);
    assert_string_equal(d.lang, "de");
    clean_doc_free(&d);
    assert_reason(lang_run("en,de", DE, &d), CR_NONE);
    clean_doc_free(&d);
    assert_reason(lang_run("all", DE, &d), CR_NONE);
    assert_string_equal(d.lang, "de");
    clean_doc_free(&d);
    /* a mixed text: English is listed but below the threshold */
    strbuf mix = STRBUF_INIT;
    sb_adds(&mix, DE);
    sb_adds(&mix, " ");
    sb_adds(&mix, DE);
    sb_adds(&mix, " Short English note here.");
    assert_reason(lang_run("en", mix.buf, &d), CR_LANG_NOT_ALLOWED);
    clean_doc_free(&d);
    sb_free(&mix);
    /* no letters: unknown language, dropped when a list is given */
    assert_reason(lang_run("en", "1234 5678 !!!", &d), CR_LANG_NOT_ALLOWED);
    assert_string_equal(d.lang, "un");
    clean_doc_free(&d);
    /* the threshold: the same English text passes 0.65 and fails 0.999 */
    const char *sets[] = { "lang.threshold=1", NULL };
    clean_config *c = tl_config("lang", sets);
    assert_reason(tl_run_cfg(c, EN, strlen(EN), NULL, NULL), CR_LANG_LOW_SCORE);
    clean_config_free(c);
}

static void test_config(void **state)
{
    (void)state;
    char err[256];
    clean_config *c = clean_config_new();
    /* default = fineweb preset, C4 without the terminal punctuation rule */
    assert_true(clean_config_enabled(c, CF_LANG));
    assert_true(clean_config_enabled(c, CF_GOPHER_REPETITION));
    assert_true(clean_config_enabled(c, CF_FINEWEB_QUALITY));
    assert_false(clean_config_enabled(c, CF_PII));
    assert_false(clean_config_enabled(c, CF_C4_BADWORDS));
    assert_int_equal(clean_config_preset(c, "c4", err, sizeof err), 0);
    assert_false(clean_config_enabled(c, CF_GOPHER_QUALITY));
    assert_true(clean_config_enabled(c, CF_C4_QUALITY));
    assert_int_equal(clean_config_preset(c, "gopher", err, sizeof err), 0);
    assert_false(clean_config_enabled(c, CF_LANG));
    assert_true(clean_config_enabled(c, CF_GOPHER_QUALITY));
    assert_int_equal(clean_config_preset(c, "none", err, sizeof err), 0);
    for (int f = 0; f < CF_N; f++) assert_false(clean_config_enabled(c, f));
    assert_int_equal(clean_config_preset(c, "bogus", err, sizeof err), -1);
    /* --set */
    assert_int_equal(clean_config_set(c, "gopher_quality.min_doc_words=7", err, sizeof err), 0);
    assert_int_equal(clean_config_set(c, "gopher_quality.nope=1", err, sizeof err), -1);
    assert_int_equal(clean_config_set(c, "gopher_quality.min_doc_words=x", err, sizeof err), -1);
    assert_int_equal(clean_config_set(c, "nodot=1", err, sizeof err), -1);
    assert_int_equal(clean_config_set(c, "c4_quality.javascript=off", err, sizeof err), 0);
    /* --only / --skip */
    assert_int_equal(clean_config_select(c, "lang,pii", 1, err, sizeof err), 0);
    assert_true(clean_config_enabled(c, CF_LANG));
    assert_true(clean_config_enabled(c, CF_PII));
    assert_false(clean_config_enabled(c, CF_SIZE));
    assert_int_equal(clean_config_select(c, "pii", 0, err, sizeof err), 0);
    assert_false(clean_config_enabled(c, CF_PII));
    assert_int_equal(clean_config_select(c, "lang,bogus", 1, err, sizeof err), -1);
    /* names round-trip */
    for (int f = 0; f < CF_N; f++) assert_int_equal(clean_filter_index(clean_filter_name(f)), f);
    for (int r = 1; r < CR_N; r++) assert_true(clean_reason_filter(r) >= 0);
    clean_config_free(c);
    /* --list mentions every filter and parameter */
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    clean_list(f, NULL);
    fclose(f);
    for (int k = 0; k < CF_N; k++) assert_non_null(strstr(buf, clean_filter_name(k)));
    assert_non_null(strstr(buf, "min_doc_words=50"));
    assert_non_null(strstr(buf, "top_3_gram=0.18"));
    assert_non_null(strstr(buf, "line_punct_thr=0.12"));
    free(buf);
}

static void test_order_and_tag(void **state)
{
    (void)state;
    /* gopher_repetition runs before gopher_quality: "hello world" fails
     * top_2_gram first; in tag mode every failing filter is recorded */
    clean_config *c = tl_config(NULL, NULL);
    char err[256];
    assert_int_equal(clean_config_select(c, "gopher_repetition,gopher_quality,fineweb_quality", 1, err, sizeof err), 0);
    clean_cascade *cc = clean_cascade_new(c, err, sizeof err);
    clean_worker *w = clean_worker_new(cc);
    clean_doc d;
    clean_doc_init(&d);
    sb_adds(&d.text, "hello world");
    assert_int_equal(clean_run(w, &d), 0);
    assert_reason(d.reason, CR_TOP_2_GRAM);
    assert_int_equal(d.drop_filter, CF_GOPHER_REPETITION);
    assert_int_equal(d.n_fails, 1);
    clean_doc_reset(&d);
    sb_adds(&d.text, "hello world");
    d.tag = 1;
    assert_int_equal(clean_run(w, &d), 1);
    assert_reason(d.reason, CR_TOP_2_GRAM);
    assert_int_equal(d.n_fails, 3);
    assert_reason(d.fails[1].reason, CR_GOPHER_SHORT_DOC);
    assert_reason(d.fails[2].reason, CR_LINE_PUNCT_RATIO);
    clean_doc_free(&d);
    clean_worker_free(w);
    clean_cascade_free(cc);
    clean_config_free(c);
}

/* Bad input through the default (fineweb) cascade: never a crash. */
static int fineweb(const char *text, size_t len)
{
    clean_config *c = clean_config_new();
    int r = tl_run_cfg(c, text, len, "https://example.com/", NULL);
    clean_config_free(c);
    return r;
}

static void test_bad_input(void **state)
{
    (void)state;
    assert_reason(fineweb("", 0), CR_LANG_NOT_ALLOWED);
    assert_reason(fineweb("!?!?... --- ;;; ,,, ((( ))) ###", 31), CR_LANG_NOT_ALLOWED);
    /* invalid UTF-8 and NULs are repaired/removed before anyone reads them */
    const char bad[] = "caf\xC3 \xFF\xFE\x00\x01 the \xED\xA0\x80 end";
    int r = fineweb(bad, sizeof bad - 1);
    assert_true(r != CR_NONE);
    /* without normalize, the cascade still repairs before CLD2 reads it */
    clean_config *lc = tl_config("lang", (const char *const[]){ "lang.keep=all", NULL });
    strbuf fixed = STRBUF_INIT;
    assert_reason(tl_run_cfg(lc, bad, sizeof bad - 1, NULL, &fixed), CR_NONE);
    assert_non_null(strstr(fixed.buf, "\xEF\xBF\xBD"));
    sb_free(&fixed);
    clean_config_free(lc);
    /* a huge line of one word, and of punctuation, with the size guard off */
    size_t n = 4u << 20;
    char *big = malloc(n);
    assert_non_null(big);
    memset(big, 'a', n);
    clean_config *c = clean_config_new();
    char err[128];
    assert_int_equal(clean_config_set(c, "size.max_bytes=0", err, sizeof err), 0);
    assert_true(tl_run_cfg(c, big, n, NULL, NULL) != CR_NONE);
    memset(big, '.', n);
    assert_true(tl_run_cfg(c, big, n, NULL, NULL) != CR_NONE);
    /* many words (2M tokens): per-word tables grow, then are given back */
    for (size_t i = 0; i + 2 <= n; i += 2) {
        big[i] = (char)('a' + (i / 2) % 7);
        big[i + 1] = ' ';
    }
    assert_true(tl_run_cfg(c, big, n, NULL, NULL) != CR_NONE);
    clean_config_free(c);
    /* 4 MiB is under the default size guard: the filters themselves drop it */
    assert_true(fineweb(big, n) != CR_NONE);
    /* the size guard */
    c = tl_config("size", (const char *const[]){ "size.max_bytes=1000", NULL });
    assert_reason(tl_run_cfg(c, big, 1000, NULL, NULL), CR_NONE);
    assert_reason(tl_run_cfg(c, big, 1001, NULL, NULL), CR_DOC_TOO_LARGE);
    clean_config_free(c);
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lang),
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_order_and_tag),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
