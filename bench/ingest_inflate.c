/* ingest_inflate.c - the baseline for bench/ingest_speed.sh: only read and
 * inflate a .warc.gz (every gzip member, output discarded), with zlib
 * (streaming), libdeflate (whole members, as quern's reader does) and ISA-L
 * (streaming). Each timed run reads the file with read(2), as any reader of
 * a file or pipe must, then inflates it; quern's own reads are timed the
 * same way. Prints one line per inflater: name, best wall seconds, best cpu
 * seconds, bytes out.
 *   cc -O2 bench/ingest_inflate.c -o x -lz -ldeflate -lisal && ./x FILE [reps] */
#include <fcntl.h>
#ifndef NO_ISAL
#include <isa-l/igzip_lib.h>
#endif
#include <libdeflate.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

static double wall(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

static double cpu(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec + u.ru_utime.tv_usec * 1e-6 + (double)u.ru_stime.tv_sec + u.ru_stime.tv_usec * 1e-6;
}

#define OUT (1u << 20)
static unsigned char out[OUT * 64];

static size_t run_zlib(const unsigned char *in, size_t n)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    inflateInit2(&z, 16 + 15);
    z.next_in = (unsigned char *)in;
    z.avail_in = (uInt)n;
    size_t total = 0;
    for (;;) {
        z.next_out = out;
        z.avail_out = OUT;
        int r = inflate(&z, Z_NO_FLUSH);
        total += OUT - z.avail_out;
        if (r == Z_STREAM_END) {
            if (!z.avail_in) break;
            inflateReset(&z);
        } else if (r != Z_OK) {
            fprintf(stderr, "zlib error %d\n", r);
            exit(1);
        }
    }
    inflateEnd(&z);
    return total;
}

static size_t run_libdeflate(const unsigned char *in, size_t n)
{
    struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
    size_t pos = 0, total = 0;
    while (pos < n) {
        size_t used, made;
        if (libdeflate_gzip_decompress_ex(d, in + pos, n - pos, out, sizeof out, &used, &made)) {
            fprintf(stderr, "libdeflate error at %zu\n", pos);
            exit(1);
        }
        pos += used;
        total += made;
    }
    libdeflate_free_decompressor(d);
    return total;
}

#ifndef NO_ISAL
static size_t run_isal(const unsigned char *in, size_t n)
{
    struct inflate_state s;
    isal_inflate_init(&s);
    s.crc_flag = ISAL_GZIP;
    s.next_in = (unsigned char *)in;
    s.avail_in = (uint32_t)n;
    size_t total = 0;
    for (;;) {
        s.next_out = out;
        s.avail_out = OUT;
        int r = isal_inflate(&s);
        total += OUT - s.avail_out;
        if (r < 0) {
            fprintf(stderr, "isa-l error %d\n", r);
            exit(1);
        }
        if (s.block_state == ISAL_BLOCK_FINISH) {
            if (!s.avail_in) break;
            unsigned char *ni = s.next_in;
            uint32_t na = s.avail_in;
            isal_inflate_reset(&s);
            s.crc_flag = ISAL_GZIP;
            s.next_in = ni;
            s.avail_in = na;
        }
    }
    return total;
}
#endif

int main(int argc, char **argv)
{
    if (argc < 2) return 2;
    int reps = argc > 2 ? atoi(argv[2]) : 3;
    int fd = open(argv[1], O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st)) return 1;
    size_t n = (size_t)st.st_size;
    unsigned char *in = malloc(n ? n : 1);
    if (!in) return 1;
    struct {
        const char *name;
        size_t (*fn)(const unsigned char *, size_t);
    } k[] = { { "zlib", run_zlib }, { "libdeflate", run_libdeflate },
#ifndef NO_ISAL
              { "isa-l", run_isal },
#endif
    };
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        double bw = 1e9, bc = 1e9;
        size_t bytes = 0;
        for (int r = 0; r < reps; r++) {
            double w0 = wall(), c0 = cpu();
            size_t got = 0;
            while (got < n) {
                ssize_t r = pread(fd, in + got, n - got > (1u << 20) ? (1u << 20) : n - got, (off_t)got);
                if (r <= 0) return 1;
                got += (size_t)r;
            }
            bytes = k[i].fn(in, n);
            double w = wall() - w0, c = cpu() - c0;
            if (w < bw) bw = w;
            if (c < bc) bc = c;
        }
        printf("%s %.4f %.4f %zu\n", k[i].name, bw, bc, bytes);
    }
    return 0;
}
