/*
 * bl_kafkatool: the Kafka client the integration tests drive (create
 * topics, produce generated or file-based articles, consume and summarise
 * records, check readiness). Single-threaded; librdkafka's own threads do
 * the I/O and delivery reports are served from rd_kafka_poll() here.
 *
 *   bl_kafkatool create-topic -b B -t TOPIC [-p PARTITIONS]
 *   bl_kafkatool produce-gen  -b B -t TOPIC -n N [--seed S] [--prefix P]
 *   bl_kafkatool produce-file -b B -t TOPIC [-k KEY] [-H name=value]...
 *                             [-p PARTITION] FILE...
 *   bl_kafkatool consume      -b B -t TOPIC --expect N --timeout-ms T
 *                             [--group G] [--headers] [--origin]
 *                             [--field a.b]... [--dump-dir DIR] [--jsonl FILE]
 *   bl_kafkatool metadata     -b B [-t TOPIC]
 *   bl_kafkatool count        -b B -t TOPIC
 *   bl_kafkatool lag          -b B -t TOPIC --group G
 *
 * Every subcommand also takes -X name=value (extra librdkafka property).
 * Exit codes: 0 ok, 1 error, 2 usage, 3 consume timed out before N.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BL_TOOL_MAX_HEADERS  32
#define BL_TOOL_MAX_PROPS    32
#define BL_TOOL_MAX_INFLIGHT 5000

typedef struct tool_opts {
    const char *brokers;
    const char *topic;
    int partitions; /* create-topic: count; produce-file: target (-1 = by key) */
    long count;     /* produce-gen */
    uint64_t seed;
    const char *prefix;
    const char *key;
    const char *headers[BL_TOOL_MAX_HEADERS];
    int nheaders;
    const char *props[BL_TOOL_MAX_PROPS];
    int nprops;
    long expect;
    long timeout_ms;
    const char *group;
    bool print_headers;
    bool print_origin;
    const char *fields[BL_TOOL_MAX_HEADERS]; /* --field: extra JSON columns */
    int nfields;
    const char *dump_dir; /* --dump-dir: each value to DIR/PARTITION-OFFSET */
    FILE *jsonl;          /* --jsonl FILE: each value as one line (for schema checks) */
} tool_opts_t;

static volatile sig_atomic_t run = 1;

static void on_signal(int sig)
{
    (void)sig;
    run = 0;
}

static void fail(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "bl_kafkatool: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/** @brief A conf with bootstrap.servers and every -X property set. */
static rd_kafka_conf_t *conf_new(const tool_opts_t *o)
{
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", o->brokers, errstr, sizeof(errstr)) !=
        RD_KAFKA_CONF_OK) {
        fail("bootstrap.servers: %s", errstr);
        goto err;
    }
    rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr));
    for (int i = 0; i < o->nprops; i++) {
        char name[256];
        const char *eq = strchr(o->props[i], '=');
        if (!eq || (size_t)(eq - o->props[i]) >= sizeof(name)) {
            fail("-X %s: expected name=value", o->props[i]);
            goto err;
        }
        memcpy(name, o->props[i], (size_t)(eq - o->props[i]));
        name[eq - o->props[i]] = '\0';
        if (rd_kafka_conf_set(conf, name, eq + 1, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
            fail("-X %s: %s", name, errstr);
            goto err;
        }
    }
    return conf;
err:
    rd_kafka_conf_destroy(conf);
    return NULL;
}

static int conf_set(rd_kafka_conf_t *conf, const char *name, const char *value)
{
    char errstr[512];
    if (rd_kafka_conf_set(conf, name, value, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
        fail("%s: %s", name, errstr);
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- metadata */

/**
 * @returns the partition count of @p topic (0 if absent, -1 on error).
 */
static int topic_partitions(rd_kafka_t *rk, const char *topic, int timeout_ms)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &md, timeout_ms);
    rd_kafka_topic_destroy(rkt);
    if (err) {
        fail("metadata for %s: %s", topic, rd_kafka_err2str(err));
        return -1;
    }
    int n = 0;
    if (md->topic_cnt == 1 && !md->topics[0].err) {
        n = md->topics[0].partition_cnt;
        /* A partition without a leader yet is not usable: report 0. */
        for (int i = 0; i < md->topics[0].partition_cnt; i++)
            if (md->topics[0].partitions[i].leader < 0)
                n = 0;
    }
    rd_kafka_metadata_destroy(md);
    return n;
}

static int cmd_metadata(const tool_opts_t *o)
{
    char errstr[512];
    rd_kafka_conf_t *conf = conf_new(o);
    if (!conf)
        return 1;
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        fail("%s", errstr);
        return 1;
    }
    conf = NULL; /* owned by rk */
    int rc = 0;
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, NULL, &md, 5000);
    if (err) {
        fail("metadata: %s", rd_kafka_err2str(err));
        rc = 1;
    } else {
        if (md->broker_cnt < 1) {
            fail("metadata: no brokers");
            rc = 1;
        }
        for (int i = 0; i < md->topic_cnt; i++) {
            if (o->topic && strcmp(o->topic, md->topics[i].topic))
                continue;
            printf("%s\t%d\n", md->topics[i].topic, md->topics[i].partition_cnt);
        }
        rd_kafka_metadata_destroy(md);
        if (o->topic && rc == 0 && topic_partitions(rk, o->topic, 5000) <= 0) {
            fail("topic %s does not exist or has no leader", o->topic);
            rc = 1;
        }
    }
    rd_kafka_destroy(rk);
    return rc;
}

