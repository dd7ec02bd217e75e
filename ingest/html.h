/* html.h - HTML to plain text with gumbo (a full HTML5 parser).
 *
 * Dropped always: script, style, noscript, template, svg, math, nav, header,
 * footer, aside, form (and form controls), iframe/object/embed/canvas,
 * audio/video, and hidden elements (the hidden attribute, aria-hidden=true,
 * style display:none / visibility:hidden). Layout: every block element starts
 * a new paragraph (blank line between paragraphs), list items become "- x" or
 * "1. x" lines, table rows become lines with cells joined by " | ", <br> is a
 * newline, <pre> keeps its whitespace; elsewhere whitespace runs collapse to
 * one space. Entities are decoded by the parser.
 *
 * main_content = 1 keeps only the main content (boilerplate.h); 0 keeps
 * every block. The <title> goes to `title`. */
#ifndef QUERN_INGEST_HTML_H
#define QUERN_INGEST_HTML_H

#include <stddef.h>

#include "../common/strbuf.h"

typedef struct html_ctx html_ctx;   /* per-thread scratch */

html_ctx *html_new(void);
void html_free(html_ctx *c);

/* utf8: valid UTF-8 (charset.h makes it so). text and title are replaced. */
void html_extract(html_ctx *c, const char *utf8, size_t n, int main_content, strbuf *text,
                  strbuf *title);

#endif
