/*
 * pipeline: consume -> decode -> enrich -> produce, at least once.
 * The caller's thread polls the consumer, tracks offsets, serves delivery
 * reports (rd_kafka_poll on the producer) and handles rebalances. Worker
 * threads decode, enrich and produce: each input partition goes to one
 * worker, so records of a partition are produced in input order. The
 * tracker, the queues and the fatal state are guarded by pipeline.lock.
 */
#include "kafka/pipeline.h"

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "article/article.h"
#include "enrich/json_arena.h"
#include "kafka/offsets.h"
#include "obs/log.h"
#include "obs/metrics.h"
#include "webhook/webhook.h"

/* Pause consumption while this many messages wait for delivery reports:
 * about half a second of output, and a bound on memory (records are ~12 KB). */
#define MAX_INFLIGHT      1000
#define STORE_INTERVAL_MS 50
#define LAG_INTERVAL_MS   5000

/* Messages queued for the workers (all together) before the poll loop waits. */
#define QUEUE_PER_WORKER 128

/* One consumed message until every message produced for it is delivered. */
typedef struct inflight {
    int32_t partition;
    int64_t offset;
    int64_t generation;
    atomic_int pending; /* produced messages not yet reported, +1 while a worker holds it */
    atomic_int failed;  /* some produce failed: never mark it done */
    double started;
    const char *dlq_reason;  /* NULL for a record; set before producing */
    rd_kafka_message_t *rkm; /* the input, until its worker is done with it */
    struct inflight *next;   /* worker queue */
} inflight_t;

typedef struct worker {
    struct pipeline *p;
    pthread_t thread;
    pthread_cond_t cv;       /* a job was queued for it, or stopping */
    inflight_t *head, *tail; /* under pipeline.lock */
    char *out;               /* the serialised record; the worker's own */
    size_t out_size;
} worker_t;

typedef struct pipeline {
    const bl_pipeline_conf_t *conf;
    const bl_config_t *cfg;
    rd_kafka_t *consumer; /* rk of the group member */
    rd_kafka_t *producer;
    pthread_mutex_t lock; /* guards everything below */
    bl_offsets_t *offsets;
    worker_t *workers;
    int nworkers_made; /* workers[] entries initialised */
    int nworkers;      /* threads running */
    size_t queued;     /* jobs queued or being processed */
    int stopping;
    atomic_int fatal;
    atomic_int closing; /* purging on exit: delivery errors are expected */
    char fatal_reason[512];
    int64_t done_count;
    int paused; /* consumer thread only */
} pipeline_t;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Any thread; never with p->lock held. */
static void __attribute__((format(printf, 2, 3))) set_fatal(pipeline_t *p, const char *fmt, ...)
{
    char reason[sizeof(p->fatal_reason)];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&p->lock);
    int first = !p->fatal;
    if (first) {
        memcpy(p->fatal_reason, reason, sizeof(reason));
        p->fatal = 1;
    }
    pthread_mutex_unlock(&p->lock);
    if (first)
        bl_error("fatal", "%s", reason);
}

/* Any thread; never with p->lock held. */
static void inflight_finish(pipeline_t *p, inflight_t *in)
{
    if (!in->failed) {
        pthread_mutex_lock(&p->lock);
        int ok = bl_offsets_done(p->offsets, in->partition, in->offset, in->generation) >= 0;
        if (ok)
            p->done_count++;
        pthread_mutex_unlock(&p->lock);
        if (ok)
            bl_metrics_latency_observe(now_s() - in->started);
    }
    free(in);
}

/* Drops one reference; the last one finishes the message. */
static void inflight_release(pipeline_t *p, inflight_t *in)
{
    if (atomic_fetch_sub(&in->pending, 1) == 1)
        inflight_finish(p, in);
}

