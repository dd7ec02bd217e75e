/* source.c - see source.h. */
#include "source.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/cli.h"

/* "0.6", "60%". */
static int parse_weight(const char *s, size_t n, double *out)
{
    char buf[64];
    if (!n || n >= sizeof buf) return -1;
    memcpy(buf, s, n);
    buf[n] = 0;
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    if (errno || end == buf) return -1;
    if (*end == '%') {
        v /= 100;
        end++;
    }
    if (*end || !(v >= 0)) return -1;
    *out = v;
    return 0;
}

static int parse_count_n(const char *s, size_t n, double *out)
{
    char buf[64];
    if (!n || n >= sizeof buf) return -1;
    memcpy(buf, s, n);
    buf[n] = 0;
    return cli_parse_count(buf, out);
}

int mix_source_parse(const char *spec, mix_source *s, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    const char *eq = strchr(spec, '=');
    if (!eq || eq == spec) {
        qseterr(err, errlen, "source '%s': expected name=DIR:weight[:max_epochs]", spec);
        return -1;
    }
    const char *rest = eq + 1;
    size_t len = strlen(rest);
    /* Up to two numeric fields on the right. */
    const char *c1 = memrchr(rest, ':', len);
    if (!c1) {
        qseterr(err, errlen, "source '%s': no weight (name=DIR:weight[:max_epochs])", spec);
        return -1;
    }
    double last, prev;
    if (parse_weight(c1 + 1, len - (size_t)(c1 + 1 - rest), &last)) {
        qseterr(err, errlen, "source '%s': '%s' is not a weight", spec, c1 + 1);
        return -1;
    }
    const char *c2 = c1 > rest ? memrchr(rest, ':', (size_t)(c1 - rest)) : NULL;
    int declared = !strncmp(rest, "size:", 5);
    const char *path_end = c1;
    double weight = last, max_epochs = 0;
    if (declared) {
        /* size:TOKENS:weight[:max_epochs] */
        const char *t0 = rest + 5;
        const char *tc = memchr(t0, ':', len - 5);
        double tokens;
        if (!tc || parse_count_n(t0, (size_t)(tc - t0), &tokens)) {
            qseterr(err, errlen, "source '%s': expected name=size:TOKENS:weight[:max_epochs]", spec);
            return -1;
        }
        if (tc != c1) {
            if (c2 != tc || parse_weight(tc + 1, (size_t)(c1 - tc - 1), &prev)) {
                qseterr(err, errlen, "source '%s': expected name=size:TOKENS:weight[:max_epochs]", spec);
                return -1;
            }
            weight = prev;
            max_epochs = last;
        }
        s->declared = 1;
        s->n_tokens = (uint64_t)(tokens + 0.5);
    } else {
        if (c2 && c2 > rest && !parse_weight(c2 + 1, (size_t)(c1 - c2 - 1), &prev)) {
            weight = prev;
            max_epochs = last;
            path_end = c2;
        }
        if (path_end == rest) {
            qseterr(err, errlen, "source '%s': empty directory", spec);
            return -1;
        }
        s->dir = strndup(rest, (size_t)(path_end - rest));
    }
    if (max_epochs < 0 || (max_epochs > 0 && max_epochs < 1e-9)) {
        qseterr(err, errlen, "source '%s': max_epochs must be positive", spec);
        free(s->dir);
        return -1;
    }
    s->name = strndup(spec, (size_t)(eq - spec));
    s->weight = weight;
    s->max_epochs = max_epochs;
    return 0;
}

int mix_source_read_file(const char *path, mix_source **srcs, size_t *n, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        qseterr(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t k;
    int lineno = 0, rc = 0;
    while ((k = getline(&line, &cap, f)) >= 0) {
        lineno++;
        char *p = line;
        char *hash = strchr(p, '#');
        if (hash) *hash = 0;
        while (*p == ' ' || *p == '\t') p++;
        size_t l = strlen(p);
        while (l && (p[l - 1] == '\n' || p[l - 1] == '\r' || p[l - 1] == ' ' || p[l - 1] == '\t')) p[--l] = 0;
        if (!l) continue;
        mix_source s;
        char e[400];
        if (mix_source_parse(p, &s, e, sizeof e)) {
            qseterr(err, errlen, "%s:line %d: %s", path, lineno, e);
            rc = -1;
            break;
        }
        *srcs = realloc(*srcs, (*n + 1) * sizeof **srcs);
        if (!*srcs) abort();
        (*srcs)[(*n)++] = s;
    }
    free(line);
    fclose(f);
    return rc;
}

static int pread_all(int fd, void *buf, size_t n, off_t off)
{
    char *p = buf;
    while (n) {
        ssize_t k = pread(fd, p, n, off);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) {
            if (!k) errno = 0;   /* end of file: the file shrank */
            return -1;
        }
        p += k;
        off += k;
        n -= (size_t)k;
    }
    return 0;
}