/* ------------------------------------------------------------ create-topic */

static int cmd_create_topic(const tool_opts_t *o)
{
    char errstr[512];
    if (!o->topic) {
        fail("create-topic needs -t TOPIC");
        return 2;
    }
    int partitions = o->partitions > 0 ? o->partitions : 1;
    rd_kafka_conf_t *conf = conf_new(o);
    if (!conf)
        return 1;
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        fail("%s", errstr);
        return 1;
    }
    int rc = 1;
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_NewTopic_t *nt =
        rd_kafka_NewTopic_new(o->topic, partitions, 1, errstr, sizeof(errstr));
    if (!nt) {
        fail("create-topic %s: %s", o->topic, errstr);
        goto out;
    }
    rd_kafka_AdminOptions_t *aopts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_AdminOptions_set_operation_timeout(aopts, 30000, errstr, sizeof(errstr));
    rd_kafka_AdminOptions_set_request_timeout(aopts, 30000, errstr, sizeof(errstr));
    rd_kafka_CreateTopics(rk, &nt, 1, aopts, q);
    rd_kafka_AdminOptions_destroy(aopts);
    rd_kafka_NewTopic_destroy(nt);

    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 40000);
    if (!ev) {
        fail("create-topic %s: no answer in 40 s", o->topic);
        goto out;
    }
    if (rd_kafka_event_error(ev)) {
        fail("create-topic %s: %s", o->topic, rd_kafka_event_error_string(ev));
        rd_kafka_event_destroy(ev);
        goto out;
    }
    size_t cnt = 0;
    const rd_kafka_topic_result_t **res =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &cnt);
    rc = 0;
    for (size_t i = 0; i < cnt; i++) {
        rd_kafka_resp_err_t err = rd_kafka_topic_result_error(res[i]);
        if (err && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
            fail("create-topic %s: %s", rd_kafka_topic_result_name(res[i]),
                 rd_kafka_topic_result_error_string(res[i])
                     ? rd_kafka_topic_result_error_string(res[i])
                     : rd_kafka_err2str(err));
            rc = 1;
        }
    }
    rd_kafka_event_destroy(ev);
    /* Wait (bounded) until every partition has a leader, so a producer or
     * consumer started right after does not race the controller. */
    if (rc == 0) {
        int64_t deadline = now_ms() + 30000;
        int n;
        while ((n = topic_partitions(rk, o->topic, 5000)) < partitions && now_ms() < deadline)
            rd_kafka_poll(rk, 100);
        if (n < partitions) {
            fail("create-topic %s: %d of %d partitions ready after 30 s", o->topic, n < 0 ? 0 : n,
                 partitions);
            rc = 1;
        }
    }
out:
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
    return rc;
}

/* ---------------------------------------------------------------- producing */

typedef struct produce_state {
    long inflight;
    long delivered;
    long failed;
    /* produce-file: where each file went (index = msg opaque) */
    int32_t *partition;
    int64_t *offset;
} produce_state_t;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque)
{
    produce_state_t *st = opaque;
    (void)rk;
    st->inflight--;
    if (rkm->err) {
        if (st->failed < 10)
            fail("delivery to %s [%" PRId32 "] failed: %s", rd_kafka_topic_name(rkm->rkt),
                 rkm->partition, rd_kafka_err2str(rkm->err));
        st->failed++;
        return;
    }
    st->delivered++;
    if (st->partition) {
        size_t idx = (size_t)(uintptr_t)rkm->_private;
        st->partition[idx] = rkm->partition;
        st->offset[idx] = rkm->offset;
    }
}

static rd_kafka_t *producer_new(const tool_opts_t *o, produce_state_t *st)
{
    char errstr[512];
    rd_kafka_conf_t *conf = conf_new(o);
    if (!conf)
        return NULL;
    if (conf_set(conf, "acks", "all") || conf_set(conf, "enable.idempotence", "true") ||
        conf_set(conf, "linger.ms", "5") || conf_set(conf, "message.max.bytes", "10485760") ||
        conf_set(conf, "message.timeout.ms", "60000")) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_opaque(conf, st);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        fail("%s", errstr);
    }
    return rk;
}

/**
 * @brief Produces one message, waiting (bounded by message.timeout.ms via
 *        delivery reports) while BL_TOOL_MAX_INFLIGHT are outstanding.
 *        Takes ownership of @p hdrs (may be NULL).
 */
