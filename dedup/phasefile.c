/* phasefile.c - the checksummed binary files the phased mode passes between
 * its steps (format in phasefile.h). Written atomically through qout; read
 * back with every byte checked before a step commits anything it derived. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../common/outfile.h"
#include "phasefile.h"

static const char MAGIC[8] = { 'Q', 'D', 'E', 'D', 'U', 'P', '1', '\n' };
static const char MAGIC_END[8] = { 'Q', 'D', 'E', 'N', 'D', '0', '1', '\n' };

static const char *kind_name(uint32_t k)
{
    switch (k) {
    case DD_PF_BAND: return "band signature";
    case DD_PF_EXACT: return "exact-key";
    case DD_PF_DOCS: return "document list";
    case DD_PF_SHINGLES: return "shingle";
    case DD_PF_PAIRS: return "pairs";
    case DD_PF_REMOVE: return "removal list";
    default: return "unknown";
    }
}

struct dd_pfw {
    qout *o;
    XXH3_state_t *st;
    uint64_t count;
};

dd_pfw *dd_pfw_open(const char *path, const dd_pf_hdr *h, char *err, size_t errlen)
{
    dd_pf_hdr hh = *h;
    memcpy(hh.magic, MAGIC, 8);
    hh.version = 1;
    dd_pfw *w = calloc(1, sizeof *w);
    if (!w) abort();
    w->o = qout_open(path, QOUT_PLAIN, err, errlen);
    if (!w->o) {
        free(w);
        return NULL;
    }
    w->st = XXH3_createState();
    XXH3_64bits_reset(w->st);
    XXH3_64bits_update(w->st, &hh, sizeof hh);
    if (qout_write(w->o, &hh, sizeof hh)) {
        snprintf(err, errlen, "%s: write failed", path);
        dd_pfw_abort(w);
        return NULL;
    }
    return w;
}

int dd_pfw_write(dd_pfw *w, const void *data, size_t n, uint64_t records)
{
    XXH3_64bits_update(w->st, data, n);
    w->count += records;
    return qout_write(w->o, data, n);
}

int dd_pfw_commit(dd_pfw *w, char *err, size_t errlen)
{
    uint64_t tr[3];
    tr[0] = w->count;
    XXH3_64bits_update(w->st, &tr[0], 8);
    tr[1] = XXH3_64bits_digest(w->st);
    memcpy(&tr[2], MAGIC_END, 8);
    int rc = qout_write(w->o, tr, sizeof tr);
    if (rc) {
        snprintf(err, errlen, "%s: write failed", qout_path(w->o));
        qout_abort(w->o);
    } else {
        rc = qout_commit(w->o, err, errlen);
    }
    XXH3_freeState(w->st);
    free(w);
    return rc;
}

void dd_pfw_abort(dd_pfw *w)
{
    if (!w) return;
    qout_abort(w->o);
    XXH3_freeState(w->st);
    free(w);
}

struct dd_pfr {
    FILE *f;
    char *path;
    dd_pf_hdr h;
    XXH3_state_t *st;
    uint64_t body, done;   /* record bytes in the file, consumed */
};

dd_pfr *dd_pfr_open(const char *path, const dd_pf_hdr *want, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s:0: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    struct stat sb;
    dd_pf_hdr h;
    if (fstat(fileno(f), &sb) || (uint64_t)sb.st_size < sizeof h + 24 ||
        fread(&h, sizeof h, 1, f) != 1) {
        snprintf(err, errlen, "%s:0: truncated %s file (shorter than its header and trailer)",
                 path, kind_name(want->kind));
        fclose(f);
        return NULL;
    }
    const char *bad = NULL;
    if (memcmp(h.magic, MAGIC, 8)) bad = "not a quern dedup file (bad magic)";
    else if (h.version != 1) bad = "unsupported version";
    else if (h.kind != want->kind) bad = "wrong kind of file";
    else if (h.band != want->band) bad = "belongs to another band";
    else if (want->nshards && h.nshards != want->nshards) bad = "written for another shard count";
    else if (want->params_hash && h.params_hash != want->params_hash)
        bad = "written with other dedup parameters (preset, n-gram, bands, rows, seed, exact keys)";
    else if (h.rec_size != want->rec_size) bad = "wrong record size";
    if (bad) {
        snprintf(err, errlen, "%s:0: %s", path, bad);
        fclose(f);
        return NULL;
    }
    dd_pfr *r = calloc(1, sizeof *r);
    if (!r) abort();
    r->f = f;
    r->path = strdup(path);
    r->h = h;
    r->body = (uint64_t)sb.st_size - sizeof h - 24;
    if (h.rec_size && r->body % h.rec_size) {
        snprintf(err, errlen, "%s:%llu: truncated: %llu record bytes is not a whole number of %u-byte records",
                 path, (unsigned long long)sb.st_size, (unsigned long long)r->body, h.rec_size);
        dd_pfr_close(r);
        return NULL;
    }
    r->st = XXH3_createState();
    XXH3_64bits_reset(r->st);
    XXH3_64bits_update(r->st, &h, sizeof h);
    return r;
}

