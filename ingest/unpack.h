/* unpack.h - a window of decoded bytes over a raw source, for the WARC reader.
 *
 * Why not common/io.h's qin: the WARC reader needs, per decoded byte, the
 * offset of the gzip member (or zstd frame) it came from, so that errors name
 * a byte offset in the file the user has; and after damage it needs to skip
 * to the next intact member instead of giving up. qin hides both.
 *
 * Formats, detected by magic bytes at the start of the input:
 *   gzip  one member at a time. Each member is inflated whole with libdeflate
 *         (measured fastest here: bench/ingest_speed.sh) and handed out only
 *         after its CRC and length checked out. Members larger than the raw
 *         window, such as one gzip stream over a whole file, are inflated
 *         streaming with zlib instead (memory stays bounded).
 *   zstd  streaming, frame by frame.
 *   plain copied through.
 *
 * Damage (a corrupt or truncated member, garbage between members) is reported
 * once through up_fill() returning UP_DAMAGE with the message in up_error();
 * up_resync() then looks for the next member that inflates cleanly. */
#ifndef QUERN_INGEST_UNPACK_H
#define QUERN_INGEST_UNPACK_H

#include <stddef.h>
#include <stdint.h>

#include "../common/io.h"

typedef enum { UP_PLAIN, UP_GZIP, UP_ZSTD } up_format;

enum {
    UP_EOF = 0,     /* no more input */
    UP_DAMAGE = -1, /* damaged input: see up_error(); call up_resync() to go on */
    UP_IOERR = -2,  /* the source itself failed (read error, download failed) */
};

typedef struct unpack unpack;

/* Takes ownership of src (closed by up_free). */
unpack *up_new(qsrc *src);
void up_free(unpack *u);

/* The decoded window: bytes [0, up_avail) at up_data() are unconsumed. */
const char *up_data(const unpack *u);
size_t up_avail(const unpack *u);
void up_consume(unpack *u, size_t n);
/* Decode more input onto the end of the window. Returns the number of bytes
 * added (> 0), UP_EOF, UP_DAMAGE or UP_IOERR. */
long up_fill(unpack *u);
/* After UP_DAMAGE: drop the window and move to the next intact member/frame.
 * Returns 1 if decoding can go on, 0 if nothing usable is left. */
int up_resync(unpack *u);

/* Absolute decoded offset of the window's first byte. */
uint64_t up_offset(const unpack *u);
/* Raw (file) offset to report for the decoded byte at absolute offset dec:
 * the start of its gzip member or zstd frame, or the byte itself for plain
 * input. For members inflated streaming it is the raw position reached when
 * that byte was decoded. */
uint64_t up_raw_offset_of(const unpack *u, uint64_t dec);
uint64_t up_raw_consumed(const unpack *u);   /* raw bytes read from the source so far */
up_format up_fmt(const unpack *u);
const char *up_name(const unpack *u);
/* Message of the last UP_DAMAGE / UP_IOERR, and the raw offset it names. */
const char *up_error(const unpack *u);
uint64_t up_error_offset(const unpack *u);
/* Number of gzip members / zstd frames decoded intact. */
uint64_t up_members(const unpack *u);

#endif