static int produce_one(rd_kafka_t *rk, produce_state_t *st, const char *topic, int32_t partition,
                       const void *key, size_t key_len, const void *value, size_t value_len,
                       rd_kafka_headers_t *hdrs, void *msg_opaque)
{
    while (st->inflight >= BL_TOOL_MAX_INFLIGHT)
        rd_kafka_poll(rk, 100);
    for (int attempt = 0;; attempt++) {
        rd_kafka_resp_err_t err = rd_kafka_producev(
            rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key, key_len),
            RD_KAFKA_V_VALUE((void *)value, value_len), RD_KAFKA_V_HEADERS(hdrs),
            RD_KAFKA_V_OPAQUE(msg_opaque), RD_KAFKA_V_END);
        if (!err) {
            st->inflight++;
            rd_kafka_poll(rk, 0);
            return 0;
        }
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL && attempt < 600) {
            rd_kafka_poll(rk, 100);
            continue;
        }
        if (hdrs)
            rd_kafka_headers_destroy(hdrs);
        fail("produce to %s: %s", topic, rd_kafka_err2str(err));
        return -1;
    }
}

/** @brief Waits for every delivery report (bounded). @returns failures. */
static long produce_finish(rd_kafka_t *rk, produce_state_t *st)
{
    rd_kafka_resp_err_t err = rd_kafka_flush(rk, 90000);
    if (err) {
        fail("flush: %s (%ld messages undelivered)", rd_kafka_err2str(err), st->inflight);
        return st->failed + st->inflight;
    }
    return st->failed;
}

/* Deterministic generator: splitmix64, so a seed always gives the same
 * articles and the same expected dates. */
static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

typedef struct rng {
    uint64_t s;
} rng_t;

static uint32_t rng_next(rng_t *r, uint32_t n)
{
    r->s = mix64(r->s);
    return (uint32_t)(r->s % n);
}

#define PICK(r, arr) ((arr)[rng_next((r), (uint32_t)(sizeof(arr) / sizeof((arr)[0])))])

static const char *const gen_people[] = {
    "Maria Keller",    "Ahmed Haddad",    "Olena Kovalenko",   "James O'Brien",
    "Li Wei",          "Sofia Martínez",  "Kwame Mensah",      "Anna Nowak",
    "Rahul Sharma",    "Yuki Tanaka",     "President Macron",  "Chancellor Scholz",
    "Mr Putin",        "Ms Ardern",       "Dr Amara Okafor",   "Senator Ruiz",
    "Minister Dubois", "Jean-Luc Picard", "Søren Kierkegaard", "Zoë Clarke"};
static const char *const gen_places[] = {
    "Berlin", "Kyiv",    "São Paulo", "Zürich",   "Nairobi", "Wilmington", "Moscow",
    "Lagos",  "Jakarta", "Montréal",  "Kraków",   "Dhaka",   "Lima",       "Reykjavík",
    "Seoul",  "Accra",   "Brussels",  "Canberra", "Hanoi",   "Istanbul"};
static const char *const gen_orgs[] = {"the Ministry of Finance",
                                       "NATO",
                                       "the European Commission",
                                       "the United Nations",
                                       "the central bank",
                                       "Reuters",
                                       "the World Health Organization",
                                       "Parliament",
                                       "the city council",
                                       "the Red Cross",
                                       "the Supreme Court",
                                       "the Institute of Physics",
                                       "Acme Shipping",
                                       "the IMF",
                                       "Greenpeace",
                                       "the Football Association"};
static const char *const gen_verbs[] = {"announced", "rejected",  "approved",   "criticised",
                                        "welcomed",  "postponed", "questioned", "defended",
                                        "unveiled",  "reviewed",  "extended",   "suspended"};
static const char *const gen_nouns[] = {
    "budget plan",     "trade agreement", "ceasefire proposal", "vaccine rollout", "tax reform",
    "election result", "climate pledge",  "port expansion",     "rail strike",     "housing law",
    "energy subsidy",  "peace talks",     "wage deal",          "border policy",   "water project"};
static const char *const gen_when[] = {
    "on Monday",          "on Tuesday", "on Wednesday", "last week",         "yesterday",
    "earlier this month", "on Friday",  "in January",   "late on Thursday",  "this morning",
    "on March 3",         "in 1997",    "next year",    "on Sunday evening", "two days ago"};
static const char *const gen_tails[] = {"according to officials familiar with the matter",
                                        "despite strong opposition from local groups",
                                        "after weeks of negotiations behind closed doors",
                                        "in a statement posted online",
                                        "citing concerns about costs and delays",
                                        "as protesters gathered outside the building",
                                        "in a move analysts described as long overdue",
                                        "although details remained scarce",
                                        "while markets reacted cautiously",
                                        "to the surprise of many observers"};
