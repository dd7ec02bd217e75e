/* gopher.c - Gopher repetition and Gopher quality (Rae et al. 2021, table A1),
 * with datatrove's defaults, order and reason names (/work/shared/filters.md).
 *
 * A threshold of 0 disables its test, as in datatrove. Where datatrove would
 * divide by zero (empty text, no words, no lines) the ratio is taken as 0
 * and the test passes; a later test (gopher_short_doc) drops such a text.
 * n-grams are compared as word sequences by 64-bit hashes; lines and
 * paragraphs byte for byte. datatrove joins the words of a 5..10-gram with
 * no separator before comparing, which also equates sequences that differ
 * only in where one word ends and the next begins ("ab c" / "a bc"); we do
 * not (it is rare, and word sequences let us prune, below). */
#include <stdlib.h>
#include <string.h>

#include "clean_impl.h"


/* Pieces of [b, e) separated by runs of at least minrun '\n'. Counts the
 * pieces, the repeated ones (every repeat after the first) and their
 * characters. */
static void piece_dups(clean_ctx *cx, const char *s, size_t b, size_t e, size_t minrun,
                       uint64_t *n_pieces, uint64_t *n_dup, uint64_t *dup_chars)
{
    uint64_t nl = 0;
    for (const char *p = s + b; (p = memchr(p, '\n', (size_t)(s + e - p))); p++) nl++;
    htab *t = &cx->t1;
    htab_prepare(t, (size_t)nl + 1);
    *n_pieces = *n_dup = *dup_chars = 0;
    size_t pb = b;
    for (;;) {
        /* find the next separator run */
        size_t pe = e, next = e + 1;
        const char *p = s + pb;
        while ((p = memchr(p, '\n', (size_t)(s + e - p)))) {
            size_t rb = (size_t)(p - s), re = rb;
            while (re < e && s[re] == '\n') re++;
            if (re - rb >= minrun) {
                pe = rb;
                next = re;
                break;
            }
            p = s + re;
        }
        size_t len = pe - pb;
        uint64_t h = hash_bytes(s + pb, len);
        int found;
        size_t slot = htab_slot(t, h, &found);
        if (!found) {
            t->e[slot].a = (uint32_t)pb;
            t->b[slot] = (uint32_t)len;
        } else if (t->b[slot] == len && memcmp(s + t->e[slot].a, s + pb, len) == 0) {
            (*n_dup)++;
            *dup_chars += u8_chars(s + pb, len);
        }
        (*n_pieces)++;
        if (next > e) break;
        pb = next;
    }
}

/* Hash of the word sequence [i, i+n): equal sequences, equal hashes. */
static inline uint64_t tuple_hash(const uint64_t *h, size_t i, int n)
{
    uint64_t x = h[i];
    for (int k = 1; k < n; k++) x = (x ^ (x >> 31)) * 0x9E3779B97F4A7C15ULL + h[i + k];
    return x;
}

static void ensure_positions(clean_ctx *cx, size_t n)
{
    if (n <= cx->pos_cap) return;
    size_t cap = n + n / 2 + 16;
    uint32_t *slot = realloc(cx->slot, cap * sizeof *slot);
    if (!slot) abort();
    cx->slot = slot;
    cx->pos_cap = cap;
}

static inline double ratio(double num, double den) { return den > 0 ? num / den : 0.0; }

/* The n-gram tests. The n-grams that occur twice or more are found level
 * by level: an n-gram can repeat only where the (n-1)-grams at i and i+1
 * both repeat, so each level looks only at those positions (a sorted list
 * that shrinks fast past n=3). Unique n-grams never change a result: the
 * most frequent n-gram is one that repeats (or, when none does, the first
 * one), and the duplicate scan can only find repeating ones in its "seen"
 * set. */
