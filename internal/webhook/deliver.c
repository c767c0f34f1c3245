/*
 * deliver: the per-endpoint engine. One thread per endpoint owns a
 * consumer of the output topic (group "<group>.webhook.<name>"), a curl
 * multi handle and a dead-letter producer; nothing is shared between
 * endpoints, so one that is slow or down delays only itself.
 *
 * Offsets: a record is finished when delivered (2xx), filtered out or
 * dead-lettered (delivery report received). Per partition the held records
 * sit in offset order; the offset stored for commit is that of the first
 * unfinished one, so no commit ever covers pending work.
 */
#define _GNU_SOURCE /* pipe2 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "obs/log.h"
#include "obs/metrics.h"
#include "webhook/webhook_int.h"

#define WAIT_MAX_MS    100
#define CONSUME_BURST  500
#define FAILING_STREAK 3 /* consecutive failed attempts before pausing */
#define DLQ_RETRY_MS   5000
#define FULL_POLL_MS   200  /* poll interval while at the in-flight bound */
#define FULL_PAUSE_MS  1000 /* at the bound this long: pause the partitions */

typedef enum { REC_NEW = 0, REC_BATCHED, REC_DLQ, REC_DONE } rec_state_t;

typedef struct wh_rec wh_rec_t;

/* Lets a delivery report outlive a record abandoned on revoke. */
typedef struct dlq_ticket {
    wh_rec_t *rec; /* NULL once abandoned */
} dlq_ticket_t;

struct wh_rec {
    wh_rec_t *next; /* partition FIFO, offset order */
    int64_t offset;
    int32_t partition;
    rec_state_t state;
    char *payload;
    size_t payload_len;
    void *key;
    size_t key_len;
    char *record_id;
    dlq_ticket_t *ticket;
};

typedef struct wh_part {
    int assigned;
    int64_t next_fetch; /* offset after the last message taken; -1 = none yet */
    int64_t stored;     /* last offset stored; -1 = none */
    wh_rec_t *head, *tail;
    wh_rec_t *unsent; /* records before it are never REC_NEW */
    int dirty;
} wh_part_t;

typedef struct wh_batch wh_batch_t;
struct wh_batch {
    wh_batch_t *prev, *next;
    wh_rec_t **recs;
    int nrecs;
    int32_t partition;
    int attempts;
    int64_t first_attempt_ms;
    int64_t due_ms;
    int inflight;
    int dead_letter; /* 1: to be handed to the dead-letter producer when due */
    CURL *easy;
    struct curl_slist *headers;
    char *body;
    size_t body_len;
    int body_owned;
    char msg_id[BL_WH_ID_SIZE];
    long last_status;
    char last_error[CURL_ERROR_SIZE + 64];
    char curl_error[CURL_ERROR_SIZE];
    char retry_after[64];
};

struct bl_wh_endpoint {
    bl_webhooks_t *whs;
    const bl_wh_endpoint_conf_t *conf;
    const bl_config_t *cfg;
    char group_id[256];
    rd_kafka_t *rk;     /* consumer of the output topic */
    rd_kafka_t *dlq_rk; /* dead-letter producer; NULL when no topic */
    CURLM *multi;
    CURL **easy_pool;
    int neasy_pool;
    int wake_fd[2];
    pthread_t thread;
    int thread_started;
    atomic_int stop;
    atomic_int stop_timeout_ms;
    atomic_int fatal;
    char fatal_reason[512];

