/* fetch.c - http(s) sources through libcurl, streamed while they download.
 *
 * The consumer pulls bytes (qsrc.read); the transfer runs in a curl multi
 * handle driven from inside read(), so no thread is needed. Received bytes
 * wait in a buffer; when it is full the transfer is paused (curl's flow
 * control) until the consumer catches up, so memory stays bounded.
 *
 * A failed transfer (dropped connection, timeout, 5xx, 429) is retried after
 * a backoff that doubles each time, asking with a Range header for the bytes
 * from the first one not yet received. A server that ignores the Range and
 * sends 200 is handled by dropping the bytes already received. Only http and
 * https are allowed, for the first request and for every redirect.
 *
 * libcurl is opened with dlopen on the first URL, not linked: it pulls in ~27
 * libraries (TLS, Kerberos, LDAP, ...) whose loading made every quern start-up
 * ~3.4 ms slower (5.1 vs 1.7 ms), although most runs read only local files. */
#include "fetch.h"

#include <curl/curl.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "outfile.h"

#define BUF_HIGH (8u << 20)   /* pause the transfer when this much is waiting */

static qfetch_opts g_opts;
static int g_opts_set;

void qfetch_opts_default(qfetch_opts *o)
{
    memset(o, 0, sizeof *o);
    o->max_retries = 5;
    o->backoff_s = 0.5;
    o->timeout_s = 60;
}

void qfetch_set_default_opts(const qfetch_opts *o)
{
    g_opts = *o;
    g_opts_set = 1;
}

int qfetch_is_url(const char *path)
{
    return !strncmp(path, "http://", 7) || !strncmp(path, "https://", 8);
}

/* The libcurl functions used here, resolved once by curl_init_once(). */
static struct {
    CURLcode (*global_init)(long flags);
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *e, CURLoption opt, ...);
    CURLcode (*easy_getinfo)(CURL *e, CURLINFO info, ...);
    CURLcode (*easy_pause)(CURL *e, int bitmask);
    void (*easy_cleanup)(CURL *e);
    const char *(*easy_strerror)(CURLcode rc);
    CURLM *(*multi_init)(void);
    CURLMcode (*multi_add_handle)(CURLM *m, CURL *e);
    CURLMcode (*multi_remove_handle)(CURLM *m, CURL *e);
    CURLMcode (*multi_perform)(CURLM *m, int *running);
    CURLMcode (*multi_poll)(CURLM *m, struct curl_waitfd *fds, unsigned n, int timeout_ms, int *ret);
    CURLMsg *(*multi_info_read)(CURLM *m, int *left);
    CURLMcode (*multi_cleanup)(CURLM *m);
} C;
static char curl_why[300];   /* empty once libcurl is loaded */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
    /* Debian: libcurl4 (OpenSSL) is what the build uses; libcurl3-gnutls also works. */
    static const char *const names[] = { "libcurl.so.4", "libcurl-gnutls.so.4" };
    void *h = NULL;
    for (size_t i = 0; i < sizeof names / sizeof *names && !h; i++) h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(curl_why, sizeof curl_why, "cannot load libcurl (install libcurl4): %s", dlerror());
        return;
    }
#define LOAD(field, sym)                                                                 \
    do {                                                                                 \
        *(void **)&C.field = dlsym(h, sym);                                              \
        if (!C.field) {                                                                  \
            snprintf(curl_why, sizeof curl_why, "libcurl lacks %s (too old?)", sym);     \
            return;                                                                      \
        }                                                                                \
    } while (0)
    LOAD(global_init, "curl_global_init");
    LOAD(easy_init, "curl_easy_init");
    LOAD(easy_setopt, "curl_easy_setopt");
    LOAD(easy_getinfo, "curl_easy_getinfo");
    LOAD(easy_pause, "curl_easy_pause");
    LOAD(easy_cleanup, "curl_easy_cleanup");
    LOAD(easy_strerror, "curl_easy_strerror");
    LOAD(multi_init, "curl_multi_init");
    LOAD(multi_add_handle, "curl_multi_add_handle");
    LOAD(multi_remove_handle, "curl_multi_remove_handle");
    LOAD(multi_perform, "curl_multi_perform");
    LOAD(multi_poll, "curl_multi_poll");
    LOAD(multi_info_read, "curl_multi_info_read");
    LOAD(multi_cleanup, "curl_multi_cleanup");
