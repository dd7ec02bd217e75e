/* html.c - gumbo tree -> text blocks -> text (see html.h). */
#include "html.h"

#include <ctype.h>
#include <stddef.h>
#include <gumbo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "boilerplate.h"

#define MAX_DEPTH 400   /* deeper subtrees are skipped (gumbo itself recurses) */

/* gumbo allocates every node, string and vector separately; a bump arena
 * that is dropped as a whole after each page cuts malloc/free out of the
 * parse (they were a fifth of its time). */
typedef struct arena_chunk {
    struct arena_chunk *next;
    size_t size, used;
    max_align_t data[];
} arena_chunk;

typedef struct arena {
    arena_chunk *head;
    size_t total;
} arena;

#define ARENA_CHUNK (1u << 20)
#define ARENA_KEEP (16u << 20)   /* bytes kept across pages */

static void *arena_alloc(void *ud, size_t n)
{
    arena *a = ud;
    n = (n + 15) & ~(size_t)15;
    arena_chunk *c = a->head;
    if (!c || c->size - c->used < n) {
        size_t size = n > ARENA_CHUNK ? n : ARENA_CHUNK;
        c = malloc(sizeof *c + size);
        if (!c) abort();
        c->size = size;
        c->used = 0;
        c->next = a->head;
        a->head = c;
        a->total += size;
    }
    void *p = (char *)c->data + c->used;
    c->used += n;
    return p;
}

static void arena_free_nothing(void *ud, void *p)
{
    (void)ud;
    (void)p;
}

/* Forget everything allocated; keep up to ARENA_KEEP bytes of chunks. */
static void arena_reset(arena *a)
{
    arena_chunk *keep = NULL, *c = a->head;
    size_t kept = 0;
    while (c) {
        arena_chunk *next = c->next;
        if (kept + c->size <= ARENA_KEEP) {
            c->used = 0;
            c->next = keep;
            keep = c;
            kept += c->size;
        } else {
            free(c);
        }
        c = next;
    }
    a->head = keep;
    a->total = kept;
}

static void arena_release(arena *a)
{
    while (a->head) {
        arena_chunk *next = a->head->next;
        free(a->head);
        a->head = next;
    }
    a->total = 0;
}

struct html_ctx {
    arena mem;           /* gumbo's allocations for the page being parsed */
    strbuf arena;        /* text of all blocks */
    hblock *blocks;
    size_t n_blocks, cap_blocks;
    strbuf cur;          /* inline text being gathered */
    size_t cur_chars, cur_links, cur_words;
    int space_pending, in_word;
    int in_pre, in_link, in_main;
    int boiler, boiler_strong;   /* depth of furniture-named elements around us */
    int kind;
    uint32_t group, next_group;
    char prefix[8];
    size_t skip_until;   /* source offset: text before it belongs to a dropped element */
    int main_content;    /* boilerplate removal on */
    const char *src;     /* the HTML being walked */
    size_t src_len;
};

html_ctx *html_new(void)
{
    html_ctx *c = calloc(1, sizeof *c);
    if (!c) abort();
    return c;
}

void html_free(html_ctx *c)
{
    if (!c) return;
    sb_free(&c->arena);
    sb_free(&c->cur);
    arena_release(&c->mem);
    free(c->blocks);
    free(c);
}

/* ---- gathering inline text ---- */

static void put_text(html_ctx *c, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        int ws = ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f';
        int nbsp = ch == 0xc2 && i + 1 < n && (unsigned char)s[i + 1] == 0xa0;
        if (c->in_pre) {
            if (ch == '\r') continue;
            sb_addc(&c->cur, (char)ch);
            if ((ch & 0xc0) != 0x80 && !ws) c->cur_chars++;
            continue;
        }
        if (ws || nbsp) {
            if (nbsp) i++;
            if (c->cur.len && c->cur.buf[c->cur.len - 1] != '\n') c->space_pending = 1;
            c->in_word = 0;
            continue;
        }
        if (c->space_pending) {
            sb_addc(&c->cur, ' ');
            c->space_pending = 0;
        }
        sb_addc(&c->cur, (char)ch);
        if ((ch & 0xc0) != 0x80) {
            /* CJK ideographs, kana and hangul (U+3000..U+D7FF) say about as
             * much as a short word: they weigh 3 in the length rules. */
            size_t w = (ch >= 0xe3 && ch <= 0xed) ? 3 : 1;
            c->cur_chars += w;
            if (c->in_link) c->cur_links += w;
            if (!c->in_word) c->cur_words++;
            c->in_word = 1;
        }
    }
}

