/*
 * byline: parses the command line, loads the configuration and picks a
 * mode (service, demo, enrich). Signals only clear the run flag.
 */
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "byline.h"
#include "config/config.h"
#include "enrich/json_arena.h"
#include "obs/log.h"
#include "webhook/webhook.h"

extern char **environ;

volatile sig_atomic_t bl_run = 1;

static void on_signal(int sig)
{
    bl_run = 0;
}

static void usage(FILE *out)
{
    fprintf(out,
            "byline %s - enriches news articles from Kafka with dates, sources and entities\n"
            "\n"
            "Usage:\n"
            "  byline              run the service (configured by environment variables)\n"
            "  byline demo         run the whole pipeline on an in-process Kafka cluster with the\n"
            "                      demo articles and print the records (keeps nothing)\n"
            "  byline enrich [FILE...]  enrich files (or stdin), one JSON record per line\n"
            "  byline --help | --version\n"
            "\n"
            "Environment:\n",
            BYLINE_VERSION);
    bl_config_print_table(out, 0);
    fprintf(out, "\nWebhook endpoints (any number, NAME = letters and digits):\n");
    bl_webhooks_print_help(out, 0);
    fprintf(out, "\nExit codes: 0 stopped cleanly, 1 fatal runtime error, 2 bad configuration.\n");
}

int main(int argc, char **argv)
{
    /* First: a SIGTERM during start-up must also mean "stop cleanly". */
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    bl_json_arena_install(); /* before any jansson value exists */
#ifdef M_ARENA_MAX
    /* Records are built in the per-thread jansson arena; what else is
     * malloc'd per message is small. glibc's default of one malloc arena per
     * thread (workers, librdkafka's) only keeps freed memory resident: two
     * arenas cut the peak RSS at a backlog by ~5 MB at no measured cost. */
    mallopt(M_ARENA_MAX, 2);
#endif

    const char *mode = argc > 1 ? argv[1] : "";
    if (strcmp(mode, "--help") == 0 || strcmp(mode, "-h") == 0 || strcmp(mode, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(mode, "--version") == 0) {
        printf("byline %s\n", BYLINE_VERSION);
        return 0;
    }
    if (strcmp(mode, "--config-table") == 0) { /* the README's table */
        bl_config_print_table(stdout, 1);
        printf("\nWebhook endpoints: any number, each named by its `<NAME>` (letters and "
               "digits).\n\n");
        bl_webhooks_print_help(stdout, 1);
        return 0;
    }
    if (*mode && strcmp(mode, "demo") != 0 && strcmp(mode, "enrich") != 0 &&
        strcmp(mode, "service") != 0) {
        fprintf(stderr, "byline: unknown command \"%s\" (see byline --help)\n", mode);
        return 2;
    }

    bl_config_t cfg;
    char errstr[1024];
    if (bl_config_load(&cfg, environ, errstr, sizeof(errstr)) < 0) {
        fprintf(stderr, "byline: configuration error: %s\n", errstr);
        bl_config_clear(&cfg);
        return 2;
    }
    bl_log_level_t level;
    bl_log_level_parse(cfg.log_level, &level);
    bl_log_set_level(level);

    int rc;
    if (strcmp(mode, "demo") == 0)
        rc = bl_cmd_demo(&cfg, environ);
    else if (strcmp(mode, "enrich") == 0)
        rc = bl_cmd_enrich(&cfg, argc - 2, argv + 2);
    else
        rc = bl_cmd_service(&cfg, environ);
    bl_config_clear(&cfg);
    return rc;
}