#undef LOAD
    if (C.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        snprintf(curl_why, sizeof curl_why, "libcurl failed to initialise");
}

typedef struct fetch {
    CURLM *multi;
    CURL *easy;
    char *url;
    qfetch_opts o;
    unsigned char *buf;
    size_t cap, start, len;      /* waiting bytes: buf[start, start+len) */
    uint64_t received;           /* bytes of the file received so far (resume point) */
    uint64_t skip;               /* bytes to drop at the start of this attempt */
    int paused, running, done, failed, attempt, saw_data;
    int no_range;                /* the server does not do Range: restart and skip */
    long code;                   /* HTTP status of the current attempt, once known */
    int64_t size;
    char cerr[CURL_ERROR_SIZE];
    char why[256];               /* reason of the last failure */
    int permanent;               /* the last failure is not worth a retry */
    FILE *tee;                   /* cache file being written */
    char *cache_path, *cache_tmp;
} fetch;

static size_t on_data(char *p, size_t size, size_t nmemb, void *ud)
{
    fetch *f = ud;
    size_t n = size * nmemb;
    if (!f->code) {
        C.easy_getinfo(f->easy, CURLINFO_RESPONSE_CODE, &f->code);
        if (f->code >= 400) {
            snprintf(f->why, sizeof f->why, "HTTP %ld", f->code);
            f->permanent = !(f->code >= 500 || f->code == 408 || f->code == 429);
            return 0;   /* abort this attempt */
        }
        if (f->received && f->code == 200) f->skip = f->received;   /* whole file again */
        if (f->size < 0) {
            curl_off_t cl = -1;
            C.easy_getinfo(f->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
            if (cl >= 0) f->size = (int64_t)(f->code == 206 ? (uint64_t)cl + f->received : (uint64_t)cl);
        }
    }
    if (f->len && f->len + n > BUF_HIGH) {
        f->paused = 1;
        return CURL_WRITEFUNC_PAUSE;   /* curl hands us the same bytes again later */
    }
    size_t drop = 0;
    if (f->skip) {
        drop = f->skip < n ? (size_t)f->skip : n;
        f->skip -= drop;
    }
    p += drop;
    n -= drop;
    if (!n) return size * nmemb;
    if (f->start + f->len + n > f->cap) {
        if (f->start) {
            memmove(f->buf, f->buf + f->start, f->len);
            f->start = 0;
        }
        if (f->len + n > f->cap) {
            size_t cap = f->cap ? f->cap : 1u << 16;
            while (cap < f->len + n) cap *= 2;
            f->buf = realloc(f->buf, cap);
            if (!f->buf) abort();
            f->cap = cap;
        }
    }
    memcpy(f->buf + f->start + f->len, p, n);
    f->len += n;
    f->received += n;
    f->saw_data = 1;
    if (f->tee && fwrite(p, 1, n, f->tee) != n) {
        fclose(f->tee);
        f->tee = NULL;   /* cache write failed: go on without caching */
        unlink(f->cache_tmp);
    }
    return size * nmemb;
}

static int start_attempt(fetch *f)
{
    if (f->easy) {
        C.multi_remove_handle(f->multi, f->easy);
        C.easy_cleanup(f->easy);
    }
    f->easy = C.easy_init();
    if (!f->easy) abort();
    CURL *e = f->easy;
    f->code = 0;
    f->skip = 0;
    f->paused = 0;
    f->cerr[0] = 0;
    C.easy_setopt(e, CURLOPT_URL, f->url);
    C.easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    C.easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    C.easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
    C.easy_setopt(e, CURLOPT_MAXREDIRS, 10L);
    C.easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
    C.easy_setopt(e, CURLOPT_WRITEDATA, f);
    C.easy_setopt(e, CURLOPT_ERRORBUFFER, f->cerr);
    C.easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    C.easy_setopt(e, CURLOPT_CONNECTTIMEOUT, 30L);
    C.easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
    C.easy_setopt(e, CURLOPT_LOW_SPEED_TIME, f->o.timeout_s > 0 ? f->o.timeout_s : 60L);
    C.easy_setopt(e, CURLOPT_USERAGENT, "quern/" "0.1 (+libcurl)");
    /* The archive bytes as stored: no transparent decompression here. */
    C.easy_setopt(e, CURLOPT_HTTP_CONTENT_DECODING, 0L);
    if (f->received && !f->no_range) C.easy_setopt(e, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)f->received);
    if (C.multi_add_handle(f->multi, e) != CURLM_OK) return -1;
    f->running = 1;
    return 0;
}

