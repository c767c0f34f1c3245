/*
 * webhook internals shared by the module's files and its unit tests:
 * per-endpoint settings (webhook_conf.c), signing (sign.c), filters
 * (filter.c) and the retry policy (retry.c). Pure functions, any thread.
 */
#ifndef BL_WEBHOOK_INT_H
#define BL_WEBHOOK_INT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "webhook/webhook.h"

#define BL_WH_MAX_SECRETS   2
#define BL_WH_MAX_KEY_BYTES 128

/* ---------- filter.c ---------- */

typedef enum {
    BL_WH_F_ENTITY = 0,
    BL_WH_F_ENTITY_TYPE,
    BL_WH_F_AGENCY,
    BL_WH_F_PUBLISHER,
    BL_WH_F_PUBLISHED_AFTER,
    BL_WH_F_PUBLISHED_BEFORE,
} bl_wh_filter_key_t;

typedef struct bl_wh_filter bl_wh_filter_t;

/**
 * @brief Parses "key:value [AND|OR key:value]..." (AND binds tighter).
 * @returns the filter, or NULL with the reason in @p errstr.
 */
bl_wh_filter_t *bl_wh_filter_parse(const char *text, char *errstr, size_t errstr_size);

/** @returns 1 when @p record (a parsed output record) matches. NULL filter matches all. */
int bl_wh_filter_match(const bl_wh_filter_t *filter, const json_t *record);

/** @brief Accepts NULL. */
void bl_wh_filter_destroy(bl_wh_filter_t *filter);

/* ---------- sign.c ---------- */

typedef struct bl_wh_key {
    unsigned char bytes[BL_WH_MAX_KEY_BYTES];
    size_t len;
} bl_wh_key_t;

/**
 * @brief Decodes one "whsec_<base64>" secret into its HMAC key.
 * @returns 0, or -1 with the reason (never the secret) in @p errstr.
 */
int bl_wh_key_decode(const char *secret, bl_wh_key_t *key, char *errstr, size_t errstr_size);

/**
 * @brief Writes the webhook-signature header value: "v1,<b64>" per key,
 *        space-separated, HMAC-SHA256 of "<id>.<timestamp>.<body>".
 * @returns the length written, or -1 when @p out is too small.
 */
int bl_wh_sign(const bl_wh_key_t *keys, int nkeys, const char *msg_id, int64_t timestamp,
               const char *body, size_t body_len, char *out, size_t out_size);

/** One record's identity, which the webhook-id is derived from. */
typedef struct bl_wh_ident {
    const char *record_id; /* "id" of the record, "" when absent */
    const char *topic;
    int32_t partition;
    int64_t offset;
} bl_wh_ident_t;

/**
 * @brief webhook-id: "msg_" + 32 hex digits of SHA-256 over the endpoint
 *        name and each record's (id, topic, partition, offset). The same
 *        on every retry and after a restart (for one record per request).
 *        @p out must hold BL_WH_ID_SIZE bytes.
 */
#define BL_WH_ID_SIZE 40
void bl_wh_message_id(const char *endpoint, const bl_wh_ident_t *idents, int nidents,
                      char out[BL_WH_ID_SIZE]);

/* ---------- retry.c ---------- */

typedef enum {
    BL_WH_OK = 0,  /* 2xx */
    BL_WH_RETRY,   /* 408, 429, 5xx, timeouts, connection errors */
    BL_WH_ERROR,   /* other 4xx (and 1xx/3xx): dead-letter now */
    BL_WH_DISABLE, /* 410 Gone: stop delivering to this endpoint */
} bl_wh_result_t;

/** @brief Classifies an HTTP status (0 = no response: transport error). */
bl_wh_result_t bl_wh_classify(long http_status);

/**
 * @brief Full-jitter exponential backoff: a uniform draw in
 *        [0, min(max_ms, initial_ms * 2^(attempt-1))], attempt >= 1 being
 *        the attempt that just failed. @p unit_random is in [0, 1).
 */
int64_t bl_wh_backoff_ms(int64_t initial_ms, int64_t max_ms, int attempt, double unit_random);

/**
 * @brief Parses a Retry-After value: delay-seconds or an HTTP date.
 * @returns the delay in ms (0 for a date in the past), or -1 when invalid.
 */
int64_t bl_wh_retry_after_ms(const char *value, time_t now);

/* ---------- webhook_conf.c ---------- */

typedef struct bl_wh_endpoint_conf {
    char *name; /* as written in the variable, e.g. "CRM" */
    char *url;  /* never logged with credentials: log name only */
    bl_wh_key_t keys[BL_WH_MAX_SECRETS];
    int nkeys; /* 0 = unsigned */
    char *filter_text;
    bl_wh_filter_t *filter; /* NULL = everything */
    int64_t timeout_ms;
    int64_t connect_timeout_ms;
    int64_t concurrency;
    int64_t retry_initial_ms;
    int64_t retry_max_ms;
    int64_t retry_give_up_ms;
    int64_t batch_size;
    int64_t max_pending;
    int start_earliest;
} bl_wh_endpoint_conf_t;

/**
 * @brief Parses all endpoints of @p envp.
 * @returns 0 with a new array in *confs (count in *nconfs, free with
 *          bl_wh_confs_free), or -1 with one line naming the variable.
 */
int bl_wh_confs_parse(char **envp, bl_wh_endpoint_conf_t **confs, int *nconfs, char *errstr,
                      size_t errstr_size);
void bl_wh_confs_free(bl_wh_endpoint_conf_t *confs, int nconfs);

/* ---------- deliver.c ---------- */

typedef struct bl_wh_endpoint bl_wh_endpoint_t;

/** @brief The endpoint's consumer group: "<group>.webhook.<name in lower case>". */
void bl_wh_group_id(const bl_config_t *cfg, const char *name, char *out, size_t out_size);

struct bl_webhooks {
    const bl_config_t *cfg;
    bl_wh_endpoint_conf_t *confs;
    int nconfs;
    bl_wh_endpoint_t **endpoints; /* nconfs, after start */
    int started;
    /* set by bl_webhooks_start (deliver.c): stops and frees the engines.
     * A pointer, not a call, so the config code links without the engine. */
    void (*engines_free)(bl_webhooks_t *whs);
};

#endif