    wh_part_t *parts;
    int nparts;
    int rr_part; /* round-robin start for new batches */
    wh_batch_t *batches;
    int inflight;
    int64_t held;
    int failing_streak;
    int64_t hold_until_ms;
    int64_t full_since_ms; /* when held records reached max_pending; 0 = below */
    int64_t last_poll_ms;  /* 429/503 Retry-After: nothing is sent before it */
    int paused;
    int disabled;
    int cooperative;
    uint64_t rng;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double unit_random(bl_wh_endpoint_t *ep)
{
    /* xorshift64*: per-thread, no locks; jitter needs no crypto quality */
    ep->rng ^= ep->rng >> 12;
    ep->rng ^= ep->rng << 25;
    ep->rng ^= ep->rng >> 27;
    return (double)((ep->rng * UINT64_C(2685821657736338717)) >> 11) / 9007199254740992.0;
}

static void wake(bl_wh_endpoint_t *ep)
{
    ssize_t rc = write(ep->wake_fd[1], "w", 1);
    (void)rc; /* a full pipe already means "awake" */
}

static void set_fatal(bl_wh_endpoint_t *ep, const char *reason)
{
    if (atomic_load(&ep->fatal))
        return;
    snprintf(ep->fatal_reason, sizeof(ep->fatal_reason), "webhook %s: %s", ep->conf->name, reason);
    atomic_store(&ep->fatal, 1);
    bl_error("webhook.fatal", "%s", ep->fatal_reason);
}

/* ---------- partitions and records ---------- */

static wh_part_t *part_get(bl_wh_endpoint_t *ep, int32_t partition)
{
    if (partition < 0)
        return NULL;
    if (partition >= ep->nparts) {
        int n = partition + 1;
        ep->parts = realloc(ep->parts, sizeof(*ep->parts) * (size_t)n);
        for (int i = ep->nparts; i < n; i++) {
            memset(&ep->parts[i], 0, sizeof(ep->parts[i]));
            ep->parts[i].next_fetch = -1;
            ep->parts[i].stored = -1;
        }
        ep->nparts = n;
    }
    return &ep->parts[partition];
}

static void rec_free(wh_rec_t *rec)
{
    if (rec->ticket)
        rec->ticket->rec = NULL; /* the delivery report frees the ticket */
    free(rec->payload);
    free(rec->key);
    free(rec->record_id);
    free(rec);
}

/* The offset to commit: the first unfinished record, or past the last taken. */
static int64_t part_commit_pos(const wh_part_t *p)
{
    return p->head ? p->head->offset : p->next_fetch;
}

static void part_advance(bl_wh_endpoint_t *ep, wh_part_t *p)
{
    while (p->head && p->head->state == REC_DONE) {
        wh_rec_t *rec = p->head;
        p->head = rec->next;
        if (p->unsent == rec)
            p->unsent = rec->next;
        if (!p->head)
            p->tail = NULL;
        rec_free(rec);
        ep->held--;
        p->dirty = 1;
    }
}

static void rec_done(bl_wh_endpoint_t *ep, wh_rec_t *rec)
{
    rec->state = REC_DONE;
    wh_part_t *p = part_get(ep, rec->partition);
    if (p->head == rec)
        part_advance(ep, p);
}

/* Stores the commit position of every assigned partition that moved. */
static void store_offsets(bl_wh_endpoint_t *ep)
{
    rd_kafka_topic_partition_list_t *list = NULL;
    for (int i = 0; i < ep->nparts; i++) {
        wh_part_t *p = &ep->parts[i];
        if (!p->assigned || !p->dirty)
            continue;
        p->dirty = 0;
        int64_t pos = part_commit_pos(p);
        if (pos < 0 || pos <= p->stored)
            continue;
        if (!list)
            list = rd_kafka_topic_partition_list_new(8);
        rd_kafka_topic_partition_list_add(list, ep->cfg->output_topic, i)->offset = pos;
        p->stored = pos;
    }
    if (!list)
        return;
    rd_kafka_resp_err_t err = rd_kafka_offsets_store(ep->rk, list);
    if (err)
        bl_warn("webhook.offsets", "webhook %s: storing offsets: %s", ep->conf->name,
                rd_kafka_err2str(err));
    rd_kafka_topic_partition_list_destroy(list);
}

/* ---------- batches ---------- */

static void batch_link(bl_wh_endpoint_t *ep, wh_batch_t *b)
{
    b->prev = NULL;
    b->next = ep->batches;
    if (ep->batches)
        ep->batches->prev = b;
    ep->batches = b;
}

static void batch_unlink(bl_wh_endpoint_t *ep, wh_batch_t *b)
{
    if (b->prev)
        b->prev->next = b->next;
    else
        ep->batches = b->next;
    if (b->next)
        b->next->prev = b->prev;
}

static void easy_release(bl_wh_endpoint_t *ep, CURL *easy)
{
    if (ep->neasy_pool < ep->conf->concurrency) {
        curl_easy_reset(easy);
        ep->easy_pool[ep->neasy_pool++] = easy;
    } else {
        curl_easy_cleanup(easy);
    }
}

/* Ends the HTTP attempt of @p b, if any (its records stay with the batch). */
static void batch_stop_request(bl_wh_endpoint_t *ep, wh_batch_t *b)
{
    if (b->easy) {
        curl_multi_remove_handle(ep->multi, b->easy);
        easy_release(ep, b->easy);
        b->easy = NULL;
    }
    curl_slist_free_all(b->headers);
    b->headers = NULL;
    if (b->inflight) {
        b->inflight = 0;
        ep->inflight--;
    }
}

static void batch_free(bl_wh_endpoint_t *ep, wh_batch_t *b)
{
    batch_stop_request(ep, b);
    batch_unlink(ep, b);
    if (b->body_owned)
        free(b->body);
    free(b->recs);
    free(b);
}

static wh_batch_t *batch_new(bl_wh_endpoint_t *ep, int32_t partition, int capacity)
{
    wh_batch_t *b = calloc(1, sizeof(*b));
    b->recs = calloc((size_t)capacity, sizeof(*b->recs));
    b->partition = partition;
    batch_link(ep, b);
    return b;
}

/* Forms a batch from the next unsent records of one partition (round robin). */
static wh_batch_t *batch_form(bl_wh_endpoint_t *ep)
{
    for (int k = 0; k < ep->nparts; k++) {
        int i = (ep->rr_part + k) % ep->nparts;
        wh_part_t *p = &ep->parts[i];
        if (!p->assigned)
            continue;
        wh_rec_t *r = p->unsent;
        while (r && r->state != REC_NEW)
            r = r->next;
        p->unsent = r;
        if (!r)
            continue;
        wh_batch_t *b = batch_new(ep, i, (int)ep->conf->batch_size);
        while (r && b->nrecs < ep->conf->batch_size) {
            if (r->state == REC_NEW) {
                r->state = REC_BATCHED;
                b->recs[b->nrecs++] = r;
            }
            r = r->next;
        }
        p->unsent = r;
        ep->rr_part = (i + 1) % ep->nparts;

        bl_wh_ident_t idents[b->nrecs];
        for (int j = 0; j < b->nrecs; j++) {
            idents[j].record_id = b->recs[j]->record_id;
            idents[j].topic = ep->cfg->output_topic;
            idents[j].partition = b->recs[j]->partition;
            idents[j].offset = b->recs[j]->offset;
        }
        bl_wh_message_id(ep->conf->name, idents, b->nrecs, b->msg_id);
        if (ep->conf->batch_size == 1) {
            b->body = b->recs[0]->payload; /* borrowed: the record outlives the batch */
            b->body_len = b->recs[0]->payload_len;
        } else {
            size_t len = 2;
            for (int j = 0; j < b->nrecs; j++)
                len += b->recs[j]->payload_len + 1;
            b->body = malloc(len + 1);
            b->body_owned = 1;
            size_t used = 0;
            b->body[used++] = '[';
            for (int j = 0; j < b->nrecs; j++) {
                if (j)
                    b->body[used++] = ',';
                memcpy(b->body + used, b->recs[j]->payload, b->recs[j]->payload_len);
                used += b->recs[j]->payload_len;
            }
            b->body[used++] = ']';
            b->body[used] = '\0';
            b->body_len = used;
        }
        return b;
    }
    return NULL;
}

/* ---------- dead letters ---------- */

static void dlq_produce_batch(bl_wh_endpoint_t *ep, wh_batch_t *b)
{
    int remaining = 0;
    for (int j = 0; j < b->nrecs; j++) {
        wh_rec_t *rec = b->recs[j];
        if (!rec)
            continue;
        char status[24], attempts[24], partition[24], offset[24];
        snprintf(status, sizeof(status), "%ld", b->last_status);
        snprintf(attempts, sizeof(attempts), "%d", b->attempts);
        snprintf(partition, sizeof(partition), "%" PRId32, rec->partition);
        snprintf(offset, sizeof(offset), "%" PRId64, rec->offset);
        rd_kafka_headers_t *hdrs = rd_kafka_headers_new(8);
        rd_kafka_header_add(hdrs, "byline.webhook.endpoint", -1, ep->conf->name, -1);
        rd_kafka_header_add(hdrs, "byline.webhook.status", -1, status, -1);
        rd_kafka_header_add(hdrs, "byline.webhook.attempts", -1, attempts, -1);
        rd_kafka_header_add(hdrs, "byline.webhook.error", -1, b->last_error, -1);
        rd_kafka_header_add(hdrs, "byline.origin.topic", -1, ep->cfg->output_topic, -1);
        rd_kafka_header_add(hdrs, "byline.origin.partition", -1, partition, -1);
        rd_kafka_header_add(hdrs, "byline.origin.offset", -1, offset, -1);
        dlq_ticket_t *ticket = calloc(1, sizeof(*ticket));
        ticket->rec = rec;
        rd_kafka_resp_err_t err = rd_kafka_producev(
            ep->dlq_rk, RD_KAFKA_V_TOPIC(ep->cfg->webhook_dlq_topic),
            RD_KAFKA_V_VALUE(rec->payload, rec->payload_len),
            RD_KAFKA_V_KEY(rec->key, rec->key_len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE(ticket), RD_KAFKA_V_END);
        if (err) {
            /* local queue full or similar: keep it in the batch, try again later */
            rd_kafka_headers_destroy(hdrs);
            free(ticket);
            remaining++;
            continue;
        }
        rec->ticket = ticket;
        rec->state = REC_DLQ;
        b->recs[j] = NULL;
    }
    if (remaining) {
        b->due_ms = now_ms() + 100;
        return;
    }
    batch_free(ep, b);
}

/* Records of @p b go to the dead-letter topic, or (none configured) keep retrying. */
static void dead_letter(bl_wh_endpoint_t *ep, wh_batch_t *b)
{
    bl_warn("webhook.dead_letter", "webhook %s: %d record(s) to %s after %d attempt(s): %s",
            ep->conf->name, b->nrecs, ep->cfg->webhook_dlq_topic, b->attempts, b->last_error);
    for (int j = 0; j < b->nrecs; j++)
        bl_metrics_webhook(ep->conf->name, "dead_lettered");
    b->dead_letter = 1;
    dlq_produce_batch(ep, b);
}

static void dlq_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque)
{
    bl_wh_endpoint_t *ep = opaque;
    dlq_ticket_t *ticket = rkm->_private;
    wh_rec_t *rec = ticket ? ticket->rec : NULL;
    free(ticket);
    if (!rec)
        return; /* abandoned on revoke: it will be redelivered */
    rec->ticket = NULL;
    if (rkm->err) {
        bl_warn("webhook.dead_letter", "webhook %s: dead-letter produce failed (%s); retrying",
                ep->conf->name, rd_kafka_err2str(rkm->err));
        wh_batch_t *b = batch_new(ep, rec->partition, 1);
        b->recs[b->nrecs++] = rec;
        rec->state = REC_BATCHED;
        b->dead_letter = 1;
        snprintf(b->last_error, sizeof(b->last_error), "dead-letter produce retried");
        b->due_ms = now_ms() + DLQ_RETRY_MS;
        return;
    }
    rec_done(ep, rec);
}

/* ---------- HTTP ---------- */

static size_t discard_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    return size * nmemb;
}