static int retryable(CURLcode rc)
{
    switch (rc) {
    case CURLE_UNSUPPORTED_PROTOCOL: case CURLE_TOO_MANY_REDIRECTS: case CURLE_URL_MALFORMAT:
    case CURLE_REMOTE_ACCESS_DENIED: case CURLE_FILESIZE_EXCEEDED: case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_RANGE_ERROR: case CURLE_BAD_CONTENT_ENCODING:
        return 0;
    default:
        return 1;
    }
}

static void sleep_s(double s)
{
    struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };
    while (nanosleep(&ts, &ts) && errno == EINTR) {}
}

/* Drive the transfer until bytes are waiting, it ended, or it failed for
 * good. Returns 0, or -1 with f->why set. */
static int pump(fetch *f)
{
    while (!f->len && !f->done) {
        if (f->paused) {
            f->paused = 0;
            C.easy_pause(f->easy, CURLPAUSE_CONT);
        }
        int still = 0;
        C.multi_perform(f->multi, &still);
        CURLMsg *m;
        int q;
        while ((m = C.multi_info_read(f->multi, &q))) {
            if (m->msg != CURLMSG_DONE) continue;
            CURLcode rc = m->data.result;
            f->running = 0;
            if (rc == CURLE_OK) {
                long code = f->code;
                if (!code) C.easy_getinfo(f->easy, CURLINFO_RESPONSE_CODE, &code);
                if (code >= 400) {
                    snprintf(f->why, sizeof f->why, "HTTP %ld", code);
                    f->permanent = code < 500 && code != 408 && code != 429;
                } else if (f->size >= 0 && f->received < (uint64_t)f->size) {
                    snprintf(f->why, sizeof f->why, "connection closed after %llu of %lld bytes",
                             (unsigned long long)f->received, (long long)f->size);
                    f->permanent = 0;
                } else {
                    f->done = 1;
                    break;
                }
            } else if (rc == CURLE_WRITE_ERROR && f->why[0]) {
                /* on_data refused an HTTP error status: f->why says which */
            } else if (rc == CURLE_RANGE_ERROR && !f->no_range) {
                /* The server cannot resume: fetch from the start, dropping
                 * what we already have. */
                snprintf(f->why, sizeof f->why, "server ignores Range requests");
                f->no_range = 1;
                f->permanent = 0;
            } else {
                snprintf(f->why, sizeof f->why, "%s", f->cerr[0] ? f->cerr : C.easy_strerror(rc));
                f->permanent = !retryable(rc);
            }
            if (f->done) break;
            if (f->permanent || f->attempt >= f->o.max_retries) {
                f->failed = 1;
                return -1;
            }
            double wait = f->o.backoff_s;
            for (int i = 0; i < f->attempt; i++) wait *= 2;
            if (wait > 60) wait = 60;
            f->attempt++;
            sleep_s(wait);
            f->why[0] = 0;
            if (start_attempt(f)) {
                snprintf(f->why, sizeof f->why, "cannot restart the transfer");
                f->failed = 1;
                return -1;
            }
        }
        if (!f->len && !f->done && f->running) C.multi_poll(f->multi, NULL, 0, 200, NULL);
    }
    return 0;
}

static void finish_cache(fetch *f, int complete)
{
    if (!f->tee) return;
    int ok = fflush(f->tee) == 0 && fsync(fileno(f->tee)) == 0;
    fclose(f->tee);
    f->tee = NULL;
    if (complete && ok && !rename(f->cache_tmp, f->cache_path)) return;
    unlink(f->cache_tmp);
}

