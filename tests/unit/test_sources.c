/*
 * Unit tests for the sources extractor (enrich/sources.c): credited agencies,
 * datelines, cited outlets and the publisher, each with exact byte spans.
 * Runs against the shipped data files in config/sources/.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "enrich/enrich.h"

static const char *config_dir(void)
{
    const char *d = getenv("BYLINE_CONFIG_DIR");
    return d && *d ? d : BYLINE_DEFAULT_CONFIG_DIR;
}

static bl_sources_t *sources;

static int setup(void **state)
{
    char err[512] = "";
    sources = bl_sources_new(config_dir(), NULL, err, sizeof(err));
    if (!sources)
        fprintf(stderr, "bl_sources_new: %s\n", err);
    return sources ? 0 : -1;
}

static int teardown(void **state)
{
    bl_sources_destroy(sources);
    return 0;
}

/* Builds a doc whose text is exactly @p text; the headline is its first line. */
static json_t *extract_with(const bl_sources_t *src, const char *text, const char *publisher,
                            const char *url)
{
    bl_doc_t doc;
    memset(&doc, 0, sizeof(doc));
    doc.text = (char *)text;
    doc.len = strlen(text);
    const char *nl = strstr(text, "\n\n");
    doc.headline_len = nl ? (size_t)(nl - text) : doc.len;
    bl_article_t a;
    memset(&a, 0, sizeof(a));
    a.publisher = (char *)publisher;
    a.url = (char *)url;
    json_t *record = json_object();
    assert_int_equal(bl_sources_extract(src, &a, &doc, record), 0);
    json_t *s = json_object_get(record, "source");
    assert_non_null(s);
    json_incref(s);
    json_decref(record);
    return s;
}

static json_t *extract(const char *text)
{
    return extract_with(sources, text, NULL, NULL);
}

/*
 * Asserts that source[list] holds exactly the given (name, surface) pairs, in
 * order, and that each span covers the surface text. Pairs end with NULL.
 */
static void expect(const json_t *source, const char *list, const char *text, ...)
{
    const json_t *arr = json_object_get(source, list);
    assert_true(json_is_array(arr));
    va_list ap;
    va_start(ap, text);
    size_t i = 0;
    for (;; i++) {
        const char *name = va_arg(ap, const char *);
        if (!name)
            break;
        const char *surface = va_arg(ap, const char *);
        const json_t *o = json_array_get(arr, i);
        if (!o)
            fail_msg("%s: missing #%zu %s (\"%s\"); got %zu", list, i, name, surface,
                     json_array_size(arr));
        assert_string_equal(json_string_value(json_object_get(o, "name")), name);
        json_int_t s = json_integer_value(json_object_get(o, "start"));
        json_int_t e = json_integer_value(json_object_get(o, "end"));
        assert_true(s >= 0 && e > s && (size_t)e <= strlen(text));
        char got[256];
        snprintf(got, sizeof(got), "%.*s", (int)(e - s), text + s);
        assert_string_equal(got, surface);
    }
    va_end(ap);
    if (json_array_size(arr) != i) {
        char *dump = json_dumps(arr, 0);
        fail_msg("%s: expected %zu, got %s", list, i, dump);
    }
}

