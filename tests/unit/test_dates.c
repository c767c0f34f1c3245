/*
 * Unit tests for enrich/dates.c: every expression family with its exact
 * TIMEX3 value, type and byte offsets, resolved against a publication date
 * (2021-12-31, a Friday, unless a test says otherwise).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "enrich/enrich.h"

static bl_dates_t *dates;

static int setup(void **state)
{
    const char *dir = getenv("BYLINE_CONFIG_DIR");
    if (!dir)
        dir = BYLINE_DEFAULT_CONFIG_DIR;
    char errstr[256];
    dates = bl_dates_new(dir, errstr, sizeof(errstr));
    if (!dates)
        fprintf(stderr, "%s\n", errstr);
    return dates ? 0 : -1;
}

static int teardown(void **state)
{
    bl_dates_destroy(dates);
    return 0;
}

/* Runs the extractor over @p text published on y-m-d; caller owns the array. */
static json_t *run(const char *text, int y, int m, int d)
{
    bl_doc_t doc;
    memset(&doc, 0, sizeof(doc));
    doc.text = (char *)text;
    doc.len = strlen(text);
    doc.published.year = y;
    doc.published.month = m;
    doc.published.day = d;
    json_t *rec = json_object();
    assert_int_equal(bl_dates_extract(dates, &doc, rec), 0);
    json_t *arr = json_incref(json_object_get(rec, "dates"));
    json_decref(rec);
    assert_non_null(arr);
    /* Every span is exact: text == doc.text[start:end]. */
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o)
    {
        size_t start = (size_t)json_integer_value(json_object_get(o, "start"));
        size_t end = (size_t)json_integer_value(json_object_get(o, "end"));
        const char *t = json_string_value(json_object_get(o, "text"));
        assert_true(start < end && end <= doc.len);
        assert_int_equal(strlen(t), end - start);
        assert_memory_equal(t, text + start, end - start);
    }
    return arr;
}

/* Asserts that @p arr[idx] is @p expr (its first occurrence in @p text) with this value and type.
 */
static void expect(json_t *arr, size_t idx, const char *text, const char *expr, const char *value,
                   const char *type)
{
    json_t *o = json_array_get(arr, idx);
    if (!o)
        fail_msg("no timex #%zu (wanted \"%s\")", idx, expr);
    const char *found = strstr(text, expr);
    assert_non_null(found);
    assert_string_equal(json_string_value(json_object_get(o, "text")), expr);
    assert_int_equal(json_integer_value(json_object_get(o, "start")), found - text);
    assert_int_equal(json_integer_value(json_object_get(o, "end")), found - text + strlen(expr));
    assert_string_equal(json_string_value(json_object_get(o, "value")), value);
    assert_string_equal(json_string_value(json_object_get(o, "type")), type);
}

/* One expression in a sentence: exactly one timex, with this text, value and type. */
static void one(const char *text, const char *expr, const char *value, const char *type)
{
    json_t *arr = run(text, 2021, 12, 31);
    if (json_array_size(arr) != 1) {
        char *dump = json_dumps(arr, 0);
        fail_msg("\"%s\": %zu timexes: %s", text, json_array_size(arr), dump);
    }
    expect(arr, 0, text, expr, value, type);
    json_decref(arr);
}

static void none(const char *text)
{
    json_t *arr = run(text, 2021, 12, 31);
    if (json_array_size(arr) != 0) {
        char *dump = json_dumps(arr, 0);
        fail_msg("\"%s\": expected no timex, got %s", text, dump);
    }
    json_decref(arr);
}

static void test_absolute(void **state)
{
    one("The deal closed on December 31, 2021, officials said.", "December 31, 2021", "2021-12-31",
        "DATE");
    one("It was signed on 31 December 2021 in Paris.", "31 December 2021", "2021-12-31", "DATE");
    one("He was born in 1997.", "1997", "1997", "DATE");
    one("Prices soared in the 1990s.", "the 1990s", "199", "DATE");
    one("The plant opened in March 2008.", "March 2008", "2008-03", "DATE");
    one("Deliveries begin in mid-2009.", "mid-2009", "2009-06-XX", "DATE");
    one("Sales fell in early 2009.", "early 2009", "2009", "DATE");
    one("The memo is dated 7/8/07.", "7/8/07", "2007-07-08", "DATE");
    one("The filing, dated 2021-03-04, was late.", "2021-03-04", "2021-03-04", "DATE");
    one("Talks resumed on Feb. 2, 2019.", "Feb. 2, 2019", "2019-02-02", "DATE");
}

