/*
 * article: decode one input message into an article. Pure; any thread.
 * Checks run cheapest first; every rejection says why in one line.
 */
#include "article/article.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *err_names[] = {
    [BL_DECODE_OK] = "ok",
    [BL_DECODE_EMPTY] = "empty",
    [BL_DECODE_TOO_LARGE] = "too_large",
    [BL_DECODE_INVALID_UTF8] = "invalid_utf8",
    [BL_DECODE_BINARY] = "binary",
    [BL_DECODE_BAD_JSON] = "bad_json",
    [BL_DECODE_BAD_ENVELOPE] = "bad_envelope",
    [BL_DECODE_BAD_DATE] = "bad_date",
    [BL_DECODE_NO_TEXT] = "no_text",
};

const char *bl_decode_err_name(bl_decode_err_t err)
{
    if ((unsigned)err >= sizeof(err_names) / sizeof(err_names[0]))
        return "unknown";
    return err_names[err];
}

int bl_date_valid(int year, int month, int day)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (year < 1 || year > 9999 || month < 1 || month > 12 || day < 1)
        return 0;
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    int max = mdays[month - 1] + (month == 2 && leap);
    return day <= max;
}

void bl_date_format(const bl_date_t *d, char out[11])
{
    unsigned y = (unsigned)d->year % 10000u, m = (unsigned)d->month % 100u,
             dd = (unsigned)d->day % 100u;
    out[0] = (char)('0' + y / 1000), out[1] = (char)('0' + y / 100 % 10);
    out[2] = (char)('0' + y / 10 % 10), out[3] = (char)('0' + y % 10), out[4] = '-';
    out[5] = (char)('0' + m / 10), out[6] = (char)('0' + m % 10), out[7] = '-';
    out[8] = (char)('0' + dd / 10), out[9] = (char)('0' + dd % 10), out[10] = '\0';
}

void bl_article_clear(bl_article_t *a)
{
    if (!a)
        return;
    free(a->id);
    free(a->url);
    free(a->publisher);
    free(a->language);
    free(a->headline);
    free(a->body);
    memset(a, 0, sizeof(*a));
}

/* p[0, 8) as a number with p[0] lowest, on any host (compilers make it one load). */
static inline uint64_t load64_le(const unsigned char *p)
{
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
           (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
           (uint64_t)p[7] << 56;
}

/*
 * The top bit of each byte of @p w that is not printable ASCII (0x20..0x7e),
 * the bulk of any article: bytes that check_text() must look at one by one.
 * Per byte, with the top bit cleared: + 0x60 sets it iff >= 0x20, + 0x01
 * sets it iff 0x7f; no byte carries into the next.
 */
static inline uint64_t not_printable_ascii(uint64_t w)
{
    const uint64_t highs = 0x8080808080808080ULL, low7 = w & ~highs;
    uint64_t ge_space = low7 + 0x6060606060606060ULL, is_del = low7 + 0x0101010101010101ULL;
    return (w | ~ge_space | is_del) & highs;
}

/*
 * How many bytes at the start of s[0, n) are printable ASCII, counted in
 * whole 8-byte words (sixteen bytes a round): the caller checks the rest.
 */
static size_t printable_ascii_prefix(const unsigned char *s, size_t n)
{
    size_t i = 0;
    for (; n - i >= 16; i += 16) {
        uint64_t first = not_printable_ascii(load64_le(s + i));
        uint64_t second = not_printable_ascii(load64_le(s + i + 8));
        if (first)
            return i + (size_t)__builtin_ctzll(first) / 8;
        if (second)
            return i + 8 + (size_t)__builtin_ctzll(second) / 8;
    }
    if (n - i >= 8) {
        uint64_t word = not_printable_ascii(load64_le(s + i));
        return i + (word ? (size_t)__builtin_ctzll(word) / 8 : 8);
    }
    return i;
}

/*
 * Validates UTF-8 (no overlongs, no surrogates, <= U+10FFFF) and rejects
 * control bytes other than tab, LF, CR. Returns OK, INVALID_UTF8 or BINARY
 * and the byte offset of the first offending byte.
 */
static bl_decode_err_t check_text(const unsigned char *s, size_t len, size_t *bad_at)
{
    size_t i = 0;
    while (i < len) {
        i += printable_ascii_prefix(s + i, len - i);
        if (i >= len)
            break;
        /* One character checked byte by byte. */
        unsigned char c = s[i];
        if (c < 0x80) {
            if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) {
                *bad_at = i;
                return BL_DECODE_BINARY;
            }
            i++;
            continue;
        }
        size_t n;
        uint32_t cp;
        if (c >= 0xc2 && c <= 0xdf) {
            n = 2;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 3;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 4;
            cp = c & 0x07;
        } else {
            *bad_at = i;
            return BL_DECODE_INVALID_UTF8;
        }
        if (i + n > len) {
            *bad_at = i;
            return BL_DECODE_INVALID_UTF8;
        }
        for (size_t k = 1; k < n; k++) {
            if ((s[i + k] & 0xc0) != 0x80) {
                *bad_at = i;
                return BL_DECODE_INVALID_UTF8;
            }
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
            (n == 4 && (cp < 0x10000 || cp > 0x10ffff))) {
            *bad_at = i;
            return BL_DECODE_INVALID_UTF8;
        }
        i += n;
    }
    return BL_DECODE_OK;
}

