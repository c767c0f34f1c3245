/* Retry policy: status classes, the full-jitter schedule, Retry-After. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "webhook/webhook_int.h"

static void classify(void **state)
{
    assert_int_equal(bl_wh_classify(200), BL_WH_OK);
    assert_int_equal(bl_wh_classify(204), BL_WH_OK);
    assert_int_equal(bl_wh_classify(410), BL_WH_DISABLE);
    assert_int_equal(bl_wh_classify(429), BL_WH_RETRY);
    assert_int_equal(bl_wh_classify(503), BL_WH_RETRY);
    assert_int_equal(bl_wh_classify(500), BL_WH_RETRY);
    assert_int_equal(bl_wh_classify(408), BL_WH_RETRY);
    assert_int_equal(bl_wh_classify(0), BL_WH_RETRY);
    assert_int_equal(bl_wh_classify(400), BL_WH_ERROR);
    assert_int_equal(bl_wh_classify(404), BL_WH_ERROR);
    assert_int_equal(bl_wh_classify(413), BL_WH_ERROR);
    assert_int_equal(bl_wh_classify(301), BL_WH_ERROR);
}

static void backoff_schedule(void **state)
{
    /* the cap doubles per attempt from the initial delay up to the max */
    assert_int_equal(bl_wh_backoff_ms(1000, 300000, 1, 0.999999), 1000);
    assert_int_equal(bl_wh_backoff_ms(1000, 300000, 2, 0.999999), 2000);
    assert_int_equal(bl_wh_backoff_ms(1000, 300000, 5, 0.999999), 16000);
    assert_int_equal(bl_wh_backoff_ms(1000, 300000, 9, 0.999999), 256000);
    assert_int_equal(bl_wh_backoff_ms(1000, 300000, 10, 0.999999), 300000);
    assert_int_equal(bl_wh_backoff_ms(1000, 300000, 1000, 0.999999), 300000);
    /* full jitter: anywhere from 0 to the cap */
    assert_int_equal(bl_wh_backoff_ms(1000, 300000, 3, 0.0), 0);
    assert_int_equal(bl_wh_backoff_ms(1000, 300000, 3, 0.5), 2000);
    assert_int_equal(bl_wh_backoff_ms(1000, 300000, 0, 0.999999), 1000);
}

static void default_schedule_keeps_trying_for_hours(void **state)
{
    /* with the defaults (1 s, 5 min, give up at 6 h) the attempts that fit
     * into 6 h at the largest possible delay are many, not a handful */
    int64_t elapsed = 0;
    int attempts = 0;
    while (elapsed < 21600000) {
        attempts++;
        elapsed += bl_wh_backoff_ms(1000, 300000, attempts, 0.999999);
    }
    assert_true(attempts > 70);
}

static void retry_after(void **state)
{
    time_t now = 1700000000; /* Tue, 14 Nov 2023 22:13:20 GMT */
    assert_int_equal(bl_wh_retry_after_ms("0", now), 0);
    assert_int_equal(bl_wh_retry_after_ms("7", now), 7000);
    assert_int_equal(bl_wh_retry_after_ms(" 120 ", now), 120000);
    assert_int_equal(bl_wh_retry_after_ms("Tue, 14 Nov 2023 22:13:50 GMT", now), 30000);
    assert_int_equal(bl_wh_retry_after_ms("Tuesday, 14-Nov-23 22:14:20 GMT", now), 60000);
    assert_int_equal(bl_wh_retry_after_ms("Tue, 14 Nov 2023 22:00:00 GMT", now), 0);
    assert_int_equal(bl_wh_retry_after_ms("-5", now), -1);
    assert_int_equal(bl_wh_retry_after_ms("5s", now), -1);
    assert_int_equal(bl_wh_retry_after_ms("soon", now), -1);
    assert_int_equal(bl_wh_retry_after_ms(NULL, now), -1);
    /* capped at a week */
    assert_int_equal(bl_wh_retry_after_ms("99999999", now), (int64_t)7 * 24 * 3600 * 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(classify),
        cmocka_unit_test(backoff_schedule),
        cmocka_unit_test(default_schedule_keeps_trying_for_hours),
        cmocka_unit_test(retry_after),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
