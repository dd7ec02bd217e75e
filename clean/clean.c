/* clean.c - the filter table (names, order, parameters, defaults, reasons),
 * presets, --set / --only / --skip, and the cascade runner.
 *
 * The table below is the single source of truth: defaults are parsed from
 * its text at start-up, `quern clean --list` prints it, and --set looks
 * names up in it. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "../common/io.h"
#include "../common/utf8.h"
#include "clean_impl.h"

/* The size guard: a text over max_bytes is dropped before any filter builds
 * per-word tables for it, so memory stays bounded by an option. */
int size_apply(clean_ctx *cx)
{
    int64_t max = cx->cc->cfg.size.max_bytes;
    return (max > 0 && cx->doc->text.len > (uint64_t)max) ? CR_DOC_TOO_LARGE : CR_NONE;
}

/* ---- filters ---- */
typedef struct filter_def {
    const char *name;
    const char *summary;
    int (*apply)(clean_ctx *cx);
} filter_def;

static const filter_def filters[CF_N] = {
    [CF_SIZE] = { "size", "drop documents larger than max_bytes (bounds memory)", size_apply },
    [CF_NORMALIZE] = { "normalize", "repair UTF-8, line endings to \\n, drop controls, NFC", normalize_apply },
    [CF_URL] = { "url", "URL rules: domain blocklist (with subdomains), banned substrings, regexes", url_apply },
    [CF_LANG] = { "lang", "CLD2 language ID: metadata lang/lang_score; keep listed languages", lang_apply },
    [CF_TEXT_REGEX] = { "text_regex", "PCRE2 rules on the text: drop the document or matching lines", text_regex_apply },
    [CF_GOPHER_REPETITION] = { "gopher_repetition", "Gopher repetition: duplicate lines/paragraphs, n-grams", gopher_repetition_apply },
    [CF_GOPHER_QUALITY] = { "gopher_quality", "Gopher quality: length, word length, symbols, bullets, stop words", gopher_quality_apply },
    [CF_C4_QUALITY] = { "c4_quality", "C4: drop bad lines (rewrites the text), lorem ipsum, {, sentences", c4_quality_apply },
    [CF_C4_BADWORDS] = { "c4_badwords", "C4 bad words from a user word list", c4_badwords_apply },
    [CF_FINEWEB_QUALITY] = { "fineweb_quality", "FineWeb: line punctuation, short lines, duplicate lines, lists", fineweb_quality_apply },
    [CF_PII] = { "pii", "replace e-mail addresses and public IPv4 addresses", pii_apply },
};

