/*
 * doc: builds the text every extractor reads (headline, blank line, cleaned
 * paragraphs) and tokenises it once. Pure; any thread. The boilerplate
 * list is loaded once and only read afterwards.
 */
#include "enrich/doc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BOILERPLATE_MAX_BYTES 160

/*
 * ASCII byte classes. The hot loops read this table instead of <ctype.h>,
 * whose calls go through the locale; byline never sets one, so the C
 * locale's ASCII-only answers are the ones to match. Bytes >= 0x80 are
 * only marked CH_UTF8: the tokeniser decodes them instead.
 */
enum {
    CH_SPACE = 0x01,         /* tokeniser white space: space, tab, LF, CR */
    CH_CSPACE = 0x02,        /* isspace() in the C locale: also VT and FF */
    CH_LOWER = 0x04,         /* a-z */
    CH_DIGIT = 0x08,         /* 0-9 */
    CH_UPPER = 0x10,         /* A-Z */
    CH_JOINER = 0x20,        /* ' - . , : may join the characters around them into one token */
    CH_LETTER_JOINER = 0x40, /* ' - may join two letters; . , : join only digits (or U.S.) */
    CH_UTF8 = 0x80,          /* a byte of a multibyte character */
};
#define CH_LETTER (CH_LOWER | CH_UPPER)

static const uint8_t ascii_class[256] = {
    [' '] = CH_SPACE | CH_CSPACE,
    ['\t'] = CH_SPACE | CH_CSPACE,
    ['\n'] = CH_SPACE | CH_CSPACE,
    ['\r'] = CH_SPACE | CH_CSPACE,
    ['\v'] = CH_CSPACE,
    ['\f'] = CH_CSPACE,
    ['a' ... 'z'] = CH_LOWER,
    ['A' ... 'Z'] = CH_UPPER,
    ['0' ... '9'] = CH_DIGIT,
    ['\''] = CH_JOINER | CH_LETTER_JOINER,
    ['-'] = CH_JOINER | CH_LETTER_JOINER,
    ['.'] = CH_JOINER,
    [','] = CH_JOINER,
    [':'] = CH_JOINER,
    [0x80 ... 0xff] = CH_UTF8,
};

/* A 256-entry table from a constant expression F(byte value). */
#define TABLE4(F, x)  F(x), F((x) + 1), F((x) + 2), F((x) + 3)
#define TABLE16(F, x) TABLE4(F, x), TABLE4(F, (x) + 4), TABLE4(F, (x) + 8), TABLE4(F, (x) + 12)
#define TABLE64(F, x)                                                                              \
    TABLE16(F, x), TABLE16(F, (x) + 16), TABLE16(F, (x) + 32), TABLE16(F, (x) + 48)
#define TABLE256(F) TABLE64(F, 0), TABLE64(F, 64), TABLE64(F, 128), TABLE64(F, 192)

/* tolower() of the C locale as a table: only A-Z change. */
#define FOLD(x) ((x) >= 'A' && (x) <= 'Z' ? (x) | 0x20 : (x))
static const unsigned char ascii_fold[256] = {TABLE256(FOLD)};

static inline unsigned char ascii_lower(unsigned char c)
{
    return ascii_fold[c];
}

struct bl_boilerplate {
    size_t n;
    char **prefixes;        /* lower case */
    size_t *lens;           /* strlen(prefixes[i]) */
    uint8_t first_byte[32]; /* bit set: some prefix starts with that (lower-case) byte */
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
            line[i] = (char)ascii_lower((unsigned char)line[i]);
        if (bp->n == cap) {
            cap = cap ? cap * 2 : 32;
            char **np = realloc(bp->prefixes, cap * sizeof(*np));
            size_t *nl = np ? realloc(bp->lens, cap * sizeof(*nl)) : NULL;
            if (np)
                bp->prefixes = np;
            if (!nl)
                break;
            bp->lens = nl;
        }
        char *prefix = strdup(line);
        if (!prefix)
            break;
        bp->prefixes[bp->n] = prefix;
        bp->lens[bp->n++] = len;
        unsigned char first = (unsigned char)line[0];
        bp->first_byte[first >> 3] |= (uint8_t)(1u << (first & 7));
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
    free(bp->lens);
    free(bp);
}