/* Delivery report: producer's poll, i.e. this thread. */
static void dr_msg_cb(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque)
{
    pipeline_t *p = opaque;
    inflight_t *in = rkm->_private;
    if (rkm->err) {
        if (!p->closing)
            set_fatal(p, "could not deliver to %s: %s (offsets after it are not committed)",
                      rd_kafka_topic_name(rkm->rkt), rd_kafka_err2str(rkm->err));
        if (in) {
            in->failed = 1; /* not done: never committed, reprocessed after a restart */
            inflight_release(p, in);
        }
        return;
    }
    if (!in)
        return;
    if (in->dlq_reason)
        bl_metrics_dead_lettered(in->dlq_reason);
    else if (strcmp(rd_kafka_topic_name(rkm->rkt), p->cfg->output_topic) == 0)
        bl_metrics_produced();
    inflight_release(p, in);
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    pipeline_t *p = opaque;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char why[512];
        rd_kafka_resp_err_t orig = rd_kafka_fatal_error(rk, why, sizeof(why));
        set_fatal(p, "fatal librdkafka error (%s): %s", rd_kafka_err2name(orig), why);
        return;
    }
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
        bl_health_set_broker_up(0);
    /* Everything else is informational: librdkafka retries by itself. */
    bl_warn("kafka_error", "%s: %s", rd_kafka_err2name(err), reason);
}

/* Statistics (consumer, every LAG_INTERVAL_MS): broker state and lag. */
static int stats_cb(rd_kafka_t *rk, char *json, size_t json_len, void *opaque)
{
    pipeline_t *p = opaque;
    json_t *root = json_loadb(json, json_len, 0, NULL);
    if (!root)
        return 0;
    int up = 0;
    const char *name;
    json_t *b;
    json_object_foreach(json_object_get(root, "brokers"), name, b)
    {
        json_t *state = json_object_get(b, "state");
        if (json_integer_value(json_object_get(b, "nodeid")) >= 0 && json_is_string(state) &&
            strcmp(json_string_value(state), "UP") == 0)
            up = 1;
    }
    bl_health_set_broker_up(up);
    json_t *topic = json_object_get(json_object_get(root, "topics"), p->cfg->input_topic);
    json_t *part;
    json_object_foreach(json_object_get(topic, "partitions"), name, part)
    {
        int64_t id = json_integer_value(json_object_get(part, "partition"));
        int64_t lag = json_integer_value(json_object_get(part, "consumer_lag"));
        if (id >= 0 && lag >= 0 && json_is_true(json_object_get(part, "desired")))
            bl_metrics_lag_set(p->cfg->input_topic, (int32_t)id, lag);
    }
    json_decref(root);
    return 0;
}

/* Stores the committable offset of every partition that moved. Consumer thread. */
static void store_offsets(pipeline_t *p)
{
    rd_kafka_topic_partition_list_t *list = NULL;
    pthread_mutex_lock(&p->lock);
    int32_t n = bl_offsets_partitions(p->offsets);
    for (int32_t i = 0; i < n; i++) {
        if (!bl_offsets_take_dirty(p->offsets, i))
            continue;
        if (!list)
            list = rd_kafka_topic_partition_list_new(8);
        rd_kafka_topic_partition_list_add(list, p->cfg->input_topic, i)->offset =
            bl_offsets_committable(p->offsets, i);
    }
    pthread_mutex_unlock(&p->lock);
    if (!list)
        return;
    rd_kafka_resp_err_t err = rd_kafka_offsets_store(p->consumer, list);
    if (err && err != RD_KAFKA_RESP_ERR__STATE)
        bl_warn("offsets_store", "%s", rd_kafka_err2str(err));
    rd_kafka_topic_partition_list_destroy(list);
}

static void commit_sync(pipeline_t *p, const char *why)
{
    store_offsets(p);
    rd_kafka_resp_err_t err = rd_kafka_commit(p->consumer, NULL, 0);
    if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
        bl_warn("commit", "%s: %s", why, rd_kafka_err2str(err));
}

