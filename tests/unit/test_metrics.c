/*
 * Unit tests for obs/metrics (Prometheus text, readiness) and obs/http
 * (/healthz, /readyz, /metrics served on a loopback port, fetched with curl).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "obs/http.h"
#include "obs/metrics.h"

static char *render(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    bl_metrics_render(out);
    fclose(out);
    return text;
}

/* Asserts that @p text holds the exact line @p line. */
static void assert_line(const char *text, const char *line)
{
    size_t len = strlen(line);
    for (const char *p = text; (p = strstr(p, line)); p++) {
        if ((p == text || p[-1] == '\n') && (p[len] == '\n' || p[len] == '\0'))
            return;
    }
    fail_msg("line not found: %s\n--- in ---\n%s", line, text);
}

static int reset(void **state)
{
    bl_metrics_reset();
    return 0;
}

static void test_counters_and_types(void **state)
{
    bl_metrics_consumed();
    bl_metrics_consumed();
    bl_metrics_produced();
    char *text = render();
    assert_line(text, "# TYPE byline_consumed_total counter");
    assert_line(text, "byline_consumed_total 2");
    assert_line(text, "byline_produced_total 1");
    assert_line(text, "# TYPE byline_processing_latency_seconds histogram");
    assert_line(text, "# TYPE byline_consumer_lag gauge");
    /* Every sample's metric has HELP and TYPE lines. */
    char *copy = strdup(text), *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#')
            continue;
        assert_true(strncmp(line, "byline_", 7) == 0);
        char name[128];
        size_t n = strcspn(line, "{ ");
        snprintf(name, sizeof(name), "%.*s", (int)n, line);
        char *suffix = strstr(name, "_bucket");
        if (!suffix)
            suffix = strstr(name, "_sum");
        if (!suffix && strstr(name, "_seconds_count"))
            suffix = strstr(name, "_count");
        if (suffix)
            *suffix = '\0';
        char help[160];
        snprintf(help, sizeof(help), "# HELP %s ", name);
        assert_non_null(strstr(text, help));
    }
    free(copy);
    free(text);
}

static void test_dead_lettered_by_reason_escaped(void **state)
{
    bl_metrics_dead_lettered("invalid_utf8");
    bl_metrics_dead_lettered("invalid_utf8");
    bl_metrics_dead_lettered("bad \"json\"\\\n");
    bl_metrics_dead_lettered(NULL);
    char *text = render();
    assert_line(text, "byline_dead_lettered_total{reason=\"invalid_utf8\"} 2");
    assert_line(text, "byline_dead_lettered_total{reason=\"bad \\\"json\\\"\\\\\\n\"} 1");
    assert_line(text, "byline_dead_lettered_total{reason=\"unknown\"} 1");
    free(text);
}

static void test_dead_letter_reasons_are_bounded(void **state)
{
    char reason[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(reason, sizeof(reason), "reason_%d", i);
        bl_metrics_dead_lettered(reason);
    }
    char *text = render();
    size_t series = 0;
    for (const char *p = text; (p = strstr(p, "\nbyline_dead_lettered_total{")); p++)
        series++;
    assert_true(series <= 64);
    assert_non_null(strstr(text, "byline_dead_lettered_total{reason=\"other\"}"));
    free(text);
}

static void test_histogram_is_cumulative(void **state)
{
    bl_metrics_latency_observe(0.0005); /* le 0.001 */
    bl_metrics_latency_observe(0.02);   /* le 0.025 */
    bl_metrics_latency_observe(0.02);
    bl_metrics_latency_observe(60); /* only +Inf */
    char *text = render();
    assert_line(text, "byline_processing_latency_seconds_bucket{le=\"0.001\"} 1");
    assert_line(text, "byline_processing_latency_seconds_bucket{le=\"0.01\"} 1");
    assert_line(text, "byline_processing_latency_seconds_bucket{le=\"0.025\"} 3");
    assert_line(text, "byline_processing_latency_seconds_bucket{le=\"10\"} 3");
    assert_line(text, "byline_processing_latency_seconds_bucket{le=\"+Inf\"} 4");
    assert_line(text, "byline_processing_latency_seconds_count 4");
    assert_line(text, "byline_processing_latency_seconds_sum 60.040500000");
    free(text);
}

