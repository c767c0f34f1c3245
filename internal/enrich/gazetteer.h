/*
 * gazetteer: known names (people, organisations, places) compiled into a
 * hash of token sequences, matched longest first over a document's tokens.
 * Built once at start-up (bl_gazetteer_load_file) and read-only afterwards,
 * so any number of threads may match against one instance.
 */
#ifndef BL_GAZETTEER_H
#define BL_GAZETTEER_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "enrich/doc.h"

typedef struct bl_gazetteer bl_gazetteer_t;

/* Alias flags. */
#define BL_GAZ_WEAK 0x01 /* bulk-tier name: loses to surrounding capitalised words */
#define BL_GAZ_ALLCAPS                                                                             \
    0x02                     /* short upper-case alias ("US", "WHO"): text must be upper case too  \
                              */
#define BL_GAZ_LOWER1ST 0x04 /* name starts lower case ("eBay"): first byte must match exactly */

/* Place kinds ("#!kind country" / "#!kind region" in a file; OR-ed over files). */
#define BL_GAZ_KIND_COUNTRY 0x01
#define BL_GAZ_KIND_REGION  0x02 /* a subdivision of a country: state, province */

typedef struct bl_gazetteer_entity {
    const char *name; /* canonical */
    const char *type; /* "PERSON", "ORGANIZATION", ...: one string per distinct type (compare
                         pointers between entities of one gazetteer) */
    const char *qid;  /* Wikidata id or NULL */
    uint32_t name_len, qid_len; /* strlen of name and qid (0 for NULL) */
    uint8_t kind;               /* BL_GAZ_KIND_* bits, 0 = none known */
    uint8_t utf8; /* 1: name and qid are valid UTF-8 (the *_nocheck jansson calls may take them) */
} bl_gazetteer_entity_t;

typedef struct bl_gazetteer_hit {
    size_t ntokens;  /* tokens covered, 0 = no match */
    uint32_t entity; /* index for bl_gazetteer_entity() */
    uint32_t flags;  /* BL_GAZ_* of the alias matched */
    char first_byte; /* first byte of the alias as written */
} bl_gazetteer_hit_t;

bl_gazetteer_t *bl_gazetteer_new(void);
void bl_gazetteer_destroy(bl_gazetteer_t *g);

/**
 * @brief Loads a TSV file: "name<TAB>type<TAB>wikidata-id<TAB>alias|alias".
 *        Lines starting with '#' are comments; "#!tier weak" marks every
 *        later name in the file weak; "#!kind country", "#!kind region"
 *        and "#!kind none" set the place kind of the later entities. An entity is keyed by (name,
 * type): a later line for the same entity adds aliases (and an id); a name already taken by another
 * entity keeps its first owner.
 * @returns 0, or -1 with the reason in @p errstr.
 */
int bl_gazetteer_load_file(bl_gazetteer_t *g, const char *path, char *errstr, size_t errstr_size);

/** @brief Adds one name (or alias) for entity (canonical, type, qid). @returns 0 or -1 (memory). */
int bl_gazetteer_add(bl_gazetteer_t *g, const char *alias, const char *canonical, const char *type,
                     const char *qid, uint32_t flags);

/** @returns names (aliases included) and files loaded. */
size_t bl_gazetteer_names(const bl_gazetteer_t *g);
size_t bl_gazetteer_files(const bl_gazetteer_t *g);
size_t bl_gazetteer_entities(const bl_gazetteer_t *g);

const bl_gazetteer_entity_t *bl_gazetteer_entity(const bl_gazetteer_t *g, uint32_t entity);

/**
 * @brief The matching key of one token: lower-cased ASCII, '.' dropped,
 *        ’ read as ', a possessive "'s" or trailing "'" dropped.
 * @p key_len gets how many bytes of the token the key covers (the token
 *        without its possessive), so a mention can end there.
 * @returns a 64-bit hash of the key (0 is never returned).
 */
static inline uint64_t bl_gazetteer_token_key(const char *text, size_t len, size_t *key_len);

/**
 * @brief bl_gazetteer_token_key, and whether the token (all @p len bytes,
 *        possessive included) holds an ASCII capital, in @p has_upper:
 *        the extractor asks both of every token, and the key reads the
 *        bytes anyway.
 */
