/*
 * http: the operations HTTP server — /healthz (liveness), /readyz (readiness
 * from bl_health_ready) and /metrics (Prometheus text from bl_metrics_render).
 * It runs on libmicrohttpd's own polling thread; start and stop from main.
 */
#ifndef BL_HTTP_H
#define BL_HTTP_H

#include <stddef.h>

typedef struct bl_http bl_http_t;

/**
 * @brief Binds @p addr and starts serving on a thread of its own.
 * @param addr "HOST:PORT", "[V6HOST]:PORT" or ":PORT" (all interfaces);
 *        port 0 picks a free port (see bl_http_port()).
 * @returns the server, or NULL with one line in @p errstr (bad address,
 *          address in use, ...).
 * @remark Call from the main thread, before or after the pipeline starts.
 */
bl_http_t *bl_http_start(const char *addr, char *errstr, size_t errstr_size);

/** @returns the port actually bound (useful when port 0 was asked). */
int bl_http_port(const bl_http_t *http);

/** @brief Stops serving, waits for the server thread and frees. Accepts NULL. */
void bl_http_stop(bl_http_t *http);

#endif
