/*
 * bl_mockfault: runs the real byline binary against librdkafka's mock
 * cluster (3 brokers on loopback ports) while injecting a fault scenario,
 * then checks that every input id reached the output topic.
 *
 *   bl_mockfault BYLINE_BIN SCENARIO N TIMEOUT_S WORKDIR
 *
 * Scenarios: produce-errors, broker-down, commit-errors, kill-restart.
 * Exit 0: nothing missing (duplicates are counted and printed); 1: ids
 * missing, byline crashed or exited non-zero, or the time bound was hit.
 * Single-threaded; byline runs as a child process.
 */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PARTITIONS        4
#define STAGE_MAX_S       5.0 /* seconds a fault stage may last */
#define API_PRODUCE       0
#define API_FETCH         1
#define API_OFFSET_COMMIT 8
#define API_HEARTBEAT     12

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static pid_t start_byline(const char *bin, const char *brokers, const char *logpath)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    FILE *log = fopen(logpath, "a");
    if (log)
        dup2(fileno(log), STDERR_FILENO);
    setenv("BYLINE_BROKERS", brokers, 1);
    setenv("BYLINE_INPUT_TOPIC", "in", 1);
    setenv("BYLINE_OUTPUT_TOPIC", "out", 1);
    setenv("BYLINE_DLQ_TOPIC", "dlq", 1);
    setenv("BYLINE_GROUP_ID", "byline-faults", 1);
    setenv("BYLINE_LOG_LEVEL", "info", 1);
    /* The mock cluster's group coordinator wants a short session. */
    setenv("BYLINE_KAFKA_CONSUMER_SESSION_TIMEOUT_MS", "6000", 1);
    setenv("BYLINE_KAFKA_CONSUMER_AUTO_COMMIT_INTERVAL_MS", "500", 1);
    execl(bin, bin, (char *)NULL);
    perror("exec byline");
    _exit(127);
}

static int produce_input(const char *brokers, int n)
{
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", brokers, err, sizeof(err));
    rd_kafka_conf_set(conf, "enable.idempotence", "true", err, sizeof(err));
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (!rk)
        return -1;
    for (int i = 0; i < n; i++) {
        char id[32], value[1024];
        snprintf(id, sizeof(id), "f-%06d", i);
        int len =
            snprintf(value, sizeof(value),
                     "{\"id\":\"%s\",\"published\":\"2022-01-%02d\",\"headline\":\"Fault test "
                     "article %d\",\"body\":\"Officials in Brussels said on Monday that the "
                     "European Union would meet again next week. Reuters reported the talks "
                     "with Germany and France lasted five hours.\"}",
                     id, 1 + i % 28, i);
        while (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC("in"), RD_KAFKA_V_KEY(id, strlen(id)),
                                 RD_KAFKA_V_VALUE(value, (size_t)len),
                                 RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                 RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(rk, 10);
    }
    int left = rd_kafka_flush(rk, 30000) ? rd_kafka_outq_len(rk) : 0;
    rd_kafka_destroy(rk);
    return left ? -1 : 0;
}

static rd_kafka_t *output_reader(const char *brokers)
{
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", brokers, err, sizeof(err));
    rd_kafka_conf_set(conf, "group.id", "bl-mockfault-reader", err, sizeof(err));
    rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof(err));
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    if (!rk)
        return NULL;
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(PARTITIONS);
    for (int i = 0; i < PARTITIONS; i++)
        rd_kafka_topic_partition_list_add(parts, "out", i)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(rk, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    return rk;
}

/* Parses "f-000123" out of a record's key. */
static int id_index(const rd_kafka_message_t *rkm, int n)
{
    if (!rkm->key || rkm->key_len != 8 || memcmp(rkm->key, "f-", 2) != 0)
        return -1;
    char buf[8];
    memcpy(buf, (const char *)rkm->key + 2, 6);
    buf[6] = '\0';
    int i = atoi(buf);
    return i >= 0 && i < n ? i : -1;
}

static long file_size(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fclose(f);
    return size;
}

/* Lines holding @p needle after byte @p from of the file. */
static int count_in_file(const char *path, const char *needle, long from)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    fseek(f, from, SEEK_SET);
    char line[4096];
    int n = 0;
    while (fgets(line, sizeof(line), f))
        n += strstr(line, needle) != NULL;
    fclose(f);
    return n;
}

