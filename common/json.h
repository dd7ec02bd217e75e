/* json.h - a small JSON DOM for configuration-sized files (manifest.json,
 * tokenizer.json, sidecars, stats) and the escaping helpers every writer uses.
 * Documents are NOT parsed with this (doc.h has a streaming, zero-DOM path).
 *
 * Values live in one arena owned by the root; object members keep file order. */
#ifndef QUERN_JSON_H
#define QUERN_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

typedef enum { QJ_NULL, QJ_FALSE, QJ_TRUE, QJ_NUMBER, QJ_STRING, QJ_ARRAY, QJ_OBJECT } qjson_type;

typedef struct qjson qjson;
struct qjson {
    qjson_type type;
    double num;               /* QJ_NUMBER */
    const char *str;          /* QJ_STRING: unescaped, NUL-terminated (may hold NULs: use len) */
    size_t len;               /* string length, or number of children */
    qjson **items;            /* QJ_ARRAY / QJ_OBJECT children */
    const char **keys;        /* QJ_OBJECT: member keys (unescaped, NUL-terminated) */
    size_t *key_lens;
};

/* Parse text; returns the root or NULL with err filled ("line L col C: what"). */
qjson *qjson_parse(const char *text, size_t len, char *err, size_t errlen);
void qjson_free(qjson *root);   /* frees the whole tree (root only) */

const qjson *qjson_get(const qjson *obj, const char *key);   /* NULL if absent / not object */
const qjson *qjson_at(const qjson *arr, size_t i);           /* NULL if out of range */
/* Typed getters with defaults. */
double qjson_num(const qjson *v, double dflt);
const char *qjson_str(const qjson *v, const char *dflt);
/* Path lookup "a.b.c" through objects. */
const qjson *qjson_path(const qjson *root, const char *dotted);

/* Append s as a JSON string literal (with quotes) to out. Invalid UTF-8 is
 * written as U+FFFD. */
void json_put_str(strbuf *out, const char *s, size_t len);
/* Append a double in shortest round-trip form (integers without ".0"). */
void json_put_num(strbuf *out, double v);

#endif
