/*
 * bl_latency: the measuring end of the end-to-end benchmark
 * (tests/bench/e2e_bench.sh). Single-threaded.
 *
 *   bl_latency latency -b B -t TOPIC --expect N --timeout-ms T [--skip K]
 *       Reads TOPIC from its beginning (a fresh topic, read while the load
 *       runs); each key is "lat-<unix us at send>-<seq>" (bl_loadgen paced).
 *       Latency = arrival here - send stamp (same machine, same clock).
 *       Prints p50/p90/p99/p99.9/max over every record and over those with
 *       seq >= K (after a warm-up).
 *   bl_latency watch -b B -t TOPIC --expect N --timeout-ms T
 *       Polls the sum of TOPIC's high watermarks every 50 ms until it
 *       reaches N; prints when the first record appeared and when 10%, 90%
 *       and 100% of N were there, and the rates between.
 *
 * Both print one "LATENCY ..." / "WATCH ..." line of key=value pairs for the
 * script. Exit codes: 0 ok, 1 error, 2 usage, 3 timed out before N.
 */
#include "bl_tool_clock.h"
#include <getopt.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct latency_opts {
    const char *mode, *brokers, *topic;
    long expect, skip, timeout_ms;
} latency_opts_t;

static volatile sig_atomic_t run = 1;

static void on_signal(int sig)
{
    (void)sig;
    run = 0;
}

static rd_kafka_t *client_new(const latency_opts_t *o, rd_kafka_type_t type)
{
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char group[64];
    snprintf(group, sizeof(group), "bl_latency-%ld", (long)real_us());
    const char *props[] = {"bootstrap.servers",
                           o->brokers,
                           "group.id",
                           group,
                           "enable.auto.commit",
                           "false",
                           "enable.partition.eof",
                           "false",
                           "fetch.wait.max.ms",
                           "20",
                           NULL};
    for (const char **p = props; *p; p += 2) {
        if (type == RD_KAFKA_PRODUCER && p != props)
            break;
        if (rd_kafka_conf_set(conf, p[0], p[1], errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
            fprintf(stderr, "bl_latency: %s: %s\n", p[0], errstr);
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    }
    rd_kafka_t *rk = rd_kafka_new(type, conf, errstr, sizeof(errstr));
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        fprintf(stderr, "bl_latency: %s\n", errstr);
        return NULL;
    }
    /* conf is owned by rk now. */
    return rk;
}

/** @returns the partition count of @p topic, or -1. */
static int topic_partitions(rd_kafka_t *rk, const char *topic)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &md, 5000);
    rd_kafka_topic_destroy(rkt);
    if (err) {
        fprintf(stderr, "bl_latency: metadata %s: %s\n", topic, rd_kafka_err2str(err));
        return -1;
    }
    int n = md->topic_cnt == 1 && !md->topics[0].err ? md->topics[0].partition_cnt : -1;
    rd_kafka_metadata_destroy(md);
    if (n <= 0)
        fprintf(stderr, "bl_latency: topic %s not found\n", topic);
    return n;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static double pct_ms(const int64_t *sorted, long n, double q)
{
    if (n == 0)
        return -1;
    long i = (long)(q * (double)(n - 1) + 0.5);
    return (double)sorted[i] / 1000.0;
}

static void report(const char *label, int64_t *lat_us, long n)
{
    qsort(lat_us, (size_t)n, sizeof(*lat_us), cmp_i64);
    printf("LATENCY set=%s n=%ld p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f p999_ms=%.2f max_ms=%.2f\n",
           label, n, pct_ms(lat_us, n, 0.50), pct_ms(lat_us, n, 0.90), pct_ms(lat_us, n, 0.99),
           pct_ms(lat_us, n, 0.999), n ? (double)lat_us[n - 1] / 1000.0 : -1);
}

/** @returns a client of @p type with o->topic's partition count in *@p parts, or NULL. */
static rd_kafka_t *client_for_topic(const latency_opts_t *o, rd_kafka_type_t type, int *parts)
{
    rd_kafka_t *rk = client_new(o, type);
    if (rk && (*parts = topic_partitions(rk, o->topic)) <= 0) {
        rd_kafka_destroy(rk);
        rk = NULL;
    }
    return rk;
}

