/*
 * entities: people, organisations and places. Gazetteer names are matched
 * longest first; capitalised sequences the gazetteer does not know are
 * typed by cue words (titles, organisation and place words, given names);
 * short forms ("Putin", "Mr Putin") are merged into the full name seen in
 * the same document. Built at start-up; read-only, any thread.
 */
#include "enrich/enrich.h"
#include "enrich/gazetteer.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Cue bits for one token key. */
#define CUE_COMMON    0x0001 /* a lower-case dictionary word */
#define CUE_STOP      0x0002 /* never part of a name */
#define CUE_TITLE     0x0004 /* "President", "Mr", "spokesman" */
#define CUE_FIRSTNAME 0x0008
#define CUE_ORGSUF    0x0010   /* "Inc", "Council", "Airlines" */
#define CUE_ORGPRE    0x0020   /* "Ministry" (of ...) */
#define CUE_LOCSUF    0x0040   /* "Airport", "River" */
#define CUE_DEMONYM   0x0080   /* "French" */
#define CUE_HONORIFIC 0x0100   /* "Mr", "Mrs", "Ms", "Dr": kept in the mention text */
#define CUE_CONNECT   0x0200   /* "of", "de", "von" inside names */
#define CUE_LOCPREP   0x0400   /* "in", "near": a place follows */
#define CUE_SAYS      0x0800   /* "said", "says": a person precedes */
#define CUE_KEEPTITLE 0x1000   /* a title kept in the mention: "President", "Senator" */
#define CUE_CAMEL     0x2000   /* "iPhone", "MacBook": products more often than people */
#define CUE_INNERCAP  0x4000   /* lower-case first letter, a capital inside ("eBay") */
#define CUE_CURRENCY  0x8000   /* "US" in "US$": part of a currency sign */
#define CUE_LOCPRE    0x10000  /* "Eastern" Europe, "Central" Asia: part of the place */
#define CUE_ORGKIND   0x20000  /* "airline", "maker": a kind of organisation */
#define CUE_DET       0x40000  /* "the", "a", "an": start a noun phrase */
#define CUE_POSSPRON  0x80000  /* "its", "their": the phrase belongs to another name */
#define CUE_BASED     0x100000 /* "based" in "Los Angeles based Northrop Grumman" */
#define CUE_CURRNOUN  0x200000 /* "dollars": "US dollars" is a currency */
#define CUE_BASED_SUFFIX                                                                           \
    0x400000 /* a capitalised word's own suffix: "X-based", "X-born": X is a place */

typedef struct cue_slot {
    uint64_t key;
    uint32_t bits;
} cue_slot_t;

struct bl_entities {
    bl_gazetteer_t *gaz;
    cue_slot_t *cues; /* cue words (small: stays in cache) */
    size_t cues_cap, ncues;
    cue_slot_t *common; /* the common-word list, read for capitalised tokens only */
    size_t common_cap, ncommon;
    /* The gazetteer's copies of the types the rules know (NULL when no
     * entity has one): types compare by pointer, not strcmp, per token. */
    const char *gaz_person, *gaz_org, *gaz_loc;
    char info[128];
};

static int table_add(cue_slot_t **tab, size_t *cap, size_t *count, uint64_t key, uint32_t bits);

static int cue_add(bl_entities_t *e, uint64_t key, uint32_t bits)
{
    if (bits == CUE_COMMON)
        return table_add(&e->common, &e->common_cap, &e->ncommon, key, bits);
    return table_add(&e->cues, &e->cues_cap, &e->ncues, key, bits);
}

/* The bits of @p key in an open-addressing table of mask + 1 slots, 0 when absent. */
static inline uint32_t slot_bits(const cue_slot_t *tab, size_t mask, uint64_t key)
{
    for (size_t j = key & mask; tab[j].key; j = (j + 1) & mask)
        if (tab[j].key == key)
            return tab[j].bits;
    return 0;
}

static int table_add(cue_slot_t **tab, size_t *cap, size_t *count, uint64_t key, uint32_t bits)
{
    size_t j = key & (*cap - 1);
    while ((*tab)[j].key && (*tab)[j].key != key)
        j = (j + 1) & (*cap - 1);
    (*tab)[j].bits |= bits;
    if (!(*tab)[j].key) {
        (*tab)[j].key = key;
        if (++*count * 2 > *cap) {
            size_t ncap = *cap * 2;
            cue_slot_t *nc = calloc(ncap, sizeof(*nc));
            if (!nc)
                return -1;
            for (size_t i = 0; i < *cap; i++) {
                if (!(*tab)[i].key)
                    continue;
                size_t k = (*tab)[i].key & (ncap - 1);
                while (nc[k].key)
                    k = (k + 1) & (ncap - 1);
                nc[k] = (*tab)[i];
            }
            free(*tab);
            *tab = nc;
            *cap = ncap;
        }
    }
    return 0;
}

static int cue_load(bl_entities_t *e, const char *dir, const char *file, uint32_t bits,
                    char *errstr, size_t errstr_size)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/gazetteer/%s", dir, file);
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(errstr, errstr_size, "entities: cannot open %s", path);
        return -1;
    }
    char line[256];
    while (fgets(line, sizeof(line), f)) {
        size_t n = strcspn(line, "\r\n");
        line[n] = '\0';
        if (!n || line[0] == '#')
            continue;
        if (cue_add(e, bl_gazetteer_token_key(line, n, NULL), bits) < 0) {
            fclose(f);
            snprintf(errstr, errstr_size, "entities: out of memory");
            return -1;
        }
    }
    fclose(f);
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

