/* Unit tests of the variable table and the librdkafka pass-through. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/config.h"

static int load(bl_config_t *cfg, char **envp, char *errstr, size_t size)
{
    int rc = bl_config_load(cfg, envp, errstr, size);
    if (rc < 0)
        bl_config_clear(cfg);
    return rc;
}

static void test_defaults(void **state)
{
    char *env[] = {"PATH=/bin", NULL};
    bl_config_t cfg;
    char errstr[512];
    assert_int_equal(load(&cfg, env, errstr, sizeof(errstr)), 0);
    assert_null(cfg.brokers);
    assert_string_equal(cfg.group_id, "byline");
    assert_string_equal(cfg.input_topic, "articles.raw");
    assert_string_equal(cfg.output_topic, "articles.enriched");
    assert_string_equal(cfg.dlq_topic, "articles.dlq");
    assert_int_equal(cfg.max_message_bytes, 1048576);
    assert_int_equal(cfg.nkafka, 0);
    bl_config_clear(&cfg);
}

/* Each bad value stops loading with a message that names the variable. */
static void test_bad_values_name_the_variable(void **state)
{
    static const struct {
        const char *env, *name;
    } cases[] = {
        {"BYLINE_MAX_MESSAGE_BYTES=abc", "BYLINE_MAX_MESSAGE_BYTES"},
        {"BYLINE_MAX_MESSAGE_BYTES=-1", "BYLINE_MAX_MESSAGE_BYTES"},
        {"BYLINE_MAX_MESSAGE_BYTES=10x", "BYLINE_MAX_MESSAGE_BYTES"},
        {"BYLINE_DLQ_MAX_VALUE_BYTES=1", "BYLINE_DLQ_MAX_VALUE_BYTES"},
        {"BYLINE_SHUTDOWN_TIMEOUT_MS=soon", "BYLINE_SHUTDOWN_TIMEOUT_MS"},
        {"BYLINE_REVOKE_TIMEOUT_MS=99999999999", "BYLINE_REVOKE_TIMEOUT_MS"},
        {"BYLINE_LOG_LEVEL=loud", "BYLINE_LOG_LEVEL"},
        {"BYLINE_WORKERS=-1", "BYLINE_WORKERS"},
        {"BYLINE_WORKERS=many", "BYLINE_WORKERS"},
        {"BYLINE_WORKERS=1000", "BYLINE_WORKERS"},
        {"BYLINE_CONFIG_DIR=", "BYLINE_CONFIG_DIR"},
        {"BYLINE_KAFKA_NO_SUCH_PROPERTY=1", "BYLINE_KAFKA_NO_SUCH_PROPERTY"},
        {"BYLINE_KAFKA_ACKS=banana", "BYLINE_KAFKA_ACKS"},
        {"BYLINE_KAFKA_CONSUMER_SESSION_TIMEOUT_MS=never",
         "BYLINE_KAFKA_CONSUMER_SESSION_TIMEOUT_MS"},
        {"BYLINE_KAFKA_SASL_PASSWORD_FILE=/nonexistent/secret", "BYLINE_KAFKA_SASL_PASSWORD_FILE"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *env[] = {(char *)cases[i].env, NULL};
        bl_config_t cfg;
        char errstr[512] = "";
        if (load(&cfg, env, errstr, sizeof(errstr)) == 0)
            fail_msg("%s was accepted", cases[i].env);
        if (strncmp(errstr, cases[i].name, strlen(cases[i].name)) != 0)
            fail_msg("%s: message \"%s\" does not start with the variable", cases[i].env, errstr);
        assert_null(strchr(errstr, '\n'));
    }
}

static void test_kafka_passthrough(void **state)
{
    char *env[] = {"BYLINE_BROKERS=127.0.0.1:9092", "BYLINE_KAFKA_SECURITY_PROTOCOL=plaintext",
                   "BYLINE_KAFKA_CONSUMER_FETCH_WAIT_MAX_MS=50",
                   "BYLINE_KAFKA_PRODUCER_LINGER_MS=20", NULL};
    bl_config_t cfg;
    char errstr[512];
    assert_int_equal(load(&cfg, env, errstr, sizeof(errstr)), 0);
    assert_int_equal(cfg.nkafka, 3);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    assert_int_equal(bl_config_kafka_apply(&cfg, conf, BL_KAFKA_CONSUMER, errstr, sizeof(errstr)),
                     0);
    char val[256];
    size_t len = sizeof(val);
    assert_int_equal(rd_kafka_conf_get(conf, "security.protocol", val, &len), RD_KAFKA_CONF_OK);
    assert_string_equal(val, "plaintext");
    len = sizeof(val);
    rd_kafka_conf_get(conf, "fetch.wait.max.ms", val, &len);
    assert_string_equal(val, "50");
    len = sizeof(val);
    rd_kafka_conf_get(conf, "linger.ms", val, &len);
    assert_string_not_equal(val, "20"); /* producer-only setting stays off the consumer */
    len = sizeof(val);
    rd_kafka_conf_get(conf, "bootstrap.servers", val, &len);
    assert_string_equal(val, "127.0.0.1:9092");
    rd_kafka_conf_destroy(conf);
    bl_config_clear(&cfg);
}

static void test_secret_from_file(void **state)
{
    char path[] = "/tmp/byline-secret-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "s3cret\n", 7), 7);
    close(fd);
    char var[300];
    snprintf(var, sizeof(var), "BYLINE_KAFKA_SASL_PASSWORD_FILE=%s", path);
    char *env[] = {var, NULL};
    bl_config_t cfg;
    char errstr[512];
    assert_int_equal(load(&cfg, env, errstr, sizeof(errstr)), 0);
    assert_int_equal(cfg.nkafka, 1);
    assert_string_equal(cfg.kafka[0].name, "sasl.password");
    assert_string_equal(cfg.kafka[0].value, "s3cret");
    bl_config_clear(&cfg);
    unlink(path);
}

static void test_table_documents_every_variable(void **state)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    bl_config_print_table(f, 1);
    fclose(f);
    const char *names[] = {"BYLINE_BROKERS",      "BYLINE_GROUP_ID",        "BYLINE_INPUT_TOPIC",
                           "BYLINE_OUTPUT_TOPIC", "BYLINE_DLQ_TOPIC",       "BYLINE_LOG_LEVEL",
                           "BYLINE_HTTP_ADDR",    "BYLINE_KAFKA_<PROPERTY>"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        assert_non_null(strstr(buf, names[i]));
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_bad_values_name_the_variable),
        cmocka_unit_test(test_kafka_passthrough),
        cmocka_unit_test(test_secret_from_file),
        cmocka_unit_test(test_table_documents_every_variable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