static void put_newline(html_ctx *c)
{
    c->space_pending = 0;
    c->in_word = 0;
    if (c->cur.len && c->cur.buf[c->cur.len - 1] != '\n') sb_addc(&c->cur, '\n');
}

/* Empty table cells leave " |  | " runs: keep one separator between
 * non-empty cells and none at the ends. Returns the new length. */
static size_t squeeze_cells(char *t, size_t n)
{
    size_t o = 0;
    int pending = 0;
    for (size_t i = 0; i < n;) {
        if (i + 3 <= n && !memcmp(t + i, " | ", 3)) {
            pending = o > 0;
            i += 3;
            while (i < n && t[i] == ' ') i++;
            continue;
        }
        if (i + 2 <= n && !memcmp(t + i, "| ", 2) && (i == 0 || t[i - 1] == ' ')) {
            pending = o > 0;
            i += 2;
            continue;
        }
        if (pending) {
            memcpy(t + o, " | ", 3);
            o += 3;
            pending = 0;
        }
        t[o++] = t[i++];
    }
    while (o && (t[o - 1] == ' ' || t[o - 1] == '|')) o--;
    return o;
}

/* End the current block: trimmed text becomes an hblock. */
static void flush(html_ctx *c)
{
    char *t = c->cur.buf;
    size_t s = 0, e = c->cur.len;
    if (!c->in_pre) {
        while (s < e && (t[s] == ' ' || t[s] == '\n')) s++;
    } else {
        while (s < e && t[s] == '\n') s++;   /* a <pre>'s first newline */
    }
    while (e > s && (t[e - 1] == ' ' || t[e - 1] == '\n' || t[e - 1] == '\t')) e--;
    if (c->kind == BK_ROW && !c->in_pre) e = s + squeeze_cells(t + s, e - s);
    if (e > s && c->cur_chars) {
        if (c->n_blocks == c->cap_blocks) {
            c->cap_blocks = c->cap_blocks ? 2 * c->cap_blocks : 64;
            c->blocks = realloc(c->blocks, c->cap_blocks * sizeof *c->blocks);
            if (!c->blocks) abort();
        }
        hblock *b = &c->blocks[c->n_blocks++];
        memset(b, 0, sizeof *b);
        b->off = c->arena.len;
        b->len = e - s;
        sb_add(&c->arena, t + s, e - s);
        b->chars = c->cur_chars;
        b->link_chars = c->cur_links;
        b->words = c->cur_words;
        b->kind = (uint8_t)(c->in_pre ? BK_PRE : c->kind);
        b->group = c->group;
        b->hint_boiler = (uint8_t)(c->boiler_strong ? 2 : c->boiler ? 1 : 0);
        b->in_main = (uint8_t)(c->in_main > 0);
        for (size_t i = s; i < e; i++)
            if (t[i] == '.' || t[i] == '!' || t[i] == '?' || t[i] == ':' || t[i] == ';') b->punct = 1;
        memcpy(b->prefix, c->prefix, sizeof b->prefix);
        c->prefix[0] = 0;   /* a list item's marker goes on its first block only */
    }
    sb_reset(&c->cur);
    c->cur_chars = c->cur_links = c->cur_words = 0;
    c->space_pending = 0;
    c->in_word = 0;
}

/* ---- element classes ---- */