bl_entities_t *bl_entities_new(const char *config_dir, const char *extra_gazetteers, char *errstr,
                               size_t errstr_size)
{
    bl_entities_t *e = calloc(1, sizeof(*e));
    if (!e)
        return NULL;
    e->cues_cap = 1 << 12;
    e->cues = calloc(e->cues_cap, sizeof(*e->cues));
    e->common_cap = 1 << 17;
    e->common = calloc(e->common_cap, sizeof(*e->common));
    e->gaz = bl_gazetteer_new();
    if (!e->cues || !e->common || !e->gaz) {
        snprintf(errstr, errstr_size, "entities: out of memory");
        goto fail;
    }
    static const struct {
        const char *file;
        uint32_t bits;
    } cue_files[] = {
        {"common_words.txt", CUE_COMMON},   {"stopwords.txt", CUE_STOP},
        {"person_titles.txt", CUE_TITLE},   {"first_names.txt", CUE_FIRSTNAME},
        {"org_suffixes.txt", CUE_ORGSUF},   {"org_prefixes.txt", CUE_ORGPRE},
        {"loc_suffixes.txt", CUE_LOCSUF},   {"demonyms.txt", CUE_DEMONYM},
        {"kept_titles.txt", CUE_KEEPTITLE}, {"loc_prefixes.txt", CUE_LOCPRE},
        {"org_kinds.txt", CUE_ORGKIND},     {"currency_nouns.txt", CUE_CURRNOUN},
    };
    for (size_t i = 0; i < sizeof(cue_files) / sizeof(cue_files[0]); i++)
        if (cue_load(e, config_dir, cue_files[i].file, cue_files[i].bits, errstr, errstr_size))
            goto fail;
    static const char *const honorifics[] = {"mr", "mrs", "ms", "dr", "miss", "sir", "dame"};
    static const char *const connectors[] = {"of",  "de",  "du",  "da",  "del", "della", "la", "le",
                                             "von", "van", "der", "den", "bin", "al",    "y",  "&"};
    static const char *const locpreps[] = {"in", "near", "outside", "across"};
    static const char *const says[] = {"said", "says", "told", "added", "explained", "stated"};
    static const struct {
        const char *word;
        uint32_t bits;
    } phrase_words[] = {
        {"the", CUE_DET},       {"a", CUE_DET},          {"an", CUE_DET},
        {"its", CUE_POSSPRON},  {"their", CUE_POSSPRON}, {"his", CUE_POSSPRON},
        {"her", CUE_POSSPRON},  {"our", CUE_POSSPRON},   {"my", CUE_POSSPRON},
        {"your", CUE_POSSPRON}, {"based", CUE_BASED},
    };
    for (size_t i = 0; i < sizeof(phrase_words) / sizeof(*phrase_words); i++)
        cue_add(e, bl_gazetteer_token_key(phrase_words[i].word, strlen(phrase_words[i].word), NULL),
                phrase_words[i].bits);
    for (size_t i = 0; i < sizeof(honorifics) / sizeof(*honorifics); i++)
        cue_add(e, bl_gazetteer_token_key(honorifics[i], strlen(honorifics[i]), NULL),
                CUE_HONORIFIC | CUE_TITLE);
    for (size_t i = 0; i < sizeof(connectors) / sizeof(*connectors); i++)
        cue_add(e, bl_gazetteer_token_key(connectors[i], strlen(connectors[i]), NULL), CUE_CONNECT);
    for (size_t i = 0; i < sizeof(locpreps) / sizeof(*locpreps); i++)
        cue_add(e, bl_gazetteer_token_key(locpreps[i], strlen(locpreps[i]), NULL), CUE_LOCPREP);
    for (size_t i = 0; i < sizeof(says) / sizeof(*says); i++)
        cue_add(e, bl_gazetteer_token_key(says[i], strlen(says[i]), NULL), CUE_SAYS);

    /* Every *.tsv in config/gazetteer, in name order (curated files sort
     * first and keep the names they claim), then the extra files. */
    char dirpath[4096];
    snprintf(dirpath, sizeof(dirpath), "%s/gazetteer", config_dir);
    DIR *d = opendir(dirpath);
    if (!d) {
        snprintf(errstr, errstr_size, "entities: cannot open %s", dirpath);
        goto fail;
    }
    char *files[256];
    size_t nfiles = 0;
    struct dirent *de;
    while ((de = readdir(d)) && nfiles < 256) {
        size_t n = strlen(de->d_name);
        if (n > 4 && strcmp(de->d_name + n - 4, ".tsv") == 0)
            files[nfiles++] = strdup(de->d_name);
    }
    closedir(d);
    qsort(files, nfiles, sizeof(*files), cmp_str);
    int rc = 0;
    for (size_t i = 0; i < nfiles; i++) {
        char path[4096 + 256];
        snprintf(path, sizeof(path), "%s/%s", dirpath, files[i] ? files[i] : "");
        if (!rc && (!files[i] || bl_gazetteer_load_file(e->gaz, path, errstr, errstr_size)))
            rc = -1;
        free(files[i]);
    }
    if (rc)
        goto fail;
    if (extra_gazetteers && *extra_gazetteers) {
        char *list = strdup(extra_gazetteers);
        for (char *save = NULL, *p = strtok_r(list, ",", &save); p; p = strtok_r(NULL, ",", &save))
            if (!rc && *p && bl_gazetteer_load_file(e->gaz, p, errstr, errstr_size))
                rc = -1;
        free(list);
        if (rc)
            goto fail;
    }
    e->gaz_person = bl_gazetteer_type(e->gaz, "PERSON");
    e->gaz_org = bl_gazetteer_type(e->gaz, "ORGANIZATION");
    e->gaz_loc = bl_gazetteer_type(e->gaz, "LOCATION");
    snprintf(e->info, sizeof(e->info), "%zu names from %zu files", bl_gazetteer_names(e->gaz),
             bl_gazetteer_files(e->gaz));
    return e;
fail:
    bl_entities_destroy(e);
    return NULL;
}

void bl_entities_destroy(bl_entities_t *e)
{
    if (!e)
        return;
    bl_gazetteer_destroy(e->gaz);
    free(e->cues);
    free(e->common);
    free(e);
}

const char *bl_entities_gazetteer_info(const bl_entities_t *e)
{
    return e->info;
}

/* ---- extraction ---- */

/* A token's key, key end (tok_key_t) and cue bits are made when a pass
 * first asks for them (tok_cue, tok_key_end, tok_key): most tokens are
 * lower-case words read only when next to a name, if at all. */
typedef struct tok_info {
    uint32_t cue;  /* CUE_UNSET until made */
    int32_t owner; /* mention index, -1 = free */
} tok_info_t;

typedef struct tok_key {
    uint64_t key; /* bl_gazetteer_token_key */
    uint32_t end; /* where the key ends: before a possessive or "-based" suffix */
} tok_key_t;

/* No cue word has this bit: it marks a token not yet looked at. */
#define CUE_UNSET 0x80000000u

typedef struct doc_entity {
    int64_t gaz; /* gazetteer entity, -1 = found by the rules */
    const char *type;
    uint64_t key;                   /* rules: hash of the token keys */
    uint32_t name_start, name_end;  /* rules: canonical span */
    uint64_t part_first, part_last; /* first and last token keys of the longest name */
    uint32_t ntok;
    int count, in_headline, in_body;
    uint32_t first_start;
    uint32_t first_mention; /* output: where its mentions start in the grouped order */
} doc_entity_t;

typedef struct mention {
    uint32_t start, end;
    int32_t entity;
    uint32_t first_tok, last_tok;
} mention_t;

typedef struct run_ctx {
    const bl_entities_t *e;
    const bl_doc_t *doc;
    tok_info_t *ti;
    tok_key_t *keys; /* made with the cue */
    uint32_t *cand;  /* tokens where a name may start, in text order */
    size_t ncand;
    doc_entity_t *ents;
    size_t nents;
    uint32_t *longer; /* pass_link: entities of two or more tokens */
    mention_t *ments;
    size_t nments, ments_cap;
} run_ctx_t;

static void token_setup_lazy(const run_ctx_t *c, size_t i);

/* Cue bits of token @p i. */
static inline uint32_t tok_cue(const run_ctx_t *c, size_t i)
{
    if (c->ti[i].cue == CUE_UNSET)
        token_setup_lazy(c, i);
    return c->ti[i].cue;
}

/* Where token @p i's key ends (before a possessive or a "-based" suffix). */
static inline uint32_t tok_key_end(const run_ctx_t *c, size_t i)
{
    if (c->ti[i].cue == CUE_UNSET)
        token_setup_lazy(c, i);
    return c->keys[i].end;
}

/* Token @p i's gazetteer key. */
static inline uint64_t tok_key(const run_ctx_t *c, size_t i)
{
    if (c->ti[i].cue == CUE_UNSET)
        token_setup_lazy(c, i);
    return c->keys[i].key;
}

static const char *const TYPE_PERSON = "PERSON";
static const char *const TYPE_ORG = "ORGANIZATION";
static const char *const TYPE_LOC = "LOCATION";

/* A gazetteer type as the rules' own string when it is one of theirs: a
 * document entity's type then compares by pointer (the text is the same). */
static const char *rules_type(const bl_entities_t *e, const char *gaz_type)
{
    if (gaz_type == e->gaz_person)
        return TYPE_PERSON;
    if (gaz_type == e->gaz_org)
        return TYPE_ORG;
    if (gaz_type == e->gaz_loc)
        return TYPE_LOC;
    return gaz_type;
}

static int is_capword(const bl_token_t *t)
{
    return (t->flags & BL_TOK_WORD) && (t->flags & (BL_TOK_CAP | BL_TOK_ALLCAPS));
}

static int is_lowerword(const bl_token_t *t)
{
    return (t->flags & BL_TOK_WORD) && !(t->flags & (BL_TOK_CAP | BL_TOK_ALLCAPS));
}

/* First token of an honorific before token @p i ("Mr Putin", "Mr. Putin"), or @p i. */
static size_t honorific_start(const run_ctx_t *c, size_t i)
{
    const bl_token_t *tok = c->doc->tokens;
    /* Titles stay in the mention, as news corpora annotate them: "President
     * Vladimir Putin", "Secretary of State Antony Blinken", "Chief executive
     * Thomas Enders". The chain must start capitalised: "the chief
     * executive Thomas Enders" keeps only the name. */
    size_t t = i;
    for (;;) {
        if (t >= 1 && c->ti[t - 1].owner < 0 && (tok[t - 1].flags & BL_TOK_WORD) &&
            !(tok[t - 1].flags & BL_TOK_HEADLINE) && (tok_cue(c, t - 1) & CUE_KEEPTITLE)) {
            t--;
            continue;
        }
        /* "of" between two title words ("Secretary of State"). */
        if (t >= 2 && t < i && c->ti[t - 1].owner < 0 && !(tok[t - 1].flags & BL_TOK_CAP) &&
            c->ti[t - 2].owner < 0 && (tok[t - 2].flags & BL_TOK_CAP) &&
            !(tok[t - 2].flags & BL_TOK_HEADLINE) && (tok_cue(c, t - 1) & CUE_CONNECT) &&
            (tok_cue(c, t - 2) & CUE_KEEPTITLE)) {
            t -= 2;
            continue;
        }
        break;
    }
    while (t < i && !(tok[t].flags & BL_TOK_CAP))
        t++;
    if (t != i)
        i = t;
    if (i >= 1 && c->ti[i - 1].owner < 0 && is_capword(&tok[i - 1]) &&
        (tok_cue(c, i - 1) & CUE_HONORIFIC))
        return i - 1;
    if (i >= 2 && tok[i - 1].end - tok[i - 1].start == 1 && c->doc->text[tok[i - 1].start] == '.' &&
        c->ti[i - 2].owner < 0 && is_capword(&tok[i - 2]) && (tok_cue(c, i - 2) & CUE_HONORIFIC))
        return i - 2;
    return i;
}