static void test_content_figures(void **state)
{
    bl_metrics_article(1, 12, 1);
    bl_metrics_article(0, 3, 0);
    bl_metrics_article(1, 0, 0);
    char *text = render();
    assert_line(text, "byline_articles_total 3");
    assert_line(text, "byline_articles_with_published_date_total 2");
    assert_line(text, "byline_entities_total 15");
    assert_line(text, "byline_articles_crediting_agency_total 1");
    assert_non_null(strstr(text, "# TYPE byline_articles_crediting_agency_total counter"));
    free(text);
}

static void test_lag_set_update_remove(void **state)
{
    bl_metrics_lag_set("articles.raw", 0, 10);
    bl_metrics_lag_set("articles.raw", 5, 7);
    bl_metrics_lag_set("articles.raw", 0, 4);
    char *text = render();
    assert_line(text, "byline_consumer_lag{topic=\"articles.raw\",partition=\"0\"} 4");
    assert_line(text, "byline_consumer_lag{topic=\"articles.raw\",partition=\"5\"} 7");
    free(text);
    bl_metrics_lag_remove("articles.raw", 0);
    text = render();
    assert_null(strstr(text, "partition=\"0\""));
    assert_line(text, "byline_consumer_lag{topic=\"articles.raw\",partition=\"5\"} 7");
    free(text);
}

static void test_webhook_labels_hide_secrets(void **state)
{
    bl_metrics_webhook("https://user:s3cret@hooks.example.com:8443/services/T0/B0/tok3n?sig=abc",
                       "delivered");
    bl_metrics_webhook("receiver", "retry");
    bl_metrics_webhook("receiver", "retry");
    char *text = render();
    assert_line(text, "byline_webhook_deliveries_total{endpoint=\"https://hooks.example.com:8443\","
                      "result=\"delivered\"} 1");
    assert_line(text, "byline_webhook_deliveries_total{endpoint=\"receiver\",result=\"retry\"} 2");
    assert_null(strstr(text, "s3cret"));
    assert_null(strstr(text, "tok3n"));
    assert_null(strstr(text, "sig=abc"));
    free(text);
}

static void test_readiness(void **state)
{
    char why[128];
    assert_int_equal(bl_health_ready(why, sizeof(why)), 0);
    assert_non_null(strstr(why, "broker"));
    bl_health_set_broker_up(1);
    assert_int_equal(bl_health_ready(why, sizeof(why)), 0);
    assert_non_null(strstr(why, "group"));
    bl_health_set_group_joined(1);
    assert_int_equal(bl_health_ready(why, sizeof(why)), 1);
    char *text = render();
    assert_line(text, "byline_ready 1");
    free(text);
    bl_health_set_broker_up(0);
    assert_int_equal(bl_health_ready(NULL, 0), 0);
}

#define THREADS    4
#define PER_THREAD 50000

static void *hammer(void *arg)
{
    for (int i = 0; i < PER_THREAD; i++) {
        bl_metrics_consumed();
        bl_metrics_latency_observe(0.002);
        bl_metrics_dead_lettered(i % 2 ? "a" : "b");
    }
    return NULL;
}

static void test_concurrent_updates_are_exact(void **state)
{
    pthread_t threads[THREADS];
    for (int t = 0; t < THREADS; t++)
        assert_int_equal(pthread_create(&threads[t], NULL, hammer, NULL), 0);
    for (int t = 0; t < THREADS; t++)
        pthread_join(threads[t], NULL);
    char *text = render();
    char line[128];
    snprintf(line, sizeof(line), "byline_consumed_total %d", THREADS * PER_THREAD);
    assert_line(text, line);
    snprintf(line, sizeof(line), "byline_processing_latency_seconds_count %d",
             THREADS * PER_THREAD);
    assert_line(text, line);
    snprintf(line, sizeof(line), "byline_dead_lettered_total{reason=\"a\"} %d",
             THREADS * PER_THREAD / 2);
    assert_line(text, line);
    free(text);
}

/* ---- HTTP ---- */

typedef struct {
    char *data;
    size_t len;
} body_t;