static void test_agency_credit_lines(void **state)
{
    const char *t = "Headline\n\nBody text said Mr Biden.\n\nREUTERS, AGENCE FRANCE-PRESSE";
    json_t *s = extract(t);
    expect(s, "agencies", t, "Reuters", "REUTERS", "AFP", "AGENCE FRANCE-PRESSE", NULL);
    expect(s, "cited", t, NULL);
    json_decref(s);

    t = "Headline\n\nBody.\n\nAFP contributed reporting.";
    s = extract(t);
    expect(s, "agencies", t, "AFP", "AFP", NULL);
    json_decref(s);

    t = "Headline\n\nBody.\n\nAgence France-Presse contributed to this report.";
    s = extract(t);
    expect(s, "agencies", t, "AFP", "Agence France-Presse", NULL);
    json_decref(s);

    t = "Headline\n\nBody.\n\nThe Associated Press writer Jim Heintz in Moscow contributed.";
    s = extract(t);
    expect(s, "agencies", t, "AP", "Associated Press", NULL);
    json_decref(s);

    t = "Headline\n\nThe talks failed, officials said. — AP";
    s = extract(t);
    expect(s, "agencies", t, "AP", "AP", NULL);
    json_decref(s);

    t = "Headline\n\nBody.\n\n— With agencies";
    s = extract(t);
    expect(s, "agencies", t, "Agencies", "agencies", NULL);
    json_decref(s);

    t = "Headline\n\nBody.\n\n(Reporting by Jane Doe in London; Editing by John Roe)";
    s = extract(t);
    expect(s, "agencies", t, "Reuters", "Reporting by Jane Doe in London; Editing by John Roe",
           NULL);
    json_decref(s);
}

static void test_datelines(void **state)
{
    const char *t = "WILMINGTON/MOSCOW • US President Joe Biden spoke.\n\nMore.";
    json_t *s = extract(t);
    expect(s, "datelines", t, "Wilmington", "WILMINGTON", "Moscow", "MOSCOW", NULL);
    expect(s, "agencies", t, NULL);
    json_decref(s);

    t = "Headline\n\nLONDON (Reuters) - Britain said on Monday.";
    s = extract(t);
    expect(s, "datelines", t, "London", "LONDON", NULL);
    expect(s, "agencies", t, "Reuters", "Reuters", NULL);
    json_decref(s);

    t = "Headline\n\nKYIV, Ukraine — Shelling resumed.";
    s = extract(t);
    expect(s, "datelines", t, "Kyiv", "KYIV", NULL);
    json_decref(s);

    t = "Headline\n\nMoscow, Feb 2 (Reuters) - The Kremlin said.";
    s = extract(t);
    expect(s, "datelines", t, "Moscow", "Moscow", NULL);
    expect(s, "agencies", t, "Reuters", "Reuters", NULL);
    json_decref(s);

    t = "Headline\n\nRIO DE JANEIRO (AP) — Rain fell.";
    s = extract(t);
    expect(s, "datelines", t, "Rio de Janeiro", "RIO DE JANEIRO", NULL);
    expect(s, "agencies", t, "AP", "AP", NULL);
    json_decref(s);

    t = "Headline\n\nWASHINGTON, D.C. -- Congress met.";
    s = extract(t);
    expect(s, "datelines", t, "Washington", "WASHINGTON", NULL);
    json_decref(s);

    /* Not datelines: a title-case word before a dash, an acronym, a name. */
    t = "NATO — the alliance met.\n\nMoscow - the capital - is cold.\n\nUS President Joe "
        "Biden said.\n\nUPDATE 1-Stocks fall";
    s = extract(t);
    expect(s, "datelines", t, NULL);
    json_decref(s);
}

static void test_cited_outlets(void **state)
{
    const char *t = "Headline\n\n\"We don't trust it,\" Dmitry Polyanskiy told Sky News in an "
                    "interview.\n\nThe Washington Post had reported on Monday that Moscow "
                    "replied.\n\nThat is according to the BBC.\n\nHe said in an interview with "
                    "CNN that he was sure. He told Reuters the same.";
    json_t *s = extract(t);
    expect(s, "cited", t, "Sky News", "Sky News", "The Washington Post", "The Washington Post",
           "BBC", "BBC", "CNN", "CNN", "Reuters", "Reuters", NULL);
    expect(s, "agencies", t, NULL);
    json_decref(s);

    /* Mentions without a citation cue are not citations. */
    t = "Headline\n\nThe BBC licence fee rises. Thomson Reuters shares fell. Reuters is a "
        "company. Unseen AP news.";
    s = extract(t);
    expect(s, "cited", t, NULL);
    expect(s, "agencies", t, NULL);
    json_decref(s);

    /* Word boundaries: no match inside longer words; possessives are fine. */
    t = "Headline\n\nCNNs and BBCs are not names. APPLE sued. According to CNN’s report, fine.";
    s = extract(t);
    expect(s, "cited", t, "CNN", "CNN", NULL);
    json_decref(s);
}

