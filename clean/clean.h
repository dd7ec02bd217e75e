/* clean.h - the quality-filter cascade behind `quern clean`, as a library.
 *
 * A cascade is a fixed, documented sequence of filters (clean/README.md).
 * Each filter has a name, parameters with defaults (`quern clean --list`)
 * and reason names; the first failing filter decides (datatrove's order and
 * reason names, /work/shared/filters.md). Some filters rewrite the text
 * (normalize, text_regex line rules, c4_quality line dropping, pii).
 *
 * Use:
 *   clean_config *cfg = clean_config_new();          // preset "fineweb"
 *   clean_config_set(cfg, "gopher_quality.min_doc_words=30", err, n);
 *   clean_cascade *cc = clean_cascade_new(cfg, err, n); // loads word lists etc.
 *   clean_worker *w = clean_worker_new(cc);           // one per thread
 *   clean_doc d; clean_doc_init(&d); sb_add(&d.text, ...); d.url = ...;
 *   if (clean_run(w, &d)) ... kept, d.text possibly rewritten ...
 *
 * A cascade is read-only after creation and may be shared by threads; a
 * worker (scratch buffers, hash tables) belongs to one thread. */
#ifndef QUERN_CLEAN_H
#define QUERN_CLEAN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../common/strbuf.h"

/* The filters, in evaluation order. */
enum clean_filter_id {
    CF_SIZE,              /* documents larger than a byte bound (memory guard) */
    CF_NORMALIZE,         /* Unicode repair, controls, line endings, NFC (rewrites) */
    CF_URL,               /* domain blocklist, banned substrings, URL regexes */
    CF_LANG,              /* CLD2 language ID: sets lang, lang_score */
    CF_TEXT_REGEX,        /* PCRE2 rules on the text: drop doc or drop lines */
    CF_GOPHER_REPETITION,
    CF_GOPHER_QUALITY,
    CF_C4_QUALITY,        /* drops lines (rewrites) and documents */
    CF_C4_BADWORDS,
    CF_FINEWEB_QUALITY,
    CF_PII,               /* e-mail and public IPv4 replacement (rewrites) */
    CF_N
};

/* Reasons a document is dropped (names are datatrove's where it has one). */
enum clean_reason_id {
    CR_NONE = 0,
    CR_DOC_TOO_LARGE,
    CR_URL_DOMAIN, CR_URL_SUBSTRING, CR_URL_REGEX,
    CR_LANG_NOT_ALLOWED, CR_LANG_LOW_SCORE,
    CR_TEXT_REGEX,
    CR_DUP_PARA_FRAC, CR_DUP_PARA_CHAR_FRAC, CR_DUP_LINE_FRAC, CR_DUP_LINE_CHAR_FRAC,
    CR_TOP_2_GRAM, CR_TOP_3_GRAM, CR_TOP_4_GRAM,
    CR_DUP_5_GRAMS, CR_DUP_6_GRAMS, CR_DUP_7_GRAMS, CR_DUP_8_GRAMS, CR_DUP_9_GRAMS,
    CR_DUP_10_GRAMS,
    CR_GOPHER_SHORT_DOC, CR_GOPHER_LONG_DOC, CR_GOPHER_BELOW_AVG, CR_GOPHER_ABOVE_AVG,
    CR_GOPHER_HASHES, CR_GOPHER_ELLIPSIS, CR_GOPHER_BULLETS, CR_GOPHER_END_ELLIPSIS,
    CR_GOPHER_ALPHA, CR_GOPHER_STOP_WORDS,
    CR_LOREM_IPSUM, CR_CURLY_BRACKET, CR_TOO_FEW_SENTENCES,
    CR_BADWORDS,
    CR_EMPTY, CR_LINE_PUNCT_RATIO, CR_SHORT_LINE_RATIO, CR_CHAR_DUP_RATIO, CR_LIST_RATIO,
    CR_N
};

const char *clean_filter_name(int filter);
int clean_filter_index(const char *name);      /* -1 if unknown */
const char *clean_reason_name(int reason);
int clean_reason_filter(int reason);           /* the filter that reports it */

/* ---- configuration ---- */
typedef struct clean_config clean_config;

/* A configuration with every parameter at its default and the "fineweb"
 * preset's filters enabled. */
clean_config *clean_config_new(void);
void clean_config_free(clean_config *c);
/* Presets: "fineweb", "c4", "gopher", "none". Enables that preset's filters
 * (and its parameter tweaks, e.g. c4_quality.terminal_punct=0 for fineweb);
 * earlier --set values are kept. Returns 0, or -1 with err filled. */
int clean_config_preset(clean_config *c, const char *name, char *err, size_t errlen);
/* "filter.param=value". Returns 0, or -1 with err filled. */
int clean_config_set(clean_config *c, const char *assignment, char *err, size_t errlen);
/* Comma-separated filter names: only=1 enables exactly these, only=0 disables them. */
int clean_config_select(clean_config *c, const char *list, int only, char *err, size_t errlen);
void clean_config_enable(clean_config *c, int filter, int on);
int clean_config_enabled(const clean_config *c, int filter);
/* Print every filter (in order) with its parameters, defaults and reasons. */
void clean_list(FILE *f, const clean_config *current);

/* ---- running ---- */
typedef struct clean_cascade clean_cascade;
typedef struct clean_worker clean_worker;

/* Loads the resources the configuration names (lists, rule files). */
clean_cascade *clean_cascade_new(const clean_config *c, char *err, size_t errlen);
void clean_cascade_free(clean_cascade *cc);
int clean_cascade_enabled(const clean_cascade *cc, int filter);

clean_worker *clean_worker_new(const clean_cascade *cc);
void clean_worker_free(clean_worker *w);

typedef struct clean_fail {
    int filter;
    int reason;
} clean_fail;

typedef struct clean_doc {
    /* in */
    strbuf text;               /* the text (valid UTF-8 expected; repaired if not) */
    const char *url;           /* NULL: the document has no URL (URL rules pass) */
    size_t url_len;
    const char *lang_in;       /* language from the input metadata, or NULL */
    int tag;                   /* 1: never stop; run every filter and record each failure */
    int utf8_ok;               /* 1: the caller guarantees valid UTF-8 (qdoc does): skip the check */
    /* out */
    int reason;                /* first failure (CR_NONE: kept) */
    int drop_filter;           /* its filter, -1 if kept */
    clean_fail fails[CF_N];    /* every failing filter, in order (tag mode: all) */
    int n_fails;
    uint32_t rewritten;        /* bit (1 << filter) for each filter that changed the text */
    int lang_set;              /* lang / lang_score valid */
    char lang[16];
    double lang_score;
    uint64_t lines_dropped[CF_N]; /* lines removed per filter (c4_quality, text_regex) */
    uint64_t pii_emails, pii_ips;
    uint64_t utf8_repairs;
} clean_doc;

void clean_doc_init(clean_doc *d);
void clean_doc_reset(clean_doc *d);   /* empties text and results, keeps memory */
void clean_doc_free(clean_doc *d);

/* Runs the cascade on d. Returns 1 if the document is kept (always 1 in tag
 * mode), 0 if dropped (d->reason says why). */
int clean_run(clean_worker *w, clean_doc *d);

#endif