static const char *const gen_quotes[] = {
    "\"We will not back down,\" %s told reporters.",
    "\"This is a turning point for the region,\" %s said.",
    "%s declined to comment on the report.",
    "\"Nobody wants another year like the last one,\" %s added.",
    "A spokesperson for %s said the decision was final.",
    "%s called the figures \"deeply worrying\" — and urged calm."};

static void sb_appendf(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(*buf + *len, *cap - *len, fmt, ap);
        va_end(ap);
        if (n < 0)
            return;
        if ((size_t)n < *cap - *len) {
            *len += (size_t)n;
            return;
        }
        *cap = (*cap + (size_t)n) * 2;
        char *nb = realloc(*buf, *cap);
        if (!nb) {
            fail("out of memory");
            exit(1);
        }
        *buf = nb;
    }
}

static int days_in_month(int y, int m)
{
    static const int dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dim[m - 1];
}

/** @brief Builds article @p i: headline, body (paragraphs separated by a
 *         blank line) and publication date, all derived from seed and i. */
static void gen_article(uint64_t seed, long i, char **headline, char **body, char date[16])
{
    rng_t r = {mix64(seed * 1000003ULL + (uint64_t)i)};
    int year = 1998 + (int)rng_next(&r, 27);
    int month = 1 + (int)rng_next(&r, 12);
    int day = 1 + (int)rng_next(&r, (uint32_t)days_in_month(year, month));
    snprintf(date, 16, "%04d-%02d-%02d", year % 10000, month % 100, day % 100);

    size_t hl = 0, hc = 128;
    *headline = malloc(hc);
    **headline = '\0';
    const char *hplace = PICK(&r, gen_places);
    const char *hnoun = PICK(&r, gen_nouns);
    sb_appendf(headline, &hl, &hc, "%s %s %s as %s weighs next steps (%ld)", hplace, hnoun,
               PICK(&r, gen_verbs), PICK(&r, gen_orgs), i);

    size_t target = 3000 + rng_next(&r, 900); /* + headline/envelope: 3-5 KB */
    size_t bl = 0, bc = 6144;
    *body = malloc(bc);
    **body = '\0';
    sb_appendf(body, &bl, &bc, "%s (%s) — %s %s the %s %s, %s.", hplace,
               PICK(&r, gen_orgs)[0] == 't' ? "Reuters" : "AFP", PICK(&r, gen_orgs),
               PICK(&r, gen_verbs), hnoun, PICK(&r, gen_when), PICK(&r, gen_tails));
    while (bl < target) {
        sb_appendf(body, &bl, &bc, "\n\n");
        int sentences = 3 + (int)rng_next(&r, 4);
        for (int s = 0; s < sentences; s++) {
            if (s)
                sb_appendf(body, &bl, &bc, " ");
            switch (rng_next(&r, 4)) {
            case 0:
                sb_appendf(body, &bl, &bc, PICK(&r, gen_quotes), PICK(&r, gen_people));
                break;
            case 1:
                sb_appendf(body, &bl, &bc, "%s %s the %s in %s %s, %s.", PICK(&r, gen_people),
                           PICK(&r, gen_verbs), PICK(&r, gen_nouns), PICK(&r, gen_places),
                           PICK(&r, gen_when), PICK(&r, gen_tails));
                break;
            case 2:
                sb_appendf(body, &bl, &bc,
                           "Officials in %s said %u people had been affected and that %s "
                           "would meet again %s.",
                           PICK(&r, gen_places), 10 + rng_next(&r, 90000), PICK(&r, gen_orgs),
                           PICK(&r, gen_when));
                break;
            default:
                sb_appendf(body, &bl, &bc, "The %s, first proposed %s by %s, %s %s.",
                           PICK(&r, gen_nouns), PICK(&r, gen_when), PICK(&r, gen_orgs),
                           rng_next(&r, 2) ? "was expected to pass" : "faced a difficult vote",
                           PICK(&r, gen_when));
            }
        }
    }
}