const dd_pf_hdr *dd_pfr_header(const dd_pfr *r) { return &r->h; }
uint64_t dd_pfr_body_bytes(const dd_pfr *r) { return r->body; }
uint64_t dd_pfr_offset(const dd_pfr *r) { return sizeof(dd_pf_hdr) + r->done; }
const char *dd_pfr_path(const dd_pfr *r) { return r->path; }

int dd_pfr_read(dd_pfr *r, void *buf, size_t n, char *err, size_t errlen)
{
    if (r->done == r->body) return 0;
    if (n > r->body - r->done) {
        snprintf(err, errlen, "%s:%llu: record runs past the end of the data", r->path,
                 (unsigned long long)dd_pfr_offset(r));
        return -1;
    }
    if (fread(buf, 1, n, r->f) != n) {
        snprintf(err, errlen, "%s:%llu: read failed or file truncated", r->path,
                 (unsigned long long)dd_pfr_offset(r));
        return -1;
    }
    XXH3_64bits_update(r->st, buf, n);
    r->done += n;
    return 1;
}

int dd_pfr_finish(dd_pfr *r, uint64_t records, char *err, size_t errlen)
{
    if (r->done != r->body) {
        snprintf(err, errlen, "%s:%llu: data left unread", r->path, (unsigned long long)dd_pfr_offset(r));
        return -1;
    }
    uint64_t tr[3];
    if (fread(tr, sizeof tr, 1, r->f) != 1) {
        snprintf(err, errlen, "%s:%llu: trailer unreadable", r->path, (unsigned long long)dd_pfr_offset(r));
        return -1;
    }
    XXH3_64bits_update(r->st, &tr[0], 8);
    uint64_t sum = XXH3_64bits_digest(r->st);
    if (memcmp(&tr[2], MAGIC_END, 8)) {
        snprintf(err, errlen, "%s:%llu: bad trailer (truncated or not a finished file)", r->path,
                 (unsigned long long)dd_pfr_offset(r));
        return -1;
    }
    if (tr[0] != records) {
        snprintf(err, errlen, "%s:%llu: trailer says %llu records, the file holds %llu", r->path,
                 (unsigned long long)dd_pfr_offset(r), (unsigned long long)tr[0],
                 (unsigned long long)records);
        return -1;
    }
    if (sum != tr[1]) {
        snprintf(err, errlen, "%s:%llu: checksum mismatch (the file is corrupt)", r->path,
                 (unsigned long long)dd_pfr_offset(r));
        return -1;
    }
    return 0;
}

void dd_pfr_close(dd_pfr *r)
{
    if (!r) return;
    if (r->f) fclose(r->f);
    if (r->st) XXH3_freeState(r->st);
    free(r->path);
    free(r);
}

void dd_pf_path(strbuf *out, const char *dir, const char *group, uint32_t shard, uint32_t nshards)
{
    sb_reset(out);
    sb_addf(out, "%s/%s/shard-%05u-of-%05u.qdd", dir, group, shard, nshards);
}

void dd_pf_band_group(strbuf *out, uint32_t band)
{
    sb_reset(out);
    if (band == DD_BAND_EXACT_TEXT) sb_adds(out, "sig/exact-text");
    else if (band == DD_BAND_EXACT_URL) sb_adds(out, "sig/exact-url");
    else sb_addf(out, "sig/band-%03u", band);
}

void dd_pf_pairs_path(strbuf *out, const char *dir, uint32_t band)
{
    sb_reset(out);
    if (band == DD_BAND_EXACT_TEXT) sb_addf(out, "%s/pairs/exact-text.qdd", dir);
    else if (band == DD_BAND_EXACT_URL) sb_addf(out, "%s/pairs/exact-url.qdd", dir);
    else sb_addf(out, "%s/pairs/band-%03u.qdd", dir, band);
}