static const struct { const char *name; int filter; } reasons[CR_N] = {
    [CR_NONE] = { "kept", -1 },
    [CR_DOC_TOO_LARGE] = { "doc_too_large", CF_SIZE },
    [CR_URL_DOMAIN] = { "url_domain", CF_URL },
    [CR_URL_SUBSTRING] = { "url_substring", CF_URL },
    [CR_URL_REGEX] = { "url_regex", CF_URL },
    [CR_LANG_NOT_ALLOWED] = { "lang_not_allowed", CF_LANG },
    [CR_LANG_LOW_SCORE] = { "lang_low_score", CF_LANG },
    [CR_TEXT_REGEX] = { "text_regex", CF_TEXT_REGEX },
    [CR_DUP_PARA_FRAC] = { "dup_para_frac", CF_GOPHER_REPETITION },
    [CR_DUP_PARA_CHAR_FRAC] = { "dup_para_char_frac", CF_GOPHER_REPETITION },
    [CR_DUP_LINE_FRAC] = { "dup_line_frac", CF_GOPHER_REPETITION },
    [CR_DUP_LINE_CHAR_FRAC] = { "dup_line_char_frac", CF_GOPHER_REPETITION },
    [CR_TOP_2_GRAM] = { "top_2_gram", CF_GOPHER_REPETITION },
    [CR_TOP_3_GRAM] = { "top_3_gram", CF_GOPHER_REPETITION },
    [CR_TOP_4_GRAM] = { "top_4_gram", CF_GOPHER_REPETITION },
    [CR_DUP_5_GRAMS] = { "duplicated_5_n_grams", CF_GOPHER_REPETITION },
    [CR_DUP_6_GRAMS] = { "duplicated_6_n_grams", CF_GOPHER_REPETITION },
    [CR_DUP_7_GRAMS] = { "duplicated_7_n_grams", CF_GOPHER_REPETITION },
    [CR_DUP_8_GRAMS] = { "duplicated_8_n_grams", CF_GOPHER_REPETITION },
    [CR_DUP_9_GRAMS] = { "duplicated_9_n_grams", CF_GOPHER_REPETITION },
    [CR_DUP_10_GRAMS] = { "duplicated_10_n_grams", CF_GOPHER_REPETITION },
    [CR_GOPHER_SHORT_DOC] = { "gopher_short_doc", CF_GOPHER_QUALITY },
    [CR_GOPHER_LONG_DOC] = { "gopher_long_doc", CF_GOPHER_QUALITY },
    [CR_GOPHER_BELOW_AVG] = { "gopher_below_avg_threshold", CF_GOPHER_QUALITY },
    [CR_GOPHER_ABOVE_AVG] = { "gopher_above_avg_threshold", CF_GOPHER_QUALITY },
    [CR_GOPHER_HASHES] = { "gopher_too_many_hashes", CF_GOPHER_QUALITY },
    [CR_GOPHER_ELLIPSIS] = { "gopher_too_many_ellipsis", CF_GOPHER_QUALITY },
    [CR_GOPHER_BULLETS] = { "gopher_too_many_bullets", CF_GOPHER_QUALITY },
    [CR_GOPHER_END_ELLIPSIS] = { "gopher_too_many_end_ellipsis", CF_GOPHER_QUALITY },
    [CR_GOPHER_ALPHA] = { "gopher_below_alpha_threshold", CF_GOPHER_QUALITY },
    [CR_GOPHER_STOP_WORDS] = { "gopher_enough_stop_words", CF_GOPHER_QUALITY },
    [CR_LOREM_IPSUM] = { "lorem_ipsum", CF_C4_QUALITY },
    [CR_CURLY_BRACKET] = { "curly_bracket", CF_C4_QUALITY },
    [CR_TOO_FEW_SENTENCES] = { "too_few_sentences", CF_C4_QUALITY },
    [CR_BADWORDS] = { "document_removed_with_badwords", CF_C4_BADWORDS },
    [CR_EMPTY] = { "empty", CF_FINEWEB_QUALITY },
    [CR_LINE_PUNCT_RATIO] = { "line_punct_ratio", CF_FINEWEB_QUALITY },
    [CR_SHORT_LINE_RATIO] = { "short_line_ratio", CF_FINEWEB_QUALITY },
    [CR_CHAR_DUP_RATIO] = { "char_dup_ratio", CF_FINEWEB_QUALITY },
    [CR_LIST_RATIO] = { "list_ratio", CF_FINEWEB_QUALITY },
};

const char *clean_filter_name(int f) { return f >= 0 && f < CF_N ? filters[f].name : "?"; }
const char *clean_reason_name(int r) { return r >= 0 && r < CR_N ? reasons[r].name : "?"; }
int clean_reason_filter(int r) { return r >= 0 && r < CR_N ? reasons[r].filter : -1; }

int clean_filter_index(const char *name)
{
    for (int i = 0; i < CF_N; i++)
        if (!strcmp(filters[i].name, name)) return i;
    return -1;
}

/* ---- parameters ---- */
enum ptype { P_BOOL, P_INT, P_NUM, P_STR };
typedef struct param_def {
    int filter;
    const char *name;
    enum ptype type;
    size_t off;
    const char *dflt;
    const char *help;
} param_def;

