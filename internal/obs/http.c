/*
 * http: /healthz, /readyz and /metrics over libmicrohttpd. We bind the
 * listening socket ourselves (exact error text, the real port when 0 was
 * asked) and hand it to MHD, whose internal polling thread serves requests.
 */
#include "obs/http.h"

#include "obs/log.h"
#include "obs/metrics.h"

#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Scrapers and probes are few; bound what a misbehaving client can hold. */
#define HTTP_CONNECTION_LIMIT     64
#define HTTP_CONNECTION_TIMEOUT_S 10

struct bl_http {
    struct MHD_Daemon *daemon;
    int port;
};

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char line[512];
    vsnprintf(line, sizeof(line), fmt, ap);
    line[strcspn(line, "\n")] = '\0';
    bl_warn("http_server", "%s", line);
}

static enum MHD_Result reply(struct MHD_Connection *connection, unsigned int status,
                             const char *content_type, char *body, size_t body_len,
                             enum MHD_ResponseMemoryMode mode)
{
    struct MHD_Response *response = MHD_create_response_from_buffer(body_len, body, mode);
    if (!response) {
        if (mode == MHD_RESPMEM_MUST_FREE)
            free(body);
        return MHD_NO;
    }
    MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    MHD_add_response_header(response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    enum MHD_Result result = MHD_queue_response(connection, status, response);
    MHD_destroy_response(response);
    return result;
}

static enum MHD_Result reply_text(struct MHD_Connection *connection, unsigned int status,
                                  const char *text)
{
    return reply(connection, status, "text/plain; charset=utf-8", (char *)text, strlen(text),
                 MHD_RESPMEM_MUST_COPY);
}

static enum MHD_Result handle_request(void *cls, struct MHD_Connection *connection, const char *url,
                                      const char *method, const char *version,
                                      const char *upload_data, size_t *upload_data_size,
                                      void **request_state)
{
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return reply_text(connection, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");

    if (strcmp(url, "/healthz") == 0)
        return reply_text(connection, MHD_HTTP_OK, "ok\n");

    if (strcmp(url, "/readyz") == 0) {
        char why[256], body[272];
        int ready = bl_health_ready(why, sizeof(why));
        snprintf(body, sizeof(body), "%s\n", ready ? "ready" : why);
        return reply_text(connection, ready ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, body);
    }

    if (strcmp(url, "/metrics") == 0) {
        char *body = NULL;
        size_t body_len = 0;
        FILE *out = open_memstream(&body, &body_len);
        if (!out)
            return reply_text(connection, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
        bl_metrics_render(out);
        fclose(out);
        return reply(connection, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", body,
                     body_len, MHD_RESPMEM_MUST_FREE);
    }

    return reply_text(connection, MHD_HTTP_NOT_FOUND,
                      "not found: try /healthz, /readyz, /metrics\n");
}

/* Splits "HOST:PORT", "[V6]:PORT" or ":PORT" into host (NULL = any) and port. */
static int split_addr(const char *addr, char *host, size_t host_size, char *port, size_t port_size)
{
    const char *colon;
    const char *host_start = addr;
    size_t host_len;
    if (addr[0] == '[') {
        const char *close = strchr(addr, ']');
        if (!close || close[1] != ':')
            return -1;
        host_start = addr + 1;
        host_len = (size_t)(close - host_start);
        colon = close + 1;
    } else {
        colon = strrchr(addr, ':');
        if (!colon)
            return -1;
        host_len = (size_t)(colon - addr);
    }
    const char *port_text = colon + 1;
    if (host_len >= host_size || !*port_text || strlen(port_text) >= port_size)
        return -1;
    char *end;
    long port_number = strtol(port_text, &end, 10);
    if (*end || port_number < 0 || port_number > 65535)
        return -1;
    memcpy(host, host_start, host_len);
    host[host_len] = '\0';
    memcpy(port, port_text, strlen(port_text) + 1);
    return 0;
}

/* Creates a listening socket; returns the fd and its family, or -1 with errstr set. */
static int listen_on(const char *addr, int *family, char *errstr, size_t errstr_size)
{
    char host[256], port[8];
    if (split_addr(addr, host, sizeof(host), port, sizeof(port)) != 0) {
        snprintf(errstr, errstr_size,
                 "invalid HTTP address \"%s\": expected HOST:PORT, [V6HOST]:PORT or :PORT", addr);
        return -1;
    }
    struct addrinfo hints = {0}, *found = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int gai = getaddrinfo(host[0] ? host : NULL, port, &hints, &found);
    if (gai != 0) {
        snprintf(errstr, errstr_size, "cannot resolve HTTP address \"%s\": %s", addr,
                 gai_strerror(gai));
        return -1;
    }
    int fd = -1, saved_errno = 0;
    for (struct addrinfo *ai = found; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            saved_errno = errno;
            continue;
        }
        int on = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 64) == 0) {
            *family = ai->ai_family;
            break;
        }
        saved_errno = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(found);
    if (fd < 0)
        snprintf(errstr, errstr_size, "cannot listen on %s: %s", addr, strerror(saved_errno));
    return fd;
}

bl_http_t *bl_http_start(const char *addr, char *errstr, size_t errstr_size)
{
    int family = AF_INET;
    int fd = listen_on(addr, &family, errstr, errstr_size);
    if (fd < 0)
        return NULL;

    struct sockaddr_storage bound;
    socklen_t bound_len = sizeof(bound);
    int port = -1;
    if (getsockname(fd, (struct sockaddr *)&bound, &bound_len) == 0) {
        if (bound.ss_family == AF_INET)
            port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
        else if (bound.ss_family == AF_INET6)
            port = ntohs(((struct sockaddr_in6 *)&bound)->sin6_port);
    }

    bl_http_t *http = calloc(1, sizeof(*http));
    if (!http) {
        close(fd);
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    http->port = port;
    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    if (family == AF_INET6)
        flags |= MHD_USE_IPv6;
    /* The port argument is ignored because MHD_OPTION_LISTEN_SOCKET is given. */
    http->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, handle_request, http,
        /* the logger must come first or MHD logs the options before it its own way */
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_LISTEN_SOCKET, fd,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int)HTTP_CONNECTION_LIMIT,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)HTTP_CONNECTION_TIMEOUT_S, MHD_OPTION_END);
    if (!http->daemon) {
        close(fd);
        free(http);
        snprintf(errstr, errstr_size, "cannot start the HTTP server on %s", addr);
        return NULL;
    }
    return http;
}

int bl_http_port(const bl_http_t *http)
{
    return http->port;
}

void bl_http_stop(bl_http_t *http)
{
    if (!http)
        return;
    /* Also closes the listening socket MHD was given. */
    MHD_stop_daemon(http->daemon);
    free(http);
}
