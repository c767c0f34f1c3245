/*
 * bl_copier: the ceiling byline is measured against. A pass-through
 * consume -> produce copier with byline's client settings and delivery
 * discipline but no decoding or enrichment: same consumer defaults, same
 * idempotent acks=all lz4 linger.ms=5 producer, offsets stored (through
 * byline's own tracker) only after delivery, committed every 5 s.
 * One thread; delivery reports are served by rd_kafka_poll() on the loop.
 *
 *   bl_copier -b BROKERS -i INPUT -o OUTPUT -g GROUP
 *             [-n STOP_AFTER] [-X name=value]... [-C name=value]... [-P name=value]...
 *
 * -X sets a librdkafka property on both clients, -C on the consumer only,
 * -P on the producer only (after the defaults, as BYLINE_KAFKA_* does).
 * The key, value and headers are copied; the timestamp is a new CreateTime
 * (as byline's records get). Stops on SIGTERM/SIGINT, or after STOP_AFTER
 * messages are delivered. Prints one summary line on stdout.
 * Exit codes: 0 ok, 1 error, 2 usage.
 */
#include <getopt.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kafka/offsets.h"

#define COPIER_MAX_PROPS    64
#define COPIER_MAX_INFLIGHT 20000 /* byline's MAX_INFLIGHT */
#define COPIER_STORE_MS     50    /* byline's STORE_INTERVAL_MS */

typedef struct copier_opts {
    const char *brokers, *input, *output, *group;
    long stop_after;
    const char *props[COPIER_MAX_PROPS];
    char props_for[COPIER_MAX_PROPS]; /* 'X' both, 'C' consumer, 'P' producer */
    int nprops;
} copier_opts_t;

/* One consumed message until its copy is delivered. */
typedef struct copy_inflight {
    int32_t partition;
    int64_t offset;
    int64_t generation;
} copy_inflight_t;

typedef struct copier {
    const copier_opts_t *opts;
    rd_kafka_t *consumer, *producer;
    bl_offsets_t *offsets;
    long delivered, failed;
    long long bytes;
    int paused;
} copier_t;

static volatile sig_atomic_t run = 1;

static void on_signal(int sig)
{
    (void)sig;
    run = 0;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void dr_msg_cb(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque)
{
    copier_t *c = opaque;
    copy_inflight_t *in = rkm->_private;
    if (rkm->err) {
        fprintf(stderr, "bl_copier: delivery failed: %s\n", rd_kafka_err2str(rkm->err));
        c->failed++;
    } else {
        c->delivered++;
        c->bytes += (long long)rkm->len;
        if (in)
            bl_offsets_done(c->offsets, in->partition, in->offset, in->generation);
    }
    free(in);
}

static void store_offsets(copier_t *c)
{
    rd_kafka_topic_partition_list_t *list = NULL;
    int32_t n = bl_offsets_partitions(c->offsets);
    for (int32_t i = 0; i < n; i++) {
        if (!bl_offsets_take_dirty(c->offsets, i))
            continue;
        if (!list)
            list = rd_kafka_topic_partition_list_new(8);
        rd_kafka_topic_partition_list_add(list, c->opts->input, i)->offset =
            bl_offsets_committable(c->offsets, i);
    }
    if (!list)
        return;
    rd_kafka_offsets_store(c->consumer, list);
    rd_kafka_topic_partition_list_destroy(list);
}

/* Eager assignment only (the default assignor); enough for a reference. */
static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    copier_t *c = opaque;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        for (int i = 0; i < parts->cnt; i++)
            bl_offsets_reset(c->offsets, parts->elems[i].partition);
        rd_kafka_assign(rk, parts);
        c->paused = 0;
        fprintf(stderr, "bl_copier: assigned %d partition(s)\n", parts->cnt);
        return;
    }
    rd_kafka_flush(c->producer, 10000);
    store_offsets(c);
    if (!rd_kafka_assignment_lost(rk))
        rd_kafka_commit(rk, NULL, 0);
    for (int i = 0; i < parts->cnt; i++)
        bl_offsets_reset(c->offsets, parts->elems[i].partition);
    rd_kafka_assign(rk, NULL);
}