static int is_dropped(GumboTag t)
{
    switch (t) {
    case GUMBO_TAG_SCRIPT: case GUMBO_TAG_STYLE: case GUMBO_TAG_NOSCRIPT: case GUMBO_TAG_TEMPLATE:
    case GUMBO_TAG_SVG: case GUMBO_TAG_MATH: case GUMBO_TAG_NAV: case GUMBO_TAG_HEADER:
    case GUMBO_TAG_FOOTER: case GUMBO_TAG_ASIDE: case GUMBO_TAG_FORM: case GUMBO_TAG_INPUT:
    case GUMBO_TAG_SELECT: case GUMBO_TAG_OPTION: case GUMBO_TAG_BUTTON: case GUMBO_TAG_TEXTAREA:
    case GUMBO_TAG_IFRAME: case GUMBO_TAG_OBJECT: case GUMBO_TAG_EMBED: case GUMBO_TAG_CANVAS:
    case GUMBO_TAG_AUDIO: case GUMBO_TAG_VIDEO: case GUMBO_TAG_MAP: case GUMBO_TAG_HEAD:
    case GUMBO_TAG_APPLET: case GUMBO_TAG_FRAMESET: case GUMBO_TAG_DATALIST:
        return 1;
    default:
        return 0;
    }
}

static int is_block(GumboTag t)
{
    switch (t) {
    case GUMBO_TAG_P: case GUMBO_TAG_DIV: case GUMBO_TAG_SECTION: case GUMBO_TAG_ARTICLE:
    case GUMBO_TAG_MAIN: case GUMBO_TAG_BLOCKQUOTE: case GUMBO_TAG_DD: case GUMBO_TAG_DT:
    case GUMBO_TAG_FIGURE: case GUMBO_TAG_FIGCAPTION: case GUMBO_TAG_ADDRESS: case GUMBO_TAG_CENTER:
    case GUMBO_TAG_DETAILS: case GUMBO_TAG_SUMMARY: case GUMBO_TAG_FIELDSET: case GUMBO_TAG_LEGEND:
    case GUMBO_TAG_BODY: case GUMBO_TAG_HTML: case GUMBO_TAG_HR: case GUMBO_TAG_CAPTION:
    case GUMBO_TAG_UL: case GUMBO_TAG_OL: case GUMBO_TAG_DL: case GUMBO_TAG_TABLE:
    case GUMBO_TAG_THEAD: case GUMBO_TAG_TBODY: case GUMBO_TAG_TFOOT:
    case GUMBO_TAG_HGROUP: case GUMBO_TAG_MENU: case GUMBO_TAG_DIR: case GUMBO_TAG_NOFRAMES:
        return 1;
    default:
        return 0;
    }
}

static int is_heading(GumboTag t)
{
    return t == GUMBO_TAG_H1 || t == GUMBO_TAG_H2 || t == GUMBO_TAG_H3 || t == GUMBO_TAG_H4 ||
           t == GUMBO_TAG_H5 || t == GUMBO_TAG_H6;
}

static const char *attr(const GumboElement *e, const char *name)
{
    GumboAttribute *a = gumbo_get_attribute(&e->attributes, name);
    return a ? a->value : NULL;
}

static int is_hidden(const GumboElement *e)
{
    if (gumbo_get_attribute(&e->attributes, "hidden")) return 1;
    const char *v = attr(e, "aria-hidden");
    if (v && !strcasecmp(v, "true")) return 1;
    v = attr(e, "style");
    if (v) {
        char s[256];
        size_t k = 0;
        for (const char *p = v; *p && k + 1 < sizeof s; p++)
            if (!isspace((unsigned char)*p)) s[k++] = (char)tolower((unsigned char)*p);
        s[k] = 0;
        if (strstr(s, "display:none") || strstr(s, "visibility:hidden")) return 1;
    }
    return 0;
}

/* Words of class/id values that mark page furniture. Strong ones are
 * furniture on any page; weak ones (a table of contents, comments, tags)
 * may be all a page has, so the fallback pass ignores them. */
static const char *const strong_words[] = {
    "nav", "navbar", "navigation", "menu", "menubar", "sidebar", "sidenav", "sphinxsidebar",
    "sphinxsidebarwrapper", "breadcrumb", "breadcrumbs", "footer", "cookie", "cookies", "consent",
    "share", "sharing", "social", "banner", "ad", "ads", "advert", "advertisement", "sponsor",
    "sponsored", "promo", "newsletter", "subscribe", "signup", "toolbar", "pagination", "pager",
    "masthead", "popup", "modal", "skip", "skiplink", "topbar", "searchbox", "editsection",
    "headerlink", "noprint", "catlinks", "printfooter", "navbox", "jump", "related",
};
static const char *const weak_words[] = {
    "toc", "comment", "comments", "widget", "login", "copyright", "disclaimer", "tags", "tagcloud",
};

