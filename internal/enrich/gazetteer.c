/*
 * gazetteer: names compiled into open-addressing hash tables keyed by the
 * hash of their token-key sequence (the first tokens of longer names marked
 * too), plus a table of the longest name per first token, so a match walks
 * one probe per token and stops where no name continues. Built on the
 * start-up thread; read-only (any thread) afterwards.
 */
#include "enrich/gazetteer.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NAME_TOKENS 16

/* What a name slot's key is: the key of a name's whole token sequence, or
 * of the first two or more tokens of longer names (or both), so a match
 * walks on only while some name may still follow. */
#define SLOT_NAME   0x01
#define SLOT_PREFIX 0x02

typedef struct name_slot {
    uint64_t key; /* 0 = empty */
    uint32_t entity;
    uint8_t flags;
    char first_byte;
    uint8_t role; /* SLOT_* */
} name_slot_t;

typedef struct first_slot {
    uint64_t key;
    uint8_t max_tokens;
} first_slot_t;

typedef struct entity_slot {
    uint64_t key;
    uint32_t entity;
} entity_slot_t;

struct bl_gazetteer {
    bl_gazetteer_entity_t *entities;
    size_t nentities, entities_cap;
    name_slot_t *names;
    size_t nnames, names_cap; /* cap: power of two */
    size_t nslots;            /* names and prefixes in use */
    first_slot_t *firsts;
    size_t nfirsts, firsts_cap;
    entity_slot_t *emap;
    size_t nemap, emap_cap;
    char **types; /* distinct entity types, shared by the entities */
    size_t ntypes;
    size_t nfiles;
};

static uint64_t mix64(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h ? h : 1;
}

uint64_t bl_gazetteer_token_key_slow(const unsigned char *s, size_t i, size_t n, uint64_t h,
                                     uint64_t *upper)
{
    /* The same key as the fast path, built byte by byte. */
    uint64_t w = 0;
    size_t used = i, fill = 0;
    for (; i < n; i++) {
        unsigned char c = s[i];
        if (c == '.') {
            if (n > 1)
                continue;
        } else if (c == 0xE2 && i + 2 < n && s[i + 1] == 0x80 && s[i + 2] == 0x99) {
            c = '\'';
            i += 2;
        }
        int cap = (unsigned)(c - 'A') < 26u;
        *upper |= (uint64_t)cap;
        c = (unsigned char)(c + (cap ? 32 : 0));
        w |= (uint64_t)c << (8 * fill);
        used++;
        if (++fill == 8) {
            h = bl_gazetteer_key_step(h, w);
            w = 0;
            fill = 0;
        }
    }
    if (fill)
        h = bl_gazetteer_key_step(h, w);
    return bl_gazetteer_key_final(h, used);
}

static uint64_t seq_step(uint64_t h, uint64_t key)
{
    return (h ^ key) * 0x9e3779b97f4a7c15ULL + 0x632be59bd9b4e019ULL;
}

static uint64_t seq_final(uint64_t h, size_t n)
{
    return mix64(h ^ (n * 0x2545f4914f6cdd1dULL));
}

bl_gazetteer_t *bl_gazetteer_new(void)
{
    bl_gazetteer_t *g = calloc(1, sizeof(*g));
    if (!g)
        return NULL;
    g->names_cap = 1 << 12;
    g->firsts_cap = 1 << 12;
    g->emap_cap = 1 << 12;
    g->names = calloc(g->names_cap, sizeof(*g->names));
    g->firsts = calloc(g->firsts_cap, sizeof(*g->firsts));
    g->emap = calloc(g->emap_cap, sizeof(*g->emap));
    if (!g->names || !g->firsts || !g->emap) {
        bl_gazetteer_destroy(g);
        return NULL;
    }
    return g;
}

void bl_gazetteer_destroy(bl_gazetteer_t *g)
{
    if (!g)
        return;
    for (size_t i = 0; i < g->nentities; i++) {
        free((char *)g->entities[i].name);
        free((char *)g->entities[i].qid);
    }
    for (size_t i = 0; i < g->ntypes; i++)
        free(g->types[i]);
    free(g->types);
    free(g->entities);
    free(g->names);
    free(g->firsts);
    free(g->emap);
    free(g);
}

/* Grows an open-addressing table of @p slot_size-byte slots whose first
 * member is a uint64_t key (0 = empty) to twice its size. */