int mix_source_open(mix_source *s, char *err, size_t errlen)
{
    if (s->declared) return 0;
    char e[600];
    if (qmanifest_read(&s->man, s->dir, e, sizeof e)) {
        qseterr(err, errlen, "source '%s': %s", s->name, e);
        return -1;
    }
    size_t n_train = 0;
    for (size_t i = 0; i < s->man.n_shards; i++) n_train += !strcmp(s->man.shards[i].split, "train");
    if (!n_train) {
        qseterr(err, errlen, "source '%s': %s: the manifest lists no train shards", s->name, s->dir);
        return -1;
    }
    s->shard_paths = calloc(n_train, sizeof *s->shard_paths);
    s->doc_base = calloc(n_train + 1, sizeof *s->doc_base);
    s->shard_version = calloc(n_train, 1);
    s->bin_fds = malloc(n_train * sizeof *s->bin_fds);
    s->idx_fds = malloc(n_train * sizeof *s->idx_fds);
    if (!s->shard_paths || !s->doc_base || !s->shard_version || !s->bin_fds || !s->idx_fds) abort();
    for (size_t i = 0; i < n_train; i++) s->bin_fds[i] = s->idx_fds[i] = -1;
    s->version = 1;
    for (size_t i = 0; i < s->man.n_shards; i++) {
        const qmanifest_shard *ms = &s->man.shards[i];
        if (strcmp(ms->split, "train")) continue;
        char *p = qmanifest_shard_path(&s->man, i);
        size_t j = s->n_shards++;   /* counted first so free() cleans up after a failure */
        s->shard_paths[j] = p;
        qshard sh;
        if (qshard_open(&sh, p, 1, e, sizeof e)) {
            qseterr(err, errlen, "source '%s': %s", s->name, e);
            return -1;
        }
        uint64_t ntok = sh.n_tokens, ndocs = sh.n_docs;
        s->shard_version[j] = (unsigned char)sh.version;
        qshard_close(&sh);   /* validated; from here on, pread */
        if (ntok != ms->tokens || ndocs != ms->docs) {
            qseterr(err, errlen, "source '%s': %s: holds %llu tokens / %llu docs but the manifest says %llu / %llu",
                   s->name, p, (unsigned long long)ntok, (unsigned long long)ndocs,
                   (unsigned long long)ms->tokens, (unsigned long long)ms->docs);
            return -1;
        }
        char *idx = strdup(p);
        if (!idx) abort();
        size_t l = strlen(idx);
        if (l > 4 && !strcmp(idx + l - 4, ".bin")) memcpy(idx + l - 4, ".idx", 4);
        s->bin_fds[j] = open(p, O_RDONLY | O_CLOEXEC);
        s->idx_fds[j] = open(idx, O_RDONLY | O_CLOEXEC);
        if (s->bin_fds[j] < 0 || s->idx_fds[j] < 0) {
            qseterr(err, errlen, "source '%s': %s: cannot open: %s", s->name, s->bin_fds[j] < 0 ? p : idx,
                   strerror(errno));
            free(idx);
            return -1;
        }
        free(idx);
        /* No POSIX_FADV_RANDOM: documents are read in random order, but a
         * source taken for about an epoch or more is read whole, and the
         * kernel's readahead (which backs off by itself on truly random
         * access) then turns scattered reads into few large ones. */
        if (s->shard_version[j] > s->version) s->version = s->shard_version[j];
        s->doc_base[j + 1] = s->doc_base[j] + ndocs;
        s->n_tokens += ntok;
    }
    s->n_docs = s->doc_base[s->n_shards];
    if (!s->n_docs) {
        qseterr(err, errlen, "source '%s': %s holds no documents", s->name, s->dir);
        return -1;
    }
    return 0;
}

void mix_source_doc(const mix_source *s, uint64_t doc, size_t *shard, uint64_t *start, uint64_t *len)
{
    size_t lo = 0, hi = s->n_shards;   /* doc_base[lo] <= doc < doc_base[hi] */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->doc_base[mid] <= doc) lo = mid;
        else hi = mid;
    }
    uint64_t local = doc - s->doc_base[lo];
    uint64_t ends[2] = { 0, 0 };
    int rc = local ? pread_all(s->idx_fds[lo], ends, 16, (off_t)((local - 1) * 8))
                   : pread_all(s->idx_fds[lo], ends + 1, 8, 0);
    if (rc) {
        fprintf(stderr, "quern mix: %s: cannot read the .idx entry of document %llu: %s\n", s->shard_paths[lo],
                (unsigned long long)local, errno ? strerror(errno) : "file shrank");
        abort();
    }
    *shard = lo;
    *start = ends[0];
    *len = ends[1] - ends[0];
}

void mix_source_free(mix_source *s)
{
    for (size_t i = 0; i < s->n_shards; i++) {
        free(s->shard_paths[i]);
        if (s->bin_fds[i] >= 0) close(s->bin_fds[i]);
        if (s->idx_fds[i] >= 0) close(s->idx_fds[i]);
    }
    free(s->shard_paths);
    free(s->doc_base);
    free(s->shard_version);
    free(s->bin_fds);
    free(s->idx_fds);
    if (s->dir) qmanifest_free(&s->man);
    free(s->name);
    free(s->dir);
    memset(s, 0, sizeof *s);
}

int mix_source_read(const mix_source *s, size_t shard, uint64_t start, uint64_t n, void *buf, char *err,
                    size_t errlen)
{
    size_t width = mix_source_width(s, shard);
    off_t off = (off_t)(QSHARD_HEADER_BYTES + start * width);
    if (pread_all(s->bin_fds[shard], buf, (size_t)n * width, off)) {
        qseterr(err, errlen, "%s:%llu: read failed: %s", s->shard_paths[shard], (unsigned long long)off,
               errno ? strerror(errno) : "file shrank while mixing");
        return -1;
    }
    return 0;
}
