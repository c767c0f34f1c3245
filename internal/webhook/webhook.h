/*
 * webhook: signed, retried, isolated HTTP delivery of output records.
 * Each endpoint reads the output topic in its own consumer group
 * ("<group>.webhook.<name>") on its own thread with its own curl multi
 * handle, so a slow or dead endpoint holds back nothing but itself.
 * The functions below are called by main() only (one thread).
 */
#ifndef BL_WEBHOOK_H
#define BL_WEBHOOK_H

#include <stddef.h>
#include <stdio.h>

#include "config/config.h"

typedef struct bl_webhooks bl_webhooks_t;

/**
 * @brief Reads every BYLINE_WEBHOOK_<NAME>_* variable of @p envp.
 *        @p cfg must outlive the returned object (brokers, group id,
 *        output and dead-letter topics, BYLINE_KAFKA_* pass-through).
 * @returns an object holding 0..N endpoints, or NULL with one line in
 *          @p errstr naming the bad variable.
 */
bl_webhooks_t *bl_webhooks_new(const bl_config_t *cfg, char **envp, char *errstr,
                               size_t errstr_size);

/** @returns the number of endpoints configured. */
int bl_webhooks_count(const bl_webhooks_t *whs);

/**
 * @brief Creates each endpoint's consumer, dead-letter producer and curl
 *        multi handle, then starts one thread per endpoint.
 * @returns 0, or -1 with the reason in @p errstr (nothing left running).
 */
int bl_webhooks_start(bl_webhooks_t *whs, char *errstr, size_t errstr_size);

/**
 * @brief Stops consuming, lets requests in flight finish for up to
 *        @p timeout_ms (then abandons them: they are redelivered after a
 *        restart), stores and commits what is done, closes the consumers.
 *        Returns when every endpoint thread has ended. Safe to call twice.
 */
void bl_webhooks_stop(bl_webhooks_t *whs, int timeout_ms);

/** @brief Frees everything. Stops first if still running. Accepts NULL. */
void bl_webhooks_destroy(bl_webhooks_t *whs);

/**
 * @returns 1 when an endpoint hit a fatal Kafka error (librdkafka
 *          RD_KAFKA_RESP_ERR__FATAL) and stopped; the cause is in @p errstr.
 *          main() should then exit non-zero (nothing is lost: offsets
 *          covering unfinished work were never committed). Thread-safe.
 */
int bl_webhooks_fatal(bl_webhooks_t *whs, char *errstr, size_t errstr_size);

/**
 * @brief Waits until every endpoint's consumer group has committed the end
 *        of the output topic (every record delivered, filtered out or
 *        dead-lettered), or @p timeout_ms passes. For `byline demo`.
 * @returns 1 when caught up, 0 on timeout.
 */
int bl_webhooks_wait_caught_up(const bl_webhooks_t *whs, int timeout_ms);

/** @brief Prints the per-endpoint variable table: text, or Markdown when @p markdown. */
void bl_webhooks_print_help(FILE *out, int markdown);

#endif
