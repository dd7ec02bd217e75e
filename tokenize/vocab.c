/* vocab.c - the vocabulary model, .tiktoken + sidecar files, the npm
 * tiktoken encoder files, and resolving built-in names (see vocab.h). */
#include "vocab.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <xxhash.h>

#include "../common/io.h"
#include "../common/json.h"
#include "../common/outfile.h"
#include "pretok.h"
#include "vocab_internal.h"

void qvocab_init(qvocab *v)
{
    memset(v, 0, sizeof *v);
    v->eot = QVOCAB_NONE;
}

void qvocab_free(qvocab *v)
{
    free(v->name);
    free(v->path);
    free(v->pattern);
    free(v->len);
    free(v->off);
    free(v->special);
    sb_free(&v->bytes);
    qvocab_init(v);
}

void qvocab_set_name(qvocab *v, const char *name)
{
    free(v->name);
    v->name = name ? strdup(name) : NULL;
}

void qvocab_set_pattern(qvocab *v, const char *pattern)
{
    const char *b = qpretok_builtin(pattern);
    free(v->pattern);
    v->pattern = strdup(b ? b : pattern);
}

int qvocab_add(qvocab *v, uint32_t id, const void *bytes, size_t len, int special)
{
    if (id > QVOCAB_MAX_ID || len >= QVOCAB_NONE) return -1;
    if (id >= v->cap_ids) {
        size_t cap = v->cap_ids ? v->cap_ids : 1024;
        while (cap <= id) cap *= 2;
        v->len = realloc(v->len, cap * sizeof *v->len);
        v->off = realloc(v->off, cap * sizeof *v->off);
        v->special = realloc(v->special, cap);
        if (!v->len || !v->off || !v->special) abort();
        for (size_t i = v->cap_ids; i < cap; i++) {
            v->len[i] = QVOCAB_NONE;
            v->off[i] = 0;
            v->special[i] = 0;
        }
        v->cap_ids = cap;
    }
    if (v->len[id] != QVOCAB_NONE) return -1;
    v->off[id] = v->bytes.len;
    v->len[id] = (uint32_t)len;
    v->special[id] = special ? 1 : 0;
    sb_add(&v->bytes, bytes, len);
    if (id >= v->n_ids) v->n_ids = id + 1;
    if (special) v->n_special++;
    return 0;
}

uint32_t qvocab_special_id(const qvocab *v, const char *text)
{
    size_t tl = strlen(text);
    for (uint32_t id = 0; id < v->n_ids; id++)
        if (v->special[id] && v->len[id] == tl && !memcmp(v->bytes.buf + v->off[id], text, tl))
            return id;
    return QVOCAB_NONE;
}

void qvocab_default_eot(qvocab *v)
{
    if (v->eot != QVOCAB_NONE) return;
    v->eot = qvocab_special_id(v, "<|endoftext|>");
    if (v->eot != QVOCAB_NONE) return;
    for (uint32_t id = 0; id < v->n_ids; id++)
        if (v->special[id] && v->len[id] != QVOCAB_NONE) {
            v->eot = id;
            return;
        }
}

/* ---------------- base64 ---------------- */

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void qb64_encode(const void *data, size_t len, strbuf *out)
{
    const unsigned char *p = data;
    sb_grow(out, (len + 2) / 3 * 4);
    size_t i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t x = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        char q[4] = { B64[x >> 18], B64[(x >> 12) & 63], B64[(x >> 6) & 63], B64[x & 63] };
        sb_add(out, q, 4);
    }
    if (len - i == 1) {
        uint32_t x = (uint32_t)p[i] << 16;
        char q[4] = { B64[x >> 18], B64[(x >> 12) & 63], '=', '=' };
        sb_add(out, q, 4);
    } else if (len - i == 2) {
        uint32_t x = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
        char q[4] = { B64[x >> 18], B64[(x >> 12) & 63], B64[(x >> 6) & 63], '=' };
        sb_add(out, q, 4);
    }
}

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

