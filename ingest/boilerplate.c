/* boilerplate.c - keep the main content of a page (see boilerplate.h). */
#include "boilerplate.h"

#include <stdlib.h>
#include <string.h>

enum { C_BAD, C_SHORT, C_NEAR, C_GOOD };

/* Thresholds in code points; the jusText defaults scaled a little down,
 * since we have no stop-word density to confirm prose. */
#define SHORT_CHARS 40
#define LONG_CHARS 200
#define MAX_LINK_DENSITY 0.5
#define GOOD_LINK_DENSITY 0.25
#define RUN_CHARS 300   /* near-good runs this long count as content */

static double link_density(const hblock *b)
{
    return b->chars ? (double)b->link_chars / (double)b->chars : 0.0;
}

/* FNV-1a of a block's text, to find texts repeated on the page. */
static uint64_t text_hash(const char *t, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)t[i]) * 1099511628211ull;
    return h;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Prose that happens to be full of links (wiki articles): sentence
 * punctuation, enough words, some text of its own, inside the page's main
 * container. Menus and link lists have none of these. */
static int linked_prose(const hblock *b)
{
    return b->in_main && b->punct && b->words >= 10 && b->chars - b->link_chars >= 20 &&
           (b->kind == BK_PARA || b->kind == BK_ITEM);
}

/* Which class/id hints the pass in progress honours: 2 all, 1 strong only. */
static __thread int g_use_hints;

static int hinted(const hblock *x)
{
    return (g_use_hints == 2 && x->hint_boiler) || (g_use_hints == 1 && x->hint_boiler == 2);
}

static void initial(const hblock *b, size_t n, const char *text, int use_hints, int *cls)
{
    g_use_hints = use_hints;
    /* Hashes of short/medium texts, sorted, to count repeats. */
    uint64_t *hs = malloc((n ? n : 1) * sizeof *hs), *sorted = malloc((n ? n : 1) * sizeof *hs);
    if (!hs || !sorted) abort();
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        hs[i] = text_hash(text + b[i].off, b[i].len);
        if (b[i].chars < LONG_CHARS && b[i].kind != BK_PRE) sorted[m++] = hs[i];
    }
    qsort(sorted, m, sizeof *sorted, cmp_u64);
    for (size_t i = 0; i < n; i++) {
        const hblock *x = &b[i];
        double ld = link_density(x);
        int c;
        if (hinted(x)) c = C_BAD;
        else if (x->kind == BK_PRE) c = (ld < MAX_LINK_DENSITY) ? C_GOOD : C_BAD;
        else if (ld > MAX_LINK_DENSITY && !linked_prose(x)) c = C_BAD;
        else if (x->chars < SHORT_CHARS) c = C_SHORT;
        else if (x->chars >= LONG_CHARS && (ld <= GOOD_LINK_DENSITY || linked_prose(x))) c = C_GOOD;
        else if (ld <= 0.2 || linked_prose(x)) c = C_NEAR;
        else c = C_BAD;
        if (c != C_BAD && x->kind != BK_PRE && x->chars < LONG_CHARS) {
            uint64_t *lo = bsearch(&hs[i], sorted, m, sizeof *sorted, cmp_u64);
            if (lo) {
                while (lo > sorted && lo[-1] == hs[i]) lo--;
                if (lo + 1 < sorted + m && lo[1] == hs[i]) c = C_BAD;   /* repeated on the page */
            }
        }
        cls[i] = c;
    }
    free(hs);
    free(sorted);
}

/* Nearest non-short, non-heading class before/after i (edges count as bad). */
static int neighbour(const hblock *b, const int *cls, size_t n, size_t i, int dir)
{
    for (long j = (long)i + dir; j >= 0 && j < (long)n; j += dir)
        if (cls[j] != C_SHORT && b[j].kind != BK_HEAD) return cls[j];
    return C_BAD;
}


