/* pretok.h - pre-tokenisation: split text into pieces with a PCRE2 pattern.
 *
 * The built-in patterns are tiktoken's, verbatim. PCRE2 is compiled with UTF
 * and UCP (without UCP, \s and \p{..} are ASCII-only) and JIT. Two places
 * where PCRE2 would differ from the Rust/Python regex engines that tiktoken
 * uses are fixed when compiling:
 *   - \s / \S / [..\s..] are rewritten to an explicit White_Space class
 *     (PCRE2 with UCP counts U+180E as space; Unicode >= 6.3 does not);
 *   - '$' matches only at the very end (PCRE2_DOLLAR_ENDONLY), as in Rust;
 *   - with a PCRE2 older than Unicode 16, \p{L} etc. are widened to
 *     tiktoken's Unicode 16 (see qpretok_rewrite).
 * The subject must be valid UTF-8 (validate/repair once per document, see
 * utf8.h): matching is done without UTF checks, which is what keeps
 * repeated matching over one long subject linear instead of quadratic. */
#ifndef QUERN_TOKENIZE_PRETOK_H
#define QUERN_TOKENIZE_PRETOK_H

#include <stddef.h>

/* tiktoken's gpt2 / r50k / p50k pattern (the original GPT-2 regex). */
extern const char QPRETOK_GPT2[];
extern const char QPRETOK_CL100K[];
extern const char QPRETOK_O200K[];

/* Pattern text for a built-in name (gpt2, r50k_base, p50k_base, cl100k_base,
 * o200k_base, and the short forms r50k, p50k, cl100k, o200k); NULL otherwise. */
const char *qpretok_builtin(const char *name);

typedef struct qpretok qpretok;

/* pattern: a built-in name or a regex. NULL + err on a bad pattern. */
qpretok *qpretok_new(const char *pattern, char *err, size_t errlen);
void qpretok_free(qpretok *p);
/* The pattern as given (before the White_Space rewrite). */
const char *qpretok_pattern(const qpretok *p);

/* Per-thread match state (a qpretok may be shared by threads). */
typedef struct qpretok_scratch qpretok_scratch;
qpretok_scratch *qpretok_scratch_new(void);
void qpretok_scratch_free(qpretok_scratch *s);

/* Look at a subject once before splitting it (chooses the compiled form: see
 * pretok.c). qpretok_next does it by itself when `text` is a new pointer;
 * call it explicitly when a buffer is reused for different text. */
void qpretok_prepare(const qpretok *p, qpretok_scratch *s, const char *text, size_t n);

/* Find the next non-empty piece in valid UTF-8 s[0..n) at or after pos.
 * Returns 1 with [*start, *end) set, 0 when there is none, -1 if PCRE2
 * gave up (resource limits; the caller reports it). Pieces cover the text
 * from pos on completely: text that no alternative matches (possible only
 * with custom patterns) comes back as a piece of its own. tiktoken drops
 * such text instead, losing it silently; the built-in patterns match
 * everything, so for them the two agree. */
int qpretok_next(const qpretok *p, qpretok_scratch *s, const char *text, size_t n,
                 size_t pos, size_t *start, size_t *end);

/* The pattern as compiled: \s, \S and \s inside classes become explicit
 * White_Space classes; with unicode_delta, \p{L}, \p{Lu}, \p{Ll}, \p{Lt},
 * \p{Lm}, \p{Lo}, \p{M} and \p{N} also get the code points those categories
 * gained from Unicode 14 to 16 (unicode_delta.h), which tiktoken's regex
 * knows and PCRE2 10.42 does not. Returns a malloc'd pattern, or NULL (err
 * filled) for \S inside a class. */
char *qpretok_rewrite(const char *pattern, int unicode_delta, char *err, size_t errlen);
/* Major Unicode version of the linked PCRE2's tables (14 for 10.42). */
int qpretok_unicode_major(void);

#endif