static int word_in(const char *w, size_t n, const char *const *list, size_t m)
{
    char buf[32];
    if (n == 0 || n >= sizeof buf) return 0;
    for (size_t i = 0; i < n; i++) buf[i] = (char)tolower((unsigned char)w[i]);
    buf[n] = 0;
    for (size_t i = 0; i < m; i++)
        if (!strcmp(buf, list[i])) return 1;
    return 0;
}

/* Does a word of the value (split on space, '-', '_') name furniture?
 * 2: strong, 1: weak, 0: no. */
static int value_says_boiler(const char *v)
{
    if (!v) return 0;
    int best = 0;
    const char *p = v;
    while (*p) {
        while (*p && !isalnum((unsigned char)*p)) p++;
        const char *s = p;
        while (isalnum((unsigned char)*p)) p++;
        size_t n = (size_t)(p - s);
        if (!n) continue;
        if (word_in(s, n, strong_words, sizeof strong_words / sizeof *strong_words)) return 2;
        /* navheader, navfooter, navlinks, ... */
        if (n > 3 && !strncasecmp(s, "nav", 3) && strncasecmp(s, "navy", 4)) return 2;
        if (word_in(s, n, weak_words, sizeof weak_words / sizeof *weak_words)) best = 1;
    }
    return best;
}

static int is_main(const GumboElement *e)
{
    if (e->tag == GUMBO_TAG_MAIN || e->tag == GUMBO_TAG_ARTICLE) return 1;
    const char *r = attr(e, "role");
    if (r && !strcasecmp(r, "main")) return 1;
    const char *id = attr(e, "id");
    if (id && (!strcasecmp(id, "content") || !strcasecmp(id, "main") || !strcasecmp(id, "main-content") ||
               !strcasecmp(id, "maincontent") || !strcasecmp(id, "article")))
        return 1;
    return 0;
}

/* Offset of the next `tag` (such as "</form") after from, or 0. */
static size_t find_end_tag(const html_ctx *c, size_t from, const char *tag)
{
    size_t k = strlen(tag);
    for (size_t i = from; i + k <= c->src_len; i++)
        if (c->src[i] == '<' && !strncasecmp(c->src + i, tag, k)) return i;
    return 0;
}

/* ---- the walk ---- */

static void walk(html_ctx *c, const GumboNode *node, int depth);

static void walk_children(html_ctx *c, const GumboVector *v, int depth)
{
    for (unsigned i = 0; i < v->length; i++) walk(c, v->data[i], depth + 1);
}

