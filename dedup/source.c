/* source.c - documents in, features out: lines are read on the main thread
 * (qdoc_reader), parsed, normalised and signed by the worker threads in
 * batches, and handed back in input order (pool.h), so every mode sees the
 * same documents with the same references whatever -j is. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/cli.h"
#include "engine.h"

#define BATCH_DOCS 256
#define BATCH_BYTES (4u << 20)

static void *xcalloc(size_t n, size_t sz)
{
    void *p = calloc(n ? n : 1, sz);
    if (!p) abort();
    return p;
}

void dd_signer_init(dd_signer *s, const dd_opts *o)
{
    memset(s, 0, sizeof *s);
    s->o = o;
    unsigned k = o->params.bands * o->params.rows;
    dd_minhash_init(&s->mh, k ? k : 1, o->params.seed);
    s->sig = xcalloc(k ? k : 1, sizeof *s->sig);
    qdoc_init(&s->doc);
}

void dd_signer_free(dd_signer *s)
{
    dd_minhash_free(&s->mh);
    sb_free(&s->norm);
    sb_free(&s->tmp);
    sb_free(&s->arena);
    dd_u64vec_free(&s->sh);
    free(s->sig);
    qdoc_free(&s->doc);
}

static double thread_cpu(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

void dd_signer_text(dd_signer *s, const char *text, size_t len, const char *url, size_t url_len,
                    int keep_shingles, dd_feat *f)
{
    const dd_opts *o = s->o;
    f->text_len = len;
    sb_reset(&s->norm);
    dd_normalize(text, len, &s->norm);
    if (o->exact & DD_EXACT_TEXT) f->text_key = dd_exact_key(s->norm.buf, s->norm.len);
    if ((o->exact & DD_EXACT_URL) && url) {
        f->url_key = dd_exact_key(url, url_len);
        f->has_url = 1;
    }
    if (o->near) {
        dd_shingles(s->norm.buf, s->norm.len, o->params.kind, o->params.ngram, &s->sh);
        f->no_shingles = s->sh.n == 0;
        if (!f->no_shingles) {
            dd_minhash_sign(&s->mh, s->sh.v, s->sh.n, s->sig);
            dd_band_keys(s->sig, o->params.bands, o->params.rows, f->band_keys);
        }
        if (keep_shingles && !f->no_shingles) {
            dd_sort_unique(&s->sh);
            f->shingles = malloc(s->sh.n * sizeof *f->shingles);
            if (!f->shingles) abort();
            memcpy(f->shingles, s->sh.v, s->sh.n * sizeof *f->shingles);
            f->n_shingles = s->sh.n;
        }
    }
    s->bytes_signed += len;
}

/* ---------------- source ---------------- */
int dd_source_open(dd_source *src, char **paths, size_t n, const uint64_t *input_index,
                   const dd_opts *o, int keep_shingles, int want_output)
{
    memset(src, 0, sizeof *src);
    src->o = o;
    src->paths = paths;
    src->n_paths = n;
    src->input_index = xcalloc(n, sizeof *src->input_index);
    for (size_t i = 0; i < n; i++) src->input_index[i] = input_index ? input_index[i] : i;
    src->keep_shingles = keep_shingles;
    src->want_output = want_output;
    src->jobs = o->jobs < 1 ? 1 : o->jobs;
    src->signers = xcalloc((size_t)src->jobs, sizeof *src->signers);
    for (int i = 0; i < src->jobs; i++) dd_signer_init(&src->signers[i], o);
    qdoc_reader_opts ro = { .text_field = o->text_field, .skip_bad = !o->strict };
    src->reader = qdoc_reader_open(paths, n, &ro);
    if (!src->reader) return -1;
    return 0;
}

void dd_source_close(dd_source *src)
{
    if (src->reader) qdoc_reader_close(src->reader);
    for (int i = 0; i < src->jobs; i++) dd_signer_free(&src->signers[i]);
    free(src->signers);
    free(src->input_index);
    memset(src, 0, sizeof *src);
}

/* Which input a line came from: the reader names each input by its own copy
 * of the path ("<stdin>" for "-"), a new pointer per input, in order. */
static uint64_t input_of(dd_source *src, const char *name)
{
    if (name != src->cur_name) {
        size_t i = src->cur_name ? src->cur + 1 : 0;
        for (; i < src->n_paths; i++)
            if (!strcmp(src->paths[i], name) || (!strcmp(src->paths[i], "-") && !strcmp(name, "<stdin>")))
                break;
        if (i >= src->n_paths) i = src->n_paths ? src->n_paths - 1 : 0;   /* cannot happen */
        src->cur = i;
        src->cur_name = name;
    }
    return src->n_paths ? src->input_index[src->cur] : 0;
}

static void batch_grow(dd_batch *b, unsigned bands)
{
    size_t ncap = b->cap ? 2 * b->cap : BATCH_DOCS;
    b->lines = realloc(b->lines, ncap * sizeof *b->lines);
    b->line_no = realloc(b->line_no, ncap * sizeof *b->line_no);
    b->names = realloc(b->names, ncap * sizeof *b->names);
    b->feat = realloc(b->feat, ncap * sizeof *b->feat);
    b->out = realloc(b->out, ncap * sizeof *b->out);
    b->band_keys = realloc(b->band_keys, ncap * (bands ? bands : 1) * sizeof *b->band_keys);
    if (!b->lines || !b->line_no || !b->names || !b->feat || !b->out || !b->band_keys) abort();
    for (size_t i = b->cap; i < ncap; i++) {
        memset(&b->lines[i], 0, sizeof b->lines[i]);
        memset(&b->out[i], 0, sizeof b->out[i]);
    }
    b->cap = ncap;
}