static void set_paused(pipeline_t *p, int pause)
{
    rd_kafka_topic_partition_list_t *assigned = NULL;
    if (rd_kafka_assignment(p->consumer, &assigned) || !assigned)
        return;
    if (pause)
        rd_kafka_pause_partitions(p->consumer, assigned);
    else
        rd_kafka_resume_partitions(p->consumer, assigned);
    rd_kafka_topic_partition_list_destroy(assigned);
    p->paused = pause;
}

/*
 * Waits (bounded) until the workers hold no message, serving delivery
 * reports meanwhile. Consumer thread.
 */
static void wait_workers_idle(pipeline_t *p, int64_t timeout_ms)
{
    double deadline = now_s() + (double)timeout_ms / 1000.0;
    for (;;) {
        pthread_mutex_lock(&p->lock);
        size_t queued = p->queued;
        pthread_mutex_unlock(&p->lock);
        if (queued == 0 || now_s() >= deadline)
            return;
        rd_kafka_poll(p->producer, 5);
    }
}

/*
 * Rebalance (consumer poll, this thread). On revoke: wait (bounded) for the
 * revoked partitions' in-flight records, store and commit what is done,
 * forget the rest (the next owner reprocesses it), then unassign.
 */
static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    pipeline_t *p = opaque;
    int cooperative = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        pthread_mutex_lock(&p->lock);
        for (int i = 0; i < parts->cnt; i++)
            bl_offsets_reset(p->offsets, parts->elems[i].partition);
        pthread_mutex_unlock(&p->lock);
        rd_kafka_error_t *error = NULL;
        if (cooperative)
            error = rd_kafka_incremental_assign(rk, parts);
        else
            rd_kafka_assign(rk, parts);
        if (error) {
            bl_error("rebalance", "assign: %s", rd_kafka_error_string(error));
            rd_kafka_error_destroy(error);
        }
        if (p->paused && !cooperative)
            p->paused = 0;
        bl_health_set_group_joined(1);
        bl_health_set_broker_up(1);
        bl_info("rebalance", "assigned %d partition(s) of %s", parts->cnt, p->cfg->input_topic);
        return;
    }
    if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
        /* Let the workers finish what they hold, then the producer. */
        wait_workers_idle(p, p->cfg->revoke_timeout_ms);
        pthread_mutex_lock(&p->lock);
        size_t waiting = 0;
        for (int i = 0; i < parts->cnt; i++)
            waiting += bl_offsets_inflight(p->offsets, parts->elems[i].partition);
        pthread_mutex_unlock(&p->lock);
        if (waiting)
            rd_kafka_flush(p->producer, (int)p->cfg->revoke_timeout_ms);
        store_offsets(p);
        if (!rd_kafka_assignment_lost(rk)) {
            rd_kafka_resp_err_t cerr = rd_kafka_commit(rk, parts->cnt ? NULL : NULL, 0);
            if (cerr && cerr != RD_KAFKA_RESP_ERR__NO_OFFSET)
                bl_warn("rebalance", "commit on revoke: %s", rd_kafka_err2str(cerr));
        }
        size_t abandoned = 0;
        pthread_mutex_lock(&p->lock);
        for (int i = 0; i < parts->cnt; i++) {
            abandoned += bl_offsets_inflight(p->offsets, parts->elems[i].partition);
            bl_offsets_reset(p->offsets, parts->elems[i].partition);
            /* Its lag is the next owner's to report now. */
            bl_metrics_lag_remove(p->cfg->input_topic, parts->elems[i].partition);
        }
        pthread_mutex_unlock(&p->lock);
        if (cooperative) {
            rd_kafka_error_t *error = rd_kafka_incremental_unassign(rk, parts);
            if (error)
                rd_kafka_error_destroy(error);
        } else {
            rd_kafka_assign(rk, NULL);
            bl_health_set_group_joined(0);
        }
        bl_info("rebalance",
                "revoked %d partition(s); %zu in-flight message(s) left to the next owner",
                parts->cnt, abandoned);
        return;
    }
    bl_error("rebalance", "%s", rd_kafka_err2str(err));
    rd_kafka_assign(rk, NULL);
}