int qb64_decode(const char *s, size_t len, strbuf *out)
{
    if (len % 4) return -1;
    for (size_t i = 0; i < len; i += 4) {
        int pad2 = s[i + 2] == '=', pad3 = s[i + 3] == '=';
        int a = b64_value((unsigned char)s[i]), b = b64_value((unsigned char)s[i + 1]);
        int c = pad2 ? 0 : b64_value((unsigned char)s[i + 2]), d = pad3 ? 0 : b64_value((unsigned char)s[i + 3]);
        if (a < 0 || b < 0 || c < 0 || d < 0 || (pad2 && !pad3) || ((pad2 || pad3) && i + 4 != len))
            return -1;
        uint32_t x = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | (uint32_t)d;
        sb_addc(out, (char)(x >> 16));
        if (!pad2) sb_addc(out, (char)(x >> 8));
        if (!pad3) sb_addc(out, (char)x);
    }
    return 0;
}

/* ---------------- GPT-2's byte <-> unicode alphabet ---------------- */

static int byte_is_printable(unsigned b)
{
    return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
}

uint32_t qvocab_byte_to_cp(unsigned char b)
{
    if (byte_is_printable(b)) return b;
    uint32_t n = 0;   /* rank of b among the non-printable bytes */
    for (unsigned x = 0; x < b; x++)
        if (!byte_is_printable(x)) n++;
    return 256 + n;
}

int qvocab_cp_to_byte(uint32_t cp)
{
    if (cp < 256) return byte_is_printable(cp) ? (int)cp : -1;
    if (cp >= 256 + 68) return -1;
    uint32_t n = cp - 256;
    for (unsigned x = 0; x < 256; x++)
        if (!byte_is_printable(x) && n-- == 0) return (int)x;
    return -1;
}

/* ---------------- built-ins ---------------- */

typedef struct builtin_special { const char *name; const char *text; uint32_t id; } builtin_special;

static const builtin_special BUILTIN_SPECIALS[] = {
    { "gpt2", "<|endoftext|>", 50256 },
    { "r50k_base", "<|endoftext|>", 50256 },
    { "p50k_base", "<|endoftext|>", 50256 },
    { "p50k_edit", "<|endoftext|>", 50256 },
    { "p50k_edit", "<|fim_prefix|>", 50281 },
    { "p50k_edit", "<|fim_middle|>", 50282 },
    { "p50k_edit", "<|fim_suffix|>", 50283 },
    { "cl100k_base", "<|endoftext|>", 100257 },
    { "cl100k_base", "<|fim_prefix|>", 100258 },
    { "cl100k_base", "<|fim_middle|>", 100259 },
    { "cl100k_base", "<|fim_suffix|>", 100260 },
    { "cl100k_base", "<|endofprompt|>", 100276 },
    { "o200k_base", "<|endoftext|>", 199999 },
    { "o200k_base", "<|endofprompt|>", 200018 },
};

int qvocab_builtin_specials(qvocab *v, const char *name)
{
    int any = 0;
    for (size_t i = 0; i < sizeof BUILTIN_SPECIALS / sizeof BUILTIN_SPECIALS[0]; i++) {
        const builtin_special *b = &BUILTIN_SPECIALS[i];
        if (strcmp(b->name, name)) continue;
        if (qvocab_add(v, b->id, b->text, strlen(b->text), 1) < 0) return -1;
        any = 1;
    }
    return any;
}

char *qvocab_data_dir(void)
{
    strbuf sb = STRBUF_INIT;
    const char *d = getenv("QUERN_DATA");
    if (d && *d) {
        sb_adds(&sb, d);
    } else if ((d = getenv("XDG_DATA_HOME")) && *d) {
        sb_addf(&sb, "%s/quern", d);
    } else {
        const char *home = getenv("HOME");
        sb_addf(&sb, "%s/.local/share/quern", home && *home ? home : ".");
    }
    return sb_detach(&sb, NULL);
}

/* ---------------- .tiktoken + sidecar ---------------- */