static void test_month_day_without_year(void **state)
{
    /* Nearest to the publication date: January 10 after a December 31 article is next year. */
    one("The vote is on January 10.", "January 10", "2022-01-10", "DATE");
    one("Talks resume Feb. 2.", "Feb. 2", "2022-02-02", "DATE");
    /* Past tense keeps it in the past. */
    one("The company was founded on January 10.", "January 10", "2021-01-10", "DATE");
    one("Shares fell on December 20.", "December 20", "2021-12-20", "DATE");
    /* A planned event later in the publication month stays this year. */
    json_t *arr = run("Apple announced an event to be held on October 12.", 2005, 10, 4);
    expect(arr, 0, "Apple announced an event to be held on October 12.", "October 12", "2005-10-12",
           "DATE");
    json_decref(arr);

    const char *text = "Meetings are set for Jan 9-10 in Geneva.";
    arr = run(text, 2021, 12, 31);
    assert_int_equal(json_array_size(arr), 2);
    expect(arr, 0, text, "Jan 9", "2022-01-09", "DATE");
    assert_string_equal(json_string_value(json_object_get(json_array_get(arr, 1), "text")), "10");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(arr, 1), "start")),
                     strstr(text, "10") - text);
    assert_string_equal(json_string_value(json_object_get(json_array_get(arr, 1), "value")),
                        "2022-01-10");
    json_decref(arr);
}

static void test_months(void **state)
{
    one("Sales rose in June.", "June", "2021-06", "DATE");
    one("The factory will reopen in May.", "May", "2022-05", "DATE");
    one("Production began last March.", "last March", "2021-03", "DATE");
    one("The contract was awarded in November 2006.", "November 2006", "2006-11", "DATE");
}

static void test_weekdays(void **state)
{
    /* 2021-12-31 is a Friday. */
    one("The minister resigned on Thursday.", "Thursday", "2021-12-30", "DATE");
    one("The minister will resign on Thursday.", "Thursday", "2022-01-06", "DATE");
    one("He spoke on Friday.", "Friday", "2021-12-31", "DATE");
    one("They met last Monday.", "last Monday", "2021-12-27", "DATE");
    one("They meet next Monday.", "next Monday", "2022-01-03", "DATE");
    one("The fire started Friday morning.", "Friday morning", "2021-12-31TMO", "TIME");
    one("The trial is set to begin on Wednesday.", "Wednesday", "2022-01-05", "DATE");
}

static void test_relative(void **state)
{
    one("He arrived yesterday.", "yesterday", "2021-12-30", "DATE");
    one("Today the market closed early.", "Today", "2021-12-31", "DATE");
    one("The results come out tomorrow.", "tomorrow", "2022-01-01", "DATE");
    one("Prices rose last week.", "last week", "2021-W51", "DATE");
    one("Talks continue this week.", "this week", "2021-W52", "DATE");
    one("Voting starts next month.", "next month", "2022-01", "DATE");
    one("The tax was raised earlier this month.", "earlier this month", "2021-12", "DATE");
    one("Profits doubled last year.", "last year", "2020", "DATE");
    one("A new model ships next year.", "next year", "2022", "DATE");
    one("The plane landed two days ago.", "two days ago", "2021-12-29", "DATE");
    one("The firm was sold three years ago.", "three years ago", "2018", "DATE");
    one("The site is now closed.", "now", "PRESENT_REF", "DATE");
    one("The mine is currently shut.", "currently", "PRESENT_REF", "DATE");
    one("The bank recently cut rates.", "recently", "PAST_REF", "DATE");
    one("Such errors happened in the past.", "the past", "PAST_REF", "DATE");
    one("Results fell in the last quarter.", "the last quarter", "2021-Q3", "DATE");
    one("The shop closes this weekend.", "this weekend", "2021-W52-WE", "DATE");
    one("Talks were held this past week.", "this past week", "2021-W51", "DATE");
    one("Rebels attacked the town over the weekend.", "the weekend", "2021-W51-WE", "DATE");
    one("Shops were busy at Christmas.", "Christmas", "2021-12-25", "DATE");
    one("Feb. 2: What you need to know", "Feb. 2", "2022-02-02", "DATE");
}

