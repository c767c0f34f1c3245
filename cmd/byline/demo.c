/*
 * `byline demo`: the service's own pipeline against an in-process Kafka
 * cluster (librdkafka's mock cluster), fed with the demo articles; prints
 * every record from the output topic, then exits. Nothing is kept.
 */
#include <dirent.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "byline.h"
#include "obs/log.h"
#include "webhook/webhook.h"

#define DEMO_PARTITIONS 3

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Produces every demo file as one message; returns how many, -1 on error. */
static int load_demo(const char *bootstraps, const char *dir, const char *topic)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "byline: demo: cannot open %s (BYLINE_CONFIG_DIR)\n", dir);
        return -1;
    }
    char *names[256];
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < 256) {
        size_t len = strlen(de->d_name);
        if (len > 4 && strcmp(de->d_name + len - 4, ".txt") == 0)
            names[n++] = strdup(de->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof(names[0]), cmp_str);

    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps, err, sizeof(err));
    rd_kafka_conf_set_log_cb(conf, bl_log_rdkafka);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    int produced = 0;
    for (int i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        FILE *f = fopen(path, "rb");
        if (f) {
            char *buf = malloc(1 << 20);
            size_t len = fread(buf, 1, 1 << 20, f);
            fclose(f);
            if (rk && !rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_VALUE(buf, len),
                                         RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_FREE), RD_KAFKA_V_END))
                produced++;
            else
                free(buf);
        }
        free(names[i]);
    }
    if (rk) {
        rd_kafka_flush(rk, 10000);
        rd_kafka_destroy(rk);
    }
    return produced;
}

/* Reads @p expect records of the output topic from the start and prints them. */
static int print_records(const char *bootstraps, const char *topic, int expect)
{
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps, err, sizeof(err));
    rd_kafka_conf_set(conf, "group.id", "byline-demo-printer", err, sizeof(err));
    rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof(err));
    rd_kafka_conf_set_log_cb(conf, bl_log_rdkafka);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    if (!rk)
        return -1;
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(DEMO_PARTITIONS);
    for (int i = 0; i < DEMO_PARTITIONS; i++)
        rd_kafka_topic_partition_list_add(parts, topic, i)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(rk, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    int got = 0;
    for (int tries = 0; got < expect && tries < 300 && bl_run; tries++) {
        rd_kafka_message_t *rkm = rd_kafka_consumer_poll(rk, 100);
        if (!rkm)
            continue;
        if (!rkm->err) {
            fwrite(rkm->payload, 1, rkm->len, stdout);
            fputc('\n', stdout);
            got++;
        }
        rd_kafka_message_destroy(rkm);
    }
    fflush(stdout);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return got;
}

int bl_cmd_demo(bl_config_t *cfg, char **envp)
{
    bl_warn("demo", "demo mode: an in-process Kafka cluster (librdkafka's mock cluster); nothing "
                    "is kept. Set BYLINE_BROKERS and run `byline` for the service.");
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof(err)); /* it has no brokers: quiet */
    rd_kafka_conf_set_log_cb(conf, bl_log_rdkafka);
    rd_kafka_t *owner = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (!owner) {
        fprintf(stderr, "byline: demo: %s\n", err);
        return 1;
    }
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(owner, 1);
    if (!mc) {
        fprintf(stderr, "byline: demo: cannot start the in-process cluster\n");
        rd_kafka_destroy(owner);
        return 1;
    }
    const char *topics[] = {cfg->input_topic, cfg->output_topic, cfg->dlq_topic,
                            cfg->webhook_dlq_topic};
    for (int i = 0; i < 4; i++)
        rd_kafka_mock_topic_create(mc, topics[i], DEMO_PARTITIONS, 1);
    free(cfg->brokers);
    cfg->brokers = strdup(rd_kafka_mock_cluster_bootstraps(mc));

    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/demo", cfg->config_dir);
    int n = load_demo(cfg->brokers, dir, cfg->input_topic);
    int rc = 1;
    if (n <= 0) {
        fprintf(stderr, "byline: demo: no demo articles loaded from %s\n", dir);
    } else {
        bl_info("demo", "loaded %d demo article(s) into %s", n, cfg->input_topic);
        bl_webhooks_t *whs = NULL;
        rc = bl_run_pipeline(cfg, envp, n, &whs);
        if (rc == 0) {
            int got = print_records(cfg->brokers, cfg->output_topic, n);
            if (got != n) {
                fprintf(stderr, "byline: demo: read %d of %d records back\n", got, n);
                rc = 1;
            }
            if (whs && bl_webhooks_count(whs) > 0) {
                bl_info("demo", "giving webhook endpoints up to %lld ms to receive the records",
                        (long long)cfg->shutdown_timeout_ms);
                bl_webhooks_wait_caught_up(whs, (int)cfg->shutdown_timeout_ms);
            }
            bl_webhooks_stop(whs, (int)cfg->shutdown_timeout_ms);
            bl_webhooks_destroy(whs);
        }
    }
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(owner);
    return rc;
}
