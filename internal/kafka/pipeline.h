/*
 * pipeline: the service loop. Consumes the input topic in a group, decodes
 * and enriches each message on the consumer thread, produces the record
 * (or a dead letter) with an idempotent producer, and stores an offset only
 * when it and every earlier offset of its partition are delivered.
 * Everything here runs on the calling thread, delivery reports included.
 */
#ifndef BL_PIPELINE_H
#define BL_PIPELINE_H

#include <signal.h>
#include <stdint.h>

#include "config/config.h"
#include "enrich/enrich.h"

typedef struct bl_pipeline_conf {
    const bl_config_t *cfg;
    const bl_enricher_t *enricher;
    /* Stop once this many messages are done and committed (0 = run until
     * the run flag clears). Used by `byline demo`. */
    int64_t stop_after;
    /* Webhook endpoints running beside the pipeline (may be NULL): a
     * fatal error of theirs stops the pipeline too. */
    struct bl_webhooks *webhooks;
} bl_pipeline_conf_t;

/** Exit codes of bl_pipeline_run(). */
#define BL_PIPELINE_OK 0 /* stopped on request, drained and committed */
#define BL_PIPELINE_FATAL                                                                          \
    1 /* fatal Kafka error or undeliverable record; nothing past it committed */
#define BL_PIPELINE_SETUP 2 /* a client could not be created (bad configuration) */

/**
 * @brief Runs until *@p run becomes 0 (signal) or conf->stop_after is reached.
 * @returns BL_PIPELINE_OK, _FATAL or _SETUP, with the reason in @p errstr.
 */
int bl_pipeline_run(const bl_pipeline_conf_t *conf, volatile sig_atomic_t *run, char *errstr,
                    size_t errstr_size);

#endif
