/* Filter parsing and evaluation on record JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "webhook/webhook_int.h"

static const char record_text[] =
    "{\"id\":\"a1\",\"published\":{\"date\":\"2022-01-10\"},"
    "\"source\":{\"publisher\":\"The Guardian\",\"agencies\":[{\"name\":\"Reuters\"},\"AFP\"]},"
    "\"entities\":[{\"name\":\"Vladimir Putin\",\"type\":\"PERSON\"},"
    "{\"name\":\"NATO\",\"type\":\"ORGANIZATION\"}]}";

static int matches(const char *filter_text, const char *json)
{
    char err[300];
    bl_wh_filter_t *f = bl_wh_filter_parse(filter_text, err, sizeof(err));
    if (!f)
        fail_msg("parse failed: %s", err);
    json_t *rec = json_loads(json, 0, NULL);
    assert_non_null(rec);
    int m = bl_wh_filter_match(f, rec);
    json_decref(rec);
    bl_wh_filter_destroy(f);
    return m;
}

static void single_clauses(void **state)
{
    assert_true(matches("entity:Vladimir Putin", record_text));
    assert_true(matches("entity:vladimir putin", record_text)); /* case-insensitive */
    assert_false(matches("entity:Putin", record_text));         /* whole names */
    assert_true(matches("entity_type:PERSON", record_text));
    assert_false(matches("entity_type:LOCATION", record_text));
    assert_true(matches("agency:Reuters", record_text));
    assert_true(matches("agency:AFP", record_text)); /* agencies as plain strings too */
    assert_false(matches("agency:AP", record_text));
    assert_true(matches("publisher:the guardian", record_text));
    assert_true(matches("published_after:2022-01-01", record_text));
    assert_false(matches("published_after:2022-01-10", record_text)); /* strictly after */
    assert_true(matches("published_before:2022-02-01", record_text));
    assert_false(matches("published_after:2000-01-01", "{\"id\":\"x\"}")); /* no date */
}

static void and_or(void **state)
{
    assert_true(matches("entity:NATO AND agency:Reuters", record_text));
    assert_false(matches("entity:NATO AND agency:AP", record_text));
    assert_true(matches("agency:AP OR entity:NATO", record_text));
    /* AND binds tighter: (AP and NATO) or PERSON */
    assert_true(matches("agency:AP AND entity:NATO OR entity_type:PERSON", record_text));
    assert_false(matches("agency:AP AND entity:NATO OR entity_type:LOCATION", record_text));
    assert_true(matches("  entity : Vladimir Putin  ", record_text));
}

static void null_filter_matches_all(void **state)
{
    json_t *rec = json_loads(record_text, 0, NULL);
    assert_true(bl_wh_filter_match(NULL, rec));
    json_decref(rec);
}

static void parse_errors(void **state)
{
    char err[300];
    assert_null(bl_wh_filter_parse("", err, sizeof(err)));
    assert_null(bl_wh_filter_parse("Putin", err, sizeof(err)));
    assert_non_null(strstr(err, "key:value"));
    assert_null(bl_wh_filter_parse("person:Putin", err, sizeof(err)));
    assert_non_null(strstr(err, "unknown filter key"));
    assert_null(bl_wh_filter_parse("entity:", err, sizeof(err)));
    assert_null(bl_wh_filter_parse("published_after:2022-13-01", err, sizeof(err)));
    assert_null(bl_wh_filter_parse("published_after:yesterday", err, sizeof(err)));
    assert_null(bl_wh_filter_parse("entity:NATO AND ", err, sizeof(err)));
    assert_null(bl_wh_filter_parse("entity:NATO OR bogus", err, sizeof(err)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(single_clauses),
        cmocka_unit_test(and_or),
        cmocka_unit_test(null_filter_matches_all),
        cmocka_unit_test(parse_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
