/*
 * metrics: process-wide counters, gauges and histograms rendered in the
 * Prometheus text format, plus the readiness state behind /readyz.
 * Every function is thread-safe and cheap enough for the per-message path.
 */
#ifndef BL_METRICS_H
#define BL_METRICS_H

#include <stdint.h>
#include <stdio.h>

/** @brief One input message consumed. */
void bl_metrics_consumed(void);
/** @brief One record delivered to the output topic. */
void bl_metrics_produced(void);
/** @brief One message dead-lettered, by reason ("invalid_utf8", ...). */
void bl_metrics_dead_lettered(const char *reason);
/** @brief Seconds from consume to "done" (delivered or dead-lettered). */
void bl_metrics_latency_observe(double seconds);
/** @brief Content figures of one enriched article. */
void bl_metrics_article(int has_published_date, int entities, int credits_agency);
/** @brief Consumer lag of one partition (high watermark - position). */
void bl_metrics_lag_set(const char *topic, int32_t partition, int64_t lag);
/** @brief One webhook outcome: result is delivered|retry|dead_lettered|disabled. */
void bl_metrics_webhook(const char *endpoint, const char *result);

/** @brief What /readyz answers: ready only when the broker is reachable and the group joined. */
void bl_health_set_broker_up(int up);
void bl_health_set_group_joined(int joined);
/** @returns 1 when ready; else 0 and the reason in @p why. */
int bl_health_ready(char *why, size_t why_size);

/** @brief Writes every metric in the Prometheus text format. */
void bl_metrics_render(FILE *out);

/** @brief Forgets the lag series of a partition no longer assigned (call on revoke). */
void bl_metrics_lag_remove(const char *topic, int32_t partition);
/** @brief Zeroes every metric and the readiness state. For tests. */
void bl_metrics_reset(void);

#endif