#define O(f) offsetof(clean_config, f)
static const param_def params[] = {
    { CF_SIZE, "max_bytes", P_INT, O(size.max_bytes), "16777216", "larger texts are dropped (doc_too_large); 0 = no limit" },
    { CF_NORMALIZE, "repair", P_BOOL, O(normalize.repair), "1", "invalid UTF-8 -> U+FFFD" },
    { CF_NORMALIZE, "line_endings", P_BOOL, O(normalize.line_endings), "1", "\\r\\n, \\r, U+0085 -> \\n" },
    { CF_NORMALIZE, "controls", P_BOOL, O(normalize.controls), "1", "remove C0/C1 controls but tab and newline" },
    { CF_NORMALIZE, "nfc", P_BOOL, O(normalize.nfc), "1", "Unicode NFC (utf8proc)" },
    { CF_URL, "domains", P_STR, O(url.domains), "", "file: blocked domains, one per line (subdomains match)" },
    { CF_URL, "substrings", P_STR, O(url.substrings), "", "file: banned URL substrings (case-insensitive)" },
    { CF_URL, "regex", P_STR, O(url.regex), "", "file: PCRE2 patterns; a matching URL is dropped" },
    { CF_LANG, "keep", P_STR, O(lang.keep), "en", "comma-separated languages to keep; \"all\" = label only" },
    { CF_LANG, "threshold", P_NUM, O(lang.threshold), "0.65", "keep when a listed language scores > this" },
    { CF_LANG, "max_bytes", P_INT, O(lang.max_bytes), "1024", "longer texts: sample start/middle/end (0 = all)" },
    { CF_TEXT_REGEX, "file", P_STR, O(text_regex.file), "", "file of rules: drop-doc PATTERN | drop-line PATTERN" },
    { CF_GOPHER_REPETITION, "dup_para_frac", P_NUM, O(grep.dup_para_frac), "0.3", "repeated paragraphs / paragraphs" },
    { CF_GOPHER_REPETITION, "dup_para_char_frac", P_NUM, O(grep.dup_para_char_frac), "0.2", "their characters / characters" },
    { CF_GOPHER_REPETITION, "dup_line_frac", P_NUM, O(grep.dup_line_frac), "0.3", "repeated lines / lines" },
    { CF_GOPHER_REPETITION, "dup_line_char_frac", P_NUM, O(grep.dup_line_char_frac), "0.2", "their characters / characters" },
    { CF_GOPHER_REPETITION, "top_2_gram", P_NUM, O(grep.top[0]), "0.2", "most frequent 2-gram's characters / characters" },
    { CF_GOPHER_REPETITION, "top_3_gram", P_NUM, O(grep.top[1]), "0.18", "same for 3-grams" },
    { CF_GOPHER_REPETITION, "top_4_gram", P_NUM, O(grep.top[2]), "0.16", "same for 4-grams" },
    { CF_GOPHER_REPETITION, "dup_5_grams", P_NUM, O(grep.dup[0]), "0.15", "characters in repeated 5-grams / characters" },
    { CF_GOPHER_REPETITION, "dup_6_grams", P_NUM, O(grep.dup[1]), "0.14", "same for 6-grams" },
    { CF_GOPHER_REPETITION, "dup_7_grams", P_NUM, O(grep.dup[2]), "0.13", "same for 7-grams" },
    { CF_GOPHER_REPETITION, "dup_8_grams", P_NUM, O(grep.dup[3]), "0.12", "same for 8-grams" },
    { CF_GOPHER_REPETITION, "dup_9_grams", P_NUM, O(grep.dup[4]), "0.11", "same for 9-grams" },
    { CF_GOPHER_REPETITION, "dup_10_grams", P_NUM, O(grep.dup[5]), "0.1", "same for 10-grams" },
    { CF_GOPHER_QUALITY, "min_doc_words", P_INT, O(gq.min_doc_words), "50", "fewer non-symbol words: gopher_short_doc" },
    { CF_GOPHER_QUALITY, "max_doc_words", P_INT, O(gq.max_doc_words), "100000", "more: gopher_long_doc" },
    { CF_GOPHER_QUALITY, "min_avg_word_length", P_NUM, O(gq.min_avg_word_length), "3", "mean non-symbol word length below" },
    { CF_GOPHER_QUALITY, "max_avg_word_length", P_NUM, O(gq.max_avg_word_length), "10", "mean non-symbol word length above" },
    { CF_GOPHER_QUALITY, "max_symbol_word_ratio", P_NUM, O(gq.max_symbol_word_ratio), "0.1", "'#' or ellipses per word" },
    { CF_GOPHER_QUALITY, "max_bullet_lines_ratio", P_NUM, O(gq.max_bullet_lines_ratio), "0.9", "lines starting with a bullet or '-'" },
    { CF_GOPHER_QUALITY, "max_ellipsis_lines_ratio", P_NUM, O(gq.max_ellipsis_lines_ratio), "0.3", "lines ending with an ellipsis" },
    { CF_GOPHER_QUALITY, "max_non_alpha_words_ratio", P_NUM, O(gq.max_non_alpha_words_ratio), "0.8", "min share of words with a letter" },
    { CF_GOPHER_QUALITY, "min_stop_words", P_INT, O(gq.min_stop_words), "2", "distinct stop words required" },
    { CF_GOPHER_QUALITY, "stop_words", P_STR, O(gq.stop_words), "the,be,to,of,and,that,have,with", "comma-separated, exact match" },
    { CF_C4_QUALITY, "remove_citations", P_BOOL, O(c4.remove_citations), "1", "remove [1], [edit], [citation needed]" },
    { CF_C4_QUALITY, "terminal_punct", P_BOOL, O(c4.terminal_punct), "1", "drop lines not ending in . ? ! \" ' (off in fineweb)" },
    { CF_C4_QUALITY, "min_num_sentences", P_INT, O(c4.min_num_sentences), "5", "fewer kept sentences: too_few_sentences (-1 off)" },
    { CF_C4_QUALITY, "min_words_per_line", P_INT, O(c4.min_words_per_line), "3", "drop shorter lines (-1 off)" },
    { CF_C4_QUALITY, "max_word_length", P_INT, O(c4.max_word_length), "1000", "drop lines with a longer word (-1 off)" },
    { CF_C4_QUALITY, "lorem_ipsum", P_BOOL, O(c4.lorem_ipsum), "1", "drop documents with \"lorem ipsum\"" },
    { CF_C4_QUALITY, "javascript", P_BOOL, O(c4.javascript), "1", "drop lines with \"javascript\"" },
    { CF_C4_QUALITY, "curly_bracket", P_BOOL, O(c4.curly_bracket), "1", "drop documents with \"{\"" },
    { CF_C4_QUALITY, "policy", P_BOOL, O(c4.policy), "1", "drop lines with cookie / terms-of-use phrases" },
    { CF_C4_BADWORDS, "file", P_STR, O(bw.file), "", "word list (e.g. an LDNOOBW list), one entry per line" },
    { CF_C4_BADWORDS, "no_boundary_langs", P_STR, O(bw.no_boundary_langs), "ja,th,zh,zh-Hant", "languages matched without word boundaries" },
    { CF_C4_BADWORDS, "default_lang", P_STR, O(bw.default_lang), "en", "language when neither lang nor metadata says" },
    { CF_FINEWEB_QUALITY, "line_punct_thr", P_NUM, O(fw.line_punct_thr), "0.12", "min share of lines ending in terminal punctuation" },
    { CF_FINEWEB_QUALITY, "line_punct_exclude_zero", P_BOOL, O(fw.line_punct_exclude_zero), "0", "a share of exactly 0 passes" },
    { CF_FINEWEB_QUALITY, "short_line_thr", P_NUM, O(fw.short_line_thr), "0.67", "max share of short lines" },
    { CF_FINEWEB_QUALITY, "short_line_length", P_INT, O(fw.short_line_length), "30", "a short line has at most this many characters" },
    { CF_FINEWEB_QUALITY, "char_duplicates_ratio", P_NUM, O(fw.char_duplicates_ratio), "0.01", "max share of characters in repeated lines" },
    { CF_FINEWEB_QUALITY, "new_line_ratio", P_NUM, O(fw.new_line_ratio), "0.3", "max newlines per word" },
    { CF_PII, "email", P_BOOL, O(pii.email), "1", "replace e-mail addresses" },
    { CF_PII, "ipv4", P_BOOL, O(pii.ipv4), "1", "replace public IPv4 addresses" },
    { CF_PII, "email_placeholder", P_STR, O(pii.email_placeholder), "email@example.com", "replacement text" },
    { CF_PII, "ip_placeholder", P_STR, O(pii.ip_placeholder), "0.0.0.0", "replacement text" },
};
#undef O
#define N_PARAMS (sizeof params / sizeof params[0])