static size_t on_header(char *buffer, size_t size, size_t nitems, void *userdata)
{
    wh_batch_t *b = userdata;
    size_t len = size * nitems;
    if (len > 12 && strncasecmp(buffer, "retry-after:", 12) == 0) {
        size_t start = 12, end = len;
        while (start < end && (buffer[start] == ' ' || buffer[start] == '\t'))
            start++;
        while (end > start &&
               (buffer[end - 1] == '\r' || buffer[end - 1] == '\n' || buffer[end - 1] == ' '))
            end--;
        size_t n =
            end - start < sizeof(b->retry_after) - 1 ? end - start : sizeof(b->retry_after) - 1;
        memcpy(b->retry_after, buffer + start, n);
        b->retry_after[n] = '\0';
    }
    return len;
}

static void batch_send(bl_wh_endpoint_t *ep, wh_batch_t *b, int64_t now)
{
    char ts[32], hdr[1024];
    int64_t timestamp = (int64_t)time(NULL);
    snprintf(ts, sizeof(ts), "%" PRId64, timestamp);
    struct curl_slist *h = NULL;
    h = curl_slist_append(h, "Content-Type: application/json");
    h = curl_slist_append(h, "Expect:"); /* no 100-continue round trip */
    h = curl_slist_append(h, "User-Agent: byline/" BYLINE_VERSION);
    snprintf(hdr, sizeof(hdr), "webhook-id: %s", b->msg_id);
    h = curl_slist_append(h, hdr);
    snprintf(hdr, sizeof(hdr), "webhook-timestamp: %s", ts);
    h = curl_slist_append(h, hdr);
    if (ep->conf->nkeys > 0) {
        memcpy(hdr, "webhook-signature: ", 19);
        if (bl_wh_sign(ep->conf->keys, ep->conf->nkeys, b->msg_id, timestamp, b->body, b->body_len,
                       hdr + 19, sizeof(hdr) - 19) > 0)
            h = curl_slist_append(h, hdr);
    }
    b->headers = h;

    CURL *easy = ep->neasy_pool > 0 ? ep->easy_pool[--ep->neasy_pool] : curl_easy_init();
    b->easy = easy;
    b->retry_after[0] = '\0';
    b->curl_error[0] = '\0';
    curl_easy_setopt(easy, CURLOPT_URL, ep->conf->url);
    curl_easy_setopt(easy, CURLOPT_POST, 1L);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, b->body);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)b->body_len);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)ep->conf->timeout_ms);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, (long)ep->conf->connect_timeout_ms);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, discard_body);
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, b);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, b->curl_error);
    curl_easy_setopt(easy, CURLOPT_PRIVATE, b);
    curl_multi_add_handle(ep->multi, easy);
    if (b->attempts == 0)
        b->first_attempt_ms = now;
    b->attempts++;
    b->inflight = 1;
    ep->inflight++;
}

