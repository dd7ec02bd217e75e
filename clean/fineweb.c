/* fineweb.c - FineWeb's own quality filter (datatrove FineWebQualityFilter).
 *
 * Lines are the text split on "\n" with blank lines (only whitespace)
 * removed; none left -> empty. Then, in order:
 *   share of lines ending in a Unicode Sentence_Terminal character (the line
 *     as is, trailing spaces included) < line_punct_thr -> line_punct_ratio
 *     (a share of exactly 0 passes when line_punct_exclude_zero is set);
 *   share of lines of at most short_line_length characters > short_line_thr
 *     -> short_line_ratio;
 *   characters of repeated lines (every repeat after the first) / characters
 *     of the text without "\n" > char_duplicates_ratio -> char_dup_ratio;
 *   count("\n") / words > new_line_ratio -> list_ratio (words as in text.c). */
#include <string.h>

#include "clean_impl.h"

int fineweb_quality_apply(clean_ctx *cx)
{
    const clean_config *c = &cx->cc->cfg;
    const char *s = sb_str(&cx->doc->text);
    size_t len = cx->doc->text.len;
    uint64_t n_lines = 0, punct = 0, shortl = 0, newlines = 0, dup_chars = 0;
    htab *t = &cx->t1;

    for (const char *p = s; (p = memchr(p, '\n', (size_t)(s + len - p))); p++) newlines++;
    htab_prepare(t, (size_t)newlines + 1);
    size_t b = 0;
    for (;;) {
        const char *nl = memchr(s + b, '\n', len - b);
        size_t e = nl ? (size_t)(nl - s) : len;
        if (lstrip_pos(s, b, e) < e) {   /* not blank */
            n_lines++;
            size_t p = u8_prev(s, e);
            size_t q = p;
            if (cp_is_sterm(u8_next(s, e, &q))) punct++;
            uint64_t chars = u8_chars(s + b, e - b);
            if (chars <= (uint64_t)c->fw.short_line_length) shortl++;
            int found;
            size_t slot = htab_slot(t, hash_bytes(s + b, e - b), &found);
            if (!found) {
                t->e[slot].a = (uint32_t)b;
                t->b[slot] = (uint32_t)(e - b);
            } else if (t->b[slot] == e - b && memcmp(s + t->e[slot].a, s + b, e - b) == 0) {
                dup_chars += chars;
            }
        }
        if (!nl) break;
        b = e + 1;
    }
    if (n_lines == 0) return CR_EMPTY;
    double r = (double)punct / (double)n_lines;
    if (r < c->fw.line_punct_thr && !(r == 0 && c->fw.line_punct_exclude_zero))
        return CR_LINE_PUNCT_RATIO;
    if ((double)shortl / (double)n_lines > c->fw.short_line_thr) return CR_SHORT_LINE_RATIO;
    double den = (double)(cx_nchars(cx) - newlines);
    if (den > 0 && (double)dup_chars / den > c->fw.char_duplicates_ratio) return CR_CHAR_DUP_RATIO;
    uint64_t words = cx->have_words ? cx->w.n : count_words(s, len);
    if (words > 0 && (double)newlines / (double)words > c->fw.new_line_ratio) return CR_LIST_RATIO;
    return CR_NONE;
}