static int cmd_produce_gen(const tool_opts_t *o)
{
    if (!o->topic || o->count < 0) {
        fail("produce-gen needs -t TOPIC -n N");
        return 2;
    }
    produce_state_t st = {0};
    rd_kafka_t *rk = producer_new(o, &st);
    if (!rk)
        return 1;
    int rc = 0;
    const char *prefix = o->prefix ? o->prefix : "gen";
    for (long i = 1; i <= o->count && run; i++) {
        char id[64], date[16];
        char *headline, *body;
        snprintf(id, sizeof(id), "%s-%06ld", prefix, i);
        gen_article(o->seed, i, &headline, &body, date);
        char *value = NULL;
        size_t value_len = 0;
        rd_kafka_headers_t *hdrs = NULL;
        if (i % 2) {
            json_t *env = json_pack("{s:s, s:s, s:s, s:s}", "id", id, "headline", headline, "body",
                                    body, "published", date);
            value = env ? json_dumps(env, JSON_COMPACT) : NULL;
            json_decref(env);
            if (!value) {
                fail("could not encode article %s", id);
                rc = 1;
                free(headline);
                free(body);
                break;
            }
            value_len = strlen(value);
        } else {
            size_t cap = strlen(headline) + strlen(body) + 32;
            value = malloc(cap);
            value_len = (size_t)snprintf(value, cap, " date %s %s\n\n%s", date, headline, body);
            hdrs = rd_kafka_headers_new(1);
            rd_kafka_header_add(hdrs, "id", -1, id, -1);
        }
        free(headline);
        free(body);
        int err = produce_one(rk, &st, o->topic, RD_KAFKA_PARTITION_UA, id, strlen(id), value,
                              value_len, hdrs, NULL);
        free(value);
        if (err) {
            rc = 1;
            break;
        }
        printf("%s\t%s\n", id, date);
    }
    long failed = produce_finish(rk, &st);
    if (failed) {
        fail("%ld of %ld messages failed", failed, o->count);
        rc = 1;
    }
    fprintf(stderr, "bl_kafkatool: produced %ld messages to %s\n", st.delivered, o->topic);
    rd_kafka_destroy(rk);
    return rc;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fail("%s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        fail("%s: read error", path);
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

static int cmd_produce_file(const tool_opts_t *o, int nfiles, char **files)
{
    if (!o->topic || nfiles < 1) {
        fail("produce-file needs -t TOPIC and at least one FILE");
        return 2;
    }
    produce_state_t st = {0};
    st.partition = calloc((size_t)nfiles, sizeof(*st.partition));
    st.offset = calloc((size_t)nfiles, sizeof(*st.offset));
    for (int i = 0; i < nfiles; i++)
        st.partition[i] = -1, st.offset[i] = -1;
    rd_kafka_t *rk = producer_new(o, &st);
    if (!rk)
        return 1;
    int rc = 0;
    for (int i = 0; i < nfiles && rc == 0; i++) {
        size_t len = 0;
        char *value = read_file(files[i], &len);
        if (!value) {
            rc = 1;
            break;
        }
        rd_kafka_headers_t *hdrs = NULL;
        if (o->nheaders) {
            hdrs = rd_kafka_headers_new((size_t)o->nheaders);
            for (int h = 0; h < o->nheaders; h++) {
                const char *eq = strchr(o->headers[h], '=');
                if (!eq) {
                    rd_kafka_header_add(hdrs, o->headers[h], -1, NULL, 0);
                } else {
                    rd_kafka_header_add(hdrs, o->headers[h], eq - o->headers[h], eq + 1, -1);
                }
            }
        }
        /* An empty file is an empty (not a null) value: librdkafka sends
         * a zero-length value when the pointer is non-NULL. */
        static char empty[1];
        if (produce_one(rk, &st, o->topic,
                        o->partitions >= 0 ? o->partitions : RD_KAFKA_PARTITION_UA, o->key,
                        o->key ? strlen(o->key) : 0, len ? value : empty, len, hdrs,
                        (void *)(uintptr_t)i))
            rc = 1;
        free(value);
    }
    if (produce_finish(rk, &st))
        rc = 1;
    for (int i = 0; i < nfiles; i++)
        printf("%s\t%" PRId32 "\t%" PRId64 "\n", files[i], st.partition[i], st.offset[i]);
    rd_kafka_destroy(rk);
    free(st.partition);
    free(st.offset);
    return rc;
}

/* ---------------------------------------------------------------- consuming */

/** @brief Prints @p len bytes escaped so one value stays on one field. */
static void print_escaped(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\\')
            fputs("\\\\", stdout);
        else if (c == '\t')
            fputs("\\t", stdout);
        else if (c == '\n')
            fputs("\\n", stdout);
        else if (c == '\r')
            fputs("\\r", stdout);
        else if (c < 0x20 || c == 0x7f)
            printf("\\x%02x", c);
        else
            fputc(c, stdout);
    }
}

static void print_json_field(json_t *v)
{
    if (json_is_string(v))
        print_escaped(json_string_value(v), json_string_length(v));
    else if (json_is_integer(v))
        printf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else if (json_is_null(v))
        fputs("null", stdout);
    else if (v) {
        char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        print_escaped(s, strlen(s));
        free(s);
    } else
        fputs("-", stdout);
}

/** @brief Looks up a dotted path ("published.date") in @p root. */
static json_t *json_path(json_t *root, const char *path)
{
    char part[128];
    while (root && *path) {
        const char *dot = strchr(path, '.');
        size_t len = dot ? (size_t)(dot - path) : strlen(path);
        if (len >= sizeof(part))
            return NULL;
        memcpy(part, path, len);
        part[len] = '\0';
        root = json_is_object(root) ? json_object_get(root, part) : NULL;
        path += len + (dot ? 1 : 0);
    }
    return root;
}

static int dump_value(const char *dir, const rd_kafka_message_t *rkm)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%" PRId32 "-%" PRId64, dir, rkm->partition, rkm->offset);
    FILE *f = fopen(path, "wb");
    if (!f || (rkm->len && fwrite(rkm->payload, 1, rkm->len, f) != rkm->len)) {
        fail("%s: %s", path, strerror(errno));
        if (f)
            fclose(f);
        return -1;
    }
    return fclose(f) ? -1 : 0;
}