static void add_mention(run_ctx_t *c, size_t first_tok, size_t last_tok, int32_t ent)
{
    const bl_token_t *tok = c->doc->tokens;
    mention_t *m = &c->ments[c->nments];
    m->start = tok[first_tok].start;
    m->end = tok_key_end(c, last_tok);
    m->entity = ent;
    m->first_tok = (uint32_t)first_tok;
    m->last_tok = (uint32_t)last_tok;
    /* "Airtanker Ltd.", "Apple Inc.": the abbreviation keeps its period. */
    if (last_tok + 1 < c->doc->ntokens && (tok_cue(c, last_tok) & CUE_ORGSUF) &&
        tok[last_tok].end - tok[last_tok].start <= 4 &&
        tok[last_tok + 1].start == tok[last_tok].end && c->doc->text[tok[last_tok].end] == '.') {
        m->end++;
        c->ti[last_tok + 1].owner = (int32_t)c->nments;
    }
    for (size_t k = first_tok; k <= last_tok; k++)
        c->ti[k].owner = (int32_t)c->nments;
    c->nments++;
    doc_entity_t *d = &c->ents[ent];
    if (d->count == 0 || m->start < d->first_start)
        d->first_start = m->start;
    d->count++;
    if (tok[first_tok].flags & BL_TOK_HEADLINE)
        d->in_headline = 1;
    else
        d->in_body = 1;
}

static int32_t gaz_entity(run_ctx_t *c, uint32_t gaz, size_t first, size_t last)
{
    for (size_t k = 0; k < c->nents; k++)
        if (c->ents[k].gaz == gaz) {
            if (last - first + 1 > c->ents[k].ntok) {
                c->ents[k].ntok = (uint32_t)(last - first + 1);
                c->ents[k].part_first = tok_key(c, first);
                c->ents[k].part_last = tok_key(c, last);
            }
            return (int32_t)k;
        }
    doc_entity_t *d = &c->ents[c->nents];
    memset(d, 0, sizeof(*d));
    d->gaz = gaz;
    d->type = rules_type(c->e, bl_gazetteer_entity(c->e->gaz, gaz)->type);
    d->ntok = (uint32_t)(last - first + 1);
    d->part_first = tok_key(c, first);
    d->part_last = tok_key(c, last);
    return (int32_t)c->nents++;
}

static int32_t rule_entity(run_ctx_t *c, const char *type, size_t first, size_t last)
{
    uint64_t key = 0x51ed270b27bcf4a3ULL;
    for (size_t k = first; k <= last; k++)
        key = (key ^ tok_key(c, k)) * 0x9e3779b97f4a7c15ULL;
    const bl_token_t *tok = c->doc->tokens;
    for (size_t k = 0; k < c->nents; k++)
        if (c->ents[k].gaz < 0 && c->ents[k].key == key)
            return (int32_t)k;
    doc_entity_t *d = &c->ents[c->nents];
    memset(d, 0, sizeof(*d));
    d->gaz = -1;
    d->type = type;
    d->key = key;
    d->name_start = tok[first].start;
    d->name_end = tok_key_end(c, last);
    d->ntok = (uint32_t)(last - first + 1);
    d->part_first = tok_key(c, first);
    d->part_last = tok_key(c, last);
    return (int32_t)c->nents++;
}

/* Whether a gazetteer hit at @p i is really that name here. */
static int gaz_accept(const run_ctx_t *c, size_t i, const bl_gazetteer_hit_t *hit)
{
    const bl_token_t *tok = c->doc->tokens;
    size_t last = i + hit->ntokens - 1;
    if (hit->flags & BL_GAZ_LOWER1ST) {
        if (c->doc->text[tok[i].start] != hit->first_byte)
            return 0;
    } else if (!(tok[i].flags & (BL_TOK_CAP | BL_TOK_NUMBER))) {
        return 0;
    }
    if (hit->flags & BL_GAZ_ALLCAPS)
        for (size_t k = i; k <= last; k++)
            if ((tok[k].flags & BL_TOK_WORD) && !(tok[k].flags & BL_TOK_ALLCAPS) &&
                tok[k].end - tok[k].start > 1)
                return 0;
    int person = bl_gazetteer_entity(c->e->gaz, hit->entity)->type == c->e->gaz_person;
    int prev_cap = i > 0 && is_capword(&tok[i - 1]) && c->ti[i - 1].owner < 0 &&
                   !(tok_cue(c, i - 1) & (CUE_STOP | CUE_DEMONYM)) &&
                   !((tok[i - 1].flags & BL_TOK_SENT) && (tok_cue(c, i - 1) & CUE_COMMON));
    int next_cap = last + 1 < c->doc->ntokens && is_capword(&tok[last + 1]) &&
                   !(tok_cue(c, last + 1) & CUE_STOP) && tok_key_end(c, last) == tok[last].end;
    int next_plain = next_cap && !(tok_cue(c, last + 1) & (CUE_ORGSUF | CUE_LOCSUF));
    if (next_cap && !person && (tok_cue(c, last + 1) & (CUE_ORGSUF | CUE_LOCSUF)) &&
        c->ti[last + 1].owner < 0 && !(tok_cue(c, last + 1) & CUE_STOP))
        return 0; /* "Shanghai Airlines", "Everett Airport": a longer name */
    if (hit->flags & BL_GAZ_WEAK) {
        /* A bulk place name inside a longer capitalised name is part of it
         * ("Scott Carson", "Mobile Alabama Inc"); after a title it is a surname. */
        if (prev_cap || next_plain)
            return 0;
        /* "German", "Irish": a demonym before a small town of that name. */
        if (hit->ntokens == 1 && (tok_cue(c, i) & CUE_DEMONYM))
            return 0;
        if (i > 0 && (tok_cue(c, i - 1) & CUE_TITLE))
            return 0;
        if (tok[i].flags & BL_TOK_HEADLINE)
            return 0;
    } else if (!person && hit->ntokens == 1 && i > 0 && is_capword(&tok[i - 1]) &&
               (tok_cue(c, i - 1) & (CUE_FIRSTNAME | CUE_HONORIFIC))) {
        return 0; /* "Michael Jordan", "Mr Ford" */
    }
    return 1;
}

/* Owner of tokens that belong to no mention but must not start one. */
#define OWNER_PRODUCT INT32_MAX

/* Whether a model designation follows token @p last: "A380", "787-8". */
static int model_follows(const run_ctx_t *c, size_t last)
{
    const bl_token_t *tok = c->doc->tokens;
    if (last + 1 >= c->doc->ntokens || tok[last + 1].start != tok[last].end + 1)
        return 0;
    const bl_token_t *m = &tok[last + 1];
    if (m->flags & BL_TOK_NUMBER)
        return 1;
    return (m->flags & BL_TOK_WORD) && (m->flags & BL_TOK_CAP) &&
           (tok_cue(c, last + 1) & CUE_STOP) && !(tok_cue(c, last + 1) & CUE_COMMON) &&
           m->end - m->start >= 2 &&
           (unsigned)((unsigned char)c->doc->text[m->end - 1] - '0') < 10u;
}

/* Whether the upper-case token @p s in "(...)" abbreviates the words just
 * before the bracket (Schwartz & Hearst: each letter found right to left,
 * the first at a word start), and those words are not a name found so far:
 * "Maintenance, Repair and Overhaul (MRO)", "Worldwide Developers
 * Conference (WWDC)" name no organisation. */
