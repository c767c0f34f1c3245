/*
 * dates: finds date, time, duration and set expressions in a doc's text and
 * normalises them TIMEX3-style against the publication date, after
 * HeidelTime's news rules (bare "Thursday"/"June 18" resolved by the
 * sentence's tense cues). Word lists come from <config_dir>/dates/ (lexicon.tsv, phrases.tsv) and
 * are loaded once by bl_dates_new; extraction only reads them (any thread).
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enrich/enrich.h"

/* ------------------------------------------------------------------ */
/* Lexicon                                                            */
/* ------------------------------------------------------------------ */

enum lex_class {
    LC_MONTH,
    LC_MONTH_ABBR,
    LC_WEEKDAY,
    LC_WEEKDAY_ABBR,
    LC_NUMBER,
    LC_ORDINAL,
    LC_UNIT,
    LC_SEASON,
    LC_POD,
    LC_RELATIVE,
    LC_MODIFIER,
    LC_SET,
    LC_QUANT,
    LC_TENSE,
    LC_ZONE,
    LC_YEAR_BLOCK,
    LC_MONTH_OK,
    LC_APPROX,
    LC_CUE,
    LC_PHRASE,      /* first word of a phrases.tsv entry (set by the loader) */
    LC_PHRASE_PART, /* a later word of one */
    LC_COUNT
};

static const char *const lex_class_names[LC_COUNT] = {
    "month",  "month_abbr",  "weekday",  "weekday_abbr", "number", "ordinal",    "unit",
    "season", "part_of_day", "relative", "modifier",     "set",    "quantifier", "tense",
    "zone",   "year_block",  "month_ok", "approx",       "cue",    NULL};

enum unit { U_NONE, U_S, U_MIN, U_H, U_D, U_W, U_F, U_WE, U_M, U_Q, U_Y, U_DE, U_CE, U_HALF };
static const char *const unit_names[] = {"",   "S", "MIN", "H", "D",  "W",  "F",
                                         "WE", "M", "Q",   "Y", "DE", "CE", "HALF"};
static const char *const season_names[] = {"", "SP", "SU", "FA", "WI"};
static const char *const pod_names[] = {"", "MO", "AF", "EV", "NI"};
static const char *const modifier_names[] = {"", "START", "MID", "END"};
enum { MOD_START = 1, MOD_MID = 2, MOD_END = 3 };
enum { TENSE_NONE = 0, TENSE_PAST = 1, TENSE_FUTURE = 2, TENSE_PRESENT = 3 };
static const char *const tense_names[] = {"", "PAST", "FUTURE", "PRESENT"};
enum { QUANT_EVERY = 1, QUANT_PER = 2 };

#define LEX_WORD_MAX 24

typedef struct lex_entry {
    uint64_t chunks[LEX_WORD_MAX / 8]; /* the word as lex_words() reads it */
    char word[LEX_WORD_MAX];           /* lower case; "" = free slot */
    uint8_t len;
    uint32_t classes;
    uint32_t matchers;    /* bit k: inner_matchers[k] may start here (set once loaded) */
    uint8_t starts;       /* an expression may start here: a START_CLASSES word (set once loaded) */
    uint8_t phrase_alone; /* LC_PHRASE: the word alone is a phrase ("yesterday") */
    int8_t val[LC_COUNT]; /* all values fit: months, numbers up to 100, enums */
    char set_value[12];   /* LC_SET: the TIMEX3 value */
} lex_entry_t;

enum phrase_kind {
    PK_NONE,      /* "-": consumes the words, reports nothing */
    PK_LITERAL,   /* a TIMEX3 value as written */
    PK_ANCHOR,    /* D+n, W-1, ...: shifted from the publication date */
    PK_MONTH_DAY, /* MD12-25: a day of the year, year resolved by tense ("Christmas") */
    PK_WEEKEND,   /* WE~: the weekend nearest in the sentence's tense ("over the weekend") */
};
enum timex_type { TX_DATE, TX_TIME, TX_DURATION, TX_SET };
static const char *const type_names[] = {"DATE", "TIME", "DURATION", "SET"};

#define PHRASE_KEY_MAX 64

typedef struct phrase {
    char key[PHRASE_KEY_MAX]; /* "" = free slot */
    uint8_t key_len;
    uint8_t type;
    uint8_t kind;
    uint8_t unit; /* PK_ANCHOR */
    int16_t offset;
    char text[24]; /* PK_LITERAL: the value; PK_ANCHOR: suffix */
} phrase_t;

#define LEX_MAX_ENTRIES 2048
#define LEX_SLOTS       4096 /* power of two, at most half full */

struct bl_dates {
    lex_entry_t *lex; /* LEX_MAX_ENTRIES entries, lex_count used */
    size_t lex_count;
    /* Open addressing index into lex, small enough to stay in L1:
     * 0 = free, else (hash >> 16) << 16 | (entry index + 1). */
    uint32_t *lex_slots;
    uint32_t num_matchers, other_matchers; /* as lex_entry_t.matchers, for T_NUM and T_OTHER */
    phrase_t *phrases;
    size_t phrase_cap; /* power of two */
    int phrase_max_tokens;
};

/* ASCII-only folding: every lexicon word is ASCII, and it keeps the scan free of locale calls. */
static inline unsigned char lower_ascii(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c | 0x20) : c;
}

#define FNV_BASIS 2166136261u
#define FNV_PRIME 16777619u

static inline uint32_t hash_lower(const char *s, size_t n)
{
    uint32_t h = FNV_BASIS;
    for (size_t i = 0; i < n; i++) {
        h ^= lower_ascii((unsigned char)s[i]);
        h *= FNV_PRIME;
    }
    return h;
}

static inline int eq_lower(const char *lower, size_t lower_len, const char *s, size_t n)
{
    if (lower_len != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)lower[i] != lower_ascii((unsigned char)s[i]))
            return 0;
    return 1;
}

/* A lexicon word as three zero-padded, lower-cased 8-byte words: a lookup
 * hashes and compares the words, not the bytes. */
#define LEX_CHUNKS (LEX_WORD_MAX / 8)

/* Eight (four) bytes in text order, first byte lowest, on any machine: the
 * letter scan in tokenize() finds a word's end by the lowest non-letter byte
 * and hands those bytes to lex_find_letters. */
static inline uint64_t load8(const unsigned char *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap64(w);
#endif
    return w;
}

static inline uint32_t load4(const unsigned char *p)
{
    uint32_t w;
    memcpy(&w, p, 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap32(w);
#endif
    return w;
}

static inline uint64_t load_partial(const unsigned char *p, size_t n) /* 1 <= n <= 8 */
{
    if (n == 8)
        return load8(p);
    uint64_t w = 0;
    if (n >= 4) {
        uint32_t lo = load4(p), hi = load4(p + n - 4);
        /* The two loads overlap when n < 8: the shared bytes are equal. */
        w = (uint64_t)lo | (uint64_t)hi << (8 * (n - 4));
    } else {
        w = (uint64_t)p[0] | (uint64_t)p[n / 2] << (8 * (n / 2)) |
            (uint64_t)p[n - 1] << (8 * (n - 1));
    }
    return w;
}

/* ASCII upper case to lower case in eight bytes at once, as lower_ascii. */
static inline uint64_t lower8(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    uint64_t low7 = w & ~highs;
    uint64_t upper = (low7 + ones * (0x80 - 'A')) & ~(low7 + ones * (0x80 - 'Z' - 1)) & ~w & highs;
    return w | (upper >> 2);
}

/* 0x80 in each byte of @p w that is an ASCII letter. */
static inline uint64_t letter_bytes8(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    uint64_t low7 = (w | ones * 0x20) & ~highs; /* upper case folded into lower */
    return (low7 + ones * (0x80 - 'a')) & ~(low7 + ones * (0x80 - 'z' - 1)) & ~w & highs;
}

/* @p n is below LEX_WORD_MAX. The words are only compared with words made here. */
static inline void lex_words(const char *s, size_t n, uint64_t w[LEX_CHUNKS])
{
    for (size_t k = 0; k < LEX_CHUNKS; k++) {
        size_t at = 8 * k;
        w[k] = at < n ? lower8(load_partial((const unsigned char *)s + at, n - at < 8 ? n - at : 8))
                      : 0;
    }
}

static inline uint32_t lex_hash(const uint64_t w[LEX_CHUNKS])
{
    /* Multiplicative hashing: the high bits of the product depend on every input bit.
     * Most words fit in w[0], so this is one multiply for them. */
    uint64_t h = (w[0] ^ w[1] * 0xc2b2ae3d27d4eb4fULL ^ w[2] * 0x165667b19e3779f9ULL) *
                 0x9e3779b97f4a7c15ULL;
    /* The slot index is the low bits: fold the top ones in. */
    return (uint32_t)(h >> 32) ^ (uint32_t)(h >> 52);
}

static inline int lex_equal(const lex_entry_t *e, const uint64_t w[LEX_CHUNKS])
{
    return ((e->chunks[0] ^ w[0]) | (e->chunks[1] ^ w[1]) | (e->chunks[2] ^ w[2])) == 0;
}

static inline __attribute__((always_inline)) const lex_entry_t *
lex_probe(const bl_dates_t *d, const uint64_t w[LEX_CHUNKS])
{
    uint32_t h = lex_hash(w);
    for (size_t i = h & (LEX_SLOTS - 1);; i = (i + 1) & (LEX_SLOTS - 1)) {
        uint32_t slot = d->lex_slots[i];
        if (!slot)
            return NULL;
        if ((slot >> 16) == (h >> 16)) {
            const lex_entry_t *e = &d->lex[(slot & 0xFFFF) - 1];
            if (lex_equal(e, w))
                return e;
        }
    }
}

static const lex_entry_t *lex_find(const bl_dates_t *d, const char *s, size_t n)
{
    if (n == 0 || n >= LEX_WORD_MAX)
        return NULL;
    uint64_t w[LEX_CHUNKS];
    lex_words(s, n, w);
    return lex_probe(d, w);
}

/* The low @p n bytes of @p w (all of them when n >= 8). */
static inline uint64_t low_bytes(uint64_t w, size_t n)
{
    return n >= 8 ? w : w & ((1ULL << (8 * n)) - 1);
}

/* As lex_find for a word of @p n (1 to 15) ASCII letters, the low bytes of
 * @p lo and then @p hi (read by load8): with letters only, setting 0x20 is lower-casing. */
static inline const lex_entry_t *lex_find_letters(const bl_dates_t *d, uint64_t lo, uint64_t hi,
                                                  size_t n)
{
    const uint64_t case_bits = 0x2020202020202020ULL;
    uint64_t w[LEX_CHUNKS] = {low_bytes(lo | case_bits, n),
                              n > 8 ? low_bytes(hi | case_bits, n - 8) : 0, 0};
    return lex_probe(d, w);
}

/* @returns the entry for @p word (shorter than LEX_WORD_MAX), added if new; NULL when the
 * lexicon is full. */
static lex_entry_t *lex_get(bl_dates_t *d, const char *word)
{
    size_t n = strlen(word);
    uint64_t w[LEX_CHUNKS];
    lex_words(word, n, w);
    uint32_t h = lex_hash(w);
    for (size_t i = h & (LEX_SLOTS - 1);; i = (i + 1) & (LEX_SLOTS - 1)) {
        uint32_t slot = d->lex_slots[i];
        if (!slot) {
            if (d->lex_count == LEX_MAX_ENTRIES)
                return NULL;
            lex_entry_t *e = &d->lex[d->lex_count++];
            memcpy(e->chunks, w, sizeof(w));
            for (size_t k = 0; k < n; k++)
                e->word[k] = (char)lower_ascii((unsigned char)word[k]);
            e->len = (uint8_t)n;
            d->lex_slots[i] = (h >> 16) << 16 | (uint32_t)d->lex_count;
            return e;
        }
        if ((slot >> 16) == (h >> 16)) {
            lex_entry_t *e = &d->lex[(slot & 0xFFFF) - 1];
            if (lex_equal(e, w))
                return e;
        }
    }
}

/* @p key is lower case already and @p h is hash_lower of it: a phrase is
 * looked up word by word as it grows, and its hash grows with it. */
static const phrase_t *phrase_find(const bl_dates_t *d, const char *key, size_t n, uint32_t h)
{
    size_t mask = d->phrase_cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        const phrase_t *p = &d->phrases[i];
        if (!p->key[0])
            return NULL;
        if (p->key_len == n && memcmp(p->key, key, n) == 0)
            return p;
    }
}

