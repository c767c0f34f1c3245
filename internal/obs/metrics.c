/*
 * metrics: process-wide Prometheus metrics and the readiness state.
 * Any thread may call any function: plain counters and the histogram are C11
 * atomics (no lock on the per-message path); labelled series live in small
 * mutex-protected tables with a fixed capacity so a bad label cannot grow
 * memory without bound. Rendering runs on the HTTP server's thread.
 */
#include "obs/metrics.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef BYLINE_VERSION
#define BYLINE_VERSION "unknown"
#endif

/* Longest label value kept; longer values are cut (labels are names, not data). */
#define LABEL_MAX 96
/* Capacities of the labelled tables; past them, new series fold into "other". */
#define DLQ_REASONS_MAX    64
#define WEBHOOK_SERIES_MAX 256
#define LAG_SERIES_MAX     4096

/* Latency buckets in seconds (upper bounds; +Inf is implicit). */
static const double latency_bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                        0.25,  0.5,    1.0,   2.5,  5.0,   10.0};
#define LATENCY_NBUCKETS (sizeof(latency_bounds) / sizeof(latency_bounds[0]))

static atomic_uint_fast64_t consumed_total;
static atomic_uint_fast64_t produced_total;
static atomic_uint_fast64_t articles_total;
static atomic_uint_fast64_t articles_dated_total;
static atomic_uint_fast64_t entities_total;
static atomic_uint_fast64_t articles_agency_total;

/* Non-cumulative bucket counts; made cumulative when rendered. The last slot is +Inf. */
static atomic_uint_fast64_t latency_buckets[LATENCY_NBUCKETS + 1];
static atomic_uint_fast64_t latency_count;
static atomic_uint_fast64_t latency_sum_ns; /* nanoseconds keep the sum exact and lock-free */

static atomic_int health_broker_up;
static atomic_int health_group_joined;

static atomic_uint_fast64_t series_dropped_total; /* lag series refused past capacity */

typedef struct {
    char reason[LABEL_MAX];
    uint64_t count;
} dlq_series_t;

typedef struct {
    char endpoint[LABEL_MAX];
    char result[32];
    uint64_t count;
} webhook_series_t;

typedef struct {
    char topic[LABEL_MAX];
    int32_t partition;
    int64_t lag;
} lag_series_t;

static pthread_mutex_t tables_lock = PTHREAD_MUTEX_INITIALIZER;
static dlq_series_t dlq_series[DLQ_REASONS_MAX];
static size_t dlq_nseries;
static webhook_series_t webhook_series[WEBHOOK_SERIES_MAX];
static size_t webhook_nseries;
static lag_series_t lag_series[LAG_SERIES_MAX];
static size_t lag_nseries;

static time_t process_start_time;

/* Runs when the program loads, so the start time is the process's, not the first scrape's. */
__attribute__((constructor)) static void start_time_init(void)
{
    process_start_time = time(NULL);
}

static void label_copy(char *dst, size_t dst_size, const char *src)
{
    if (!src || !*src)
        src = "unknown";
    size_t len = strnlen(src, dst_size - 1);
    memcpy(dst, src, len);
    dst[len] = '\0';
}

/*
 * Endpoint labels are meant to be endpoint names; when a URL is passed we keep
 * only scheme://host[:port], because user-info, paths and query strings of
 * webhook URLs often carry tokens and metrics must never show a secret.
 */
static void endpoint_label(char *dst, size_t dst_size, const char *endpoint)
{
    const char *scheme_end = endpoint ? strstr(endpoint, "://") : NULL;
    if (!scheme_end) {
        label_copy(dst, dst_size, endpoint);
        return;
    }
    const char *host = scheme_end + 3;
    size_t host_len = strcspn(host, "/?#");
    const char *at = memchr(host, '@', host_len);
    if (at) {
        host_len -= (size_t)(at + 1 - host);
        host = at + 1;
    }
    snprintf(dst, dst_size, "%.*s://%.*s", (int)(scheme_end - endpoint), endpoint, (int)host_len,
             host);
}

void bl_metrics_consumed(void)
{
    atomic_fetch_add_explicit(&consumed_total, 1, memory_order_relaxed);
}

void bl_metrics_produced(void)
{
    atomic_fetch_add_explicit(&produced_total, 1, memory_order_relaxed);
}