static void test_durations(void **state)
{
    one("The treaty held for 50 years.", "50 years", "P50Y", "DURATION");
    one("They had a five-hour meeting.", "five-hour", "PT5H", "DURATION");
    one("Talks lasted several months.", "several months", "PXM", "DURATION");
    one("The strike lasted two weeks.", "two weeks", "P2W", "DURATION");
    one("It ended a fifty-year partnership.", "fifty-year", "P50Y", "DURATION");
    one("The rebuild took almost two and a half years.", "almost two and a half years", "P2.5Y",
        "DURATION");
    one("The index rose in the past decade.", "the past decade", "P10Y", "DURATION");
    one("Output will grow over the next four years.", "the next four years", "P4Y", "DURATION");
    one("The flight took thirty minutes.", "thirty minutes", "PT30M", "DURATION");
}

static void test_times(void **state)
{
    one("The ship sank at 2030 GMT.", "2030 GMT", "2021-12-31T20:30Z", "TIME");
    one("Polls close at 3 p.m. in the capital.", "3 p.m.", "2021-12-31T15:00", "TIME");
    one("The launch is at noon.", "noon", "2021-12-31T12:00", "TIME");
    one("The band plays tonight.", "tonight", "2021-12-31TNI", "TIME");
    one("Markets fell this morning.", "this morning", "2021-12-31TMO", "TIME");
    one("The crash happened at 18:00 UTC.", "18:00 UTC", "2021-12-31T18:00Z", "TIME");
    /* A clock time takes its day from the date just mentioned. */
    const char *text = "The attack began on Tuesday at 18:00 UTC.";
    json_t *arr = run(text, 2021, 12, 31);
    assert_int_equal(json_array_size(arr), 2);
    expect(arr, 0, text, "Tuesday", "2021-12-28", "DATE");
    expect(arr, 1, text, "18:00 UTC", "2021-12-28T18:00Z", "TIME");
    json_decref(arr);
}

static void test_sets(void **state)
{
    one("The fair is held annually.", "annually", "P1Y", "SET");
    one("The fee rises every year.", "every year", "P1Y", "SET");
    one("The paper comes out weekly.", "weekly", "P1W", "SET");
    one("Bills are paid each month.", "each month", "P1M", "SET");
    one("He earns $5 million a year.", "a year", "P1Y", "SET");
    one("The club meets every Monday.", "every Monday", "XXXX-WXX-1", "SET");
}

static void test_quarters_seasons_fiscal(void **state)
{
    one("Profit rose in the third quarter of 2021.", "the third quarter of 2021", "2021-Q3",
        "DATE");
    one("Sales fell in the first half of 2008.", "the first half of 2008", "2008-H1", "DATE");
    one("The shares rose in the summer of 2008.", "the summer of 2008", "2008-SU", "DATE");
    one("Prices peaked last summer.", "last summer", "2021-SU", "DATE");
    one("Revenue for fiscal 2008 was flat.", "fiscal 2008", "FY2008", "DATE");
    one("Its fourth-quarter profit fell.", "fourth-quarter", "2021-Q4", "DATE");
    one("Steam changed the 19th century.", "the 19th century", "18", "DATE");
}

static void test_false_positives(void **state)
{
    none("The minister may resign, officials said.");
    none("May I ask a question?");
    none("Theresa May said no.");
    none("Protesters march to the capital.");
    none("Nearly 1,000 people attended.");
    none("The painting sold for $1997 at the auction.");
    none("Airbus delivered the A320 and the 787-9.");
    none("Inflation reached 2021% in the model.");
    none("Unemployment rose to 5.2 percent.");
    none("The city has 2 million residents.");
    none("The company hired 2000 workers.");
    none("A second aircraft was delivered.");
    none("the now-cancelled deal");
    one("The ceremony is in May.", "May", "2021-05", "DATE");
    one("He was born on May 5, 1960.", "May 5, 1960", "1960-05-05", "DATE");
}

