/* Unit tests for the gazetteer matcher (enrich/gazetteer.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "enrich/gazetteer.h"

/* Token keys of @p text as the extractor computes them. */
static size_t keys_of(const char *text, uint64_t *keys, size_t max)
{
    bl_doc_t d = {0};
    d.text = (char *)text;
    d.len = strlen(text);
    assert_int_equal(bl_doc_tokenize(&d), 0);
    size_t n = d.ntokens < max ? d.ntokens : max;
    for (size_t i = 0; i < n; i++)
        keys[i] = bl_gazetteer_token_key(text + d.tokens[i].start,
                                         d.tokens[i].end - d.tokens[i].start, NULL);
    free(d.tokens);
    return n;
}

static void test_longest_match_wins(void **state)
{
    (void)state;
    bl_gazetteer_t *g = bl_gazetteer_new();
    assert_non_null(g);
    assert_int_equal(bl_gazetteer_add(g, "New York", "New York", "LOCATION", NULL, 0), 0);
    assert_int_equal(
        bl_gazetteer_add(g, "New York Times", "The New York Times", "ORGANIZATION", "Q9684", 0), 0);
    uint64_t keys[16];
    size_t n = keys_of("the New York Times said", keys, 16);
    bl_gazetteer_hit_t hit;
    assert_int_equal(bl_gazetteer_match(g, keys, n, 1, &hit), 1);
    assert_int_equal(hit.ntokens, 3);
    const bl_gazetteer_entity_t *e = bl_gazetteer_entity(g, hit.entity);
    assert_string_equal(e->name, "The New York Times");
    assert_string_equal(e->qid, "Q9684");
    n = keys_of("in New York today", keys, 16);
    assert_int_equal(bl_gazetteer_match(g, keys, n, 1, &hit), 1);
    assert_int_equal(hit.ntokens, 2);
    assert_string_equal(bl_gazetteer_entity(g, hit.entity)->name, "New York");
    assert_int_equal(bl_gazetteer_match(g, keys, n, 0, &hit), 0);
    bl_gazetteer_destroy(g);
}

static void test_aliases_case_dots_possessive(void **state)
{
    (void)state;
    bl_gazetteer_t *g = bl_gazetteer_new();
    assert_int_equal(bl_gazetteer_add(g, "United States", "United States", "LOCATION", "Q30", 0),
                     0);
    assert_int_equal(bl_gazetteer_add(g, "US", "United States", "LOCATION", "Q30", 0), 0);
    assert_int_equal(bl_gazetteer_entities(g), 1);
    assert_int_equal(bl_gazetteer_names(g), 2);
    uint64_t keys[16];
    bl_gazetteer_hit_t hit;
    /* "U.S." reads as "US"; the short upper-case alias demands upper case. */
    size_t n = keys_of("the U.S. army", keys, 16);
    assert_int_equal(bl_gazetteer_match(g, keys, n, 1, &hit), 1);
    assert_true(hit.flags & BL_GAZ_ALLCAPS);
    /* Possessive "’s" is not part of the key. */
    size_t key_len = 0;
    uint64_t k1 = bl_gazetteer_token_key("States\xe2\x80\x99s", 10, &key_len);
    assert_int_equal(key_len, 6);
    assert_true(k1 == bl_gazetteer_token_key("states", 6, NULL));
    bl_gazetteer_destroy(g);
}