static inline uint64_t bl_gazetteer_token_key_upper(const char *text, size_t len, size_t *key_len,
                                                    int *has_upper);

/** @returns the gazetteer's shared copy of entity type @p type (pointers
 *        compare equal to bl_gazetteer_entity_t.type), or NULL when no
 *        entity has that type. */
const char *bl_gazetteer_type(const bl_gazetteer_t *g, const char *type);

/**
 * @brief Longest name starting at token @p pos of @p keys (token keys from
 *        bl_gazetteer_token_key, 0 for tokens that may not be crossed).
 * @returns 1 and fills @p hit, or 0.
 */
int bl_gazetteer_match(const bl_gazetteer_t *g, const uint64_t *keys, size_t nkeys, size_t pos,
                       bl_gazetteer_hit_t *hit);

/* A match in progress, one token at a time, so a caller makes the keys
 * of the tokens after the first only while some name may still follow. */
typedef struct bl_gazetteer_walk {
    uint64_t h;             /* the keys taken, hashed */
    size_t n, max;          /* keys taken; most tokens of a name with that first key */
    bl_gazetteer_hit_t hit; /* the longest name so far (ntokens 0: none) */
} bl_gazetteer_walk_t;

/**
 * @brief Starts a match at a token of key @p first (0: none starts).
 * @returns 1 when a longer name may follow: pass the next token's key to
 *          bl_gazetteer_walk_next until it returns 0. @p w->hit is then
 *          the longest name (bl_gazetteer_match's answer).
 */
int bl_gazetteer_walk_start(const bl_gazetteer_t *g, uint64_t first, bl_gazetteer_walk_t *w);

/** @brief Takes the next token's @p key (0: may not be crossed). @returns as above. */
int bl_gazetteer_walk_next(const bl_gazetteer_t *g, bl_gazetteer_walk_t *w, uint64_t key);

/* ---- token keys, inline: computed for every token of every article ---- */

/* Eight key bytes at a time; a key is only ever compared with keys made here. */
static inline uint64_t bl_gazetteer_key_step(uint64_t h, uint64_t w)
{
    h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
    return h ^ (h >> 29);
}

