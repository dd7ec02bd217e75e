/* pool.h - parallel work with output in input order.
 *
 * The one pattern every stage needs: a producer cuts the input into items
 * (batches of documents) on the calling thread, workers process items in any
 * order on `jobs` threads, and a consumer sees finished items strictly in the
 * order they were produced. So output bytes never depend on -j. At most
 * `max_in_flight` items exist at once, which bounds memory.
 *
 * jobs <= 1 runs everything on the calling thread (produce, work, consume). */
#ifndef QUERN_POOL_H
#define QUERN_POOL_H

#include <stddef.h>

typedef struct qpipe_ops {
    /* Main thread. Return the next item, or NULL at the end of input.
     * Set *stop = 1 (and return NULL) to abort on error. */
    void *(*produce)(void *ctx, int *stop);
    /* Any worker thread; `worker` in [0, jobs) indexes per-thread state. */
    void (*work)(void *item, int worker, void *ctx);
    /* Main thread, in production order. Owns the item (free it here).
     * Return 0 to continue, non-zero to stop early (that value is returned). */
    int (*consume)(void *item, void *ctx);
    /* Frees an item that was produced but will never be consumed (early stop). */
    void (*discard)(void *item, void *ctx);
} qpipe_ops;

/* Returns 0 when all items were consumed, the consume() return value if it
 * stopped early, or -1 if produce() asked to stop. Items produced before a
 * produce() stop are still worked and consumed (so output written before an
 * input error is kept); after a consume() stop, the rest are discarded.
 * max_in_flight 0 = 4*jobs. */
int qpipe_run(int jobs, const qpipe_ops *ops, void *ctx, size_t max_in_flight);

#endif