static int defines_plain_phrase(const run_ctx_t *c, size_t s)
{
    const bl_token_t *tok = c->doc->tokens;
    const char *text = c->doc->text;
    if (s < 2 || s + 1 >= c->doc->ntokens || text[tok[s - 1].start] != '(' ||
        text[tok[s + 1].start] != ')')
        return 0;
    size_t alen = tok[s].end - tok[s].start;
    size_t words = alen + 4 < 2 * alen ? alen + 4 : 2 * alen;
    size_t from = s - 1;
    for (size_t w = 0; from > 0 && w < words && !(tok[from].flags & BL_TOK_SENT); w++)
        from--;
    const char *a = text + tok[s].start;
    long ai = (long)alen - 1;
    long ti = (long)tok[s - 1].start - 1;
    long lo = (long)tok[from].start;
    while (ai >= 0) {
        char want = (char)(a[ai] | 0x20);
        if (want < 'a' || want > 'z') {
            ai--;
            continue;
        }
        while (ti >= lo && ((text[ti] | 0x20) != want ||
                            (ai == 0 && ti > lo &&
                             ((text[ti - 1] | 0x20) >= 'a' && (text[ti - 1] | 0x20) <= 'z'))))
            ti--;
        if (ti < lo)
            return 0;
        ti--;
        ai--;
    }
    /* The long form starts at byte ti + 1: a name there keeps the guess. */
    for (size_t k = from; k < s - 1; k++)
        if (tok[k].end > (uint32_t)(ti + 1) && c->ti[k].owner >= 0 &&
            c->ti[k].owner != OWNER_PRODUCT)
            return 0;
    return 1;
}

static void pass_gazetteer(run_ctx_t *c)
{
    const bl_token_t *tok = c->doc->tokens;
    size_t n = c->doc->ntokens;
    size_t from = 0; /* tokens before it belong to the name just found */
    for (size_t ci = 0; ci < c->ncand; ci++) {
        size_t i = c->cand[ci];
        if (i < from)
            continue;
        if (c->ti[i].owner >= 0 || !(tok[i].flags & (BL_TOK_WORD | BL_TOK_NUMBER)) ||
            (tok_cue(c, i) & CUE_CURRENCY))
            continue;
        /* Names start capitalised, with a digit, or lower case with a capital
         * inside ("eBay", "al-Qaeda"): skip the plain lower-case words. */
        if (!(tok[i].flags & (BL_TOK_CAP | BL_TOK_NUMBER))) {
            if (!(tok_cue(c, i) & CUE_INNERCAP))
                continue;
        }
        /* Keys are made only while some name may still follow. */
        bl_gazetteer_walk_t walk;
        int more = bl_gazetteer_walk_start(c->e->gaz, tok_key(c, i), &walk);
        for (size_t k = i + 1; more && k < n; k++)
            more = bl_gazetteer_walk_next(c->e->gaz, &walk, tok_key(c, k));
        const bl_gazetteer_hit_t hit = walk.hit;
        if (!hit.ntokens || !gaz_accept(c, i, &hit))
            continue;
        size_t last = i + hit.ntokens - 1;
        /* A name ending in "." ("Apple Inc.") keeps it only as an abbreviation. */
        const bl_gazetteer_entity_t *ge = bl_gazetteer_entity(c->e->gaz, hit.entity);
        if (model_follows(c, last) && ge->type == c->e->gaz_org) {
            /* "Airbus A380", "Boeing 787": the maker names a product here
             * (news corpora do not count it as a mention of the company). */
            for (size_t k = i; k <= last; k++)
                c->ti[k].owner = OWNER_PRODUCT;
            from = last + 1;
            continue;
        }
        if (i > 0 && ge->type == c->e->gaz_loc && c->ti[i - 1].owner < 0 &&
            (tok[i - 1].flags & BL_TOK_WORD) &&
            ((tok[i - 1].flags & BL_TOK_CAP) || !(ge->kind & BL_GAZ_KIND_COUNTRY)) &&
            (tok_cue(c, i - 1) & CUE_LOCPRE)) {
            /* "Eastern Europe", "central London", "Central and Eastern
             * Europe": a region of its own ("eastern Ukraine" is Ukraine). */
            size_t first = i - 1;
            if (first >= 2 && (tok_cue(c, first - 2) & CUE_LOCPRE) && c->ti[first - 2].owner < 0 &&
                (tok[first - 2].flags & BL_TOK_WORD) &&
                tok[first - 1].end - tok[first - 1].start == 3 &&
                memcmp(c->doc->text + tok[first - 1].start, "and", 3) == 0)
                first -= 2;
            add_mention(c, first, last, rule_entity(c, TYPE_LOC, first, last));
            from = last + 1;
            continue;
        }
        int32_t ent = gaz_entity(c, hit.entity, i, last);
        size_t first = i;
        if (c->ents[ent].type == TYPE_PERSON)
            first = honorific_start(c, i);
        add_mention(c, first, last, ent);
        from = last + 1;
    }
}

typedef struct pending {
    size_t tok;
    const char *type; /* NULL: only kept if it links to a longer name */
} pending_t;

static void pass_rules(run_ctx_t *c, pending_t *pend, size_t *npend)
{
    const bl_token_t *tok = c->doc->tokens;
    size_t n = c->doc->ntokens;
    size_t from = 0; /* tokens before it belong to the name just found */
    for (size_t ci = 0; ci < c->ncand; ci++) {
        size_t i = c->cand[ci];
        if (i < from)
            continue;
        if (c->ti[i].owner >= 0 || !is_capword(&tok[i]) || (tok_cue(c, i) & CUE_STOP))
            continue;
        size_t last = i, j = i;
        while (j < n) {
            if (is_capword(&tok[j]) && c->ti[j].owner < 0 &&
                (j == i || !(tok[j].flags & BL_TOK_SENT)) && !(tok_cue(c, j) & CUE_STOP)) {
                last = j++;
                if (tok_key_end(c, j - 1) != tok[j - 1].end ||
                    (tok_cue(c, j - 1) & CUE_BASED_SUFFIX))
                    break;
                continue;
            }
            /* "Michael M. Dunn": an initial and its period. */
            if (j > i && j + 1 < n && c->doc->text[tok[j].start] == '.' &&
                tok[j].start == tok[j - 1].end && tok[j - 1].end - tok[j - 1].start == 1 &&
                is_capword(&tok[j + 1]) && c->ti[j + 1].owner < 0 &&
                !(tok_cue(c, j + 1) & CUE_STOP)) {
                j++;
                continue;
            }
            if (j > i && j + 1 < n && tok[j].end - tok[j].start <= 4 && is_capword(&tok[j + 1]) &&
                c->ti[j + 1].owner < 0 && (tok_cue(c, j) & CUE_CONNECT) &&
                !(tok_cue(c, j + 1) & CUE_STOP)) {
                int is_of = tok[j].end - tok[j].start == 2 && (c->doc->text[tok[j].start] == 'o');
                if (!is_of || (tok_cue(c, last) & (CUE_ORGPRE | CUE_ORGSUF | CUE_LOCSUF))) {
                    j++;
                    continue;
                }
            }
            break;
        }
        size_t s = i;
        int title = 0;
        if (honorific_start(c, i) != i || (i > 0 && (tok_cue(c, i - 1) & CUE_TITLE)))
            title = 1;
        int org_end = (tok_cue(c, last) & CUE_ORGSUF) && last > i;
        while (s <= last) {
            uint32_t cue = tok_cue(c, s);
            if ((cue & CUE_TITLE) && !org_end) {
                title = 1;
                s++;
            } else if ((cue & CUE_DEMONYM) && !org_end) {
                s++;
            } else if ((tok[s].flags & BL_TOK_SENT) && (cue & CUE_COMMON) &&
                       !(cue & CUE_FIRSTNAME)) {
                s++;
            } else if (cue & CUE_CONNECT) {
                s++;
            } else {
                break;
            }
        }
        size_t next = last;
        while (last >= s && last > 0 && (tok_cue(c, last) & (CUE_CONNECT | CUE_DEMONYM)))
            last--;
        if (s > last) {
            from = next + 1;
            continue;
        }
        size_t ntok = last - s + 1;
        uint32_t fcue = tok_cue(c, s), lcue = tok_cue(c, last);
        const char *type = NULL;
        int any_common = 0;
        for (size_t k = s; k <= last; k++)
            if ((tok_cue(c, k) & CUE_COMMON) && !(tok_cue(c, k) & CUE_FIRSTNAME))
                any_common = 1;
        int camel = 0;
        for (size_t k = s; k <= last; k++)
            if (tok_cue(c, k) & CUE_CAMEL)
                camel = 1;
        /* "engine maker Europrop", "the airline Flybe": the kind names the type. */
        int kind_before = !title && s > 0 && is_lowerword(&tok[s - 1]) && c->ti[s - 1].owner < 0 &&
                          (tok_cue(c, s - 1) & CUE_ORGKIND);
        if (camel && !((lcue & CUE_ORGSUF) && !(lcue & CUE_COMMON)))
            type = NULL; /* "MacBook Air" is a product; "AirTanker Ltd" is not */
        else if (kind_before)
            type = TYPE_ORG;
        else if (ntok >= 2 && (lcue & CUE_ORGSUF))
            type = TYPE_ORG;
        else if (ntok >= 2 && (lcue & CUE_LOCSUF))
            type = TYPE_LOC;
        else if (title)
            type = TYPE_PERSON;
        else if (ntok >= 3 && (fcue & CUE_ORGPRE))
            type = TYPE_ORG;
        else if ((tok_cue(c, last) & CUE_BASED_SUFFIX))
            type = TYPE_LOC;
        else if (ntok >= 2 && (fcue & CUE_FIRSTNAME))
            type = TYPE_PERSON;
        else if (ntok >= 2 && !any_common)
            type = TYPE_PERSON;
        if (ntok == 1 && !title) {
            const char *guess = NULL;
            if (kind_before)
                guess = TYPE_ORG;
            else if (s > 0 && !(tok[s - 1].flags & BL_TOK_CAP) && (tok_cue(c, s - 1) & CUE_LOCPREP))
                guess = TYPE_LOC;
            else if ((tok_cue(c, s) & CUE_BASED_SUFFIX))
                guess = TYPE_LOC;
            else if ((tok[s].flags & BL_TOK_ALLCAPS) && tok[s].end - tok[s].start <= 6 &&
                     tok[s].end - tok[s].start >= 2 && !defines_plain_phrase(c, s))
                guess = TYPE_ORG;
            else if (s + 1 < n && (tok_cue(c, s + 1) & CUE_SAYS))
                guess = TYPE_PERSON;
            if ((fcue & CUE_COMMON) && !(tok[s].flags & BL_TOK_ALLCAPS))
                guess = NULL;
            pend[(*npend)++] = (pending_t){s, guess};
        } else if (type) {
            int32_t ent = rule_entity(c, type, s, last);
            size_t first = type == TYPE_PERSON ? honorific_start(c, s) : s;
            add_mention(c, first, last, ent);
        }
        from = next + 1;
    }
}

