/* listing.c - Common Crawl path listings, sharding, source names. */
#include "listing.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/io.h"
#include "../common/strbuf.h"

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

int listing_is_paths(const char *input)
{
    return ends_with(input, ".paths") || ends_with(input, ".paths.gz") || ends_with(input, ".paths.zst");
}

static void push(char ***v, size_t *n, size_t *cap, char *s)
{
    if (*n == *cap) {
        *cap = *cap ? 2 * *cap : 16;
        *v = realloc(*v, *cap * sizeof **v);
        if (!*v) abort();
    }
    (*v)[(*n)++] = s;
}

static char *join_url(const char *base, const char *path)
{
    if (!strncmp(path, "http://", 7) || !strncmp(path, "https://", 8) || path[0] == '/') return strdup(path);
    size_t bl = strlen(base);
    int slash = bl && base[bl - 1] == '/';
    while (*path == '/') path++;
    size_t n = bl + strlen(path) + 2;
    char *s = malloc(n);
    if (!s) abort();
    snprintf(s, n, "%s%s%s", base, slash ? "" : "/", path);
    return s;
}

int listing_expand(char **paths, size_t n, const char *base_url, unsigned shard, unsigned nshards,
                   char ***out, size_t *n_out, char *err, size_t errlen)
{
    char **all = NULL;
    size_t n_all = 0, cap = 0;
    if (!base_url) base_url = LISTING_DEFAULT_BASE;
    for (size_t i = 0; i < n; i++) {
        if (!listing_is_paths(paths[i])) {
            push(&all, &n_all, &cap, strdup(paths[i]));
            continue;
        }
        qin *in = qin_open(paths[i], err, errlen);
        if (!in) goto fail;
        strbuf line = STRBUF_INIT;
        int r;
        while ((r = qin_getline(in, &line, err, errlen)) == 1) {
            size_t s = 0, e = line.len;
            while (s < e && (line.buf[s] == ' ' || line.buf[s] == '\t')) s++;
            while (e > s && (line.buf[e - 1] == '\r' || line.buf[e - 1] == ' ' || line.buf[e - 1] == '\t')) e--;
            if (e == s || line.buf[s] == '#') continue;
            line.buf[e] = 0;
            push(&all, &n_all, &cap, join_url(base_url, line.buf + s));
        }
        sb_free(&line);
        qin_close(in);
        if (r < 0) goto fail;
    }
    if (nshards == 0) nshards = 1;
    *out = NULL;
    *n_out = 0;
    size_t kept_cap = 0;
    for (size_t k = 0; k < n_all; k++) {
        if (k % nshards == shard) push(out, n_out, &kept_cap, all[k]);
        else free(all[k]);
    }
    free(all);
    return 0;
fail:
    listing_free(all, n_all);
    return -1;
}

void listing_free(char **list, size_t n)
{
    for (size_t i = 0; i < n; i++) free(list[i]);
    free(list);
}

void listing_source_name(const char *input, char *out, size_t out_len)
{
    if (!strcmp(input, "-")) {
        snprintf(out, out_len, "stdin");
        return;
    }
    const char *q = strpbrk(input, "?#");
    size_t len = q ? (size_t)(q - input) : strlen(input);
    while (len && input[len - 1] == '/') len--;
    size_t s = len;
    while (s && input[s - 1] != '/') s--;
    char name[512];
    size_t n = len - s < sizeof name - 1 ? len - s : sizeof name - 1;
    memcpy(name, input + s, n);
    name[n] = 0;
    static const char *const suffixes[] = { ".gz", ".zst", ".open", ".warc", ".wet", ".wat", ".arc" };
    for (int again = 1; again;) {
        again = 0;
        for (size_t i = 0; i < sizeof suffixes / sizeof *suffixes; i++)
            if (ends_with(name, suffixes[i]) && strlen(name) > strlen(suffixes[i])) {
                name[strlen(name) - strlen(suffixes[i])] = 0;
                again = 1;
            }
    }
    snprintf(out, out_len, "%s", name);
}
