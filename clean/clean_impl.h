/* clean_impl.h - private to clean/: the configuration record, the loaded
 * cascade, the per-thread context with its shared text analysis, and the
 * entry point of every filter family. */
#ifndef QUERN_CLEAN_IMPL_H
#define QUERN_CLEAN_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "clean.h"

/* ---- configuration: every field is a parameter in clean.c's table ---- */
struct clean_config {
    unsigned char enabled[CF_N];
    struct { int64_t max_bytes; } size;
    struct { int repair, controls, line_endings, nfc; } normalize;
    struct { char *domains, *substrings, *regex; } url;
    struct { char *keep; double threshold; int64_t max_bytes; } lang;
    struct { char *file; } text_regex;
    struct {
        double dup_line_frac, dup_para_frac, dup_line_char_frac, dup_para_char_frac;
        double top[3];   /* n = 2, 3, 4 */
        double dup[6];   /* n = 5 .. 10 */
    } grep;
    struct {
        int64_t min_doc_words, max_doc_words;
        double min_avg_word_length, max_avg_word_length, max_symbol_word_ratio;
        double max_bullet_lines_ratio, max_ellipsis_lines_ratio, max_non_alpha_words_ratio;
        int64_t min_stop_words;
        char *stop_words;
    } gq;
    struct {
        int remove_citations, terminal_punct;
        int64_t min_num_sentences, min_words_per_line, max_word_length;
        int lorem_ipsum, javascript, curly_bracket, policy;
    } c4;
    struct { char *file; char *no_boundary_langs; char *default_lang; } bw;
    struct {
        double line_punct_thr;
        int line_punct_exclude_zero;
        double short_line_thr;
        int64_t short_line_length;
        double char_duplicates_ratio, new_line_ratio;
    } fw;
    struct { int email, ipv4; char *email_placeholder, *ip_placeholder; } pii;
};

/* ---- resources of individual families (defined in their files) ---- */
typedef struct rules_res rules_res;
typedef struct badwords_res badwords_res;
typedef struct strset strset;

struct clean_cascade {
    clean_config cfg;          /* deep copy */
    rules_res *rules;          /* url + text_regex */
    badwords_res *badwords;
    /* stop words for gopher_quality (at most 64, matched exactly) */
    char **stop_words;
    size_t n_stop_words;
    size_t stop_len[64];
    size_t stop_max_len;
    unsigned char stop_first[256];   /* first bytes of stop words */
    /* lang.keep split: ISO codes ("en", "zh-Hant") */
    char **keep_langs;
    size_t n_keep_langs;
};

/* ---- per-thread context and the shared analysis of the current text ---- */

/* Word flags */
enum { WF_SYMBOL = 1, WF_ALPHA = 2 };

typedef struct cx_words {
    /* per token (see text.c for the splitting rules) */
    uint32_t *off, *blen;      /* byte span in the text */
    uint32_t *cum;             /* cum[i] = characters in tokens [0, i) */
    uint64_t *h;               /* 64-bit hash of the token's bytes */
    uint8_t *flags;
    size_t n, cap;
    /* whole-document statistics gathered in the same pass */
    uint64_t n_nonsym;         /* tokens with a character that is not punctuation */
    uint64_t nonsym_chars;     /* their total length in characters */
    uint64_t n_alpha;          /* tokens with at least one letter */
    uint64_t stop_mask;        /* bit i: stop word i seen */
} cx_words;

/* Open-addressing hash table keyed by 64-bit hashes, cleared in O(1) by a
 * generation counter. Used for n-grams, lines and paragraphs. */
typedef struct htab_entry {
    uint64_t key;
    uint32_t gen;              /* == htab.cur when the slot is in use */
    uint32_t a;                /* payload: a count, or an offset */
} htab_entry;

typedef struct htab {
    htab_entry *e;             /* 16 bytes a slot: four to a cache line */
    uint32_t *b;               /* second payload (first index, or length), by slot */
    size_t cap;                /* power of two */
    unsigned shift;            /* 64 - log2(cap) */
    uint32_t cur;
} htab;

typedef struct rules_scratch rules_scratch;

struct clean_worker {
    const clean_cascade *cc;
    clean_doc *doc;
    /* analysis cache, valid for doc->text until cx_text_changed() */
    int have_chars;
    uint64_t nchars;
    int have_words;
    cx_words w;
    htab t1;
    uint32_t *slot;            /* n-gram positions and slots (gopher.c) */
    size_t pos_cap;
    strbuf tmp, tmp2;          /* scratch */
    rules_scratch *rs;
};
typedef struct clean_worker clean_ctx;

/* text.c: analysis and character classes */
void cx_text_changed(clean_ctx *cx);             /* invalidate the cache */
void cx_set_text(clean_ctx *cx, int filter, strbuf *newtext); /* swap in, mark rewritten */
uint64_t cx_nchars(clean_ctx *cx);
const cx_words *cx_words_get(clean_ctx *cx);
uint64_t count_words(const char *s, size_t len);  /* tokens, without storing them */
void cx_words_free(cx_words *w);

void htab_prepare(htab *t, size_t items);        /* empty, room for items */
/* Finds key; returns its slot and sets *found. New keys are inserted. */
size_t htab_slot(htab *t, uint64_t key, int *found);
void htab_free(htab *t);

