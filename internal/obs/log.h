/*
 * log: JSON log lines on stderr, one object per line.
 * Any thread may call bl_log(); each line is written with one write(2), so
 * lines from different threads never interleave. Never pass a secret.
 */
#ifndef BL_LOG_H
#define BL_LOG_H

#include <stdarg.h>

typedef enum { BL_LOG_DEBUG = 0, BL_LOG_INFO, BL_LOG_WARN, BL_LOG_ERROR } bl_log_level_t;

/** @brief Sets the lowest level written (default INFO). Call before threads start. */
void bl_log_set_level(bl_log_level_t level);

/** @returns 0 and sets *level, or -1 when @p name is not debug|info|warn|error. */
int bl_log_level_parse(const char *name, bl_log_level_t *level);

/**
 * @brief Writes {"ts":..., "level":..., "event": event, "msg": <formatted>}.
 * @remark Thread-safe.
 */
void bl_log(bl_log_level_t level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/**
 * @brief librdkafka's log callback (rd_kafka_conf_set_log_cb): its lines
 *        become JSON log lines too (syslog levels 0-3 error, 4-5 warn, else debug).
 * @remark Called on librdkafka's threads.
 */
struct rd_kafka_s;
void bl_log_rdkafka(const struct rd_kafka_s *rk, int level, const char *fac, const char *buf);

#define bl_debug(ev, ...) bl_log(BL_LOG_DEBUG, ev, __VA_ARGS__)
#define bl_info(ev, ...)  bl_log(BL_LOG_INFO, ev, __VA_ARGS__)
#define bl_warn(ev, ...)  bl_log(BL_LOG_WARN, ev, __VA_ARGS__)
#define bl_error(ev, ...) bl_log(BL_LOG_ERROR, ev, __VA_ARGS__)

#endif