static void test_publisher(void **state)
{
    const char *t = "Headline\n\nBody.";
    json_t *s = extract_with(sources, t, "reuters", NULL);
    assert_string_equal(json_string_value(json_object_get(s, "publisher")), "Reuters");
    json_decref(s);

    s = extract_with(sources, t, "Some Local Gazette", "https://www.bbc.co.uk/news/1");
    assert_string_equal(json_string_value(json_object_get(s, "publisher")), "Some Local Gazette");
    json_decref(s);

    s = extract_with(sources, t, NULL, "https://edition.cnn.com/2022/02/01/europe/x/index.html");
    assert_string_equal(json_string_value(json_object_get(s, "publisher")), "CNN");
    json_decref(s);

    s = extract_with(sources, t, NULL, "http://user@WWW.BBC.CO.UK:8080/news?x=1");
    assert_string_equal(json_string_value(json_object_get(s, "publisher")), "BBC");
    json_decref(s);

    s = extract_with(sources, t, NULL, "https://example.org/a");
    assert_true(json_is_null(json_object_get(s, "publisher")));
    json_decref(s);

    s = extract_with(sources, t, NULL, NULL);
    assert_true(json_is_null(json_object_get(s, "publisher")));
    json_decref(s);
}

static void test_publisher_map_file(void **state)
{
    char path[] = "/tmp/byline_pubmap_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *map = "# extra\nexample.org\tExample News\ncnn.com\tCable News Network\n";
    assert_int_equal(write(fd, map, strlen(map)), (ssize_t)strlen(map));
    close(fd);
    char err[512] = "";
    bl_sources_t *src = bl_sources_new(config_dir(), path, err, sizeof(err));
    assert_non_null(src);
    json_t *s = extract_with(src, "H\n\nB.", NULL, "https://news.example.org/a");
    assert_string_equal(json_string_value(json_object_get(s, "publisher")), "Example News");
    json_decref(s);
    s = extract_with(src, "H\n\nB.", NULL, "https://cnn.com/a");
    assert_string_equal(json_string_value(json_object_get(s, "publisher")), "Cable News Network");
    json_decref(s);
    bl_sources_destroy(src);
    unlink(path);
}

static void test_bad_config(void **state)
{
    char err[512] = "";
    assert_null(bl_sources_new("/nonexistent/dir", NULL, err, sizeof(err)));
    assert_non_null(strstr(err, "/nonexistent/dir/sources/agencies.tsv"));
    err[0] = '\0';
    assert_null(bl_sources_new(config_dir(), "/nonexistent/map.tsv", err, sizeof(err)));
    assert_non_null(strstr(err, "/nonexistent/map.tsv"));
    /* A map that is not UTF-8 is refused at start-up, not at extraction. */
    char path[] = "/tmp/byline_badmap_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *map = "example.org\tBad \xff name\n";
    assert_int_equal(write(fd, map, strlen(map)), (ssize_t)strlen(map));
    close(fd);
    err[0] = '\0';
    assert_null(bl_sources_new(config_dir(), path, err, sizeof(err)));
    assert_non_null(strstr(err, "invalid UTF-8"));
    unlink(path);
    bl_sources_destroy(NULL);
}