static void on_response(bl_wh_endpoint_t *ep, wh_batch_t *b, CURLcode result)
{
    long status = 0;
    if (result == CURLE_OK)
        curl_easy_getinfo(b->easy, CURLINFO_RESPONSE_CODE, &status);
    batch_stop_request(ep, b);
    b->last_status = status;
    if (result != CURLE_OK)
        snprintf(b->last_error, sizeof(b->last_error), "%s",
                 b->curl_error[0] ? b->curl_error : curl_easy_strerror(result));
    else
        snprintf(b->last_error, sizeof(b->last_error), "HTTP %ld", status);
    int64_t now = now_ms();

    switch (bl_wh_classify(status)) {
    case BL_WH_OK:
        if (ep->failing_streak >= FAILING_STREAK)
            bl_info("webhook.recovered", "webhook %s: delivering again", ep->conf->name);
        ep->failing_streak = 0;
        for (int j = 0; j < b->nrecs; j++) {
            bl_metrics_webhook(ep->conf->name, "delivered");
            rec_done(ep, b->recs[j]);
        }
        batch_free(ep, b);
        return;
    case BL_WH_DISABLE:
        bl_error("webhook.disabled",
                 "webhook %s: answered 410 Gone; endpoint disabled until restart (records from "
                 "the first undelivered one stay in the topic, uncommitted)",
                 ep->conf->name);
        bl_metrics_webhook(ep->conf->name, "disabled");
        ep->disabled = 1;
        return;
    case BL_WH_ERROR:
        if (ep->cfg->webhook_dlq_topic && ep->cfg->webhook_dlq_topic[0]) {
            dead_letter(ep, b);
            return;
        }
        break; /* no dead-letter topic: never drop, keep retrying */
    case BL_WH_RETRY:
        break;
    }

    bl_metrics_webhook(ep->conf->name, "retry");
    if (++ep->failing_streak == FAILING_STREAK)
        bl_warn("webhook.failing", "webhook %s: failing (%s); pausing its partitions",
                ep->conf->name, b->last_error);
    else
        bl_debug("webhook.retry", "webhook %s: attempt %d failed: %s", ep->conf->name, b->attempts,
                 b->last_error);
    int has_dlq = ep->cfg->webhook_dlq_topic && ep->cfg->webhook_dlq_topic[0];
    if (has_dlq && now - b->first_attempt_ms >= ep->conf->retry_give_up_ms) {
        dead_letter(ep, b);
        return;
    }
    int64_t delay = -1;
    if (status == 429 || status == 503) {
        /* the endpoint asked everyone to slow down, not just this request */
        delay = bl_wh_retry_after_ms(b->retry_after[0] ? b->retry_after : NULL, time(NULL));
        if (delay >= 0) {
            if (now + delay > ep->hold_until_ms)
                ep->hold_until_ms = now + delay;
            if (ep->failing_streak < FAILING_STREAK)
                ep->failing_streak = FAILING_STREAK;
        }
    }
    if (delay < 0)
        delay = bl_wh_backoff_ms(ep->conf->retry_initial_ms, ep->conf->retry_max_ms, b->attempts,
                                 unit_random(ep));
    b->due_ms = now + delay;
}