void bl_metrics_dead_lettered(const char *reason)
{
    char label[LABEL_MAX];
    label_copy(label, sizeof(label), reason);
    pthread_mutex_lock(&tables_lock);
    size_t i;
    for (i = 0; i < dlq_nseries; i++)
        if (strcmp(dlq_series[i].reason, label) == 0)
            break;
    if (i == dlq_nseries) {
        if (dlq_nseries == DLQ_REASONS_MAX) {
            /* Fold into the last slot, renamed "other", rather than grow. */
            i = DLQ_REASONS_MAX - 1;
            label_copy(dlq_series[i].reason, LABEL_MAX, "other");
        } else {
            dlq_nseries++;
            label_copy(dlq_series[i].reason, LABEL_MAX, label);
            dlq_series[i].count = 0;
        }
    }
    dlq_series[i].count++;
    pthread_mutex_unlock(&tables_lock);
}

void bl_metrics_latency_observe(double seconds)
{
    if (!(seconds >= 0)) /* also rejects NaN */
        seconds = 0;
    size_t b = 0;
    while (b < LATENCY_NBUCKETS && seconds > latency_bounds[b])
        b++;
    atomic_fetch_add_explicit(&latency_buckets[b], 1, memory_order_relaxed);
    double ns = seconds * 1e9;
    if (ns > 1e18) /* clamp absurd values so the sum cannot wrap */
        ns = 1e18;
    atomic_fetch_add_explicit(&latency_sum_ns, (uint_fast64_t)ns, memory_order_relaxed);
    atomic_fetch_add_explicit(&latency_count, 1, memory_order_relaxed);
}

void bl_metrics_article(int has_published_date, int entities, int credits_agency)
{
    atomic_fetch_add_explicit(&articles_total, 1, memory_order_relaxed);
    if (has_published_date)
        atomic_fetch_add_explicit(&articles_dated_total, 1, memory_order_relaxed);
    if (entities > 0)
        atomic_fetch_add_explicit(&entities_total, (uint_fast64_t)entities, memory_order_relaxed);
    if (credits_agency)
        atomic_fetch_add_explicit(&articles_agency_total, 1, memory_order_relaxed);
}

void bl_metrics_lag_set(const char *topic, int32_t partition, int64_t lag)
{
    char label[LABEL_MAX];
    label_copy(label, sizeof(label), topic);
    if (lag < 0) /* an unknown watermark or position is reported as -1 by librdkafka */
        lag = 0;
    pthread_mutex_lock(&tables_lock);
    size_t i;
    for (i = 0; i < lag_nseries; i++)
        if (lag_series[i].partition == partition && strcmp(lag_series[i].topic, label) == 0)
            break;
    if (i == lag_nseries) {
        if (lag_nseries == LAG_SERIES_MAX) {
            pthread_mutex_unlock(&tables_lock);
            atomic_fetch_add_explicit(&series_dropped_total, 1, memory_order_relaxed);
            return;
        }
        lag_nseries++;
        label_copy(lag_series[i].topic, LABEL_MAX, label);
        lag_series[i].partition = partition;
    }
    lag_series[i].lag = lag;
    pthread_mutex_unlock(&tables_lock);
}

void bl_metrics_lag_remove(const char *topic, int32_t partition)
{
    char label[LABEL_MAX];
    label_copy(label, sizeof(label), topic);
    pthread_mutex_lock(&tables_lock);
    for (size_t i = 0; i < lag_nseries; i++) {
        if (lag_series[i].partition == partition && strcmp(lag_series[i].topic, label) == 0) {
            lag_series[i] = lag_series[--lag_nseries]; /* order does not matter */
            break;
        }
    }
    pthread_mutex_unlock(&tables_lock);
}

void bl_metrics_webhook(const char *endpoint, const char *result)
{
    char ep[LABEL_MAX], res[32];
    endpoint_label(ep, sizeof(ep), endpoint);
    label_copy(res, sizeof(res), result);
    pthread_mutex_lock(&tables_lock);
    size_t i;
    for (i = 0; i < webhook_nseries; i++)
        if (strcmp(webhook_series[i].endpoint, ep) == 0 &&
            strcmp(webhook_series[i].result, res) == 0)
            break;
    if (i == webhook_nseries) {
        if (webhook_nseries == WEBHOOK_SERIES_MAX) {
            i = WEBHOOK_SERIES_MAX - 1;
            label_copy(webhook_series[i].endpoint, LABEL_MAX, "other");
            label_copy(webhook_series[i].result, sizeof(webhook_series[i].result), "other");
        } else {
            webhook_nseries++;
            label_copy(webhook_series[i].endpoint, LABEL_MAX, ep);
            label_copy(webhook_series[i].result, sizeof(webhook_series[i].result), res);
            webhook_series[i].count = 0;
        }
    }
    webhook_series[i].count++;
    pthread_mutex_unlock(&tables_lock);
}

