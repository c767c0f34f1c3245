/* The modes of the byline command, one file each; main.c picks one. */
#ifndef BYLINE_CMD_H
#define BYLINE_CMD_H

#include <signal.h>
#include <stdint.h>

#include "config/config.h"

extern volatile sig_atomic_t bl_run;

int bl_cmd_service(bl_config_t *cfg, char **envp);
int bl_cmd_demo(bl_config_t *cfg, char **envp);
struct bl_webhooks;
/** Runs the pipeline (service and demo); returns the exit code. */
int bl_run_pipeline(bl_config_t *cfg, char **envp, int64_t stop_after,
                    struct bl_webhooks **whs_out);
int bl_cmd_enrich(bl_config_t *cfg, int argc, char **argv);

#endif
