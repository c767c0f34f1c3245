/* Unit tests of the jansson arena: values of a window work like any other,
 * values made outside a window are untouched by its end, and a window far
 * larger than the arena falls back to malloc. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "enrich/json_arena.h"

static void test_window_values_serialise(void **state)
{
    json_t *outside = json_pack("{s:s, s:i}", "kept", "across windows", "n", 7);
    for (int round = 0; round < 100; round++) {
        bl_json_arena_begin();
        json_t *rec = json_object();
        json_t *arr = json_array();
        for (int i = 0; i < 200; i++)
            json_array_append_new(arr, json_pack("{s:s, s:i, s:i}", "text", "Vladimir Putin",
                                                 "start", i, "end", i + 14));
        json_object_set_new(rec, "entities", arr);
        json_object_set(rec, "outside", outside); /* a reference, freed by decref below */
        char *out = json_dumps(rec, JSON_COMPACT);
        assert_non_null(out);
        assert_non_null(strstr(out, "\"start\":199"));
        assert_non_null(strstr(out, "\"kept\":\"across windows\""));
        bl_json_free(out);
        json_decref(rec);
        bl_json_arena_end();
    }
    /* The value from before every window is intact and still ours. */
    assert_int_equal(json_integer_value(json_object_get(outside, "n")), 7);
    assert_int_equal(outside->refcount, 1);
    json_decref(outside);
}

static void test_overflow_falls_back_to_malloc(void **state)
{
    bl_json_arena_begin();
    /* ~6 MB of strings: past the arena's 1 MB, the rest comes from malloc. */
    json_t *arr = json_array();
    char big[4096];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    for (int i = 0; i < 1500; i++)
        json_array_append_new(arr, json_string(big));
    char *out = json_dumps(arr, JSON_COMPACT);
    assert_non_null(out);
    assert_true(strlen(out) > 1500 * 4095);
    bl_json_free(out);
    json_decref(arr);
    bl_json_arena_end();
}

int main(void)
{
    bl_json_arena_install();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_window_values_serialise),
        cmocka_unit_test(test_overflow_falls_back_to_malloc),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    bl_json_arena_release();
    return rc;
}
