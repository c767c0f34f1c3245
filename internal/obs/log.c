/*
 * log: JSON log lines on stderr. Thread-safe: the line is built in a local
 * buffer by jansson and written with a single write(2).
 */
#include "obs/log.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static bl_log_level_t log_level = BL_LOG_INFO;
static const char *level_names[] = {"debug", "info", "warn", "error"};

void bl_log_set_level(bl_log_level_t level)
{
    log_level = level;
}

int bl_log_level_parse(const char *name, bl_log_level_t *level)
{
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(name, level_names[i]) == 0) {
            *level = (bl_log_level_t)i;
            return 0;
        }
    }
    if (strcasecmp(name, "warning") == 0) {
        *level = BL_LOG_WARN;
        return 0;
    }
    return -1;
}

void bl_log(bl_log_level_t level, const char *event, const char *fmt, ...)
{
    if (level < log_level)
        return;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);

    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct tm tm;
    gmtime_r(&now.tv_sec, &tm);
    char ts[40];
    size_t n = strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts + n, sizeof(ts) - n, ".%03ldZ", now.tv_nsec / 1000000);

    json_t *line = json_object();
    json_object_set_new(line, "ts", json_string(ts));
    json_object_set_new(line, "level", json_string(level_names[level]));
    json_object_set_new(line, "event", json_string(event));
    /* The message may hold bytes from a broker or a peer: keep it valid UTF-8. */
    json_t *m = json_string(msg);
    if (!m)
        m = json_string("(message was not valid UTF-8)");
    json_object_set_new(line, "msg", m);
    char buf[4096];
    size_t len = json_dumpb(line, buf, sizeof(buf) - 1, JSON_COMPACT);
    json_decref(line);
    if (len == 0 || len >= sizeof(buf) - 1)
        return;
    buf[len++] = '\n';
    ssize_t rc = write(STDERR_FILENO, buf, len);
    (void)rc;
}

void bl_log_rdkafka(const struct rd_kafka_s *rk, int level, const char *fac, const char *buf)
{
    bl_log(level <= 3   ? BL_LOG_ERROR
           : level <= 5 ? BL_LOG_WARN
                        : BL_LOG_DEBUG,
           "librdkafka", "%s: %s", fac, buf);
}
