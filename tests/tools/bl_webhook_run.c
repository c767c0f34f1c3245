/*
 * bl_webhook_run: runs only the webhook engine (bl_webhooks_new/start/stop)
 * with the process environment, until SIGTERM/SIGINT. Lets the webhook
 * tests and benchmark drive delivery without the rest of the service.
 * Exit: 0 after a clean stop, 2 on bad configuration, 1 on a fatal error.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "obs/log.h"
#include "webhook/webhook.h"

extern char **environ;
static volatile sig_atomic_t run = 1;

static void on_signal(int sig)
{
    run = 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "--markdown"))) {
        bl_webhooks_print_help(stdout, !strcmp(argv[1], "--markdown"));
        return 0;
    }
    bl_config_t cfg;
    memset(&cfg, 0, sizeof(cfg));
    char errstr[512] = "";
    if (bl_config_load(&cfg, environ, errstr, sizeof(errstr))) {
        fprintf(stderr, "bl_webhook_run: %s\n", errstr);
        return 2;
    }
    bl_log_level_t level;
    if (bl_log_level_parse(cfg.log_level, &level) == 0)
        bl_log_set_level(level);
    if (!cfg.brokers || !cfg.brokers[0]) {
        fprintf(stderr, "bl_webhook_run: BYLINE_BROKERS is required\n");
        return 2;
    }
    bl_webhooks_t *whs = bl_webhooks_new(&cfg, environ, errstr, sizeof(errstr));
    if (!whs) {
        fprintf(stderr, "bl_webhook_run: %s\n", errstr);
        bl_config_clear(&cfg);
        return 2;
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    if (bl_webhooks_start(whs, errstr, sizeof(errstr))) {
        fprintf(stderr, "bl_webhook_run: %s\n", errstr);
        bl_webhooks_destroy(whs);
        bl_config_clear(&cfg);
        return 2;
    }
    int rc = 0;
    while (run) {
        usleep(100 * 1000);
        if (bl_webhooks_fatal(whs, errstr, sizeof(errstr))) {
            fprintf(stderr, "bl_webhook_run: fatal: %s\n", errstr);
            rc = 1;
            break;
        }
    }
    bl_webhooks_stop(whs, (int)cfg.shutdown_timeout_ms);
    bl_webhooks_destroy(whs);
    bl_config_clear(&cfg);
    return rc;
}
