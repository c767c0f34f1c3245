/* PLACEHOLDER until the entities extractor lands. */
#include "enrich/enrich.h"
#include <stdlib.h>
struct bl_entities { int unused; };
bl_entities_t *bl_entities_new(const char *config_dir, const char *extra, char *errstr,
                               size_t errstr_size)
{
    return calloc(1, sizeof(bl_entities_t));
}
void bl_entities_destroy(bl_entities_t *entities)
{
    free(entities);
}
int bl_entities_extract(const bl_entities_t *entities, const bl_doc_t *doc, json_t *record)
{
    return json_object_set_new(record, "entities", json_array());
}
const char *bl_entities_gazetteer_info(const bl_entities_t *entities)
{
    return "none";
}