static int is_blank(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!isspace((unsigned char)s[i]))
            return 0;
    return 1;
}

static char *dup_or_null(const char *s)
{
    return s && *s ? strdup(s) : NULL;
}

/* Trims ASCII white space on both ends of [*s, *s + *len). */
static void trim(const char **s, size_t *len)
{
    while (*len && isspace((unsigned char)**s)) {
        (*s)++;
        (*len)--;
    }
    while (*len && isspace((unsigned char)(*s)[*len - 1]))
        (*len)--;
}

/*
 * Parses "YYYY-MM-DD" at the start of @p s (also accepts a full ISO-8601
 * timestamp after it in envelopes). Returns 1 if it looks like a date
 * (digits and dashes), setting *valid to whether it is a real one.
 */
static int parse_ymd(const char *s, size_t len, bl_date_t *d, int *valid)
{
    if (len < 10)
        return 0;
    for (int i = 0; i < 10; i++) {
        if (i == 4 || i == 7) {
            if (s[i] != '-')
                return 0;
        } else if (!isdigit((unsigned char)s[i])) {
            return 0;
        }
    }
    d->year = atoi(s);
    d->month = (s[5] - '0') * 10 + (s[6] - '0');
    d->day = (s[8] - '0') * 10 + (s[9] - '0');
    *valid = bl_date_valid(d->year, d->month, d->day);
    return 1;
}