int qvocab_parse_tiktoken(qvocab *v, const char *text, size_t len, char *err, size_t errlen)
{
    strbuf tok = STRBUF_INIT;
    size_t line = 0;
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        line++;
        const char *q = le;
        if (q > p && q[-1] == '\r') q--;
        if (q > p) {
            const char *sp = memchr(p, ' ', (size_t)(q - p));
            char *ep;
            unsigned long rank = 0;
            sb_reset(&tok);
            if (sp) {
                errno = 0;
                rank = strtoul(sp + 1, &ep, 10);
            }
            if (!sp || ep != q || errno || rank >= QVOCAB_NONE || qb64_decode(p, (size_t)(sp - p), &tok) < 0 ||
                !tok.len) {
                snprintf(err, errlen, "line %zu: expected \"<base64> <rank>\"", line);
                sb_free(&tok);
                return -1;
            }
            if (qvocab_add(v, (uint32_t)rank, tok.buf, tok.len, 0) < 0) {
                snprintf(err, errlen, "line %zu: rank %lu defined twice or above %u", line, rank, QVOCAB_MAX_ID);
                sb_free(&tok);
                return -1;
            }
        }
        p = nl ? nl + 1 : end;
    }
    sb_free(&tok);
    return 0;
}

/* special_tokens object {text: id} into v. */
static int add_special_object(qvocab *v, const qjson *obj, char *err, size_t errlen)
{
    if (!obj) return 0;
    if (obj->type != QJ_OBJECT) {
        snprintf(err, errlen, "special_tokens is not an object");
        return -1;
    }
    for (size_t i = 0; i < obj->len; i++) {
        double id = qjson_num(obj->items[i], -1);
        if (id < 0 || id >= QVOCAB_NONE || id != (double)(uint32_t)id) {
            snprintf(err, errlen, "special token %s: bad id", obj->keys[i]);
            return -1;
        }
        if (qvocab_add(v, (uint32_t)id, obj->keys[i], obj->key_lens[i], 1) < 0) {
            snprintf(err, errlen, "special token %s: id %u already used or above %u", obj->keys[i], (uint32_t)id,
                     QVOCAB_MAX_ID);
            return -1;
        }
    }
    return 0;
}

static char *base_name(const char *path, const char *strip_ext)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    size_t n = strlen(b), el = strip_ext ? strlen(strip_ext) : 0;
    if (el && n > el && !strcmp(b + n - el, strip_ext)) n -= el;
    return strndup(b, n);
}

static int apply_sidecar(qvocab *v, const char *path, int *found, char *err, size_t errlen)
{
    strbuf sb = STRBUF_INIT;
    char e2[QERR_LEN];
    *found = 0;
    struct stat st;
    if (stat(path, &st) != 0) return 0;
    *found = 1;
    if (qread_file(path, &sb, e2, sizeof e2) < 0) {
        snprintf(err, errlen, "%s", e2);
        sb_free(&sb);
        return -1;
    }
    qjson *j = qjson_parse(sb.buf, sb.len, e2, sizeof e2);
    sb_free(&sb);
    if (!j) {
        snprintf(err, errlen, "%s: %s", path, e2);
        return -1;
    }
    int rc = -1;
    const char *pat = qjson_str(qjson_get(j, "pattern"), NULL);
    const char *name = qjson_str(qjson_get(j, "name"), NULL);
    if (!pat) {
        snprintf(err, errlen, "%s: no \"pattern\"", path);
        goto out;
    }
    qvocab_set_pattern(v, pat);
    if (name) qvocab_set_name(v, name);
    if (add_special_object(v, qjson_get(j, "special_tokens"), e2, sizeof e2) < 0) {
        snprintf(err, errlen, "%s: %s", path, e2);
        goto out;
    }
    const qjson *eot = qjson_get(j, "eot");
    if (eot && eot->type == QJ_NUMBER) {
        if (eot->num < 0 || eot->num >= QVOCAB_NONE || !qvocab_has(v, (uint32_t)eot->num)) {
            snprintf(err, errlen, "%s: \"eot\" is not a token id of the vocabulary", path);
            goto out;
        }
        v->eot = (uint32_t)eot->num;
    } else if (eot && eot->type == QJ_STRING) {
        v->eot = qvocab_special_id(v, eot->str);
        if (v->eot == QVOCAB_NONE) {
            snprintf(err, errlen, "%s: \"eot\" names no special token", path);
            goto out;
        }
    } else if (eot && eot->type != QJ_NULL) {
        snprintf(err, errlen, "%s: \"eot\" must be an id, a special token's text or null", path);
        goto out;
    }
    rc = 0;
out:
    qjson_free(j);
    return rc;
}

