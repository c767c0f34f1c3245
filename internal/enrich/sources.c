/* PLACEHOLDER until the sources extractor lands. */
#include "enrich/enrich.h"
#include <stdlib.h>
struct bl_sources { int unused; };
bl_sources_t *bl_sources_new(const char *config_dir, const char *publisher_map, char *errstr,
                             size_t errstr_size)
{
    return calloc(1, sizeof(bl_sources_t));
}
void bl_sources_destroy(bl_sources_t *sources)
{
    free(sources);
}
int bl_sources_extract(const bl_sources_t *sources, const bl_article_t *a, const bl_doc_t *doc,
                       json_t *record)
{
    json_t *s = json_object();
    json_object_set_new(s, "publisher", a->publisher ? json_string(a->publisher) : json_null());
    json_object_set_new(s, "agencies", json_array());
    json_object_set_new(s, "datelines", json_array());
    json_object_set_new(s, "cited", json_array());
    return json_object_set_new(record, "source", s);
}