static int lookup_name(const char *const *names, int count, const char *s)
{
    for (int i = 0; i < count; i++)
        if (names[i] && strcmp(names[i], s) == 0)
            return i;
    return -1;
}

#define NAMES_COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))
#define ARRAY_LEN(a)   (sizeof(a) / sizeof((a)[0]))

/* Values are emitted without a second UTF-8 check (bl_dates_extract): check them once here. */
static int valid_utf8(const char *s)
{
    json_t *probe = json_string(s);
    json_decref(probe);
    return probe != NULL;
}

/* Splits a data line into at most 3 tab-separated fields; returns the count. */
static int split_tabs(char *line, char **field)
{
    int n = 0;
    char *p = line;
    while (n < 3) {
        field[n++] = p;
        char *tab = strchr(p, '\t');
        if (!tab)
            break;
        *tab = '\0';
        p = tab + 1;
    }
    return n;
}

static int load_lexicon_line(bl_dates_t *d, char **f, char *err, size_t errn)
{
    int cls = lookup_name(lex_class_names, LC_COUNT, f[1]);
    if (cls < 0) {
        snprintf(err, errn, "unknown class \"%s\"", f[1]);
        return -1;
    }
    if (strlen(f[0]) >= LEX_WORD_MAX) {
        snprintf(err, errn, "word too long");
        return -1;
    }
    lex_entry_t *e = lex_get(d, f[0]);
    if (!e) {
        snprintf(err, errn, "more than %d words", LEX_MAX_ENTRIES);
        return -1;
    }
    int v = 0;
    switch (cls) {
    case LC_UNIT:
        v = lookup_name(unit_names, NAMES_COUNT(unit_names), f[2]);
        break;
    case LC_SEASON:
        v = lookup_name(season_names, NAMES_COUNT(season_names), f[2]);
        break;
    case LC_POD:
        v = lookup_name(pod_names, NAMES_COUNT(pod_names), f[2]);
        break;
    case LC_MODIFIER:
        v = lookup_name(modifier_names, NAMES_COUNT(modifier_names), f[2]);
        break;
    case LC_TENSE:
        v = lookup_name(tense_names, NAMES_COUNT(tense_names), f[2]);
        break;
    case LC_QUANT:
        v = strcmp(f[2], "every") == 0 ? QUANT_EVERY : strcmp(f[2], "per") == 0 ? QUANT_PER : -1;
        break;
    case LC_ZONE:
        v = strcmp(f[2], "Z") == 0 ? 1 : 2;
        break;
    case LC_SET:
        if (strlen(f[2]) >= sizeof(e->set_value)) {
            snprintf(err, errn, "set value too long");
            return -1;
        }
        if (!valid_utf8(f[2])) {
            snprintf(err, errn, "set value is not UTF-8");
            return -1;
        }
        strcpy(e->set_value, f[2]);
        v = 1;
        break;
    default: {
        char *end;
        long l = strtol(f[2], &end, 10);
        v = (*end || end == f[2]) ? -9999 : (int)l;
    }
    }
    if (v < 0 && !(cls == LC_NUMBER || cls == LC_ORDINAL || cls == LC_RELATIVE)) {
        snprintf(err, errn, "bad value \"%s\" for class %s", f[2], f[1]);
        return -1;
    }
    if (v == -9999) {
        snprintf(err, errn, "bad number \"%s\"", f[2]);
        return -1;
    }
    if (cls == LC_YEAR_BLOCK && v == 0)
        return 0; /* explicit "not a blocker" line */
    e->classes |= 1u << cls;
    if (v < -128 || v > 127) {
        snprintf(err, errn, "value %d out of range", v);
        return -1;
    }
    e->val[cls] = (int8_t)v;
    return 0;
}

static int load_phrase_line(bl_dates_t *d, char **f, char *err, size_t errn)
{
    size_t n = strlen(f[0]);
    if (n >= PHRASE_KEY_MAX) {
        snprintf(err, errn, "phrase too long");
        return -1;
    }
    int type = lookup_name(type_names, NAMES_COUNT(type_names), f[1]);
    if (type < 0) {
        snprintf(err, errn, "unknown type \"%s\"", f[1]);
        return -1;
    }
    phrase_t p;
    memset(&p, 0, sizeof(p));
    for (size_t k = 0; k < n; k++)
        p.key[k] = (char)lower_ascii((unsigned char)f[0][k]);
    p.key_len = (uint8_t)n;
    p.type = (uint8_t)type;
    const char *t = f[2];
    if (!valid_utf8(t)) {
        snprintf(err, errn, "value is not UTF-8");
        return -1;
    }
    int md_month, md_day;
    if (strcmp(t, "-") == 0) {
        p.kind = PK_NONE;
    } else if (strcmp(t, "WE~") == 0) {
        p.kind = PK_WEEKEND;
    } else if (sscanf(t, "MD%2d-%2d", &md_month, &md_day) == 2) {
        if (md_month < 1 || md_month > 12 || md_day < 1 || md_day > 31) {
            snprintf(err, errn, "bad template \"%s\"", t);
            return -1;
        }
        p.kind = PK_MONTH_DAY;
        p.unit = (uint8_t)md_month;
        p.offset = (int16_t)md_day;
    } else if ((t[0] == 'D' || t[0] == 'W' || t[0] == 'M' || t[0] == 'Y' || t[0] == 'Q') &&
               (t[1] == '+' || t[1] == '-' || (t[0] == 'W' && t[1] == 'E'))) {
        const char *q = t + 1;
        p.unit = t[0] == 'D'   ? U_D
                 : t[0] == 'M' ? U_M
                 : t[0] == 'Y' ? U_Y
                 : t[0] == 'Q' ? U_Q
                               : U_W;
        if (t[0] == 'W' && t[1] == 'E') {
            p.unit = U_WE;
            q = t + 2;
        }
        char *end;
        long off = strtol(q, &end, 10);
        if (end == q || (*end && *end != '|')) {
            snprintf(err, errn, "bad template \"%s\"", t);
            return -1;
        }
        p.offset = (int16_t)off;
        p.kind = PK_ANCHOR;
        if (*end == '|')
            snprintf(p.text, sizeof(p.text), "%s", end + 1);
    } else {
        p.kind = PK_LITERAL;
        if (strlen(t) >= sizeof(p.text)) {
            snprintf(err, errn, "value too long");
            return -1;
        }
        strcpy(p.text, t);
    }
    /* Count tokens the way the scanner will see them: words and punctuation. */
    int ntok = 0;
    for (size_t k = 0; k < n;) {
        if (isalnum((unsigned char)p.key[k])) {
            while (k < n && isalnum((unsigned char)p.key[k]))
                k++;
            ntok++;
        } else if (p.key[k] == ' ') {
            k++;
        } else {
            k++;
            ntok++;
        }
    }
    if (ntok > d->phrase_max_tokens)
        d->phrase_max_tokens = ntok;
    size_t first = 0;
    while (first < n && isalnum((unsigned char)p.key[first]))
        first++;
    char w[LEX_WORD_MAX];
    if (first == 0 || first >= sizeof(w)) {
        snprintf(err, errn, "phrase must start with a word");
        return -1;
    }
    memcpy(w, p.key, first);
    w[first] = '\0';
    lex_entry_t *first_entry = lex_get(d, w);
    if (!first_entry) {
        snprintf(err, errn, "more than %d words", LEX_MAX_ENTRIES);
        return -1;
    }
    first_entry->classes |= 1u << LC_PHRASE;
    if (ntok == 1)
        first_entry->phrase_alone = 1;
    for (size_t k = first; k < n;) {
        if (!isalnum((unsigned char)p.key[k])) {
            k++;
            continue;
        }
        size_t b = k;
        while (k < n && isalnum((unsigned char)p.key[k]))
            k++;
        if (k - b >= sizeof(w)) {
            snprintf(err, errn, "word too long");
            return -1;
        }
        memcpy(w, p.key + b, k - b);
        w[k - b] = '\0';
        lex_entry_t *part = lex_get(d, w);
        if (!part) {
            snprintf(err, errn, "more than %d words", LEX_MAX_ENTRIES);
            return -1;
        }
        part->classes |= 1u << LC_PHRASE_PART;
    }

    size_t mask = d->phrase_cap - 1;
    for (size_t i = hash_lower(p.key, n) & mask;; i = (i + 1) & mask) {
        if (!d->phrases[i].key[0] || strcmp(d->phrases[i].key, p.key) == 0) {
            d->phrases[i] = p;
            return 0;
        }
    }
}

#define CL(c) (1u << (c))
/* Every class some matcher (or m_modifier) starts at. */
#define START_CLASSES                                                                              \
    (CL(LC_PHRASE) | CL(LC_MONTH) | CL(LC_MONTH_ABBR) | CL(LC_CUE) | CL(LC_WEEKDAY) |              \
     CL(LC_RELATIVE) | CL(LC_ORDINAL) | CL(LC_SEASON) | CL(LC_SET) | CL(LC_QUANT) |                \
     CL(LC_NUMBER) | CL(LC_APPROX) | CL(LC_MODIFIER))
#define K_NUM   0x1 /* a matcher may start at a number token */
#define K_OTHER 0x2 /* ... at a letters-and-digits token ("FY2008", "Q3") */
static uint32_t matchers_for(uint32_t classes, uint32_t kinds);

typedef int (*line_fn)(bl_dates_t *d, char **f, char *err, size_t errn);

