/* strbuf.h - a growable byte buffer, used everywhere a string is built.
 *
 * Modelled on git's strbuf: `buf` is always NUL-terminated (so it can be
 * passed to C string functions) but may also hold embedded NULs; `len` is
 * authoritative. A zero-initialised strbuf (STRBUF_INIT) is valid and empty.
 * Allocation failure aborts the process: every stage treats OOM as fatal,
 * and memory limits are enforced by the stages themselves before this point. */
#ifndef QUERN_STRBUF_H
#define QUERN_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct strbuf {
    char *buf;    /* NUL-terminated; never NULL after the first growth */
    size_t len;   /* bytes in use, not counting the terminating NUL */
    size_t cap;   /* bytes allocated */
} strbuf;

#define STRBUF_INIT { NULL, 0, 0 }

void sb_init(strbuf *sb, size_t hint);
void sb_free(strbuf *sb);
/* Ensure room for `extra` more bytes plus the NUL. */
void sb_grow(strbuf *sb, size_t extra);
void sb_reset(strbuf *sb);                        /* len = 0, keeps memory */
void sb_add(strbuf *sb, const void *data, size_t n);
void sb_addc(strbuf *sb, char c);
void sb_adds(strbuf *sb, const char *s);          /* C string */
void sb_addf(strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_vaddf(strbuf *sb, const char *fmt, va_list ap);
void sb_setlen(strbuf *sb, size_t len);           /* len <= cap-1 */
/* Take ownership of the buffer (caller frees); sb becomes empty. */
char *sb_detach(strbuf *sb, size_t *len);
/* Const view that is always a valid C string, even for an untouched strbuf. */
static inline const char *sb_str(const strbuf *sb) { return sb->buf ? sb->buf : ""; }

#endif