static int grow(void **table, size_t *cap, size_t slot_size)
{
    size_t ncap = *cap * 2;
    char *nt = calloc(ncap, slot_size);
    if (!nt)
        return -1;
    char *old = *table;
    for (size_t i = 0; i < *cap; i++) {
        uint64_t key;
        memcpy(&key, old + i * slot_size, sizeof(key));
        if (!key)
            continue;
        size_t j = key & (ncap - 1);
        for (;;) {
            uint64_t k2;
            memcpy(&k2, nt + j * slot_size, sizeof(k2));
            if (!k2)
                break;
            j = (j + 1) & (ncap - 1);
        }
        memcpy(nt + j * slot_size, old + i * slot_size, slot_size);
    }
    free(old);
    *table = nt;
    *cap = ncap;
    return 0;
}

static char *dup_or_null(const char *s)
{
    if (!s || !*s || strcmp(s, "null") == 0)
        return NULL;
    return strdup(s);
}

/* @returns the shared copy of @p type, or NULL (memory). A handful of types exist. */
static const char *intern_type(bl_gazetteer_t *g, const char *type)
{
    for (size_t i = 0; i < g->ntypes; i++)
        if (strcmp(g->types[i], type) == 0)
            return g->types[i];
    char **nt = realloc(g->types, (g->ntypes + 1) * sizeof(*nt));
    if (!nt)
        return NULL;
    g->types = nt;
    if (!(g->types[g->ntypes] = strdup(type)))
        return NULL;
    return g->types[g->ntypes++];
}

/* Whether jansson takes @p s as a string (it checks UTF-8). */
static int valid_utf8(const char *s)
{
    json_t *probe = json_string(s);
    json_decref(probe);
    return probe != NULL;
}

static void entity_lengths(bl_gazetteer_entity_t *e)
{
    e->name_len = (uint32_t)strlen(e->name);
    e->qid_len = e->qid ? (uint32_t)strlen(e->qid) : 0;
    e->utf8 = valid_utf8(e->name) && (!e->qid || valid_utf8(e->qid));
}

static int64_t entity_for(bl_gazetteer_t *g, const char *canonical, const char *type,
                          const char *qid, uint8_t kind)
{
    size_t klen;
    uint64_t key = seq_step(bl_gazetteer_token_key(canonical, strlen(canonical), &klen),
                            bl_gazetteer_token_key(type, strlen(type), &klen));
    key = mix64(key);
    size_t j = key & (g->emap_cap - 1);
    while (g->emap[j].key) {
        if (g->emap[j].key == key) {
            bl_gazetteer_entity_t *e = &g->entities[g->emap[j].entity];
            if (!e->qid && qid && *qid && strcmp(qid, "null") != 0) {
                e->qid = strdup(qid);
                entity_lengths(e);
            }
            e->kind |= kind;
            return g->emap[j].entity;
        }
        j = (j + 1) & (g->emap_cap - 1);
    }
    if (g->nentities == g->entities_cap) {
        size_t ncap = g->entities_cap ? g->entities_cap * 2 : 1024;
        bl_gazetteer_entity_t *ne = realloc(g->entities, ncap * sizeof(*ne));
        if (!ne)
            return -1;
        g->entities = ne;
        g->entities_cap = ncap;
    }
    bl_gazetteer_entity_t *e = &g->entities[g->nentities];
    e->name = strdup(canonical);
    e->type = intern_type(g, type);
    e->qid = dup_or_null(qid);
    e->kind = kind;
    if (!e->name || !e->type) {
        free((char *)e->name);
        free((char *)e->qid);
        return -1;
    }
    entity_lengths(e);
    g->emap[j].key = key;
    g->emap[j].entity = (uint32_t)g->nentities;
    if (++g->nemap * 2 > g->emap_cap && grow((void **)&g->emap, &g->emap_cap, sizeof(*g->emap)))
        return -1;
    return (int64_t)g->nentities++;
}

static size_t name_slot(const bl_gazetteer_t *g, uint64_t key)
{
    size_t j = key & (g->names_cap - 1);
    while (g->names[j].key && g->names[j].key != key)
        j = (j + 1) & (g->names_cap - 1);
    return j;
}