size_t dd_shard_inputs(const qinputs *full, unsigned shard, unsigned nshards, char ***paths,
                       uint64_t **index)
{
    *paths = calloc(full->n ? full->n : 1, sizeof **paths);
    *index = calloc(full->n ? full->n : 1, sizeof **index);
    if (!*paths || !*index) abort();
    size_t n = 0;
    for (size_t i = 0; i < full->n; i++)
        if (i % nshards == shard) {
            (*paths)[n] = full->paths[i];
            (*index)[n++] = i;
        }
    return n;
}

void *dd_pipe_produce(void *ctx, int *stop)
{
    dd_source *src = ctx;
    dd_batch *b = xcalloc(1, sizeof *b);
    size_t bytes = 0;
    unsigned bands = src->o->params.bands;
    while (b->n < BATCH_DOCS && bytes < BATCH_BYTES) {
        if (b->n == b->cap) batch_grow(b, bands);
        uint64_t line_no;
        const char *name;
        int rc = qdoc_reader_next_line(src->reader, &b->lines[b->n], &line_no, &name);
        if (rc < 0) {
            src->failed = 1;
            break;
        }
        if (rc == 0) break;
        b->line_no[b->n] = line_no;
        b->names[b->n] = name;
        dd_feat *f = &b->feat[b->n];
        memset(f, 0, sizeof *f);
        f->ref = dd_ref(input_of(src, name), line_no);
        bytes += b->lines[b->n].len;
        b->n++;
    }
    if (b->n == 0) {
        dd_batch_free(b);
        if (src->failed) *stop = 1;
        return NULL;
    }
    src->docs_read += b->n;
    return b;
}

/* Two passes: parse (and serialise) every document, copying its text and
 * URL aside; then sign them all in one timed stretch, so --stats can report
 * the signing speed alone without a clock read per document. */
void dd_pipe_work(void *item, int worker, void *ctx)
{
    dd_source *src = ctx;
    dd_batch *b = item;
    dd_signer *s = &src->signers[worker];
    const dd_opts *o = src->o;
    int sign = o->near || o->exact;
    char err[256];
    strbuf *arena = &s->arena;
    sb_reset(arena);
    for (size_t i = 0; i < b->n; i++) {
        dd_feat *f = &b->feat[i];
        f->band_keys = b->band_keys + i * o->params.bands;
        if (qdoc_parse(&s->doc, b->lines[i].buf, b->lines[i].len, o->text_field, err, sizeof err)) {
            f->bad = 1;
            f->err = strdup(err);
            continue;
        }
        f->text_len = s->doc.text.len;
        if (src->want_output) {
            sb_reset(&b->out[i]);
            qdoc_serialize(&s->doc, &b->out[i]);
        }
        if (!sign) continue;
        /* text, then the URL (length -1 when absent), as offsets into the arena */
        f->arena_off = arena->len;
        if (s->doc.text.len) sb_add(arena, s->doc.text.buf, s->doc.text.len);
        f->url_len = -1;
        if (o->exact & DD_EXACT_URL) {
            sb_reset(&s->tmp);
            if (qdoc_meta_get_str(&s->doc, "url", &s->tmp) || qdoc_get_str(&s->doc, "url", &s->tmp)) {
                f->url_len = (long)s->tmp.len;
                sb_add(arena, s->tmp.buf ? s->tmp.buf : "", s->tmp.len);
            }
        }
    }
    if (!sign) return;
    const char *base = arena->buf ? arena->buf : "";
    double t0 = thread_cpu();
    for (size_t i = 0; i < b->n; i++) {
        dd_feat *f = &b->feat[i];
        if (f->bad) continue;
        const char *text = base + f->arena_off;
        const char *url = f->url_len >= 0 ? text + f->text_len : NULL;
        dd_signer_text(s, text, f->text_len, url, url ? (size_t)f->url_len : 0,
                       src->keep_shingles, f);
    }
    s->cpu_seconds += thread_cpu() - t0;
}

size_t dd_batch_first_bad(const dd_batch *b)
{
    size_t i = 0;
    while (i < b->n && !b->feat[i].bad) i++;
    return i;
}

size_t dd_batch_report_bad(dd_source *src, dd_batch *b, size_t upto)
{
    size_t bad = 0;
    if (upto > b->n) upto = b->n;
    for (size_t i = 0; i < upto; i++) {
        if (!b->feat[i].bad) continue;
        qdoc_reader_bad_line(src->reader, b->names[i], b->line_no[i], "%s",
                             b->feat[i].err ? b->feat[i].err : "bad line");
        bad++;
    }
    return bad;
}

void dd_batch_free(dd_batch *b)
{
    if (!b) return;
    for (size_t i = 0; i < b->cap; i++) {
        sb_free(&b->lines[i]);
        sb_free(&b->out[i]);
    }
    for (size_t i = 0; i < b->n; i++) {
        free(b->feat[i].shingles);
        free(b->feat[i].err);
    }
    free(b->lines);
    free(b->line_no);
    free(b->names);
    free(b->feat);
    free(b->out);
    free(b->band_keys);
    free(b);
}

void dd_pipe_discard(void *item, void *ctx)
{
    (void)ctx;
    dd_batch_free(item);
}
