/* ini.c - the pipeline file's syntax: [sections] of `key = value` lines,
 * '#' or ';' comment lines, a trailing backslash continuing a value on the
 * next line; and the shell-like word splitting of option values. */
#include "pipeline.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n);
    if (!p) abort();
    return p;
}

static char *dupn(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (!d) abort();
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

static void trim(const char **s, const char **e)
{
    while (*s < *e && isspace((unsigned char)**s)) (*s)++;
    while (*e > *s && isspace((unsigned char)(*e)[-1])) (*e)--;
}

static int valid_name(const char *s, const char *e)
{
    if (s == e) return 0;
    for (; s < e; s++)
        if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.') return 0;
    return 1;
}

qpl_section *qpl_ini_section(qpl_ini *ini, const char *name)
{
    for (size_t i = 0; i < ini->n_sec; i++)
        if (!strcmp(ini->sec[i].name, name)) return &ini->sec[i];
    return NULL;
}

static qpl_section *add_section(qpl_ini *ini, const char *name, size_t n, int line)
{
    if (ini->n_sec == ini->cap_sec) {
        ini->cap_sec = ini->cap_sec ? ini->cap_sec * 2 : 8;
        ini->sec = xrealloc(ini->sec, ini->cap_sec * sizeof *ini->sec);
    }
    qpl_section *s = &ini->sec[ini->n_sec++];
    memset(s, 0, sizeof *s);
    s->name = dupn(name, n);
    s->line = line;
    return s;
}

static void add_kv(qpl_section *s, char *key, char *val, int line)
{
    if (s->n_kv == s->cap_kv) {
        s->cap_kv = s->cap_kv ? s->cap_kv * 2 : 8;
        s->kv = xrealloc(s->kv, s->cap_kv * sizeof *s->kv);
    }
    s->kv[s->n_kv++] = (qpl_kv){ key, val, line, 0 };
}

int qpl_ini_parse(qpl_ini *ini, const char *text, size_t len, const char *name,
                  char *err, size_t errlen)
{
    memset(ini, 0, sizeof *ini);
    qpl_section *cur = NULL;
    const char *p = text, *end = text + len;
    int line = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        line++;
        const char *s = p, *e = le;
        p = nl ? nl + 1 : end;
        if (memchr(s, '\0', (size_t)(e - s))) {
            snprintf(err, errlen, "%s:line %d: NUL byte in the file", name, line);
            goto fail;
        }
        trim(&s, &e);
        if (s == e || *s == '#' || *s == ';') continue;
        if (*s == '[') {
            if (e[-1] != ']') {
                snprintf(err, errlen, "%s:line %d: section header without closing ']'", name, line);
                goto fail;
            }
            const char *ns = s + 1, *ne = e - 1;
            trim(&ns, &ne);
            if (!valid_name(ns, ne)) {
                snprintf(err, errlen, "%s:line %d: bad section name", name, line);
                goto fail;
            }
            char *nm = dupn(ns, (size_t)(ne - ns));
            if (qpl_ini_section(ini, nm)) {
                snprintf(err, errlen, "%s:line %d: section [%s] appears twice", name, line, nm);
                free(nm);
                goto fail;
            }
            free(nm);
            cur = add_section(ini, ns, (size_t)(ne - ns), line);
            continue;
        }
        const char *eq = memchr(s, '=', (size_t)(e - s));
        if (!eq) {
            snprintf(err, errlen, "%s:line %d: expected 'key = value' or '[section]'", name, line);
            goto fail;
        }
        if (!cur) {
            snprintf(err, errlen, "%s:line %d: 'key = value' before any [section]", name, line);
            goto fail;
        }
        const char *ks = s, *ke = eq;
        trim(&ks, &ke);
        if (!valid_name(ks, ke)) {
            snprintf(err, errlen, "%s:line %d: bad key name", name, line);
            goto fail;
        }
        int key_line = line;
        strbuf val = STRBUF_INIT;
        const char *vs = eq + 1, *ve = e;
        trim(&vs, &ve);
        /* A value ending in a backslash continues on the next line. */
        while (ve > vs && ve[-1] == '\\') {
            const char *pe = ve - 1;
            trim(&vs, &pe);
            sb_add(&val, vs, (size_t)(pe - vs));
            if (pe > vs) sb_addc(&val, ' ');
            if (p >= end) break;
            nl = memchr(p, '\n', (size_t)(end - p));
            le = nl ? nl : end;
            line++;
            vs = p;
            ve = le;
            p = nl ? nl + 1 : end;
            trim(&vs, &ve);
        }
        if (!(ve > vs && ve[-1] == '\\')) sb_add(&val, vs, (size_t)(ve - vs));
        /* trailing blank left by a continuation onto an empty line */
        while (val.len && val.buf[val.len - 1] == ' ') val.len--;
        sb_addc(&val, '\0');
        add_kv(cur, dupn(ks, (size_t)(ke - ks)), sb_detach(&val, NULL), key_line);
    }
    return 0;
fail:
    qpl_ini_free(ini);
    return -1;
}

void qpl_ini_free(qpl_ini *ini)
{
    for (size_t i = 0; i < ini->n_sec; i++) {
        for (size_t k = 0; k < ini->sec[i].n_kv; k++) {
            free(ini->sec[i].kv[k].key);
            free(ini->sec[i].kv[k].val);
        }
        free(ini->sec[i].kv);
        free(ini->sec[i].name);
    }
    free(ini->sec);
    memset(ini, 0, sizeof *ini);
}

char **qpl_split_words(const char *s, size_t *n_out, char *err, size_t errlen)
{
    size_t n = 0, cap = 4;
    char **w = malloc(cap * sizeof *w);
    if (!w) abort();
    strbuf cur = STRBUF_INIT;
    int in_word = 0;
    while (*s) {
        char c = *s;
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            if (in_word) {
                if (n + 2 > cap) w = xrealloc(w, (cap *= 2) * sizeof *w);
                w[n++] = qpl_strdup(sb_str(&cur));
                sb_reset(&cur);
                in_word = 0;
            }
            s++;
            continue;
        }
        in_word = 1;
        if (c == '\'') {
            const char *q = strchr(s + 1, '\'');
            if (!q) { snprintf(err, errlen, "unterminated ' quote"); goto fail; }
            sb_add(&cur, s + 1, (size_t)(q - s - 1));
            s = q + 1;
        } else if (c == '"') {
            s++;
            while (*s && *s != '"') {
                if (*s == '\\' && (s[1] == '"' || s[1] == '\\')) s++;
                sb_addc(&cur, *s++);
            }
            if (*s != '"') { snprintf(err, errlen, "unterminated \" quote"); goto fail; }
            s++;
        } else if (c == '\\' && s[1]) {
            sb_addc(&cur, s[1]);
            s += 2;
        } else {
            sb_addc(&cur, c);
            s++;
        }
    }
    if (in_word) {
        if (n + 2 > cap) w = xrealloc(w, (cap *= 2) * sizeof *w);
        w[n++] = qpl_strdup(sb_str(&cur));
    }
    sb_free(&cur);
    w[n] = NULL;
    if (n_out) *n_out = n;
    return w;
fail:
    sb_free(&cur);
    w[n] = NULL;
    qpl_words_free(w);
    return NULL;
}

void qpl_words_free(char **w)
{
    if (!w) return;
    for (char **p = w; *p; p++) free(*p);
    free(w);
}