/* Copies header @p name into @p buf when present and short. */
static const char *header_str(rd_kafka_headers_t *hdrs, const char *name, char *buf, size_t size)
{
    const void *val;
    size_t len;
    if (!hdrs || rd_kafka_header_get_last(hdrs, name, &val, &len) || !val || len >= size)
        return NULL;
    memcpy(buf, val, len);
    buf[len] = '\0';
    return strlen(buf) == len ? buf : NULL;
}

static int produce(pipeline_t *p, const char *topic, const void *key, size_t key_len, void *value,
                   size_t len, int msgflags, rd_kafka_headers_t *hdrs, inflight_t *in)
{
    for (;;) {
        /* Count it first: its delivery report may come before producev returns. */
        atomic_fetch_add(&in->pending, 1);
        rd_kafka_resp_err_t err =
            rd_kafka_producev(p->producer, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, key_len),
                              RD_KAFKA_V_VALUE(value, len), RD_KAFKA_V_MSGFLAGS(msgflags),
                              RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE(in), RD_KAFKA_V_END);
        if (err)
            atomic_fetch_sub(&in->pending, 1);
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL && !p->fatal) {
            usleep(5000); /* the poll loop serves delivery reports meanwhile */
            continue;
        }
        return err;
    }
}

/* Produces the original message to the dead-letter topic. Takes @p in. */
static void dead_letter(pipeline_t *p, const rd_kafka_message_t *rkm, inflight_t *in,
                        const char *stage, const char *reason, const char *error)
{
    rd_kafka_headers_t *orig = NULL, *hdrs;
    if (rd_kafka_message_headers(rkm, &orig) == RD_KAFKA_RESP_ERR_NO_ERROR && orig)
        hdrs = rd_kafka_headers_copy(orig);
    else
        hdrs = rd_kafka_headers_new(8);
    char num[32];
    rd_kafka_header_add(hdrs, "byline.stage", -1, stage, -1);
    rd_kafka_header_add(hdrs, "byline.reason", -1, reason, -1);
    rd_kafka_header_add(hdrs, "byline.error", -1, error, -1);
    rd_kafka_header_add(hdrs, "byline.origin.topic", -1, rd_kafka_topic_name(rkm->rkt), -1);
    snprintf(num, sizeof(num), "%d", (int)rkm->partition);
    rd_kafka_header_add(hdrs, "byline.origin.partition", -1, num, -1);
    snprintf(num, sizeof(num), "%lld", (long long)rkm->offset);
    rd_kafka_header_add(hdrs, "byline.origin.offset", -1, num, -1);
    rd_kafka_timestamp_type_t tstype;
    snprintf(num, sizeof(num), "%lld", (long long)rd_kafka_message_timestamp(rkm, &tstype));
    rd_kafka_header_add(hdrs, "byline.origin.timestamp", -1, num, -1);
    size_t len = rkm->len;
    if (len > (size_t)p->cfg->dlq_max_value_bytes) {
        len = (size_t)p->cfg->dlq_max_value_bytes;
        rd_kafka_header_add(hdrs, "byline.truncated", -1, "true", -1);
        snprintf(num, sizeof(num), "%zu", rkm->len);
        rd_kafka_header_add(hdrs, "byline.original_bytes", -1, num, -1);
    }
    in->dlq_reason = reason;
    bl_info("dead_letter", "%s[%d]@%lld: %s: %s", rd_kafka_topic_name(rkm->rkt),
            (int)rkm->partition, (long long)rkm->offset, reason, error);
    rd_kafka_resp_err_t err = produce(p, p->cfg->dlq_topic, rkm->key, rkm->key_len, rkm->payload,
                                      len, RD_KAFKA_MSG_F_COPY, hdrs, in);
    if (err) {
        rd_kafka_headers_destroy(hdrs);
        set_fatal(p, "cannot dead-letter to %s: %s", p->cfg->dlq_topic, rd_kafka_err2str(err));
        in->failed = 1;
    }
}

