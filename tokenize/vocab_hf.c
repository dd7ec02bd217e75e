/* vocab_hf.c - GPT-2 encoder.json + vocab.bpe and Hugging Face tokenizer.json
 * (byte-level BPE), read and written.
 *
 * Both store tokens in GPT-2's printable byte alphabet. We read their ids as
 * tiktoken ranks (GPT-2's ids are its ranks; a tokenizer.json we write keeps
 * that property), so a vocabulary loaded from either encodes exactly as its
 * .tiktoken form does. The merges are written, not read: they are derived
 * from the ranks the way tiktoken's converter does (a token's merge is the
 * last step of BPE-encoding its own bytes with lower ranks only). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/io.h"
#include "../common/outfile.h"
#include "../common/utf8.h"
#include "bpe.h"
#include "pretok.h"
#include "vocab_internal.h"

void qvocab_copy(qvocab *dst, const qvocab *src)
{
    qvocab_init(dst);
    if (src->name) dst->name = strdup(src->name);
    if (src->path) dst->path = strdup(src->path);
    if (src->pattern) dst->pattern = strdup(src->pattern);
    for (uint32_t id = 0; id < src->n_ids; id++)
        if (qvocab_has(src, id))
            qvocab_add(dst, id, src->bytes.buf + src->off[id], src->len[id], src->special[id]);
    dst->eot = src->eot;
}

/* Byte-level string -> bytes; -1 if a character is outside the alphabet. */
static int bytelevel_decode(const char *s, size_t n, strbuf *out)
{
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        size_t l = utf8_decode(s + i, n - i, &cp);
        if (!l) return -1;
        int b = qvocab_cp_to_byte(cp);
        if (b < 0) return -1;
        sb_addc(out, (char)b);
        i += l;
    }
    return 0;
}

static void bytelevel_encode(const char *s, size_t n, strbuf *out)
{
    for (size_t i = 0; i < n; i++) {
        char u[4];
        size_t l = utf8_encode(qvocab_byte_to_cp((unsigned char)s[i]), u);
        sb_add(out, u, l);
    }
}

static char *name_from_path(const char *path)
{
    /* ".../NAME/tokenizer.json" -> NAME; ".../NAME.json" -> NAME */
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    if (!strcmp(base, "tokenizer.json") || !strcmp(base, "encoder.json")) {
        if (!slash || slash == path) return strdup("bpe");
        const char *q = slash - 1;
        while (q > path && q[-1] != '/') q--;
        return strndup(q, (size_t)(slash - q));
    }
    size_t n = strlen(base);
    if (n > 5 && !strcmp(base + n - 5, ".json")) n -= 5;
    return strndup(base, n);
}

/* The split pattern of a pre_tokenizer node (ByteLevel, Split, Sequence). */
static const char *hf_pattern(const qjson *pt, int *prefix_space)
{
    if (!pt || pt->type != QJ_OBJECT) return NULL;
    const char *type = qjson_str(qjson_get(pt, "type"), "");
    if (!strcmp(type, "Sequence")) {
        const qjson *list = qjson_get(pt, "pretokenizers");
        const char *found = NULL;
        for (size_t i = 0; list && i < list->len; i++) {
            const qjson *it = list->items[i];
            const char *p = hf_pattern(it, prefix_space);
            /* a Split's regex wins over a ByteLevel's built-in one */
            if (p && (!found || !strcmp(qjson_str(qjson_get(it, "type"), ""), "Split"))) found = p;
        }
        return found;
    }
    if (!strcmp(type, "Split")) {
        const char *re = qjson_str(qjson_path(pt, "pattern.Regex"), NULL);
        return re;
    }
    if (!strcmp(type, "ByteLevel")) {
        const qjson *aps = qjson_get(pt, "add_prefix_space");
        if (aps && aps->type == QJ_TRUE) *prefix_space = 1;
        const qjson *ur = qjson_get(pt, "use_regex");
        if (ur && ur->type == QJ_FALSE) return NULL;
        return QPRETOK_GPT2;
    }
    return NULL;
}

