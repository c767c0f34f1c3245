/*
 * enrich: the extractors (dates, sources, entities) and the enricher that
 * runs them over one article. Extractors are built once at start-up from
 * data files in the config directory and are read-only afterwards, so one
 * instance may serve any number of threads.
 */
#ifndef BL_ENRICH_H
#define BL_ENRICH_H

#include <jansson.h>

#include "article/article.h"
#include "enrich/doc.h"

/* --- dates (enrich/dates.c): TIMEX3-style date and time expressions --- */
typedef struct bl_dates bl_dates_t;
bl_dates_t *bl_dates_new(const char *config_dir, char *errstr, size_t errstr_size);
void bl_dates_destroy(bl_dates_t *dates);
/**
 * @brief Sets record["dates"] to an array of
 *        {"text","value","type","start","end"} (type DATE|TIME|DURATION|SET,
 *        value TIMEX3, resolved against doc->published when known).
 * @returns 0, -1 on allocation failure.
 */
int bl_dates_extract(const bl_dates_t *dates, const bl_doc_t *doc, json_t *record);

/* --- sources (enrich/sources.c): publisher, agencies, datelines, cited --- */
typedef struct bl_sources bl_sources_t;
/** @p publisher_map: optional file mapping URL hosts to publishers (may be NULL). */
bl_sources_t *bl_sources_new(const char *config_dir, const char *publisher_map, char *errstr,
                             size_t errstr_size);
void bl_sources_destroy(bl_sources_t *sources);
/**
 * @brief Sets record["source"] = {"publisher", "agencies":[{name,start,end}],
 *        "datelines":[{name,start,end}], "cited":[{name,start,end}]}.
 */
int bl_sources_extract(const bl_sources_t *sources, const bl_article_t *a, const bl_doc_t *doc,
                       json_t *record);

/* --- entities (enrich/entities.c, enrich/gazetteer.c) --- */
typedef struct bl_entities bl_entities_t;
/** @p extra_gazetteers: comma-separated extra gazetteer files (may be NULL). */
bl_entities_t *bl_entities_new(const char *config_dir, const char *extra_gazetteers, char *errstr,
                               size_t errstr_size);
void bl_entities_destroy(bl_entities_t *entities);
/**
 * @brief Sets record["entities"] = [{"id"(Wikidata or null), "name", "type"
 *        (PERSON|ORGANIZATION|LOCATION|...), "count", "salience",
 *        "mentions":[{"text","start","end"}]}], most salient first.
 */
int bl_entities_extract(const bl_entities_t *entities, const bl_doc_t *doc, json_t *record);
/** @returns a short description of the loaded gazetteer ("N names from M files"). */
const char *bl_entities_gazetteer_info(const bl_entities_t *entities);

/* --- the enricher --- */
typedef struct bl_enricher_conf {
    const char *config_dir;       /* data files; required */
    const char *extra_gazetteers; /* may be NULL */
    const char *publisher_map;    /* may be NULL */
} bl_enricher_conf_t;

typedef struct bl_enricher bl_enricher_t;

/** Where the article came from; topic NULL outside Kafka (`byline enrich`). */
typedef struct bl_origin {
    const char *topic;
    int32_t partition;
    int64_t offset;
    int64_t timestamp_ms; /* 0 = none */
} bl_origin_t;

bl_enricher_t *bl_enricher_new(const bl_enricher_conf_t *conf, char *errstr, size_t errstr_size);
void bl_enricher_destroy(bl_enricher_t *e);

/**
 * @brief Enriches one decoded article into a record (schema byline.article.v1).
 * @returns a new JSON object (caller owns), or NULL on allocation failure.
 * @remark Any thread; @p e is only read.
 */
json_t *bl_enricher_run(const bl_enricher_t *e, const bl_article_t *a, const bl_origin_t *origin);

#define BL_RECORD_SCHEMA "byline.article.v1"

/* How every record is serialised: compact, reals (salience) to 4 digits. */
#define BL_RECORD_DUMP_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(4))

/**
 * @brief Serialises @p rec into the caller's buffer *@p buf of *@p size
 *        bytes (not NUL-terminated), growing it with realloc when the
 *        record does not fit: no allocation per record once it is big enough.
 * @returns the record's length, or 0 on failure (*@p buf stays valid).
 * @remark Any thread; one buffer per thread.
 */
size_t bl_record_dump(const json_t *rec, char **buf, size_t *size);

#endif