static int cmd_latency(const latency_opts_t *o)
{
    int parts;
    rd_kafka_t *rk = client_for_topic(o, RD_KAFKA_CONSUMER, &parts);
    if (!rk)
        return 1;
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(parts);
    for (int i = 0; i < parts; i++)
        rd_kafka_topic_partition_list_add(list, o->topic, i)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(rk, list);
    rd_kafka_topic_partition_list_destroy(list);

    int64_t *all = calloc((size_t)o->expect, sizeof(*all));
    int64_t *warm = calloc((size_t)o->expect, sizeof(*warm));
    unsigned char *seen = calloc((size_t)o->expect, 1);
    long nall = 0, nwarm = 0, dups = 0, foreign = 0;
    double deadline = mono_s() + (double)o->timeout_ms / 1000.0;
    printf("bl_latency: reading %s (%d partitions)\n", o->topic, parts);
    fflush(stdout);
    while (run && nall < o->expect && mono_s() < deadline) {
        rd_kafka_message_t *rkm = rd_kafka_consumer_poll(rk, 100);
        if (!rkm)
            continue;
        int64_t arrived = real_us();
        if (rkm->err) {
            fprintf(stderr, "bl_latency: %s\n", rd_kafka_message_errstr(rkm));
            rd_kafka_message_destroy(rkm);
            continue;
        }
        char key[64];
        int64_t sent;
        long seq;
        size_t klen = rkm->key_len < sizeof(key) - 1 ? rkm->key_len : sizeof(key) - 1;
        memcpy(key, rkm->key ? rkm->key : "", rkm->key ? klen : 0);
        key[rkm->key ? klen : 0] = '\0';
        if (sscanf(key, "lat-%" SCNd64 "-%ld", &sent, &seq) != 2 || seq < 0 || seq >= o->expect) {
            foreign++;
        } else if (seen[seq]) {
            dups++;
        } else {
            seen[seq] = 1;
            all[nall++] = arrived - sent;
            if (seq >= o->skip)
                warm[nwarm++] = arrived - sent;
        }
        rd_kafka_message_destroy(rkm);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    printf("LATENCY received=%ld expected=%ld duplicates=%ld foreign=%ld\n", nall, o->expect, dups,
           foreign);
    report("all", all, nall);
    report("after_warmup", warm, nwarm);
    free(all);
    free(warm);
    free(seen);
    return nall < o->expect ? 3 : 0;
}

/** @returns the sum of high watermarks of @p parts partitions, or -1. */
static int64_t high_sum(rd_kafka_t *rk, const char *topic, int parts)
{
    int64_t sum = 0;
    for (int i = 0; i < parts; i++) {
        int64_t low, high;
        if (rd_kafka_query_watermark_offsets(rk, topic, i, &low, &high, 2000))
            return -1;
        sum += high;
    }
    return sum;
}

static int cmd_watch(const latency_opts_t *o)
{
    int parts;
    rd_kafka_t *rk = client_for_topic(o, RD_KAFKA_PRODUCER, &parts);
    if (!rk)
        return 1;
    double t0 = mono_s(), deadline = t0 + (double)o->timeout_ms / 1000.0;
    double t_first = -1, t_10 = -1, t_90 = -1, t_done = -1;
    int64_t n = 0;
    while (run && mono_s() < deadline) {
        int64_t s = high_sum(rk, o->topic, parts);
        double t = mono_s() - t0;
        if (s >= 0)
            n = s;
        if (n > 0 && t_first < 0)
            t_first = t;
        if (n >= o->expect / 10 && t_10 < 0)
            t_10 = t;
        if (n >= o->expect * 9 / 10 && t_90 < 0)
            t_90 = t;
        if (n >= o->expect) {
            t_done = t;
            break;
        }
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
    rd_kafka_destroy(rk);
    double whole = t_done > t_first ? (double)o->expect / (t_done - t_first) : 0;
    double steady = t_90 > t_10 ? (double)(o->expect * 9 / 10 - o->expect / 10) / (t_90 - t_10) : 0;
    printf("WATCH records=%" PRId64 " expected=%ld first_s=%.2f t10_s=%.2f t90_s=%.2f done_s=%.2f "
           "rate_first_to_done=%.0f rate_10_to_90=%.0f\n",
           n, o->expect, t_first, t_10, t_90, t_done, whole, steady);
    return t_done < 0 ? 3 : 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: bl_latency latency -b B -t TOPIC --expect N --timeout-ms T [--skip K]\n"
                    "       bl_latency watch   -b B -t TOPIC --expect N --timeout-ms T\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage();
        return 2;
    }
    latency_opts_t o = {.mode = argv[1], .timeout_ms = 60000};
    static const struct option longopts[] = {{"expect", required_argument, NULL, 'e'},
                                             {"timeout-ms", required_argument, NULL, 'T'},
                                             {"skip", required_argument, NULL, 'k'},
                                             {NULL, 0, NULL, 0}};
    int opt;
    optind = 2;
    while ((opt = getopt_long(argc, argv, "b:t:", longopts, NULL)) != -1) {
        switch (opt) {
        case 'b':
            o.brokers = optarg;
            break;
        case 't':
            o.topic = optarg;
            break;
        case 'e':
            o.expect = atol(optarg);
            break;
        case 'T':
            o.timeout_ms = atol(optarg);
            break;
        case 'k':
            o.skip = atol(optarg);
            break;
        default:
            usage();
            return 2;
        }
    }
    if (!o.brokers || !o.topic || o.expect <= 0 || optind != argc) {
        usage();
        return 2;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    if (strcmp(o.mode, "latency") == 0)
        return cmd_latency(&o);
    if (strcmp(o.mode, "watch") == 0)
        return cmd_watch(&o);
    usage();
    return 2;
}
