/*
 * doc: builds the text every extractor reads (headline, blank line, cleaned
 * paragraphs) and tokenises it once. Pure; any thread. The boilerplate
 * list is loaded once and only read afterwards.
 */
#include "enrich/doc.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BOILERPLATE_MAX_BYTES 160

struct bl_boilerplate {
    size_t n;
    char **prefixes; /* lower case */
};

bl_boilerplate_t *bl_boilerplate_load(const char *path, char *errstr, size_t errstr_size)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(errstr, errstr_size, "%s: %s", path, strerror(errno));
        return NULL;
    }
    bl_boilerplate_t *bp = calloc(1, sizeof(*bp));
    char line[512];
    size_t cap = 0;
    while (bp && fgets(line, sizeof(line), f)) {
        size_t len = strcspn(line, "\r\n");
        line[len] = '\0';
        if (len == 0 || line[0] == '#')
            continue;
        for (size_t i = 0; i < len; i++)
            line[i] = (char)tolower((unsigned char)line[i]);
        if (bp->n == cap) {
            cap = cap ? cap * 2 : 32;
            char **np = realloc(bp->prefixes, cap * sizeof(*np));
            if (!np)
                break;
            bp->prefixes = np;
        }
        bp->prefixes[bp->n++] = strdup(line);
    }
    fclose(f);
    return bp;
}

void bl_boilerplate_destroy(bl_boilerplate_t *bp)
{
    if (!bp)
        return;
    for (size_t i = 0; i < bp->n; i++)
        free(bp->prefixes[i]);
    free(bp->prefixes);
    free(bp);
}

static int is_boilerplate(const bl_boilerplate_t *bp, const char *p, size_t len)
{
    if (!bp || len >= BOILERPLATE_MAX_BYTES)
        return 0;
    for (size_t i = 0; i < bp->n; i++) {
        size_t plen = strlen(bp->prefixes[i]);
        if (plen <= len && strncasecmp(p, bp->prefixes[i], plen) == 0)
            return 1;
    }
    return 0;
}

/* FNV-1a over the paragraph with case and white space folded. */
static uint64_t para_hash(const char *p, size_t len)
{
    uint64_t h = 1469598103934665603ULL;
    int space = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)p[i];
        if (isspace(c)) {
            space = 1;
            continue;
        }
        if (space) {
            h = (h ^ ' ') * 1099511628211ULL;
            space = 0;
        }
        h = (h ^ (unsigned char)tolower(c)) * 1099511628211ULL;
    }
    return h;
}

void bl_doc_clear(bl_doc_t *doc)
{
    if (!doc)
        return;
    free(doc->text);
    free(doc->tokens);
    memset(doc, 0, sizeof(*doc));
}

int bl_doc_build(bl_doc_t *doc, const bl_article_t *a, const bl_boilerplate_t *bp)
{
    memset(doc, 0, sizeof(*doc));
    doc->published = a->published;
    /* The text is never longer than headline + 2 + body. */
    doc->text = malloc(a->headline_len + 2 + a->body_len + 1);
    if (!doc->text)
        return -1;
    memcpy(doc->text, a->headline, a->headline_len);
    size_t n = a->headline_len;
    doc->headline_len = n;
    uint64_t headline_hash = para_hash(a->headline, a->headline_len);

    /* Paragraph hashes seen so far: a small open-addressing set. */
    size_t cap = 64;
    while (cap < a->body_len / 16)
        cap *= 2;
    uint64_t *seen = calloc(cap, sizeof(*seen));
    if (!seen)
        return -1;

    const char *s = a->body, *end = a->body + a->body_len;
    while (s < end) {
        /* A paragraph is a run of non-blank lines. */
        while (s < end && isspace((unsigned char)*s))
            s++;
        if (s >= end)
            break;
        const char *p = s;
        const char *pe = p;
        while (pe < end) {
            const char *nl = memchr(pe, '\n', (size_t)(end - pe));
            if (!nl) {
                pe = end;
                break;
            }
            const char *q = nl + 1;
            while (q < end && (*q == ' ' || *q == '\t'))
                q++;
            if (q >= end || *q == '\n') {
                pe = nl;
                break;
            }
            pe = q;
        }
        s = pe;
        size_t plen = (size_t)(pe - p);
        while (plen && isspace((unsigned char)p[plen - 1]))
            plen--;
        uint64_t h = para_hash(p, plen);
        if (h == 0)
            h = 1;
        int drop = (h == headline_hash) || is_boilerplate(bp, p, plen);
        if (!drop) {
            size_t i = h & (cap - 1);
            while (seen[i] && seen[i] != h)
                i = (i + 1) & (cap - 1);
            if (seen[i] == h)
                drop = 1;
            else
                seen[i] = h;
        }
        if (drop) {
            doc->paragraphs_removed++;
            continue;
        }
        if (n > 0) {
            doc->text[n++] = '\n';
            doc->text[n++] = '\n';
        }
        /* Line breaks inside a paragraph become spaces (same length). */
        for (size_t i = 0; i < plen; i++)
            doc->text[n + i] = (p[i] == '\n' || p[i] == '\t') ? ' ' : p[i];
        n += plen;
    }
    free(seen);
    doc->text[n] = '\0';
    doc->len = n;
    return bl_doc_tokenize(doc);
}