/* A crash: SIGKILL, then a new byline; notes where its log begins. */
static pid_t kill_and_restart(pid_t pid, const char *bin, const char *brokers, const char *logpath,
                              long *log_start)
{
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    *log_start = file_size(logpath);
    return start_byline(bin, brokers, logpath);
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: bl_mockfault BYLINE_BIN SCENARIO N TIMEOUT_S WORKDIR\n");
        return 2;
    }
    const char *bin = argv[1], *scenario = argv[2], *workdir = argv[5];
    int n = atoi(argv[3]);
    double timeout_s = atof(argv[4]);
    char logpath[4096], err[512];
    snprintf(logpath, sizeof(logpath), "%s/byline.log", workdir);

    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "2", err, sizeof(err));
    rd_kafka_t *owner = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    rd_kafka_mock_cluster_t *mc = owner ? rd_kafka_mock_cluster_new(owner, 3) : NULL;
    if (!mc) {
        fprintf(stderr, "FAIL: cannot start the mock cluster: %s\n", err);
        return 1;
    }
    rd_kafka_mock_topic_create(mc, "in", PARTITIONS, 3);
    rd_kafka_mock_topic_create(mc, "out", PARTITIONS, 3);
    rd_kafka_mock_topic_create(mc, "dlq", 1, 3);
    const char *brokers = rd_kafka_mock_cluster_bootstraps(mc);
    if (produce_input(brokers, n) < 0) {
        fprintf(stderr, "FAIL: could not produce the input\n");
        return 1;
    }
    printf("mock cluster %s: %d input articles; scenario %s\n", brokers, n, scenario);

    long last_start = file_size(logpath); /* where the current byline's log begins */
    pid_t pid = start_byline(bin, brokers, logpath);
    rd_kafka_t *reader = output_reader(brokers);
    int *seen = calloc((size_t)n, sizeof(int));
    int distinct = 0, total = 0, stage = 0, restarts = 0, crashed = 0;
    /* A stage also ends after STAGE_MAX_S: a fault (a broker down) can hide
     * the output from this reader itself, and must end for it to go on. */
    double stage_started = 0;
    double start = now_s();
    while (distinct < n && now_s() - start < timeout_s) {
        rd_kafka_message_t *rkm = rd_kafka_consumer_poll(reader, 100);
        if (rkm) {
            if (!rkm->err) {
                int i = id_index(rkm, n);
                if (i >= 0) {
                    total++;
                    if (seen[i]++ == 0)
                        distinct++;
                }
            }
            rd_kafka_message_destroy(rkm);
        }
        int status;
        if (pid > 0 && waitpid(pid, &status, WNOHANG) == pid) {
            fprintf(stderr, "byline exited early (status %d)\n", status);
            crashed = 1;
            pid = -1;
            break;
        }
        /* Faults, each once, as the output grows. */
        double progress = (double)distinct / n;
        if (stage == 0 && progress > 0.10) {
            stage = 1;
            stage_started = now_s();
            if (strcmp(scenario, "produce-errors") == 0) {
                rd_kafka_mock_push_request_errors(
                    mc, API_PRODUCE, 12, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                    RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
                    RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
                    RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS, RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE,
                    RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND,
                    RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                    RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT);
                for (int p = 0; p < PARTITIONS; p++)
                    rd_kafka_mock_partition_set_leader(mc, "out", p, 1 + (p + 1) % 3);
                printf("injected 12 produce errors and moved every output leader\n");
            } else if (strcmp(scenario, "broker-down") == 0) {
                rd_kafka_mock_broker_set_down(mc, 2);
                printf("broker 2 down\n");
            } else if (strcmp(scenario, "commit-errors") == 0) {
                rd_kafka_mock_push_request_errors(
                    mc, API_OFFSET_COMMIT, 6, RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE,
                    RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR_NOT_COORDINATOR,
                    RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS,
                    RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
                    RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE);
                rd_kafka_mock_push_request_errors(
                    mc, API_FETCH, 4, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                    RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART,
                    RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION);
                printf("injected commit and fetch errors\n");
            } else if (strcmp(scenario, "kill-restart") == 0) {
                pid = kill_and_restart(pid, bin, brokers, logpath, &last_start);
                restarts++;
                printf("SIGKILLed byline at %d/%d and restarted it\n", distinct, n);
            }
        } else if (stage == 1 && (progress > 0.40 || now_s() - stage_started > STAGE_MAX_S)) {
            stage = 2;
            stage_started = now_s();
            if (strcmp(scenario, "broker-down") == 0) {
                rd_kafka_mock_broker_set_up(mc, 2);
                rd_kafka_mock_broker_set_down(mc, 3);
                rd_kafka_mock_broker_set_rtt(mc, 1, 300);
                printf("broker 2 up, broker 3 down, broker 1 slow (300 ms)\n");
            } else if (strcmp(scenario, "kill-restart") == 0) {
                pid = kill_and_restart(pid, bin, brokers, logpath, &last_start);
                restarts++;
                printf("SIGKILLed byline again at %d/%d and restarted it\n", distinct, n);
            }
        } else if (stage == 2 && (progress > 0.70 || now_s() - stage_started > STAGE_MAX_S)) {
            stage = 3;
            if (strcmp(scenario, "broker-down") == 0) {
                rd_kafka_mock_broker_set_up(mc, 3);
                rd_kafka_mock_broker_set_rtt(mc, 1, 0);
                printf("all brokers up\n");
            }
        }
    }
    /* A restarted byline must be up (joined) before it is asked to stop,
     * or the test would only exercise a kill during start-up. */
    for (int i = 0; pid > 0 && i < 300 && count_in_file(logpath, "assigned ", last_start) == 0; i++)
        usleep(100000);
    int exit_status = -1;
    if (pid > 0) {
        kill(pid, SIGTERM);
        for (int i = 0; i < 600 && waitpid(pid, &exit_status, WNOHANG) == 0; i++)
            usleep(100000);
        if (exit_status == -1) {
            kill(pid, SIGKILL);
            waitpid(pid, &exit_status, 0);
            fprintf(stderr, "byline did not stop within 60 s of SIGTERM\n");
        }
    }
    int missing = n - distinct;
    printf("%d ids: %d delivered, %d missing, %d duplicate deliveries, %d restart(s), %.1f s\n", n,
           distinct, missing, total - distinct, restarts, now_s() - start);
    int ok = missing == 0 && !crashed && pid > 0 && WIFEXITED(exit_status) &&
             WEXITSTATUS(exit_status) == 0;
    if (missing) {
        int shown = 0;
        for (int i = 0; i < n && shown < 10; i++)
            if (!seen[i]) {
                printf("missing: f-%06d\n", i);
                shown++;
            }
    }
    if (pid > 0 && !(WIFEXITED(exit_status) && WEXITSTATUS(exit_status) == 0))
        fprintf(stderr, "byline did not exit 0 on SIGTERM (status %d)\n", exit_status);
    free(seen);
    rd_kafka_consumer_close(reader);
    rd_kafka_destroy(reader);
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(owner);
    printf("%s: %s\n", scenario, ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
}