static void test_unknown_publication_date(void **state)
{
    const char *text = "He arrived yesterday and leaves on Thursday, January 13.";
    json_t *arr = run(text, 0, 0, 0);
    assert_int_equal(json_array_size(arr), 2);
    expect(arr, 0, text, "yesterday", "XXXX-XX-XX", "DATE");
    expect(arr, 1, text, "Thursday, January 13", "XXXX-01-13", "DATE");
    json_decref(arr);
    arr = run("It opened on Thursday, in 1997, last year.", 0, 0, 0);
    assert_int_equal(json_array_size(arr), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(arr, 0), "value")),
                        "XXXX-WXX-4");
    assert_string_equal(json_string_value(json_object_get(json_array_get(arr, 1), "value")),
                        "1997");
    assert_string_equal(json_string_value(json_object_get(json_array_get(arr, 2), "value")),
                        "XXXX");
    json_decref(arr);
}

static void test_utf8_offsets(void **state)
{
    /* Offsets are bytes: the euro sign and curly quotes before the date take 3 bytes each. */
    const char *text = "\xE2\x80\x9C"
                       "Costs \xE2\x82\xAC"
                       "5bn\xE2\x80\x9D, it said on Tuesday.";
    json_t *arr = run(text, 2021, 12, 31);
    assert_int_equal(json_array_size(arr), 1);
    expect(arr, 0, text, "Tuesday", "2021-12-28", "DATE");
    json_decref(arr);
    json_t *empty = run("", 2021, 12, 31);
    assert_int_equal(json_array_size(empty), 0);
    json_decref(empty);
}

static void test_word_lengths(void **state)
{
    /* Words are read 8 bytes at a time: lexicon words of 8 letters or more, in any case,
     * long words that are no lexicon word, and words in the last bytes of the text. */
    one("SEPTEMBER 11, 2001 changed everything.", "SEPTEMBER 11, 2001", "2001-09-11", "DATE");
    one("Counterrevolutionary forces struck on Wednesday.", "Wednesday", "2021-12-29", "DATE");
    one("The internationalization ended on Thursday, December 30.", "Thursday, December 30",
        "2021-12-30", "DATE");
    one("It took approximately three years.", "approximately three years", "P3Y", "DURATION");
    one("It happened yesterday", "yesterday", "2021-12-30", "DATE");
    one("Today", "Today", "2021-12-31", "DATE");
}

static void test_years_below_1000(void **state)
{
    /* Values are zero-padded as printf's %04d would, a minus sign included. */
    const char *text = "It happened two years ago. Ten decades ago. Sales rose last year.";
    json_t *arr = run(text, 1, 6, 15);
    assert_int_equal(json_array_size(arr), 3);
    expect(arr, 0, text, "two years ago", "-001", "DATE");
    expect(arr, 1, text, "Ten decades ago", "-099", "DATE");
    expect(arr, 2, text, "last year", "0000", "DATE");
    json_decref(arr);
}

static void test_bad_config(void **state)
{
    char errstr[256] = "";
    assert_null(bl_dates_new("/nonexistent-dir", errstr, sizeof(errstr)));
    assert_non_null(strstr(errstr, "lexicon.tsv"));
    bl_dates_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_absolute),
        cmocka_unit_test(test_month_day_without_year),
        cmocka_unit_test(test_months),
        cmocka_unit_test(test_weekdays),
        cmocka_unit_test(test_relative),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_times),
        cmocka_unit_test(test_sets),
        cmocka_unit_test(test_quarters_seasons_fiscal),
        cmocka_unit_test(test_false_positives),
        cmocka_unit_test(test_unknown_publication_date),
        cmocka_unit_test(test_utf8_offsets),
        cmocka_unit_test(test_word_lengths),
        cmocka_unit_test(test_years_below_1000),
        cmocka_unit_test(test_bad_config),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