int qvocab_from_hf_json(qvocab *v, const qjson *j, const char *path, char *err, size_t errlen)
{
    const qjson *model = qjson_get(j, "model");
    const char *type = qjson_str(qjson_get(model, "type"), "BPE");
    const qjson *vocab = qjson_get(model, "vocab");
    if (strcmp(type, "BPE") || !vocab || vocab->type != QJ_OBJECT) {
        snprintf(err, errlen, "%s: not a BPE tokenizer.json (model.type %s)", path, type);
        return -1;
    }
    const qjson *norm = qjson_get(j, "normalizer");
    if (norm && norm->type != QJ_NULL) {
        snprintf(err, errlen, "%s: normalizers are not supported (byte-level BPE without one only)", path);
        return -1;
    }
    int prefix_space = 0;
    const char *pat = hf_pattern(qjson_get(j, "pre_tokenizer"), &prefix_space);
    if (!pat || prefix_space) {
        snprintf(err, errlen, "%s: %s", path,
                 prefix_space ? "ByteLevel add_prefix_space=true is not supported"
                              : "no split pattern in pre_tokenizer (Split regex or ByteLevel)");
        return -1;
    }
    qvocab_set_pattern(v, pat);
    const qjson *added = qjson_get(j, "added_tokens");
    for (size_t i = 0; added && i < added->len; i++) {
        const qjson *t = added->items[i];
        const qjson *c = qjson_get(t, "content");
        double id = qjson_num(qjson_get(t, "id"), -1);
        if (!c || c->type != QJ_STRING || id < 0 || id >= QVOCAB_NONE ||
            qvocab_add(v, (uint32_t)id, c->str, c->len, 1) < 0) {
            snprintf(err, errlen, "%s: added_tokens[%zu]: bad or duplicate entry", path, i);
            return -1;
        }
    }
    strbuf tok = STRBUF_INIT;
    for (size_t i = 0; i < vocab->len; i++) {
        double id = qjson_num(vocab->items[i], -1);
        if (id < 0 || id >= QVOCAB_NONE) {
            snprintf(err, errlen, "%s: vocab entry %zu: bad id", path, i);
            sb_free(&tok);
            return -1;
        }
        uint32_t uid = (uint32_t)id;
        if (qvocab_has(v, uid) && v->special[uid]) continue;   /* also an added token */
        sb_reset(&tok);
        if (bytelevel_decode(vocab->keys[i], vocab->key_lens[i], &tok) < 0 || !tok.len) {
            snprintf(err, errlen, "%s: token \"%s\" is not in the byte-level alphabet", path,
                     vocab->keys[i]);
            sb_free(&tok);
            return -1;
        }
        if (qvocab_add(v, uid, tok.buf, tok.len, 0) < 0) {
            snprintf(err, errlen, "%s: id %u used twice or above %u", path, uid, QVOCAB_MAX_ID);
            sb_free(&tok);
            return -1;
        }
    }
    sb_free(&tok);
    char *name = name_from_path(path);
    qvocab_set_name(v, name);
    free(name);
    qvocab_default_eot(v);
    return 0;
}

/* vocab.bpe beside encoder.json: every merge must make a token that exists. */
static int check_vocab_bpe(const qvocab *v, const char *path, char *err, size_t errlen)
{
    strbuf sb = STRBUF_INIT, tok = STRBUF_INIT;
    char e2[QERR_LEN];
    if (qread_file(path, &sb, e2, sizeof e2) < 0) {
        sb_free(&sb);
        return 0;   /* optional */
    }
    qvocab tmp;
    qvocab_copy(&tmp, v);
    qbpe *b = qbpe_new(&tmp, e2, sizeof e2);
    int rc = 0;
    size_t line = 0;
    const char *p = sb.buf, *end = sb.buf + sb.len;
    while (b && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        line++;
        if (le > p && *p != '#') {
            const char *sp = memchr(p, ' ', (size_t)(le - p));
            sb_reset(&tok);
            if (!sp || bytelevel_decode(p, (size_t)(sp - p), &tok) < 0 ||
                bytelevel_decode(sp + 1, (size_t)(le - sp - 1), &tok) < 0 ||
                qbpe_rank(b, tok.buf, tok.len) == QVOCAB_NONE) {
                snprintf(err, errlen, "%s: line %zu: merge makes no token of encoder.json", path, line);
                rc = -1;
                break;
            }
        }
        p = nl ? nl + 1 : end;
    }
    if (!b) {
        snprintf(err, errlen, "%s", e2);
        rc = -1;
    }
    qbpe_free(b);
    sb_free(&sb);
    sb_free(&tok);
    return rc;
}