static int set_value(clean_config *c, const param_def *p, const char *v, char *err, size_t errlen)
{
    char *base = (char *)c + p->off;
    char *end;
    errno = 0;
    switch (p->type) {
    case P_BOOL:
        if (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "on") || !strcmp(v, "yes")) *(int *)base = 1;
        else if (!strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "off") || !strcmp(v, "no")) *(int *)base = 0;
        else goto bad;
        return 0;
    case P_INT: {
        long long x = strtoll(v, &end, 10);
        if (errno || end == v || *end) goto bad;
        *(int64_t *)base = x;
        return 0;
    }
    case P_NUM: {
        double x = strtod(v, &end);
        if (errno || end == v || *end) goto bad;
        *(double *)base = x;
        return 0;
    }
    case P_STR: {
        char **s = (char **)base;
        free(*s);
        *s = strdup(v);
        if (!*s) abort();
        return 0;
    }
    }
bad:
    snprintf(err, errlen, "%s.%s: bad value '%s'", filters[p->filter].name, p->name, v);
    return -1;
}

static const param_def *find_param(const char *filter, size_t flen, const char *name)
{
    for (size_t i = 0; i < N_PARAMS; i++) {
        const char *fn = filters[params[i].filter].name;
        if (strlen(fn) == flen && !memcmp(fn, filter, flen) && !strcmp(params[i].name, name))
            return &params[i];
    }
    return NULL;
}

