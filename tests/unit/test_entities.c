/* Unit tests for the entities extractor (enrich/entities.c) with the shipped gazetteer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "enrich/enrich.h"

static bl_entities_t *ents;

static int setup(void **state)
{
    (void)state;
    const char *dir = getenv("BYLINE_CONFIG_DIR");
    char err[512];
    ents = bl_entities_new(dir ? dir : BYLINE_DEFAULT_CONFIG_DIR, NULL, err, sizeof(err));
    if (!ents)
        fprintf(stderr, "%s\n", err);
    return ents ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    bl_entities_destroy(ents);
    return 0;
}

/* Runs the extractor over headline + "\n\n" + body; checks every offset. */
static json_t *extract(const char *text, bl_doc_t *doc)
{
    memset(doc, 0, sizeof(*doc));
    doc->text = strdup(text);
    doc->len = strlen(text);
    const char *nl = strchr(text, '\n');
    doc->headline_len = nl ? (size_t)(nl - text) : doc->len;
    assert_int_equal(bl_doc_tokenize(doc), 0);
    json_t *rec = json_object();
    assert_int_equal(bl_entities_extract(ents, doc, rec), 0);
    json_t *arr = json_object_get(rec, "entities");
    assert_true(json_is_array(arr));
    size_t i, j;
    json_t *e, *m;
    double prev = 2.0;
    json_array_foreach(arr, i, e)
    {
        double sal = json_real_value(json_object_get(e, "salience"));
        assert_true(sal >= 0.0 && sal <= 1.0 && sal <= prev);
        prev = sal;
        json_t *ms = json_object_get(e, "mentions");
        assert_int_equal(json_array_size(ms), json_integer_value(json_object_get(e, "count")));
        json_array_foreach(ms, j, m)
        {
            json_int_t s = json_integer_value(json_object_get(m, "start"));
            json_int_t en = json_integer_value(json_object_get(m, "end"));
            const char *t = json_string_value(json_object_get(m, "text"));
            assert_true(s >= 0 && en > s && (size_t)en <= doc->len);
            assert_int_equal(strlen(t), (size_t)(en - s));
            assert_memory_equal(t, doc->text + s, (size_t)(en - s));
        }
    }
    return rec;
}

static json_t *find(json_t *rec, const char *name)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(rec, "entities"), i,
                       e) if (strcmp(json_string_value(json_object_get(e, "name")), name) ==
                              0) return e;
    return NULL;
}

static int has_mention(json_t *rec, const char *text)
{
    size_t i, j;
    json_t *e, *m;
    json_array_foreach(json_object_get(rec, "entities"), i, e) json_array_foreach(
        json_object_get(e, "mentions"), j,
        m) if (strcmp(json_string_value(json_object_get(m, "text")), text) == 0) return 1;
    return 0;
}

static void test_short_forms_merge(void **state)
{
    (void)state;
    bl_doc_t doc;
    json_t *rec = extract("Putin meets Nato chiefs\n\nVladimir Putin spoke in Kiev on Monday. "
                          "Mr Putin said NATO was a threat. The U.S. and the United States "
                          "of America disagreed, US officials said. Kyiv was calm in March.",
                          &doc);
    json_t *p = find(rec, "Vladimir Putin");
    assert_non_null(p);
    assert_string_equal(json_string_value(json_object_get(p, "type")), "PERSON");
    assert_string_equal(json_string_value(json_object_get(p, "id")), "Q7747");
    assert_int_equal(json_integer_value(json_object_get(p, "count")), 3);
    assert_true(has_mention(rec, "Mr Putin"));
    json_t *nato = find(rec, "North Atlantic Treaty Organization");
    assert_non_null(nato);
    assert_int_equal(json_integer_value(json_object_get(nato, "count")), 2);
    json_t *kyiv = find(rec, "Kyiv");
    assert_non_null(kyiv);
    assert_int_equal(json_integer_value(json_object_get(kyiv, "count")), 2);
    json_t *us = find(rec, "United States");
    assert_non_null(us);
    assert_int_equal(json_integer_value(json_object_get(us, "count")), 3);
    /* Months, weekdays, "The" are never entities. */
    assert_false(has_mention(rec, "Monday"));
    assert_false(has_mention(rec, "March"));
    assert_false(has_mention(rec, "The"));
    /* Most salient first: in the headline and mentioned most. */
    json_t *first = json_array_get(json_object_get(rec, "entities"), 0);
    assert_string_equal(json_string_value(json_object_get(first, "name")), "Vladimir Putin");
    json_decref(rec);
    bl_doc_clear(&doc);
}