/* --- tokeniser --- */

/* Decodes one code point at s (valid UTF-8 guaranteed by the decoder). */
static inline uint32_t utf8_next(const unsigned char *s, size_t *len)
{
    if (s[0] < 0x80) {
        *len = 1;
        return s[0];
    }
    if ((s[0] & 0xe0) == 0xc0) {
        *len = 2;
        return ((uint32_t)(s[0] & 0x1f) << 6) | (s[1] & 0x3f);
    }
    if ((s[0] & 0xf0) == 0xe0) {
        *len = 3;
        return ((uint32_t)(s[0] & 0x0f) << 12) | ((uint32_t)(s[1] & 0x3f) << 6) | (s[2] & 0x3f);
    }
    *len = 4;
    return ((uint32_t)(s[0] & 0x07) << 18) | ((uint32_t)(s[1] & 0x3f) << 12) |
           ((uint32_t)(s[2] & 0x3f) << 6) | (s[3] & 0x3f);
}

static inline int cp_is_space(uint32_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0xa0 || c == 0x2009 ||
           c == 0x202f || c == 0x3000 || (c >= 0x2000 && c <= 0x200b);
}

static inline int cp_is_letter(uint32_t c)
{
    if (c < 0x80)
        return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
    if (c >= 0xc0 && c <= 0x24f)
        return c != 0xd7 && c != 0xf7;
    /* Greek, Cyrillic, Armenian, Hebrew, Arabic ... and CJK: letters. */
    if (c >= 0x370 && c <= 0x1fff)
        return 1;
    if (c >= 0x3040 && c <= 0xd7ff)
        return 1;
    return 0;
}

static inline int cp_is_upper(uint32_t c)
{
    if (c < 0x80)
        return c >= 'A' && c <= 'Z';
    if (c >= 0xc0 && c <= 0xde)
        return c != 0xd7;
    if (c >= 0x100 && c <= 0x17f)
        return (c & 1) == 0;
    if (c >= 0x391 && c <= 0x3ab)
        return 1;
    if (c >= 0x400 && c <= 0x42f)
        return 1;
    return 0;
}

static inline int cp_is_digit(uint32_t c)
{
    return c >= '0' && c <= '9';
}

/* Abbreviations after which a period does not end a sentence. */
static int is_abbrev(const char *w, size_t len)
{
    static const char *const abbrevs[] = {
        "mr",     "mrs",    "ms",   "dr",   "st",   "jan",  "feb", "mar",  "apr", "jun",
        "jul",    "aug",    "sep",  "sept", "oct",  "nov",  "dec", "gen",  "col", "lt",
        "sgt",    "rep",    "sen",  "gov",  "prof", "jr",   "sr",  "vs",   "no",  "mt",
        "ft",     "capt",   "cmdr", "adm",  "maj",  "rev",  "hon", "pres", "gen", "corp",
        "messrs", "approx", "est",  "fig",  "ave",  "blvd", NULL};
    if (len == 1)
        return 1; /* initials: "J. Smith" */
    if (len > 6)
        return 0;
    char low[8];
    for (size_t i = 0; i < len; i++)
        low[i] = (char)tolower((unsigned char)w[i]);
    low[len] = '\0';
    for (int i = 0; abbrevs[i]; i++)
        if (strcmp(low, abbrevs[i]) == 0)
            return 1;
    return 0;
}

