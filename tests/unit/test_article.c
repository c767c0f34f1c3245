/* Unit tests of decoding: every input either decodes or gets a reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "article/article.h"
#include "enrich/doc.h"

#define MAX (1024 * 1024)

static bl_decode_err_t decode(bl_article_t *a, const char *s, size_t len,
                              const bl_article_meta_t *meta)
{
    char errstr[256];
    bl_decode_err_t err = bl_article_decode(a, s, len, meta, MAX, errstr, sizeof(errstr));
    if (err != BL_DECODE_OK)
        assert_true(strlen(errstr) > 0); /* every rejection says why */
    return err;
}

static void test_raw_format(void **state)
{
    bl_article_t a;
    const char *s = " date 2021-12-31 Biden and Putin talk\n\nFirst paragraph.\n\nSecond.";
    assert_int_equal(decode(&a, s, strlen(s), NULL), BL_DECODE_OK);
    assert_int_equal(a.format, BL_FORMAT_RAW);
    assert_string_equal(a.headline, "Biden and Putin talk");
    assert_string_equal(a.body, "First paragraph.\n\nSecond.");
    assert_int_equal(a.published.year, 2021);
    assert_int_equal(a.published.month, 12);
    assert_int_equal(a.published.day, 31);
    assert_int_equal(a.published_from, BL_PUBLISHED_HEADER);
    assert_null(a.id);
    bl_article_clear(&a);
}

static void test_envelope(void **state)
{
    bl_article_t a;
    const char *s =
        "{\"id\":\"a-1\",\"url\":\"https://example.org/x\",\"source\":\"Example News\","
        "\"published\":\"2022-02-02T10:00:00Z\",\"headline\":\"H\",\"body\":\"B\\u00e9\"}";
    assert_int_equal(decode(&a, s, strlen(s), NULL), BL_DECODE_OK);
    assert_int_equal(a.format, BL_FORMAT_ENVELOPE);
    assert_string_equal(a.id, "a-1");
    assert_string_equal(a.publisher, "Example News");
    assert_string_equal(a.body, "B\xc3\xa9");
    assert_int_equal(a.published_from, BL_PUBLISHED_ENVELOPE);
    assert_int_equal(a.published.day, 2);
    bl_article_clear(&a);
    /* "title" and "text" are accepted too, and an integer id. */
    s = "{\"id\":7,\"title\":\"T\",\"text\":\"X\"}";
    assert_int_equal(decode(&a, s, strlen(s), NULL), BL_DECODE_OK);
    assert_string_equal(a.id, "7");
    assert_string_equal(a.headline, "T");
    bl_article_clear(&a);
}

static void test_plain_text_uses_kafka_timestamp(void **state)
{
    bl_article_t a;
    bl_article_meta_t meta = {
        .timestamp_ms = 1640995200000LL /* 2022-01-01 */, .id = "hdr-9", .source = "Wire"};
    const char *s = "Headline here\n\nBody text.";
    assert_int_equal(decode(&a, s, strlen(s), &meta), BL_DECODE_OK);
    assert_int_equal(a.format, BL_FORMAT_PLAIN);
    assert_string_equal(a.headline, "Headline here");
    assert_string_equal(a.id, "hdr-9");
    assert_string_equal(a.publisher, "Wire");
    assert_int_equal(a.published_from, BL_PUBLISHED_KAFKA_TIMESTAMP);
    assert_int_equal(a.published.year, 2022);
    bl_article_clear(&a);
    /* No blank line after the first line: all of it is body. */
    s = "one line\nanother line";
    assert_int_equal(decode(&a, s, strlen(s), NULL), BL_DECODE_OK);
    assert_string_equal(a.headline, "");
    assert_int_equal(a.published_from, BL_PUBLISHED_NONE);
    bl_article_clear(&a);
}

