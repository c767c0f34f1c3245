/*
 * bl_loadgen: load for the end-to-end benchmark (tests/bench/e2e_bench.sh).
 * Builds varied 3-5 KB articles in byline's raw format by recombining the
 * headlines and paragraphs of source articles (the templated, name- and
 * number-varied corpus of tests/bench/gen_articles.py, and/or the dev
 * corpus files themselves), and produces them to a topic, either as fast as
 * the broker takes them (bulk) or at a fixed rate with a send stamp
 * (paced). Single-threaded; delivery reports are served on this thread.
 *
 *   bl_loadgen bulk  -b B -t TOPIC -n N [--seed S] [--dump-dir DIR --dump-count K] SOURCE...
 *   bl_loadgen paced -b B -t TOPIC --rate R --duration-s D [--seed S] SOURCE...
 *
 * A SOURCE file holding NUL bytes is a list of NUL-separated articles (the
 * output of gen_articles.py); any other file is one article. Article i is
 * a function of (seed, i) only: a new date header, a headline, a lead
 * paragraph, then body paragraphs drawn without repetition until a random
 * target size between 3,000 and 5,000 bytes.
 * paced: key and Kafka header "id" are "lat-<unix time in us at send>-<seq>";
 * byline's record id (and so its key) is that header, and bl_copier copies
 * key and headers, so bl_latency reads the send time from the output key.
 * -X name=value sets a librdkafka property (after this tool's defaults).
 * Exit codes: 0 ok, 1 error, 2 usage.
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
#include <sys/stat.h>
#include <time.h>

#define LOADGEN_MIN_BYTES 3000
#define LOADGEN_MAX_BYTES 5000
#define LOADGEN_MAX_PARAS 64
#define LOADGEN_MAX_PROPS 32

typedef struct span {
    const char *ptr;
    size_t len;
} span_t;

typedef struct pool {
    span_t *headlines, *leads, *bodies;
    size_t nheadlines, nleads, nbodies, cap_h, cap_l, cap_b;
    char **buffers; /* the files, kept for the spans */
    size_t nbuffers;
} pool_t;

typedef struct loadgen_opts {
    const char *mode, *brokers, *topic, *dump_dir;
    long count, dump_count;
    double rate, duration_s;
    uint64_t seed;
    const char *props[LOADGEN_MAX_PROPS];
    int nprops;
} loadgen_opts_t;

static volatile sig_atomic_t run = 1;
static long delivered, failed;

static void on_signal(int sig)
{
    (void)sig;
    run = 0;
}

/* splitmix64: a small, good generator; one stream per article. */
static uint64_t rng_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static size_t rng_below(uint64_t *state, size_t n)
{
    return (size_t)(rng_next(state) % n);
}

static void push(span_t **arr, size_t *n, size_t *cap, const char *ptr, size_t len)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 1024;
        *arr = realloc(*arr, *cap * sizeof(**arr));
    }
    (*arr)[(*n)++] = (span_t){ptr, len};
}

