/* PLACEHOLDER until the dates extractor lands: reports no dates. */
#include "enrich/enrich.h"
#include <stdlib.h>
struct bl_dates { int unused; };
bl_dates_t *bl_dates_new(const char *config_dir, char *errstr, size_t errstr_size)
{
    return calloc(1, sizeof(bl_dates_t));
}
void bl_dates_destroy(bl_dates_t *dates)
{
    free(dates);
}
int bl_dates_extract(const bl_dates_t *dates, const bl_doc_t *doc, json_t *record)
{
    return json_object_set_new(record, "dates", json_array());
}