/* One message per entity, for entity timelines; same key space as entity ids. */
static void produce_entities(pipeline_t *p, json_t *rec, inflight_t *in)
{
    json_t *ents = json_object_get(rec, "entities"), *ent;
    size_t i;
    json_array_foreach(ents, i, ent)
    {
        json_t *msg = json_object();
        json_object_set(msg, "article_id", json_object_get(rec, "id"));
        json_object_set(msg, "published", json_object_get(rec, "published"));
        json_object_set(msg, "headline", json_object_get(rec, "headline"));
        json_object_set(msg, "entity", ent);
        char *value = json_dumps(msg, BL_RECORD_DUMP_FLAGS);
        json_decref(msg);
        const char *key = json_string_value(json_object_get(ent, "id"));
        if (!key)
            key = json_string_value(json_object_get(ent, "name"));
        int failed = !value || produce(p, p->cfg->entities_topic, key, key ? strlen(key) : 0, value,
                                       strlen(value), RD_KAFKA_MSG_F_COPY, NULL, in);
        bl_json_free(value);
        if (failed) {
            set_fatal(p, "cannot produce to %s", p->cfg->entities_topic);
            in->failed = 1;
            return;
        }
    }
}

/* Decode, enrich, produce one message. Worker thread; takes the worker's reference. */
static void process(worker_t *w, inflight_t *in)
{
    pipeline_t *p = w->p;
    rd_kafka_message_t *rkm = in->rkm;
    /* Every jansson value of this message lives and dies in this window. */
    bl_json_arena_begin();

    rd_kafka_headers_t *hdrs = NULL;
    rd_kafka_message_headers(rkm, &hdrs);
    char idbuf[512], srcbuf[512], urlbuf[2048];
    rd_kafka_timestamp_type_t tstype;
    bl_article_meta_t meta = {
        .timestamp_ms = rd_kafka_message_timestamp(rkm, &tstype),
        .id = header_str(hdrs, "id", idbuf, sizeof(idbuf)),
        .source = header_str(hdrs, "source", srcbuf, sizeof(srcbuf)),
        .url = header_str(hdrs, "url", urlbuf, sizeof(urlbuf)),
    };
    bl_article_t a;
    char errstr[512];
    bl_decode_err_t derr =
        bl_article_decode(&a, rkm->payload, rkm->len, &meta, (size_t)p->cfg->max_message_bytes,
                          errstr, sizeof(errstr));
    if (derr != BL_DECODE_OK) {
        dead_letter(p, rkm, in, "decode", bl_decode_err_name(derr), errstr);
        goto release;
    }
    bl_origin_t origin = {rd_kafka_topic_name(rkm->rkt), rkm->partition, rkm->offset,
                          meta.timestamp_ms};
    json_t *rec = bl_enricher_run(p->conf->enricher, &a, &origin);
    int has_date =
        a.published_from == BL_PUBLISHED_HEADER || a.published_from == BL_PUBLISHED_ENVELOPE;
    bl_article_clear(&a);
    size_t len = rec ? bl_record_dump(rec, &w->out, &w->out_size) : 0;
    if (!len) {
        json_decref(rec);
        dead_letter(p, rkm, in, "enrich", "enrich_failed", "enrichment ran out of memory");
        goto release;
    }
    json_t *src = json_object_get(rec, "source");
    bl_metrics_article(has_date, (int)json_array_size(json_object_get(rec, "entities")),
                       json_array_size(json_object_get(src, "agencies")) > 0);
    const char *id = json_string_value(json_object_get(rec, "id"));
    /* Copied: the buffer is the worker's, for its next record. */
    rd_kafka_resp_err_t err = produce(p, p->cfg->output_topic, id, strlen(id), w->out, len,
                                      RD_KAFKA_MSG_F_COPY, NULL, in);
    if (err) {
        json_decref(rec);
        if (err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) {
            snprintf(errstr, sizeof(errstr),
                     "record is larger than the producer's message.max.bytes");
            dead_letter(p, rkm, in, "produce", "record_too_large", errstr);
        } else {
            set_fatal(p, "cannot produce to %s: %s", p->cfg->output_topic, rd_kafka_err2str(err));
            in->failed = 1;
        }
        goto release;
    }
    if (*p->cfg->entities_topic)
        produce_entities(p, rec, in);
    json_decref(rec);
release:
    bl_json_arena_end();
    in->rkm = NULL;
    rd_kafka_message_destroy(rkm);
    /* Drop the worker's reference; done now if everything was already reported. */
    inflight_release(p, in);
}

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    pipeline_t *p = w->p;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!w->head && !p->stopping)
            pthread_cond_wait(&w->cv, &p->lock);
        inflight_t *in = w->head;
        if (!in)
            break; /* stopping, and nothing left */
        w->head = in->next;
        if (!w->head)
            w->tail = NULL;
        pthread_mutex_unlock(&p->lock);
        process(w, in);
        pthread_mutex_lock(&p->lock);
        p->queued--;
    }
    pthread_mutex_unlock(&p->lock);
    bl_json_arena_release();
    return NULL;
}

