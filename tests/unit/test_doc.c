/*
 * Unit tests of the doc: tokens, flags, cleaning and the simhash, pinned to
 * what records have always carried (the tokeniser's fast paths must not
 * change a flag, an offset or a fingerprint bit).
 */
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

typedef struct {
    const char *text;
    uint32_t flags;
} want_token_t;

static void tokenize(bl_doc_t *doc, const char *text)
{
    memset(doc, 0, sizeof(*doc));
    doc->text = strdup(text);
    doc->len = strlen(text);
    assert_int_equal(bl_doc_tokenize(doc), 0);
}

static void assert_tokens(const bl_doc_t *doc, const want_token_t *want, size_t n)
{
    for (size_t i = 0; i < doc->ntokens && i < n; i++) {
        const bl_token_t *t = &doc->tokens[i];
        size_t len = t->end - t->start;
        if (len != strlen(want[i].text) || memcmp(doc->text + t->start, want[i].text, len) ||
            t->flags != want[i].flags)
            fail_msg("token %zu: got '%.*s' 0x%x, want '%s' 0x%x", i, (int)len,
                     doc->text + t->start, t->flags, want[i].text, want[i].flags);
    }
    assert_int_equal(doc->ntokens, n);
}

#define W    BL_TOK_WORD
#define N    BL_TOK_NUMBER
#define P    BL_TOK_PUNCT
#define CAP  BL_TOK_CAP
#define ALL  BL_TOK_ALLCAPS
#define SENT BL_TOK_SENT
#define PARA BL_TOK_PARA

static void test_token_flags_mixed_scripts(void **state)
{
    /* Every path of the tokeniser: ASCII words, words with UTF-8 letters,
     * joiners, initials, abbreviations, numbers, non-ASCII punctuation, and
     * VT, which is punctuation to the tokeniser. */
    bl_doc_t doc;
    tokenize(&doc, "Zürich's NATO-led ÉCOLE talks: U.S. envoy J. Smith met A. I. Putin at 3.30 on "
                   "Jan. 9-10 — Москва and 中文 too. NAÏVE rock'n'roll, end-\nof line\v x");
    const want_token_t want[] = {
        {"Zürich's", W | CAP | SENT | PARA},
        {"NATO-led", W | CAP},
        {"ÉCOLE", W | CAP | ALL},
        {"talks", W},
        {":", P},
        {"U.S.", W | CAP | ALL},
        {"envoy", W},
        {"J", W | CAP | ALL},
        {".", P},
        {"Smith", W | CAP},
        {"met", W},
        {"A", W | CAP | ALL},
        {".", P},
        {"I", W | CAP | ALL},
        {".", P},
        {"Putin", W | CAP},
        {"at", W},
        {"3.30", N},
        {"on", W},
        {"Jan", W | CAP},
        {".", P},
        {"9-10", N},
        {"—", P},
        {"Москва", W | CAP},
        {"and", W},
        {"中文", W},
        {"too", W},
        {".", P},
        {"NAÏVE", W | CAP | ALL | SENT},
        {"rock'n'roll", W},
        {",", P},
        {"end", W},
        {"-", P},
        {"of", W},
        {"line", W},
        {"\v", P},
        {"x", W},
    };
    assert_tokens(&doc, want, sizeof(want) / sizeof(want[0]));
    bl_doc_clear(&doc);
}

static void test_word_ends(void **state)
{
    /* A word of ASCII letters ends at . , : (no digit before them) but not
     * at ' or - before a letter, nor at a UTF-8 letter. */
    bl_doc_t doc;
    tokenize(&doc, "ab.cd ef,gh ij:kl mn'op qr-st uvé WX'Y Zz9 OK");
    const want_token_t want[] = {
        {"ab", W | SENT | PARA},
        {".", P},
        {"cd", W | SENT},
        {"ef", W},
        {",", P},
        {"gh", W},
        {"ij", W},
        {":", P},
        {"kl", W},
        {"mn'op", W},
        {"qr-st", W},
        {"uvé", W},
        {"WX'Y", W | CAP | ALL},
        {"Zz9", W | CAP},
        {"OK", W | CAP | ALL},
    };
    assert_tokens(&doc, want, sizeof(want) / sizeof(want[0]));
    bl_doc_clear(&doc);
}

static void test_token_array_grows(void **state)
{
    /* One token per byte: more than the first allocation holds. */
    char text[4001];
    memset(text, '.', sizeof(text) - 1);
    text[sizeof(text) - 1] = '\0';
    bl_doc_t doc;
    tokenize(&doc, text);
    assert_int_equal(doc.ntokens, sizeof(text) - 1);
    assert_int_equal(doc.tokens[3999].start, 3999);
    assert_int_equal(doc.tokens[3999].flags, P);
    bl_doc_clear(&doc);
}

static uint64_t simhash_of(const char *text)
{
    bl_doc_t doc;
    tokenize(&doc, text);
    uint64_t h = bl_doc_simhash(&doc);
    bl_doc_clear(&doc);
    return h;
}

