/* export.c - see export.h. The llm.c format goes through common/shard.h; the
 * Megatron and datatrove formats stream tokens through outfile.h and keep
 * only the document ends of the current shard in memory (8 bytes a
 * document), writing the index when the shard closes. */
#include "export.h"
#include "../common/cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "../common/outfile.h"
#include "../common/shard.h"

struct mix_sink {
    int fmt, version;
    size_t width;                 /* output bytes per token */
    char *data_path, *index_path, *meta_path;
    char *tok_name;
    qshard_writer *shard;         /* llmc */
    qout *data;                   /* megatron, datatrove */
    XXH3_state_t *hash;
    uint64_t *ends; size_t n_docs, cap;
    uint64_t n_tokens;
    unsigned char *conv;          /* conversion buffer */
    char error[256];
};

#define CONV_TOKENS 65536

static char *joinf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *joinf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0) abort();
    va_end(ap);
    return s;
}

int mix_format_parse(const char *s)
{
    if (!strcmp(s, "llmc") || !strcmp(s, "llm.c")) return MIX_FMT_LLMC;
    if (!strcmp(s, "megatron")) return MIX_FMT_MEGATRON;
    if (!strcmp(s, "datatrove")) return MIX_FMT_DATATROVE;
    return -1;
}

const char *mix_format_name(int fmt)
{
    return fmt == MIX_FMT_MEGATRON ? "megatron" : fmt == MIX_FMT_DATATROVE ? "datatrove" : "llmc";
}

const char *mix_format_data_ext(int fmt) { return fmt == MIX_FMT_DATATROVE ? ".ds" : ".bin"; }

mix_sink *mix_sink_open(int fmt, const char *dir, const char *stem, int version, uint64_t expected_tokens,
                        const char *tok_name, char *err, size_t errlen)
{
    mix_sink *s = calloc(1, sizeof *s);
    if (!s) abort();
    s->fmt = fmt;
    s->version = version;
    s->width = version == 1 ? 2 : 4;
    s->data_path = joinf("%s/%s%s", dir, stem, mix_format_data_ext(fmt));
    if (fmt == MIX_FMT_LLMC) {
        s->shard = qshard_writer_open(s->data_path, version, err, errlen);
        if (!s->shard) {
            mix_sink_abort(s);
            return NULL;
        }
        qshard_writer_expect(s->shard, expected_tokens);
        return s;
    }
    if (fmt == MIX_FMT_MEGATRON) {
        s->index_path = joinf("%s/%s.idx", dir, stem);
    } else {
        s->index_path = joinf("%s.index", s->data_path);
        s->meta_path = joinf("%s.metadata", s->data_path);
    }
    s->tok_name = strdup(tok_name && *tok_name ? tok_name : "Unknown Tokenizer");
    s->data = qout_open(s->data_path, QOUT_PLAIN, err, errlen);
    s->hash = XXH3_createState();
    s->conv = malloc(CONV_TOKENS * 4);
    if (!s->hash || !s->conv || !s->tok_name) abort();
    XXH3_64bits_reset(s->hash);
    if (!s->data) {
        mix_sink_abort(s);
        return NULL;
    }
    return s;
}

static int put_tokens(mix_sink *s, const void *tokens, size_t n, int src_version)
{
    size_t sw = src_version == 1 ? 2 : 4;
    if (sw == s->width) {
        if (qout_write(s->data, tokens, n * sw)) goto werr;
        XXH3_64bits_update(s->hash, tokens, n * sw);
        return 0;
    }
    for (size_t done = 0; done < n;) {
        size_t k = n - done < CONV_TOKENS ? n - done : CONV_TOKENS;
        if (sw == 2) {
            const uint16_t *src = (const uint16_t *)tokens + done;
            uint32_t *dst = (uint32_t *)(void *)s->conv;
            for (size_t i = 0; i < k; i++) dst[i] = src[i];
        } else {
            const uint32_t *src = (const uint32_t *)tokens + done;
            uint16_t *dst = (uint16_t *)(void *)s->conv;
            for (size_t i = 0; i < k; i++) {
                if (src[i] > 0xffff) {
                    snprintf(s->error, sizeof s->error, "%s: token %u does not fit 16 bits", s->data_path, src[i]);
                    return -1;
                }
                dst[i] = (uint16_t)src[i];
            }
        }
        if (qout_write(s->data, s->conv, k * s->width)) goto werr;
        XXH3_64bits_update(s->hash, s->conv, k * s->width);
        done += k;
    }
    return 0;
werr:
    snprintf(s->error, sizeof s->error, "%s: write failed", s->data_path);
    return -1;
}