/* Short forms: "Putin" or "Mr Putin" after "Vladimir Putin", "Northrop" after
 * "Northrop Grumman"; then the single names nobody claimed. */
static void pass_link(run_ctx_t *c, const pending_t *pend, size_t npend)
{
    const bl_token_t *tok = c->doc->tokens;
    size_t n = c->doc->ntokens, nlonger = 0;
    /* Only names of two or more tokens have short forms; the list holds
     * still (adding mentions changes no entity's parts or type). */
    /* A bit per first and last key of those names (key & 63): most words
     * find theirs clear and skip the list. */
    uint64_t parts = 0;
    for (size_t k = 0; k < c->nents; k++)
        if (c->ents[k].ntok >= 2) {
            c->longer[nlonger++] = (uint32_t)k;
            parts |= 1ULL << (c->ents[k].part_first & 63) | 1ULL << (c->ents[k].part_last & 63);
        }
    for (size_t ci = 0; ci < c->ncand && nlonger; ci++) {
        size_t i = c->cand[ci];
        if (c->ti[i].owner >= 0 || !is_capword(&tok[i]) || (tok_cue(c, i) & CUE_STOP) ||
            !(parts >> (tok_key(c, i) & 63) & 1))
            continue;
        /* Only a lone capitalised word: not part of an unclaimed longer name. */
        if (i + 1 < n && is_capword(&tok[i + 1]) && c->ti[i + 1].owner < 0 &&
            !(tok_cue(c, i + 1) & CUE_STOP) && tok_key_end(c, i) == tok[i].end)
            continue;
        uint64_t key = tok_key(c, i);
        uint32_t cue = tok_cue(c, i);
        int32_t found = -1;
        for (size_t l = 0; l < nlonger; l++) {
            const doc_entity_t *d = &c->ents[c->longer[l]];
            int match = d->type == TYPE_PERSON
                            ? d->part_last == key || (d->part_first == key && !(cue & CUE_COMMON))
                            : d->part_first == key && !(cue & (CUE_COMMON | CUE_DEMONYM));
            if (match) {
                found = (int32_t)c->longer[l];
                break;
            }
        }
        if (found < 0)
            continue;
        size_t first = c->ents[found].type == TYPE_PERSON ? honorific_start(c, i) : i;
        add_mention(c, first, i, found);
    }
    for (size_t p = 0; p < npend; p++) {
        size_t i = pend[p].tok;
        if (c->ti[i].owner >= 0 || !pend[p].type)
            continue;
        int32_t ent = rule_entity(c, pend[p].type, i, i);
        add_mention(c, i, i, ent);
    }
}

/* Type of the mention owning token @p k, or NULL (free, product, possessive). */
static const char *owner_type(const run_ctx_t *c, size_t k)
{
    int32_t o = c->ti[k].owner;
    if (o < 0 || o == OWNER_PRODUCT || tok_key_end(c, k) != c->doc->tokens[k].end)
        return NULL;
    return c->ents[c->ments[o].entity].type;
}

/* First token of the modifiers of an organisation-kind noun at @p head:
 * places, demonyms and organisations ("German", "United States", "Airbus"),
 * then up to three lower-case words ("low cost", "computer and electronics").
 * @returns the first token, or (size_t)-1 when the phrase does not start
 * where a noun phrase may ("sues computer maker Dell", "its parent company"). */
static size_t descriptor_start(const run_ctx_t *c, size_t head)
{
    const bl_token_t *tok = c->doc->tokens;
    size_t s = head, lower = 0, caps = 0;
    int based = (tok_cue(c, head) & CUE_BASED) != 0;
    while (s > 0 && !(tok[s].flags & BL_TOK_SENT)) {
        size_t k = s - 1;
        uint32_t cue = tok_cue(c, k);
        /* "Aircraft manufacturer Boeing have unveiled": a capitalised first word of the sentence.
         */
        int sent_lower = (tok[k].flags & BL_TOK_SENT) && (tok[k].flags & BL_TOK_CAP) &&
                         !(tok[k].flags & BL_TOK_ALLCAPS) && (cue & CUE_COMMON) &&
                         !(cue & CUE_DEMONYM);
        if (!caps && !based && lower < 3 && (is_lowerword(&tok[k]) || sent_lower) &&
            !(cue & CUE_STOP) && c->ti[k].owner < 0) {
            lower++;
            s = k;
            continue;
        }
        /* "computer and electronics maker" */
        if (!caps && lower && k > 0 && tok[k].end - tok[k].start == 3 &&
            memcmp(c->doc->text + tok[k].start, "and", 3) == 0 && is_lowerword(&tok[k - 1]) &&
            !(tok_cue(c, k - 1) & CUE_STOP) && c->ti[k - 1].owner < 0) {
            s = k;
            continue;
        }
        if (caps < 2 && is_capword(&tok[k])) {
            const char *t = owner_type(c, k);
            if (t && (t == TYPE_LOC || (!based && t == TYPE_ORG))) {
                s = c->ments[c->ti[k].owner].first_tok;
                caps++;
                continue;
            }
            if (!based && c->ti[k].owner < 0 && (cue & CUE_DEMONYM)) {
                s = k;
                caps++;
                continue;
            }
        }
        break;
    }
    if (based && !caps)
        return (size_t)-1;
    if (tok[s].flags & BL_TOK_SENT)
        return s;
    uint32_t cue = tok_cue(c, s - 1);
    if (cue & CUE_DET)
        return s - 1;
    if (cue & CUE_POSSPRON)
        return (size_t)-1;
    /* Not after an apostrophe: "the Beatles' label Apple Corps" belongs to them. */
    const unsigned char *p = (const unsigned char *)c->doc->text + tok[s - 1].start;
    if ((tok[s - 1].flags & BL_TOK_PUNCT) && p[0] != '\'' &&
        !(p[0] == 0xE2 && p[1] == 0x80 && p[2] == 0x99))
        return s;
    if (is_lowerword(&tok[s - 1]) && (cue & CUE_STOP))
        return s;
    return (size_t)-1;
}