static int push_token(bl_doc_t *doc, size_t *cap, uint32_t start, uint32_t end, uint32_t flags)
{
    if (doc->ntokens == *cap) {
        *cap = *cap ? *cap * 2 : 256;
        bl_token_t *nt = realloc(doc->tokens, *cap * sizeof(*nt));
        if (!nt)
            return -1;
        doc->tokens = nt;
    }
    doc->tokens[doc->ntokens++] = (bl_token_t){start, end, flags};
    return 0;
}

int bl_doc_tokenize(bl_doc_t *doc)
{
    const unsigned char *s = (const unsigned char *)doc->text;
    size_t len = doc->len, i = 0, cap = doc->len / 5 + 16;
    free(doc->tokens);
    doc->ntokens = 0;
    doc->tokens = malloc(cap * sizeof(*doc->tokens));
    if (!doc->tokens)
        return -1;
    uint32_t pending = BL_TOK_PARA | BL_TOK_SENT; /* flags for the next word/number */
    int sentence_may_end = 0;                     /* saw . ! ? not after an abbreviation */
    while (i < len) {
        size_t cl;
        uint32_t c = s[i] < 0x80 ? (cl = 1, s[i]) : utf8_next(s + i, &cl);
        if (c == '\n') {
            /* "\n\n" separates paragraphs (and ends the headline). */
            size_t j = i;
            while (j < len && s[j] == '\n')
                j++;
            if (j - i >= 2) {
                pending |= BL_TOK_PARA | BL_TOK_SENT;
                sentence_may_end = 0;
            }
            i = j;
            continue;
        }
        if (cp_is_space(c)) {
            i += cl;
            continue;
        }
        size_t start = i;
        uint32_t flags = 0;
        if (cp_is_letter(c) || cp_is_digit(c)) {
            int upper = 0, lower = 0, possessive = 0; /* letters after ' do not count */
            flags = cp_is_digit(c) ? BL_TOK_NUMBER : BL_TOK_WORD;
            if (cp_is_upper(c))
                flags |= BL_TOK_CAP;
            while (i < len) {
                c = s[i] < 0x80 ? (cl = 1, s[i]) : utf8_next(s + i, &cl);
                if (cp_is_letter(c)) {
                    if (cp_is_upper(c))
                        upper++;
                    else if (!possessive)
                        lower++;
                    i += cl;
                    continue;
                }
                if (cp_is_digit(c)) {
                    i += cl;
                    continue;
                }
                /* Joiners inside a token: ' ’ - between letters/digits; . , :
                 * between digits; "U.S." style dotted capitals. */
                size_t nl = 0;
                uint32_t n = i + cl >= len      ? 0
                             : s[i + cl] < 0x80 ? s[i + cl]
                                                : utf8_next(s + i + cl, &nl);
                int prev_digit = i > start && isdigit(s[i - 1]);
                if ((c == '\'' || c == 0x2019) && cp_is_letter(n) && !prev_digit) {
                    possessive = 1;
                    i += cl;
                    continue;
                }
                if (c == '-' && (cp_is_letter(n) || cp_is_digit(n))) {
                    i += cl;
                    continue;
                }
                if ((c == '.' || c == ',' || c == ':') && prev_digit && cp_is_digit(n) &&
                    (flags & BL_TOK_NUMBER)) {
                    i += cl;
                    continue;
                }
                if (c == '.' && (flags & BL_TOK_WORD) && i - start == 1 && cp_is_upper(s[start]) &&
                    cp_is_letter(n) && i + 2 < len && s[i + 2] == '.') {
                    /* U.S. / U.K. / E.U.: take the letters and the dots. */
                    while (i + 1 < len && cp_is_letter(s[i + 1]) && i + 2 < len && s[i + 2] == '.')
                        i += 2, upper++;
                    i++; /* final dot */
                    upper++;
                    break;
                }
                break;
            }
            if ((flags & BL_TOK_WORD) && upper + (cp_is_upper(s[start]) ? 1 : 0) >= 2 && lower == 0)
                flags |= BL_TOK_ALLCAPS;
            if (sentence_may_end)
                pending |= BL_TOK_SENT;
            flags |= pending;
            pending = 0;
            sentence_may_end = 0;
        } else {
            i += cl;
            flags = BL_TOK_PUNCT;
            if (c == '.' || c == '!' || c == '?') {
                int abbrev = 0;
                if (c == '.' && doc->ntokens > 0) {
                    const bl_token_t *prev = &doc->tokens[doc->ntokens - 1];
                    abbrev = (prev->flags & BL_TOK_WORD) && prev->end == start &&
                             is_abbrev(doc->text + prev->start, prev->end - prev->start);
                }
                if (!abbrev)
                    sentence_may_end = 1;
            } else if (c == ':' && i < len && s[i] == '\n') {
                sentence_may_end = 1;
            }
        }
        if (start < doc->headline_len)
            flags |= BL_TOK_HEADLINE;
        if (push_token(doc, &cap, (uint32_t)start, (uint32_t)i, flags) < 0)
            return -1;
    }
    return 0;
}