/* The samples' real credits and datelines (shared/samples, when present). */
static void test_samples(void **state)
{
    const char *shared = getenv("BYLINE_SHARED_DIR");
    if (!shared)
        skip();
    static const struct {
        const char *file, *agency, *dateline, *cited;
    } cases[] = {
        {"001_a0fb72cbb98edc44.txt", "AFP", NULL, "Sky News"},
        {"002_25828fa386dd66d7.txt", "Reuters", "Wilmington", NULL},
        {"004_82b657cf8cb65e72.txt", "AFP", NULL, "The Washington Post"},
    };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/samples/%s", shared, cases[c].file);
        FILE *f = fopen(path, "rb");
        if (!f)
            skip();
        static char buf[65536];
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = '\0';
        /* The doc text is the raw input minus its " date YYYY-MM-DD " header. */
        json_t *s = extract(buf + 17);
        const json_t *ag = json_array_get(json_object_get(s, "agencies"), 0);
        assert_non_null(ag);
        assert_string_equal(json_string_value(json_object_get(ag, "name")), cases[c].agency);
        const json_t *dl = json_array_get(json_object_get(s, "datelines"), 0);
        if (cases[c].dateline)
            assert_string_equal(json_string_value(json_object_get(dl, "name")), cases[c].dateline);
        else
            assert_null(dl);
        const json_t *ci = json_array_get(json_object_get(s, "cited"), 0);
        if (cases[c].cited)
            assert_string_equal(json_string_value(json_object_get(ci, "name")), cases[c].cited);
        else
            assert_null(ci);
        json_decref(s);
    }
}

/* Through the real decoder and doc builder (the tokenised path): the same
 * results as the hand-built doc (the scanning path). */
static void test_tokenised_doc_agrees(void **state)
{
    const char *raw = " date 2022-01-01 LONDON (Reuters) - Talks\n\nKYIV, Ukraine \xe2\x80\x94 The "
                      "Washington Post had reported it, he told Sky News.\n\nBBC shares rose.\n\n"
                      "REUTERS, AGENCE FRANCE-PRESSE";
    bl_article_t a;
    bl_article_meta_t meta;
    memset(&meta, 0, sizeof(meta));
    char err[256];
    assert_int_equal(bl_article_decode(&a, raw, strlen(raw), &meta, 1 << 20, err, sizeof(err)),
                     BL_DECODE_OK);
    bl_doc_t doc;
    memset(&doc, 0, sizeof(doc));
    assert_int_equal(bl_doc_build(&doc, &a, NULL), 0);
    assert_true(doc.ntokens > 0);
    json_t *rec = json_object();
    assert_int_equal(bl_sources_extract(sources, &a, &doc, rec), 0);
    json_t *scanned = extract(doc.text);
    const json_t *tok = json_object_get(rec, "source");
    for (const char **k = (const char *[]){"agencies", "datelines", "cited", NULL}; *k; k++)
        assert_true(json_equal(json_object_get(tok, *k), json_object_get(scanned, *k)));
    expect(tok, "agencies", doc.text, "Reuters", "Reuters", "Reuters", "REUTERS", "AFP",
           "AGENCE FRANCE-PRESSE", NULL);
    expect(tok, "datelines", doc.text, "London", "LONDON", "Kyiv", "KYIV", NULL);
    expect(tok, "cited", doc.text, "The Washington Post", "The Washington Post", "Sky News",
           "Sky News", NULL);
    json_decref(scanned);
    json_decref(rec);
    bl_doc_clear(&doc);
    bl_article_clear(&a);
}

/*
 * The look-up shortcuts must not change what is found: separators met in
 * earlier paragraphs (the dateline pre-test keeps a cursor per byte), the
 * 120-byte dateline limit, two-byte aliases at the very end of the text,
 * ALL-CAPS aliases, and cue phrases after a skipped word. The tokenised path
 * agrees with the scanning path on each text.
 */