/*
 * Hands a consumed message to its partition's worker. Consumer thread.
 * Waits (serving delivery reports) while the queues are full.
 */
static void dispatch(pipeline_t *p, rd_kafka_message_t *rkm)
{
    bl_metrics_consumed();
    inflight_t *in = calloc(1, sizeof(*in));
    if (!in) {
        set_fatal(p, "out of memory");
        rd_kafka_message_destroy(rkm);
        return;
    }
    in->partition = rkm->partition;
    in->offset = rkm->offset;
    in->started = now_s();
    in->rkm = rkm;
    atomic_init(&in->pending, 1); /* the worker's reference */
    atomic_init(&in->failed, 0);
    size_t max_queued = (size_t)p->nworkers * QUEUE_PER_WORKER;
    pthread_mutex_lock(&p->lock);
    while (p->queued >= max_queued && !p->fatal) {
        pthread_mutex_unlock(&p->lock);
        rd_kafka_poll(p->producer, 1);
        pthread_mutex_lock(&p->lock);
    }
    in->generation = bl_offsets_begin(p->offsets, rkm->partition, rkm->offset);
    if (in->generation < 0)
        bl_warn("offsets", "%s[%d]@%lld arrived out of order; processing it anyway",
                rd_kafka_topic_name(rkm->rkt), (int)rkm->partition, (long long)rkm->offset);
    worker_t *w = &p->workers[(uint32_t)rkm->partition % (uint32_t)p->nworkers];
    if (w->tail)
        w->tail->next = in;
    else
        w->head = in;
    w->tail = in;
    p->queued++;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&p->lock);
}