int bl_doc_word_count(const bl_doc_t *doc)
{
    int n = 0;
    for (size_t i = 0; i < doc->ntokens; i++)
        if (doc->tokens[i].flags & (BL_TOK_WORD | BL_TOK_NUMBER))
            n++;
    return n;
}

/* Byte j of the result is bit j of x (0 or 1): eight counters in one word. */
static inline uint64_t spread_bits(uint64_t x)
{
    uint64_t s = (x * 0x0101010101010101ULL) & 0x8040201008040201ULL;
    return ((s + 0x7f7f7f7f7f7f7f7fULL) >> 7) & 0x0101010101010101ULL;
}

/*
 * Simhash over lower-cased word 3-shingles: near-duplicates differ in few
 * bits. Bit counts are kept eight to a word (one byte lane per bit) and
 * flushed before a lane can overflow, so a shingle costs 8 adds, not 64.
 */
uint64_t bl_doc_simhash(const bl_doc_t *doc)
{
    uint32_t ones[64] = {0};
    uint64_t lanes[8] = {0};
    uint64_t w[3] = {0, 0, 0};
    size_t nwords = 0, nshingles = 0, in_lanes = 0;
    for (size_t i = 0; i < doc->ntokens; i++) {
        const bl_token_t *t = &doc->tokens[i];
        if (!(t->flags & (BL_TOK_WORD | BL_TOK_NUMBER)))
            continue;
        uint64_t h = 1469598103934665603ULL;
        for (uint32_t k = t->start; k < t->end; k++) {
            unsigned char c = (unsigned char)doc->text[k];
            if (c >= 'A' && c <= 'Z')
                c |= 0x20;
            h = (h ^ c) * 1099511628211ULL;
        }
        w[0] = w[1];
        w[1] = w[2];
        w[2] = h;
        if (++nwords < 3)
            continue;
        uint64_t sh = w[0] * 0x9e3779b97f4a7c15ULL ^ (w[1] * 0xc2b2ae3d27d4eb4fULL) ^ w[2];
        sh ^= sh >> 29;
        sh *= 0xbf58476d1ce4e5b9ULL;
        sh ^= sh >> 32;
        for (int k = 0; k < 8; k++)
            lanes[k] += spread_bits((sh >> (8 * k)) & 0xff);
        nshingles++;
        if (++in_lanes == 255) {
            for (int b = 0; b < 64; b++)
                ones[b] += (uint32_t)((lanes[b / 8] >> (8 * (b % 8))) & 0xff);
            memset(lanes, 0, sizeof(lanes));
            in_lanes = 0;
        }
    }
    for (int b = 0; b < 64; b++)
        ones[b] += (uint32_t)((lanes[b / 8] >> (8 * (b % 8))) & 0xff);
    uint64_t out = 0;
    for (int b = 0; b < 64; b++)
        if (2 * (size_t)ones[b] > nshingles)
            out |= 1ULL << b;
    return out;
}