void bl_health_set_broker_up(int up)
{
    atomic_store(&health_broker_up, up ? 1 : 0);
}

void bl_health_set_group_joined(int joined)
{
    atomic_store(&health_group_joined, joined ? 1 : 0);
}

int bl_health_ready(char *why, size_t why_size)
{
    const char *reason = NULL;
    if (!atomic_load(&health_broker_up))
        reason = "broker not reachable";
    else if (!atomic_load(&health_group_joined))
        reason = "consumer group not joined (no partitions assigned yet)";
    if (why && why_size)
        snprintf(why, why_size, "%s", reason ? reason : "ready");
    return reason == NULL;
}

void bl_metrics_reset(void)
{
    atomic_store(&consumed_total, 0);
    atomic_store(&produced_total, 0);
    atomic_store(&articles_total, 0);
    atomic_store(&articles_dated_total, 0);
    atomic_store(&entities_total, 0);
    atomic_store(&articles_agency_total, 0);
    for (size_t b = 0; b <= LATENCY_NBUCKETS; b++)
        atomic_store(&latency_buckets[b], 0);
    atomic_store(&latency_count, 0);
    atomic_store(&latency_sum_ns, 0);
    atomic_store(&series_dropped_total, 0);
    atomic_store(&health_broker_up, 0);
    atomic_store(&health_group_joined, 0);
    pthread_mutex_lock(&tables_lock);
    dlq_nseries = webhook_nseries = lag_nseries = 0;
    pthread_mutex_unlock(&tables_lock);
}

/* Writes a label value with the escapes the text format requires. */
static void put_label_value(FILE *out, const char *value)
{
    for (const char *p = value; *p; p++) {
        if (*p == '\\')
            fputs("\\\\", out);
        else if (*p == '"')
            fputs("\\\"", out);
        else if (*p == '\n')
            fputs("\\n", out);
        else
            fputc(*p, out);
    }
}