static void test_rules_for_unknown_names(void **state)
{
    (void)state;
    bl_doc_t doc;
    json_t *rec = extract("Fishing row deepens\n\nThe Ministry of Fisheries said on Tuesday that "
                          "spokesperson Jane Okonkwo-Bright would meet Quarrelsome Widgets Inc. "
                          "in Zlatograd. Okonkwo-Bright declined to comment. Analysts doubted it.",
                          &doc);
    json_t *e = find(rec, "Ministry of Fisheries");
    assert_non_null(e);
    assert_string_equal(json_string_value(json_object_get(e, "type")), "ORGANIZATION");
    e = find(rec, "Jane Okonkwo-Bright");
    assert_non_null(e);
    assert_string_equal(json_string_value(json_object_get(e, "type")), "PERSON");
    assert_int_equal(json_integer_value(json_object_get(e, "count")), 2);
    assert_true(json_is_null(json_object_get(e, "id")));
    e = find(rec, "Quarrelsome Widgets Inc");
    assert_non_null(e);
    assert_string_equal(json_string_value(json_object_get(e, "type")), "ORGANIZATION");
    assert_true(has_mention(rec, "Quarrelsome Widgets Inc."));
    e = find(rec, "Zlatograd");
    assert_non_null(e);
    assert_string_equal(json_string_value(json_object_get(e, "type")), "LOCATION");
    assert_false(has_mention(rec, "Analysts"));
    assert_false(has_mention(rec, "Fishing"));
    json_decref(rec);
    bl_doc_clear(&doc);
}

static void test_titles_currency_products(void **state)
{
    (void)state;
    bl_doc_t doc;
    json_t *rec = extract("Talks go on\n\nSecretary of State Antony Blinken met Russian Foreign "
                          "Minister Sergei Lavrov in Geneva. Airbus sold an Airbus A380 for "
                          "US$400 million. Maintenance, Repair and Overhaul (MRO) work grew in "
                          "Eastern Europe.",
                          &doc);
    /* Titles stay in the mention; the entity name stays clean. */
    assert_true(has_mention(rec, "Secretary of State Antony Blinken"));
    assert_true(has_mention(rec, "Foreign Minister Sergei Lavrov"));
    assert_false(has_mention(rec, "Russian Foreign Minister Sergei Lavrov"));
    json_t *lavrov = find(rec, "Sergei Lavrov");
    assert_non_null(lavrov);
    /* "US$" is a currency sign, the A380's maker a product mention. */
    assert_false(has_mention(rec, "US"));
    json_t *airbus = find(rec, "Airbus");
    assert_non_null(airbus);
    assert_int_equal(json_integer_value(json_object_get(airbus, "count")), 1);
    /* An abbreviation of plain words is no organisation. */
    assert_false(has_mention(rec, "MRO"));
    assert_true(has_mention(rec, "Eastern Europe"));
    json_decref(rec);
    bl_doc_clear(&doc);
}

/* Digits and inner capitals end or void a name wherever they sit in the
 * word: in its first eight bytes, its second eight, or across the two. */
static void test_word_shapes(void **state)
{
    (void)state;
    bl_doc_t doc;
    json_t *rec = extract("Shapes\n\nQuorvia Zentrixyz said so. Later Quorvia Zentrixyz9 said "
                          "no. Then Dorvane ZenPlor spoke. Then Morvane ZentrixyPlor spoke. "
                          "Then Korvane ZentrixPlor spoke.",
                          &doc);
    json_t *e = find(rec, "Quorvia Zentrixyz");
    assert_non_null(e);
    assert_string_equal(json_string_value(json_object_get(e, "type")), "PERSON");
    assert_false(has_mention(rec, "Quorvia Zentrixyz9"));
    assert_false(has_mention(rec, "Dorvane ZenPlor"));
    assert_false(has_mention(rec, "Morvane ZentrixyPlor"));
    assert_false(has_mention(rec, "Korvane ZentrixPlor"));
    json_decref(rec);
    bl_doc_clear(&doc);
}

