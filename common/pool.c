/* pool.c - see pool.h.
 *
 * A ring of max_in_flight slots indexed by production sequence number. The
 * calling thread produces into the ring and consumes from its head, in
 * order; workers take slots in sequence and mark them done. Everything
 * shared is guarded by one mutex: items are batches, so the lock is taken a
 * few times per batch, never per document. */
#include "pool.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct slot {
    void *item;
    int done;
} slot;

typedef struct pipe_state {
    pthread_mutex_t mu;
    pthread_cond_t work_cv;   /* workers: a new item, or shutdown */
    pthread_cond_t done_cv;   /* main: an item finished */
    slot *ring;
    size_t cap;
    uint64_t produced, next_work, consumed;
    int shutdown;
    const qpipe_ops *ops;
    void *ctx;
} pipe_state;

typedef struct worker_arg {
    pipe_state *ps;
    int index;
} worker_arg;

static void *worker_main(void *arg)
{
    worker_arg *wa = arg;
    pipe_state *ps = wa->ps;
    pthread_mutex_lock(&ps->mu);
    for (;;) {
        while (ps->next_work == ps->produced && !ps->shutdown) pthread_cond_wait(&ps->work_cv, &ps->mu);
        if (ps->next_work == ps->produced) break;   /* shutdown and nothing queued */
        uint64_t k = ps->next_work++;
        void *item = ps->ring[k % ps->cap].item;
        pthread_mutex_unlock(&ps->mu);
        ps->ops->work(item, wa->index, ps->ctx);
        pthread_mutex_lock(&ps->mu);
        ps->ring[k % ps->cap].done = 1;
        if (k == ps->consumed) pthread_cond_signal(&ps->done_cv);
    }
    pthread_mutex_unlock(&ps->mu);
    return NULL;
}

static int run_serial(const qpipe_ops *ops, void *ctx)
{
    for (;;) {
        int stop = 0;
        void *item = ops->produce(ctx, &stop);
        if (!item) return stop ? -1 : 0;
        ops->work(item, 0, ctx);
        int rc = ops->consume(item, ctx);
        if (rc) return rc;
    }
}

int qpipe_run(int jobs, const qpipe_ops *ops, void *ctx, size_t max_in_flight)
{
    if (jobs <= 1) return run_serial(ops, ctx);
    if (!max_in_flight) max_in_flight = 4 * (size_t)jobs;
    if (max_in_flight < 2) max_in_flight = 2;

    pipe_state ps = { .cap = max_in_flight, .ops = ops, .ctx = ctx };
    pthread_mutex_init(&ps.mu, NULL);
    pthread_cond_init(&ps.work_cv, NULL);
    pthread_cond_init(&ps.done_cv, NULL);
    ps.ring = calloc(ps.cap, sizeof *ps.ring);
    pthread_t *threads = calloc((size_t)jobs, sizeof *threads);
    worker_arg *args = calloc((size_t)jobs, sizeof *args);
    if (!ps.ring || !threads || !args) abort();
    int started = 0;
    for (int i = 0; i < jobs; i++) {
        args[i] = (worker_arg){ &ps, i };
        if (pthread_create(&threads[i], NULL, worker_main, &args[i])) break;
        started++;
    }
    if (!started) {
        /* No threads to be had: still correct, just serial. */
        free(ps.ring);
        free(threads);
        free(args);
        return run_serial(ops, ctx);
    }

    int rc = 0, eof = 0, produce_stopped = 0;
    pthread_mutex_lock(&ps.mu);
    for (;;) {
        while (ps.consumed < ps.produced && ps.ring[ps.consumed % ps.cap].done) {
            slot *s = &ps.ring[ps.consumed % ps.cap];
            void *item = s->item;
            s->item = NULL;
            s->done = 0;
            ps.consumed++;
            pthread_mutex_unlock(&ps.mu);
            int r = ops->consume(item, ctx);
            pthread_mutex_lock(&ps.mu);
            if (r) {
                rc = r;
                goto stop;
            }
        }
        if (!eof && ps.produced - ps.consumed < ps.cap) {
            pthread_mutex_unlock(&ps.mu);
            int stop = 0;
            void *item = ops->produce(ctx, &stop);
            pthread_mutex_lock(&ps.mu);
            if (!item) {
                eof = 1;
                produce_stopped = stop;
            } else {
                ps.ring[ps.produced % ps.cap] = (slot){ item, 0 };
                ps.produced++;
                pthread_cond_signal(&ps.work_cv);
            }
            continue;
        }
        if (eof && ps.consumed == ps.produced) break;
        pthread_cond_wait(&ps.done_cv, &ps.mu);
    }
    if (produce_stopped) rc = -1;
stop:
    /* Items not yet started are never worked on after an early stop. */
    ps.next_work = ps.produced;
    ps.shutdown = 1;
    pthread_cond_broadcast(&ps.work_cv);
    pthread_mutex_unlock(&ps.mu);
    for (int i = 0; i < started; i++) pthread_join(threads[i], NULL);
    for (uint64_t k = ps.consumed; k < ps.produced; k++) {
        void *item = ps.ring[k % ps.cap].item;
        if (item && ops->discard) ops->discard(item, ctx);
    }
    pthread_mutex_destroy(&ps.mu);
    pthread_cond_destroy(&ps.work_cv);
    pthread_cond_destroy(&ps.done_cv);
    free(ps.ring);
    free(threads);
    free(args);
    return rc;
}