static size_t collect(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    body_t *body = userdata;
    size_t n = size * nmemb;
    char *grown = realloc(body->data, body->len + n + 1);
    assert_non_null(grown);
    body->data = grown;
    memcpy(body->data + body->len, ptr, n);
    body->len += n;
    body->data[body->len] = '\0';
    return n;
}

/* GETs http://127.0.0.1:port/path; returns the status, body in *out (caller frees). */
static long fetch(int port, const char *path, char **out, char *content_type, size_t ct_size)
{
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
    body_t body = {calloc(1, 1), 0};
    CURL *curl = curl_easy_init();
    assert_non_null(curl);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
    CURLcode rc = curl_easy_perform(curl);
    if (rc != CURLE_OK)
        fail_msg("GET %s: %s", url, curl_easy_strerror(rc));
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (content_type) {
        char *ct = NULL;
        curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &ct);
        snprintf(content_type, ct_size, "%s", ct ? ct : "");
    }
    curl_easy_cleanup(curl);
    *out = body.data;
    return status;
}

static void test_http_endpoints(void **state)
{
    char errstr[256];
    bl_http_t *http = bl_http_start("127.0.0.1:0", errstr, sizeof(errstr));
    if (!http)
        fail_msg("bl_http_start: %s", errstr);
    int port = bl_http_port(http);
    assert_true(port > 0 && port < 65536);

    char *body, content_type[128];
    assert_int_equal(fetch(port, "/healthz", &body, NULL, 0), 200);
    assert_string_equal(body, "ok\n");
    free(body);

    assert_int_equal(fetch(port, "/readyz", &body, NULL, 0), 503);
    assert_non_null(strstr(body, "broker not reachable"));
    free(body);
    bl_health_set_broker_up(1);
    assert_int_equal(fetch(port, "/readyz", &body, NULL, 0), 503);
    assert_non_null(strstr(body, "group"));
    free(body);
    bl_health_set_group_joined(1);
    assert_int_equal(fetch(port, "/readyz", &body, NULL, 0), 200);
    free(body);

    bl_metrics_consumed();
    bl_metrics_dead_lettered("empty");
    assert_int_equal(fetch(port, "/metrics", &body, content_type, sizeof(content_type)), 200);
    assert_non_null(strstr(content_type, "text/plain"));
    assert_non_null(strstr(content_type, "version=0.0.4"));
    assert_line(body, "byline_consumed_total 1");
    assert_line(body, "byline_dead_lettered_total{reason=\"empty\"} 1");
    assert_line(body, "byline_ready 1");
    free(body);

    assert_int_equal(fetch(port, "/nope", &body, NULL, 0), 404);
    free(body);

    bl_http_stop(http);
    bl_http_stop(NULL);
}

static void test_http_bad_addresses(void **state)
{
    char errstr[256];
    const char *bad[] = {"8080", "127.0.0.1:99999", "127.0.0.1:", "127.0.0.1:8x", "[::1:80"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        errstr[0] = '\0';
        assert_null(bl_http_start(bad[i], errstr, sizeof(errstr)));
        assert_non_null(strstr(errstr, bad[i]));
    }
    /* A port already taken is reported with the system's reason. */
    bl_http_t *first = bl_http_start("127.0.0.1:0", errstr, sizeof(errstr));
    assert_non_null(first);
    char taken[64];
    snprintf(taken, sizeof(taken), "127.0.0.1:%d", bl_http_port(first));
    assert_null(bl_http_start(taken, errstr, sizeof(errstr)));
    assert_non_null(strstr(errstr, "in use"));
    bl_http_stop(first);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_counters_and_types, reset),
        cmocka_unit_test_setup(test_dead_lettered_by_reason_escaped, reset),
        cmocka_unit_test_setup(test_dead_letter_reasons_are_bounded, reset),
        cmocka_unit_test_setup(test_histogram_is_cumulative, reset),
        cmocka_unit_test_setup(test_content_figures, reset),
        cmocka_unit_test_setup(test_lag_set_update_remove, reset),
        cmocka_unit_test_setup(test_webhook_labels_hide_secrets, reset),
        cmocka_unit_test_setup(test_readiness, reset),
        cmocka_unit_test_setup(test_concurrent_updates_are_exact, reset),
        cmocka_unit_test_setup(test_http_endpoints, reset),
        cmocka_unit_test_setup(test_http_bad_addresses, reset),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return failed;
}