static void read_responses(bl_wh_endpoint_t *ep)
{
    int running = 0, left = 0;
    curl_multi_perform(ep->multi, &running);
    CURLMsg *msg;
    while ((msg = curl_multi_info_read(ep->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        wh_batch_t *b = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&b);
        on_response(ep, b, msg->data.result);
        if (ep->disabled)
            return;
    }
}

/* Starts what may start now; returns the next time something is due (or INT64_MAX). */
static int64_t start_requests(bl_wh_endpoint_t *ep, int64_t now, int stopping)
{
    int64_t next_due = INT64_MAX;
    int failing = ep->failing_streak >= FAILING_STREAK;
    int limit = failing ? 1 : (int)ep->conf->concurrency;
    int waiting_retry = 0;
    if (now < ep->hold_until_ms) {
        stopping = 1; /* hand over dead letters only */
        next_due = ep->hold_until_ms;
    }
    wh_batch_t *b = ep->batches, *next;
    for (; b; b = next) {
        next = b->next;
        if (b->inflight)
            continue;
        if (b->due_ms > now) {
            if (b->due_ms < next_due)
                next_due = b->due_ms;
            waiting_retry++;
            continue;
        }
        if (b->dead_letter) {
            dlq_produce_batch(ep, b); /* may free b */
            continue;
        }
        if (stopping || ep->inflight >= limit) {
            waiting_retry++;
            continue;
        }
        batch_send(ep, b, now);
    }
    /* New records only while healthy; a failing endpoint probes with its retries. */
    while (!stopping && !(failing && waiting_retry) && ep->inflight < limit) {
        wh_batch_t *fresh = batch_form(ep);
        if (!fresh)
            break;
        batch_send(ep, fresh, now);
    }
    return next_due;
}

/* ---------- Kafka ---------- */

static void set_paused(bl_wh_endpoint_t *ep, int pause)
{
    if (pause == ep->paused)
        return;
    rd_kafka_topic_partition_list_t *assignment = NULL;
    if (rd_kafka_assignment(ep->rk, &assignment) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (pause)
            rd_kafka_pause_partitions(ep->rk, assignment);
        else
            rd_kafka_resume_partitions(ep->rk, assignment);
        rd_kafka_topic_partition_list_destroy(assignment);
    }
    ep->paused = pause;
}

static void take_message(bl_wh_endpoint_t *ep, rd_kafka_message_t *rkm)
{
    if (rkm->err) {
        if (rkm->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
            bl_warn("webhook.consume", "webhook %s: %s", ep->conf->name,
                    rd_kafka_message_errstr(rkm));
        return;
    }
    wh_part_t *p = part_get(ep, rkm->partition);
    if (!p || !p->assigned)
        return;
    if (p->next_fetch >= 0 && rkm->offset < p->next_fetch)
        return; /* already held or finished (refetch after a pause) */
    p->next_fetch = rkm->offset + 1;

    json_error_t jerr;
    json_t *record = json_loadb(rkm->payload, rkm->len, 0, &jerr);
    int wanted = record ? bl_wh_filter_match(ep->conf->filter, record) : 1;
    if (!wanted && !p->head) {
        /* nothing held before it: finished at once, no allocation */
        json_decref(record);
        p->dirty = 1;
        return;
    }
    wh_rec_t *rec = calloc(1, sizeof(*rec));
    rec->offset = rkm->offset;
    rec->partition = rkm->partition;
    rec->payload = malloc(rkm->len + 1);
    memcpy(rec->payload, rkm->payload, rkm->len);
    rec->payload[rkm->len] = '\0';
    rec->payload_len = rkm->len;
    if (rkm->key_len) {
        rec->key = malloc(rkm->key_len);
        memcpy(rec->key, rkm->key, rkm->key_len);
        rec->key_len = rkm->key_len;
    }
    const char *id = json_string_value(json_object_get(record, "id"));
    rec->record_id = strdup(id ? id : "");
    json_decref(record);
    rec->state = wanted ? REC_NEW : REC_DONE;
    if (p->tail)
        p->tail->next = rec;
    else
        p->head = rec;
    p->tail = rec;
    if (!p->unsent)
        p->unsent = rec;
    ep->held++;
    if (!record && ep->cfg->webhook_dlq_topic && ep->cfg->webhook_dlq_topic[0]) {
        /* not JSON: no receiver can use it; dead-letter instead of retrying forever */
        rec->state = REC_BATCHED;
        wh_batch_t *b = batch_new(ep, rec->partition, 1);
        b->recs[b->nrecs++] = rec;
        snprintf(b->last_error, sizeof(b->last_error), "record is not JSON: %s", jerr.text);
        dead_letter(ep, b);
    }
}

/* Drops everything held for partition @p i: in-flight requests are abandoned. */
static void part_abandon(bl_wh_endpoint_t *ep, int32_t i)
{
    wh_part_t *p = part_get(ep, i);
    wh_batch_t *b = ep->batches, *next;
    for (; b; b = next) {
        next = b->next;
        if (b->partition == i)
            batch_free(ep, b);
    }
    while (p->head) {
        wh_rec_t *rec = p->head;
        p->head = rec->next;
        rec_free(rec);
        ep->held--;
    }
    p->tail = p->unsent = NULL;
    p->assigned = 0;
    p->next_fetch = -1;
    p->stored = -1;
    p->dirty = 0;
}

static void on_revoke(bl_wh_endpoint_t *ep, rd_kafka_topic_partition_list_t *partitions)
{
    /* Dead letters in flight become finished (or not) before we decide. */
    if (ep->dlq_rk)
        rd_kafka_flush(ep->dlq_rk, 2000);
    for (int i = 0; i < partitions->cnt; i++) {
        wh_part_t *p = part_get(ep, partitions->elems[i].partition);
        if (p) {
            part_advance(ep, p);
            p->dirty = 1;
        }
    }
    store_offsets(ep);
    rd_kafka_resp_err_t err = rd_kafka_commit(ep->rk, NULL, 0);
    if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
        bl_warn("webhook.commit", "webhook %s: commit on revoke: %s", ep->conf->name,
                rd_kafka_err2str(err));
    int abandoned = 0;
    for (int i = 0; i < partitions->cnt; i++) {
        wh_part_t *p = part_get(ep, partitions->elems[i].partition);
        if (!p)
            continue;
        for (wh_rec_t *r = p->head; r; r = r->next)
            abandoned++;
        part_abandon(ep, partitions->elems[i].partition);
    }
    if (abandoned)
        bl_info("webhook.revoke",
                "webhook %s: %d partition(s) revoked; %d unfinished record(s) will be "
                "redelivered",
                ep->conf->name, partitions->cnt, abandoned);
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *partitions, void *opaque)
{
    bl_wh_endpoint_t *ep = opaque;
    /* known only once the group has chosen an assignor */
    ep->cooperative = !strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE");
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        for (int i = 0; i < partitions->cnt; i++) {
            wh_part_t *p = part_get(ep, partitions->elems[i].partition);
            if (p) {
                part_abandon(ep, partitions->elems[i].partition);
                p->assigned = 1;
            }
        }
        if (ep->cooperative)
            rd_kafka_error_destroy(rd_kafka_incremental_assign(rk, partitions));
        else
            rd_kafka_assign(rk, partitions);
        if (ep->paused)
            rd_kafka_pause_partitions(rk, partitions);
        bl_info("webhook.assign", "webhook %s: %d partition(s) assigned", ep->conf->name,
                partitions->cnt);
        return;
    }
    on_revoke(ep, partitions);
    if (ep->cooperative)
        rd_kafka_error_destroy(rd_kafka_incremental_unassign(rk, partitions));
    else
        rd_kafka_assign(rk, NULL);
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    bl_wh_endpoint_t *ep = opaque;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char why[256];
        rd_kafka_fatal_error(rk, why, sizeof(why));
        set_fatal(ep, why);
        return;
    }
    bl_warn("webhook.kafka", "webhook %s: %s: %s", ep->conf->name, rd_kafka_err2name(err), reason);
}