static void put_header(FILE *out, const char *name, const char *type, const char *help)
{
    fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void put_counter(FILE *out, const char *name, const char *help, uint64_t value)
{
    put_header(out, name, "counter", help);
    fprintf(out, "%s %" PRIu64 "\n", name, value);
}

static void put_gauge(FILE *out, const char *name, const char *help, long long value)
{
    put_header(out, name, "gauge", help);
    fprintf(out, "%s %lld\n", name, value);
}

static void render_tables(FILE *out)
{
    /* Copy under the lock and write after, so a slow scraper never blocks the pipeline. */
    static dlq_series_t dlq_copy[DLQ_REASONS_MAX];
    static webhook_series_t webhook_copy[WEBHOOK_SERIES_MAX];
    static lag_series_t lag_copy[LAG_SERIES_MAX];
    static pthread_mutex_t render_lock = PTHREAD_MUTEX_INITIALIZER; /* guards the copies */

    pthread_mutex_lock(&render_lock);
    pthread_mutex_lock(&tables_lock);
    size_t ndlq = dlq_nseries, nwebhook = webhook_nseries, nlag = lag_nseries;
    memcpy(dlq_copy, dlq_series, ndlq * sizeof(*dlq_copy));
    memcpy(webhook_copy, webhook_series, nwebhook * sizeof(*webhook_copy));
    memcpy(lag_copy, lag_series, nlag * sizeof(*lag_copy));
    pthread_mutex_unlock(&tables_lock);

    put_header(out, "byline_dead_lettered_total", "counter",
               "Input messages sent to the dead-letter topic, by reason.");
    for (size_t i = 0; i < ndlq; i++) {
        fputs("byline_dead_lettered_total{reason=\"", out);
        put_label_value(out, dlq_copy[i].reason);
        fprintf(out, "\"} %" PRIu64 "\n", dlq_copy[i].count);
    }

    put_header(out, "byline_webhook_deliveries_total", "counter",
               "Webhook delivery outcomes by endpoint and result "
               "(delivered|retry|dead_lettered|disabled).");
    for (size_t i = 0; i < nwebhook; i++) {
        fputs("byline_webhook_deliveries_total{endpoint=\"", out);
        put_label_value(out, webhook_copy[i].endpoint);
        fputs("\",result=\"", out);
        put_label_value(out, webhook_copy[i].result);
        fprintf(out, "\"} %" PRIu64 "\n", webhook_copy[i].count);
    }

    put_header(out, "byline_consumer_lag", "gauge",
               "Messages not yet consumed per assigned input partition "
               "(high watermark - position).");
    for (size_t i = 0; i < nlag; i++) {
        fputs("byline_consumer_lag{topic=\"", out);
        put_label_value(out, lag_copy[i].topic);
        fprintf(out, "\",partition=\"%" PRId32 "\"} %" PRId64 "\n", lag_copy[i].partition,
                lag_copy[i].lag);
    }
    pthread_mutex_unlock(&render_lock);
}

static void render_latency(FILE *out)
{
    put_header(out, "byline_processing_latency_seconds", "histogram",
               "Seconds from consuming a message to it being done "
               "(delivered to the output topic or dead-lettered).");
    uint64_t cumulative = 0;
    for (size_t b = 0; b < LATENCY_NBUCKETS; b++) {
        cumulative += atomic_load_explicit(&latency_buckets[b], memory_order_relaxed);
        fprintf(out, "byline_processing_latency_seconds_bucket{le=\"%g\"} %" PRIu64 "\n",
                latency_bounds[b], cumulative);
    }
    cumulative += atomic_load_explicit(&latency_buckets[LATENCY_NBUCKETS], memory_order_relaxed);
    /* _count equals the +Inf bucket by definition; use the bucket sum so a
     * concurrent observation cannot make them disagree within one scrape. */
    fprintf(out, "byline_processing_latency_seconds_bucket{le=\"+Inf\"} %" PRIu64 "\n", cumulative);
    double sum = (double)atomic_load_explicit(&latency_sum_ns, memory_order_relaxed) / 1e9;
    fprintf(out, "byline_processing_latency_seconds_sum %.9f\n", sum);
    fprintf(out, "byline_processing_latency_seconds_count %" PRIu64 "\n", cumulative);
}

void bl_metrics_render(FILE *out)
{
    put_header(out, "byline_build_info", "gauge", "Build information; the value is always 1.");
    fputs("byline_build_info{version=\"", out);
    put_label_value(out, BYLINE_VERSION);
    fputs("\"} 1\n", out);
    put_gauge(out, "byline_start_time_seconds", "Unix time the process started.",
              (long long)process_start_time);

    put_counter(out, "byline_consumed_total", "Input messages consumed from the input topic.",
                atomic_load(&consumed_total));
    put_counter(out, "byline_produced_total", "Enriched records delivered to the output topic.",
                atomic_load(&produced_total));
    render_tables(out);
    render_latency(out);

    put_counter(out, "byline_articles_total",
                "Articles enriched. Denominator for the content ratios below.",
                atomic_load(&articles_total));
    put_counter(out, "byline_articles_with_published_date_total",
                "Articles that carry a publication date. Ratio: "
                "rate(byline_articles_with_published_date_total[5m]) / "
                "rate(byline_articles_total[5m]).",
                atomic_load(&articles_dated_total));
    put_counter(out, "byline_entities_total",
                "Entities found (after merging per article). Entities per article: "
                "rate(byline_entities_total[5m]) / rate(byline_articles_total[5m]).",
                atomic_load(&entities_total));
    put_counter(out, "byline_articles_crediting_agency_total",
                "Articles crediting at least one wire agency. Ratio: "
                "rate(byline_articles_crediting_agency_total[5m]) / "
                "rate(byline_articles_total[5m]).",
                atomic_load(&articles_agency_total));
    put_counter(out, "byline_metric_series_dropped_total",
                "Lag updates refused because the series table was full.",
                atomic_load(&series_dropped_total));

    int broker_up = atomic_load(&health_broker_up);
    int group_joined = atomic_load(&health_group_joined);
    put_gauge(out, "byline_broker_up", "1 when at least one broker is reachable.", broker_up);
    put_gauge(out, "byline_group_joined", "1 when the consumer has joined its group.",
              group_joined);
    put_gauge(out, "byline_ready", "1 when /readyz answers 200.", broker_up && group_joined);
}