static void set_paused(copier_t *c, int pause)
{
    rd_kafka_topic_partition_list_t *assigned = NULL;
    if (rd_kafka_assignment(c->consumer, &assigned) || !assigned)
        return;
    if (pause)
        rd_kafka_pause_partitions(c->consumer, assigned);
    else
        rd_kafka_resume_partitions(c->consumer, assigned);
    rd_kafka_topic_partition_list_destroy(assigned);
    c->paused = pause;
}

static int conf_set(rd_kafka_conf_t *conf, const char *name, const char *value)
{
    char errstr[512];
    if (rd_kafka_conf_set(conf, name, value, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "bl_copier: %s: %s\n", name, errstr);
        return -1;
    }
    return 0;
}

static rd_kafka_t *client_new(copier_t *c, rd_kafka_type_t type)
{
    const copier_opts_t *o = c->opts;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    /* byline's defaults (internal/kafka/pipeline.c), then the overrides. */
    static const char *consumer_defaults[] = {"enable.auto.offset.store",
                                              "false",
                                              "enable.auto.commit",
                                              "true",
                                              "auto.offset.reset",
                                              "earliest",
                                              "statistics.interval.ms",
                                              "5000",
                                              "enable.partition.eof",
                                              "false",
                                              "queued.max.messages.kbytes",
                                              "16384",
                                              "max.partition.fetch.bytes",
                                              "262144",
                                              NULL};
    static const char *producer_defaults[] = {
        "enable.idempotence", "true", "acks", "all", "linger.ms", "5",
        "compression.codec",  "lz4",  NULL};
    const char **d = type == RD_KAFKA_CONSUMER ? consumer_defaults : producer_defaults;
    int bad = conf_set(conf, "bootstrap.servers", o->brokers);
    for (; !bad && *d; d += 2)
        bad = conf_set(conf, d[0], d[1]);
    if (!bad && type == RD_KAFKA_CONSUMER)
        bad = conf_set(conf, "group.id", o->group);
    char which = type == RD_KAFKA_CONSUMER ? 'C' : 'P';
    for (int i = 0; !bad && i < o->nprops; i++) {
        if (o->props_for[i] != 'X' && o->props_for[i] != which)
            continue;
        char name[256];
        const char *eq = strchr(o->props[i], '=');
        if (!eq || (size_t)(eq - o->props[i]) >= sizeof(name)) {
            fprintf(stderr, "bl_copier: %s: expected name=value\n", o->props[i]);
            bad = -1;
            break;
        }
        memcpy(name, o->props[i], (size_t)(eq - o->props[i]));
        name[eq - o->props[i]] = '\0';
        bad = conf_set(conf, name, eq + 1);
    }
    if (bad) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    if (type == RD_KAFKA_CONSUMER) {
        conf_set(conf, "enable.auto.offset.store", "false");
        rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
    } else {
        rd_kafka_conf_set_dr_msg_cb(conf, dr_msg_cb);
    }
    rd_kafka_conf_set_opaque(conf, c);
    char errstr[512];
    rd_kafka_t *rk = rd_kafka_new(type, conf, errstr, sizeof(errstr));
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        fprintf(stderr, "bl_copier: %s\n", errstr);
        return NULL;
    }
    /* conf is owned by rk now. */
    return rk;
}

static void copy_one(copier_t *c, rd_kafka_message_t *rkm)
{
    copy_inflight_t *in = malloc(sizeof(*in));
    in->partition = rkm->partition;
    in->offset = rkm->offset;
    in->generation = bl_offsets_begin(c->offsets, rkm->partition, rkm->offset);
    rd_kafka_headers_t *orig = NULL, *hdrs = NULL;
    if (rd_kafka_message_headers(rkm, &orig) == RD_KAFKA_RESP_ERR_NO_ERROR && orig)
        hdrs = rd_kafka_headers_copy(orig);
    for (;;) {
        rd_kafka_resp_err_t err = rd_kafka_producev(
            c->producer, RD_KAFKA_V_TOPIC(c->opts->output), RD_KAFKA_V_KEY(rkm->key, rkm->key_len),
            RD_KAFKA_V_VALUE(rkm->payload, rkm->len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE(in), RD_KAFKA_V_END);
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rd_kafka_poll(c->producer, 50);
            continue;
        }
        if (err) {
            /* Not done: its offset is never stored, as in byline. */
            fprintf(stderr, "bl_copier: produce: %s\n", rd_kafka_err2str(err));
            if (hdrs)
                rd_kafka_headers_destroy(hdrs);
            free(in);
            c->failed++;
            run = 0;
        }
        return;
    }
}