int qvocab_from_gpt2_json(qvocab *v, const qjson *j, const char *path, char *err, size_t errlen)
{
    strbuf tok = STRBUF_INIT;
    for (size_t i = 0; i < j->len; i++) {
        double id = qjson_num(j->items[i], -1);
        if (id < 0 || id >= QVOCAB_NONE) {
            snprintf(err, errlen, "%s: not an encoder.json (entry %zu is not an id)", path, i);
            sb_free(&tok);
            return -1;
        }
        const char *k = j->keys[i];
        int special = !strcmp(k, "<|endoftext|>") || !strcmp(k, "<|startoftext|>");
        sb_reset(&tok);
        if (special) {
            sb_adds(&tok, k);
        } else if (bytelevel_decode(k, j->key_lens[i], &tok) < 0 || !tok.len) {
            snprintf(err, errlen, "%s: token \"%s\" is not in the byte-level alphabet", path, k);
            sb_free(&tok);
            return -1;
        }
        if (qvocab_add(v, (uint32_t)id, tok.buf, tok.len, special) < 0) {
            snprintf(err, errlen, "%s: id %u used twice or above %u", path, (uint32_t)id, QVOCAB_MAX_ID);
            sb_free(&tok);
            return -1;
        }
    }
    sb_free(&tok);
    qvocab_set_pattern(v, QPRETOK_GPT2);
    char *name = name_from_path(path);
    qvocab_set_name(v, !strcmp(name, "encoder") || !strcmp(name, "bpe") ? "gpt2" : name);
    free(name);
    qvocab_default_eot(v);
    strbuf bpe = STRBUF_INIT;
    const char *slash = strrchr(path, '/');
    if (slash) sb_add(&bpe, path, (size_t)(slash - path + 1));
    sb_adds(&bpe, "vocab.bpe");
    int rc = check_vocab_bpe(v, bpe.buf, err, errlen);
    sb_free(&bpe);
    return rc;
}

/* ---------------- writers ---------------- */

/* Append the merges (byte-level "left right" strings, rank order) as a JSON
 * array body or as vocab.bpe lines. */
static int put_merges(const qvocab *v, strbuf *out, int json, char *err, size_t errlen)
{
    qvocab tmp;
    qvocab_copy(&tmp, v);
    qbpe *b = qbpe_new(&tmp, err, errlen);
    if (!b) return -1;
    qbpe_scratch *s = qbpe_scratch_new();
    strbuf line = STRBUF_INIT;
    int first = 1;
    for (uint32_t id = 0; id < v->n_ids; id++) {
        uint32_t l, r;
        if (!qbpe_merge_of(b, s, id, &l, &r)) continue;
        sb_reset(&line);
        bytelevel_encode(v->bytes.buf + v->off[l], v->len[l], &line);
        sb_addc(&line, ' ');
        bytelevel_encode(v->bytes.buf + v->off[r], v->len[r], &line);
        if (json) {
            if (!first) sb_addc(out, ',');
            sb_adds(out, "\n   ");
            json_put_str(out, line.buf, line.len);
        } else {
            sb_add(out, line.buf, line.len);
            sb_addc(out, '\n');
        }
        first = 0;
    }
    sb_free(&line);
    qbpe_scratch_free(s);
    qbpe_free(b);
    return 0;
}