/* "aircraft manufacturer Boeing", "German airline Lufthansa", "European
 * aircraft manufacturer, Airbus,": the descriptor phrase with the name is a
 * mention of the organisation too (the name keeps its own mention). Runs
 * before the mentions are sorted (token owners index them). */
static void pass_descriptors(run_ctx_t *c)
{
    const bl_token_t *tok = c->doc->tokens;
    const char *text = c->doc->text;
    size_t nbase = c->nments;
    for (size_t m = 0; m < nbase && c->nments < c->ments_cap; m++) {
        const mention_t *a = &c->ments[m];
        if (c->ents[a->entity].type != TYPE_ORG || a->first_tok < 1)
            continue;
        size_t head = a->first_tok - 1;
        int comma = 0;
        if (head > 0 && (tok[head].flags & BL_TOK_PUNCT) && text[tok[head].start] == ',') {
            /* An apposition: "European aircraft manufacturer, Airbus, has". */
            size_t after = a->last_tok + 1;
            if (after >= c->doc->ntokens || text[tok[after].start] != ',' ||
                tok[after].start != c->ments[m].end)
                continue;
            comma = 1;
            head--;
        }
        if (c->ti[head].owner >= 0 || !is_lowerword(&tok[head]) ||
            !(tok_cue(c, head) & (CUE_ORGKIND | CUE_BASED)))
            continue;
        size_t s = descriptor_start(c, head);
        if (s == (size_t)-1 || (comma && !(tok[s].flags & BL_TOK_SENT)))
            continue;
        mention_t *x = &c->ments[c->nments++];
        *x = *a;
        x->start = tok[s].start;
        x->first_tok = (uint32_t)s;
        c->ents[a->entity].count++;
    }
}

/* Drops place mentions that modify a lower-case noun naming a kind of
 * organisation or a currency: "the US manufacturer", "United States
 * airframer Boeing", "US dollars" (news corpora do not count them). Runs
 * before the mentions are sorted; token owners are not read afterwards. */
static void drop_place_modifiers(run_ctx_t *c)
{
    const bl_token_t *tok = c->doc->tokens;
    size_t kept = 0;
    for (size_t m = 0; m < c->nments; m++) {
        const mention_t *a = &c->ments[m];
        size_t next = a->last_tok + 1;
        if (next < c->doc->ntokens && a->end == tok_key_end(c, a->last_tok) &&
            a->end == tok[a->last_tok].end && is_lowerword(&tok[next]) &&
            (tok_cue(c, next) & (CUE_ORGKIND | CUE_CURRNOUN)) && !(tok_cue(c, next) & CUE_BASED) &&
            c->ents[a->entity].type == TYPE_LOC) {
            c->ents[a->entity].count--;
            continue;
        }
        c->ments[kept++] = *a;
    }
    c->nments = kept;
}

/* BL_GAZ_KIND_* of a document entity (0 for names found by the rules). */
static uint8_t place_kind(const run_ctx_t *c, int32_t ent)
{
    const doc_entity_t *d = &c->ents[ent];
    return d->gaz >= 0 ? bl_gazetteer_entity(c->e->gaz, (uint32_t)d->gaz)->kind : 0;
}

/* Mentions come in a few sorted runs (one per pass): insertion sort beats
 * qsort here and needs no allocation. */
static void sort_mentions(mention_t *m, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        if (m[i - 1].start <= m[i].start)
            continue;
        mention_t x = m[i];
        size_t j = i;
        while (j > 0 && m[j - 1].start > x.start) {
            m[j] = m[j - 1];
            j--;
        }
        m[j] = x;
    }
}

typedef struct ranked {
    double salience;
    size_t ent;
} ranked_t;

static int ranked_before(const ranked_t *x, const ranked_t *y)
{
    if (x->salience != y->salience)
        return x->salience > y->salience;
    return x->ent < y->ent;
}

static void sort_ranked(ranked_t *r, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        ranked_t x = r[i];
        size_t j = i;
        while (j > 0 && ranked_before(&x, &r[j - 1])) {
            r[j] = r[j - 1];
            j--;
        }
        r[j] = x;
    }
}

/* Scratch memory for one call: a stack block for usual articles, the heap
 * beyond it (a per-call malloc of this size cost more than the matching). */
typedef struct scratch {
    char *base;
    size_t used, cap;
    void *heap[8];
    int nheap;
} scratch_t;

static void *scratch_get(scratch_t *s, size_t bytes)
{
    bytes = (bytes + 15) & ~(size_t)15;
    if (s->cap - s->used >= bytes) {
        void *p = s->base + s->used;
        s->used += bytes;
        return p;
    }
    if (s->nheap == 8)
        return NULL;
    void *p = malloc(bytes);
    if (p)
        s->heap[s->nheap++] = p;
    return p;
}

/* A mention's text as a JSON string; repeated texts of one entity share one
 * string ("Boeing" fourteen times is one allocation). */
typedef struct text_cache {
    uint32_t start, len;
    json_t *str;
} text_cache_t;

static json_t *mention_text(const bl_doc_t *doc, const mention_t *mt, text_cache_t *cache,
                            size_t *ncache)
{
    uint32_t len = mt->end - mt->start;
    for (size_t k = 0; k < *ncache; k++)
        if (cache[k].len == len &&
            memcmp(doc->text + cache[k].start, doc->text + mt->start, len) == 0)
            return json_incref(cache[k].str);
    /* Spans start and end on code-point boundaries of valid UTF-8 text. */
    json_t *str = json_stringn_nocheck(doc->text + mt->start, len);
    if (str && *ncache < 4)
        cache[(*ncache)++] = (text_cache_t){mt->start, len, json_incref(str)};
    return str;
}

/* The type strings of one call, each made once and shared by its entities. */
typedef struct type_cache {
    const char *type[8];
    json_t *str[8];
    size_t n;
} type_cache_t;

static json_t *type_json(type_cache_t *tc, const char *type)
{
    for (size_t k = 0; k < tc->n; k++)
        if (tc->type[k] == type)
            return json_incref(tc->str[k]);
    json_t *str = json_string(type);
    if (str && tc->n < 8) {
        tc->type[tc->n] = type;
        tc->str[tc->n++] = json_incref(str);
    }
    return str;
}

/* Byte tests eight bytes at a time, on words from bl_gazetteer_load_le. */
#define BYTES_ONES  0x0101010101010101ULL
#define BYTES_HIGHS 0x8080808080808080ULL

/* The high bit of every byte of @p w in [@p lo, @p hi] (ASCII bounds). */
static inline uint64_t bytes_between(uint64_t w, unsigned lo, unsigned hi)
{
    uint64_t low7 = w & ~BYTES_HIGHS;
    uint64_t ge_lo = low7 + BYTES_ONES * (0x80 - lo);
    uint64_t gt_hi = low7 + BYTES_ONES * (0x80 - hi - 1);
    return ge_lo & ~gt_hi & ~w & BYTES_HIGHS;
}

/* The first min(@p len, 8) bytes of the token at @p start, little-endian,
 * zero above. The text is NUL-terminated: eight bytes may be read from
 * @p start when they end at the NUL or before. */
static inline uint64_t token_word(const bl_doc_t *doc, uint32_t start, size_t len)
{
    const unsigned char *s = (const unsigned char *)doc->text + start;
    if (start + 8 > doc->len + 1)
        return bl_gazetteer_load_le(s, len < 8 ? len : 8);
    uint64_t w = bl_gazetteer_load_le(s, 8);
    return len >= 8 ? w : w & ((1ULL << (8 * len)) - 1);
}

/* Offset of the first ASCII capital in text[from, len), or len. */
static size_t next_capital(const unsigned char *text, size_t len, size_t from)
{
    size_t i = from;
    for (; i + 8 <= len; i += 8) {
        uint64_t up = bytes_between(bl_gazetteer_load_le(text + i, 8), 'A', 'Z');
        if (up)
            return i + (size_t)__builtin_ctzll(up) / 8;
    }
    if (i < len) {
        uint64_t up = bytes_between(bl_gazetteer_load_le(text + i, len - i), 'A', 'Z');
        if (up)
            return i + (size_t)__builtin_ctzll(up) / 8;
    }
    return len;
}

/* Offset of the first '-' in s[0, len), or len. */
static size_t first_hyphen(const unsigned char *s, size_t len)
{
    for (size_t i = 0; i < len; i += 8) {
        uint64_t x = bl_gazetteer_load_le(s + i, len - i < 8 ? len - i : 8) ^ (BYTES_ONES * '-');
        /* The lowest bit of the zero-byte test is exact (bytes past the
         * word's end load as 0, not '-'). */
        uint64_t zero = (x - BYTES_ONES) & ~x & BYTES_HIGHS;
        if (zero)
            return i + (size_t)__builtin_ctzll(zero) / 8;
    }
    return len;
}

