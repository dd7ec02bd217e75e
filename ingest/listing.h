/* listing.h - turning command-line inputs into the list of archives to read.
 *
 * A Common Crawl path listing (warc.paths.gz, wet.paths.gz: one relative path
 * per line, such as crawl-data/CC-MAIN-.../x.warc.gz) expands to base URL +
 * path for every line; everything else stays as given. --shard I/N then keeps
 * archive k when k % N == I, counted over the expanded list. */
#ifndef QUERN_INGEST_LISTING_H
#define QUERN_INGEST_LISTING_H

#include <stddef.h>

#define LISTING_DEFAULT_BASE "https://data.commoncrawl.org/"

/* Is this input a path listing (by name: *.paths, *.paths.gz, *.paths.zst)? */
int listing_is_paths(const char *input);

/* Expand paths (already glob-expanded) into *out / *n_out (strdup'ed), then
 * keep the shard. Returns 0, or -1 with err filled. */
int listing_expand(char **paths, size_t n, const char *base_url, unsigned shard, unsigned nshards,
                   char ***out, size_t *n_out, char *err, size_t errlen);
void listing_free(char **list, size_t n);

/* Default source name from an input: its file name without directories and
 * without .gz/.zst/.warc/.wet/.open suffixes ("CC-MAIN-x-00001.warc.gz" ->
 * "CC-MAIN-x-00001"). Written to out. */
void listing_source_name(const char *input, char *out, size_t out_len);

#endif
