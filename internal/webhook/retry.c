/*
 * retry: what an HTTP answer means for a delivery (OK / RETRY / ERROR /
 * DISABLE), the full-jitter backoff and Retry-After. Pure; any thread.
 */
#include <curl/curl.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>

#include "webhook/webhook_int.h"

bl_wh_result_t bl_wh_classify(long http_status)
{
    if (http_status == 0)
        return BL_WH_RETRY; /* no answer: timeout, refused, reset */
    if (http_status >= 200 && http_status < 300)
        return BL_WH_OK;
    if (http_status == 410)
        return BL_WH_DISABLE;
    if (http_status == 408 || http_status == 429 || http_status >= 500)
        return BL_WH_RETRY;
    return BL_WH_ERROR;
}

int64_t bl_wh_backoff_ms(int64_t initial_ms, int64_t max_ms, int attempt, double unit_random)
{
    if (attempt < 1)
        attempt = 1;
    int64_t cap = initial_ms;
    for (int i = 1; i < attempt && cap < max_ms; i++)
        cap *= 2;
    if (cap > max_ms)
        cap = max_ms;
    if (unit_random < 0)
        unit_random = 0;
    if (unit_random >= 1)
        unit_random = 0.999999;
    return (int64_t)(unit_random * (double)(cap + 1));
}

int64_t bl_wh_retry_after_ms(const char *value, time_t now)
{
    if (!value)
        return -1;
    while (*value == ' ' || *value == '\t')
        value++;
    if (isdigit((unsigned char)*value)) {
        char *end = NULL;
        errno = 0;
        long long seconds = strtoll(value, &end, 10);
        while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
            end++;
        if (errno || *end || seconds < 0)
            return -1;
        if (seconds > 7 * 24 * 3600) /* absurd: keep it to a week */
            seconds = 7 * 24 * 3600;
        return (int64_t)seconds * 1000;
    }
    /* IMF-fixdate and the two obsolete forms; libcurl parses all three. */
    time_t when = curl_getdate(value, NULL);
    if (when == (time_t)-1)
        return -1;
    if (when <= now)
        return 0;
    int64_t ms = (int64_t)(when - now) * 1000;
    if (ms > (int64_t)7 * 24 * 3600 * 1000)
        ms = (int64_t)7 * 24 * 3600 * 1000;
    return ms;
}