/* Whether s[0, len) holds a digit (@p digit), and a capital after a
 * lower-case letter from the third byte on (@p camel: "MacBook"). */
static void word_shape(const unsigned char *s, size_t len, int *digit, int *camel)
{
    uint64_t digits = 0, pairs = 0, carry = 0;
    for (size_t i = 0; i < len; i += 8) {
        uint64_t w = bl_gazetteer_load_le(s + i, len - i < 8 ? len - i : 8);
        uint64_t lower = bytes_between(w, 'a', 'z');
        digits |= bytes_between(w, '0', '9');
        /* A capital at byte k, a lower-case letter at k - 1 (in the
         * previous word for k = 0: the carry). */
        uint64_t p = bytes_between(w, 'A', 'Z') & (lower << 8 | carry);
        if (i == 0)
            p &= ~(uint64_t)0xFFFF;
        pairs |= p;
        carry = lower >> 56;
    }
    *digit = digits != 0;
    *camel = pairs != 0;
}

/* "US$", "GB£", "HK$": whether a currency sign follows token @p i of
 * @p len bytes (a currency, not a place or a company). */
static int currency_follows(const bl_doc_t *doc, size_t i, size_t len)
{
    const bl_token_t *t = &doc->tokens[i];
    if (len > 3 || i + 1 >= doc->ntokens || doc->tokens[i + 1].start != t->end)
        return 0;
    const unsigned char *nx = (const unsigned char *)doc->text + t->end;
    return nx[0] == '$' || (nx[0] == 0xC2 && nx[1] == 0xA3) ||
           (nx[0] == 0xE2 && nx[1] == 0x82 && nx[2] == 0xAC);
}

/* token_setup_any for a plain token of at most 16 bytes (see token_setup),
 * held in @p w0 and @p w1 (bytes 8 to 15, 0 when none): the key in one or
 * two steps, the shape tests on the same words. Inline: with @p w1 0 the
 * second word's tests fold away. */
__attribute__((always_inline)) static inline void token_setup_short(const run_ctx_t *c, size_t i,
                                                                    uint64_t w0, uint64_t w1)
{
    const bl_token_t *t = &c->doc->tokens[i];
    size_t len = t->end - t->start;
    uint64_t upper0 = bytes_between(w0, 'A', 'Z'), upper1 = bytes_between(w1, 'A', 'Z');
    uint64_t key = len <= 8 ? bl_gazetteer_token_key_plain8(w0, len, upper0)
                            : bl_gazetteer_token_key_plain16(w0, w1, len, upper0, upper1);
    c->keys[i] = (tok_key_t){key, t->end};
    uint32_t cue = slot_bits(c->e->cues, c->e->cues_cap - 1, key);
    if (t->flags & (BL_TOK_CAP | BL_TOK_ALLCAPS))
        cue |= slot_bits(c->e->common, c->e->common_cap - 1, key);
    uint32_t word_cap = t->flags & (BL_TOK_WORD | BL_TOK_CAP);
    if (word_cap == BL_TOK_WORD && (upper0 | upper1))
        cue |= CUE_INNERCAP;
    if (word_cap == (BL_TOK_WORD | BL_TOK_CAP)) {
        /* As in token_setup_any: digits, a currency sign after, a capital
         * after a lower-case letter from the third byte on (but "McDonald"). */
        if (bytes_between(w0, '0', '9') | bytes_between(w1, '0', '9'))
            cue |= CUE_STOP;
        if (currency_follows(c->doc, i, len))
            cue |= CUE_STOP | CUE_CURRENCY;
        uint64_t lower0 = bytes_between(w0, 'a', 'z');
        uint64_t camel = (upper0 & lower0 << 8 & ~(uint64_t)0xFFFF) |
                         (upper1 & (bytes_between(w1, 'a', 'z') << 8 | lower0 >> 56));
        if (camel && !(t->flags & BL_TOK_ALLCAPS) && (w0 & 0xFFFF) != ('M' | 'c' << 8))
            cue |= CUE_CAMEL;
    }
    c->ti[i].cue = cue;
}

/* Makes token @p i's key, key end and cue bits: the word lists (the common
 * words only for capitalised tokens), then, for capitalised words, a closer
 * look at their shape. Out of line: the short path's registers stay free. */
__attribute__((noinline)) static void token_setup_any(const run_ctx_t *c, size_t i)
{
    const bl_doc_t *doc = c->doc;
    const bl_token_t *t = &doc->tokens[i];
    size_t len = t->end - t->start;
    const unsigned char *s = (const unsigned char *)doc->text + t->start;
    int capword = (t->flags & (BL_TOK_WORD | BL_TOK_CAP)) == (BL_TOK_WORD | BL_TOK_CAP);
    uint32_t cue = 0;
    if (capword) {
        /* "Los Angeles-based", "Kremlin-backed": the name before the hyphen. */
        size_t hy = first_hyphen(s, len);
        if (hy + 1 < len && s[hy + 1] >= 'a' && s[hy + 1] <= 'z') {
            const char *rest = (const char *)s + hy + 1;
            size_t rest_len = len - hy - 1;
            if ((rest_len == 5 && memcmp(rest, "based", 5) == 0) ||
                (rest_len == 4 && memcmp(rest, "born", 4) == 0) ||
                (rest_len == 13 && memcmp(rest, "headquartered", 13) == 0))
                cue |= CUE_BASED_SUFFIX;
            len = hy;
        }
    }
    size_t kl;
    int upper;
    uint64_t key = bl_gazetteer_token_key_upper((const char *)s, len, &kl, &upper);
    c->keys[i] = (tok_key_t){key, t->start + (uint32_t)kl};
    cue |= slot_bits(c->e->cues, c->e->cues_cap - 1, key);
    if (t->flags & (BL_TOK_CAP | BL_TOK_ALLCAPS))
        cue |= slot_bits(c->e->common, c->e->common_cap - 1, key);
    /* "eBay", "al-Qaeda": lower case with a capital inside. */
    if ((t->flags & (BL_TOK_WORD | BL_TOK_CAP)) == BL_TOK_WORD && upper)
        cue |= CUE_INNERCAP;
    if (capword) {
        /* Digits ("A380", "WPA2": models, not names), a capital after a
         * lower-case letter ("MacBook"). */
        int digit, camel;
        word_shape(s, len, &digit, &camel);
        if (digit)
            cue |= CUE_STOP;
        if (currency_follows(doc, i, len))
            cue |= CUE_STOP | CUE_CURRENCY;
        if (camel && !(t->flags & BL_TOK_ALLCAPS) && len > 2 && !(s[0] == 'M' && s[1] == 'c'))
            cue |= CUE_CAMEL;
    }
    c->ti[i].cue = cue;
}

/* Whether the bytes in @p w are ASCII and none of ' ( ) * + , - . (no
 * possessive, no "-based", nothing the key drops). */
static inline int plain_word(uint64_t w)
{
    return !(w & BYTES_HIGHS) && !bytes_between(w, '\'', '.');
}

/* Inline in the loop over the candidates (their word tests' constants stay
 * in registers), out of line (token_setup_lazy) for the rest. */
__attribute__((always_inline)) static inline void token_setup(const run_ctx_t *c, size_t i)
{
    const bl_token_t *t = &c->doc->tokens[i];
    size_t len = t->end - t->start;
    if (len <= 8) {
        /* One ASCII byte is plain too: "." is its own key. */
        uint64_t w = token_word(c->doc, t->start, len);
        if (plain_word(w) || (len == 1 && !(w & BYTES_HIGHS))) {
            token_setup_short(c, i, w, 0);
            return;
        }
    } else if (len <= 16) {
        uint64_t w0 = token_word(c->doc, t->start, 8);
        uint64_t w1 = token_word(c->doc, t->start + 8, len - 8);
        if (plain_word(w0) && plain_word(w1)) {
            token_setup_short(c, i, w0, w1);
            return;
        }
    }
    token_setup_any(c, i);
}

static void token_setup_lazy(const run_ctx_t *c, size_t i)
{
    token_setup(c, i);
}