int mix_sink_add(mix_sink *s, const void *tokens, size_t n, int src_version)
{
    if (s->shard) {
        if (qshard_writer_add_native(s->shard, tokens, n, src_version)) {
            snprintf(s->error, sizeof s->error, "%s", qshard_writer_error(s->shard));
            return -1;
        }
        return 0;
    }
    if (put_tokens(s, tokens, n, src_version)) return -1;
    s->n_tokens += n;
    if (s->n_docs == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 1024;
        s->ends = realloc(s->ends, s->cap * sizeof *s->ends);
        if (!s->ends) abort();
    }
    s->ends[s->n_docs++] = s->n_tokens;
    return 0;
}

static void free_sink(mix_sink *s)
{
    if (s->hash) XXH3_freeState(s->hash);
    free(s->data_path);
    free(s->index_path);
    free(s->meta_path);
    free(s->tok_name);
    free(s->ends);
    free(s->conv);
    free(s);
}

void mix_sink_abort(mix_sink *s)
{
    if (!s) return;
    if (s->shard) qshard_writer_abort(s->shard);
    if (s->data) qout_abort(s->data);
    free_sink(s);
}

const char *mix_sink_error(const mix_sink *s) { return s->error; }

static void put_u64(unsigned char **p, uint64_t v) { memcpy(*p, &v, 8); *p += 8; }

/* Megatron's MMIDIDX index: header, version 1, dtype, counts, then the
 * sequence lengths, byte pointers and document indices (one sequence per
 * document, so document i spans sequences [i, i+1)). */
static int write_megatron_index(mix_sink *s, char *err, size_t errlen)
{
    size_t n = s->n_docs;
    size_t size = 9 + 8 + 1 + 8 + 8 + n * 4 + n * 8 + (n + 1) * 8;
    unsigned char *buf = malloc(size), *p = buf;
    if (!buf) abort();
    memcpy(p, "MMIDIDX\0\0", 9);
    p += 9;
    put_u64(&p, 1);
    *p++ = s->version == 1 ? 8 : 4;   /* uint16 : int32 */
    put_u64(&p, n);
    put_u64(&p, n + 1);
    uint64_t prev = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t len = s->ends[i] - prev;
        if (len > INT32_MAX) {
            qseterr(err, errlen, "%s: a document of %llu tokens does not fit Megatron's int32 lengths",
                   s->index_path, (unsigned long long)len);
            free(buf);
            return -1;
        }
        int32_t l = (int32_t)len;
        memcpy(p, &l, 4);
        p += 4;
        prev = s->ends[i];
    }
    prev = 0;
    for (size_t i = 0; i < n; i++) {
        put_u64(&p, prev * s->width);
        prev = s->ends[i];
    }
    for (size_t i = 0; i <= n; i++) put_u64(&p, i);
    int rc = qout_write_file(s->index_path, buf, size, err, errlen);
    free(buf);
    return rc;
}

int mix_sink_close(mix_sink *s, char hex[17], char *err, size_t errlen)
{
    if (s->shard) {
        int rc = qshard_writer_close(s->shard, hex, err, errlen);
        s->shard = NULL;
        free_sink(s);
        return rc;
    }
    int rc;
    if (s->fmt == MIX_FMT_MEGATRON) {
        rc = write_megatron_index(s, err, errlen);
    } else {
        rc = qout_write_file(s->index_path, s->ends, s->n_docs * sizeof *s->ends, err, errlen);
        if (!rc) {
            /* datatrove's layout: tokenizer name, token count, count with an SI prefix. */
            static const char prefixes[] = " kMGTP";
            double v = (double)s->n_tokens;
            int k = 0;
            while (v >= 1000 && k < 5) { v /= 1000; k++; }
            char human[32];
            if (k) snprintf(human, sizeof human, "%.3g %cT", v, prefixes[k]);
            else snprintf(human, sizeof human, "%.0f T", v);
            char *meta = joinf("%s\n%llu\n%s", s->tok_name, (unsigned long long)s->n_tokens, human);
            rc = qout_write_file(s->meta_path, meta, strlen(meta), err, errlen);
            free(meta);
        }
    }
    if (rc) {
        mix_sink_abort(s);
        return -1;
    }
    snprintf(hex, 17, "%016llx", (unsigned long long)XXH3_64bits_digest(s->hash));
    rc = qout_commit(s->data, err, errlen);
    s->data = NULL;
    free_sink(s);
    return rc;
}
