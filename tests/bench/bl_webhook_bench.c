/*
 * bl_webhook_bench: the two ends of the webhook benchmark.
 *
 *   bl_webhook_bench serve PORT
 *       A loopback HTTP receiver (libmicrohttpd, 2 threads) answering 204
 *       to every POST. GET /_stats -> "requests records first_us last_us";
 *       POST /_reset zeroes them. Records are counted by the "bench":1
 *       marker each benchmark record carries, so batched bodies count right.
 *   bl_webhook_bench post URL FILE CONCURRENCY BATCH
 *       The reference: a plain libcurl multi client posting FILE's lines
 *       (one JSON record each; BATCH > 1 sends JSON arrays of BATCH) with
 *       CONCURRENCY requests in flight over keep-alive connections.
 *
 * Built by webhook_bench.sh (cc + pkg-config); not part of the service.
 */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static atomic_llong requests, records, first_us, last_us;

static long long now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

struct upload {
    long long records;
    char tail[16]; /* marker split across chunks */
    size_t tail_len;
};

static long long count_markers(struct upload *up, const char *data, size_t len)
{
    static const char marker[] = "\"bench\":1";
    const size_t mlen = sizeof(marker) - 1;
    long long n = 0;
    /* stitch the previous chunk's tail to this chunk's head */
    char joint[32];
    size_t head = len < mlen - 1 ? len : mlen - 1;
    memcpy(joint, up->tail, up->tail_len);
    memcpy(joint + up->tail_len, data, head);
    for (const char *p = joint;
         (p = memmem(p, up->tail_len + head - (size_t)(p - joint), marker, mlen)); p++)
        n++;
    for (const char *p = data; (p = memmem(p, len - (size_t)(p - data), marker, mlen)); p++)
        n++;
    up->tail_len = len < mlen - 1 ? len : mlen - 1;
    memcpy(up->tail, data + len - up->tail_len, up->tail_len);
    return n;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *data_size, void **con_cls)
{
    struct MHD_Response *resp;
    enum MHD_Result ret;
    if (!strcmp(method, "GET")) {
        char body[160];
        int n = snprintf(body, sizeof(body), "%lld %lld %lld %lld\n", atomic_load(&requests),
                         atomic_load(&records), atomic_load(&first_us), atomic_load(&last_us));
        resp = MHD_create_response_from_buffer((size_t)n, body, MHD_RESPMEM_MUST_COPY);
        ret = MHD_queue_response(conn, 200, resp);
        MHD_destroy_response(resp);
        return ret;
    }
    struct upload *up = *con_cls;
    if (!up) {
        *con_cls = calloc(1, sizeof(*up));
        return MHD_YES;
    }
    if (*data_size) {
        up->records += count_markers(up, data, *data_size);
        *data_size = 0;
        return MHD_YES;
    }
    if (!strcmp(url, "/_reset")) {
        atomic_store(&requests, 0);
        atomic_store(&records, 0);
        atomic_store(&first_us, 0);
        atomic_store(&last_us, 0);
    } else {
        long long t = now_us(), zero = 0;
        atomic_compare_exchange_strong(&first_us, &zero, t);
        atomic_fetch_add(&requests, 1);
        atomic_fetch_add(&records, up->records);
        atomic_store(&last_us, t);
    }
    resp = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
    ret = MHD_queue_response(conn, 204, resp);
    MHD_destroy_response(resp);
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    free(*con_cls);
    *con_cls = NULL;
}

static int serve(int port)
{
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, (uint16_t)port, NULL, NULL, on_request,
        NULL, MHD_OPTION_THREAD_POOL_SIZE, 2, MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
        MHD_OPTION_CONNECTION_LIMIT, 1000, MHD_OPTION_CONNECTION_TIMEOUT, 60, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "bl_webhook_bench: cannot listen on %d\n", port);
        return 1;
    }
    fprintf(stderr, "bl_webhook_bench: receiver on 127.0.0.1:%d\n", port);
    for (;;)
        pause();
}

static int post(const char *url, const char *path, int concurrency, int batch)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        return 1;
    }
    char **lines = NULL;
    size_t nlines = 0, cap = 0, len = 0;
    char *line = NULL;
    ssize_t n;
    while ((n = getline(&line, &len, f)) > 0) {
        while (n > 0 && line[n - 1] == '\n')
            line[--n] = '\0';
        if (nlines == cap)
            lines = realloc(lines, sizeof(*lines) * (cap = cap ? cap * 2 : 1024));
        lines[nlines++] = strdup(line);
    }
    free(line);
    fclose(f);
    /* bodies built up front: the client measures HTTP, not string building */
    size_t nbodies = (nlines + (size_t)batch - 1) / (size_t)batch;
    char **bodies = calloc(nbodies, sizeof(*bodies));
    for (size_t b = 0; b < nbodies; b++) {
        size_t total = 3;
        for (size_t i = b * batch; i < nlines && i < (b + 1) * batch; i++)
            total += strlen(lines[i]) + 1;
        char *body = malloc(total), *p = body;
        if (batch > 1)
            *p++ = '[';
        for (size_t i = b * batch; i < nlines && i < (b + 1) * batch; i++) {
            if (i > b * batch)
                *p++ = ',';
            size_t l = strlen(lines[i]);
            memcpy(p, lines[i], l);
            p += l;
        }
        if (batch > 1)
            *p++ = ']';
        *p = '\0';
        bodies[b] = body;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURLM *multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)concurrency);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    h = curl_slist_append(h, "Expect:");
    size_t next = 0, done = 0;
    int inflight = 0, failed = 0;
    long long t0 = now_us();
    while (done < nbodies) {
        while (inflight < concurrency && next < nbodies) {
            CURL *e = curl_easy_init();
            curl_easy_setopt(e, CURLOPT_URL, url);
            curl_easy_setopt(e, CURLOPT_POSTFIELDS, bodies[next]);
            curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
            curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
            curl_multi_add_handle(multi, e);
            next++;
            inflight++;
        }
        int running;
        curl_multi_perform(multi, &running);
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(multi, &left))) {
            if (m->msg != CURLMSG_DONE)
                continue;
            long status = 0;
            curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &status);
            if (m->data.result != CURLE_OK || status / 100 != 2)
                failed++;
            curl_multi_remove_handle(multi, m->easy_handle);
            curl_easy_cleanup(m->easy_handle);
            inflight--;
            done++;
        }
        if (inflight == concurrency || next == nbodies)
            curl_multi_poll(multi, NULL, 0, 100, NULL);
    }
    double secs = (double)(now_us() - t0) / 1e6;
    printf("%zu records in %zu requests, %.3f s, %.0f records/s, %d failed\n", nlines, nbodies,
           secs, (double)nlines / secs, failed);
    curl_slist_free_all(h);
    curl_multi_cleanup(multi);
    return failed ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "serve"))
        return serve(atoi(argv[2]));
    if (argc == 6 && !strcmp(argv[1], "post"))
        return post(argv[2], argv[3], atoi(argv[4]), atoi(argv[5]));
    fprintf(stderr, "usage: bl_webhook_bench serve PORT | post URL FILE CONCURRENCY BATCH\n");
    return 2;
}
