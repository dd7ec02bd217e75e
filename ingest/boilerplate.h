/* boilerplate.h - main-content selection over the text blocks of a page.
 *
 * In the spirit of jusText and Trafilatura, without language-specific stop
 * word lists: each block is first judged on its own (length, link density,
 * being inside an element whose class/id says navigation, sidebar, footer,
 * cookie banner...; short texts repeated on the page), then short and
 * middling blocks take the verdict of their neighbours (a short line between
 * two good paragraphs is content; the same line between menus is not),
 * headings are kept when content follows them, and if the page marks a main
 * container (<main>, <article>, role=main) blocks outside it go. If all that
 * would keep almost nothing, the verdicts fall back to something gentler, so a
 * page never loses its text to a misfiring rule. */
#ifndef QUERN_INGEST_BOILERPLATE_H
#define QUERN_INGEST_BOILERPLATE_H

#include <stddef.h>
#include <stdint.h>

enum { BK_PARA, BK_HEAD, BK_ITEM, BK_ROW, BK_PRE };

typedef struct hblock {
    size_t off, len;        /* text bytes in the caller's arena */
    size_t chars;           /* code points (CJK ones count 3) */
    size_t link_chars;      /* the same, inside <a href> */
    size_t words;
    uint32_t group;         /* list/table this block belongs to (0: none) */
    uint8_t kind;           /* BK_* */
    uint8_t hint_boiler;    /* inside an element whose class/id says boilerplate */
    uint8_t in_main;        /* inside <main>/<article>/role=main */
    uint8_t punct;          /* has sentence punctuation */
    uint8_t keep;           /* output: 1 keep, 0 drop */
    char prefix[8];         /* "- " or "3. " for list items */
} hblock;

/* Decide hblock.keep for every block. text: the arena the blocks point into. */
void boilerplate_classify(hblock *b, size_t n, const char *text);

#endif