static int ngram_tests(clean_ctx *cx, const cx_words *w, double total)
{
    const clean_config *c = &cx->cc->cfg;
    size_t nw = w->n;
    int top_n = 1;   /* highest n with an active test */
    for (int n = 2; n <= 4; n++)
        if (c->grep.top[n - 2] > 0) top_n = n;
    for (int n = 5; n <= 10; n++)
        if (c->grep.dup[n - 5] > 0) top_n = n;
    if (top_n < 2 || nw < 2) return CR_NONE;
    ensure_positions(cx, 2 * nw + 2);
    /* cx->slot holds two lists of positions: cur (repeating (n-1)-grams) and
     * cand (this level's candidates) */
    uint32_t *cur = cx->slot, *cand = cx->slot + nw + 1;
    size_t ncur = 0;
    htab *t = &cx->t1;
    for (int n = 2; n <= top_n && (size_t)n <= nw; n++) {
        size_t last = nw - (size_t)n;   /* n-grams start at 0..last */
        size_t ncand = 0;
        if (n == 2) {
            for (size_t i = 0; i <= last; i++) cand[ncand++] = (uint32_t)i;
        } else {
            for (size_t k = 0; k + 1 < ncur; k++)
                if (cur[k + 1] == cur[k] + 1) cand[ncand++] = cur[k];
        }
        uint32_t best_count = 0, best_first = 0;
        size_t nrep = 0;
        if (ncand) {
            htab_prepare(t, ncand);
            for (size_t k = 0; k < ncand; k++) {
                uint32_t i = cand[k];
                int found;
                size_t sl = htab_slot(t, tuple_hash(w->h, i, n), &found);
                if (!found) {
                    t->e[sl].a = 0;
                    t->b[sl] = i;
                }
                uint32_t cnt = ++t->e[sl].a;
                /* Counter.most_common(1): highest count, ties to the first seen */
                if (cnt > best_count || (cnt == best_count && t->b[sl] < best_first)) {
                    best_count = cnt;
                    best_first = t->b[sl];
                }
                cand[k] = (uint32_t)sl;   /* remember the slot, position is cur-derived */
                cur[k] = i;
            }
            /* keep the positions whose n-gram repeats */
            for (size_t k = 0; k < ncand; k++)
                if (t->e[cand[k]].a >= 2) cur[nrep++] = cur[k];
        }
        ncur = nrep;
        if (n <= 4) {
            double thr = c->grep.top[n - 2];
            if (best_count < 2) {   /* nothing repeats: the first n-gram, once */
                best_count = 1;
                best_first = 0;
            }
            double chars = (double)(w->cum[best_first + n] - w->cum[best_first]) + (n - 1);
            if (thr > 0 && ratio(chars * best_count, total) > thr) return CR_TOP_2_GRAM + (n - 2);
        } else {
            double thr = c->grep.dup[n - 5];
            uint64_t repeated = 0;
            if (ncur && thr > 0) {
                htab_prepare(t, ncur);   /* now the "seen" set */
                size_t next_free = 0;    /* positions before this were jumped over */
                for (size_t k = 0; k < ncur; k++) {
                    uint32_t i = cur[k];
                    if (i < next_free) continue;
                    int found;
                    htab_slot(t, tuple_hash(w->h, i, n), &found);
                    if (found) {
                        repeated += w->cum[i + n] - w->cum[i];
                        next_free = i + (size_t)n;
                    }
                }
            }
            if (thr > 0 && ratio((double)repeated, total) > thr) return CR_DUP_5_GRAMS + (n - 5);
        }
        if (ncur == 0 && n >= 4) {
            /* nothing repeats from here on: later top tests are done (n>4),
             * and every duplicate scan finds nothing */
            break;
        }
    }
    return CR_NONE;
}

int gopher_repetition_apply(clean_ctx *cx)
{
    const clean_config *c = &cx->cc->cfg;
    const char *s = sb_str(&cx->doc->text);
    size_t len = cx->doc->text.len;
    double total = (double)cx_nchars(cx);
    uint64_t n, dups, dup_chars;

    size_t b = 0, e = len;
    strip_span(s, &b, &e);
    piece_dups(cx, s, b, e, 2, &n, &dups, &dup_chars);
    if (c->grep.dup_para_frac > 0 && ratio((double)dups, (double)n) > c->grep.dup_para_frac)
        return CR_DUP_PARA_FRAC;
    if (c->grep.dup_para_char_frac > 0 && ratio((double)dup_chars, total) > c->grep.dup_para_char_frac)
        return CR_DUP_PARA_CHAR_FRAC;

    piece_dups(cx, s, 0, len, 1, &n, &dups, &dup_chars);
    if (c->grep.dup_line_frac > 0 && ratio((double)dups, (double)n) > c->grep.dup_line_frac)
        return CR_DUP_LINE_FRAC;
    if (c->grep.dup_line_char_frac > 0 && ratio((double)dup_chars, total) > c->grep.dup_line_char_frac)
        return CR_DUP_LINE_CHAR_FRAC;

    const cx_words *w = cx_words_get(cx);
    int r = ngram_tests(cx, w, total);
    return r;
}