int qvocab_load_tiktoken(qvocab *v, const char *path, char *err, size_t errlen)
{
    strbuf sb = STRBUF_INIT;
    char e2[QERR_LEN];
    if (qread_file(path, &sb, e2, sizeof e2) < 0) {
        snprintf(err, errlen, "%s", e2);
        sb_free(&sb);
        return -1;
    }
    int rc = qvocab_parse_tiktoken(v, sb.buf, sb.len, e2, sizeof e2);
    sb_free(&sb);
    if (rc < 0) {
        snprintf(err, errlen, "%s: %s", path, e2);
        return -1;
    }
    char *name = base_name(path, ".tiktoken");
    qvocab_set_name(v, name);
    strbuf side = STRBUF_INIT;
    sb_addf(&side, "%s.json", path);
    int found;
    rc = apply_sidecar(v, side.buf, &found, err, errlen);
    if (rc == 0 && !found) {
        const char *pat = qpretok_builtin(name);
        if (!pat) {
            snprintf(err, errlen, "%s: no sidecar %s (pattern and special tokens) and not a built-in name",
                     path, side.buf);
            rc = -1;
        } else {
            qvocab_set_pattern(v, pat);
            if (qvocab_builtin_specials(v, name) < 0) {
                snprintf(err, errlen, "%s: special token ids collide with ranks", path);
                rc = -1;
            }
        }
    }
    free(name);
    sb_free(&side);
    qvocab_default_eot(v);
    return rc;
}

void qvocab_format_tiktoken(const qvocab *v, strbuf *out)
{
    for (uint32_t id = 0; id < v->n_ids; id++) {
        if (!qvocab_has(v, id) || v->special[id]) continue;
        qb64_encode(v->bytes.buf + v->off[id], v->len[id], out);
        sb_addf(out, " %u\n", id);
    }
}

void qvocab_format_sidecar(const qvocab *v, strbuf *out)
{
    sb_adds(out, "{\"name\":");
    const char *name = v->name ? v->name : "bpe";
    json_put_str(out, name, strlen(name));
    sb_adds(out, ",\n \"pattern\":");
    json_put_str(out, v->pattern ? v->pattern : "", v->pattern ? strlen(v->pattern) : 0);
    sb_addf(out, ",\n \"vocab_size\":%u,\n \"eot\":", v->n_ids);
    if (v->eot == QVOCAB_NONE) sb_adds(out, "null");
    else sb_addf(out, "%u", v->eot);
    sb_adds(out, ",\n \"special_tokens\":{");
    int first = 1;
    for (uint32_t id = 0; id < v->n_ids; id++) {
        if (!qvocab_has(v, id) || !v->special[id]) continue;
        if (!first) sb_addc(out, ',');
        first = 0;
        json_put_str(out, v->bytes.buf + v->off[id], v->len[id]);
        sb_addf(out, ":%u", id);
    }
    sb_adds(out, "}}\n");
}

int qvocab_save_tiktoken(const qvocab *v, const char *path, char *err, size_t errlen)
{
    strbuf sb = STRBUF_INIT;
    qvocab_format_tiktoken(v, &sb);
    int rc = qout_write_file(path, sb.buf, sb.len, err, errlen);
    if (rc == 0) {
        strbuf side = STRBUF_INIT;
        sb_reset(&sb);
        qvocab_format_sidecar(v, &sb);
        sb_addf(&side, "%s.json", path);
        rc = qout_write_file(side.buf, sb.buf, sb.len, err, errlen);
        sb_free(&side);
    }
    sb_free(&sb);
    return rc;
}

