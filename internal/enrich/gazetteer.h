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
uint64_t bl_gazetteer_token_key(const char *text, size_t len, size_t *key_len);

/**
 * @brief Longest name starting at token @p pos of @p keys (token keys from
 *        bl_gazetteer_token_key, 0 for tokens that may not be crossed).
 * @returns 1 and fills @p hit, or 0.
 */
int bl_gazetteer_match(const bl_gazetteer_t *g, const uint64_t *keys, size_t nkeys, size_t pos,
                       bl_gazetteer_hit_t *hit);

#endif