static ssize_t fetch_read(void *ctx, void *buf, size_t n, char *err, size_t errlen)
{
    fetch *f = ctx;
    if (f->failed) {
        snprintf(err, errlen, "download failed: %s", f->why);
        return -1;
    }
    if (pump(f) < 0) {
        finish_cache(f, 0);
        snprintf(err, errlen, "download failed after %d %s: %s (at byte %llu)", f->attempt + 1,
                 f->attempt ? "attempts" : "attempt", f->why, (unsigned long long)f->received);
        return -1;
    }
    if (!f->len) {
        finish_cache(f, 1);
        return 0;
    }
    size_t k = n < f->len ? n : f->len;
    memcpy(buf, f->buf + f->start, k);
    f->start += k;
    f->len -= k;
    if (!f->len) f->start = 0;
    return (ssize_t)k;
}

static void fetch_close(void *ctx)
{
    fetch *f = ctx;
    finish_cache(f, 0);
    if (f->easy) {
        C.multi_remove_handle(f->multi, f->easy);
        C.easy_cleanup(f->easy);
    }
    C.multi_cleanup(f->multi);
    free(f->buf);
    free(f->url);
    free(f->cache_path);
    free(f->cache_tmp);
    free(f);
}

/* Cache file name: 16 hex digits of a hash of the URL, then its last path part. */
static char *cache_name(const char *dir, const char *url)
{
    uint64_t h = 1469598103934665603ull;
    for (const char *p = url; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ull;
    const char *q = strpbrk(url, "?#");
    size_t len = q ? (size_t)(q - url) : strlen(url);
    size_t s = len;
    while (s && url[s - 1] != '/') s--;
    char base[128];
    size_t bl = len - s < sizeof base - 1 ? len - s : sizeof base - 1;
    for (size_t i = 0; i < bl; i++) {
        char c = url[s + i];
        base[i] = (c == '.' || c == '-' || c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                   (c >= 'A' && c <= 'Z')) ? c : '_';
    }
    base[bl] = 0;
    size_t n = strlen(dir) + bl + 32;
    char *path = malloc(n);
    if (!path) abort();
    snprintf(path, n, "%s/%016llx-%s", dir, (unsigned long long)h, bl ? base : "index");
    return path;
}

int qfetch_open(qsrc *src, const char *url, const qfetch_opts *opts, char *err, size_t errlen)
{
    memset(src, 0, sizeof *src);
    qfetch_opts o;
    if (opts) o = *opts;
    else if (g_opts_set) o = g_opts;
    else qfetch_opts_default(&o);
    if (!qfetch_is_url(url)) {
        snprintf(err, errlen, "%s: only http:// and https:// URLs can be fetched", url);
        return -1;
    }
    char *cache_path = NULL;
    if (o.cache_dir) {
        cache_path = cache_name(o.cache_dir, url);
        struct stat st;
        if (!stat(cache_path, &st) && S_ISREG(st.st_mode)) {
            int rc = qsrc_open(src, cache_path, err, errlen);
            free(cache_path);
            if (rc) return rc;
            free(src->name);
            src->name = strdup(url);
            if (!src->name) abort();
            return 0;
        }
    }
    pthread_once(&curl_once, curl_init_once);
    if (curl_why[0]) {
        free(cache_path);
        snprintf(err, errlen, "%s: %s", url, curl_why);
        return -1;
    }
    fetch *f = calloc(1, sizeof *f);
    if (!f) abort();
    f->o = o;
    f->url = strdup(url);
    f->size = -1;
    f->multi = C.multi_init();
    if (!f->url || !f->multi) abort();
    if (cache_path) {
        qmkdirs(o.cache_dir);
        size_t n = strlen(cache_path) + 32;
        f->cache_tmp = malloc(n);
        if (!f->cache_tmp) abort();
        snprintf(f->cache_tmp, n, "%s.tmp.%d", cache_path, (int)getpid());
        f->cache_path = cache_path;
        f->tee = fopen(f->cache_tmp, "wb");   /* no cache if it cannot be written */
    }
    if (start_attempt(f)) {
        snprintf(err, errlen, "%s: cannot start the transfer", url);
        fetch_close(f);
        return -1;
    }
    /* Wait for the first bytes (or the end), so that a missing file or a
     * refused redirect is an error of opening, not of reading. */
    if (pump(f) < 0) {
        snprintf(err, errlen, "%s: %s", url, f->why);
        fetch_close(f);
        return -1;
    }
    src->read = fetch_read;
    src->close = fetch_close;
    src->ctx = f;
    src->name = strdup(url);
    if (!src->name) abort();
    src->size = f->size;
    return 0;
}