void qvocab_hash(const qvocab *v, char hex[17])
{
    strbuf sb = STRBUF_INIT;
    qvocab_format_tiktoken(v, &sb);
    sb_addc(&sb, '\n');
    if (v->pattern) sb_adds(&sb, v->pattern);
    sb_addc(&sb, '\n');
    for (uint32_t id = 0; id < v->n_ids; id++) {
        if (!qvocab_has(v, id) || !v->special[id]) continue;
        sb_addf(&sb, "%u ", id);
        sb_add(&sb, v->bytes.buf + v->off[id], v->len[id]);
        sb_addc(&sb, '\n');
    }
    snprintf(hex, 17, "%016llx", (unsigned long long)XXH3_64bits(sb.buf, sb.len));
    sb_free(&sb);
}

/* ---------------- npm tiktoken encoders/<name>.json ---------------- */

int qvocab_from_npm_json(qvocab *v, const qjson *j, const char *path, char *err, size_t errlen)
{
    const qjson *ranks = qjson_get(j, "bpe_ranks");
    const char *pat = qjson_str(qjson_get(j, "pat_str"), NULL);
    if (!ranks || ranks->type != QJ_STRING || !pat) {
        snprintf(err, errlen, "%s: not an npm tiktoken encoder file (bpe_ranks, pat_str)", path);
        return -1;
    }
    strbuf tok = STRBUF_INIT;
    const char *p = ranks->str, *end = ranks->str + ranks->len;
    while (p < end) {   /* lines: "<label> <first rank> <b64> <b64> ..." */
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *f = p;
        int field = 0;
        unsigned long rank = 0;
        while (f < le) {
            const char *sp = memchr(f, ' ', (size_t)(le - f));
            const char *fe = sp ? sp : le;
            if (field == 1) {
                rank = strtoul(f, NULL, 10);
            } else if (field >= 2 && fe > f) {
                sb_reset(&tok);
                if (qb64_decode(f, (size_t)(fe - f), &tok) < 0 || !tok.len ||
                    qvocab_add(v, (uint32_t)rank, tok.buf, tok.len, 0) < 0) {
                    snprintf(err, errlen, "%s: bpe_ranks: bad token at rank %lu", path, rank);
                    sb_free(&tok);
                    return -1;
                }
                rank++;
            }
            field++;
            f = sp ? sp + 1 : le;
        }
        p = nl ? nl + 1 : end;
    }
    sb_free(&tok);
    qvocab_set_pattern(v, pat);
    char e2[QERR_LEN];
    if (add_special_object(v, qjson_get(j, "special_tokens"), e2, sizeof e2) < 0) {
        snprintf(err, errlen, "%s: %s", path, e2);
        return -1;
    }
    char *name = base_name(path, ".json");
    qvocab_set_name(v, name);
    free(name);
    qvocab_default_eot(v);
    return 0;
}

/* ---------------- dispatch ---------------- */

static int load_json_file(qvocab *v, const char *path, char *err, size_t errlen)
{
    strbuf sb = STRBUF_INIT;
    char e2[QERR_LEN];
    if (qread_file(path, &sb, e2, sizeof e2) < 0) {
        snprintf(err, errlen, "%s", e2);
        sb_free(&sb);
        return -1;
    }
    qjson *j = qjson_parse(sb.buf, sb.len, e2, sizeof e2);
    sb_free(&sb);
    if (!j) {
        snprintf(err, errlen, "%s: %s", path, e2);
        return -1;
    }
    int rc;
    /* an encoder.json maps token strings (which include "model" and
     * "bpe_ranks"!) to numbers, so look at the value types too */
    const qjson *ranks = qjson_get(j, "bpe_ranks"), *model = qjson_get(j, "model");
    if (ranks && ranks->type == QJ_STRING) rc = qvocab_from_npm_json(v, j, path, err, errlen);
    else if (model && model->type == QJ_OBJECT) rc = qvocab_from_hf_json(v, j, path, err, errlen);
    else if (j->type == QJ_OBJECT) rc = qvocab_from_gpt2_json(v, j, path, err, errlen);
    else {
        snprintf(err, errlen, "%s: not a vocabulary file", path);
        rc = -1;
    }
    qjson_free(j);
    return rc;
}