static void print_message(const tool_opts_t *o, const rd_kafka_message_t *rkm)
{
    json_t *root = NULL;
    if (rkm->len)
        root = json_loadb(rkm->payload, rkm->len, 0, NULL);
    json_t *obj = json_is_object(root) ? root : NULL;
    json_t *published = obj ? json_object_get(obj, "published") : NULL;

    printf("%" PRId32 "\t%" PRId64 "\t", rkm->partition, rkm->offset);
    print_json_field(obj ? json_object_get(obj, "id") : NULL);
    putchar('\t');
    print_json_field(json_is_object(published) ? json_object_get(published, "date") : NULL);
    putchar('\t');
    print_json_field(json_is_object(published) ? json_object_get(published, "from") : NULL);
    if (o->print_origin) {
        json_t *origin = obj ? json_object_get(obj, "origin") : NULL;
        putchar('\t');
        if (json_is_object(origin)) {
            print_json_field(json_object_get(origin, "partition"));
            putchar('/');
            print_json_field(json_object_get(origin, "offset"));
        } else {
            putchar('-');
        }
    }
    for (int i = 0; i < o->nfields; i++) {
        putchar('\t');
        print_json_field(obj ? json_path(obj, o->fields[i]) : NULL);
    }
    if (o->dump_dir)
        dump_value(o->dump_dir, rkm);
    if (o->jsonl && rkm->payload) {
        /* Records are compact JSON: one per line. Others are escaped. */
        if (memchr(rkm->payload, '\n', rkm->len))
            fputs("(value with a line break)", o->jsonl);
        else
            fwrite(rkm->payload, 1, rkm->len, o->jsonl);
        fputc('\n', o->jsonl);
    }
    if (o->print_headers) {
        printf("\t@key=");
        if (rkm->key)
            print_escaped(rkm->key, rkm->key_len);
        printf("\t@bytes=%zu", rkm->len);
        rd_kafka_headers_t *hdrs = NULL;
        if (!rd_kafka_message_headers(rkm, &hdrs)) {
            const char *name;
            const void *value;
            size_t size;
            for (size_t i = 0; !rd_kafka_header_get_all(hdrs, i, &name, &value, &size); i++) {
                putchar('\t');
                print_escaped(name, strlen(name));
                putchar('=');
                if (value)
                    print_escaped(value, size);
            }
        }
    }
    putchar('\n');
    json_decref(root);
}

