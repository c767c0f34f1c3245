/*
 * config: the BYLINE_* variable table (one table drives parsing, validation,
 * defaults, --help and the README table) and the BYLINE_KAFKA_* pass-through
 * to librdkafka. Loaded once by main() before any thread starts.
 */
#ifndef BL_CONFIG_H
#define BL_CONFIG_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

typedef struct bl_config {
    char *brokers;
    char *group_id;
    char *input_topic;
    char *output_topic;
    char *dlq_topic;
    char *entities_topic; /* "" = off */
    char *webhook_dlq_topic;
    int64_t workers; /* 0 = one per CPU */
    int64_t max_message_bytes;
    int64_t dlq_max_value_bytes;
    int64_t shutdown_timeout_ms;
    int64_t revoke_timeout_ms;
    char *log_level;
    char *config_dir;
    char *gazetteer_files; /* "" = none */
    char *publisher_map;   /* "" = none */
    char *http_addr;       /* "" = off */
    /* BYLINE_KAFKA_* pass-through, as librdkafka property names/values */
    size_t nkafka;
    struct bl_kafka_prop {
        char *env;  /* the variable it came from, for error messages */
        char *name; /* librdkafka property */
        char *value;
        int role; /* BL_KAFKA_ANY, _CONSUMER or _PRODUCER */
    } * kafka;
} bl_config_t;

typedef enum { BL_KAFKA_ANY = 0, BL_KAFKA_CONSUMER = 1, BL_KAFKA_PRODUCER = 2 } bl_kafka_role_t;

/**
 * @brief Fills @p cfg from @p envp (NULL-terminated "NAME=value" strings,
 *        normally environ), applying defaults. `*_FILE` variants are read
 *        for secrets. Does not require BYLINE_BROKERS (the caller decides).
 * @returns 0, or -1 with one line in @p errstr naming the variable.
 */
int bl_config_load(bl_config_t *cfg, char **envp, char *errstr, size_t errstr_size);

/** @brief Frees what @p cfg owns. Accepts NULL. */
void bl_config_clear(bl_config_t *cfg);

/**
 * @brief Sets bootstrap.servers and every pass-through property meant for
 *        @p role on @p conf.
 * @returns 0, or -1 with "BYLINE_KAFKA_X: <librdkafka's error>" in @p errstr.
 */
int bl_config_kafka_apply(const bl_config_t *cfg, rd_kafka_conf_t *conf, bl_kafka_role_t role,
                          char *errstr, size_t errstr_size);

/** @brief Prints the variable table: as text (--help) or as a Markdown table. */
void bl_config_print_table(FILE *out, int markdown);

/**
 * @brief Reads a value that may come from NAME or from the file NAME_FILE
 *        (secrets). Trailing newlines of the file are dropped.
 * @returns a new string, NULL when neither is set, or NULL with errstr set
 *          when the file cannot be read (check errstr[0]).
 */
char *bl_config_getenv_secret(char **envp, const char *name, char *errstr, size_t errstr_size);

/** @returns the value of @p name in @p envp, or NULL. */
const char *bl_config_getenv(char **envp, const char *name);

#endif