uint64_t hash_bytes(const char *s, size_t n);    /* well mixed 64-bit */
uint64_t mix64(uint64_t x);

/* UTF-8 of valid text */
static inline uint32_t u8_next(const char *s, size_t len, size_t *i)
{
    const unsigned char *p = (const unsigned char *)s + *i;
    unsigned c = p[0];
    if (c < 0x80) { *i += 1; return c; }
    if (c < 0xE0 && *i + 1 < len) { *i += 2; return ((c & 0x1F) << 6) | (p[1] & 0x3F); }
    if (c < 0xF0 && *i + 2 < len) {
        *i += 3;
        return ((c & 0x0F) << 12) | ((p[1] & 0x3F) << 6) | (p[2] & 0x3F);
    }
    if (*i + 3 < len) {
        *i += 4;
        return ((c & 0x07) << 18) | ((p[1] & 0x3F) << 12) | ((p[2] & 0x3F) << 6) | (p[3] & 0x3F);
    }
    *i = len;
    return 0xFFFD;
}
/* Start of the code point that ends just before byte i (i > 0). */
static inline size_t u8_prev(const char *s, size_t i)
{
    do i--; while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80);
    return i;
}
uint64_t u8_chars(const char *s, size_t len);     /* code points */

/* ASCII character classes (text.c): bits for space, punctuation, letter,
 * \w, Sentence_Terminal */
enum { CC_SPACE = 1, CC_PUNCT = 2, CC_ALPHA = 4, CC_WORD = 8, CC_STERM = 16 };
extern unsigned char clean_ascii_class[128];

int cp_is_space(uint32_t cp);    /* Python str.isspace() */
int cp_is_punct(uint32_t cp);    /* our punctuation set (text.c) */
int cp_is_alpha(uint32_t cp);    /* Unicode letters (L*) */
int cp_is_word(uint32_t cp);     /* regex \w: letters, numbers, '_' */
int cp_is_sterm(uint32_t cp);    /* Unicode Sentence_Terminal */
/* NFC quick check is not Yes, or a combining mark: NFC may change the text. */
int cp_nfc_maybe(uint32_t cp);

/* Python str.splitlines(): next line [*b, *e) starting at pos; returns the
 * position after its line break, or len+1 when there is no further line. */
size_t next_line(const char *s, size_t len, size_t pos, size_t *b, size_t *e);
/* Python str.strip()/lstrip()/rstrip() on [b, e). */
void strip_span(const char *s, size_t *b, size_t *e);
size_t lstrip_pos(const char *s, size_t b, size_t e);
size_t rstrip_pos(const char *s, size_t b, size_t e);
/* Sentences in one line (>= 1 if the line has a non-space character). */
size_t count_sentences(const char *s, size_t len);
/* Non-overlapping occurrences of needle (Python str.count). */
uint64_t count_sub(const char *s, size_t len, const char *needle, size_t nlen);

/* ---- filter families: each returns CR_NONE (keep) or a reason ---- */
int size_apply(clean_ctx *cx);
int normalize_apply(clean_ctx *cx);
int url_apply(clean_ctx *cx);
int lang_apply(clean_ctx *cx);
int text_regex_apply(clean_ctx *cx);
int gopher_repetition_apply(clean_ctx *cx);
int gopher_quality_apply(clean_ctx *cx);
int c4_quality_apply(clean_ctx *cx);
int c4_badwords_apply(clean_ctx *cx);
int fineweb_quality_apply(clean_ctx *cx);
int pii_apply(clean_ctx *cx);

/* Resource loading (called by clean_cascade_new for enabled filters). */
int rules_load(clean_cascade *cc, char *err, size_t errlen);
void rules_free(rules_res *r);
rules_scratch *rules_scratch_new(const clean_cascade *cc);
void rules_scratch_free(rules_scratch *rs);
int badwords_load(clean_cascade *cc, char *err, size_t errlen);
void badwords_free(badwords_res *b);

/* normalize.c, exposed for tests: rewrite src into out; returns 1 if changed. */
int normalize_text(const clean_config *cfg, const char *src, size_t len, strbuf *out,
                   uint64_t *repairs);
/* known_valid: skip the UTF-8 check (the caller vouches for the text). */
int normalize_text2(const clean_config *cfg, const char *src, size_t len, strbuf *out,
                    uint64_t *repairs, int known_valid);
/* pii.c, exposed for tests: 1 if a.b.c.d is a public (globally routable) address. */
int ipv4_is_public(uint32_t addr);
/* pii.c: replace in src -> out; returns replacements made. */
size_t pii_replace(const clean_config *cfg, const char *src, size_t len, strbuf *out,
                   uint64_t *emails, uint64_t *ips);

/* lang_cld2.cc: C API over CLD2. Fills up to 3 (code, percent) pairs; returns
 * how many, and *reliable. text must be valid UTF-8. */
int cld2_detect(const char *text, size_t len, char codes[3][16], int percent[3], int *reliable);

/* A list file: one entry per line, '#' comments, blank lines ignored. */
int read_list_file(const char *path, char ***items, size_t *n, int lower, char *err,
                   size_t errlen);
void free_list(char **items, size_t n);
/* Split "a,b,c" into a list. */
void split_csv(const char *s, char ***items, size_t *n);

#endif