static void usage(void)
{
    fprintf(stderr, "usage: bl_copier -b BROKERS -i INPUT -o OUTPUT -g GROUP [-n STOP_AFTER]\n"
                    "                 [-X|-C|-P name=value]...\n");
}

int main(int argc, char **argv)
{
    copier_opts_t o = {0};
    int opt;
    while ((opt = getopt(argc, argv, "b:i:o:g:n:X:C:P:")) != -1) {
        switch (opt) {
        case 'b':
            o.brokers = optarg;
            break;
        case 'i':
            o.input = optarg;
            break;
        case 'o':
            o.output = optarg;
            break;
        case 'g':
            o.group = optarg;
            break;
        case 'n':
            o.stop_after = atol(optarg);
            break;
        case 'X':
        case 'C':
        case 'P':
            if (o.nprops == COPIER_MAX_PROPS) {
                usage();
                return 2;
            }
            o.props_for[o.nprops] = (char)opt;
            o.props[o.nprops++] = optarg;
            break;
        default:
            usage();
            return 2;
        }
    }
    if (!o.brokers || !o.input || !o.output || !o.group || optind != argc) {
        usage();
        return 2;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);

    copier_t c = {.opts = &o, .offsets = bl_offsets_new()};
    if (!(c.producer = client_new(&c, RD_KAFKA_PRODUCER)) ||
        !(c.consumer = client_new(&c, RD_KAFKA_CONSUMER))) {
        if (c.producer)
            rd_kafka_destroy(c.producer);
        bl_offsets_destroy(c.offsets);
        return 1;
    }
    rd_kafka_poll_set_consumer(c.consumer);
    rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, o.input, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t err = rd_kafka_subscribe(c.consumer, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (err) {
        fprintf(stderr, "bl_copier: subscribe %s: %s\n", o.input, rd_kafka_err2str(err));
        rd_kafka_destroy(c.consumer);
        rd_kafka_destroy(c.producer);
        bl_offsets_destroy(c.offsets);
        return 1;
    }

    int64_t started = now_ms(), last_store = started;
    long consumed = 0;
    while (run) {
        rd_kafka_message_t *rkm = rd_kafka_consumer_poll(c.consumer, 100);
        if (rkm) {
            if (!rkm->err) {
                consumed++;
                copy_one(&c, rkm);
            } else if (rkm->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                fprintf(stderr, "bl_copier: consume: %s\n", rd_kafka_message_errstr(rkm));
            }
            rd_kafka_message_destroy(rkm);
        }
        rd_kafka_poll(c.producer, 0);
        size_t inflight = bl_offsets_inflight(c.offsets, -1);
        if (!c.paused && inflight >= COPIER_MAX_INFLIGHT)
            set_paused(&c, 1);
        else if (c.paused && inflight < COPIER_MAX_INFLIGHT / 2)
            set_paused(&c, 0);
        int64_t t = now_ms();
        if (t - last_store >= COPIER_STORE_MS || !rkm) {
            store_offsets(&c);
            last_store = t;
        }
        if (o.stop_after && c.delivered >= o.stop_after && inflight == 0)
            break;
    }

    rd_kafka_flush(c.producer, 10000);
    store_offsets(&c);
    rd_kafka_commit(c.consumer, NULL, 0);
    rd_kafka_consumer_close(c.consumer);
    rd_kafka_destroy(c.consumer);
    int left = rd_kafka_outq_len(c.producer);
    if (left > 0) {
        rd_kafka_purge(c.producer, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_flush(c.producer, 1000);
    }
    rd_kafka_destroy(c.producer);
    bl_offsets_destroy(c.offsets);
    double secs = (double)(now_ms() - started) / 1000.0;
    printf("bl_copier: consumed %ld delivered %ld failed %ld bytes %lld in %.2f s\n", consumed,
           c.delivered, c.failed, c.bytes, secs);
    return c.failed || left > 0 ? 1 : 0;
}