int qvocab_load_npm_json(qvocab *v, const char *path, char *err, size_t errlen)
{
    return load_json_file(v, path, err, errlen);
}
int qvocab_load_hf(qvocab *v, const char *path, char *err, size_t errlen)
{
    return load_json_file(v, path, err, errlen);
}
int qvocab_load_gpt2(qvocab *v, const char *path, char *err, size_t errlen)
{
    return load_json_file(v, path, err, errlen);
}

static int has_suffix(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && !strcmp(s + n - m, suf);
}

static int load_file(qvocab *v, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    int c;
    do c = fgetc(f); while (c == ' ' || c == '\n' || c == '\r' || c == '\t');
    fclose(f);
    if (c == '{' || has_suffix(path, ".json")) return load_json_file(v, path, err, errlen);
    return qvocab_load_tiktoken(v, path, err, errlen);
}

static void set_path(qvocab *v, const char *file)
{
    free(v->path);
    v->path = realpath(file, NULL);
}

static int load_dir(qvocab *v, const char *dir, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        return -1;
    }
    char *found = NULL;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!has_suffix(e->d_name, ".tiktoken") || strstr(e->d_name, ".tmp.")) continue;
        if (!found || strcmp(e->d_name, found) < 0) {
            free(found);
            found = strdup(e->d_name);
        }
        n++;
    }
    closedir(d);
    strbuf p = STRBUF_INIT;
    int rc;
    if (n > 1) {
        snprintf(err, errlen, "%s: %d .tiktoken files; name one", dir, n);
        rc = -1;
    } else if (n == 1) {
        sb_addf(&p, "%s/%s", dir, found);
        rc = qvocab_load_tiktoken(v, p.buf, err, errlen);
        if (rc == 0) set_path(v, p.buf);
    } else {
        struct stat st;
        sb_addf(&p, "%s/tokenizer.json", dir);
        if (stat(p.buf, &st) != 0) {
            sb_reset(&p);
            sb_addf(&p, "%s/encoder.json", dir);
        }
        if (stat(p.buf, &st) != 0) {
            snprintf(err, errlen, "%s: no *.tiktoken, tokenizer.json or encoder.json inside", dir);
            rc = -1;
        } else {
            rc = load_json_file(v, p.buf, err, errlen);
            if (rc == 0) set_path(v, p.buf);
        }
    }
    free(found);
    sb_free(&p);
    return rc;
}

int qvocab_load(qvocab *v, const char *spec, char *err, size_t errlen)
{
    struct stat st;
    if (stat(spec, &st) == 0) {
        if (S_ISDIR(st.st_mode)) return load_dir(v, spec, err, errlen);
        int rc = load_file(v, spec, err, errlen);
        if (rc == 0) set_path(v, spec);
        return rc;
    }
    if (!qpretok_builtin(spec) || strchr(spec, '/')) {
        snprintf(err, errlen, "%s: no such file, and not a built-in vocabulary "
                 "(gpt2, r50k_base, p50k_base, cl100k_base, o200k_base)", spec);
        return -1;
    }
    char *dir = qvocab_data_dir();
    strbuf p = STRBUF_INIT;
    const char *canon = !strcmp(spec, "cl100k") ? "cl100k_base" : !strcmp(spec, "o200k") ? "o200k_base"
                      : !strcmp(spec, "r50k") ? "r50k_base" : !strcmp(spec, "p50k") ? "p50k_base" : spec;
    sb_addf(&p, "%s/tokenizers/%s.tiktoken", dir, canon);
    int rc;
    if (stat(p.buf, &st) == 0) {
        rc = qvocab_load_tiktoken(v, p.buf, err, errlen);
        if (rc == 0) set_path(v, p.buf);
    } else {
        snprintf(err, errlen, "vocabulary '%s' not found at %s: create it offline with "
                 "scripts/vocab-from-npm.sh (QUERN_DATA=%s), or pass a file with --vocab",
                 spec, p.buf, dir);
        rc = -1;
    }
    free(dir);
    sb_free(&p);
    return rc;
}