static int starts_with(const char *s, size_t b, size_t e, const char *p, size_t n)
{
    return e - b >= n && memcmp(s + b, p, n) == 0;
}
static int ends_with(const char *s, size_t b, size_t e, const char *p, size_t n)
{
    return e - b >= n && memcmp(s + e - n, p, n) == 0;
}

int gopher_quality_apply(clean_ctx *cx)
{
    const clean_config *c = &cx->cc->cfg;
    const char *s = sb_str(&cx->doc->text);
    size_t len = cx->doc->text.len;
    const cx_words *w = cx_words_get(cx);
    double n_words = (double)w->n;

    if (c->gq.min_doc_words > 0 && w->n_nonsym < (uint64_t)c->gq.min_doc_words)
        return CR_GOPHER_SHORT_DOC;
    if (c->gq.max_doc_words > 0 && w->n_nonsym > (uint64_t)c->gq.max_doc_words)
        return CR_GOPHER_LONG_DOC;

    if (w->n_nonsym > 0) {   /* numpy's mean of nothing is NaN: both tests pass */
        double avg = (double)w->nonsym_chars / (double)w->n_nonsym;
        if (c->gq.min_avg_word_length > 0 && avg < c->gq.min_avg_word_length)
            return CR_GOPHER_BELOW_AVG;
        if (c->gq.max_avg_word_length > 0 && avg > c->gq.max_avg_word_length)
            return CR_GOPHER_ABOVE_AVG;
    }

    if (c->gq.max_symbol_word_ratio > 0) {
        uint64_t hashes = 0;
        for (const char *p = s; (p = memchr(p, '#', (size_t)(s + len - p))); p++) hashes++;
        if (ratio((double)hashes, n_words) > c->gq.max_symbol_word_ratio) return CR_GOPHER_HASHES;
        uint64_t ell = count_sub(s, len, "...", 3) + count_sub(s, len, "\xE2\x80\xA6", 3);
        if (ratio((double)ell, n_words) > c->gq.max_symbol_word_ratio) return CR_GOPHER_ELLIPSIS;
    }

    if (c->gq.max_bullet_lines_ratio > 0 || c->gq.max_ellipsis_lines_ratio > 0) {
        uint64_t lines = 0, bullets = 0, ell = 0;
        size_t pos = 0, lb, le;
        while ((pos = next_line(s, len, pos, &lb, &le)) <= len) {
            lines++;
            size_t l = lstrip_pos(s, lb, le);
            if (starts_with(s, l, le, "\xE2\x80\xA2", 3) || starts_with(s, l, le, "-", 1)) bullets++;
            size_t r = rstrip_pos(s, lb, le);
            if (ends_with(s, lb, r, "...", 3) || ends_with(s, lb, r, "\xE2\x80\xA6", 3)) ell++;
        }
        if (c->gq.max_bullet_lines_ratio > 0 &&
            ratio((double)bullets, (double)lines) > c->gq.max_bullet_lines_ratio)
            return CR_GOPHER_BULLETS;
        if (c->gq.max_ellipsis_lines_ratio > 0 &&
            ratio((double)ell, (double)lines) > c->gq.max_ellipsis_lines_ratio)
            return CR_GOPHER_END_ELLIPSIS;
    }

    if (c->gq.max_non_alpha_words_ratio > 0 && w->n > 0 &&
        (double)w->n_alpha / n_words < c->gq.max_non_alpha_words_ratio)
        return CR_GOPHER_ALPHA;

    if (c->gq.min_stop_words > 0 &&
        (int64_t)__builtin_popcountll(w->stop_mask) < c->gq.min_stop_words)
        return CR_GOPHER_STOP_WORDS;
    return CR_NONE;
}