static rd_kafka_t *new_client(pipeline_t *p, rd_kafka_type_t type, char *errstr, size_t errstr_size)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char err[512];
    /* Our defaults first; BYLINE_KAFKA_* may override them. */
    struct {
        const char *name, *value;
    } consumer_defaults[] = {{"enable.auto.offset.store", "false"},
                             {"enable.auto.commit", "true"},
                             {"auto.offset.reset", "earliest"},
                             {"statistics.interval.ms", "5000"},
                             {"enable.partition.eof", "false"},
                             /* 16 MB of prefetch, not librdkafka's 64 MB, in 256 KB
                              * partition fetches: RSS stays near 60 MB at a
                              * backlog. 8 MB starved the workers (librdkafka
                              * 2.0 fetches again only later once the queue is
                              * full): 2,900/s instead of ~4,600/s, see
                              * BENCHMARKS.md. */
                             {"queued.max.messages.kbytes", "16384"},
                             {"max.partition.fetch.bytes", "262144"},
                             {NULL, NULL}},
      producer_defaults[] = {{"enable.idempotence", "true"},
                             {"acks", "all"},
                             {"linger.ms", "5"},
                             {"compression.codec", "lz4"},
                             {NULL, NULL}},
      *d = type == RD_KAFKA_CONSUMER ? consumer_defaults : producer_defaults;
    for (; d->name; d++)
        rd_kafka_conf_set(conf, d->name, d->value, err, sizeof(err));
    if (type == RD_KAFKA_CONSUMER)
        rd_kafka_conf_set(conf, "group.id", p->cfg->group_id, err, sizeof(err));
    if (bl_config_kafka_apply(p->cfg, conf,
                              type == RD_KAFKA_CONSUMER ? BL_KAFKA_CONSUMER : BL_KAFKA_PRODUCER,
                              errstr, errstr_size) < 0) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    /* These are not negotiable: they are what "nothing lost" rests on. */
    if (type == RD_KAFKA_CONSUMER) {
        rd_kafka_conf_set(conf, "enable.auto.offset.store", "false", err, sizeof(err));
        rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
        rd_kafka_conf_set_stats_cb(conf, stats_cb);
    } else {
        rd_kafka_conf_set_dr_msg_cb(conf, dr_msg_cb);
    }
    rd_kafka_conf_set_error_cb(conf, error_cb);
    rd_kafka_conf_set_log_cb(conf, bl_log_rdkafka);
    rd_kafka_conf_set_opaque(conf, p);
    rd_kafka_t *rk = rd_kafka_new(type, conf, err, sizeof(err));
    if (!rk) {
        snprintf(errstr, errstr_size, "cannot create the Kafka %s: %s",
                 type == RD_KAFKA_CONSUMER ? "consumer" : "producer", err);
        return NULL;
    }
    /* conf is owned by rk now. */
    return rk;
}

static int64_t now_ms(void)
{
    return (int64_t)(now_s() * 1000.0);
}

static void stop_workers(pipeline_t *p)
{
    pthread_mutex_lock(&p->lock);
    p->stopping = 1;
    for (int i = 0; i < p->nworkers_made; i++)
        pthread_cond_signal(&p->workers[i].cv);
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < p->nworkers; i++)
        pthread_join(p->workers[i].thread, NULL);
    p->nworkers = 0;
}

static void pipeline_free(pipeline_t *p)
{
    for (int i = 0; i < p->nworkers_made; i++) {
        pthread_cond_destroy(&p->workers[i].cv);
        free(p->workers[i].out);
    }
    free(p->workers);
    bl_offsets_destroy(p->offsets);
    pthread_mutex_destroy(&p->lock);
}

