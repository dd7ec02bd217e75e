/* strbuf.c - see strbuf.h. Growth is geometric (x1.5) so appends are
 * amortised O(1); the first allocation is at least 64 bytes so that tiny
 * strings do not cause a cascade of reallocations. */
#include "strbuf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oom(size_t n)
{
    fprintf(stderr, "quern: out of memory allocating %zu bytes\n", n);
    abort();
}

void sb_init(strbuf *sb, size_t hint)
{
    sb->buf = NULL;
    sb->len = sb->cap = 0;
    if (hint) sb_grow(sb, hint);
}

void sb_free(strbuf *sb)
{
    free(sb->buf);
    sb->buf = NULL;
    sb->len = sb->cap = 0;
}

void sb_grow(strbuf *sb, size_t extra)
{
    size_t need = sb->len + extra + 1;
    if (need < sb->len) oom(SIZE_MAX); /* overflow */
    if (need <= sb->cap) return;
    size_t cap = sb->cap ? sb->cap + sb->cap / 2 : 64;
    if (cap < need) cap = need;
    char *p = realloc(sb->buf, cap);
    if (!p) oom(cap);
    if (!sb->buf) p[0] = '\0';
    sb->buf = p;
    sb->cap = cap;
}

void sb_reset(strbuf *sb)
{
    sb->len = 0;
    if (sb->buf) sb->buf[0] = '\0';
}

void sb_add(strbuf *sb, const void *data, size_t n)
{
    sb_grow(sb, n);
    if (n) memcpy(sb->buf + sb->len, data, n);
    sb->len += n;
    sb->buf[sb->len] = '\0';
}

void sb_addc(strbuf *sb, char c)
{
    sb_grow(sb, 1);
    sb->buf[sb->len++] = c;
    sb->buf[sb->len] = '\0';
}

void sb_adds(strbuf *sb, const char *s) { sb_add(sb, s, strlen(s)); }

void sb_vaddf(strbuf *sb, const char *fmt, va_list ap)
{
    va_list cp;
    va_copy(cp, ap);
    sb_grow(sb, 64);
    int n = vsnprintf(sb->buf + sb->len, sb->cap - sb->len, fmt, cp);
    va_end(cp);
    if (n < 0) return;
    if ((size_t)n >= sb->cap - sb->len) {
        sb_grow(sb, (size_t)n);
        vsnprintf(sb->buf + sb->len, sb->cap - sb->len, fmt, ap);
    }
    sb->len += (size_t)n;
}

void sb_addf(strbuf *sb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sb_vaddf(sb, fmt, ap);
    va_end(ap);
}

void sb_setlen(strbuf *sb, size_t len)
{
    if (len && len >= sb->cap) sb_grow(sb, len - sb->len);
    sb->len = len;
    if (sb->buf) sb->buf[len] = '\0';
}

char *sb_detach(strbuf *sb, size_t *len)
{
    if (!sb->buf) sb_grow(sb, 0);
    char *p = sb->buf;
    if (len) *len = sb->len;
    sb->buf = NULL;
    sb->len = sb->cap = 0;
    return p;
}