clean_config *clean_config_new(void)
{
    clean_config *c = calloc(1, sizeof *c);
    if (!c) abort();
    char err[256];
    for (size_t i = 0; i < N_PARAMS; i++)
        if (set_value(c, &params[i], params[i].dflt, err, sizeof err)) abort();
    clean_config_preset(c, "fineweb", err, sizeof err);
    return c;
}

void clean_config_free(clean_config *c)
{
    if (!c) return;
    for (size_t i = 0; i < N_PARAMS; i++)
        if (params[i].type == P_STR) free(*(char **)((char *)c + params[i].off));
    free(c);
}

static void config_copy(clean_config *dst, const clean_config *src)
{
    *dst = *src;
    for (size_t i = 0; i < N_PARAMS; i++)
        if (params[i].type == P_STR) {
            char **s = (char **)((char *)dst + params[i].off);
            if (*s && !(*s = strdup(*s))) abort();
        }
}

int clean_config_preset(clean_config *c, const char *name, char *err, size_t errlen)
{
    static const int p_fineweb[] = { CF_SIZE, CF_NORMALIZE, CF_URL, CF_LANG, CF_GOPHER_REPETITION,
                                     CF_GOPHER_QUALITY, CF_C4_QUALITY, CF_FINEWEB_QUALITY, -1 };
    static const int p_c4[] = { CF_SIZE, CF_NORMALIZE, CF_URL, CF_LANG, CF_C4_QUALITY, -1 };
    static const int p_gopher[] = { CF_SIZE, CF_NORMALIZE, CF_URL, CF_GOPHER_REPETITION,
                                    CF_GOPHER_QUALITY, -1 };
    static const int p_none[] = { -1 };
    static const struct { const char *name; const int *filters; } presets[] = {
        { "fineweb", p_fineweb }, { "c4", p_c4 }, { "gopher", p_gopher }, { "none", p_none },
    };
    for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++) {
        if (strcmp(presets[i].name, name)) continue;
        memset(c->enabled, 0, sizeof c->enabled);
        for (const int *f = presets[i].filters; *f >= 0; f++) c->enabled[*f] = 1;
        /* FineWeb ran C4 without the terminal-punctuation rule */
        c->c4.terminal_punct = strcmp(name, "fineweb") != 0;
        return 0;
    }
    snprintf(err, errlen, "unknown preset '%s' (fineweb, c4, gopher, none)", name);
    return -1;
}