static void date_from_timestamp(bl_date_t *d, int64_t ts_ms)
{
    time_t t = (time_t)(ts_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    d->year = tm.tm_year + 1900;
    d->month = tm.tm_mon + 1;
    d->day = tm.tm_mday;
}

/* Normalises line ends to LF and stores the body; CRs are dropped. */
static char *copy_body(const char *s, size_t len, size_t *out_len)
{
    char *d = malloc(len + 1);
    if (!d)
        return NULL;
    /* Most text has no CR at all: copy up to the first one in bulk. */
    const char *cr = memchr(s, '\r', len);
    size_t n = cr ? (size_t)(cr - s) : len;
    memcpy(d, s, n);
    for (size_t i = n; i < len; i++)
        if (s[i] != '\r')
            d[n++] = s[i];
    d[n] = '\0';
    *out_len = n;
    return d;
}

static bl_decode_err_t set_text(bl_article_t *a, const char *headline, size_t hlen,
                                const char *body, size_t blen)
{
    trim(&headline, &hlen);
    trim(&body, &blen);
    a->headline = copy_body(headline, hlen, &a->headline_len);
    a->body = copy_body(body, blen, &a->body_len);
    if (!a->headline || !a->body)
        return BL_DECODE_NO_TEXT;
    /* A headline is one line: fold any line breaks inside it. */
    for (char *p = a->headline; *p; p++)
        if (*p == '\n' || *p == '\t')
            *p = ' ';
    return a->headline_len || a->body_len ? BL_DECODE_OK : BL_DECODE_NO_TEXT;
}

static const char *json_str(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static bl_decode_err_t decode_envelope(bl_article_t *a, const char *buf, size_t len, char *errstr,
                                       size_t errstr_size)
{
    json_error_t jerr;
    json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
    if (!root) {
        snprintf(errstr, errstr_size, "JSON does not parse: %s at line %d column %d", jerr.text,
                 jerr.line, jerr.column);
        return BL_DECODE_BAD_JSON;
    }
    bl_decode_err_t err = BL_DECODE_OK;
    if (!json_is_object(root)) {
        snprintf(errstr, errstr_size, "JSON envelope must be an object, not %s",
                 json_is_array(root) ? "an array" : "a scalar");
        err = BL_DECODE_BAD_ENVELOPE;
        goto done;
    }
    const char *fields[] = {"id",       "url",   "source", "publisher", "published",
                            "headline", "title", "body",   "text",      "language"};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        json_t *v = json_object_get(root, fields[i]);
        if (v && !json_is_string(v) && !json_is_null(v) &&
            !(strcmp(fields[i], "id") == 0 && json_is_integer(v))) {
            snprintf(errstr, errstr_size, "envelope field \"%s\" must be a string", fields[i]);
            err = BL_DECODE_BAD_ENVELOPE;
            goto done;
        }
    }
    const char *headline = json_str(root, "headline");
    if (!headline)
        headline = json_str(root, "title");
    const char *body = json_str(root, "body");
    if (!body)
        body = json_str(root, "text");
    if (!headline && !body) {
        snprintf(errstr, errstr_size,
                 "JSON envelope has neither \"headline\"/\"title\" nor \"body\"/\"text\"");
        err = BL_DECODE_BAD_ENVELOPE;
        goto done;
    }
    /* jansson decodes \u0000 into the string; a NUL inside text is binary. */
    json_t *hv =
        json_object_get(root, headline == json_str(root, "headline") ? "headline" : "title");
    json_t *bv = json_object_get(root, body == json_str(root, "body") ? "body" : "text");
    if ((hv && json_is_string(hv) && strlen(headline) != json_string_length(hv)) ||
        (bv && json_is_string(bv) && strlen(body) != json_string_length(bv))) {
        snprintf(errstr, errstr_size, "envelope text contains a NUL character");
        err = BL_DECODE_BINARY;
        goto done;
    }
    size_t bad_at;
    if (check_text((const unsigned char *)(headline ? headline : ""),
                   headline ? strlen(headline) : 0, &bad_at) != BL_DECODE_OK ||
        check_text((const unsigned char *)(body ? body : ""), body ? strlen(body) : 0, &bad_at) !=
            BL_DECODE_OK) {
        snprintf(errstr, errstr_size, "envelope text contains control characters");
        err = BL_DECODE_BINARY;
        goto done;
    }
    json_t *idv = json_object_get(root, "id");
    if (json_is_integer(idv)) {
        char tmp[32];
        snprintf(tmp, sizeof(tmp), "%" JSON_INTEGER_FORMAT, json_integer_value(idv));
        a->id = strdup(tmp);
    } else {
        a->id = dup_or_null(json_str(root, "id"));
    }
    a->url = dup_or_null(json_str(root, "url"));
    a->publisher = dup_or_null(json_str(root, "source"));
    if (!a->publisher)
        a->publisher = dup_or_null(json_str(root, "publisher"));
    a->language = dup_or_null(json_str(root, "language"));
    const char *published = json_str(root, "published");
    if (published && *published) {
        int valid = 0;
        if (!parse_ymd(published, strlen(published), &a->published, &valid) || !valid) {
            snprintf(errstr, errstr_size,
                     "envelope \"published\" is not a valid YYYY-MM-DD date: \"%.40s\"", published);
            err = BL_DECODE_BAD_DATE;
            goto done;
        }
        a->published_from = BL_PUBLISHED_ENVELOPE;
    }
    a->format = BL_FORMAT_ENVELOPE;
    err = set_text(a, headline ? headline : "", headline ? strlen(headline) : 0, body ? body : "",
                   body ? strlen(body) : 0);
    if (err != BL_DECODE_OK)
        snprintf(errstr, errstr_size, "envelope has an empty headline and body");
done:
    json_decref(root);
    return err;
}

/*
 * Raw format: " date YYYY-MM-DD headline\n\nbody". The leading space is
 * optional. Without the header the text is plain: first line headline.
 */
static bl_decode_err_t decode_text(bl_article_t *a, const char *buf, size_t len, char *errstr,
                                   size_t errstr_size)
{
    const char *p = buf;
    size_t n = len;
    while (n && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\f')) {
        p++;
        n--;
    }
    const char *line_end = memchr(p, '\n', n);
    size_t line_len = line_end ? (size_t)(line_end - p) : n;
    if (n >= 5 && strncmp(p, "date", 4) == 0 && (p[4] == ' ' || p[4] == '\t')) {
        const char *d = p + 5;
        size_t dlen = line_len - 5;
        while (dlen && (*d == ' ' || *d == '\t')) {
            d++;
            dlen--;
        }
        int valid = 0;
        if (parse_ymd(d, dlen, &a->published, &valid) &&
            (dlen == 10 || isspace((unsigned char)d[10]))) {
            if (!valid) {
                snprintf(errstr, errstr_size, "date header \"%.10s\" is not a calendar date", d);
                memset(&a->published, 0, sizeof(a->published));
                return BL_DECODE_BAD_DATE;
            }
            a->format = BL_FORMAT_RAW;
            a->published_from = BL_PUBLISHED_HEADER;
            const char *headline = d + 10;
            size_t hlen = line_len - (size_t)(headline - p);
            const char *body = line_end ? line_end + 1 : p + n;
            size_t blen = (size_t)(buf + len - body);
            bl_decode_err_t err = set_text(a, headline, hlen, body, blen);
            if (err != BL_DECODE_OK)
                snprintf(errstr, errstr_size, "article has a date header but no text");
            return err;
        }
        snprintf(errstr, errstr_size, "date header does not hold a YYYY-MM-DD date: \"%.*s\"",
                 (int)(dlen < 40 ? dlen : 40), d);
        return BL_DECODE_BAD_DATE;
    }
    /* Plain text: the first line is the headline when a blank line follows it. */
    a->format = BL_FORMAT_PLAIN;
    const char *body = line_end ? line_end + 1 : p + n;
    size_t blen = (size_t)(buf + len - body);
    const char *bp = body;
    size_t bn = blen;
    while (bn && (*bp == ' ' || *bp == '\t' || *bp == '\r'))
        bp++, bn--;
    if (line_end && bn && *bp == '\n')
        return set_text(a, p, line_len, body, blen);
    return set_text(a, "", 0, p, n);
}

/* Header values come from anyone: use them only when they are clean text. */
static int header_ok(const char *v)
{
    size_t bad_at, n = v ? strlen(v) : 0;
    return n > 0 && n <= 2048 && check_text((const unsigned char *)v, n, &bad_at) == BL_DECODE_OK;
}

bl_decode_err_t bl_article_decode(bl_article_t *a, const char *buf, size_t len,
                                  const bl_article_meta_t *meta, size_t max_bytes, char *errstr,
                                  size_t errstr_size)
{
    memset(a, 0, sizeof(*a));
    errstr[0] = '\0';
    if (len == 0 || !buf) {
        snprintf(errstr, errstr_size, "message is empty");
        return BL_DECODE_EMPTY;
    }
    if (max_bytes && len > max_bytes) {
        snprintf(errstr, errstr_size, "message is %zu bytes, over the limit of %zu", len,
                 max_bytes);
        return BL_DECODE_TOO_LARGE;
    }
    size_t bad_at = 0;
    bl_decode_err_t err = check_text((const unsigned char *)buf, len, &bad_at);
    if (err == BL_DECODE_INVALID_UTF8) {
        snprintf(errstr, errstr_size, "invalid UTF-8 at byte %zu", bad_at);
        return err;
    }
    if (err == BL_DECODE_BINARY) {
        snprintf(errstr, errstr_size, "control byte 0x%02x at byte %zu (binary data?)",
                 (unsigned char)buf[bad_at], bad_at);
        return err;
    }
    if (is_blank(buf, len)) {
        snprintf(errstr, errstr_size, "message is white space only");
        return BL_DECODE_EMPTY;
    }
    const char *p = buf;
    size_t n = len;
    trim(&p, &n);
    if (*p == '{' || *p == '[')
        err = decode_envelope(a, p, n, errstr, errstr_size);
    else
        err = decode_text(a, buf, len, errstr, errstr_size);
    if (err != BL_DECODE_OK) {
        bl_article_clear(a);
        return err;
    }
    if (meta) {
        if (!a->id && header_ok(meta->id))
            a->id = strdup(meta->id);
        if (!a->publisher && header_ok(meta->source))
            a->publisher = strdup(meta->source);
        if (!a->url && header_ok(meta->url))
            a->url = strdup(meta->url);
        if (a->published_from == BL_PUBLISHED_NONE && meta->timestamp_ms > 0) {
            date_from_timestamp(&a->published, meta->timestamp_ms);
            a->published_from = BL_PUBLISHED_KAFKA_TIMESTAMP;
        }
    }
    return BL_DECODE_OK;
}