static void test_places_in_context(void **state)
{
    (void)state;
    bl_doc_t doc;
    json_t *rec = extract("Talks end\n\nThey met in Cupertino, California, and in central London. "
                          "Troops left the United Kingdom, Ukraine and Poland for eastern Ukraine "
                          "and Central and Eastern Europe.",
                          &doc);
    /* A town with its region is a mention of the town; a list is not. */
    assert_true(has_mention(rec, "Cupertino, California"));
    assert_false(has_mention(rec, "Cupertino"));
    assert_true(has_mention(rec, "California"));
    assert_false(has_mention(rec, "United Kingdom, Ukraine"));
    assert_true(has_mention(rec, "central London"));
    assert_true(has_mention(rec, "Central and Eastern Europe"));
    /* A part of a country is still the country. */
    assert_false(has_mention(rec, "eastern Ukraine"));
    json_t *ua = find(rec, "Ukraine");
    assert_non_null(ua);
    assert_int_equal(json_integer_value(json_object_get(ua, "count")), 2);
    json_decref(rec);
    bl_doc_clear(&doc);
}

static void test_descriptor_phrases(void **state)
{
    (void)state;
    bl_doc_t doc;
    json_t *rec = extract("Orders rise\n\nIrish low cost airline, Ryanair, ordered jets from "
                          "aircraft manufacturer Boeing and German airline Lufthansa. The "
                          "Beatles' label Apple Corps sued. Apple sues computer maker Dell. "
                          "Its parent company, EADS, and engine maker Zorvatek agreed. Aircraft "
                          "manufacturer Airbus won. The US manufacturer sold it for 9 US "
                          "dollars; US officials agreed.",
                          &doc);
    /* The descriptor with the name is a mention; the name stays clean. */
    assert_true(has_mention(rec, "Irish low cost airline, Ryanair"));
    assert_true(has_mention(rec, "aircraft manufacturer Boeing"));
    assert_true(has_mention(rec, "German airline Lufthansa"));
    assert_true(has_mention(rec, "Aircraft manufacturer Airbus"));
    /* A place modifying a kind of organisation or a currency is no mention. */
    json_t *us = find(rec, "United States");
    assert_non_null(us);
    assert_int_equal(json_integer_value(json_object_get(us, "count")), 1);
    json_t *boeing = find(rec, "Boeing");
    assert_non_null(boeing);
    assert_int_equal(json_integer_value(json_object_get(boeing, "count")), 2);
    /* A demonym is no place of its own. */
    assert_false(has_mention(rec, "German"));
    /* Not after a possessive or a verb. */
    assert_false(has_mention(rec, "label Apple Corps"));
    assert_false(has_mention(rec, "sues computer maker Dell"));
    assert_false(has_mention(rec, "computer maker Dell"));
    assert_false(has_mention(rec, "parent company, EADS"));
    /* A kind of organisation before an unknown name types it. */
    json_t *z = find(rec, "Zorvatek");
    assert_non_null(z);
    assert_string_equal(json_string_value(json_object_get(z, "type")), "ORGANIZATION");
    json_decref(rec);
    bl_doc_clear(&doc);
}

static void test_info_and_empty(void **state)
{
    (void)state;
    const char *info = bl_entities_gazetteer_info(ents);
    long names = strtol(info, NULL, 10);
    assert_true(names >= 10000);
    assert_non_null(strstr(info, "files"));
    bl_doc_t doc;
    json_t *rec = extract("", &doc);
    assert_int_equal(json_array_size(json_object_get(rec, "entities")), 0);
    json_decref(rec);
    bl_doc_clear(&doc);
    char err[256];
    assert_null(bl_entities_new("/nonexistent", NULL, err, sizeof(err)));
    assert_true(strlen(err) > 0);
    bl_entities_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_short_forms_merge),
        cmocka_unit_test(test_rules_for_unknown_names),
        cmocka_unit_test(test_titles_currency_products),
        cmocka_unit_test(test_word_shapes),
        cmocka_unit_test(test_places_in_context),
        cmocka_unit_test(test_descriptor_phrases),
        cmocka_unit_test(test_info_and_empty),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