static void walk_element(html_ctx *c, const GumboNode *node, int depth)
{
    const GumboElement *e = &node->v.element;
    GumboTag t = e->tag;
    if (is_dropped(t) || is_hidden(e)) {
        /* gumbo 0.10 sometimes hangs a dropped element's own text (e.g. a
         * <form>'s) after it as a sibling; its source offset gives it away. */
        size_t end = e->end_pos.offset;
        if (end <= e->start_pos.offset && t == GUMBO_TAG_FORM) end = find_end_tag(c, e->start_pos.offset, "</form");
        if (end > e->start_pos.offset && end > c->skip_until) c->skip_until = end;
        if (t != GUMBO_TAG_HEAD && is_block(t)) flush(c);
        return;
    }
    if (t == GUMBO_TAG_BR) {
        put_newline(c);
        return;
    }
    if (t == GUMBO_TAG_IMG || t == GUMBO_TAG_WBR) return;

    int save_boiler = c->boiler, save_strong = c->boiler_strong, save_main = c->in_main, save_kind = c->kind, save_link = c->in_link;
    uint32_t save_group = c->group;
    int boiler = 0;
    if (t != GUMBO_TAG_BODY && t != GUMBO_TAG_HTML && t != GUMBO_TAG_MAIN && t != GUMBO_TAG_ARTICLE) {
        int a = value_says_boiler(attr(e, "class")), b = value_says_boiler(attr(e, "id")),
            r = value_says_boiler(attr(e, "role"));
        boiler = a > b ? a : b;
        if (r > boiler) boiler = r;
    }
    if (boiler && c->main_content && !is_block(t) && !is_heading(t) && t != GUMBO_TAG_LI && t != GUMBO_TAG_TR &&
        t != GUMBO_TAG_TD && t != GUMBO_TAG_TH && t != GUMBO_TAG_PRE) {
        /* An inline piece of furniture ("[edit]" links, permalink marks,
         * share buttons) inside content: gone, without touching its block. */
        return;
    }
    if (boiler) c->boiler++;
    if (boiler == 2) c->boiler_strong++;
    if (is_main(e)) c->in_main++;

    if (t == GUMBO_TAG_A && attr(e, "href")) c->in_link++;

    if (t == GUMBO_TAG_PRE || t == GUMBO_TAG_LISTING || t == GUMBO_TAG_XMP || t == GUMBO_TAG_PLAINTEXT) {
        flush(c);
        c->in_pre++;
        walk_children(c, &e->children, depth);
        flush(c);
        c->in_pre--;
    } else if (is_heading(t)) {
        flush(c);
        c->kind = BK_HEAD;
        walk_children(c, &e->children, depth);
        flush(c);
    } else if (t == GUMBO_TAG_LI) {
        flush(c);
        c->kind = BK_ITEM;
        const GumboNode *par = node->parent;
        if (par && par->type == GUMBO_NODE_ELEMENT && par->v.element.tag == GUMBO_TAG_OL) {
            unsigned n = 0;
            for (unsigned i = 0; i < par->v.element.children.length; i++) {
                const GumboNode *k = par->v.element.children.data[i];
                if (k->type == GUMBO_NODE_ELEMENT && k->v.element.tag == GUMBO_TAG_LI) n++;
                if (k == node) break;
            }
            snprintf(c->prefix, sizeof c->prefix, "%u. ", n % 10000);
        } else {
            snprintf(c->prefix, sizeof c->prefix, "- ");
        }
        walk_children(c, &e->children, depth);
        flush(c);
        c->prefix[0] = 0;
    } else if (t == GUMBO_TAG_TR) {
        flush(c);
        c->kind = BK_ROW;
        int cell = 0;
        for (unsigned i = 0; i < e->children.length; i++) {
            const GumboNode *k = e->children.data[i];
            if (k->type == GUMBO_NODE_ELEMENT && (k->v.element.tag == GUMBO_TAG_TD || k->v.element.tag == GUMBO_TAG_TH)) {
                if (cell++ && c->cur.len) {
                    c->space_pending = 0;
                    sb_adds(&c->cur, " | ");
                }
            }
            walk(c, k, depth + 1);
        }
        flush(c);
    } else if (is_block(t)) {
        flush(c);
        if (t == GUMBO_TAG_UL || t == GUMBO_TAG_OL || t == GUMBO_TAG_DL || t == GUMBO_TAG_TABLE ||
            t == GUMBO_TAG_MENU || t == GUMBO_TAG_DIR)
            c->group = ++c->next_group;
        if (t == GUMBO_TAG_DT || t == GUMBO_TAG_DD) c->kind = BK_PARA;
        else if (c->kind == BK_ITEM && (t == GUMBO_TAG_P || t == GUMBO_TAG_DIV)) {
            /* <li><p>..</p></li>: still the list item */
        } else if (t != GUMBO_TAG_UL && t != GUMBO_TAG_OL && t != GUMBO_TAG_TABLE && t != GUMBO_TAG_THEAD &&
                 t != GUMBO_TAG_TBODY && t != GUMBO_TAG_TFOOT)
            c->kind = BK_PARA;
        walk_children(c, &e->children, depth);
        flush(c);
    } else {
        /* Inline (or unknown) element: its text joins the current block. */
        if (t == GUMBO_TAG_TD || t == GUMBO_TAG_TH) c->kind = BK_ROW;
        walk_children(c, &e->children, depth);
    }

    c->boiler = save_boiler;
    c->boiler_strong = save_strong;
    c->in_main = save_main;
    c->kind = save_kind;
    c->in_link = save_link;
    c->group = save_group;
}

