/*
 * article: decodes one input message (raw " date YYYY-MM-DD headline" format,
 * a JSON envelope, or plain text) into an article. Pure functions; any
 * thread. Everything that cannot be decoded gets a reason code and text
 * for the dead-letter topic.
 */
#ifndef BL_ARTICLE_H
#define BL_ARTICLE_H

#include <stddef.h>
#include <stdint.h>

typedef struct bl_date {
    int year, month, day; /* year 0 = unknown */
} bl_date_t;

typedef enum {
    BL_PUBLISHED_NONE = 0,
    BL_PUBLISHED_HEADER,          /* " date YYYY-MM-DD" first line */
    BL_PUBLISHED_ENVELOPE,        /* JSON envelope "published" */
    BL_PUBLISHED_KAFKA_TIMESTAMP, /* fallback: the message timestamp */
} bl_published_from_t;

typedef enum { BL_FORMAT_RAW, BL_FORMAT_ENVELOPE, BL_FORMAT_PLAIN } bl_format_t;

/** Why a message could not be decoded; the name is the DLQ reason. */
typedef enum {
    BL_DECODE_OK = 0,
    BL_DECODE_EMPTY,        /* zero bytes or whitespace only */
    BL_DECODE_TOO_LARGE,    /* over BYLINE_MAX_MESSAGE_BYTES */
    BL_DECODE_INVALID_UTF8, /* not UTF-8 */
    BL_DECODE_BINARY,       /* NUL or other control bytes */
    BL_DECODE_BAD_JSON,     /* starts like JSON, does not parse */
    BL_DECODE_BAD_ENVELOPE, /* JSON, but not an article envelope */
    BL_DECODE_BAD_DATE,     /* header or envelope date that is no date */
    BL_DECODE_NO_TEXT,      /* no headline and no body */
} bl_decode_err_t;

/** @returns the stable reason name ("empty", "invalid_utf8", ...). */
const char *bl_decode_err_name(bl_decode_err_t err);

/** What the message carried besides its value. Any field may be NULL/0. */
typedef struct bl_article_meta {
    int64_t timestamp_ms; /* Kafka message timestamp, 0 = none */
    const char *id;       /* header "id" */
    const char *source;   /* header "source" (publisher) */
    const char *url;      /* header "url" */
} bl_article_meta_t;

/**
 * A decoded article. Strings are NUL-terminated, owned by the article and
 * valid UTF-8 without NUL bytes.
 */
typedef struct bl_article {
    bl_format_t format;
    char *id;        /* envelope or header id; NULL: derive from content */
    char *url;       /* may be NULL */
    char *publisher; /* envelope "source"/"publisher" or header; may be NULL */
    char *language;  /* envelope "language"; may be NULL */
    char *headline;  /* may be "" */
    char *body;      /* paragraphs separated by blank lines; may be "" */
    size_t headline_len, body_len;
    bl_date_t published; /* year 0 when unknown */
    bl_published_from_t published_from;
} bl_article_t;

/**
 * @brief Decodes @p len bytes at @p buf.
 * @returns BL_DECODE_OK and fills @p a (free with bl_article_clear()), or an
 *          error with a one-line explanation in @p errstr; @p a is then empty.
 */
bl_decode_err_t bl_article_decode(bl_article_t *a, const char *buf, size_t len,
                                  const bl_article_meta_t *meta, size_t max_bytes, char *errstr,
                                  size_t errstr_size);

/** @brief Frees what the article owns and zeroes it. Accepts NULL. */
void bl_article_clear(bl_article_t *a);

/** @returns 1 if y-m-d is a real calendar date (proleptic Gregorian). */
int bl_date_valid(int year, int month, int day);

/** @brief Formats as YYYY-MM-DD into @p out (11 bytes). */
void bl_date_format(const bl_date_t *d, char out[11]);

#endif