static int add_name(bl_gazetteer_t *g, const char *alias, const char *canonical, const char *type,
                    const char *qid, uint32_t flags, uint8_t kind)
{
    /* Tokenise the alias exactly as documents are tokenised. */
    bl_doc_t d = {0};
    d.text = (char *)alias;
    d.len = strlen(alias);
    if (d.len == 0)
        return 0;
    if (bl_doc_tokenize(&d) < 0)
        return -1;
    int rc = 0;
    if (d.ntokens == 0 || d.ntokens > MAX_NAME_TOKENS)
        goto out;
    int64_t ent = entity_for(g, canonical, type, qid, kind);
    if (ent < 0) {
        rc = -1;
        goto out;
    }
    uint64_t h = 0, first = 0, prefix[MAX_NAME_TOKENS];
    int letters = 0, upper = 0;
    for (size_t i = 0; i < d.ntokens; i++) {
        size_t kl;
        uint64_t k = bl_gazetteer_token_key(alias + d.tokens[i].start,
                                            d.tokens[i].end - d.tokens[i].start, &kl);
        if (i == 0)
            first = k;
        h = seq_step(h, k);
        prefix[i] = h;
    }
    for (size_t len = 2; len < d.ntokens; len++) {
        uint64_t pk = seq_final(prefix[len - 1], len);
        size_t j = name_slot(g, pk);
        if (g->names[j].key) {
            g->names[j].role |= SLOT_PREFIX;
            continue;
        }
        g->names[j] = (name_slot_t){.key = pk, .role = SLOT_PREFIX};
        if (++g->nslots * 2 > g->names_cap &&
            grow((void **)&g->names, &g->names_cap, sizeof(*g->names))) {
            rc = -1;
            goto out;
        }
    }
    for (const char *p = alias; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))
            letters++;
        if (*p >= 'A' && *p <= 'Z')
            upper++;
    }
    if (letters <= 4 && upper == letters)
        flags |= BL_GAZ_ALLCAPS;
    if (alias[0] >= 'a' && alias[0] <= 'z')
        flags |= BL_GAZ_LOWER1ST;
    uint64_t key = seq_final(h, d.ntokens);
    size_t j = name_slot(g, key);
    if (g->names[j].role & SLOT_NAME) {
        /* Same key twice ("NATO", "Nato"): the laxer case rule wins. */
        if (g->names[j].entity == (uint32_t)ent) {
            g->names[j].flags &= (uint8_t)(flags | ~(BL_GAZ_ALLCAPS | BL_GAZ_WEAK));
            if (!(flags & BL_GAZ_LOWER1ST))
                g->names[j].flags &= (uint8_t)~BL_GAZ_LOWER1ST;
        }
        goto out;
    }
    int fresh = !g->names[j].key;
    uint8_t role = (uint8_t)(g->names[j].role | SLOT_NAME);
    g->names[j] = (name_slot_t){key, (uint32_t)ent, (uint8_t)flags, alias[0], role};
    g->nnames++;
    if (fresh && ++g->nslots * 2 > g->names_cap &&
        grow((void **)&g->names, &g->names_cap, sizeof(*g->names))) {
        rc = -1;
        goto out;
    }
    j = first & (g->firsts_cap - 1);
    while (g->firsts[j].key && g->firsts[j].key != first)
        j = (j + 1) & (g->firsts_cap - 1);
    if (!g->firsts[j].key) {
        g->firsts[j].key = first;
        g->nfirsts++;
    }
    if (g->firsts[j].max_tokens < d.ntokens)
        g->firsts[j].max_tokens = (uint8_t)d.ntokens;
    if (g->nfirsts * 2 > g->firsts_cap &&
        grow((void **)&g->firsts, &g->firsts_cap, sizeof(*g->firsts)))
        rc = -1;
out:
    free(d.tokens);
    return rc;
}

int bl_gazetteer_add(bl_gazetteer_t *g, const char *alias, const char *canonical, const char *type,
                     const char *qid, uint32_t flags)
{
    return add_name(g, alias, canonical, type, qid, flags, 0);
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\r' || s[n - 1] == '\n' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return s;
}

