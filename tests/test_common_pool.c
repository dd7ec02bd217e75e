/* Unit tests for common/pool: consumption in production order at any thread
 * count, bounded in-flight items, early stops. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/pool.h"

typedef struct item {
    int seq;
    uint64_t result;
} item;

typedef struct ctx {
    int n_items, produced, consumed, discarded;
    int stop_produce_at;   /* -1: never */
    int stop_consume_at;   /* -1: never */
    uint64_t *results;
    int in_flight, max_seen;
    pthread_mutex_t mu;
    int workers_seen[64];
} ctx;

static void *produce(void *c_, int *stop)
{
    ctx *c = c_;
    if (c->produced == c->stop_produce_at) {
        *stop = 1;
        return NULL;
    }
    if (c->produced == c->n_items) return NULL;
    item *it = malloc(sizeof *it);
    it->seq = c->produced++;
    pthread_mutex_lock(&c->mu);
    if (++c->in_flight > c->max_seen) c->max_seen = c->in_flight;
    pthread_mutex_unlock(&c->mu);
    return it;
}

static void work(void *it_, int worker, void *c_)
{
    item *it = it_;
    ctx *c = c_;
    /* uneven work so items finish out of order */
    uint64_t h = (uint64_t)it->seq * 0x9E3779B97F4A7C15ULL;
    int spins = (int)((h >> 40) % 20000);
    for (int i = 0; i < spins; i++) h = h * 6364136223846793005ULL + 1442695040888963407ULL;
    if (it->seq % 7 == 0) {
        struct timespec ts = { 0, 200000 };
        nanosleep(&ts, NULL);
    }
    it->result = h ^ (uint64_t)it->seq;
    pthread_mutex_lock(&c->mu);
    c->workers_seen[worker] = 1;
    pthread_mutex_unlock(&c->mu);
}

static int consume(void *it_, void *c_)
{
    item *it = it_;
    ctx *c = c_;
    assert_int_equal(it->seq, c->consumed);   /* strictly in production order */
    c->results[c->consumed++] = it->result;
    pthread_mutex_lock(&c->mu);
    c->in_flight--;
    pthread_mutex_unlock(&c->mu);
    free(it);
    if (c->consumed == c->stop_consume_at) return 42;
    return 0;
}

static void discard(void *it, void *c_)
{
    ctx *c = c_;
    c->discarded++;
    free(it);
}

static void init_ctx(ctx *c, int n)
{
    memset(c, 0, sizeof *c);
    c->n_items = n;
    c->stop_produce_at = c->stop_consume_at = -1;
    c->results = calloc((size_t)n, sizeof *c->results);
    pthread_mutex_init(&c->mu, NULL);
}

static const qpipe_ops ops = { produce, work, consume, discard };

static void test_order_same_at_1_2_8_threads(void **state)
{
    (void)state;
    const int n = 3000;
    uint64_t *ref = NULL;
    int jobs[] = { 1, 2, 8 };
    for (size_t j = 0; j < 3; j++) {
        ctx c;
        init_ctx(&c, n);
        assert_int_equal(qpipe_run(jobs[j], &ops, &c, 0), 0);
        assert_int_equal(c.consumed, n);
        if (jobs[j] > 1) assert_true(c.max_seen <= 4 * jobs[j]);   /* bounded */
        if (!ref) ref = c.results;
        else {
            assert_memory_equal(ref, c.results, n * sizeof *ref);
            free(c.results);
        }
        pthread_mutex_destroy(&c.mu);
    }
    free(ref);
}

static void test_max_in_flight_respected(void **state)
{
    (void)state;
    ctx c;
    init_ctx(&c, 500);
    assert_int_equal(qpipe_run(8, &ops, &c, 3), 0);
    assert_true(c.max_seen <= 3);
    assert_int_equal(c.consumed, 500);
    free(c.results);
    pthread_mutex_destroy(&c.mu);
}

static void test_consume_stop_discards_rest(void **state)
{
    (void)state;
    for (int jobs = 1; jobs <= 4; jobs += 3) {
        ctx c;
        init_ctx(&c, 1000);
        c.stop_consume_at = 100;
        assert_int_equal(qpipe_run(jobs, &ops, &c, 0), 42);
        assert_int_equal(c.consumed, 100);
        assert_int_equal(c.consumed + c.discarded, c.produced);   /* nothing leaked */
        free(c.results);
        pthread_mutex_destroy(&c.mu);
    }
}

static void test_produce_stop_drains_first(void **state)
{
    (void)state;
    for (int jobs = 1; jobs <= 4; jobs += 3) {
        ctx c;
        init_ctx(&c, 1000);
        c.stop_produce_at = 250;
        assert_int_equal(qpipe_run(jobs, &ops, &c, 0), -1);
        assert_int_equal(c.consumed, 250);   /* everything produced was consumed */
        assert_int_equal(c.discarded, 0);
        free(c.results);
        pthread_mutex_destroy(&c.mu);
    }
}

static void test_empty_input(void **state)
{
    (void)state;
    ctx c;
    init_ctx(&c, 0);
    assert_int_equal(qpipe_run(4, &ops, &c, 0), 0);
    assert_int_equal(c.consumed, 0);
    free(c.results);
    pthread_mutex_destroy(&c.mu);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_same_at_1_2_8_threads),
        cmocka_unit_test(test_max_in_flight_respected),
        cmocka_unit_test(test_consume_stop_discards_rest),
        cmocka_unit_test(test_produce_stop_drains_first),
        cmocka_unit_test(test_empty_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