/* ---------- the thread ---------- */

static void drain_wake(bl_wh_endpoint_t *ep)
{
    char buf[64];
    while (read(ep->wake_fd[0], buf, sizeof(buf)) > 0)
        ;
}

static int wait_for_work(bl_wh_endpoint_t *ep, int timeout_ms)
{
    struct curl_waitfd extra = {.fd = ep->wake_fd[0], .events = CURL_WAIT_POLLIN};
    int numfds = 0;
    curl_multi_poll(ep->multi, &extra, 1, timeout_ms, &numfds);
    drain_wake(ep);
    return numfds;
}

static void *endpoint_thread(void *arg)
{
    bl_wh_endpoint_t *ep = arg;
    bl_info("webhook.start", "webhook %s: delivering from %s in group %s (%s)", ep->conf->name,
            ep->cfg->output_topic, ep->group_id,
            ep->conf->nkeys ? "signed" : "unsigned: no secret configured");
    while (!atomic_load(&ep->stop) && !ep->disabled && !atomic_load(&ep->fatal)) {
        /* At the in-flight bound, take nothing for a moment (a fast endpoint
         * frees room soon, and a pause would throw the prefetched messages
         * away); still poll now and then so rebalances are served. Past
         * FULL_PAUSE_MS the endpoint is slow: pause its partitions. */
        int64_t now = now_ms();
        int full = ep->held >= ep->conf->max_pending;
        if (!full)
            ep->full_since_ms = 0;
        else if (!ep->full_since_ms)
            ep->full_since_ms = now;
        int taken = 0, burst = full ? 1 : CONSUME_BURST;
        if (!full || ep->paused || now - ep->last_poll_ms >= FULL_POLL_MS) {
            rd_kafka_message_t *rkm;
            ep->last_poll_ms = now;
            while (taken < burst && (rkm = rd_kafka_consumer_poll(ep->rk, 0))) {
                take_message(ep, rkm);
                rd_kafka_message_destroy(rkm);
                taken++;
            }
        }
        /* responses first: the slots they free are refilled right away */
        read_responses(ep);
        if (ep->disabled)
            break;
        now = now_ms();
        int64_t next_due = start_requests(ep, now, 0);
        if (ep->dlq_rk)
            rd_kafka_poll(ep->dlq_rk, 0);
        store_offsets(ep);
        /* A failing endpoint is probed with the retries it holds; with none
         * left (all dead-lettered) it must fetch again or it would never
         * be probed, nor its later records ever dead-lettered. */
        int failing = ep->failing_streak >= FAILING_STREAK && ep->batches;
        if (failing || (ep->full_since_ms && now - ep->full_since_ms >= FULL_PAUSE_MS))
            set_paused(ep, 1);
        else if (ep->paused && ep->held <= ep->conf->max_pending / 2)
            set_paused(ep, 0);
        if (taken == CONSUME_BURST)
            continue;
        int64_t wait = WAIT_MAX_MS;
        now = now_ms();
        if (next_due != INT64_MAX && next_due - now < wait)
            wait = next_due > now ? next_due - now : 0;
        wait_for_work(ep, (int)wait);
    }

    /* Stopping: fetch nothing more, let in-flight requests finish in time. */
    set_paused(ep, 1);
    int64_t deadline =
        now_ms() +
        (atomic_load(&ep->fatal) || ep->disabled ? 0 : atomic_load(&ep->stop_timeout_ms));
    while (ep->inflight > 0 && now_ms() < deadline && !ep->disabled) {
        rd_kafka_message_t *rkm = rd_kafka_consumer_poll(ep->rk, 0);
        if (rkm) {
            take_message(ep, rkm);
            rd_kafka_message_destroy(rkm);
        }
        read_responses(ep);
        start_requests(ep, now_ms(), 1); /* only hands dead letters over */
        if (ep->dlq_rk)
            rd_kafka_poll(ep->dlq_rk, 0);
        int64_t left = deadline - now_ms();
        wait_for_work(ep, (int)(left < 50 ? (left > 0 ? left : 0) : 50));
    }
    if (ep->inflight > 0)
        bl_warn("webhook.stop",
                "webhook %s: %d request(s) still in flight abandoned; their "
                "records will be redelivered",
                ep->conf->name, ep->inflight);
    for (wh_batch_t *b = ep->batches; b; b = b->next)
        batch_stop_request(ep, b);
    if (ep->dlq_rk) {
        int64_t left = deadline - now_ms();
        rd_kafka_flush(ep->dlq_rk, (int)(left > 1000 ? left : 1000));
    }
    store_offsets(ep);
    /* consumer_close revokes: on_revoke stores, commits synchronously, frees */
    rd_kafka_consumer_close(ep->rk);
    bl_info("webhook.stop", "webhook %s: stopped%s", ep->conf->name,
            ep->disabled ? " (disabled by 410)" : "");
    return NULL;
}