static void context(const hblock *b, size_t n, int *cls)
{
    /* Near-good blocks next to good content are content; the verdict
     * spreads along runs of near-good blocks. If the page has no good block
     * at all, its near-good blocks are the best it has and stay. */
    int any_good = 0;
    for (size_t i = 0; i < n; i++) any_good |= cls[i] == C_GOOD;
    for (int changed = 1; changed;) {
        changed = 0;
        for (size_t i = 0; i < n; i++)
            if (cls[i] == C_NEAR && (neighbour(b, cls, n, i, -1) == C_GOOD || neighbour(b, cls, n, i, +1) == C_GOOD)) {
                cls[i] = C_GOOD;
                changed = 1;
            }
    }
    /* A run of near-good blocks (with only short blocks and headings in
     * between) that adds up to a few paragraphs is content too: articles
     * written in short paragraphs have no single long block. */
    for (size_t i = 0; i < n;) {
        if (cls[i] != C_NEAR) {
            i++;
            continue;
        }
        size_t j = i, sum = 0, last = i;
        while (j < n && (cls[j] == C_NEAR || cls[j] == C_SHORT || b[j].kind == BK_HEAD)) {
            if (cls[j] == C_NEAR) {
                sum += b[j].chars;
                last = j;
            }
            j++;
        }
        int c = (sum >= RUN_CHARS || !any_good) ? C_GOOD : C_BAD;
        for (size_t k = i; k <= last; k++)
            if (cls[k] == C_NEAR) cls[k] = c;
        i = last + 1;
    }
    /* Runs of short blocks take the verdict of the blocks around them. */
    for (size_t i = 0; i < n;) {
        if (cls[i] != C_SHORT || b[i].kind == BK_HEAD) {
            i++;
            continue;
        }
        size_t j = i;
        size_t chars = 0, links = 0;
        while (j < n && (cls[j] == C_SHORT) && b[j].kind != BK_HEAD) {
            chars += b[j].chars;
            links += b[j].link_chars;
            j++;
        }
        int p = neighbour(b, cls, n, i, -1), q = neighbour(b, cls, n, j - 1, +1);
        int c;
        if (p == C_GOOD && q == C_GOOD) c = C_GOOD;
        else if (p != C_GOOD && q != C_GOOD) c = C_BAD;
        else c = (chars && (double)links / (double)chars < 0.1) ? C_GOOD : C_BAD;
        for (size_t k = i; k < j; k++) cls[k] = c;
        i = j;
    }
    /* Headings: kept when the first content after them, skipping dropped
     * blocks (a table of contents, a note), is kept: a good block, or a
     * kept heading (a chapter title right above a section title). Done
     * from the end so that chains of headings resolve. */
    for (size_t i = n; i-- > 0;) {
        if (b[i].kind != BK_HEAD) continue;
        int c = C_BAD;
        for (size_t j = i + 1; j < n && j < i + 24; j++) {
            if (cls[j] == C_GOOD) {
                c = C_GOOD;
                break;
            }
            if (b[j].kind == BK_HEAD) break;   /* a dropped heading: its section is gone */
        }
        cls[i] = hinted(&b[i]) ? C_BAD : c;
    }
}

static size_t kept_chars(const hblock *b, size_t n, const int *cls)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (cls[i] == C_GOOD) k += b[i].chars;
    return k;
}

void boilerplate_classify(hblock *b, size_t n, const char *text)
{
    if (!n) return;
    int *cls = malloc(n * sizeof *cls);
    if (!cls) abort();
    size_t total = 0, main_chars = 0;
    for (size_t i = 0; i < n; i++) {
        total += b[i].chars;
        if (b[i].in_main) main_chars += b[i].chars;
    }
    initial(b, n, text, 2, cls);
    context(b, n, cls);
    /* A declared main container holding a fair share of the text wins. */
    if (main_chars * 10 >= total * 3) {
        size_t good_in_main = 0;
        for (size_t i = 0; i < n; i++)
            if (b[i].in_main && cls[i] == C_GOOD) good_in_main += b[i].chars;
        if (good_in_main)
            for (size_t i = 0; i < n; i++)
                if (!b[i].in_main) cls[i] = C_BAD;
    }
    /* Fallbacks when the rules above would leave next to nothing. */
    if (kept_chars(b, n, cls) * 10 < total) {
        initial(b, n, text, 1, cls);
        context(b, n, cls);
        if (kept_chars(b, n, cls) * 10 < total) {
            for (size_t i = 0; i < n; i++)
                cls[i] = link_density(&b[i]) <= MAX_LINK_DENSITY && b[i].hint_boiler != 2 ? C_GOOD : C_BAD;
            if (!kept_chars(b, n, cls))
                for (size_t i = 0; i < n; i++) cls[i] = link_density(&b[i]) <= MAX_LINK_DENSITY ? C_GOOD : C_BAD;
        }
    }
    for (size_t i = 0; i < n; i++) b[i].keep = cls[i] == C_GOOD;
    free(cls);
}
