/* BYLINE_WEBHOOK_<NAME>_* parsing: defaults, every validation error names
 * its variable, secrets never appear in errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "webhook/webhook_int.h"

#define SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

static void no_endpoints(void **state)
{
    char *env[] = {"PATH=/bin", "BYLINE_WEBHOOK_DLQ_TOPIC=x", NULL};
    char err[300] = "";
    bl_webhooks_t *w = bl_webhooks_new(NULL, env, err, sizeof(err));
    assert_non_null(w);
    assert_int_equal(bl_webhooks_count(w), 0);
    bl_webhooks_destroy(w);
    bl_webhooks_destroy(NULL);
}

static void two_endpoints_with_defaults(void **state)
{
    char *env[] = {"BYLINE_WEBHOOK_CRM_URL=http://127.0.0.1:9/hook",
                   "BYLINE_WEBHOOK_CRM_SECRET=" SECRET " whsec_c2Vjb25kLWtleQ==",
                   "BYLINE_WEBHOOK_CRM_FILTER=entity_type:PERSON",
                   "BYLINE_WEBHOOK_SLACK2_URL=https://example.invalid/x",
                   "BYLINE_WEBHOOK_SLACK2_BATCH_SIZE=50",
                   "BYLINE_WEBHOOK_SLACK2_START_FROM=latest",
                   NULL};
    bl_wh_endpoint_conf_t *c = NULL;
    int n = 0;
    char err[300] = "";
    assert_int_equal(bl_wh_confs_parse(env, &c, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 2);
    assert_string_equal(c[0].name, "CRM");
    assert_int_equal(c[0].nkeys, 2);
    assert_non_null(c[0].filter);
    assert_int_equal(c[0].timeout_ms, 10000);
    assert_int_equal(c[0].connect_timeout_ms, 5000);
    assert_int_equal(c[0].concurrency, 4);
    assert_int_equal(c[0].retry_initial_ms, 1000);
    assert_int_equal(c[0].retry_max_ms, 300000);
    assert_int_equal(c[0].retry_give_up_ms, 21600000);
    assert_int_equal(c[0].batch_size, 1);
    assert_int_equal(c[0].start_earliest, 1);
    assert_string_equal(c[1].name, "SLACK2");
    assert_int_equal(c[1].nkeys, 0);
    assert_null(c[1].filter);
    assert_int_equal(c[1].batch_size, 50);
    assert_int_equal(c[1].start_earliest, 0);
    bl_wh_confs_free(c, n);
}

static void expect_error(char **env, const char *must_contain)
{
    char err[300] = "";
    bl_webhooks_t *w = bl_webhooks_new(NULL, env, err, sizeof(err));
    if (w)
        fail_msg("accepted, expected an error with \"%s\"", must_contain);
    if (!strstr(err, must_contain))
        fail_msg("error \"%s\" does not contain \"%s\"", err, must_contain);
    assert_null(strchr(err, '\n'));
    assert_null(strstr(err, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
}

static void errors_name_the_variable(void **state)
{
    char *missing_url[] = {"BYLINE_WEBHOOK_CRM_FILTER=entity:NATO", NULL};
    expect_error(missing_url, "BYLINE_WEBHOOK_CRM_URL");
    char *bad_url[] = {"BYLINE_WEBHOOK_CRM_URL=ftp://x", NULL};
    expect_error(bad_url, "BYLINE_WEBHOOK_CRM_URL");
    char *unknown[] = {"BYLINE_WEBHOOK_CRM_URL=http://x", "BYLINE_WEBHOOK_CRM_TIMEOUT=5", NULL};
    expect_error(unknown, "BYLINE_WEBHOOK_CRM_TIMEOUT");
    char *lower[] = {"BYLINE_WEBHOOK_crm_URL=http://x", NULL};
    expect_error(lower, "BYLINE_WEBHOOK_crm_URL");
    char *noname[] = {"BYLINE_WEBHOOK_URL=http://x", NULL};
    expect_error(noname, "BYLINE_WEBHOOK_URL");
    char *bad_int[] = {"BYLINE_WEBHOOK_CRM_URL=http://x", "BYLINE_WEBHOOK_CRM_TIMEOUT_MS=10s",
                       NULL};
    expect_error(bad_int, "BYLINE_WEBHOOK_CRM_TIMEOUT_MS");
    char *zero[] = {"BYLINE_WEBHOOK_CRM_URL=http://x", "BYLINE_WEBHOOK_CRM_CONCURRENCY=0", NULL};
    expect_error(zero, "BYLINE_WEBHOOK_CRM_CONCURRENCY");
    char *big_batch[] = {"BYLINE_WEBHOOK_CRM_URL=http://x", "BYLINE_WEBHOOK_CRM_BATCH_SIZE=5000",
                         NULL};
    expect_error(big_batch, "BYLINE_WEBHOOK_CRM_BATCH_SIZE");
    char *bad_secret[] = {"BYLINE_WEBHOOK_CRM_URL=http://x",
                          "BYLINE_WEBHOOK_CRM_SECRET=MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", NULL};
    expect_error(bad_secret, "BYLINE_WEBHOOK_CRM_SECRET");
    char *three[] = {"BYLINE_WEBHOOK_CRM_URL=http://x",
                     "BYLINE_WEBHOOK_CRM_SECRET=" SECRET " " SECRET " " SECRET, NULL};
    expect_error(three, "BYLINE_WEBHOOK_CRM_SECRET");
    char *bad_filter[] = {"BYLINE_WEBHOOK_CRM_URL=http://x", "BYLINE_WEBHOOK_CRM_FILTER=who:me",
                          NULL};
    expect_error(bad_filter, "BYLINE_WEBHOOK_CRM_FILTER");
    char *order[] = {"BYLINE_WEBHOOK_CRM_URL=http://x", "BYLINE_WEBHOOK_CRM_RETRY_INITIAL_MS=9000",
                     "BYLINE_WEBHOOK_CRM_RETRY_MAX_MS=1000", NULL};
    expect_error(order, "BYLINE_WEBHOOK_CRM_RETRY_INITIAL_MS");
    char *pending[] = {"BYLINE_WEBHOOK_CRM_URL=http://x", "BYLINE_WEBHOOK_CRM_BATCH_SIZE=100",
                       "BYLINE_WEBHOOK_CRM_MAX_PENDING=10", NULL};
    expect_error(pending, "BYLINE_WEBHOOK_CRM_MAX_PENDING");
    char *start[] = {"BYLINE_WEBHOOK_CRM_URL=http://x", "BYLINE_WEBHOOK_CRM_START_FROM=now", NULL};
    expect_error(start, "BYLINE_WEBHOOK_CRM_START_FROM");
    char *nofile[] = {"BYLINE_WEBHOOK_CRM_URL=http://x",
                      "BYLINE_WEBHOOK_CRM_SECRET_FILE=/nonexistent/secret", NULL};
    expect_error(nofile, "BYLINE_WEBHOOK_CRM_SECRET_FILE");
}

static void secret_file(void **state)
{
    char path[] = "/tmp/bl_wh_secret_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char text[] = SECRET "\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    char var[128];
    snprintf(var, sizeof(var), "BYLINE_WEBHOOK_CRM_SECRET_FILE=%s", path);
    char *env[] = {"BYLINE_WEBHOOK_CRM_URL=http://x", var, NULL};
    bl_wh_endpoint_conf_t *c = NULL;
    int n = 0;
    char err[300] = "";
    assert_int_equal(bl_wh_confs_parse(env, &c, &n, err, sizeof(err)), 0);
    assert_int_equal(c[0].nkeys, 1);
    assert_int_equal(c[0].keys[0].len, 24);
    bl_wh_confs_free(c, n);
    char *both[] = {"BYLINE_WEBHOOK_CRM_URL=http://x", "BYLINE_WEBHOOK_CRM_SECRET=" SECRET, var,
                    NULL};
    expect_error(both, "BYLINE_WEBHOOK_CRM_SECRET_FILE");
    unlink(path);
}

static void help_lists_every_setting(void **state)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    bl_webhooks_print_help(f, 1);
    fclose(f);
    assert_non_null(strstr(buf, "BYLINE_WEBHOOK_<NAME>_URL"));
    assert_non_null(strstr(buf, "BYLINE_WEBHOOK_<NAME>_RETRY_GIVE_UP_MS"));
    assert_non_null(strstr(buf, "| 21600000 |"));
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(no_endpoints),
        cmocka_unit_test(two_endpoints_with_defaults),
        cmocka_unit_test(errors_name_the_variable),
        cmocka_unit_test(secret_file),
        cmocka_unit_test(help_lists_every_setting),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