static void test_load_file_and_errors(void **state)
{
    (void)state;
    char path[] = "/tmp/test_gazetteer_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs("# comment\n#!kind country\nUkraine\tLOCATION\t\t\n#!kind "
          "none\nKyiv\tLOCATION\tQ1899\tKiev\n"
          "#!tier weak\nSmalltown\tLOCATION\t\t\n#!kind region\nKyiv\tLOCATION\t\t\n",
          f);
    fclose(f);
    char err[256];
    bl_gazetteer_t *g = bl_gazetteer_new();
    assert_int_equal(bl_gazetteer_load_file(g, path, err, sizeof(err)), 0);
    assert_int_equal(bl_gazetteer_files(g), 1);
    assert_int_equal(bl_gazetteer_names(g), 4);
    uint64_t keys[4];
    bl_gazetteer_hit_t hit;
    size_t n = keys_of("Kiev", keys, 4);
    assert_int_equal(bl_gazetteer_match(g, keys, n, 0, &hit), 1);
    assert_string_equal(bl_gazetteer_entity(g, hit.entity)->name, "Kyiv");
    assert_false(hit.flags & BL_GAZ_WEAK);
    /* Kinds add up over lines; a later line names no new entity. */
    assert_int_equal(bl_gazetteer_entity(g, hit.entity)->kind, BL_GAZ_KIND_REGION);
    n = keys_of("Ukraine", keys, 4);
    assert_int_equal(bl_gazetteer_match(g, keys, n, 0, &hit), 1);
    assert_int_equal(bl_gazetteer_entity(g, hit.entity)->kind, BL_GAZ_KIND_COUNTRY);
    n = keys_of("Smalltown", keys, 4);
    assert_int_equal(bl_gazetteer_match(g, keys, n, 0, &hit), 1);
    assert_true(hit.flags & BL_GAZ_WEAK);
    assert_null(bl_gazetteer_entity(g, hit.entity)->qid);
    assert_int_equal(bl_gazetteer_entity(g, hit.entity)->kind, 0);
    bl_gazetteer_destroy(g);
    unlink(path);
    g = bl_gazetteer_new();
    assert_int_equal(bl_gazetteer_load_file(g, "/nonexistent/x.tsv", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "/nonexistent/x.tsv"));
    bl_gazetteer_destroy(g);
    bl_gazetteer_destroy(NULL);
}

/* The extractor reads the capital flag with the key: it must cover the
 * whole token, possessive included, and the slow path ('.' or ’) too. */
static void test_key_upper_and_types(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        size_t key_len;
        int upper;
    } cases[] = {
        {"ebay", 4, 0},
        {"eBay", 4, 1},
        {"it'S", 2, 1},
        {"its's", 3, 0},
        {"u.s.", 4, 0},
        {"a.B", 3, 1},
        {"states\xe2\x80\x99S", 6, 1},
        {"longerthaneight", 15, 0},
        {"longerthaneiGht's", 15, 1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        size_t key_len = 0;
        int upper = -1;
        uint64_t k =
            bl_gazetteer_token_key_upper(cases[i].text, strlen(cases[i].text), &key_len, &upper);
        assert_true(k != 0);
        assert_int_equal(key_len, cases[i].key_len);
        assert_int_equal(upper, cases[i].upper);
        assert_true(k == bl_gazetteer_token_key(cases[i].text, strlen(cases[i].text), NULL));
    }
    /* Slow path and fast path agree: "U.S." is "us", "O’Neil" is "o'neil". */
    assert_true(bl_gazetteer_token_key("U.S.", 4, NULL) == bl_gazetteer_token_key("us", 2, NULL));
    assert_true(bl_gazetteer_token_key("O\xe2\x80\x99Neil", 8, NULL) ==
                bl_gazetteer_token_key("o'neil", 6, NULL));
    assert_true(bl_gazetteer_token_key("Ministry.Of.Defence", 19, NULL) ==
                bl_gazetteer_token_key("ministryofdefence", 17, NULL));

    bl_gazetteer_t *g = bl_gazetteer_new();
    assert_null(bl_gazetteer_type(g, "PERSON"));
    assert_int_equal(bl_gazetteer_add(g, "Ada Lovelace", "Ada Lovelace", "PERSON", NULL, 0), 0);
    const char *person = bl_gazetteer_type(g, "PERSON");
    assert_non_null(person);
    assert_string_equal(person, "PERSON");
    assert_ptr_equal(bl_gazetteer_entity(g, 0)->type, person);
    assert_null(bl_gazetteer_type(g, "LOCATION"));
    bl_gazetteer_destroy(g);
}