static inline uint64_t bl_gazetteer_load_le(const unsigned char *p, size_t n) /* 1 <= n <= 8 */
{
    uint64_t w = 0;
    if (n >= 4) {
        uint32_t lo, hi;
        memcpy(&lo, p, 4);
        memcpy(&hi, p + n - 4, 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        lo = __builtin_bswap32(lo);
        hi = __builtin_bswap32(hi);
#endif
        /* The two loads overlap when n < 8: the shared bytes are equal. */
        w = (uint64_t)lo | (uint64_t)hi << (8 * (n - 4));
    } else {
        w = (uint64_t)p[0] | (uint64_t)p[n / 2] << (8 * (n / 2)) |
            (uint64_t)p[n - 1] << (8 * (n - 1));
    }
    return w;
}

#define BL_GAZ_ONES_  0x0101010101010101ULL
#define BL_GAZ_HIGHS_ 0x8080808080808080ULL

/* The high bit of every byte of @p w that is an ASCII capital. */
static inline uint64_t bl_gazetteer_upper8(uint64_t w)
{
    uint64_t low7 = w & ~BL_GAZ_HIGHS_;
    uint64_t ge_a = low7 + BL_GAZ_ONES_ * (0x80 - 'A');
    uint64_t gt_z = low7 + BL_GAZ_ONES_ * (0x80 - 'Z' - 1);
    return ge_a & ~gt_z & ~w & BL_GAZ_HIGHS_;
}

/* Nonzero when a byte of @p w is '.' or 0xE2 (the first byte of ’): the slow path. */
static inline uint64_t bl_gazetteer_has_special(uint64_t w)
{
    uint64_t dot = w ^ (BL_GAZ_ONES_ * '.'), e2 = w ^ (BL_GAZ_ONES_ * 0xE2);
    return ((dot - BL_GAZ_ONES_) & ~dot & BL_GAZ_HIGHS_) |
           ((e2 - BL_GAZ_ONES_) & ~e2 & BL_GAZ_HIGHS_);
}

/* The last step of a token key: one multiply, then the high half folded
 * into the low one, which index the hash tables. Both are bijective, so
 * two keys of one length up to eight bytes never collide. */
static inline uint64_t bl_gazetteer_key_final(uint64_t h, size_t n)
{
    h = (h ^ n) * 0xff51afd7ed558ccdULL;
    h ^= h >> 32;
    return h ? h : 1;
}

/* The key from byte @p i of the key bytes s[0, n) on, when s[i, i + 8)
 * holds '.' or 0xE2 (out of line: rare). ORs 1 into @p upper for a capital. */
uint64_t bl_gazetteer_token_key_slow(const unsigned char *s, size_t i, size_t n, uint64_t h,
                                     uint64_t *upper);

static inline uint64_t bl_gazetteer_token_key_upper(const char *text, size_t len, size_t *key_len,
                                                    int *has_upper)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t n = len;
    uint64_t upper = 0;
    /* Possessive: "Apple's", "Apple’s", "Airbus'" (the 'S' of "APPLE'S" is a capital). */
    if (n > 2) {
        unsigned char last = s[n - 1];
        if ((last | 0x20) == 's') {
            if (n > 3 && s[n - 2] == '\'') {
                n -= 2;
                upper = last == 'S';
            } else if (n > 5 && s[n - 4] == 0xE2 && s[n - 3] == 0x80 && s[n - 2] == 0x99) {
                n -= 4;
                upper = last == 'S';
            }
        } else if (last == '\'') {
            n -= 1;
        } else if (last == 0x99 && n > 4 && s[n - 3] == 0xE2 && s[n - 2] == 0x80) {
            n -= 3;
        }
    }
    if (key_len)
        *key_len = n;
    /* The key is the token lower-cased, with '.' dropped (unless it is the
     * whole token) and ’ read as ', hashed eight bytes at a time; tokens
     * holding neither '.' nor 0xE2 (nearly all) are hashed straight from
     * the text. */
    uint64_t h = 1469598103934665603ULL;
    size_t i = 0;
    for (; i < n; i += 8) { /* the last chunk may be short: zero-padded */
        uint64_t w = bl_gazetteer_load_le(s + i, n - i < 8 ? n - i : 8);
        if (bl_gazetteer_has_special(w)) {
            h = bl_gazetteer_token_key_slow(s, i, n, h, &upper);
            goto out;
        }
        uint64_t up = bl_gazetteer_upper8(w);
        upper |= up;
        h = bl_gazetteer_key_step(h, w | (up >> 2));
    }
    h = bl_gazetteer_key_final(h, n);
out:
    if (has_upper)
        *has_upper = upper != 0;
    return h;
}

/**
 * @brief bl_gazetteer_token_key_upper of a plain token of @p len bytes
 *        (1 to 8: all ASCII, no possessive, no '.' unless it is the whole
 *        token), given as @p w (its bytes little-endian, zero above) and
 *        @p upper (bl_gazetteer_upper8 of @p w): the key covers all bytes.
 */
static inline uint64_t bl_gazetteer_token_key_plain8(uint64_t w, size_t len, uint64_t upper)
{
    return bl_gazetteer_key_final(bl_gazetteer_key_step(1469598103934665603ULL, w | (upper >> 2)),
                                  len);
}

/** @brief bl_gazetteer_token_key_plain8 for 9 to 16 bytes: bytes 8 on in
 *         @p w1, @p upper1 its capitals. */
static inline uint64_t bl_gazetteer_token_key_plain16(uint64_t w0, uint64_t w1, size_t len,
                                                      uint64_t upper0, uint64_t upper1)
{
    uint64_t h = bl_gazetteer_key_step(1469598103934665603ULL, w0 | (upper0 >> 2));
    return bl_gazetteer_key_final(bl_gazetteer_key_step(h, w1 | (upper1 >> 2)), len);
}

static inline uint64_t bl_gazetteer_token_key(const char *text, size_t len, size_t *key_len)
{
    return bl_gazetteer_token_key_upper(text, len, key_len, NULL);
}

#endif