static void walk(html_ctx *c, const GumboNode *node, int depth)
{
    if (depth > MAX_DEPTH) return;
    switch (node->type) {
    case GUMBO_NODE_DOCUMENT:
        walk_children(c, &node->v.document.children, depth);
        break;
    case GUMBO_NODE_ELEMENT:
        walk_element(c, node, depth);
        break;
    case GUMBO_NODE_TEXT:
    case GUMBO_NODE_WHITESPACE:
    case GUMBO_NODE_CDATA:
        if (node->v.text.start_pos.offset < c->skip_until && node->v.text.original_text.length) break;
        put_text(c, node->v.text.text, strlen(node->v.text.text));
        break;
    default:   /* comments, templates */
        break;
    }
}

/* First <title> in the document (usually in <head>). */
static const GumboNode *find_title(const GumboNode *n, int depth)
{
    if (depth > 8 || n->type != GUMBO_NODE_ELEMENT) return NULL;
    if (n->v.element.tag == GUMBO_TAG_TITLE) return n;
    if (n->v.element.tag == GUMBO_TAG_BODY || n->v.element.tag == GUMBO_TAG_SVG) return NULL;
    const GumboVector *v = &n->v.element.children;
    for (unsigned i = 0; i < v->length; i++) {
        const GumboNode *r = find_title(v->data[i], depth + 1);
        if (r) return r;
    }
    return NULL;
}

static void collapse_into(strbuf *out, const char *s)
{
    int space = 0;
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f') {
            space = out->len > 0;
            continue;
        }
        if (space) sb_addc(out, ' ');
        space = 0;
        sb_addc(out, (char)ch);
    }
}

void html_extract(html_ctx *c, const char *utf8, size_t n, int main_content, strbuf *text, strbuf *title)
{
    sb_reset(text);
    sb_reset(title);
    sb_reset(&c->arena);
    sb_reset(&c->cur);
    c->n_blocks = 0;
    c->cur_chars = c->cur_links = c->cur_words = 0;
    c->space_pending = c->in_word = c->in_pre = c->in_link = c->boiler = c->boiler_strong = c->in_main = 0;
    c->kind = BK_PARA;
    c->group = c->next_group = 0;
    c->prefix[0] = 0;
    c->skip_until = 0;
    c->src = utf8;
    c->main_content = main_content;
    c->src_len = n;

    GumboOptions opts = kGumboDefaultOptions;
    opts.max_errors = 0;   /* we never look at parse errors; recording them costs time */
    opts.allocator = arena_alloc;
    opts.deallocator = arena_free_nothing;
    opts.userdata = &c->mem;
    GumboOutput *out = gumbo_parse_with_options(&opts, utf8, n);
    if (!out) return;
    const GumboNode *tn = find_title(out->root, 0);
    if (tn && tn->v.element.children.length) {
        const GumboNode *k = tn->v.element.children.data[0];
        if (k->type == GUMBO_NODE_TEXT || k->type == GUMBO_NODE_WHITESPACE) collapse_into(title, k->v.text.text);
    }
    walk(c, out->document, 0);
    flush(c);
    arena_reset(&c->mem);   /* instead of gumbo_destroy_output: all of it lived in the arena */

    if (main_content) boilerplate_classify(c->blocks, c->n_blocks, c->arena.buf);
    else
        for (size_t i = 0; i < c->n_blocks; i++) c->blocks[i].keep = 1;

    const hblock *prev = NULL;
    size_t prev_i = 0;
    for (size_t i = 0; i < c->n_blocks; i++) {
        const hblock *b = &c->blocks[i];
        if (!b->keep) continue;
        if (prev) {
            int tight = b->group && b->group == prev->group && prev_i + 1 == i &&
                        (b->kind == BK_ITEM || b->kind == BK_ROW);
            sb_adds(text, tight ? "\n" : "\n\n");
        }
        sb_adds(text, b->prefix);
        sb_add(text, c->arena.buf + b->off, b->len);
        prev = b;
        prev_i = i;
    }
}
