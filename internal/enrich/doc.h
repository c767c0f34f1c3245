/*
 * doc: the text every extractor reads. It is the record's "text" field:
 * headline, a blank line, then the cleaned body paragraphs separated by
 * blank lines. Every span byline reports is a half-open range of UTF-8
 * byte offsets into it. Built once per article, read-only afterwards.
 */
#ifndef BL_DOC_H
#define BL_DOC_H

#include <stddef.h>
#include <stdint.h>

#include "article/article.h"

/* Token flags. */
#define BL_TOK_WORD     0x0001 /* letters (may hold ' - . inside: "O'Leary", "U.S.") */
#define BL_TOK_NUMBER   0x0002 /* starts with a digit ("2021", "9-10", "3.5", "1990s") */
#define BL_TOK_PUNCT    0x0004 /* one punctuation character (or a multibyte one) */
#define BL_TOK_CAP      0x0010 /* first letter upper case */
#define BL_TOK_ALLCAPS  0x0020 /* every letter upper case, at least two letters */
#define BL_TOK_SENT     0x0040 /* first token of a sentence */
#define BL_TOK_PARA     0x0080 /* first token of a paragraph (implies SENT) */
#define BL_TOK_HEADLINE 0x0100 /* inside the headline */

typedef struct bl_token {
    uint32_t start, end; /* byte offsets into doc->text */
    uint32_t flags;
} bl_token_t;

typedef struct bl_doc {
    char *text; /* NUL-terminated; owned */
    size_t len;
    size_t headline_len; /* text[0, headline_len) is the headline */
    bl_date_t published; /* year 0 when unknown */
    bl_token_t *tokens;  /* owned */
    size_t ntokens;
    int paragraphs_removed; /* repeated or boilerplate paragraphs dropped */
} bl_doc_t;

/** Boilerplate paragraph prefixes (config/boilerplate.txt), read-only once loaded. */
typedef struct bl_boilerplate bl_boilerplate_t;
bl_boilerplate_t *bl_boilerplate_load(const char *path, char *errstr, size_t errstr_size);
void bl_boilerplate_destroy(bl_boilerplate_t *bp);

/**
 * @brief Builds the doc from a decoded article: cleans the body (drops
 *        repeated paragraphs, paragraphs equal to the headline, and, when
 *        @p bp is not NULL, boilerplate paragraphs) and tokenises.
 * @returns 0, or -1 on allocation failure.
 */
int bl_doc_build(bl_doc_t *doc, const bl_article_t *a, const bl_boilerplate_t *bp);

/** @brief Frees what the doc owns. Accepts NULL. */
void bl_doc_clear(bl_doc_t *doc);

/** @brief Tokenises doc->text into doc->tokens (called by bl_doc_build). */
int bl_doc_tokenize(bl_doc_t *doc);

/** @returns the number of words (WORD or NUMBER tokens). */
int bl_doc_word_count(const bl_doc_t *doc);

/** @returns 64-bit simhash of the text's word 3-shingles (near-duplicate fingerprint). */
uint64_t bl_doc_simhash(const bl_doc_t *doc);

#endif