/* A walk goes on through prefixes of longer names, stops where no name
 * continues, and keeps the longest name passed; prefixes are not names. */
static void test_walk_stops_where_no_name_continues(void **state)
{
    (void)state;
    bl_gazetteer_t *g = bl_gazetteer_new();
    assert_int_equal(bl_gazetteer_add(g, "Bank", "Bank", "ORGANIZATION", NULL, 0), 0);
    assert_int_equal(
        bl_gazetteer_add(g, "Bank of America", "Bank of America", "ORGANIZATION", NULL, 0), 0);
    assert_int_equal(bl_gazetteer_names(g), 2);
    uint64_t keys[8];
    size_t n = keys_of("Bank of England", keys, 8);
    bl_gazetteer_walk_t w;
    assert_int_equal(bl_gazetteer_walk_start(g, keys[0], &w), 1);
    assert_int_equal(w.hit.ntokens, 1);
    assert_int_equal(bl_gazetteer_walk_next(g, &w, keys[1]), 1); /* "Bank of" goes on */
    assert_int_equal(w.hit.ntokens, 1);                          /* but names nothing */
    assert_int_equal(bl_gazetteer_walk_next(g, &w, keys[2]), 0);
    assert_int_equal(w.hit.ntokens, 1);
    bl_gazetteer_hit_t hit;
    assert_int_equal(bl_gazetteer_match(g, keys, n, 0, &hit), 1);
    assert_int_equal(hit.ntokens, 1);
    n = keys_of("Bank of America said", keys, 8);
    assert_int_equal(bl_gazetteer_match(g, keys, n, 0, &hit), 1);
    assert_int_equal(hit.ntokens, 3);
    /* A key of 0 is not crossed; a token no name starts with starts nothing. */
    assert_int_equal(bl_gazetteer_walk_start(g, keys[0], &w), 1);
    assert_int_equal(bl_gazetteer_walk_next(g, &w, 0), 0);
    assert_int_equal(bl_gazetteer_walk_start(g, keys[1], &w), 0);
    assert_int_equal(w.hit.ntokens, 0);
    /* A name that is also a prefix of a longer one is found either way. */
    assert_int_equal(bl_gazetteer_add(g, "Bank of", "Bank of", "ORGANIZATION", NULL, 0), 0);
    n = keys_of("Bank of England", keys, 8);
    assert_int_equal(bl_gazetteer_match(g, keys, n, 0, &hit), 1);
    assert_int_equal(hit.ntokens, 2);
    bl_gazetteer_destroy(g);
}

/* The one-step keys of plain tokens equal the general key. */
static void test_plain_keys(void **state)
{
    (void)state;
    static const char *const words[] = {
        "a",    ".",          "'",        ",",         "ebay",
        "eBay", "Washington", "eightchr", "NineChars", "sixteen_chars_xy"};
    for (size_t i = 0; i < sizeof(words) / sizeof(*words); i++) {
        size_t len = strlen(words[i]);
        unsigned char buf[16] = {0};
        memcpy(buf, words[i], len);
        uint64_t w0 = bl_gazetteer_load_le(buf, 8), w1 = bl_gazetteer_load_le(buf + 8, 8);
        uint64_t k = len <= 8 ? bl_gazetteer_token_key_plain8(w0, len, bl_gazetteer_upper8(w0))
                              : bl_gazetteer_token_key_plain16(w0, w1, len, bl_gazetteer_upper8(w0),
                                                               bl_gazetteer_upper8(w1));
        assert_true(k == bl_gazetteer_token_key(words[i], len, NULL));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_longest_match_wins),
        cmocka_unit_test(test_aliases_case_dots_possessive),
        cmocka_unit_test(test_load_file_and_errors),
        cmocka_unit_test(test_key_upper_and_types),
        cmocka_unit_test(test_walk_stops_where_no_name_continues),
        cmocka_unit_test(test_plain_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
