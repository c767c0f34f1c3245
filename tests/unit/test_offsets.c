/* Unit tests of the offset tracker: only a done prefix is ever committable. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "kafka/offsets.h"

static void test_prefix_only(void **state)
{
    bl_offsets_t *o = bl_offsets_new();
    int64_t g = bl_offsets_begin(o, 0, 10);
    assert_int_equal(g, 0);
    bl_offsets_begin(o, 0, 11);
    bl_offsets_begin(o, 0, 12);
    assert_int_equal(bl_offsets_committable(o, 0), -1);
    /* 11 and 12 done, 10 not: nothing committable. */
    assert_int_equal(bl_offsets_done(o, 0, 12, g), 0);
    assert_int_equal(bl_offsets_done(o, 0, 11, g), 0);
    assert_int_equal(bl_offsets_committable(o, 0), -1);
    assert_int_equal(bl_offsets_inflight(o, 0), 3);
    /* 10 done: everything up to 12 is, commit 13. */
    assert_int_equal(bl_offsets_done(o, 0, 10, g), 1);
    assert_int_equal(bl_offsets_committable(o, 0), 13);
    assert_int_equal(bl_offsets_inflight(o, 0), 0);
    assert_int_equal(bl_offsets_take_dirty(o, 0), 1);
    assert_int_equal(bl_offsets_take_dirty(o, 0), 0);
    bl_offsets_destroy(o);
}

static void test_gaps_and_partitions(void **state)
{
    bl_offsets_t *o = bl_offsets_new();
    /* Compacted or transactional topics skip offsets. */
    int64_t g0 = bl_offsets_begin(o, 0, 5);
    bl_offsets_begin(o, 0, 9);
    int64_t g3 = bl_offsets_begin(o, 3, 100);
    assert_int_equal(bl_offsets_partitions(o), 4);
    assert_int_equal(bl_offsets_done(o, 0, 5, g0), 1);
    assert_int_equal(bl_offsets_committable(o, 0), 6);
    assert_int_equal(bl_offsets_committable(o, 3), -1);
    assert_int_equal(bl_offsets_done(o, 3, 100, g3), 1);
    assert_int_equal(bl_offsets_committable(o, 3), 101);
    assert_int_equal(bl_offsets_inflight(o, -1), 1);
    /* Unknown offsets and out-of-order begins are refused. */
    assert_int_equal(bl_offsets_done(o, 0, 7, g0), -1);
    assert_int_equal(bl_offsets_begin(o, 0, 9), -1);
    assert_int_equal(bl_offsets_begin(o, 0, 8), -1);
    bl_offsets_destroy(o);
}

static void test_reset_ignores_stale_reports(void **state)
{
    bl_offsets_t *o = bl_offsets_new();
    int64_t old = bl_offsets_begin(o, 1, 40);
    bl_offsets_reset(o, 1); /* revoked */
    assert_int_equal(bl_offsets_inflight(o, 1), 0);
    int64_t now = bl_offsets_begin(o, 1, 40); /* re-assigned, re-fetched */
    assert_true(now != old);
    /* A late report from before the rebalance must not mark the new one. */
    assert_int_equal(bl_offsets_done(o, 1, 40, old), -1);
    assert_int_equal(bl_offsets_committable(o, 1), -1);
    assert_int_equal(bl_offsets_done(o, 1, 40, now), 1);
    assert_int_equal(bl_offsets_committable(o, 1), 41);
    bl_offsets_destroy(o);
}

static void test_many_random_order(void **state)
{
    enum { N = 50000 };
    bl_offsets_t *o = bl_offsets_new();
    int64_t g = 0;
    for (int64_t i = 0; i < N; i++)
        g = bl_offsets_begin(o, 2, i);
    /* Finish in a shuffled order; the committable offset never passes an
     * unfinished one. */
    int64_t *order = malloc(N * sizeof(*order));
    char *done = calloc(N, 1);
    for (int64_t i = 0; i < N; i++)
        order[i] = i;
    srand(7);
    for (int64_t i = N - 1; i > 0; i--) {
        int64_t j = rand() % (i + 1), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    int64_t lowest_unfinished = 0;
    for (int64_t i = 0; i < N; i++) {
        bl_offsets_done(o, 2, order[i], g);
        done[order[i]] = 1;
        while (lowest_unfinished < N && done[lowest_unfinished])
            lowest_unfinished++;
        int64_t c = bl_offsets_committable(o, 2);
        assert_int_equal(c, lowest_unfinished == 0 ? -1 : lowest_unfinished);
    }
    assert_int_equal(bl_offsets_committable(o, 2), N);
    free(order);
    free(done);
    bl_offsets_destroy(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prefix_only),
        cmocka_unit_test(test_gaps_and_partitions),
        cmocka_unit_test(test_reset_ignores_stale_reports),
        cmocka_unit_test(test_many_random_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