static span_t trim(const char *p, size_t len)
{
    while (len && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++, len--;
    while (len &&
           (p[len - 1] == ' ' || p[len - 1] == '\n' || p[len - 1] == '\r' || p[len - 1] == '\t'))
        len--;
    return (span_t){p, len};
}

/* One raw-format article: " date YYYY-MM-DD headline", blank line, paragraphs. */
static void pool_add_article(pool_t *pool, const char *a, size_t len)
{
    const char *end = a + len;
    const char *nl = memchr(a, '\n', len);
    const char *first_end = nl ? nl : end;
    span_t head = trim(a, (size_t)(first_end - a));
    if (head.len > 16 && memcmp(head.ptr, "date ", 5) == 0)
        head = trim(head.ptr + 16, head.len - 16);
    if (head.len >= 10 && head.len <= 300 && !memchr(head.ptr, '\r', head.len))
        push(&pool->headlines, &pool->nheadlines, &pool->cap_h, head.ptr, head.len);
    int index = 0;
    for (const char *p = first_end; p < end;) {
        const char *sep = NULL;
        for (const char *q = p; q + 1 < end; q++)
            if (q[0] == '\n' && q[1] == '\n') {
                sep = q;
                break;
            }
        const char *pend = sep ? sep : end;
        span_t para = trim(p, (size_t)(pend - p));
        /* Too short carries no news (and may be boilerplate); too long breaks the size. */
        if (para.len >= 40 && para.len <= 1500) {
            if (index++ == 0)
                push(&pool->leads, &pool->nleads, &pool->cap_l, para.ptr, para.len);
            else
                push(&pool->bodies, &pool->nbodies, &pool->cap_b, para.ptr, para.len);
        }
        p = sep ? sep + 2 : end;
    }
}

static int pool_load(pool_t *pool, char **files, int nfiles)
{
    for (int i = 0; i < nfiles; i++) {
        FILE *f = fopen(files[i], "rb");
        if (!f) {
            fprintf(stderr, "bl_loadgen: cannot open %s\n", files[i]);
            return -1;
        }
        fseek(f, 0, SEEK_END);
        long size = ftell(f);
        fseek(f, 0, SEEK_SET);
        char *buf = malloc((size_t)size + 1);
        if (size < 0 || fread(buf, 1, (size_t)size, f) != (size_t)size) {
            fclose(f);
            free(buf);
            fprintf(stderr, "bl_loadgen: cannot read %s\n", files[i]);
            return -1;
        }
        fclose(f);
        buf[size] = '\0';
        pool->buffers = realloc(pool->buffers, (pool->nbuffers + 1) * sizeof(char *));
        pool->buffers[pool->nbuffers++] = buf;
        for (char *p = buf, *end = buf + size; p < end;) {
            char *nul = memchr(p, '\0', (size_t)(end - p));
            char *aend = nul ? nul : end;
            if (aend > p)
                pool_add_article(pool, p, (size_t)(aend - p));
            p = aend + 1;
        }
    }
    if (!pool->nheadlines || !pool->nleads || pool->nbodies < 50) {
        fprintf(stderr,
                "bl_loadgen: too little source text (%zu headlines, %zu leads, %zu paragraphs)\n",
                pool->nheadlines, pool->nleads, pool->nbodies);
        return -1;
    }
    return 0;
}

static void pool_clear(pool_t *pool)
{
    for (size_t i = 0; i < pool->nbuffers; i++)
        free(pool->buffers[i]);
    free(pool->buffers);
    free(pool->headlines);
    free(pool->leads);
    free(pool->bodies);
}

/**
 * @brief Writes article @p index into @p buf (LOADGEN_MAX_BYTES + 1 bytes).
 * @returns its length (between LOADGEN_MIN_BYTES and LOADGEN_MAX_BYTES).
 */
static size_t article_build(const pool_t *pool, uint64_t seed, long index, char *buf)
{
    uint64_t st = seed * 0x100000001b3ULL ^ (uint64_t)index;
    for (int attempt = 0;; attempt++) {
        size_t target =
            LOADGEN_MIN_BYTES + rng_below(&st, LOADGEN_MAX_BYTES - LOADGEN_MIN_BYTES + 1);
        span_t h = pool->headlines[rng_below(&st, pool->nheadlines)];
        int n = snprintf(buf, LOADGEN_MAX_BYTES + 1, " date %04d-%02d-%02d %.*s",
                         2000 + (int)rng_below(&st, 25), 1 + (int)rng_below(&st, 12),
                         1 + (int)rng_below(&st, 28), (int)(h.len > 200 ? 200 : h.len), h.ptr);
        size_t len = (size_t)n;
        span_t lead = pool->leads[rng_below(&st, pool->nleads)];
        memcpy(buf + len, "\n\n", 2);
        memcpy(buf + len + 2, lead.ptr, lead.len);
        len += 2 + lead.len;
        size_t used[LOADGEN_MAX_PARAS];
        int nused = 0, misses = 0;
        while (len < target && misses < 40 && nused < LOADGEN_MAX_PARAS) {
            size_t k = rng_below(&st, pool->nbodies);
            span_t p = pool->bodies[k];
            int again = 0;
            for (int j = 0; j < nused; j++)
                again |= used[j] == k;
            if (again || len + 2 + p.len > LOADGEN_MAX_BYTES) {
                misses++;
                continue;
            }
            used[nused++] = k;
            memcpy(buf + len, "\n\n", 2);
            memcpy(buf + len + 2, p.ptr, p.len);
            len += 2 + p.len;
        }
        if (len >= LOADGEN_MIN_BYTES || attempt == 20) {
            buf[len] = '\0';
            return len;
        }
    }
}

static void dr_msg_cb(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque)
{
    if (rkm->err) {
        if (failed++ < 5)
            fprintf(stderr, "bl_loadgen: delivery failed: %s\n", rd_kafka_err2str(rkm->err));
    } else {
        delivered++;
    }
}

static rd_kafka_t *producer_new(const loadgen_opts_t *o, int paced)
{
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    /* bulk: big batches, the load is not what is measured; paced: no
     * lingering, so the send stamp is when the message leaves. */
    const char *defaults[] = {"bootstrap.servers",
                              o->brokers,
                              "enable.idempotence",
                              "true",
                              "acks",
                              "all",
                              "compression.codec",
                              "lz4",
                              "linger.ms",
                              paced ? "0" : "20",
                              "batch.size",
                              "1000000",
                              "queue.buffering.max.kbytes",
                              "262144",
                              NULL};
    for (const char **d = defaults; *d; d += 2)
        if (rd_kafka_conf_set(conf, d[0], d[1], errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
            fprintf(stderr, "bl_loadgen: %s: %s\n", d[0], errstr);
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    for (int i = 0; i < o->nprops; i++) {
        char name[256];
        const char *eq = strchr(o->props[i], '=');
        if (!eq || (size_t)(eq - o->props[i]) >= sizeof(name)) {
            fprintf(stderr, "bl_loadgen: -X %s: expected name=value\n", o->props[i]);
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
        memcpy(name, o->props[i], (size_t)(eq - o->props[i]));
        name[eq - o->props[i]] = '\0';
        if (rd_kafka_conf_set(conf, name, eq + 1, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
            fprintf(stderr, "bl_loadgen: -X %s: %s\n", name, errstr);
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    }
    rd_kafka_conf_set_dr_msg_cb(conf, dr_msg_cb);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        fprintf(stderr, "bl_loadgen: %s\n", errstr);
        return NULL;
    }
    /* conf is owned by rk now. */
    return rk;
}

static int produce(rd_kafka_t *rk, const char *topic, const char *key, const char *value,
                   size_t len)
{
    rd_kafka_headers_t *hdrs = NULL;
    if (key) {
        hdrs = rd_kafka_headers_new(1);
        rd_kafka_header_add(hdrs, "id", -1, key, -1);
    }
    for (;;) {
        rd_kafka_resp_err_t err = rd_kafka_producev(
            rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, key ? strlen(key) : 0),
            RD_KAFKA_V_VALUE((void *)value, len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_END);
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL && run) {
            rd_kafka_poll(rk, 10);
            continue;
        }
        if (err) {
            if (hdrs)
                rd_kafka_headers_destroy(hdrs);
            fprintf(stderr, "bl_loadgen: produce: %s\n", rd_kafka_err2str(err));
            return -1;
        }
        return 0;
    }
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static uint64_t fnv1a(const char *p, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)p[i]) * 0x100000001b3ULL;
    return h;
}

static int cmd_bulk(const loadgen_opts_t *o, const pool_t *pool)
{
    rd_kafka_t *rk = o->topic ? producer_new(o, 0) : NULL;
    if (o->topic && !rk)
        return 1;
    size_t *sizes = malloc((size_t)o->count * sizeof(*sizes));
    uint64_t *hashes = malloc((size_t)o->count * sizeof(*hashes));
    char buf[LOADGEN_MAX_BYTES + 1];
    double t0 = mono_s();
    long long bytes = 0;
    long n = 0;
    int rc = 0;
    for (; n < o->count && run; n++) {
        size_t len = article_build(pool, o->seed, n, buf);
        sizes[n] = len;
        hashes[n] = fnv1a(buf, len);
        bytes += (long long)len;
        if (o->dump_dir && n < o->dump_count) {
            char path[4096];
            snprintf(path, sizeof(path), "%s/%06ld.txt", o->dump_dir, n);
            FILE *f = fopen(path, "wb");
            if (!f || fwrite(buf, 1, len, f) != len) {
                fprintf(stderr, "bl_loadgen: cannot write %s\n", path);
                rc = 1;
            }
            if (f)
                fclose(f);
        }
        if (rk && produce(rk, o->topic, NULL, buf, len) < 0) {
            rc = 1;
            break;
        }
        if (rk)
            rd_kafka_poll(rk, 0);
    }
    if (rk) {
        double deadline = mono_s() + 120;
        while (rd_kafka_outq_len(rk) > 0 && mono_s() < deadline)
            rd_kafka_poll(rk, 100);
        if (rd_kafka_outq_len(rk) > 0 || failed || delivered != n)
            rc = 1;
        rd_kafka_destroy(rk);
    }
    double secs = mono_s() - t0;
    qsort(sizes, (size_t)n, sizeof(*sizes), cmp_size);
    qsort(hashes, (size_t)n, sizeof(*hashes), cmp_u64);
    long distinct = n ? 1 : 0;
    for (long i = 1; i < n; i++)
        distinct += hashes[i] != hashes[i - 1];
    printf("bl_loadgen: %ld articles (%ld distinct), %.1f MB, %zu-%zu bytes (median %zu), "
           "delivered %ld, failed %ld, %.1f s; pool %zu headlines, %zu leads, %zu paragraphs\n",
           n, distinct, (double)bytes / 1e6, n ? sizes[0] : 0, n ? sizes[n - 1] : 0,
           n ? sizes[n / 2] : 0, delivered, failed, secs, pool->nheadlines, pool->nleads,
           pool->nbodies);
    printf("BULK count=%ld distinct=%ld bytes=%lld\n", n, distinct, bytes);
    free(sizes);
    free(hashes);
    return rc;
}

static int cmd_paced(const loadgen_opts_t *o, const pool_t *pool)
{
    rd_kafka_t *rk = producer_new(o, 1);
    if (!rk)
        return 1;
    long total = (long)(o->rate * o->duration_s);
    char buf[LOADGEN_MAX_BYTES + 1], key[64];
    double t0 = mono_s(), max_behind = 0;
    int rc = 0;
    long n = 0;
    for (; n < total && run; n++) {
        size_t len = article_build(pool, o->seed, n, buf);
        double due = t0 + (double)n / o->rate;
        for (double now = mono_s(); now < due; now = mono_s()) {
            rd_kafka_poll(rk, 0);
            double wait_s = due - now > 0.001 ? 0.001 : due - now;
            struct timespec ts = {0, (long)(wait_s * 1e9)};
            nanosleep(&ts, NULL);
        }
        double behind = mono_s() - due;
        if (behind > max_behind)
            max_behind = behind;
        snprintf(key, sizeof(key), "lat-%" PRId64 "-%ld", real_us(), n);
        if (produce(rk, o->topic, key, buf, len) < 0) {
            rc = 1;
            break;
        }
        rd_kafka_poll(rk, 0);
    }
    double secs = mono_s() - t0;
    double deadline = mono_s() + 30;
    while (rd_kafka_outq_len(rk) > 0 && mono_s() < deadline)
        rd_kafka_poll(rk, 100);
    if (rd_kafka_outq_len(rk) > 0 || failed || delivered != n)
        rc = 1;
    rd_kafka_destroy(rk);
    printf("bl_loadgen: paced %ld articles in %.2f s (%.0f/s offered, at most %.1f ms behind "
           "schedule), delivered %ld, failed %ld\n",
           n, secs, n / secs, max_behind * 1000, delivered, failed);
    printf("PACED count=%ld\n", n);
    return rc;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: bl_loadgen bulk  -b B -t TOPIC -n N [--seed S] [--dump-dir DIR --dump-count K] "
            "SOURCE...\n"
            "       bl_loadgen bulk  -n N --dump-dir DIR --dump-count K SOURCE...   (files only)\n"
            "       bl_loadgen paced -b B -t TOPIC --rate R --duration-s D [--seed S] SOURCE...\n"
            "       [-X name=value]...\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage();
        return 2;
    }
    loadgen_opts_t o = {.mode = argv[1], .seed = 20240601};
    static const struct option longopts[] = {
        {"seed", required_argument, NULL, 's'},       {"dump-dir", required_argument, NULL, 'd'},
        {"dump-count", required_argument, NULL, 'k'}, {"rate", required_argument, NULL, 'r'},
        {"duration-s", required_argument, NULL, 'D'}, {NULL, 0, NULL, 0}};
    int opt;
    optind = 2;
    while ((opt = getopt_long(argc, argv, "b:t:n:X:", longopts, NULL)) != -1) {
        switch (opt) {
        case 'b':
            o.brokers = optarg;
            break;
        case 't':
            o.topic = optarg;
            break;
        case 'n':
            o.count = atol(optarg);
            break;
        case 's':
            o.seed = strtoull(optarg, NULL, 10);
            break;
        case 'd':
            o.dump_dir = optarg;
            break;
        case 'k':
            o.dump_count = atol(optarg);
            break;
        case 'r':
            o.rate = atof(optarg);
            break;
        case 'D':
            o.duration_s = atof(optarg);
            break;
        case 'X':
            if (o.nprops == LOADGEN_MAX_PROPS) {
                usage();
                return 2;
            }
            o.props[o.nprops++] = optarg;
            break;
        default:
            usage();
            return 2;
        }
    }
    int bulk = strcmp(o.mode, "bulk") == 0, paced = strcmp(o.mode, "paced") == 0;
    if ((!bulk && !paced) || optind >= argc || (paced && (!o.brokers || !o.topic)) ||
        (bulk && o.count <= 0) || (bulk && !o.topic && !o.dump_dir) ||
        (bulk && o.topic && !o.brokers) || (paced && (o.rate <= 0 || o.duration_s <= 0))) {
        usage();
        return 2;
    }
    if (o.dump_dir)
        mkdir(o.dump_dir, 0755);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    pool_t pool = {0};
    if (pool_load(&pool, argv + optind, argc - optind) < 0) {
        pool_clear(&pool);
        return 1;
    }
    int rc = bulk ? cmd_bulk(&o, &pool) : cmd_paced(&o, &pool);
    pool_clear(&pool);
    return rc;
}