static void endpoint_free(bl_wh_endpoint_t *ep)
{
    if (!ep)
        return;
    if (ep->rk)
        rd_kafka_destroy(ep->rk);
    for (int i = 0; i < ep->nparts; i++)
        part_abandon(ep, i);
    while (ep->batches)
        batch_free(ep, ep->batches);
    if (ep->dlq_rk) {
        rd_kafka_purge(ep->dlq_rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_flush(ep->dlq_rk, 1000); /* serves the reports, which free the tickets */
        rd_kafka_destroy(ep->dlq_rk);
    }
    for (int i = 0; i < ep->neasy_pool; i++)
        curl_easy_cleanup(ep->easy_pool[i]);
    free(ep->easy_pool);
    if (ep->multi)
        curl_multi_cleanup(ep->multi);
    if (ep->wake_fd[0] >= 0)
        close(ep->wake_fd[0]);
    if (ep->wake_fd[1] >= 0)
        close(ep->wake_fd[1]);
    free(ep->parts);
    free(ep);
}

static int conf_set(rd_kafka_conf_t *conf, const char *name, const char *value, char *errstr,
                    size_t errstr_size)
{
    if (rd_kafka_conf_set(conf, name, value, errstr, errstr_size) != RD_KAFKA_CONF_OK)
        return -1;
    return 0;
}

static bl_wh_endpoint_t *endpoint_new(bl_webhooks_t *whs, const bl_wh_endpoint_conf_t *wc,
                                      char *errstr, size_t errstr_size)
{
    const bl_config_t *cfg = whs->cfg;
    bl_wh_endpoint_t *ep = calloc(1, sizeof(*ep));
    ep->whs = whs;
    ep->conf = wc;
    ep->cfg = cfg;
    ep->wake_fd[0] = ep->wake_fd[1] = -1;
    ep->rng = (uint64_t)time(NULL) ^ ((uint64_t)(uintptr_t)ep << 16) ^ 0x9E3779B97F4A7C15ULL;
    bl_wh_group_id(cfg, wc->name, ep->group_id, sizeof(ep->group_id));
    const char *name_lower = ep->group_id + strlen(cfg->group_id) + strlen(".webhook.");
    char why[512], client_id[128];
    snprintf(client_id, sizeof(client_id), "byline-webhook-%s", name_lower);

    if (pipe2(ep->wake_fd, O_NONBLOCK | O_CLOEXEC)) {
        snprintf(errstr, errstr_size, "webhook %s: pipe: %s", wc->name, strerror(errno));
        goto fail;
    }

    /* consumer: pass-through first, then what correctness depends on */
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    /* one prefetch queue per endpoint: keep it modest (the default is 64 MB);
     * BYLINE_KAFKA_QUEUED_MAX_MESSAGES_KBYTES still overrides it */
    if (conf_set(conf, "queued.max.messages.kbytes", "16384", why, sizeof(why)) ||
        bl_config_kafka_apply(cfg, conf, BL_KAFKA_CONSUMER, errstr, errstr_size) ||
        conf_set(conf, "group.id", ep->group_id, why, sizeof(why)) ||
        conf_set(conf, "client.id", client_id, why, sizeof(why)) ||
        conf_set(conf, "enable.auto.offset.store", "false", why, sizeof(why)) ||
        conf_set(conf, "enable.partition.eof", "false", why, sizeof(why)) ||
        conf_set(conf, "auto.offset.reset", wc->start_earliest ? "earliest" : "latest", why,
                 sizeof(why))) {
        if (!errstr[0])
            snprintf(errstr, errstr_size, "webhook %s: consumer config: %s", wc->name, why);
        rd_kafka_conf_destroy(conf);
        goto fail;
    }
    rd_kafka_conf_set_opaque(conf, ep);
    rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
    rd_kafka_conf_set_error_cb(conf, error_cb);
    rd_kafka_conf_set_log_cb(conf, bl_log_rdkafka);
    ep->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof(why));
    if (!ep->rk) {
        snprintf(errstr, errstr_size, "webhook %s: consumer: %s", wc->name, why);
        rd_kafka_conf_destroy(conf);
        goto fail;
    }
    conf = NULL; /* owned by ep->rk */
    rd_kafka_poll_set_consumer(ep->rk);
    rd_kafka_queue_t *q = rd_kafka_queue_get_consumer(ep->rk);
    rd_kafka_queue_io_event_enable(q, ep->wake_fd[1], "k", 1);
    rd_kafka_queue_destroy(q);

    if (cfg->webhook_dlq_topic && cfg->webhook_dlq_topic[0]) {
        conf = rd_kafka_conf_new();
        snprintf(client_id, sizeof(client_id), "byline-webhook-%s-dlq", name_lower);
        if (conf_set(conf, "enable.idempotence", "true", why, sizeof(why)) ||
            conf_set(conf, "acks", "all", why, sizeof(why)) ||
            conf_set(conf, "client.id", client_id, why, sizeof(why)) ||
            bl_config_kafka_apply(cfg, conf, BL_KAFKA_PRODUCER, errstr, errstr_size)) {
            if (!errstr[0])
                snprintf(errstr, errstr_size, "webhook %s: producer config: %s", wc->name, why);
            rd_kafka_conf_destroy(conf);
            goto fail;
        }
        rd_kafka_conf_set_opaque(conf, ep);
        rd_kafka_conf_set_dr_msg_cb(conf, dlq_dr_cb);
        rd_kafka_conf_set_error_cb(conf, error_cb);
        rd_kafka_conf_set_log_cb(conf, bl_log_rdkafka);
        ep->dlq_rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof(why));
        if (!ep->dlq_rk) {
            snprintf(errstr, errstr_size, "webhook %s: dead-letter producer: %s", wc->name, why);
            rd_kafka_conf_destroy(conf);
            goto fail;
        }
        q = rd_kafka_queue_get_main(ep->dlq_rk);
        rd_kafka_queue_io_event_enable(q, ep->wake_fd[1], "p", 1);
        rd_kafka_queue_destroy(q);
    }

    ep->multi = curl_multi_init();
    curl_multi_setopt(ep->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)wc->concurrency);
    curl_multi_setopt(ep->multi, CURLMOPT_MAXCONNECTS, (long)wc->concurrency);
    ep->easy_pool = calloc((size_t)wc->concurrency, sizeof(*ep->easy_pool));

    rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, cfg->output_topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t err = rd_kafka_subscribe(ep->rk, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (err) {
        snprintf(errstr, errstr_size, "webhook %s: subscribe %s: %s", wc->name, cfg->output_topic,
                 rd_kafka_err2str(err));
        goto fail;
    }
    return ep;
fail:
    endpoint_free(ep);
    return NULL;
}