int clean_config_set(clean_config *c, const char *a, char *err, size_t errlen)
{
    const char *dot = strchr(a, '.'), *eq = strchr(a, '=');
    if (!dot || !eq || eq < dot) {
        snprintf(err, errlen, "--set wants filter.param=value, got '%s'", a);
        return -1;
    }
    char name[128];
    size_t nl = (size_t)(eq - dot - 1);
    if (nl >= sizeof name) nl = sizeof name - 1;
    memcpy(name, dot + 1, nl);
    name[nl] = 0;
    const param_def *p = find_param(a, (size_t)(dot - a), name);
    if (!p) {
        snprintf(err, errlen, "unknown parameter '%.*s' (see quern clean --list)", (int)(eq - a), a);
        return -1;
    }
    return set_value(c, p, eq + 1, err, errlen);
}

int clean_config_select(clean_config *c, const char *list, int only, char *err, size_t errlen)
{
    char **names;
    size_t n;
    split_csv(list, &names, &n);
    unsigned char want[CF_N] = { 0 };
    for (size_t i = 0; i < n; i++) {
        int f = clean_filter_index(names[i]);
        if (f < 0) {
            snprintf(err, errlen, "unknown filter '%s' (see quern clean --list)", names[i]);
            free_list(names, n);
            return -1;
        }
        want[f] = 1;
    }
    free_list(names, n);
    for (int f = 0; f < CF_N; f++) {
        if (only) c->enabled[f] = want[f];
        else if (want[f]) c->enabled[f] = 0;
    }
    return 0;
}

void clean_config_enable(clean_config *c, int f, int on)
{
    if (f >= 0 && f < CF_N) c->enabled[f] = on != 0;
}
int clean_config_enabled(const clean_config *c, int f) { return f >= 0 && f < CF_N && c->enabled[f]; }

/* " (now: V)" when the configuration's value is not the default */
static void param_now(const clean_config *c, const param_def *p, char *out, size_t n)
{
    clean_config d;
    memset(&d, 0, sizeof d);
    char err[64], val[128];
    if (set_value(&d, p, p->dflt, err, sizeof err)) return;
    const char *base = (const char *)c + p->off, *dbase = (const char *)&d + p->off;
    int same = 1;
    switch (p->type) {
    case P_BOOL: same = *(const int *)base == *(const int *)dbase;
        snprintf(val, sizeof val, "%d", *(const int *)base); break;
    case P_INT: same = *(const int64_t *)base == *(const int64_t *)dbase;
        snprintf(val, sizeof val, "%lld", (long long)*(const int64_t *)base); break;
    case P_NUM: same = *(const double *)base == *(const double *)dbase;
        snprintf(val, sizeof val, "%g", *(const double *)base); break;
    case P_STR: {
        const char *a = *(char *const *)base, *b = *(char *const *)dbase;
        same = !strcmp(a ? a : "", b ? b : "");
        snprintf(val, sizeof val, "%.100s", a ? a : "");
        free(*(char **)((char *)&d + p->off));
        break;
    }
    }
    if (!same) snprintf(out, n, "  (now: %s)", val);
}