static void put_vocab_object(const qvocab *v, strbuf *out, int with_special)
{
    strbuf tok = STRBUF_INIT;
    int first = 1;
    sb_addc(out, '{');
    for (uint32_t id = 0; id < v->n_ids; id++) {
        if (!qvocab_has(v, id) || (v->special[id] && !with_special)) continue;
        sb_reset(&tok);
        if (v->special[id]) sb_add(&tok, v->bytes.buf + v->off[id], v->len[id]);
        else bytelevel_encode(v->bytes.buf + v->off[id], v->len[id], &tok);
        if (!first) sb_addc(out, ',');
        first = 0;
        sb_adds(out, "\n  ");
        json_put_str(out, tok.buf, tok.len);
        sb_addf(out, ":%u", id);
    }
    sb_adds(out, "}");
    sb_free(&tok);
}

int qvocab_save_hf(const qvocab *v, const char *path, char *err, size_t errlen)
{
    strbuf o = STRBUF_INIT;
    sb_adds(&o, "{\"version\":\"1.0\",\"truncation\":null,\"padding\":null,\n\"added_tokens\":[");
    int first = 1;
    for (uint32_t id = 0; id < v->n_ids; id++) {
        if (!qvocab_has(v, id) || !v->special[id]) continue;
        if (!first) sb_addc(&o, ',');
        first = 0;
        sb_addf(&o, "\n {\"id\":%u,\"content\":", id);
        json_put_str(&o, v->bytes.buf + v->off[id], v->len[id]);
        sb_adds(&o, ",\"single_word\":false,\"lstrip\":false,\"rstrip\":false,"
                    "\"normalized\":false,\"special\":true}");
    }
    sb_adds(&o, "],\n\"normalizer\":null,\n\"pre_tokenizer\":");
    if (v->pattern && !strcmp(v->pattern, QPRETOK_GPT2)) {
        sb_adds(&o, "{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"trim_offsets\":true,"
                    "\"use_regex\":true}");
    } else {
        sb_adds(&o, "{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"Split\",\"pattern\":{\"Regex\":");
        json_put_str(&o, v->pattern ? v->pattern : "", v->pattern ? strlen(v->pattern) : 0);
        sb_adds(&o, "},\"behavior\":\"Isolated\",\"invert\":false},{\"type\":\"ByteLevel\","
                    "\"add_prefix_space\":false,\"trim_offsets\":true,\"use_regex\":false}]}");
    }
    sb_adds(&o, ",\n\"post_processor\":null,\n\"decoder\":{\"type\":\"ByteLevel\",\"add_prefix_space\":true,"
                "\"trim_offsets\":true,\"use_regex\":true},\n\"model\":{\"type\":\"BPE\",\"dropout\":null,"
                "\"unk_token\":null,\"continuing_subword_prefix\":null,\"end_of_word_suffix\":null,"
                "\"fuse_unk\":false,\"byte_fallback\":false,\"ignore_merges\":true,\n \"vocab\":");
    put_vocab_object(v, &o, 0);
    sb_adds(&o, ",\n \"merges\":[");
    if (put_merges(v, &o, 1, err, errlen) < 0) {
        sb_free(&o);
        return -1;
    }
    sb_adds(&o, "]}}\n");
    int rc = qout_write_file(path, o.buf, o.len, err, errlen);
    sb_free(&o);
    return rc;
}

int qvocab_save_gpt2(const qvocab *v, const char *encoder_json, const char *vocab_bpe, char *err,
                     size_t errlen)
{
    strbuf o = STRBUF_INIT;
    put_vocab_object(v, &o, 1);
    sb_addc(&o, '\n');
    int rc = qout_write_file(encoder_json, o.buf, o.len, err, errlen);
    if (rc == 0) {
        sb_reset(&o);
        sb_adds(&o, "#version: 0.2\n");
        rc = put_merges(v, &o, 0, err, errlen);
        if (rc == 0) rc = qout_write_file(vocab_bpe, o.buf, o.len, err, errlen);
    }
    sb_free(&o);
    return rc;
}