static void test_rejections(void **state)
{
    bl_article_t a;
    static const struct {
        const char *s;
        size_t len;
        bl_decode_err_t want;
        const char *reason;
    } cases[] = {
        {"", 0, BL_DECODE_EMPTY, "empty"},
        {" \n\t \r\n", 6, BL_DECODE_EMPTY, "empty"},
        {"bad \xc3\x28 utf8", 11, BL_DECODE_INVALID_UTF8, "invalid_utf8"},
        {"overlong \xc0\xaf", 11, BL_DECODE_INVALID_UTF8, "invalid_utf8"},
        {"surrogate \xed\xa0\x80", 13, BL_DECODE_INVALID_UTF8, "invalid_utf8"},
        {"nul\0inside", 10, BL_DECODE_BINARY, "binary"},
        {"\x01\x02\x03\x04", 4, BL_DECODE_BINARY, "binary"},
        {"{\"headline\": \"trunc", 19, BL_DECODE_BAD_JSON, "bad_json"},
        {"[1,2]", 5, BL_DECODE_BAD_ENVELOPE, "bad_envelope"},
        {"{\"foo\":1}", 9, BL_DECODE_BAD_ENVELOPE, "bad_envelope"},
        {"{\"headline\":5}", 14, BL_DECODE_BAD_ENVELOPE, "bad_envelope"},
        {"{\"headline\":\"a\\u0000b\"}", 23, BL_DECODE_BINARY, "binary"},
        {" date 2022-02-30 Impossible\n\nBody", 33, BL_DECODE_BAD_DATE, "bad_date"},
        {" date 2022-13-01 Month\n\nBody", 28, BL_DECODE_BAD_DATE, "bad_date"},
        {" date yesterday Headline\n\nBody", 30, BL_DECODE_BAD_DATE, "bad_date"},
        {"{\"headline\":\"h\",\"published\":\"2021-02-29\"}", 41, BL_DECODE_BAD_DATE, "bad_date"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bl_decode_err_t err = decode(&a, cases[i].s, cases[i].len, NULL);
        if (err != cases[i].want)
            fail_msg("case %zu: got %s, want %s", i, bl_decode_err_name(err), cases[i].reason);
        assert_string_equal(bl_decode_err_name(err), cases[i].reason);
        assert_null(a.headline); /* nothing left allocated */
    }
    /* Over the size limit, whatever the content. */
    char errstr[128];
    assert_int_equal(bl_article_decode(&a, "0123456789", 10, NULL, 5, errstr, sizeof(errstr)),
                     BL_DECODE_TOO_LARGE);
}

static void test_every_byte_value(void **state)
{
    /* Each byte value at each offset of a message longer than the 8-byte
     * blocks the check reads at once: printable ASCII, tab, LF and CR pass;
     * other controls are binary and a lone byte >= 0x80 is invalid UTF-8,
     * both reported at their offset. */
    static const char base[] = "Headline words\n\nSome body text that follows";
    char msg[sizeof(base)], errstr[128], want[128];
    for (int b = 0; b < 256; b++) {
        for (size_t at = 0; at < sizeof(base) - 1; at++) {
            if (at == 0 && (b == '{' || b == '['))
                continue; /* a JSON envelope, tested above */
            memcpy(msg, base, sizeof(base));
            msg[at] = (char)b;
            bl_article_t a;
            bl_decode_err_t err =
                bl_article_decode(&a, msg, sizeof(base) - 1, NULL, 0, errstr, sizeof(errstr));
            if ((b >= 0x20 && b < 0x7f) || b == '\t' || b == '\n' || b == '\r') {
                if (err != BL_DECODE_OK)
                    fail_msg("byte 0x%02x at %zu: %s (%s)", b, at, bl_decode_err_name(err), errstr);
                bl_article_clear(&a);
                continue;
            }
            if (b < 0x80) {
                assert_int_equal(err, BL_DECODE_BINARY);
                snprintf(want, sizeof(want), "control byte 0x%02x at byte %zu (binary data?)", b,
                         at);
            } else {
                assert_int_equal(err, BL_DECODE_INVALID_UTF8);
                snprintf(want, sizeof(want), "invalid UTF-8 at byte %zu", at);
            }
            assert_string_equal(errstr, want);
        }
    }
}

static void test_crlf_bodies(void **state)
{
    bl_article_t a;
    const char *s = "Head\r\n\r\nLine one\r\nline two\r\n\r\nPara\rtwo";
    assert_int_equal(decode(&a, s, strlen(s), NULL), BL_DECODE_OK);
    assert_string_equal(a.headline, "Head");
    assert_string_equal(a.body, "Line one\nline two\n\nParatwo");
    assert_int_equal(a.body_len, strlen(a.body));
    bl_article_clear(&a);
}

static void test_leap_day(void **state)
{
    assert_true(bl_date_valid(2024, 2, 29));
    assert_false(bl_date_valid(2023, 2, 29));
    assert_false(bl_date_valid(1900, 2, 29));
    assert_true(bl_date_valid(2000, 2, 29));
    assert_false(bl_date_valid(2022, 4, 31));
}

static void test_doc_cleaning_and_offsets(void **state)
{
    bl_article_t a;
    const char *s = " date 2022-02-02 Same lead\n\nSame lead\n\nPara one.\n\nAdvertisement\n\n"
                    "Para   one.\n\nPara two, with\na wrapped line.";
    assert_int_equal(decode(&a, s, strlen(s), NULL), BL_DECODE_OK);
    bl_boilerplate_t *bp = NULL;
    char errstr[256];
    bp = bl_boilerplate_load(BYLINE_DEFAULT_CONFIG_DIR "/boilerplate.txt", errstr, sizeof(errstr));
    assert_non_null(bp);
    bl_doc_t doc;
    assert_int_equal(bl_doc_build(&doc, &a, bp), 0);
    /* Headline repeated as a paragraph, the boilerplate line and the
     * repeated paragraph (white space aside) are gone. */
    assert_string_equal(doc.text, "Same lead\n\nPara one.\n\nPara two, with a wrapped line.");
    assert_int_equal(doc.paragraphs_removed, 3);
    assert_int_equal(doc.headline_len, 9);
    /* Every token's offsets slice the text exactly. */
    assert_true(doc.ntokens > 0);
    assert_int_equal(doc.tokens[0].start, 0);
    assert_true(doc.tokens[0].flags & BL_TOK_HEADLINE);
    assert_true(doc.tokens[0].flags & BL_TOK_PARA);
    size_t i = 0;
    while (i < doc.ntokens && strncmp(doc.text + doc.tokens[i].start, "Para", 4) != 0)
        i++;
    assert_true(i < doc.ntokens);
    assert_true(doc.tokens[i].flags & BL_TOK_PARA);
    assert_false(doc.tokens[i].flags & BL_TOK_HEADLINE);
    assert_int_equal(bl_doc_word_count(&doc), 2 + 2 + 6);
    bl_doc_clear(&doc);
    bl_boilerplate_destroy(bp);
    bl_article_clear(&a);
}

static void test_tokens(void **state)
{
    bl_doc_t doc = {0};
    doc.text = strdup("Mr. Putin met U.S. officials in Kyiv at 3.30 on Jan. 9-10. "
                      "NATO’s chief didn’t go. Then 1990s.");
    doc.len = strlen(doc.text);
    assert_int_equal(bl_doc_tokenize(&doc), 0);
    const char *want[] = {"Mr",    ".",      "Putin", "met", "U.S.", "officials", "in", "Kyiv",
                          "at",    "3.30",   "on",    "Jan", ".",    "9-10",      ".",  "NATO’s",
                          "chief", "didn’t", "go",    ".",   "Then", "1990s",     "."};
    assert_int_equal(doc.ntokens, sizeof(want) / sizeof(want[0]));
    for (size_t i = 0; i < doc.ntokens; i++) {
        size_t len = doc.tokens[i].end - doc.tokens[i].start;
        if (len != strlen(want[i]) || memcmp(doc.text + doc.tokens[i].start, want[i], len))
            fail_msg("token %zu: got '%.*s', want '%s'", i, (int)len,
                     doc.text + doc.tokens[i].start, want[i]);
    }
    /* "Putin" follows "Mr." : not a sentence start; "NATO’s" and "Then" are. */
    assert_false(doc.tokens[2].flags & BL_TOK_SENT);
    assert_true(doc.tokens[15].flags & BL_TOK_SENT);
    assert_true(doc.tokens[15].flags & BL_TOK_ALLCAPS);
    assert_true(doc.tokens[20].flags & BL_TOK_SENT);
    assert_true(doc.tokens[4].flags & BL_TOK_ALLCAPS);
    assert_true(doc.tokens[9].flags & BL_TOK_NUMBER);
    bl_doc_clear(&doc);
}

static uint64_t simhash_of(const char *text)
{
    bl_doc_t doc = {0};
    doc.text = strdup(text);
    doc.len = strlen(text);
    bl_doc_tokenize(&doc);
    uint64_t h = bl_doc_simhash(&doc);
    bl_doc_clear(&doc);
    return h;
}

static void test_simhash_near_duplicates(void **state)
{
    const char *a = "Russia has amassed some 100,000 troops close to the border with Ukraine and "
                    "in annexed Crimea, and its announcement of surprise military exercises with "
                    "neighboring Belarus has fueled tensions further, officials said on Tuesday.";
    const char *b = "Russia has amassed some 100,000 troops close to the border with Ukraine and "
                    "in annexed Crimea, and its announcement of surprise military exercises with "
                    "neighbouring Belarus has fuelled tensions further, officials said on Tuesday.";
    const char *c = "Apple released a new iPod with video playback capabilities at an event in "
                    "San Francisco, where the chief executive also showed the next version of the "
                    "iTunes store to a crowd of developers and reporters on Wednesday morning.";
    uint64_t ha = simhash_of(a), hb = simhash_of(b), hc = simhash_of(c);
    assert_true(ha == simhash_of(a)); /* deterministic */
    int near = __builtin_popcountll(ha ^ hb), far = __builtin_popcountll(ha ^ hc);
    if (!(near <= 16 && far >= 20 && near < far))
        fail_msg("syndicated copy differs in %d bits, unrelated text in %d", near, far);
    /* Case does not matter. */
    assert_true(simhash_of("The Quick Brown Fox Jumps Over") ==
                simhash_of("the quick brown fox jumps over"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_raw_format),
        cmocka_unit_test(test_envelope),
        cmocka_unit_test(test_plain_text_uses_kafka_timestamp),
        cmocka_unit_test(test_rejections),
        cmocka_unit_test(test_every_byte_value),
        cmocka_unit_test(test_crlf_bodies),
        cmocka_unit_test(test_leap_day),
        cmocka_unit_test(test_doc_cleaning_and_offsets),
        cmocka_unit_test(test_tokens),
        cmocka_unit_test(test_simhash_near_duplicates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