int bl_entities_extract(const bl_entities_t *e, const bl_doc_t *doc, json_t *record)
{
    json_t *arr = json_array();
    if (!arr)
        return -1;
    size_t n = doc->ntokens;
    if (n == 0)
        return json_object_set_new_nocheck(record, "entities", arr);
    _Alignas(16) char stack_block[64 * 1024];
    scratch_t sc = {stack_block, 0, sizeof(stack_block), {NULL}, 0};
    run_ctx_t c = {0};
    c.e = e;
    c.doc = doc;
    c.keys = scratch_get(&sc, n * sizeof(*c.keys));
    c.ti = scratch_get(&sc, n * sizeof(*c.ti));
    if (!c.keys || !c.ti)
        goto oom;

    /* Tokens where a name may start (capitalised, a number, a capital
     * inside: "eBay", "al-Qaeda"): they bound the entities and mentions,
     * and the passes visit only them. Keys and cues wait until asked for. */
    c.cand = scratch_get(&sc, n * sizeof(*c.cand));
    if (!c.cand)
        goto oom;
    const bl_token_t *tokens = doc->tokens;
    tok_info_t *tis = c.ti;
    uint32_t *cand = c.cand;
    size_t ncand = 0;
    /* Capitals are few: the text is searched for the next one eight bytes
     * at a time, and a lower-case word is a candidate when it holds it. */
    size_t capital = 0;
    for (size_t i = 0; i < n; i++)
        tis[i] = (tok_info_t){.cue = CUE_UNSET, .owner = -1};
    for (size_t i = 0; i < n; i++) {
        uint32_t flags = tokens[i].flags;
        if (flags & (BL_TOK_CAP | BL_TOK_ALLCAPS | BL_TOK_NUMBER)) {
            cand[ncand++] = (uint32_t)i;
        } else if (flags & BL_TOK_WORD) {
            if (capital < tokens[i].start)
                capital = next_capital((const unsigned char *)doc->text, doc->len, tokens[i].start);
            if (capital < tokens[i].end)
                cand[ncand++] = (uint32_t)i;
        }
    }
    c.ncand = ncand;
    /* Nearly every candidate is asked for its key and cue (pass_gazetteer
     * asks all it visits): made here in one loop. */
    for (size_t ci = 0; ci < ncand; ci++)
        token_setup(&c, cand[ci]);
    size_t ments_cap = 3 * ncand + 4;
    c.ents = scratch_get(&sc, (ncand + 1) * sizeof(*c.ents));
    c.ments = scratch_get(&sc, ments_cap * sizeof(*c.ments));
    ranked_t *ranked = scratch_get(&sc, (ncand + 1) * sizeof(*ranked));
    pending_t *pend = scratch_get(&sc, (ncand + 1) * sizeof(*pend));
    uint32_t *order = scratch_get(&sc, ments_cap * sizeof(*order));
    c.longer = scratch_get(&sc, (ncand + 1) * sizeof(*c.longer));
    if (!c.ents || !c.ments || !ranked || !pend || !order || !c.longer)
        goto oom;
    c.ments_cap = ments_cap;
    size_t npend = 0;

    pass_gazetteer(&c);
    pass_rules(&c, pend, &npend);
    pass_link(&c, pend, npend);
    pass_descriptors(&c);
    drop_place_modifiers(&c);

    sort_mentions(c.ments, c.nments);
    /* "San Francisco, California": the town's mention takes in its region,
     * as news corpora annotate it (the region keeps its own mention). */
    for (size_t m = 0; m + 1 < c.nments; m++) {
        mention_t *a = &c.ments[m];
        const mention_t *b = &c.ments[m + 1];
        size_t comma = a->last_tok + 1;
        if (c.ents[a->entity].type != TYPE_LOC)
            continue;
        if (b->first_tok != comma + 1 || a->entity == b->entity ||
            c.ents[b->entity].type != TYPE_LOC || doc->text[doc->tokens[comma].start] != ',' ||
            (doc->tokens[a->last_tok].flags & BL_TOK_HEADLINE))
            continue;
        /* A town, then its region or country; not a list ("United Kingdom,
         * Ukraine", "Texas, California", "London, Paris"). */
        if (place_kind(&c, a->entity) || !place_kind(&c, b->entity))
            continue;
        a->end = b->end;
    }
    size_t nranked = 0;
    for (size_t k = 0; k < c.nents; k++) {
        doc_entity_t *d = &c.ents[k];
        if (d->count == 0 || (d->gaz < 0 && !d->in_body))
            continue;
        double pos = doc->len ? (double)d->first_start / (double)doc->len : 0;
        double freq = d->count >= 5 ? 1.0 : d->count / 5.0;
        double sal = 0.35 * (d->in_headline ? 1 : 0) + 0.35 * (1.0 - pos) + 0.30 * freq;
        ranked[nranked++] = (ranked_t){sal, k};
    }
    sort_ranked(ranked, nranked);
    /* Mentions grouped by entity, in text order (a counting sort). */
    for (size_t k = 0; k < c.nents; k++)
        c.ents[k].first_mention = 0;
    for (size_t m = 0; m < c.nments; m++)
        c.ents[c.ments[m].entity].first_mention++;
    uint32_t at = 0;
    for (size_t k = 0; k < c.nents; k++) {
        uint32_t cnt = c.ents[k].first_mention;
        c.ents[k].first_mention = at;
        at += cnt;
    }
    for (size_t m = 0; m < c.nments; m++) {
        doc_entity_t *d = &c.ents[c.ments[m].entity];
        order[d->first_mention++] = (uint32_t)m;
    }
    int rc = 0;
    type_cache_t types = {0};
    for (size_t r = 0; r < nranked && !rc; r++) {
        size_t ent = ranked[r].ent;
        const doc_entity_t *d = &c.ents[ent];
        json_t *obj = json_object(), *ms = json_array();
        if (!obj || !ms) {
            json_decref(obj);
            json_decref(ms);
            rc = -1;
            break;
        }
        if (d->gaz >= 0) {
            const bl_gazetteer_entity_t *ge = bl_gazetteer_entity(e->gaz, (uint32_t)d->gaz);
            json_t *qid, *name;
            if (ge->utf8) {
                qid = ge->qid ? json_stringn_nocheck(ge->qid, ge->qid_len) : json_null();
                name = json_stringn_nocheck(ge->name, ge->name_len);
            } else {
                qid = ge->qid ? json_string(ge->qid) : json_null();
                name = json_string(ge->name);
            }
            json_object_setn_new_nocheck(obj, "id", 2, qid);
            json_object_setn_new_nocheck(obj, "name", 4, name);
        } else {
            json_object_setn_new_nocheck(obj, "id", 2, json_null());
            json_object_setn_new_nocheck(
                obj, "name", 4,
                json_stringn_nocheck(doc->text + d->name_start, d->name_end - d->name_start));
        }
        json_object_setn_new_nocheck(obj, "type", 4, type_json(&types, d->type));
        /* first_mention now points past the entity's last mention. */
        uint32_t end = d->first_mention, begin = end;
        while (begin > 0 && c.ments[order[begin - 1]].entity == (int32_t)ent)
            begin--;
        text_cache_t cache[4];
        size_t ncache = 0;
        for (uint32_t o = begin; o < end; o++) {
            const mention_t *mt = &c.ments[order[o]];
            json_t *mj = json_object();
            json_object_setn_new_nocheck(mj, "text", 4, mention_text(doc, mt, cache, &ncache));
            json_object_setn_new_nocheck(mj, "start", 5, json_integer(mt->start));
            json_object_setn_new_nocheck(mj, "end", 3, json_integer(mt->end));
            json_array_append_new(ms, mj);
        }
        for (size_t k = 0; k < ncache; k++)
            json_decref(cache[k].str);
        json_object_setn_new_nocheck(obj, "count", 5, json_integer(end - begin));
        json_object_setn_new_nocheck(obj, "salience", 8,
                                     json_real((double)(int)(ranked[r].salience * 1000) / 1000.0));
        json_object_setn_new_nocheck(obj, "mentions", 8, ms);
        if (json_array_append_new(arr, obj))
            rc = -1;
    }
    for (size_t k = 0; k < types.n; k++)
        json_decref(types.str[k]);
    for (int h = 0; h < sc.nheap; h++)
        free(sc.heap[h]);
    if (rc) {
        json_decref(arr);
        return -1;
    }
    return json_object_set_new_nocheck(record, "entities", arr);
oom:
    for (int h = 0; h < sc.nheap; h++)
        free(sc.heap[h]);
    json_decref(arr);
    return -1;
}