int bl_pipeline_run(const bl_pipeline_conf_t *conf, volatile sig_atomic_t *run, char *errstr,
                    size_t errstr_size)
{
    pipeline_t p = {.conf = conf, .cfg = conf->cfg};
    pthread_mutex_init(&p.lock, NULL);
    atomic_init(&p.fatal, 0);
    atomic_init(&p.closing, 0);
    p.offsets = bl_offsets_new();
    int nworkers = (int)conf->cfg->workers;
    if (nworkers <= 0)
        nworkers = (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (nworkers <= 0)
        nworkers = 1;
    p.workers = calloc((size_t)nworkers, sizeof(*p.workers));
    for (int i = 0; p.workers && i < nworkers; i++) {
        worker_t *w = &p.workers[i];
        w->p = &p;
        w->out_size = 64 * 1024; /* records are ~12 KB; grown when one is larger */
        if (!(w->out = malloc(w->out_size)))
            break;
        pthread_cond_init(&w->cv, NULL);
        p.nworkers_made++;
    }
    if (!p.offsets || p.nworkers_made < nworkers) {
        snprintf(errstr, errstr_size, "out of memory");
        pipeline_free(&p);
        return BL_PIPELINE_SETUP;
    }
    if (!(p.producer = new_client(&p, RD_KAFKA_PRODUCER, errstr, errstr_size)) ||
        !(p.consumer = new_client(&p, RD_KAFKA_CONSUMER, errstr, errstr_size))) {
        if (p.producer)
            rd_kafka_destroy(p.producer);
        pipeline_free(&p);
        return BL_PIPELINE_SETUP;
    }
    rd_kafka_poll_set_consumer(p.consumer);
    rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, p.cfg->input_topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t err = rd_kafka_subscribe(p.consumer, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (err) {
        snprintf(errstr, errstr_size, "cannot subscribe to %s: %s", p.cfg->input_topic,
                 rd_kafka_err2str(err));
        rd_kafka_destroy(p.consumer);
        rd_kafka_destroy(p.producer);
        pipeline_free(&p);
        return BL_PIPELINE_SETUP;
    }
    for (int i = 0; i < nworkers; i++) {
        if (pthread_create(&p.workers[i].thread, NULL, worker_main, &p.workers[i]) != 0) {
            set_fatal(&p, "cannot start worker thread %d", i);
            break;
        }
        p.nworkers++;
    }
    bl_info("started",
            "consuming %s in group %s with %d worker(s); records to %s, dead letters to %s",
            p.cfg->input_topic, p.cfg->group_id, p.nworkers, p.cfg->output_topic, p.cfg->dlq_topic);

    int64_t last_store = now_ms();
    while (*run && !p.fatal) {
        rd_kafka_message_t *rkm = rd_kafka_consumer_poll(p.consumer, 100);
        if (rkm) {
            if (!rkm->err) {
                dispatch(&p, rkm); /* the worker destroys it */
            } else {
                if (rkm->err == RD_KAFKA_RESP_ERR__FATAL)
                    error_cb(p.consumer, rkm->err, rd_kafka_message_errstr(rkm), &p);
                else if (rkm->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                    bl_warn("consume", "%s", rd_kafka_message_errstr(rkm));
                rd_kafka_message_destroy(rkm);
            }
        }
        rd_kafka_poll(p.producer, 0);
        pthread_mutex_lock(&p.lock);
        size_t inflight = bl_offsets_inflight(p.offsets, -1);
        int64_t done = p.done_count;
        pthread_mutex_unlock(&p.lock);
        if (!p.paused && inflight >= MAX_INFLIGHT)
            set_paused(&p, 1);
        else if (p.paused && inflight < MAX_INFLIGHT / 2)
            set_paused(&p, 0);
        int64_t t = now_ms();
        if (t - last_store >= STORE_INTERVAL_MS || !rkm) {
            store_offsets(&p);
            last_store = t;
            char why[512];
            if (conf->webhooks && bl_webhooks_fatal(conf->webhooks, why, sizeof(why)))
                set_fatal(&p, "webhooks: %s", why);
        }
        if (conf->stop_after && done >= conf->stop_after && inflight == 0)
            break;
    }

    /* Drain: stop consuming, let the workers finish, wait (bounded) for
     * deliveries, commit, close. */
    bl_info("stopping", "%s; waiting up to %lld ms for in-flight messages",
            p.fatal ? "fatal error" : "stop requested", (long long)p.cfg->shutdown_timeout_ms);
    wait_workers_idle(&p, p.fatal ? 0 : p.cfg->shutdown_timeout_ms);
    stop_workers(&p);
    if (!p.fatal)
        rd_kafka_flush(p.producer, (int)p.cfg->shutdown_timeout_ms);
    else
        rd_kafka_poll(p.producer, 0);
    commit_sync(&p, "on shutdown");
    p.closing = 1; /* the revoke in close may flush again; failures there are expected */
    rd_kafka_consumer_close(p.consumer);
    rd_kafka_destroy(p.consumer);
    int left = rd_kafka_outq_len(p.producer);
    if (left > 0) {
        bl_warn("stopping",
                "%d message(s) undelivered; their input offsets were not committed and "
                "will be processed again",
                left);
        rd_kafka_purge(p.producer, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_flush(p.producer, 1000);
    }
    rd_kafka_destroy(p.producer);
    bl_info("stopped", "%lld message(s) done", (long long)p.done_count);
    int rc = BL_PIPELINE_OK;
    if (p.fatal) {
        snprintf(errstr, errstr_size, "%s", p.fatal_reason);
        rc = BL_PIPELINE_FATAL;
    }
    pipeline_free(&p);
    return rc;
}
