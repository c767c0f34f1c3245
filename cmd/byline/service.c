/*
 * `byline` (service mode): wires config, enricher, health server, webhooks
 * and the pipeline together, and maps the outcome to an exit code.
 */
#include <stdio.h>
#include <stdlib.h>

#include "byline.h"
#include "enrich/enrich.h"
#include "kafka/pipeline.h"
#include "obs/http.h"
#include "obs/log.h"
#include "webhook/webhook.h"

int bl_run_pipeline(bl_config_t *cfg, char **envp, int64_t stop_after, bl_webhooks_t **whs_out)
{
    char errstr[1024];
    bl_enricher_conf_t econf = {cfg->config_dir, cfg->gazetteer_files, cfg->publisher_map};
    bl_enricher_t *e = bl_enricher_new(&econf, errstr, sizeof(errstr));
    if (!e) {
        fprintf(stderr, "byline: configuration error: BYLINE_CONFIG_DIR: %s\n", errstr);
        return 2;
    }
    bl_webhooks_t *whs = bl_webhooks_new(cfg, envp, errstr, sizeof(errstr));
    if (!whs) {
        fprintf(stderr, "byline: configuration error: %s\n", errstr);
        bl_enricher_destroy(e);
        return 2;
    }
    bl_http_t *http = NULL;
    if (*cfg->http_addr && !(http = bl_http_start(cfg->http_addr, errstr, sizeof(errstr)))) {
        fprintf(stderr, "byline: configuration error: BYLINE_HTTP_ADDR: %s\n", errstr);
        bl_webhooks_destroy(whs);
        bl_enricher_destroy(e);
        return 2;
    }
    if (bl_webhooks_start(whs, errstr, sizeof(errstr)) < 0) {
        fprintf(stderr, "byline: configuration error: %s\n", errstr);
        bl_http_stop(http);
        bl_webhooks_destroy(whs);
        bl_enricher_destroy(e);
        return 2;
    }
    bl_pipeline_conf_t pconf = {
        .cfg = cfg, .enricher = e, .stop_after = stop_after, .webhooks = whs};
    int rc = bl_pipeline_run(&pconf, &bl_run, errstr, sizeof(errstr));
    if (rc == BL_PIPELINE_SETUP)
        fprintf(stderr, "byline: configuration error: %s\n", errstr);
    else if (rc == BL_PIPELINE_FATAL)
        bl_error("exit", "%s", errstr);
    if (whs_out && rc == BL_PIPELINE_OK) {
        *whs_out = whs; /* the demo waits for its deliveries, then stops it */
    } else {
        bl_webhooks_stop(whs, (int)cfg->shutdown_timeout_ms);
        bl_webhooks_destroy(whs);
    }
    bl_http_stop(http);
    bl_enricher_destroy(e);
    return rc == BL_PIPELINE_OK ? 0 : rc == BL_PIPELINE_SETUP ? 2 : 1;
}

int bl_cmd_service(bl_config_t *cfg, char **envp)
{
    if (!cfg->brokers) {
        fprintf(stderr, "byline: configuration error: BYLINE_BROKERS: not set; give the Kafka "
                        "bootstrap servers (host:port), or run `byline demo` to try byline "
                        "without Kafka\n");
        return 2;
    }
    return bl_run_pipeline(cfg, envp, 0, NULL);
}