static int load_file(bl_dates_t *d, const char *config_dir, const char *name, line_fn fn,
                     size_t *slots_left, char *errstr, size_t errstr_size)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/dates/%s", config_dir, name);
    FILE *fp = fopen(path, "r");
    if (!fp) {
        snprintf(errstr, errstr_size, "dates: cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    char line[512];
    int lineno = 0, rc = 0;
    while (fgets(line, sizeof(line), fp)) {
        lineno++;
        size_t n = strcspn(line, "\r\n");
        line[n] = '\0';
        if (!line[0] || line[0] == '#')
            continue;
        char *f[3];
        if (split_tabs(line, f) != 3) {
            snprintf(errstr, errstr_size, "dates: %s:%d: expected 3 tab-separated fields", path,
                     lineno);
            rc = -1;
            break;
        }
        if (*slots_left < 2) {
            snprintf(errstr, errstr_size, "dates: %s: too many entries", path);
            rc = -1;
            break;
        }
        (*slots_left)--;
        char err[128];
        if (fn(d, f, err, sizeof(err)) != 0) {
            snprintf(errstr, errstr_size, "dates: %s:%d: %s", path, lineno, err);
            rc = -1;
            break;
        }
    }
    fclose(fp);
    return rc;
}

bl_dates_t *bl_dates_new(const char *config_dir, char *errstr, size_t errstr_size)
{
    bl_dates_t *d = calloc(1, sizeof(*d));
    if (!d) {
        snprintf(errstr, errstr_size, "dates: out of memory");
        return NULL;
    }
    d->phrase_cap = 1024;
    d->lex = calloc(LEX_MAX_ENTRIES, sizeof(*d->lex));
    d->lex_slots = calloc(LEX_SLOTS, sizeof(*d->lex_slots));
    d->phrases = calloc(d->phrase_cap, sizeof(*d->phrases));
    if (!d->lex || !d->lex_slots || !d->phrases) {
        snprintf(errstr, errstr_size, "dates: out of memory");
        bl_dates_destroy(d);
        return NULL;
    }
    /* The phrase table stays at most half full; lex_get reports a full lexicon. */
    size_t phrase_slots = d->phrase_cap / 2;
    size_t lex_slots = LEX_MAX_ENTRIES;
    if (load_file(d, config_dir, "lexicon.tsv", load_lexicon_line, &lex_slots, errstr,
                  errstr_size) != 0 ||
        load_file(d, config_dir, "phrases.tsv", load_phrase_line, &phrase_slots, errstr,
                  errstr_size) != 0) {
        bl_dates_destroy(d);
        return NULL;
    }
    for (size_t k = 0; k < d->lex_count; k++) {
        d->lex[k].matchers = matchers_for(d->lex[k].classes, 0);
        d->lex[k].starts = (d->lex[k].classes & START_CLASSES) != 0;
    }
    d->num_matchers = matchers_for(0, K_NUM);
    d->other_matchers = matchers_for(0, K_OTHER);
    return d;
}

void bl_dates_destroy(bl_dates_t *dates)
{
    if (!dates)
        return;
    free(dates->lex);
    free(dates->lex_slots);
    free(dates->phrases);
    free(dates);
}

/* ------------------------------------------------------------------ */
/* Calendar arithmetic (proleptic Gregorian, days since 1970-01-01)    */
/* ------------------------------------------------------------------ */

static int64_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static int iso_weekday(int64_t z) /* Monday = 1 */
{
    int64_t r = (z + 3) % 7;
    if (r < 0)
        r += 7;
    return (int)r + 1;
}

static void iso_week(int64_t z, int *week_year, int *week)
{
    int64_t thursday = z - iso_weekday(z) + 4;
    int y, m, d;
    civil_from_days(thursday, &y, &m, &d);
    *week_year = y;
    *week = (int)((thursday - days_from_civil(y, 1, 1)) / 7) + 1;
}

static int days_in_month(int y, int m)
{
    static const int dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dim[m - 1];
}

/* ------------------------------------------------------------------ */
/* Tokens                                                             */
/* ------------------------------------------------------------------ */

enum tok_kind { T_WORD, T_NUM, T_PUNCT, T_OTHER };
#define F_CAP     0x01
#define F_SPACE   0x02 /* whitespace before the token */
#define F_CLOCK   0x04 /* "18:00": num = hh * 100 + mm */
#define F_DECIMAL 0x08 /* "2.5": num = integer part */
/* A number, letters-and-digits, or a lexicon word an expression may start at. */
#define F_START 0x10
enum { SUF_NONE, SUF_ORD, SUF_S, SUF_AM, SUF_PM };

typedef struct tok {
    uint32_t start, end;
    uint8_t kind, flags, suffix, ndigits;
    int32_t num;
    int32_t sent;
    const lex_entry_t *lex;
} tok_t;

typedef struct match {
    size_t b, e; /* token range [b, e) */
    int type;
    char value[48];
    int day_y, day_m, day_d; /* a day-level date the match names (anchor for clock times) */
    int range_day;           /* "Jan 9-10": a following "-N" is another day of day_y/day_m */
} match_t;

typedef struct scan {
    const bl_dates_t *d;
    const char *text;
    tok_t *t;
    size_t n;
    int py, pm, pd; /* publication date; py 0 = unknown */
    int64_t pz;     /* its day number */
    int anchor_y, anchor_m, anchor_d;
    int32_t anchor_sent;
    size_t cache_pos; /* match_at(cache_pos) already computed, see try_at */
    int cache_found;
    match_t cache_match;
    json_t *type_json[4]; /* type_names[] as JSON strings, made on first use */
} scan_t;

static int is_alpha(unsigned char c)
{
    return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}
static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* Byte classes for the tokeniser (ASCII only, as the lexicon). */
#define CC_ALPHA 0x01
#define CC_DIGIT 0x02
#define CC_SPACE 0x04 /* ' ', '\t', '\r', '\n' */
#define CC_ALPHA_RANGE(b)                                                                          \
    [b + 0] = CC_ALPHA, [b + 1] = CC_ALPHA, [b + 2] = CC_ALPHA, [b + 3] = CC_ALPHA,                \
         [b + 4] = CC_ALPHA, [b + 5] = CC_ALPHA, [b + 6] = CC_ALPHA, [b + 7] = CC_ALPHA,           \
         [b + 8] = CC_ALPHA, [b + 9] = CC_ALPHA, [b + 10] = CC_ALPHA, [b + 11] = CC_ALPHA,         \
         [b + 12] = CC_ALPHA, [b + 13] = CC_ALPHA, [b + 14] = CC_ALPHA, [b + 15] = CC_ALPHA,       \
         [b + 16] = CC_ALPHA, [b + 17] = CC_ALPHA, [b + 18] = CC_ALPHA, [b + 19] = CC_ALPHA,       \
         [b + 20] = CC_ALPHA, [b + 21] = CC_ALPHA, [b + 22] = CC_ALPHA, [b + 23] = CC_ALPHA,       \
         [b + 24] = CC_ALPHA, [b + 25] = CC_ALPHA
static const uint8_t char_class[256] = {
    CC_ALPHA_RANGE('A'), CC_ALPHA_RANGE('a'), ['0'] = CC_DIGIT,  ['1'] = CC_DIGIT,
    ['2'] = CC_DIGIT,    ['3'] = CC_DIGIT,    ['4'] = CC_DIGIT,  ['5'] = CC_DIGIT,
    ['6'] = CC_DIGIT,    ['7'] = CC_DIGIT,    ['8'] = CC_DIGIT,  ['9'] = CC_DIGIT,
    [' '] = CC_SPACE,    ['\t'] = CC_SPACE,   ['\r'] = CC_SPACE, ['\n'] = CC_SPACE,
};

/* Tokenises into @p stack (capacity @p stack_cap) or, for long texts, a heap array. */
static int tokenize(const bl_dates_t *d, const char *s, size_t len, tok_t *stack, size_t stack_cap,
                    tok_t **out, size_t *nout)
{
    size_t cap = stack_cap, n = 0;
    tok_t *t = stack;
    int32_t sent = 0;
    uint8_t space = F_SPACE; /* whitespace before the next token: F_SPACE or 0 */
    size_t i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        if (char_class[c] & CC_SPACE) {
            if (c == '\n' && n > 0 && t[n - 1].sent == sent)
                sent++;
            space = F_SPACE;
            i++;
            continue;
        }
        if (n == cap) {
            tok_t *nt = malloc(2 * cap * sizeof(*t));
            if (!nt) {
                if (t != stack)
                    free(t);
                return -1;
            }
            memcpy(nt, t, n * sizeof(*t));
            if (t != stack)
                free(t);
            t = nt;
            cap *= 2;
        }
        tok_t *k = &t[n];
        if ((char_class[c] & CC_ALPHA) && i + 16 <= len) {
            /* Most tokens are words shorter than 16 letters followed by a space or punctuation:
             * one or two looks at 8 bytes find the end and give the lexicon key. */
            const unsigned char *p = (const unsigned char *)s + i;
            uint64_t lo = load8(p), hi = 0;
            uint64_t stops = ~letter_bytes8(lo) & 0x8080808080808080ULL;
            size_t wl = 0; /* stays 0 for 16 letters or more: the general path below */
            unsigned char next = 0;
            if (stops) {
                wl = (size_t)__builtin_ctzll(stops) / 8;
                next = (unsigned char)(lo >> (8 * wl));
            } else {
                hi = load8(p + 8);
                stops = ~letter_bytes8(hi) & 0x8080808080808080ULL;
                if (stops) {
                    wl = 8 + (size_t)__builtin_ctzll(stops) / 8;
                    next = (unsigned char)(hi >> (8 * (wl - 8)));
                }
            }
            if (wl && !(char_class[next] & CC_DIGIT)) {
                *k = (tok_t){.start = (uint32_t)i,
                             .end = (uint32_t)(i + wl),
                             .kind = T_WORD,
                             .flags = (uint8_t)(space | ((unsigned)(c - 'A') < 26 ? F_CAP : 0)),
                             .sent = sent,
                             .lex = lex_find_letters(d, lo, hi, wl)};
                if (k->lex && k->lex->starts)
                    k->flags |= F_START;
                n++;
                i += wl;
                space = 0;
                if (s[i] == ' ') { /* the usual single space, without a loop turn */
                    space = F_SPACE;
                    i++;
                }
                continue;
            }
        }
        memset(k, 0, sizeof(*k));
        k->start = (uint32_t)i;
        k->flags = space;
        space = 0;
        size_t wj = i;
        if (char_class[c] & CC_ALPHA) {
            /* Plain words: letters up to a byte that is neither letter nor digit. */
            while (wj < len && (char_class[(unsigned char)s[wj]] & CC_ALPHA))
                wj++;
        }
        if (wj > i && (wj == len || !(char_class[(unsigned char)s[wj]] & CC_DIGIT))) {
            k->kind = T_WORD;
            if (c >= 'A' && c <= 'Z')
                k->flags |= F_CAP;
            k->lex = lex_find(d, s + i, wj - i);
            k->end = (uint32_t)wj;
            i = wj;
        } else if (is_digit(c) || is_alpha(c)) {
            size_t j = i, digits = 0, letters = 0, first_letter = 0;
            while (j < len && (is_digit((unsigned char)s[j]) || is_alpha((unsigned char)s[j]))) {
                if (is_digit((unsigned char)s[j])) {
                    if (letters)
                        letters = 1000; /* a digit after a letter: "A320" */
                    digits++;
                } else {
                    if (!letters)
                        first_letter = j;
                    letters++;
                }
                j++;
            }
            if (!digits) {
                k->kind = T_WORD;
                if (c >= 'A' && c <= 'Z')
                    k->flags |= F_CAP;
                k->lex = lex_find(d, s + i, j - i);
            } else if (letters >= 1000 || (letters && !is_digit(c))) {
                k->kind = T_OTHER;
            } else {
                size_t nd = letters ? first_letter - i : j - i;
                long v = 0;
                for (size_t q = i; q < i + nd && q < i + 9; q++)
                    v = v * 10 + (s[q] - '0');
                k->kind = T_NUM;
                k->num = (int32_t)v;
                k->ndigits = (uint8_t)(nd > 255 ? 255 : nd);
                if (letters) {
                    const char *suf = s + first_letter;
                    size_t sl = j - first_letter;
                    if (sl == 2 && (eq_lower("st", 2, suf, 2) || eq_lower("nd", 2, suf, 2) ||
                                    eq_lower("rd", 2, suf, 2) || eq_lower("th", 2, suf, 2)))
                        k->suffix = SUF_ORD;
                    else if (sl == 1 && (suf[0] == 's' || suf[0] == 'S'))
                        k->suffix = SUF_S;
                    else if (sl == 2 && eq_lower("am", 2, suf, 2))
                        k->suffix = SUF_AM;
                    else if (sl == 2 && eq_lower("pm", 2, suf, 2))
                        k->suffix = SUF_PM;
                    else
                        k->kind = T_OTHER;
                } else if (j + 1 < len && s[j] == ',' && is_digit((unsigned char)s[j + 1])) {
                    /* "1,000", "3,800": an amount, never a date part */
                    while (j + 1 < len && s[j] == ',' && is_digit((unsigned char)s[j + 1])) {
                        j++;
                        while (j < len && is_digit((unsigned char)s[j]))
                            j++;
                    }
                    k->kind = T_OTHER;
                } else if (j + 1 < len && s[j] == '.' && is_digit((unsigned char)s[j + 1])) {
                    j++;
                    while (j < len && is_digit((unsigned char)s[j]))
                        j++;
                    k->flags |= F_DECIMAL;
                } else if (j + 2 < len && s[j] == ':' && is_digit((unsigned char)s[j + 1]) &&
                           is_digit((unsigned char)s[j + 2]) && nd <= 2 &&
                           (j + 3 >= len || !is_digit((unsigned char)s[j + 3]))) {
                    k->num = (int32_t)(v * 100 + (s[j + 1] - '0') * 10 + (s[j + 2] - '0'));
                    k->flags |= F_CLOCK;
                    j += 3;
                    if (j + 2 < len && s[j] == ':' && is_digit((unsigned char)s[j + 1]) &&
                        is_digit((unsigned char)s[j + 2]))
                        j += 3; /* seconds: kept in the extent, not the value */
                }
            }
            k->end = (uint32_t)j;
            i = j;
        } else {
            size_t clen = 1;
            if (c >= 0xC0) {
                clen = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
                if (i + clen > len)
                    clen = len - i;
            }
            k->kind = T_PUNCT;
            k->end = (uint32_t)(i + clen);
            i += clen;
        }
        k->sent = sent;
        if (k->kind == T_NUM || k->kind == T_OTHER ||
            (k->kind == T_WORD && k->lex && k->lex->starts))
            k->flags |= F_START;
        n++;
        /* Sentence end: . ! ? followed by space and a capital or a digit. */
        if (k->kind == T_PUNCT && (c == '.' || c == '!' || c == '?') && i + 1 < len &&
            s[i] == ' ' && ((s[i + 1] >= 'A' && s[i + 1] <= 'Z') || s[i + 1] == '"')) {
            int abbrev = 0;
            if (n >= 2 && t[n - 2].kind == T_WORD && t[n - 2].end == k->start) {
                size_t wl = t[n - 2].end - t[n - 2].start;
                const lex_entry_t *e = t[n - 2].lex;
                abbrev = wl == 1 || (e && (e->classes & (1u << LC_MONTH_ABBR))) ||
                         (wl <= 3 && (t[n - 2].flags & F_CAP) &&
                          (eq_lower("mr", 2, s + t[n - 2].start, wl) ||
                           eq_lower("mrs", 3, s + t[n - 2].start, wl) ||
                           eq_lower("dr", 2, s + t[n - 2].start, wl) ||
                           eq_lower("ms", 2, s + t[n - 2].start, wl) ||
                           eq_lower("st", 2, s + t[n - 2].start, wl)));
            }
            if (!abbrev)
                sent++;
        }
    }
    *out = t;
    *nout = n;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Token predicates                                                   */
/* ------------------------------------------------------------------ */

static int has(const scan_t *s, size_t i, int cls)
{
    return i < s->n && s->t[i].lex && (s->t[i].lex->classes & (1u << cls));
}

static int val(const scan_t *s, size_t i, int cls)
{
    return s->t[i].lex->val[cls];
}

static inline int is_word(const scan_t *s, size_t i, const char *w)
{
    if (i >= s->n || s->t[i].kind != T_WORD)
        return 0;
    size_t n = s->t[i].end - s->t[i].start;
    /* Inlined with a literal @p w, strlen is a constant: most calls end here. */
    if (n != strlen(w))
        return 0;
    const char *p = s->text + s->t[i].start;
    for (size_t k = 0; k < n; k++)
        if ((unsigned char)w[k] != lower_ascii((unsigned char)p[k]))
            return 0;
    return 1;
}

static int is_punct(const scan_t *s, size_t i, char c)
{
    return i < s->n && s->t[i].kind == T_PUNCT && s->text[s->t[i].start] == c;
}

static int is_dash(const scan_t *s, size_t i)
{
    if (i >= s->n || s->t[i].kind != T_PUNCT)
        return 0;
    const char *p = s->text + s->t[i].start;
    size_t n = s->t[i].end - s->t[i].start;
    return (n == 1 && p[0] == '-') ||
           (n == 3 && (unsigned char)p[0] == 0xE2 && (unsigned char)p[1] == 0x80 &&
            ((unsigned char)p[2] == 0x93 || (unsigned char)p[2] == 0x94));
}

/* Token i follows token i-1 with no space between. */
static int glued(const scan_t *s, size_t i)
{
    return i < s->n && !(s->t[i].flags & F_SPACE);
}

static int is_plain_num(const scan_t *s, size_t i)
{
    return i < s->n && s->t[i].kind == T_NUM && !(s->t[i].flags & (F_CLOCK | F_DECIMAL)) &&
           s->t[i].suffix == SUF_NONE;
}

static int is_day_num(const scan_t *s, size_t i)
{
    return i < s->n && s->t[i].kind == T_NUM && !(s->t[i].flags & (F_CLOCK | F_DECIMAL)) &&
           (s->t[i].suffix == SUF_NONE || s->t[i].suffix == SUF_ORD) && s->t[i].ndigits <= 2 &&
           s->t[i].num >= 1 && s->t[i].num <= 31 &&
           !(i + 1 < s->n && (is_punct(s, i + 1, '%') ||
                              (is_punct(s, i + 1, ':') && glued(s, i + 1) && glued(s, i + 2))));
}

/* A four-digit number that reads as a year here (not "$1997", "2,000", "2000 people"). */
static int is_year_num(const scan_t *s, size_t i)
{
    if (!is_plain_num(s, i) || s->t[i].ndigits != 4)
        return 0;
    int y = s->t[i].num;
    if (y < 1000 || y > 2999)
        return 0;
    if (i > 0 && s->t[i - 1].kind == T_PUNCT) {
        const unsigned char *p = (const unsigned char *)s->text + s->t[i - 1].start;
        if (p[0] == '$' || p[0] == '#' || p[0] == 0xC2 /* £ ¥ */ ||
            (p[0] == 0xE2 && p[1] == 0x82) /* € */)
            return 0;
    }
    if (i > 0 &&
        (is_word(s, i - 1, "no") || is_word(s, i - 1, "number") || is_word(s, i - 1, "flight") ||
         is_word(s, i - 1, "route") || is_word(s, i - 1, "model")))
        return 0;
    if (i + 1 < s->n) {
        if (is_punct(s, i + 1, '%') ||
            (glued(s, i + 1) && (s->t[i + 1].kind == T_OTHER || s->t[i + 1].kind == T_WORD)))
            return 0;
        if (has(s, i + 1, LC_YEAR_BLOCK))
            return 0;
    }
    if (y < 1900 || y > 2099) {
        /* Older years only after a word that introduces a time ("in 1848"). */
        if (i == 0 || !has(s, i - 1, LC_MONTH_OK))
            return 0;
    }
    return 1;
}

static int tok_tense(const scan_t *s, size_t k)
{
    const tok_t *t = &s->t[k];
    if (t->kind != T_WORD)
        return TENSE_NONE;
    if (t->lex && (t->lex->classes & (1u << LC_TENSE)))
        return t->lex->val[LC_TENSE];
    size_t n = t->end - t->start;
    const char *w = s->text + t->start;
    /* "to be held", "is set to begin": what is planned lies ahead */
    if (is_word(s, k, "be") && k > 0 && is_word(s, k - 1, "to"))
        return TENSE_FUTURE;
    if (is_word(s, k, "set") && is_word(s, k + 1, "to"))
        return TENSE_FUTURE;
    if (n >= 5 && !(t->flags & F_CAP) && w[n - 2] == 'e' && w[n - 1] == 'd') {
        if (k > 0 && (is_word(s, k - 1, "be") || is_word(s, k - 1, "been")))
            return TENSE_NONE; /* a passive participle: the auxiliary decides */
        return TENSE_PAST;
    }
    return TENSE_NONE;
}

/* Tense of the sentence around tokens [b, e): the nearest cue, left first. */
static int tense_near(const scan_t *s, size_t b, size_t e)
{
    int32_t sent = s->t[b].sent;
    /* A cue far away in a long sentence belongs to another clause. */
    size_t window = 16;
    for (size_t k = b; k-- > 0 && s->t[k].sent == sent && b - k <= window;) {
        int t = tok_tense(s, k);
        if (t)
            return t;
    }
    for (size_t k = e; k < s->n && s->t[k].sent == sent && k - e < window; k++) {
        int t = tok_tense(s, k);
        if (t)
            return t;
    }
    return TENSE_NONE;
}

/* ------------------------------------------------------------------ */
/* Values                                                             */
/* ------------------------------------------------------------------ */

/* A TIMEX3 value is a few fixed pieces and zero-padded numbers: built here
 * piece by piece, as snprintf would (same truncation), at a fraction of its cost. */
typedef struct vbuf {
    char *p;   /* where the next byte goes; *p is always '\0' */
    char *end; /* the last byte of the buffer, kept for the '\0' */
} vbuf_t;

static vbuf_t vb_begin(char *buf, size_t size)
{
    buf[0] = '\0';
    return (vbuf_t){buf, buf + size - 1};
}

static void vb_chr(vbuf_t *b, char c)
{
    if (b->p < b->end)
        *b->p++ = c;
    *b->p = '\0';
}

static void vb_str(vbuf_t *b, const char *str)
{
    while (*str && b->p < b->end)
        *b->p++ = *str++;
    *b->p = '\0';
}

/* printf's "%0<width>ld": the sign counts towards the width. */
static void vb_int(vbuf_t *b, long v, int width)
{
    char digits[24];
    int n = 0;
    unsigned long u = v < 0 ? 0UL - (unsigned long)v : (unsigned long)v;
    do {
        digits[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0) {
        vb_chr(b, '-');
        width--;
    }
    for (int k = n; k < width; k++)
        vb_chr(b, '0');
    while (n > 0)
        vb_chr(b, digits[--n]);
}

static void set_day(match_t *m, int y, int mo, int d)
{
    m->day_y = y;
    m->day_m = mo;
    m->day_d = d;
    vbuf_t b = vb_begin(m->value, sizeof(m->value));
    if (y)
        vb_int(&b, y, 4);
    else
        vb_str(&b, "XXXX");
    vb_chr(&b, '-');
    vb_int(&b, mo, 2);
    vb_chr(&b, '-');
    vb_int(&b, d, 2);
}

/* "2008-03" or, with no year, "XXXX-03". */
static void set_month(match_t *m, int y, int mo)
{
    vbuf_t b = vb_begin(m->value, sizeof(m->value));
    if (y)
        vb_int(&b, y, 4);
    else
        vb_str(&b, "XXXX");
    vb_chr(&b, '-');
    vb_int(&b, mo, 2);
}

static void set_day_z(match_t *m, int64_t z)
{
    int y, mo, d;
    civil_from_days(z, &y, &mo, &d);
    set_day(m, y, mo, d);
}

/* Value of the calendar unit @p unit shifted by @p offset from the publication date. */
static int anchor_value(const scan_t *s, int unit, int offset, match_t *m)
{
    if (!s->py) {
        static const char *const unknown[] = {
            [U_D] = "XXXX-XX-XX", [U_W] = "XXXX-WXX", [U_WE] = "XXXX-WXX-WE",
            [U_M] = "XXXX-XX",    [U_Q] = "XXXX-QX",  [U_Y] = "XXXX",
            [U_DE] = "XXX",       [U_CE] = "XX",      [U_HALF] = "XXXX-HX"};
        if (unit >= (int)NAMES_COUNT(unknown) || !unknown[unit])
            return 0;
        vbuf_t b = vb_begin(m->value, sizeof(m->value));
        vb_str(&b, unknown[unit]);
        return 1;
    }
    int wy, wn;
    long idx;
    vbuf_t b = vb_begin(m->value, sizeof(m->value));
    switch (unit) {
    case U_D:
        set_day_z(m, s->pz + offset);
        return 1;
    case U_W:
    case U_WE:
        iso_week(s->pz + 7 * offset, &wy, &wn);
        vb_int(&b, wy, 4);
        vb_str(&b, "-W");
        vb_int(&b, wn, 2);
        if (unit == U_WE)
            vb_str(&b, "-WE");
        return 1;
    case U_M:
        idx = (long)s->py * 12 + (s->pm - 1) + offset;
        vb_int(&b, idx / 12, 4);
        vb_chr(&b, '-');
        vb_int(&b, idx % 12 + 1, 2);
        return 1;
    case U_Q:
        idx = (long)s->py * 4 + (s->pm - 1) / 3 + offset;
        vb_int(&b, idx / 4, 4);
        vb_str(&b, "-Q");
        vb_int(&b, idx % 4 + 1, 1);
        return 1;
    case U_HALF:
        idx = (long)s->py * 2 + (s->pm - 1) / 6 + offset;
        vb_int(&b, idx / 2, 4);
        vb_str(&b, "-H");
        vb_int(&b, idx % 2 + 1, 1);
        return 1;
    case U_Y:
        vb_int(&b, s->py + offset, 4);
        return 1;
    case U_DE:
        vb_int(&b, s->py / 10 + offset, 3);
        return 1;
    case U_CE:
        vb_int(&b, s->py / 100 + offset, 2);
        return 1;
    default:
        return 0;
    }
}

/* Year for month @p mo (and day @p d, 0 = whole month) with no year written. */
static int resolve_year(const scan_t *s, int mo, int d, int tense)
{
    if (!s->py)
        return 0;
    int best = 0;
    int64_t best_dist = INT64_MAX;
    for (int y = s->py - 1; y <= s->py + 1; y++) {
        if (d && d > days_in_month(y, mo))
            continue;
        int64_t first = days_from_civil(y, mo, d ? d : 1);
        int64_t last = d ? first : first + days_in_month(y, mo) - 1;
        int64_t dist; /* signed: < 0 before the publication date */
        if (last < s->pz)
            dist = last - s->pz;
        else if (first > s->pz)
            dist = first - s->pz;
        else
            dist = 0;
        /* Tense rules at month level, as HeidelTime: a past "October 12" may
         * still lie later in the publication month. */
        int month_cmp = (y * 12 + mo) - (s->py * 12 + s->pm);
        if (tense == TENSE_PAST && month_cmp > 0)
            continue;
        if (tense == TENSE_FUTURE && month_cmp < 0)
            continue;
        /* Without a tense cue, news mostly reports the past: a later date
         * wins only when much nearer ("in January" written on December 30). */
        int64_t a = dist < 0 ? -dist : tense == TENSE_FUTURE ? dist : 2 * dist;
        if (a < best_dist) {
            best_dist = a;
            best = y;
        }
    }
    return best ? best : s->py;
}

/* A number of tenths as written in a duration: "2", "2.5". */
static void vb_num10(vbuf_t *b, long v10)
{
    vb_int(b, v10 / 10, 1);
    if (v10 % 10 != 0) {
        vb_chr(b, '.');
        vb_int(b, v10 % 10, 1);
    }
}

/* TIMEX3 duration for @p v10 (tenths; < 0 = vague) units. */
static int duration_value(char *buf, size_t n, int v10, int unit)
{
    if (v10 >= 0 && v10 % 10 == 5 && v10 < 10) { /* "half an hour" */
        static const char *const half[] = {
            [U_H] = "PT30M", [U_Y] = "P6M", [U_D] = "PT12H", [U_MIN] = "PT30S"};
        if ((size_t)unit < ARRAY_LEN(half) && half[unit]) {
            vbuf_t b = vb_begin(buf, n);
            vb_str(&b, half[unit]);
            return 1;
        }
    }
    /* TIMEX3 duration: P[T]<number><unit letter(s)>; fortnights, decades and
     * centuries are written in weeks and years when the number is known. */
    static const struct {
        const char *prefix, *suffix, *vague;
        int scale;
    } duration_fmt[] = {
        [U_S] = {"PT", "S", NULL, 1},    [U_MIN] = {"PT", "M", NULL, 1},
        [U_H] = {"PT", "H", NULL, 1},    [U_D] = {"P", "D", NULL, 1},
        [U_W] = {"P", "W", NULL, 1},     [U_WE] = {"P", "WE", NULL, 1},
        [U_M] = {"P", "M", NULL, 1},     [U_Q] = {"P", "Q", NULL, 1},
        [U_Y] = {"P", "Y", NULL, 1},     [U_F] = {"P", "W", "PXW", 2},
        [U_DE] = {"P", "Y", "PXDE", 10}, [U_CE] = {"P", "Y", "PXCE", 100},
    };
    if ((size_t)unit >= ARRAY_LEN(duration_fmt) || !duration_fmt[unit].prefix)
        return 0;
    vbuf_t b = vb_begin(buf, n);
    if (v10 < 0 && duration_fmt[unit].vague) {
        vb_str(&b, duration_fmt[unit].vague);
        return 1;
    }
    vb_str(&b, duration_fmt[unit].prefix);
    if (v10 < 0)
        vb_chr(&b, 'X');
    else
        vb_num10(&b, (long)v10 * duration_fmt[unit].scale);
    vb_str(&b, duration_fmt[unit].suffix);
    return 1;
}

/* ------------------------------------------------------------------ */
/* Matchers: each tries one family of expressions starting at token i. */
/* ------------------------------------------------------------------ */

static void match_init(match_t *m, size_t b, size_t e, int type)
{
    memset(m, 0, sizeof(*m));
    m->b = b;
    m->e = e;
    m->type = type;
}

/* Includes a preceding "the" in the extent ("the 1990s", "the past decade"). */
static void take_the(const scan_t *s, match_t *m)
{
    if (m->b > 0 && is_word(s, m->b - 1, "the"))
        m->b--;
}

static int m_phrase(const scan_t *s, size_t i, match_t *m)
{
    if (!has(s, i, LC_PHRASE))
        return 0;
    /* Most phrase words ("the", "this") begin a phrase only with a phrase word or punctuation
     * after them in the same sentence: without one, no key can match. */
    if (!s->t[i].lex->phrase_alone &&
        !(i + 1 < s->n && s->t[i + 1].sent == s->t[i].sent &&
          (s->t[i + 1].kind == T_PUNCT || has(s, i + 1, LC_PHRASE_PART))))
        return 0;
    char key[PHRASE_KEY_MAX]; /* lower case */
    size_t kn = 0;
    uint32_t h = FNV_BASIS; /* hash_lower(key, kn) */
    const phrase_t *best = NULL;
    size_t best_e = 0;
    for (size_t j = i; j < s->n && j < i + (size_t)s->d->phrase_max_tokens; j++) {
        const tok_t *t = &s->t[j];
        size_t tl = t->end - t->start;
        if (j > i && (t->flags & F_SPACE)) {
            key[kn++] = ' ';
            h = (h ^ ' ') * FNV_PRIME;
        }
        if (kn + tl >= sizeof(key) || (j > i && s->t[j].sent != s->t[i].sent))
            break;
        if (j > i && t->kind != T_PUNCT && !has(s, j, LC_PHRASE_PART))
            break; /* no phrase goes on with this word */
        for (size_t q = 0; q < tl; q++) {
            unsigned char c = lower_ascii((unsigned char)s->text[t->start + q]);
            key[kn++] = (char)c;
            h = (h ^ c) * FNV_PRIME;
        }
        const phrase_t *p = phrase_find(s->d, key, kn, h);
        if (p) {
            best = p;
            best_e = j + 1;
        }
    }
    if (!best || (is_dash(s, best_e) && glued(s, best_e)))
        return 0; /* "the now-cancelled deal", "the soon-to-open terminal" */
    match_init(m, i, best_e, best->type);
    if (best->kind == PK_NONE) {
        m->value[0] = '\0'; /* consumes the words, reports nothing */
        return 1;
    }
    if (best->kind == PK_LITERAL) {
        vbuf_t b = vb_begin(m->value, sizeof(m->value));
        vb_str(&b, best->text);
        return 1;
    }
    if (best->kind == PK_MONTH_DAY) {
        int y = resolve_year(s, best->unit, best->offset, tense_near(s, i, best_e));
        set_day(m, y, best->unit, best->offset);
        return 1;
    }
    if (best->kind == PK_WEEKEND) {
        if (!s->py)
            return anchor_value(s, U_WE, 0, m);
        int wd = iso_weekday(s->pz), off;
        if (wd >= 6)
            off = 0; /* published on the weekend: this one */
        else
            off = tense_near(s, i, best_e) == TENSE_FUTURE ? 0 : -1;
        if (wd == 6 && tense_near(s, i, best_e) != TENSE_FUTURE)
            off = -1; /* on a Saturday, past tense means the weekend before */
        return anchor_value(s, U_WE, off, m);
    }
    if (!anchor_value(s, best->unit, best->offset, m))
        return 0;
    if (best->unit == U_D && s->py)
        civil_from_days(s->pz + best->offset, &m->day_y, &m->day_m, &m->day_d);
    if (best->text[0] && strlen(m->value) + strlen(best->text) < sizeof(m->value))
        strcat(m->value, best->text);
    return 1;
}

/* Reads an optional ", 2021" / " 2021" after a month expression ending at *j. */
static int take_year(const scan_t *s, size_t *j)
{
    size_t k = *j;
    if (is_punct(s, k, ','))
        k++;
    if (is_year_num(s, k)) {
        *j = k + 1;
        return s->t[k].num;
    }
    return 0;
}

/* A month name usable here: capitalised; a bare "May"/"March" needs a cue before it. */
static int month_at(const scan_t *s, size_t i, int *mo, size_t *after, int *abbr)
{
    if (i >= s->n || s->t[i].kind != T_WORD || !(s->t[i].flags & F_CAP))
        return 0;
    if (has(s, i, LC_MONTH)) {
        *mo = val(s, i, LC_MONTH);
        *after = i + 1;
        *abbr = 0;
        return 1;
    }
    if (has(s, i, LC_MONTH_ABBR)) {
        *mo = val(s, i, LC_MONTH_ABBR);
        *after = i + 1;
        if (is_punct(s, i + 1, '.') && glued(s, i + 1))
            *after = i + 2;
        *abbr = 1;
        return 1;
    }
    return 0;
}

static int m_month(const scan_t *s, size_t i, match_t *m)
{
    int mo, abbr;
    size_t j;
    if (!month_at(s, i, &mo, &j, &abbr))
        return 0;
    if (is_day_num(s, j) && !(j + 1 < s->n && has(s, j + 1, LC_UNIT))) {
        int d = s->t[j].num;
        j++;
        size_t k = j;
        int y = take_year(s, &k);
        int range = 0;
        if (!y) {
            int tense = tense_near(s, i, j);
            y = resolve_year(s, mo, d, tense);
            range = 1;
        } else {
            j = k;
        }
        if (d > days_in_month(y ? y : 2000, mo))
            return 0;
        match_init(m, i, j, TX_DATE);
        set_day(m, y, mo, d);
        m->range_day = range;
        return 1;
    }
    size_t k = j;
    if (is_word(s, k, "of"))
        k++;
    int y = take_year(s, &k);
    if (y) {
        match_init(m, i, k, TX_DATE);
        set_month(m, y, mo);
        return 1;
    }
    if (abbr)
        return 0;
    /* Bare month. "May" and "March" are also a modal and a verb. */
    int cue =
        i > 0 && (has(s, i - 1, LC_MONTH_OK) || has(s, i - 1, LC_MODIFIER) || is_dash(s, i - 1));
    if ((mo == 5 || mo == 3) && !cue)
        return 0;
    if (j < s->n && s->t[j].kind == T_WORD && (s->t[j].flags & F_CAP) && !cue)
        return 0; /* "April Smith" */
    match_init(m, i, j, TX_DATE);
    y = resolve_year(s, mo, 0, tense_near(s, i, j));
    set_month(m, y, mo);
    return 1;
}

/* "31 December 2021", "11 December", "the 3rd of March" */
static int m_day_month(const scan_t *s, size_t i, match_t *m)
{
    if (!is_day_num(s, i))
        return 0;
    size_t j = i + 1;
    if (is_word(s, j, "of"))
        j++;
    int mo, abbr;
    size_t k;
    if (!month_at(s, j, &mo, &k, &abbr))
        return 0;
    int d = s->t[i].num;
    size_t e = k;
    int y = take_year(s, &e);
    if (!y)
        y = resolve_year(s, mo, d, tense_near(s, i, k));
    if (d > days_in_month(y ? y : 2000, mo))
        return 0;
    match_init(m, i, e, TX_DATE);
    set_day(m, y, mo, d);
    take_the(s, m);
    return 1;
}

/* "7/8/07", "2021-12-31" */
static int m_numeric_date(const scan_t *s, size_t i, match_t *m)
{
    if (!is_plain_num(s, i) || i + 4 >= s->n)
        return 0;
    for (size_t k = i + 1; k <= i + 4; k++)
        if (!glued(s, k))
            return 0;
    if (!is_plain_num(s, i + 2) || !is_plain_num(s, i + 4))
        return 0;
    if (i + 5 < s->n && glued(s, i + 5) && s->t[i + 5].kind != T_PUNCT)
        return 0;
    int a = s->t[i].num, b = s->t[i + 2].num, c = s->t[i + 4].num;
    int y, mo, d;
    if (is_punct(s, i + 1, '/') && is_punct(s, i + 3, '/') && s->t[i].ndigits <= 2 &&
        s->t[i + 2].ndigits <= 2 && (s->t[i + 4].ndigits == 2 || s->t[i + 4].ndigits == 4)) {
        mo = a, d = b, y = c;
        if (s->t[i + 4].ndigits == 2)
            y += y < 50 ? 2000 : 1900;
    } else if (is_punct(s, i + 1, '-') && is_punct(s, i + 3, '-') && s->t[i].ndigits == 4 &&
               s->t[i + 2].ndigits == 2 && s->t[i + 4].ndigits == 2) {
        y = a, mo = b, d = c;
    } else {
        return 0;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
        return 0;
    match_init(m, i, i + 5, TX_DATE);
    set_day(m, y, mo, d);
    return 1;
}

static int m_year(const scan_t *s, size_t i, match_t *m)
{
    const tok_t *t = &s->t[i];
    if (t->kind != T_NUM)
        return 0;
    if (t->suffix == SUF_S && !(t->flags & (F_CLOCK | F_DECIMAL))) {
        int dec;
        if (t->ndigits == 4 && t->num % 10 == 0 && t->num >= 1000 && t->num <= 2990) {
            dec = t->num / 10;
        } else if (t->ndigits == 2 && t->num % 10 == 0 && i > 0 && glued(s, i) &&
                   (is_punct(s, i - 1, '\'') || s->text[s->t[i - 1].start] == '\xE2')) {
            /* "the '90s" in 2021 is the 1990s, "the '10s" the 2010s */
            int c = s->py >= 2000 && t->num <= s->py % 100 ? 2000 + t->num : 1900 + t->num;
            dec = c / 10;
        } else {
            return 0;
        }
        match_init(m, t->ndigits == 2 ? i - 1 : i, i + 1, TX_DATE);
        vbuf_t b = vb_begin(m->value, sizeof(m->value));
        vb_int(&b, dec, 3);
        take_the(s, m);
        return 1;
    }
    if (!is_year_num(s, i))
        return 0;
    match_init(m, i, i + 1, TX_DATE);
    vbuf_t b = vb_begin(m->value, sizeof(m->value));
    vb_int(&b, t->num, 4);
    return 1;
}

/* "fiscal 2008", "fiscal year 2008", "FY2008" */
static int m_fiscal(const scan_t *s, size_t i, match_t *m)
{
    const tok_t *t = &s->t[i];
    if (t->kind == T_OTHER && t->end - t->start >= 4 && t->end - t->start <= 6 &&
        (s->text[t->start] == 'F') && (s->text[t->start + 1] == 'Y')) {
        const char *p = s->text + t->start + 2;
        size_t n = t->end - t->start - 2;
        int y = 0;
        for (size_t k = 0; k < n; k++) {
            if (!is_digit((unsigned char)p[k]))
                return 0;
            y = y * 10 + (p[k] - '0');
        }
        if (n == 2)
            y += y < 50 ? 2000 : 1900;
        else if (n != 4)
            return 0;
        match_init(m, i, i + 1, TX_DATE);
        vbuf_t b = vb_begin(m->value, sizeof(m->value));
        vb_str(&b, "FY");
        vb_int(&b, y, 4);
        return 1;
    }
    if (!is_word(s, i, "fiscal") && !is_word(s, i, "financial"))
        return 0;
    size_t j = i + 1;
    if (is_word(s, j, "year"))
        j++;
    if (!is_year_num(s, j))
        return 0;
    match_init(m, i, j + 1, TX_DATE);
    vbuf_t b = vb_begin(m->value, sizeof(m->value));
    vb_str(&b, "FY");
    vb_int(&b, s->t[j].num, 4);
    return 1;
}

/* Day of weekday @p wd near the publication date; @p strict excludes the day itself. */
static int64_t weekday_day(const scan_t *s, int wd, int dir, int strict)
{
    int pw = iso_weekday(s->pz);
    if (dir > 0) {
        int delta = (wd - pw + 7) % 7;
        if (delta == 0 && strict)
            delta = 7;
        return s->pz + delta;
    }
    int delta = (pw - wd + 7) % 7;
    if (delta == 0 && strict)
        delta = 7;
    return s->pz - delta;
}

static int m_weekday_core(const scan_t *s, size_t b, size_t i, int rel, match_t *m)
{
    if (!has(s, i, LC_WEEKDAY) || !(s->t[i].flags & F_CAP))
        return 0;
    int wd = val(s, i, LC_WEEKDAY);
    size_t j = i + 1;
    /* "Monday, March 3, 2008": the date decides. */
    size_t k = j;
    if (is_punct(s, k, ','))
        k++;
    match_t dm;
    if (m_month(s, k, &dm) && dm.day_m) {
        dm.b = b;
        *m = dm;
        return 1;
    }
    if (m_day_month(s, k, &dm) && dm.day_m) {
        dm.b = b;
        *m = dm;
        return 1;
    }
    match_init(m, b, j, TX_DATE);
    if (!s->py) {
        vbuf_t vb = vb_begin(m->value, sizeof(m->value));
        vb_str(&vb, "XXXX-WXX-");
        vb_int(&vb, wd, 1);
    } else {
        int dir, strict = 0;
        if (rel < 0)
            dir = -1, strict = 1;
        else if (rel > 0)
            dir = 1, strict = 1;
        else
            dir = tense_near(s, b, j) == TENSE_FUTURE ? 1 : -1;
        set_day_z(m, weekday_day(s, wd, dir, strict));
    }
    if (has(s, j, LC_POD) && !has(s, j, LC_UNIT)) {
        m->e = j + 1;
        m->type = TX_TIME;
        if (strlen(m->value) < sizeof(m->value) - 4) {
            strcat(m->value, "T");
            strcat(m->value, pod_names[val(s, j, LC_POD)]);
        }
    }
    return 1;
}

static int m_weekday(const scan_t *s, size_t i, match_t *m)
{
    return m_weekday_core(s, i, i, 0, m);
}

/* Reads a number expression: "two", "27", "2.5", "twenty-five", "two and a half",
 * "a few", "several". @returns the token after it (0 = none); *v10 in tenths, -1 vague. */
static size_t read_number(const scan_t *s, size_t i, int *v10)
{
    if (i >= s->n)
        return 0;
    const tok_t *t = &s->t[i];
    size_t j;
    if (t->kind == T_NUM && t->suffix == SUF_NONE && !(t->flags & F_CLOCK)) {
        if (t->ndigits > 4)
            return 0;
        *v10 = t->num * 10;
        if (t->flags & F_DECIMAL) {
            const char *dot = memchr(s->text + t->start, '.', t->end - t->start);
            if (dot && dot + 1 < s->text + t->end)
                *v10 += dot[1] - '0';
        }
        j = i + 1;
    } else if (has(s, i, LC_NUMBER)) {
        int v = val(s, i, LC_NUMBER);
        j = i + 1;
        if ((is_word(s, i, "a") || is_word(s, i, "an"))) {
            if (has(s, j, LC_NUMBER) && val(s, j, LC_NUMBER) < 0) { /* "a few" */
                *v10 = -1;
                return j + 1;
            }
            if (is_word(s, j, "couple")) {
                j++;
                if (is_word(s, j, "of"))
                    j++;
                *v10 = 20;
                return j;
            }
        }
        if (v < 0) {
            *v10 = -1;
            return j;
        }
        if (v >= 20 && v < 100 && v % 10 == 0 && is_dash(s, j) && glued(s, j) &&
            has(s, j + 1, LC_NUMBER) && val(s, j + 1, LC_NUMBER) > 0 &&
            val(s, j + 1, LC_NUMBER) < 10) {
            v += val(s, j + 1, LC_NUMBER);
            j += 2;
        }
        *v10 = v * 10;
    } else {
        return 0;
    }
    if (is_word(s, j, "and") && (is_word(s, j + 1, "a") || is_word(s, j + 1, "one")) &&
        is_word(s, j + 2, "half") && *v10 >= 0) {
        *v10 += 5;
        j += 3;
    }
    return j;
}

/* Relative to the publication date by @p n units back (n > 0: "two days ago"). */
static int ago_value(const scan_t *s, int v10, int unit, int dir, match_t *m)
{
    if (v10 < 0 || v10 % 10 != 0) {
        vbuf_t b = vb_begin(m->value, sizeof(m->value));
        vb_str(&b, dir < 0 ? "PAST_REF" : "FUTURE_REF");
        return 1;
    }
    int n = v10 / 10 * dir;
    switch (unit) {
    case U_D:
        return anchor_value(s, U_D, n, m);
    case U_W:
        return anchor_value(s, U_W, n, m);
    case U_F:
        return anchor_value(s, U_W, 2 * n, m);
    case U_M:
        return anchor_value(s, U_M, n, m);
    case U_Q:
        return anchor_value(s, U_Q, n, m);
    case U_Y:
        return anchor_value(s, U_Y, n, m);
    case U_DE:
        return anchor_value(s, U_Y, 10 * n, m);
    case U_CE:
        return anchor_value(s, U_Y, 100 * n, m);
    default:
        return 0;
    }
}

/* Previous token (if any) reads as an amount or a frequency: "$5 million a year", "twice a year".
 */
static int before_is_rate(const scan_t *s, size_t i)
{
    if (i == 0)
        return 0;
    const tok_t *p = &s->t[i - 1];
    if (p->kind == T_NUM || p->kind == T_OTHER)
        return 1;
    return is_word(s, i - 1, "twice") || is_word(s, i - 1, "once") || is_word(s, i - 1, "times") ||
           is_word(s, i - 1, "million") || is_word(s, i - 1, "billion") ||
           is_word(s, i - 1, "thousand") || is_word(s, i - 1, "dollars") ||
           is_word(s, i - 1, "euros") || is_word(s, i - 1, "pounds");
}

static int m_duration(const scan_t *s, size_t i, match_t *m)
{
    int v10;
    size_t j = read_number(s, i, &v10);
    if (!j)
        return 0;
    int adjectival = 0;
    if (is_dash(s, j) && glued(s, j) && glued(s, j + 1)) {
        adjectival = 1;
        j++;
    }
    if (!has(s, j, LC_UNIT) || val(s, j, LC_UNIT) == U_HALF || val(s, j, LC_UNIT) == U_NONE)
        return 0;
    if (s->t[j].kind != T_WORD)
        return 0;
    int unit = val(s, j, LC_UNIT);
    /* "one second", but "the second quarter" is not ours */
    size_t e = j + 1;
    if (!adjectival && v10 >= 0 && is_word(s, e, "and") && is_word(s, e + 1, "a") &&
        is_word(s, e + 2, "half")) {
        v10 += 5;
        e += 3;
    }
    if (is_word(s, e, "ago")) {
        match_init(m, i, e + 1, TX_DATE);
        if (!ago_value(s, v10, unit, -1, m))
            return 0;
        return 1;
    }
    int is_a = is_word(s, i, "a") || is_word(s, i, "an");
    if (is_a && v10 == 10 && before_is_rate(s, i)) {
        match_init(m, i, e, TX_SET);
        duration_value(m->value, sizeof(m->value), 10, unit);
        return 1;
    }
    if (is_a && unit == U_S)
        return 0; /* "a second aircraft" */
    match_init(m, i, e, TX_DURATION);
    if (!duration_value(m->value, sizeof(m->value), v10, unit))
        return 0;
    return 1;
}

/* "almost two and a half years", "more than three years" */
static int m_approx(const scan_t *s, size_t i, match_t *m)
{
    size_t j;
    if (has(s, i, LC_APPROX))
        j = i + 1;
    else if ((is_word(s, i, "more") || is_word(s, i, "less") || is_word(s, i, "fewer")) &&
             is_word(s, i + 1, "than"))
        j = i + 2;
    else if ((is_word(s, i, "at") && (is_word(s, i + 1, "least") || is_word(s, i + 1, "most"))) ||
             (is_word(s, i, "up") && is_word(s, i + 1, "to")))
        j = i + 2;
    else
        return 0;
    if (!m_duration(s, j, m) || m->type != TX_DURATION)
        return 0;
    m->b = i;
    return 1;
}

/* "last week", "next month", "this year", "last Thursday", "the past decade",
 * "the next four years", "last summer", "next March" */
static int m_relative(const scan_t *s, size_t i, match_t *m)
{
    if (!has(s, i, LC_RELATIVE))
        return 0;
    int rel = val(s, i, LC_RELATIVE);
    int the = i > 0 && is_word(s, i - 1, "the");
    int past = is_word(s, i, "past");
    size_t j = i + 1;
    if (rel == 0 && is_word(s, j, "past") && has(s, j + 1, LC_UNIT)) {
        /* "this past week": the previous one */
        rel = -1;
        j++;
    }
    if (has(s, j, LC_WEEKDAY))
        return m_weekday_core(s, i, j, rel, m);
    int mo, abbr;
    size_t k;
    if (month_at(s, j, &mo, &k, &abbr) && !abbr && !the) {
        int y;
        if (!s->py)
            y = 0;
        else if (rel < 0)
            y = mo < s->pm ? s->py : s->py - 1;
        else if (rel > 0)
            y = mo > s->pm ? s->py : s->py + 1;
        else
            y = s->py;
        match_init(m, i, k, TX_DATE);
        set_month(m, y, mo);
        return 1;
    }
    if (has(s, j, LC_SEASON) && !the) {
        int se = val(s, j, LC_SEASON);
        match_init(m, i, j + 1, TX_DATE);
        if (!s->py) {
            vbuf_t b = vb_begin(m->value, sizeof(m->value));
            vb_str(&b, "XXXX-");
            vb_str(&b, season_names[se]);
            return 1;
        }
        /* Season index of the publication date: SP 3-5, SU 6-8, FA 9-11, WI 12-2. */
        int cur = s->pm == 12 || s->pm <= 2 ? 4 : (s->pm - 3) / 3 + 1;
        int y = s->py;
        if (cur == 4 && s->pm <= 2)
            y--; /* winter is named by the year it starts in */
        if (rel < 0 && se >= cur)
            y--;
        else if (rel > 0 && se <= cur)
            y++;
        vbuf_t b = vb_begin(m->value, sizeof(m->value));
        vb_int(&b, y, 4);
        vb_chr(&b, '-');
        vb_str(&b, season_names[se]);
        return 1;
    }
    /* "the past two years", "the next few months" */
    int v10;
    size_t e = read_number(s, j, &v10);
    if (e && !is_word(s, j, "a") && has(s, e, LC_UNIT) && rel != 0) {
        int unit = val(s, e, LC_UNIT);
        match_init(m, i, e + 1, TX_DURATION);
        if (!duration_value(m->value, sizeof(m->value), v10, unit))
            return 0;
        take_the(s, m);
        return 1;
    }
    if (!has(s, j, LC_UNIT))
        return 0;
    int unit = val(s, j, LC_UNIT);
    const tok_t *ut = &s->t[j];
    if (rel != 0 && s->text[ut->end - 1] == 's' && unit != U_CE) {
        /* "the past weeks", "in recent months": an unspecified stretch */
        match_init(m, i, j + 1, TX_DURATION);
        if (!duration_value(m->value, sizeof(m->value), -1, unit))
            return 0;
        take_the(s, m);
        return 1;
    }
    if ((the && rel != 0) || past) {
        /* "the past decade", "the next year": a stretch of time */
        if (unit == U_WE || unit == U_HALF)
            return 0;
        match_init(m, i, j + 1, TX_DURATION);
        if (!duration_value(m->value, sizeof(m->value), 10, unit))
            return 0;
        if (is_word(s, i, "following") || is_word(s, i, "previous"))
            return 0;
        take_the(s, m);
        if (unit == U_Q && rel < 0 && the) {
            /* "the last quarter": the previous calendar quarter */
            m->type = TX_DATE;
            anchor_value(s, U_Q, -1, m);
        }
        return 1;
    }
    if (is_word(s, i, "following") || is_word(s, i, "upcoming"))
        return 0;
    if (unit == U_D || unit == U_H || unit == U_MIN || unit == U_S || unit == U_F)
        return 0;
    match_init(m, i, j + 1, TX_DATE);
    return anchor_value(s, unit, rel, m);
}

/* "3 p.m.", "18:00 UTC", "2030 GMT", "3pm" */
static int m_time(const scan_t *s, size_t i, match_t *m)
{
    const tok_t *t = &s->t[i];
    if (t->kind != T_NUM || (t->flags & F_DECIMAL))
        return 0;
    int hh, mm;
    size_t j = i + 1;
    int ampm = t->suffix == SUF_AM ? 1 : t->suffix == SUF_PM ? 2 : 0;
    if (t->flags & F_CLOCK) {
        hh = t->num / 100, mm = t->num % 100;
    } else if (t->ndigits <= 2 && (t->suffix == SUF_NONE || ampm)) {
        hh = t->num, mm = 0;
    } else if (t->ndigits == 4 && t->suffix == SUF_NONE && has(s, j, LC_ZONE)) {
        hh = t->num / 100, mm = t->num % 100; /* "2030 GMT" */
    } else {
        return 0;
    }
    if (!ampm && j < s->n) {
        /* "a.m." / "p.m." / "am" / "pm" */
        if ((is_word(s, j, "a") || is_word(s, j, "p")) && is_punct(s, j + 1, '.') &&
            is_word(s, j + 2, "m") && glued(s, j + 1) && glued(s, j + 2)) {
            ampm = is_word(s, j, "a") ? 1 : 2;
            j += 3;
            if (is_punct(s, j, '.') && glued(s, j))
                j++;
        } else if (is_word(s, j, "am") || is_word(s, j, "pm")) {
            ampm = is_word(s, j, "am") ? 1 : 2;
            j++;
        }
    }
    int zone = 0;
    if (has(s, j, LC_ZONE) && (s->t[j].flags & F_CAP) && !is_word(s, j, "z")) {
        zone = val(s, j, LC_ZONE);
        j++;
    } else if (is_punct(s, j, '(') && has(s, j + 1, LC_ZONE) && (s->t[j + 1].flags & F_CAP)) {
        /* "(GMT)", "(GMT +8)": the offset is kept in the extent only */
        size_t k = j + 2;
        if ((is_punct(s, k, '+') || is_dash(s, k)) && is_plain_num(s, k + 1))
            k += 2;
        if (is_punct(s, k, ')')) {
            zone = val(s, j + 1, LC_ZONE);
            if (k != j + 2)
                zone = 2;
            j = k + 1;
        }
    }
    if (!(t->flags & F_CLOCK) && !ampm && !zone)
        return 0;
    if (ampm && (hh < 1 || hh > 12))
        return 0;
    if (ampm == 2 && hh < 12)
        hh += 12;
    if (ampm == 1 && hh == 12)
        hh = 0;
    if (hh > 24 || mm > 59)
        return 0;
    match_init(m, i, j, TX_TIME);
    char day[16];
    vbuf_t db = vb_begin(day, sizeof(day));
    if (s->anchor_y && s->anchor_sent + 1 >= t->sent) {
        vb_int(&db, s->anchor_y, 4);
        vb_chr(&db, '-');
        vb_int(&db, s->anchor_m, 2);
        vb_chr(&db, '-');
        vb_int(&db, s->anchor_d, 2);
    } else if (s->py) {
        vb_int(&db, s->py, 4);
        vb_chr(&db, '-');
        vb_int(&db, s->pm, 2);
        vb_chr(&db, '-');
        vb_int(&db, s->pd, 2);
    } else {
        vb_str(&db, "XXXX-XX-XX");
    }
    vbuf_t b = vb_begin(m->value, sizeof(m->value));
    vb_str(&b, day);
    vb_chr(&b, 'T');
    vb_int(&b, hh, 2);
    vb_chr(&b, ':');
    vb_int(&b, mm, 2);
    if (zone == 1)
        vb_chr(&b, 'Z');
    return 1;
}

/* "the third quarter", "the first half of 2008", "fourth-quarter", "Q3 2021" */
static int m_quarter(const scan_t *s, size_t i, match_t *m)
{
    int n = 0;
    size_t j = i + 1;
    const tok_t *t = &s->t[i];
    int is_half = 0;
    if (t->kind == T_OTHER && t->end - t->start == 2 &&
        (s->text[t->start] == 'Q' || s->text[t->start] == 'H') && s->text[t->start + 1] >= '1' &&
        s->text[t->start + 1] <= '4') {
        is_half = s->text[t->start] == 'H';
        n = s->text[t->start + 1] - '0';
        if (is_half && n > 2)
            return 0;
    } else {
        if (has(s, i, LC_ORDINAL) && val(s, i, LC_ORDINAL) >= 1 && val(s, i, LC_ORDINAL) <= 4)
            n = val(s, i, LC_ORDINAL);
        else if (t->kind == T_NUM && t->suffix == SUF_ORD && t->num >= 1 && t->num <= 4)
            n = t->num;
        else
            return 0;
        if (is_dash(s, j) && glued(s, j))
            j++;
        if (is_word(s, j, "fiscal") || is_word(s, j, "financial") || is_word(s, j, "calendar"))
            return 0;
        if (!is_word(s, j, "quarter") && !is_word(s, j, "half"))
            return 0;
        is_half = is_word(s, j, "half");
        if (is_half && n > 2)
            return 0;
        j++;
    }
    size_t e = j;
    int y = 0;
    size_t k = j;
    if (is_word(s, k, "of"))
        k++;
    if (is_word(s, k, "fiscal") || is_word(s, k, "financial"))
        k++;
    if (is_year_num(s, k)) {
        y = s->t[k].num;
        e = k + 1;
    } else if (is_word(s, k, "this") && is_word(s, k + 1, "year")) {
        y = s->py;
        e = k + 2;
    } else if (is_word(s, k, "last") && is_word(s, k + 1, "year")) {
        y = s->py ? s->py - 1 : 0;
        e = k + 2;
    } else if (is_word(s, k, "next") && is_word(s, k + 1, "year")) {
        y = s->py ? s->py + 1 : 0;
        e = k + 2;
    } else if (is_word(s, k, "the") && is_word(s, k + 1, "year")) {
        y = s->py;
        e = k + 2;
    } else if (s->py) {
        y = s->py;
        int cur = is_half ? (s->pm - 1) / 6 + 1 : (s->pm - 1) / 3 + 1;
        int tense = tense_near(s, i, j);
        if (tense == TENSE_PAST && n > cur)
            y--;
        else if (tense == TENSE_FUTURE && n < cur)
            y++;
    }
    match_init(m, i, e, TX_DATE);
    vbuf_t b = vb_begin(m->value, sizeof(m->value));
    if (y)
        vb_int(&b, y, 4);
    else
        vb_str(&b, "XXXX");
    vb_chr(&b, '-');
    vb_chr(&b, is_half ? 'H' : 'Q');
    vb_int(&b, n, 1);
    take_the(s, m);
    return 1;
}

/* "summer 2008", "the summer of 2008" */
static int m_season(const scan_t *s, size_t i, match_t *m)
{
    if (!has(s, i, LC_SEASON))
        return 0;
    size_t k = i + 1;
    if (is_word(s, k, "of"))
        k++;
    if (!is_year_num(s, k))
        return 0;
    match_init(m, i, k + 1, TX_DATE);
    vbuf_t b = vb_begin(m->value, sizeof(m->value));
    vb_int(&b, s->t[k].num, 4);
    vb_chr(&b, '-');
    vb_str(&b, season_names[val(s, i, LC_SEASON)]);
    take_the(s, m);
    return 1;
}

/* "annually", "every year", "each month", "per week", "every Monday", "every two years" */
static int m_set(const scan_t *s, size_t i, match_t *m)
{
    if (has(s, i, LC_SET)) {
        match_init(m, i, i + 1, TX_SET);
        vbuf_t b = vb_begin(m->value, sizeof(m->value));
        vb_str(&b, s->t[i].lex->set_value);
        return 1;
    }
    if (!has(s, i, LC_QUANT))
        return 0;
    size_t j = i + 1;
    if (has(s, j, LC_WEEKDAY) && val(s, i, LC_QUANT) == QUANT_EVERY) {
        match_init(m, i, j + 1, TX_SET);
        vbuf_t b = vb_begin(m->value, sizeof(m->value));
        vb_str(&b, "XXXX-WXX-");
        vb_int(&b, val(s, j, LC_WEEKDAY), 1);
        return 1;
    }
    int v10 = 10;
    size_t e = read_number(s, j, &v10);
    if (e && v10 > 0 && has(s, e, LC_UNIT))
        j = e;
    else
        v10 = 10;
    if (!has(s, j, LC_UNIT) || s->t[j].kind != T_WORD)
        return 0;
    match_init(m, i, j + 1, TX_SET);
    return duration_value(m->value, sizeof(m->value), v10, val(s, j, LC_UNIT));
}

/* "the 20th century", "the twenty-first century" */
static int m_century(const scan_t *s, size_t i, match_t *m)
{
    int n = 0;
    size_t j = i + 1;
    const tok_t *t = &s->t[i];
    if (t->kind == T_NUM && t->suffix == SUF_ORD && t->num >= 1 && t->num <= 30)
        n = t->num;
    else if (has(s, i, LC_ORDINAL) && val(s, i, LC_ORDINAL) > 0)
        n = val(s, i, LC_ORDINAL);
    else if (has(s, i, LC_NUMBER) && val(s, i, LC_NUMBER) >= 20 && is_dash(s, j) &&
             has(s, j + 1, LC_ORDINAL)) {
        n = val(s, i, LC_NUMBER) + val(s, j + 1, LC_ORDINAL);
        j += 2;
    } else {
        return 0;
    }
    if (is_dash(s, j) && glued(s, j))
        j++;
    if (!is_word(s, j, "century"))
        return 0;
    match_init(m, i, j + 1, TX_DATE);
    vbuf_t b = vb_begin(m->value, sizeof(m->value));
    vb_int(&b, n - 1, 2);
    take_the(s, m);
    return 1;
}

typedef int (*matcher_fn)(const scan_t *s, size_t i, match_t *m);

static int m_modifier(const scan_t *s, size_t i, match_t *m);

/* Each matcher with the word classes and token kinds it can start at, so
 * that most tokens are turned away after one test. */
static const struct {
    matcher_fn fn;
    uint32_t classes;
    uint32_t kinds;
} inner_matchers[] = {
    {m_phrase, CL(LC_PHRASE), 0},
    {m_month, CL(LC_MONTH) | CL(LC_MONTH_ABBR), 0},
    {m_day_month, 0, K_NUM},
    {m_numeric_date, 0, K_NUM},
    {m_year, 0, K_NUM},
    {m_fiscal, CL(LC_CUE), K_OTHER},
    {m_weekday, CL(LC_WEEKDAY), 0},
    {m_relative, CL(LC_RELATIVE), 0},
    {m_time, 0, K_NUM},
    {m_quarter, CL(LC_ORDINAL), K_NUM | K_OTHER},
    {m_season, CL(LC_SEASON), 0},
    {m_set, CL(LC_SET) | CL(LC_QUANT), 0},
    {m_century, CL(LC_ORDINAL) | CL(LC_NUMBER), K_NUM},
    {m_duration, CL(LC_NUMBER), K_NUM},
    {m_approx, CL(LC_APPROX) | CL(LC_CUE), 0},
};

/* @returns the set of inner_matchers[] (bit k for entry k) that may start at a
 * word of @p classes or a token of kind @p kinds. */
static uint32_t matchers_for(uint32_t classes, uint32_t kinds)
{
    uint32_t set = 0;
    for (size_t k = 0; k < ARRAY_LEN(inner_matchers); k++)
        if ((inner_matchers[k].classes & classes) || (inner_matchers[k].kinds & kinds))
            set |= 1u << k;
    return set;
}

static int try_inner(const scan_t *s, size_t i, match_t *best)
{
    int found = 0;
    match_t m;
    if (i >= s->n)
        return 0;
    const tok_t *t = &s->t[i];
    uint32_t todo = 0;
    if (t->kind == T_WORD && t->lex)
        todo = t->lex->matchers;
    else if (t->kind == T_NUM)
        todo = s->d->num_matchers;
    else if (t->kind == T_OTHER)
        todo = s->d->other_matchers;
    /* In table order: on equal extents the first matcher wins. */
    for (; todo; todo &= todo - 1) {
        int k = __builtin_ctz(todo);
        if (inner_matchers[k].fn(s, i, &m) &&
            (!found || m.e > best->e || (m.e == best->e && m.b < best->b))) {
            *best = m;
            found = 1;
        }
    }
    return found;
}

/* "early 2009", "mid-2011", "late March", "the end of the year", "the beginning of 2008" */
static int m_modifier(const scan_t *s, size_t i, match_t *m)
{
    if (!has(s, i, LC_MODIFIER))
        return 0;
    int mod = val(s, i, LC_MODIFIER);
    size_t j = i + 1;
    int of_form = 0;
    if (is_word(s, j, "of")) {
        /* "the beginning of ..." */
        if (i == 0 || !is_word(s, i - 1, "the"))
            return 0;
        of_form = 1;
        j++;
    } else if (is_dash(s, j) && glued(s, j)) {
        j++;
    } else if (is_word(s, i, "beginning") || is_word(s, i, "start") || is_word(s, i, "end") ||
               is_word(s, i, "middle")) {
        return 0;
    }
    match_t in;
    if (of_form && is_word(s, j, "the") &&
        (is_word(s, j + 1, "year") || is_word(s, j + 1, "month") || is_word(s, j + 1, "week") ||
         is_word(s, j + 1, "decade"))) {
        int unit = val(s, j + 1, LC_UNIT);
        match_init(&in, j, j + 2, TX_DATE);
        if (!anchor_value(s, unit, 0, &in))
            return 0;
    } else if (!try_inner(s, j, &in) || in.b != j || in.type != TX_DATE || in.value[0] == 'P') {
        return 0;
    }
    *m = in;
    m->b = of_form ? i - 1 : i;
    m->range_day = 0;
    if (mod == MOD_MID && !of_form && strlen(in.value) == 4 &&
        is_digit((unsigned char)in.value[0])) {
        memcpy(m->value + 5, "06-XX", sizeof("06-XX")); /* "2011" -> "2011-06-XX" */
        m->value[4] = '-';
    }
    return 1;
}

/* Longest match starting at token i (or at the "the" before it). */
static int match_at(const scan_t *s, size_t i, match_t *best)
{
    int found = try_inner(s, i, best);
    match_t m;
    if (m_modifier(s, i, &m) && (!found || m.e > best->e)) {
        *best = m;
        found = 1;
    }
    return found;
}

static int try_at(scan_t *s, size_t i, match_t *best)
{
    int found;
    if (s->cache_pos == i) {
        found = s->cache_found;
        *best = s->cache_match;
    } else {
        found = match_at(s, i, best);
    }
    /* A matcher at the next word may take this "the" ("the past decade");
     * its result is kept for when the scan moves on to that word. */
    if (is_word(s, i, "the") && i + 1 < s->n && (s->t[i + 1].kind != T_WORD || s->t[i + 1].lex)) {
        match_t m;
        int f = match_at(s, i + 1, &m);
        s->cache_pos = i + 1;
        s->cache_found = f;
        if (f)
            s->cache_match = m;
        if (f && m.b == i && (!found || m.e > best->e)) {
            *best = m;
            found = 1;
        }
    }
    return found;
}

/* ------------------------------------------------------------------ */
/* Extraction                                                         */
/* ------------------------------------------------------------------ */

/* Each object costs a malloc per member: the type string is made once per
 * call and shared (refcounted), and text already known to be valid UTF-8
 * (the doc text; values are ASCII or checked at load) skips validation. */
static int emit(scan_t *s, json_t *arr, size_t start, size_t end, int type, const char *value)
{
    if (!s->type_json[type]) {
        s->type_json[type] = json_stringn_nocheck(type_names[type], strlen(type_names[type]));
        if (!s->type_json[type])
            return -1;
    }
    json_t *o = json_object();
    if (!o)
        return -1;
    if (json_object_setn_new_nocheck(o, "text", 4,
                                     json_stringn_nocheck(s->text + start, end - start)) ||
        json_object_setn_new_nocheck(o, "value", 5, json_stringn_nocheck(value, strlen(value))) ||
        json_object_setn_new_nocheck(o, "type", 4, json_incref(s->type_json[type])) ||
        json_object_setn_new_nocheck(o, "start", 5, json_integer((json_int_t)start)) ||
        json_object_setn_new_nocheck(o, "end", 3, json_integer((json_int_t)end)) ||
        json_array_append_new(arr, o)) {
        json_decref(o);
        return -1;
    }
    return 0;
}

int bl_dates_extract(const bl_dates_t *dates, const bl_doc_t *doc, json_t *record)
{
    json_t *arr = json_array();
    if (!arr)
        return -1;
    scan_t s;
    memset(&s, 0, sizeof(s));
    s.d = dates;
    s.text = doc->text;
    s.anchor_sent = -10;
    if (doc->published.year > 0 && doc->published.month >= 1 && doc->published.month <= 12 &&
        doc->published.day >= 1 &&
        doc->published.day <= days_in_month(doc->published.year, doc->published.month)) {
        s.py = doc->published.year;
        s.pm = doc->published.month;
        s.pd = doc->published.day;
        s.pz = days_from_civil(s.py, s.pm, s.pd);
    }
    s.cache_pos = SIZE_MAX;
    tok_t stack[1024]; /* a 4 KB article has about 900 tokens */
    if (doc->text && doc->len &&
        tokenize(dates, doc->text, doc->len, stack, sizeof(stack) / sizeof(stack[0]), &s.t, &s.n) !=
            0) {
        json_decref(arr);
        return -1;
    }
    int rc = 0;
    size_t i = 0;
    while (rc == 0) {
        /* Only numbers and words of a starting class begin an expression. */
        while (i < s.n && !(s.t[i].flags & F_START))
            i++;
        if (i >= s.n)
            break;
        match_t m;
        if (!try_at(&s, i, &m)) {
            i++;
            continue;
        }
        if (m.value[0]) {
            rc = emit(&s, arr, s.t[m.b].start, s.t[m.e - 1].end, m.type, m.value);
            if (m.day_y) {
                s.anchor_y = m.day_y, s.anchor_m = m.day_m, s.anchor_d = m.day_d;
                s.anchor_sent = s.t[m.b].sent;
            }
            /* "Jan 9-10": the second day is a date of its own. */
            if (rc == 0 && m.range_day && is_dash(&s, m.e) && is_day_num(&s, m.e + 1) &&
                s.t[m.e + 1].num > m.day_d) {
                match_t r;
                match_init(&r, m.e + 1, m.e + 2, TX_DATE);
                int y = m.day_y;
                size_t k = m.e + 2;
                int yy = take_year(&s, &k);
                if (yy) {
                    y = yy;
                    r.e = k;
                }
                if (s.t[m.e + 1].num <= days_in_month(y ? y : 2000, m.day_m)) {
                    set_day(&r, y, m.day_m, s.t[m.e + 1].num);
                    rc = emit(&s, arr, s.t[m.e + 1].start, s.t[m.e + 1].end, TX_DATE, r.value);
                    m.e = m.e + 2;
                }
            }
        }
        i = m.e;
    }
    if (s.t != stack)
        free(s.t);
    for (size_t k = 0; k < ARRAY_LEN(s.type_json); k++)
        json_decref(s.type_json[k]);
    if (rc != 0) {
        json_decref(arr);
        return -1;
    }
    if (json_object_set_new(record, "dates", arr) != 0) /* takes arr even when it fails */
        return -1;
    return 0;
}