int bl_gazetteer_load_file(bl_gazetteer_t *g, const char *path, char *errstr, size_t errstr_size)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(errstr, errstr_size, "gazetteer %s: %s", path, strerror(errno));
        return -1;
    }
    char line[4096];
    uint32_t tier = 0;
    uint8_t kind = 0;
    int lineno = 0, rc = 0;
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        if (line[0] == '#') {
            if (strncmp(line, "#!tier weak", 11) == 0)
                tier = BL_GAZ_WEAK;
            else if (strncmp(line, "#!kind country", 14) == 0)
                kind = BL_GAZ_KIND_COUNTRY;
            else if (strncmp(line, "#!kind region", 13) == 0)
                kind = BL_GAZ_KIND_REGION;
            else if (strncmp(line, "#!kind none", 11) == 0)
                kind = 0;
            continue;
        }
        char *fields[4] = {NULL, NULL, NULL, NULL};
        char *p = line;
        for (int i = 0; i < 4 && p; i++) {
            fields[i] = p;
            p = strchr(p, '\t');
            if (p)
                *p++ = '\0';
        }
        char *name = trim(fields[0]);
        if (!*name)
            continue;
        if (!fields[1] || !*trim(fields[1])) {
            snprintf(errstr, errstr_size, "gazetteer %s:%d: no type after the name", path, lineno);
            rc = -1;
            break;
        }
        char *type = trim(fields[1]);
        char *qid = fields[2] ? trim(fields[2]) : NULL;
        if (add_name(g, name, name, type, qid, tier, kind) < 0) {
            snprintf(errstr, errstr_size, "gazetteer %s:%d: out of memory", path, lineno);
            rc = -1;
            break;
        }
        for (char *alias = fields[3] ? trim(fields[3]) : NULL; alias && *alias;) {
            char *bar = strchr(alias, '|');
            if (bar)
                *bar = '\0';
            char *a = trim(alias);
            if (*a && add_name(g, a, name, type, qid, tier, kind) < 0) {
                snprintf(errstr, errstr_size, "gazetteer %s:%d: out of memory", path, lineno);
                rc = -1;
                break;
            }
            alias = bar ? bar + 1 : NULL;
        }
        if (rc)
            break;
    }
    fclose(f);
    if (!rc)
        g->nfiles++;
    return rc;
}

size_t bl_gazetteer_names(const bl_gazetteer_t *g)
{
    return g->nnames;
}

size_t bl_gazetteer_files(const bl_gazetteer_t *g)
{
    return g->nfiles;
}

size_t bl_gazetteer_entities(const bl_gazetteer_t *g)
{
    return g->nentities;
}

const char *bl_gazetteer_type(const bl_gazetteer_t *g, const char *type)
{
    for (size_t i = 0; i < g->ntypes; i++)
        if (strcmp(g->types[i], type) == 0)
            return g->types[i];
    return NULL;
}

const bl_gazetteer_entity_t *bl_gazetteer_entity(const bl_gazetteer_t *g, uint32_t entity)
{
    return entity < g->nentities ? &g->entities[entity] : NULL;
}

/* Takes the hash of the first @p w->n keys: records the name there, if any.
 * @returns whether a longer name may follow. */
static int walk_probe(const bl_gazetteer_t *g, bl_gazetteer_walk_t *w)
{
    const name_slot_t *slot = &g->names[name_slot(g, seq_final(w->h, w->n))];
    if (!slot->key)
        return 0;
    if (slot->role & SLOT_NAME) {
        w->hit.ntokens = w->n;
        w->hit.entity = slot->entity;
        w->hit.flags = slot->flags;
        w->hit.first_byte = slot->first_byte;
    }
    return (slot->role & SLOT_PREFIX) && w->n < w->max;
}

int bl_gazetteer_walk_start(const bl_gazetteer_t *g, uint64_t first, bl_gazetteer_walk_t *w)
{
    w->hit = (bl_gazetteer_hit_t){0};
    if (!first)
        return 0;
    size_t j = first & (g->firsts_cap - 1);
    while (g->firsts[j].key && g->firsts[j].key != first)
        j = (j + 1) & (g->firsts_cap - 1);
    if (!g->firsts[j].key)
        return 0;
    w->max = g->firsts[j].max_tokens;
    w->h = seq_step(0, first);
    w->n = 1;
    /* Names of two or more tokens mark no one-token prefix: max says. */
    walk_probe(g, w);
    return w->max > 1;
}

int bl_gazetteer_walk_next(const bl_gazetteer_t *g, bl_gazetteer_walk_t *w, uint64_t key)
{
    if (!key)
        return 0;
    w->h = seq_step(w->h, key);
    w->n++;
    return walk_probe(g, w);
}

int bl_gazetteer_match(const bl_gazetteer_t *g, const uint64_t *keys, size_t nkeys, size_t pos,
                       bl_gazetteer_hit_t *hit)
{
    bl_gazetteer_walk_t w;
    int more = bl_gazetteer_walk_start(g, keys[pos], &w);
    for (size_t k = pos + 1; more && k < nkeys; k++)
        more = bl_gazetteer_walk_next(g, &w, keys[k]);
    if (!w.hit.ntokens)
        return 0;
    *hit = w.hit;
    return 1;
}