/* Case-insensitive (ASCII) prefix match, as strncasecmp() in the C locale. */
static int is_boilerplate(const bl_boilerplate_t *bp, const char *p, size_t len)
{
    if (!bp || len == 0 || len >= BOILERPLATE_MAX_BYTES)
        return 0;
    unsigned char first = ascii_lower((unsigned char)p[0]);
    if (!(bp->first_byte[first >> 3] & (1u << (first & 7))))
        return 0; /* most paragraphs: no prefix starts with this byte */
    for (size_t i = 0; i < bp->n; i++) {
        size_t plen = bp->lens[i], k = 0;
        if (plen > len)
            continue;
        const char *prefix = bp->prefixes[i];
        while (k < plen && ascii_lower((unsigned char)p[k]) == (unsigned char)prefix[k])
            k++;
        if (k == plen)
            return 1;
    }
    return 0;
}

#define FNV_OFFSET 1469598103934665603ULL
#define FNV_PRIME  1099511628211ULL

/* Continues FNV-1a hash @p h over p[0, len) with ASCII case folded. */
static inline uint64_t fnv_folded(uint64_t h, const unsigned char *p, size_t len)
{
    size_t i = 0;
    for (; i + 4 <= len; i += 4) { /* four a round: the loop's own cost is a third */
        h = (h ^ ascii_fold[p[i]]) * FNV_PRIME;
        h = (h ^ ascii_fold[p[i + 1]]) * FNV_PRIME;
        h = (h ^ ascii_fold[p[i + 2]]) * FNV_PRIME;
        h = (h ^ ascii_fold[p[i + 3]]) * FNV_PRIME;
    }
    for (; i < len; i++)
        h = (h ^ ascii_fold[p[i]]) * FNV_PRIME;
    return h;
}

/* 1 when some byte of @p w is below @p n (at most 128): the classic
 * word-at-a-time test, exact as a yes/no answer. */
static inline int has_byte_below(uint64_t w, unsigned n)
{
    return ((w - 0x0101010101010101ULL * n) & ~w & 0x8080808080808080ULL) != 0;
}

/*
 * 1 when the only white space in p[0, len) is single ' ' bytes between
 * other bytes and there is no other control byte: para_hash() then folds
 * no white space. Eight bytes a step.
 */
static int spacing_is_plain(const unsigned char *p, size_t len)
{
    const uint64_t spaces = 0x2020202020202020ULL;
    if (len == 0 || p[0] <= ' ' || p[len - 1] <= ' ')
        return 0;
    size_t i = 0;
    for (; i + 9 <= len; i += 8) {
        uint64_t w, next;
        memcpy(&w, p + i, sizeof(w));
        memcpy(&next, p + i + 1, sizeof(next));
        /* A zero byte in (w ^ spaces) | (next ^ spaces): two ' ' in a row. */
        if (has_byte_below(w, 0x20) || has_byte_below((w ^ spaces) | (next ^ spaces), 1))
            return 0;
    }
    for (; i < len; i++)
        if (p[i] < 0x20 || (p[i] == ' ' && i + 1 < len && p[i + 1] == ' '))
            return 0;
    return 1;
}

/* FNV-1a over the paragraph with case folded and each run of white space
 * hashed as one ' ' (none at the end). Sets *plain to spacing_is_plain(). */