void clean_list(FILE *f, const clean_config *cur)
{
    fprintf(f, "Filters in evaluation order (the first failing one decides).\n"
               "Set parameters with --set filter.param=value; a ratio of 0 disables its test.\n\n");
    for (int i = 0; i < CF_N; i++) {
        fprintf(f, "%-18s %s%s\n", filters[i].name, filters[i].summary,
                cur && cur->enabled[i] ? "  [on]" : "");
        for (size_t k = 0; k < N_PARAMS; k++) {
            if (params[k].filter != i) continue;
            char full[64], now[160] = "";
            snprintf(full, sizeof full, "%s=%s", params[k].name, params[k].dflt);
            if (cur) param_now(cur, &params[k], now, sizeof now);
            fprintf(f, "    %-40s %s%s\n", full, params[k].help, now);
        }
        int any = 0;
        for (int r = 1; r < CR_N; r++)
            if (reasons[r].filter == i) {
                fprintf(f, "%s%s", any ? ", " : "    reasons: ", reasons[r].name);
                any = 1;
            }
        if (any) fputc('\n', f);
    }
    fprintf(f, "\nPresets: fineweb (size normalize url lang gopher_repetition gopher_quality "
               "c4_quality[terminal_punct=0] fineweb_quality), c4 (size normalize url lang "
               "c4_quality), gopher (size normalize url gopher_repetition gopher_quality), none.\n");
}

/* ---- lists ---- */
void free_list(char **items, size_t n)
{
    if (!items) return;
    for (size_t i = 0; i < n; i++) free(items[i]);
    free(items);
}

static void list_push(char ***items, size_t *n, const char *s, size_t len, int lower)
{
    char **p = realloc(*items, (*n + 1) * sizeof *p);
    if (!p) abort();
    *items = p;
    char *x = malloc(len + 1);
    if (!x) abort();
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        x[i] = (char)(lower && ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
    }
    x[len] = 0;
    p[(*n)++] = x;
}

void split_csv(const char *s, char ***items, size_t *n)
{
    *items = NULL;
    *n = 0;
    if (!s) return;
    while (*s) {
        const char *e = strchr(s, ',');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        while (len && (*s == ' ')) { s++; len--; }
        while (len && s[len - 1] == ' ') len--;
        if (len) list_push(items, n, s, len, 0);
        if (!e) break;
        s = e + 1;
    }
}

int read_list_file(const char *path, char ***items, size_t *n, int lower, char *err, size_t errlen)
{
    strbuf sb = STRBUF_INIT;
    *items = NULL;
    *n = 0;
    if (qread_file(path, &sb, err, errlen)) {
        sb_free(&sb);
        return -1;
    }
    const char *s = sb_str(&sb);
    size_t len = sb.len, b = 0;
    while (b < len) {
        const char *nl = memchr(s + b, '\n', len - b);
        size_t e = nl ? (size_t)(nl - s) : len, lb = b, le = e;
        while (lb < le && (s[lb] == ' ' || s[lb] == '\t')) lb++;
        while (le > lb && (s[le - 1] == ' ' || s[le - 1] == '\t' || s[le - 1] == '\r')) le--;
        if (le > lb && s[lb] != '#') list_push(items, n, s + lb, le - lb, lower);
        b = e + 1;
    }
    sb_free(&sb);
    return 0;
}

/* ---- cascade ---- */
clean_cascade *clean_cascade_new(const clean_config *c, char *err, size_t errlen)
{
    clean_cascade *cc = calloc(1, sizeof *cc);
    if (!cc) abort();
    config_copy(&cc->cfg, c);
    split_csv(cc->cfg.gq.stop_words, &cc->stop_words, &cc->n_stop_words);
    if (cc->n_stop_words > 64) {
        snprintf(err, errlen, "gopher_quality.stop_words: at most 64 words");
        clean_cascade_free(cc);
        return NULL;
    }
    for (size_t i = 0; i < cc->n_stop_words; i++) {
        cc->stop_len[i] = strlen(cc->stop_words[i]);
        if (cc->stop_len[i] > cc->stop_max_len) cc->stop_max_len = cc->stop_len[i];
        cc->stop_first[(unsigned char)cc->stop_words[i][0]] = 1;
    }
    if (cc->cfg.lang.keep && strcmp(cc->cfg.lang.keep, "all") != 0)
        split_csv(cc->cfg.lang.keep, &cc->keep_langs, &cc->n_keep_langs);
    if ((c->enabled[CF_URL] || c->enabled[CF_TEXT_REGEX]) && rules_load(cc, err, errlen)) {
        clean_cascade_free(cc);
        return NULL;
    }
    if (c->enabled[CF_C4_BADWORDS] && badwords_load(cc, err, errlen)) {
        clean_cascade_free(cc);
        return NULL;
    }
    return cc;
}