static void test_simhash_values(void **state)
{
    /* The fingerprints records carry: a change here changes every record. */
    assert_true(simhash_of("Russia has amassed some 100,000 troops close to the border with "
                           "Ukraine and in annexed Crimea, officials said on Tuesday.") ==
                0x07c730eadc62c661ULL);
    assert_true(simhash_of("Zürich's NATO-led ÉCOLE talks: U.S. envoy J. Smith met A. I. Putin "
                           "at 3.30 on Jan. 9-10 — Москва and 中文 too. NAÏVE rock'n'roll, "
                           "end-\nof line\v x") == 0x76bc37caa78b0e98ULL);
    assert_true(simhash_of("") == 0);
}

static void test_simhash_many_shingles(void **state)
{
    /* Over 255 shingles: the byte counters are flushed on the way. A text
     * of one repeated word has the same fingerprint at any length. */
    size_t n = 1000;
    char *text = malloc(n * 4 + 1);
    for (size_t i = 0; i < n; i++)
        memcpy(text + 4 * i, "war ", 4);
    text[4 * n] = '\0';
    uint64_t long_hash = simhash_of(text);
    text[4 * 10] = '\0';
    assert_true(long_hash == simhash_of(text));
    assert_true(long_hash != 0);
    free(text);
}

static void build(bl_doc_t *doc, const char *headline, const char *body, const bl_boilerplate_t *bp)
{
    bl_article_t a = {0};
    a.headline = (char *)headline;
    a.headline_len = strlen(headline);
    a.body = (char *)body;
    a.body_len = strlen(body);
    assert_int_equal(bl_doc_build(doc, &a, bp), 0);
}

static void test_cleaning(void **state)
{
    char errstr[256];
    bl_boilerplate_t *bp =
        bl_boilerplate_load(BYLINE_DEFAULT_CONFIG_DIR "/boilerplate.txt", errstr, sizeof(errstr));
    assert_non_null(bp);
    bl_doc_t doc;
    /* Case and any run of C-locale white space (VT and FF too) do not make
     * a paragraph new; boilerplate prefixes match in any case, also
     * multibyte ones; a long paragraph is never boilerplate. */
    char long_para[200];
    memset(long_para, 'x', sizeof(long_para));
    memcpy(long_para, "Subscribe ", 10);
    long_para[sizeof(long_para) - 1] = '\0';
    char body[1024];
    snprintf(body, sizeof(body),
             "Para one.\n\nPARA\v\f ONE.\n\n\t Para\tone.  \n\nSUBSCRIBE now\n\n© 2022 X\n\n"
             "%s\n\nThe\theadline\n\nLast\nline.",
             long_para);
    build(&doc, "The headline", body, bp);
    char want[1024];
    snprintf(want, sizeof(want), "The headline\n\nPara one.\n\n%s\n\nLast line.", long_para);
    assert_string_equal(doc.text, want);
    assert_int_equal(doc.paragraphs_removed, 5);
    bl_doc_clear(&doc);
    /* Without a list nothing is boilerplate. */
    build(&doc, "", "Advertisement\n\nText.", NULL);
    assert_string_equal(doc.text, "Advertisement\n\nText.");
    assert_int_equal(doc.paragraphs_removed, 0);
    bl_doc_clear(&doc);
    bl_boilerplate_destroy(bp);
}

static void test_duplicates_by_spacing(void **state)
{
    /* A paragraph equal to an earlier one but for its white space (one
     * space doubled or made a tab or a line break, anywhere) is dropped. */
    const char *base = "Alpha beta gamma delta epsilon zeta eta theta iota kappa.";
    size_t n = strlen(base), variants = 0;
    char body[8192];
    size_t used = (size_t)snprintf(body, sizeof(body), "%s", base);
    for (size_t k = 0; k < n; k++) {
        if (base[k] != ' ')
            continue;
        const char *with[] = {"  ", "\t", "\n", " \t"};
        for (size_t v = 0; v < sizeof(with) / sizeof(with[0]); v++) {
            used += (size_t)snprintf(body + used, sizeof(body) - used, "\n\n%.*s%s%s", (int)k, base,
                                     with[v], base + k + 1);
            variants++;
        }
    }
    assert_true(used < sizeof(body));
    snprintf(body + used, sizeof(body) - used, "%s",
             "\n\nalpha BETA gamma delta epsilon zeta eta theta iota kappa.");
    variants++;
    bl_doc_t doc;
    build(&doc, "", body, NULL);
    assert_string_equal(doc.text, base);
    assert_int_equal(doc.paragraphs_removed, variants);
    bl_doc_clear(&doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token_flags_mixed_scripts), cmocka_unit_test(test_word_ends),
        cmocka_unit_test(test_token_array_grows),         cmocka_unit_test(test_simhash_values),
        cmocka_unit_test(test_simhash_many_shingles),     cmocka_unit_test(test_cleaning),
        cmocka_unit_test(test_duplicates_by_spacing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