static uint64_t para_hash(const char *p, size_t len, int *plain)
{
    const unsigned char *s = (const unsigned char *)p, *end = s + len;
    *plain = spacing_is_plain(s, len);
    if (*plain)
        return fnv_folded(FNV_OFFSET, s, len); /* the usual paragraph */
    uint64_t h = FNV_OFFSET;
    while (s < end) {
        if (ascii_class[*s] & CH_CSPACE) {
            do
                s++;
            while (s < end && (ascii_class[*s] & CH_CSPACE));
            if (s == end)
                break;
            h = (h ^ ' ') * FNV_PRIME;
        }
        h = (h ^ ascii_fold[*s++]) * FNV_PRIME;
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
    int plain;
    uint64_t headline_hash = para_hash(a->headline, a->headline_len, &plain);

    /* Paragraph hashes seen so far: a small open-addressing set, on the
     * stack unless the body is long. */
    uint64_t seen_stack[512];
    size_t cap = 64;
    while (cap < a->body_len / 16)
        cap *= 2;
    uint64_t *seen = seen_stack;
    if (cap > sizeof(seen_stack) / sizeof(seen_stack[0])) {
        seen = calloc(cap, sizeof(*seen));
        if (!seen)
            return -1;
    } else {
        memset(seen, 0, cap * sizeof(*seen));
    }

    const char *s = a->body, *end = a->body + a->body_len;
    while (s < end) {
        /* A paragraph is a run of non-blank lines. */
        while (s < end && (ascii_class[(unsigned char)*s] & CH_CSPACE))
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
        while (plen && (ascii_class[(unsigned char)p[plen - 1]] & CH_CSPACE))
            plen--;
        uint64_t h = para_hash(p, plen, &plain);
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
        /* Line breaks inside a paragraph become spaces (same length). There
         * are none when the spacing is plain and few otherwise: copy in
         * bulk and patch them after. */
        char *dst = doc->text + n, *dst_end = dst + plen;
        memcpy(dst, p, plen);
        if (!plain) {
            for (char *q = memchr(dst, '\n', plen); q;
                 q = memchr(q + 1, '\n', (size_t)(dst_end - q - 1)))
                *q = ' ';
            for (char *q = memchr(dst, '\t', plen); q;
                 q = memchr(q + 1, '\t', (size_t)(dst_end - q - 1)))
                *q = ' ';
        }
        n += plen;
    }
    if (seen != seen_stack)
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

/*
 * The tokeniser's classes of one code point: CH_SPACE, CH_UPPER or
 * CH_LOWER (every upper-case code point is a letter), CH_DIGIT, or none
 * for punctuation (CH_JOINER only for ASCII: ’ is tested by value). ASCII
 * comes from the table; the rest from the cp_is_* ranges above, which stay
 * the definition.
 */
static inline unsigned cp_class(uint32_t c)
{
    if (c < 0x80)
        return ascii_class[c];
    if (cp_is_space(c))
        return CH_SPACE;
    if (cp_is_letter(c))
        return cp_is_upper(c) ? CH_UPPER : CH_LOWER;
    return 0;
}

/* Abbreviations after which a period does not end a sentence. */
static int is_abbrev(const char *w, size_t len)
{
    /* Zero-padded to eight bytes, so each candidate is one 8-byte compare. */
    static const char abbrevs[][8] = {
        "mr",     "mrs",    "ms",   "dr",   "st",   "jan", "feb", "mar",  "apr", "jun",
        "jul",    "aug",    "sep",  "sept", "oct",  "nov", "dec", "gen",  "col", "lt",
        "sgt",    "rep",    "sen",  "gov",  "prof", "jr",  "sr",  "vs",   "no",  "mt",
        "ft",     "capt",   "cmdr", "adm",  "maj",  "rev", "hon", "pres", "gen", "corp",
        "messrs", "approx", "est",  "fig",  "ave",  "blvd"};
    if (len == 1)
        return 1; /* initials: "J. Smith" */
    if (len > 6)
        return 0;
    char low[8] = {0};
    for (size_t i = 0; i < len; i++)
        low[i] = (char)ascii_lower((unsigned char)w[i]);
    for (size_t i = 0; i < sizeof(abbrevs) / sizeof(abbrevs[0]); i++)
        if (memcmp(low, abbrevs[i], sizeof(low)) == 0)
            return 1;
    return 0;
}

/*
 * The common case of scan_word(), without its state: two or more ASCII
 * letters followed by the end or by a byte that cannot join them to more
 * (white space, punctuation other than ' and -). Then . , : cannot join
 * either: they need a digit before them, or a one-letter word ("U.S.").
 * Returns the end and sets *flags_out as scan_word() would, or returns 0:
 * not this case.
 */
static inline size_t scan_ascii_word(const unsigned char *s, size_t len, size_t start,
                                     unsigned first_cls, uint32_t *flags_out)
{
    size_t i = start + 1;
    unsigned seen = first_cls; /* classes of all the letters */
    while (i < len && (ascii_class[s[i]] & CH_LETTER))
        seen |= ascii_class[s[i++]];
    if (i - start < 2 || (i < len && (ascii_class[s[i]] & (CH_DIGIT | CH_LETTER_JOINER | CH_UTF8))))
        return 0;
    /* Without a ' no letter is skipped, so ALLCAPS means no lower case. */
    *flags_out = BL_TOK_WORD | ((first_cls & CH_UPPER) ? BL_TOK_CAP : 0) |
                 ((seen & CH_LOWER) ? 0 : BL_TOK_ALLCAPS);
    return i;
}

/*
 * Scans the word or number that starts at s[start] (a letter or digit of
 * classes @p first_cls) and returns where it ends; sets *flags_out to WORD
 * or NUMBER plus CAP and ALLCAPS.
 */
static size_t scan_word(const unsigned char *s, size_t len, size_t start, unsigned first_cls,
                        uint32_t *flags_out)
{
    size_t i = start;
    int upper = 0, lower = 0, possessive = 0; /* letters after ' do not count */
    uint32_t flags = (first_cls & CH_DIGIT) ? BL_TOK_NUMBER : BL_TOK_WORD;
    if (first_cls & CH_UPPER)
        flags |= BL_TOK_CAP;
    while (i < len) {
        /* Most of a word is a run of ASCII lower-case letters. */
        if (ascii_class[s[i]] & CH_LOWER) {
            do
                i++;
            while (i < len && (ascii_class[s[i]] & CH_LOWER));
            if (!possessive)
                lower = 1;
            if (i >= len)
                break;
        }
        size_t cl = 1;
        uint32_t c = s[i];
        if (c >= 0x80)
            c = utf8_next(s + i, &cl);
        unsigned cls = cp_class(c);
        if (cls & CH_LETTER) {
            if (cls & CH_UPPER)
                upper++;
            else if (!possessive)
                lower = 1;
            i += cl;
            continue;
        }
        if (cls & CH_DIGIT) {
            i += cl;
            continue;
        }
        /* Joiners inside a token: ' ’ - between letters/digits; . , :
         * between digits; "U.S." style dotted capitals. */
        if (!(cls & CH_JOINER) && c != 0x2019)
            break; /* most words end here, at a space */
        size_t nl = 0;
        uint32_t n = i + cl >= len ? 0 : s[i + cl] < 0x80 ? s[i + cl] : utf8_next(s + i + cl, &nl);
        int prev_digit = i > start && (ascii_class[s[i - 1]] & CH_DIGIT);
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
    *flags_out = flags;
    return i;
}

int bl_doc_tokenize(bl_doc_t *doc)
{
    const unsigned char *s = (const unsigned char *)doc->text;
    size_t len = doc->len, headline_len = doc->headline_len, i = 0;
    size_t cap = doc->len / 5 + 16;
    free(doc->tokens);
    doc->ntokens = 0;
    /* Kept in locals while scanning: stores through the array cannot then
     * make the compiler reload doc's fields for every token. */
    bl_token_t *tokens = malloc(cap * sizeof(*tokens));
    doc->tokens = tokens;
    if (!tokens)
        return -1;
    bl_token_t *next = tokens, *limit = tokens + cap; /* the next token goes to *next */
    /* Flags for the next word or number. A sentence end (. ! ? not after an
     * abbreviation) adds SENT at once: until that word only a paragraph
     * break can come, and it adds SENT too. */
    uint32_t pending = BL_TOK_PARA | BL_TOK_SENT;
    while (i < len) {
        if (s[i] == ' ') {
            i++; /* the usual byte between tokens */
            continue;
        }
        size_t start = i, word_end = 0;
        uint32_t flags = 0;
        unsigned cls = ascii_class[s[i]];
        if (cls & CH_LETTER)
            word_end = scan_ascii_word(s, len, start, cls, &flags);
        if (!word_end) {
            size_t cl = 1;
            uint32_t c = s[i];
            if (c >= 0x80)
                c = utf8_next(s + i, &cl);
            cls = cp_class(c);
            if (c == '\n') {
                /* "\n\n" separates paragraphs (and ends the headline). */
                size_t j = i;
                while (j < len && s[j] == '\n')
                    j++;
                if (j - i >= 2)
                    pending |= BL_TOK_PARA | BL_TOK_SENT;
                i = j;
                continue;
            }
            if (cls & CH_SPACE) {
                i += cl;
                continue;
            }
            if (cls & (CH_LETTER | CH_DIGIT)) {
                word_end = scan_word(s, len, start, cls, &flags);
            } else {
                i += cl;
                flags = BL_TOK_PUNCT;
                if (c == '.' || c == '!' || c == '?') {
                    int abbrev = 0;
                    if (c == '.' && next > tokens) {
                        const bl_token_t *prev = next - 1;
                        abbrev = (prev->flags & BL_TOK_WORD) && prev->end == start &&
                                 is_abbrev(doc->text + prev->start, prev->end - prev->start);
                    }
                    if (!abbrev)
                        pending |= BL_TOK_SENT;
                } else if (c == ':' && i < len && s[i] == '\n') {
                    pending |= BL_TOK_SENT;
                }
            }
        }
        if (word_end) {
            i = word_end;
            flags |= pending;
            pending = 0;
        }
        if (start < headline_len)
            flags |= BL_TOK_HEADLINE;
        if (next == limit) {
            size_t ntokens = (size_t)(next - tokens);
            bl_token_t *grown = realloc(tokens, 2 * ntokens * sizeof(*tokens));
            if (!grown) {
                doc->ntokens = ntokens;
                return -1;
            }
            doc->tokens = tokens = grown;
            next = tokens + ntokens;
            limit = tokens + 2 * ntokens;
        }
        *next++ = (bl_token_t){(uint32_t)start, (uint32_t)i, flags};
    }
    doc->ntokens = (size_t)(next - tokens);
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

/* Byte j of SPREAD(x) is bit j of x (0 or 1): eight counters in one word. */
#define SPREAD_BIT(x, j) ((uint64_t)(((x) >> (j)) & 1) << (8 * (j)))
#define SPREAD(x)                                                                                  \
    (SPREAD_BIT(x, 0) | SPREAD_BIT(x, 1) | SPREAD_BIT(x, 2) | SPREAD_BIT(x, 3) |                   \
     SPREAD_BIT(x, 4) | SPREAD_BIT(x, 5) | SPREAD_BIT(x, 6) | SPREAD_BIT(x, 7))
static const uint64_t spread_byte[256] = {TABLE256(SPREAD)};

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
    const unsigned char *text = (const unsigned char *)doc->text;
    size_t nwords = 0, nshingles = 0, in_lanes = 0;
    for (size_t i = 0; i < doc->ntokens; i++) {
        const bl_token_t *t = &doc->tokens[i];
        if (!(t->flags & (BL_TOK_WORD | BL_TOK_NUMBER)))
            continue;
        uint64_t h = fnv_folded(FNV_OFFSET, text + t->start, t->end - t->start);
        w[0] = w[1];
        w[1] = w[2];
        w[2] = h;
        if (++nwords < 3)
            continue;
        uint64_t sh = w[0] * 0x9e3779b97f4a7c15ULL ^ (w[1] * 0xc2b2ae3d27d4eb4fULL) ^ w[2];
        sh ^= sh >> 29;
        sh *= 0xbf58476d1ce4e5b9ULL;
        sh ^= sh >> 32;
        for (int k = 0; k < 8; k++, sh >>= 8)
            lanes[k] += spread_byte[sh & 0xff];
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
