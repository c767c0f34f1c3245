/*
 * enrich: runs the extractors over one article and builds the record
 * (schema byline.article.v1). The enricher is built once and only read
 * afterwards: any thread may call bl_enricher_run().
 */
#include "enrich/enrich.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct bl_enricher {
    bl_dates_t *dates;
    bl_sources_t *sources;
    bl_entities_t *entities;
    bl_boilerplate_t *boilerplate;
    char gazetteer_info[128];
};

bl_enricher_t *bl_enricher_new(const bl_enricher_conf_t *conf, char *errstr, size_t errstr_size)
{
    bl_enricher_t *e = calloc(1, sizeof(*e));
    if (!e) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    char path[4096];
    snprintf(path, sizeof(path), "%s/boilerplate.txt", conf->config_dir);
    if (!(e->boilerplate = bl_boilerplate_load(path, errstr, errstr_size)) ||
        !(e->dates = bl_dates_new(conf->config_dir, errstr, errstr_size)) ||
        !(e->sources =
              bl_sources_new(conf->config_dir, conf->publisher_map, errstr, errstr_size)) ||
        !(e->entities =
              bl_entities_new(conf->config_dir, conf->extra_gazetteers, errstr, errstr_size))) {
        bl_enricher_destroy(e);
        return NULL;
    }
    snprintf(e->gazetteer_info, sizeof(e->gazetteer_info), "%s",
             bl_entities_gazetteer_info(e->entities));
    return e;
}

void bl_enricher_destroy(bl_enricher_t *e)
{
    if (!e)
        return;
    bl_dates_destroy(e->dates);
    bl_sources_destroy(e->sources);
    bl_entities_destroy(e->entities);
    bl_boilerplate_destroy(e->boilerplate);
    free(e);
}

static const char *published_from_name(bl_published_from_t from)
{
    switch (from) {
    case BL_PUBLISHED_HEADER:
        return "header";
    case BL_PUBLISHED_ENVELOPE:
        return "envelope";
    case BL_PUBLISHED_KAFKA_TIMESTAMP:
        return "kafka-timestamp";
    default:
        return NULL;
    }
}

static json_t *iso_timestamp(int64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    char buf[40];
    gmtime_r(&t, &tm);
    size_t n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, sizeof(buf) - n, ".%03dZ", (int)(ms % 1000));
    return json_string(buf);
}

/* Content id: FNV-1a 128 (two lanes) of the normalised text, 32 hex digits. */
static void content_id(const bl_doc_t *doc, char out[40])
{
    uint64_t h1 = 1469598103934665603ULL, h2 = 0x6c62272e07bb0142ULL;
    for (size_t i = 0; i < doc->ntokens; i++) {
        const bl_token_t *t = &doc->tokens[i];
        for (uint32_t k = t->start; k < t->end; k++) {
            unsigned char c = (unsigned char)doc->text[k];
            h1 = (h1 ^ c) * 1099511628211ULL;
            h2 = (h2 ^ c) * 0x100000001b3ULL + 0x9e3779b97f4a7c15ULL;
        }
        h1 = (h1 ^ ' ') * 1099511628211ULL;
        h2 = (h2 ^ ' ') * 0x100000001b3ULL;
    }
    snprintf(out, 40, "c%016llx%016llx", (unsigned long long)h1, (unsigned long long)h2);
}

json_t *bl_enricher_run(const bl_enricher_t *e, const bl_article_t *a, const bl_origin_t *origin)
{
    bl_doc_t doc;
    if (bl_doc_build(&doc, a, e->boilerplate) < 0) {
        bl_doc_clear(&doc);
        return NULL;
    }
    json_t *rec = json_object();
    json_object_set_new(rec, "schema", json_string(BL_RECORD_SCHEMA));
    if (a->id) {
        json_object_set_new(rec, "id", json_string(a->id));
    } else {
        char id[40];
        content_id(&doc, id);
        json_object_set_new(rec, "id", json_string(id));
    }
    if (origin && origin->topic) {
        json_t *o = json_object();
        json_object_set_new(o, "topic", json_string(origin->topic));
        json_object_set_new(o, "partition", json_integer(origin->partition));
        json_object_set_new(o, "offset", json_integer(origin->offset));
        json_object_set_new(o, "timestamp",
                            origin->timestamp_ms > 0 ? iso_timestamp(origin->timestamp_ms)
                                                     : json_null());
        json_object_set_new(rec, "origin", o);
    } else {
        json_object_set_new(rec, "origin", json_null());
    }
    json_object_set_new(rec, "url", a->url ? json_string(a->url) : json_null());
    json_object_set_new(rec, "headline", json_stringn_nocheck(doc.text, doc.headline_len));
    /* The decoder validated the UTF-8: skip jansson's second check. */
    json_object_set_new(rec, "text", json_stringn_nocheck(doc.text, doc.len));
    json_object_set_new(rec, "language", json_string(a->language ? a->language : "en"));
    json_object_set_new(rec, "word_count", json_integer(bl_doc_word_count(&doc)));
    json_object_set_new(rec, "paragraphs_removed", json_integer(doc.paragraphs_removed));

    json_t *pub = json_object();
    if (a->published.year) {
        char d[11];
        bl_date_format(&a->published, d);
        json_object_set_new(pub, "date", json_string(d));
    } else {
        json_object_set_new(pub, "date", json_null());
    }
    const char *from = published_from_name(a->published_from);
    json_object_set_new(pub, "from", from ? json_string(from) : json_null());
    json_object_set_new(rec, "published", pub);

    if (bl_dates_extract(e->dates, &doc, rec) < 0 ||
        bl_sources_extract(e->sources, a, &doc, rec) < 0 ||
        bl_entities_extract(e->entities, &doc, rec) < 0) {
        json_decref(rec);
        bl_doc_clear(&doc);
        return NULL;
    }
    char fp[20];
    snprintf(fp, sizeof(fp), "%016llx", (unsigned long long)bl_doc_simhash(&doc));
    json_object_set_new(rec, "fingerprint", json_string(fp));
    json_t *enricher = json_object();
    json_object_set_new(enricher, "version", json_string(BYLINE_VERSION));
    json_object_set_new(enricher, "gazetteer", json_string(e->gazetteer_info));
    json_object_set_new(rec, "enricher", enricher);
    bl_doc_clear(&doc);
    return rec;
}

size_t bl_record_dump(const json_t *rec, char **buf, size_t *size)
{
    size_t len = json_dumpb(rec, *buf, *size, BL_RECORD_DUMP_FLAGS);
    if (len == 0 || len <= *size)
        return len;
    size_t grown = *size ? *size : 1024;
    while (grown < len)
        grown *= 2;
    char *p = realloc(*buf, grown);
    if (!p)
        return 0;
    *buf = p;
    *size = grown;
    return json_dumpb(rec, *buf, *size, BL_RECORD_DUMP_FLAGS);
}