static void engines_free(bl_webhooks_t *whs)
{
    bl_webhooks_stop(whs, 0);
    for (int i = 0; i < whs->nconfs && whs->endpoints; i++)
        endpoint_free(whs->endpoints[i]);
    free(whs->endpoints);
    whs->endpoints = NULL;
}

int bl_webhooks_start(bl_webhooks_t *whs, char *errstr, size_t errstr_size)
{
    if (whs->started || whs->nconfs == 0)
        return 0;
    errstr[0] = '\0';
    curl_global_init(CURL_GLOBAL_DEFAULT);
    whs->engines_free = engines_free;
    whs->endpoints = calloc((size_t)whs->nconfs, sizeof(*whs->endpoints));
    for (int i = 0; i < whs->nconfs; i++) {
        whs->endpoints[i] = endpoint_new(whs, &whs->confs[i], errstr, errstr_size);
        if (!whs->endpoints[i])
            goto fail;
    }
    for (int i = 0; i < whs->nconfs; i++) {
        bl_wh_endpoint_t *ep = whs->endpoints[i];
        if (pthread_create(&ep->thread, NULL, endpoint_thread, ep)) {
            snprintf(errstr, errstr_size, "webhook %s: cannot start its thread", ep->conf->name);
            goto fail;
        }
        ep->thread_started = 1;
    }
    whs->started = 1;
    return 0;
fail:
    whs->started = 1; /* so stop joins what did start */
    engines_free(whs);
    whs->started = 0;
    return -1;
}

void bl_webhooks_stop(bl_webhooks_t *whs, int timeout_ms)
{
    if (!whs || !whs->started || !whs->endpoints)
        return;
    for (int i = 0; i < whs->nconfs; i++) {
        bl_wh_endpoint_t *ep = whs->endpoints[i];
        if (!ep || !ep->thread_started)
            continue;
        atomic_store(&ep->stop_timeout_ms, timeout_ms);
        atomic_store(&ep->stop, 1);
        wake(ep);
    }
    for (int i = 0; i < whs->nconfs; i++) {
        bl_wh_endpoint_t *ep = whs->endpoints[i];
        if (!ep || !ep->thread_started)
            continue;
        pthread_join(ep->thread, NULL);
        ep->thread_started = 0;
    }
}

int bl_webhooks_fatal(bl_webhooks_t *whs, char *errstr, size_t errstr_size)
{
    if (!whs || !whs->endpoints)
        return 0;
    for (int i = 0; i < whs->nconfs; i++) {
        bl_wh_endpoint_t *ep = whs->endpoints[i];
        if (ep && atomic_load(&ep->fatal)) {
            snprintf(errstr, errstr_size, "%s", ep->fatal_reason);
            return 1;
        }
    }
    return 0;
}