static int cmd_consume(const tool_opts_t *o)
{
    char errstr[512];
    if (!o->topic || o->expect < 0 || o->timeout_ms <= 0) {
        fail("consume needs -t TOPIC --expect N --timeout-ms T");
        return 2;
    }
    rd_kafka_conf_t *conf = conf_new(o);
    if (!conf)
        return 1;
    char group[256];
    if (o->group)
        snprintf(group, sizeof(group), "%s", o->group);
    else
        snprintf(group, sizeof(group), "bl_kafkatool-%ld-%ld", (long)getpid(), (long)time(NULL));
    if (conf_set(conf, "group.id", group) || conf_set(conf, "auto.offset.reset", "earliest") ||
        conf_set(conf, "enable.partition.eof", "true") ||
        conf_set(conf, "fetch.message.max.bytes", "10485760") ||
        conf_set(conf, "enable.auto.commit", o->group ? "true" : "false") ||
        conf_set(conf, "session.timeout.ms", "6000")) {
        rd_kafka_conf_destroy(conf);
        return 1;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        fail("%s", errstr);
        return 1;
    }
    rd_kafka_poll_set_consumer(rk);

    int64_t deadline = now_ms() + o->timeout_ms;
    int rc = 1;
    int nparts = 0;
    while ((nparts = topic_partitions(rk, o->topic, 5000)) <= 0 && now_ms() < deadline) {
        struct timespec ts = {0, 200 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (nparts <= 0) {
        fail("topic %s not found", o->topic);
        goto out;
    }
    bool *at_eof = calloc((size_t)nparts, sizeof(*at_eof));
    rd_kafka_topic_partition_list_t *tps = rd_kafka_topic_partition_list_new(nparts);
    if (o->group) {
        rd_kafka_topic_partition_list_add(tps, o->topic, RD_KAFKA_PARTITION_UA);
        rd_kafka_resp_err_t err = rd_kafka_subscribe(rk, tps);
        if (err)
            fail("subscribe: %s", rd_kafka_err2str(err));
    } else {
        for (int p = 0; p < nparts; p++)
            rd_kafka_topic_partition_list_add(tps, o->topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
        rd_kafka_resp_err_t err = rd_kafka_assign(rk, tps);
        if (err)
            fail("assign: %s", rd_kafka_err2str(err));
    }
    rd_kafka_topic_partition_list_destroy(tps);

    /* Done when N messages were read and every partition has been read to
     * its end since, so duplicates present at that point are all shown. */
    long got = 0;
    int eof_cnt = 0;
    while (run && now_ms() < deadline) {
        rd_kafka_message_t *rkm = rd_kafka_consumer_poll(rk, 100);
        if (!rkm)
            continue;
        if (rkm->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            if (rkm->partition >= 0 && rkm->partition < nparts && !at_eof[rkm->partition]) {
                at_eof[rkm->partition] = true;
                eof_cnt++;
            }
        } else if (rkm->err) {
            fail("consume: %s", rd_kafka_message_errstr(rkm));
        } else {
            got++;
            if (rkm->partition >= 0 && rkm->partition < nparts && at_eof[rkm->partition]) {
                at_eof[rkm->partition] = false;
                eof_cnt--;
            }
            print_message(o, rkm);
        }
        rd_kafka_message_destroy(rkm);
        if (got >= o->expect && eof_cnt == nparts)
            break;
    }
    fflush(stdout);
    if (got >= o->expect && eof_cnt == nparts) {
        rc = 0;
    } else {
        fail("timed out after %ld ms with %ld of %ld messages from %s", o->timeout_ms, got,
             o->expect, o->topic);
        rc = 3;
    }
    free(at_eof);
out:
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return rc;
}

/* ----------------------------------------------------------- count and lag */

/**
 * @brief count: messages now in @p o->topic (sum of high - low watermarks).
 *        lag (with --group): messages not yet committed by that group
 *        (a partition without a committed offset counts from its start).
 */
static int cmd_count_or_lag(const tool_opts_t *o, bool lag)
{
    char errstr[512];
    if (!o->topic || (lag && !o->group)) {
        fail(lag ? "lag needs -t TOPIC --group G" : "count needs -t TOPIC");
        return 2;
    }
    rd_kafka_conf_t *conf = conf_new(o);
    if (!conf)
        return 1;
    char group[256];
    snprintf(group, sizeof(group), "%s", lag ? o->group : "bl_kafkatool-count");
    if (conf_set(conf, "group.id", group) || conf_set(conf, "enable.auto.commit", "false")) {
        rd_kafka_conf_destroy(conf);
        return 1;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        fail("%s", errstr);
        return 1;
    }
    int rc = 1;
    int nparts = topic_partitions(rk, o->topic, 5000);
    if (nparts <= 0) {
        fail("topic %s not found", o->topic);
        goto out;
    }
    rd_kafka_topic_partition_list_t *tps = rd_kafka_topic_partition_list_new(nparts);
    for (int p = 0; p < nparts; p++)
        rd_kafka_topic_partition_list_add(tps, o->topic, p);
    if (lag) {
        rd_kafka_resp_err_t err = rd_kafka_committed(rk, tps, 10000);
        if (err) {
            fail("committed offsets of %s: %s", group, rd_kafka_err2str(err));
            rd_kafka_topic_partition_list_destroy(tps);
            goto out;
        }
    }
    int64_t total = 0;
    for (int p = 0; p < nparts; p++) {
        int64_t low = 0, high = 0;
        rd_kafka_resp_err_t err =
            rd_kafka_query_watermark_offsets(rk, o->topic, p, &low, &high, 5000);
        if (err) {
            fail("watermarks of %s [%d]: %s", o->topic, p, rd_kafka_err2str(err));
            rd_kafka_topic_partition_list_destroy(tps);
            goto out;
        }
        int64_t from = low;
        if (lag && tps->elems[p].offset >= 0)
            from = tps->elems[p].offset;
        total += high > from ? high - from : 0;
    }
    rd_kafka_topic_partition_list_destroy(tps);
    printf("%" PRId64 "\n", total);
    rc = 0;
out:
    rd_kafka_destroy(rk);
    return rc;
}

/* --------------------------------------------------------------------- main */

static void usage(void)
{
    fputs("usage: bl_kafkatool create-topic -b B -t TOPIC [-p PARTITIONS]\n"
          "       bl_kafkatool produce-gen  -b B -t TOPIC -n N [--seed S] [--prefix P]\n"
          "       bl_kafkatool produce-file -b B -t TOPIC [-k KEY] [-H name=value]... "
          "[-p PARTITION] FILE...\n"
          "       bl_kafkatool consume      -b B -t TOPIC --expect N --timeout-ms T [--group G]\n"
          "                                 [--headers] [--origin] [--field a.b]... [--dump-dir "
          "DIR]\n"
          "       bl_kafkatool metadata     -b B [-t TOPIC]\n"
          "       bl_kafkatool count        -b B -t TOPIC              (messages in topic)\n"
          "       bl_kafkatool lag          -b B -t TOPIC --group G    (not yet committed)\n"
          "  every command: -X name=value (librdkafka property)\n"
          "  consume prints PARTITION OFFSET id published.date published.from [origin P/O]\n"
          "  [--field values] [@key= @bytes= headers...], tab-separated; exit 3 if N not\n"
          "  reached in time; --dump-dir writes each value to DIR/PARTITION-OFFSET\n",
          stderr);
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage();
        return argc < 2 ? 2 : 0;
    }
    const char *cmd = argv[1];
    tool_opts_t o = {.partitions = -1, .count = -1, .expect = -1, .timeout_ms = -1, .seed = 1};
    enum {
        OPT_SEED = 256,
        OPT_EXPECT,
        OPT_TIMEOUT,
        OPT_GROUP,
        OPT_HEADERS,
        OPT_ORIGIN,
        OPT_PREFIX,
        OPT_FIELD,
        OPT_DUMP_DIR,
        OPT_JSONL
    };
    static const struct option longopts[] = {{"brokers", required_argument, NULL, 'b'},
                                             {"topic", required_argument, NULL, 't'},
                                             {"partitions", required_argument, NULL, 'p'},
                                             {"count", required_argument, NULL, 'n'},
                                             {"key", required_argument, NULL, 'k'},
                                             {"header", required_argument, NULL, 'H'},
                                             {"seed", required_argument, NULL, OPT_SEED},
                                             {"expect", required_argument, NULL, OPT_EXPECT},
                                             {"timeout-ms", required_argument, NULL, OPT_TIMEOUT},
                                             {"group", required_argument, NULL, OPT_GROUP},
                                             {"headers", no_argument, NULL, OPT_HEADERS},
                                             {"origin", no_argument, NULL, OPT_ORIGIN},
                                             {"prefix", required_argument, NULL, OPT_PREFIX},
                                             {"field", required_argument, NULL, OPT_FIELD},
                                             {"dump-dir", required_argument, NULL, OPT_DUMP_DIR},
                                             {"jsonl", required_argument, NULL, OPT_JSONL},
                                             {NULL, 0, NULL, 0}};
    int c;
    optind = 2;
    while ((c = getopt_long(argc, argv, "b:t:p:n:k:H:X:", longopts, NULL)) != -1) {
        char *end = NULL;
        switch (c) {
        case 'b':
            o.brokers = optarg;
            break;
        case 't':
            o.topic = optarg;
            break;
        case 'p':
            o.partitions = (int)strtol(optarg, &end, 10);
            break;
        case 'n':
            o.count = strtol(optarg, &end, 10);
            break;
        case 'k':
            o.key = optarg;
            break;
        case 'H':
            if (o.nheaders == BL_TOOL_MAX_HEADERS) {
                fail("too many -H");
                return 2;
            }
            o.headers[o.nheaders++] = optarg;
            break;
        case 'X':
            if (o.nprops == BL_TOOL_MAX_PROPS) {
                fail("too many -X");
                return 2;
            }
            o.props[o.nprops++] = optarg;
            break;
        case OPT_SEED:
            o.seed = strtoull(optarg, &end, 10);
            break;
        case OPT_EXPECT:
            o.expect = strtol(optarg, &end, 10);
            break;
        case OPT_TIMEOUT:
            o.timeout_ms = strtol(optarg, &end, 10);
            break;
        case OPT_GROUP:
            o.group = optarg;
            break;
        case OPT_HEADERS:
            o.print_headers = true;
            break;
        case OPT_ORIGIN:
            o.print_origin = true;
            break;
        case OPT_PREFIX:
            o.prefix = optarg;
            break;
        case OPT_FIELD:
            if (o.nfields == BL_TOOL_MAX_HEADERS) {
                fail("too many --field");
                return 2;
            }
            o.fields[o.nfields++] = optarg;
            break;
        case OPT_DUMP_DIR:
            o.dump_dir = optarg;
            break;
        case OPT_JSONL:
            if (!(o.jsonl = fopen(optarg, "w"))) {
                fprintf(stderr, "bl_kafkatool: %s: cannot write\n", optarg);
                return 1;
            }
            break;
        default:
            usage();
            return 2;
        }
        if (end && (*end || end == optarg)) {
            fail("-%c %s: not a number", c < 256 ? c : '-', optarg);
            return 2;
        }
    }
    if (!o.brokers) {
        fail("%s needs -b BROKERS", cmd);
        return 2;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);

    if (!strcmp(cmd, "metadata"))
        return cmd_metadata(&o);
    if (!strcmp(cmd, "create-topic"))
        return cmd_create_topic(&o);
    if (!strcmp(cmd, "produce-gen"))
        return cmd_produce_gen(&o);
    if (!strcmp(cmd, "produce-file"))
        return cmd_produce_file(&o, argc - optind, argv + optind);
    if (!strcmp(cmd, "consume"))
        return cmd_consume(&o);
    if (!strcmp(cmd, "count"))
        return cmd_count_or_lag(&o, false);
    if (!strcmp(cmd, "lag"))
        return cmd_count_or_lag(&o, true);
    fail("unknown command %s", cmd);
    usage();
    return 2;
}