static void test_scan_edges(void **state)
{
    char t[1024];
    char w119[120], w120[121];
    memset(w119, 'W', 119);
    w119[119] = '\0';
    memset(w120, 'W', 120);
    w120[120] = '\0';
    /* Hyphens, curly quotes and a spaced dash (past 120 bytes) come before
     * the second dateline's bullet. */
    snprintf(
        t, sizeof(t),
        "Headline\n\nMOSCOW - Talks ended, well-known officials said \xe2\x80\x9cno\xe2\x80\x9d "
        "and went home after a long day of meetings in the city centre near the river - "
        "late.\n\nLONDON \xe2\x80\xa2 Rain.\n\nAn aside - not a dateline.\n\nKYIV \xe2\x80\x94 "
        "Cold.");
    json_t *s = extract(t);
    expect(s, "datelines", t, "Moscow", "MOSCOW", "London", "LONDON", "Kyiv", "KYIV", NULL);
    json_decref(s);

    /* The separator 120 bytes in still ends a dateline; 121 bytes in does not. */
    snprintf(t, sizeof(t), "Headline\n\n%s - Long.\n\n%s - Longer.", w119, w120);
    s = extract(t);
    const json_t *arr = json_object_get(s, "datelines");
    assert_int_equal(json_array_size(arr), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(arr, 0), "end")),
                     strlen("Headline\n\n") + 119);
    json_decref(s);

    snprintf(t, sizeof(t),
             "Headline\n\nThe Washington Post newspaper reported it. SKY NEWS "
             "said so. Sky NEWS said so. He told AP");
    s = extract(t);
    expect(s, "cited", t, "The Washington Post", "The Washington Post", "Sky News", "SKY NEWS",
           "AP", "AP", NULL);
    json_decref(s);

    /* The same texts through the decoder and the tokeniser. */
    const char *texts[] = {
        "MOSCOW - Talks\n\nLONDON \xe2\x80\xa2 Rain fell - and - more.\n\nKYIV, Ukraine "
        "\xe2\x80\x94 Shelling.\n\nHe told AP",
        "Headline\n\nThe Washington Post newspaper reported it. SKY NEWS said so. He told A",
    };
    for (size_t k = 0; k < sizeof(texts) / sizeof(texts[0]); k++) {
        char raw[1024];
        snprintf(raw, sizeof(raw), " date 2022-01-01 %s", texts[k]);
        bl_article_t a;
        bl_article_meta_t meta;
        memset(&meta, 0, sizeof(meta));
        char err[256];
        assert_int_equal(bl_article_decode(&a, raw, strlen(raw), &meta, 1 << 20, err, sizeof(err)),
                         BL_DECODE_OK);
        bl_doc_t doc;
        memset(&doc, 0, sizeof(doc));
        assert_int_equal(bl_doc_build(&doc, &a, NULL), 0);
        assert_true(doc.ntokens > 0);
        json_t *rec = json_object();
        assert_int_equal(bl_sources_extract(sources, &a, &doc, rec), 0);
        json_t *scanned = extract(doc.text);
        const json_t *tok = json_object_get(rec, "source");
        for (const char **l = (const char *[]){"agencies", "datelines", "cited", NULL}; *l; l++)
            assert_true(json_equal(json_object_get(tok, *l), json_object_get(scanned, *l)));
        if (k == 0) {
            expect(tok, "datelines", doc.text, "Moscow", "MOSCOW", "London", "LONDON", "Kyiv",
                   "KYIV", NULL);
            expect(tok, "cited", doc.text, "AP", "AP", NULL);
        }
        json_decref(scanned);
        json_decref(rec);
        bl_doc_clear(&doc);
        bl_article_clear(&a);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_agency_credit_lines),
        cmocka_unit_test(test_datelines),
        cmocka_unit_test(test_cited_outlets),
        cmocka_unit_test(test_publisher),
        cmocka_unit_test(test_publisher_map_file),
        cmocka_unit_test(test_bad_config),
        cmocka_unit_test(test_samples),
        cmocka_unit_test(test_tokenised_doc_agrees),
        cmocka_unit_test(test_scan_edges),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
