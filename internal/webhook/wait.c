/*
 * wait: how far each endpoint's consumer group has committed, read from
 * Kafka itself (the group's committed offsets against the output topic's
 * high watermarks). Main thread; used by `byline demo` to wait for its
 * endpoints before it exits.
 */
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "obs/log.h"
#include "webhook/webhook.h"
#include "webhook/webhook_int.h"

void bl_wh_group_id(const bl_config_t *cfg, const char *name, char *out, size_t out_size)
{
    char lower[64];
    size_t n = strlen(name);
    if (n >= sizeof(lower))
        n = sizeof(lower) - 1;
    for (size_t i = 0; i < n; i++)
        lower[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
    lower[n] = '\0';
    snprintf(out, out_size, "%s.webhook.%s", cfg->group_id, lower);
}

/* 1 when @p group has committed every partition of the output topic to its end. */
static int group_caught_up(const bl_config_t *cfg, const char *group)
{
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (bl_config_kafka_apply(cfg, conf, BL_KAFKA_CONSUMER, err, sizeof(err)) < 0 ||
        rd_kafka_conf_set(conf, "group.id", group, err, sizeof(err)) != RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(conf);
        return 0;
    }
    rd_kafka_conf_set_log_cb(conf, bl_log_rdkafka);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    if (!rk)
        return 0;
    int done = 0;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, cfg->output_topic, NULL);
    const rd_kafka_metadata_t *md = NULL;
    if (rd_kafka_metadata(rk, 0, rkt, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        md->topic_cnt == 1) {
        int nparts = md->topics[0].partition_cnt;
        rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(nparts);
        for (int i = 0; i < nparts; i++)
            rd_kafka_topic_partition_list_add(list, cfg->output_topic,
                                              md->topics[0].partitions[i].id);
        if (rd_kafka_committed(rk, list, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
            done = 1;
            for (int i = 0; i < list->cnt && done; i++) {
                int64_t low, high;
                if (rd_kafka_query_watermark_offsets(rk, cfg->output_topic,
                                                     list->elems[i].partition, &low, &high, 5000))
                    done = 0;
                else if (high > 0 && list->elems[i].offset < high)
                    done = 0;
            }
        }
        rd_kafka_topic_partition_list_destroy(list);
    }
    if (md)
        rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    return done;
}

int bl_webhooks_wait_caught_up(const bl_webhooks_t *whs, int timeout_ms)
{
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (int i = 0; whs && i < whs->nconfs; i++) {
        char group[256];
        bl_wh_group_id(whs->cfg, whs->confs[i].name, group, sizeof(group));
        for (;;) {
            if (group_caught_up(whs->cfg, group))
                break;
            clock_gettime(CLOCK_MONOTONIC, &now);
            long elapsed_ms =
                (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
            if (elapsed_ms >= timeout_ms) {
                bl_warn("webhook.wait", "webhook %s has not received every record yet",
                        whs->confs[i].name);
                return 0;
            }
            usleep(250 * 1000);
        }
    }
    return 1;
}