void clean_cascade_free(clean_cascade *cc)
{
    if (!cc) return;
    rules_free(cc->rules);
    badwords_free(cc->badwords);
    free_list(cc->stop_words, cc->n_stop_words);
    free_list(cc->keep_langs, cc->n_keep_langs);
    for (size_t i = 0; i < N_PARAMS; i++)
        if (params[i].type == P_STR) free(*(char **)((char *)&cc->cfg + params[i].off));
    free(cc);
}

int clean_cascade_enabled(const clean_cascade *cc, int f) { return clean_config_enabled(&cc->cfg, f); }

clean_worker *clean_worker_new(const clean_cascade *cc)
{
    clean_worker *w = calloc(1, sizeof *w);
    if (!w) abort();
    w->cc = cc;
    w->rs = rules_scratch_new(cc);
    return w;
}

void clean_worker_free(clean_worker *w)
{
    if (!w) return;
    cx_words_free(&w->w);
    htab_free(&w->t1);
    free(w->slot);
    sb_free(&w->tmp);
    sb_free(&w->tmp2);
    rules_scratch_free(w->rs);
    free(w);
}

void clean_doc_init(clean_doc *d)
{
    memset(d, 0, sizeof *d);
    d->drop_filter = -1;
}

void clean_doc_reset(clean_doc *d)
{
    strbuf t = d->text;
    sb_reset(&t);
    clean_doc_init(d);
    d->text = t;
}

void clean_doc_free(clean_doc *d)
{
    sb_free(&d->text);
    clean_doc_init(d);
}

int clean_run(clean_worker *w, clean_doc *d)
{
    const clean_cascade *cc = w->cc;
    w->doc = d;
    cx_text_changed(w);
    d->reason = CR_NONE;
    d->drop_filter = -1;
    d->n_fails = 0;
    if (d->text.len == 0) sb_grow(&d->text, 1);   /* a valid, empty C string */
    /* Every filter (CLD2, PCRE2 without UTF checks) relies on valid UTF-8:
     * when normalize does not repair it, repair it here anyway. */
    if (!d->utf8_ok && !(cc->cfg.enabled[CF_NORMALIZE] && cc->cfg.normalize.repair) &&
        !utf8_is_valid(d->text.buf, d->text.len)) {
        sb_reset(&w->tmp);
        d->utf8_repairs += utf8_repair(&w->tmp, d->text.buf, d->text.len);
        cx_set_text(w, CF_NORMALIZE, &w->tmp);
    }
    for (int f = 0; f < CF_N; f++) {
        if (!cc->cfg.enabled[f]) continue;
        int r = filters[f].apply(w);
        if (r == CR_NONE) continue;
        d->fails[d->n_fails].filter = f;
        d->fails[d->n_fails].reason = r;
        d->n_fails++;
        if (d->reason == CR_NONE) {
            d->reason = r;
            d->drop_filter = f;
        }
        if (!d->tag || r == CR_DOC_TOO_LARGE) break;   /* the size guard holds in tag mode too */
    }
    w->doc = NULL;
    /* after an outlier (a multi-megabyte text), give its scratch back so a
     * worker's memory tracks typical documents, not the largest one seen */
    if (w->w.cap > (1u << 20)) cx_words_free(&w->w);
    if (w->t1.cap > (1u << 22)) htab_free(&w->t1);
    if (w->pos_cap > (1u << 21)) {
        free(w->slot);
        w->slot = NULL;
        w->pos_cap = 0;
    }
    if (w->tmp.cap > (64u << 20)) sb_free(&w->tmp);
    if (w->tmp2.cap > (64u << 20)) sb_free(&w->tmp2);
    return d->tag || d->reason == CR_NONE;
}
