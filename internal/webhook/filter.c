/*
 * filter: which records an endpoint wants. "key:value" clauses joined by
 * " AND " / " OR " (AND binds tighter, no parentheses), evaluated on the
 * parsed record. Parsed once at start-up; matched on the endpoint thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "webhook/webhook_int.h"

typedef struct bl_wh_clause {
    bl_wh_filter_key_t key;
    char *value;
} bl_wh_clause_t;

/* An OR of AND-groups. */
typedef struct bl_wh_group {
    bl_wh_clause_t *clauses;
    int nclauses;
} bl_wh_group_t;

struct bl_wh_filter {
    bl_wh_group_t *groups;
    int ngroups;
};

static const struct {
    const char *name;
    bl_wh_filter_key_t key;
} filter_keys[] = {
    {"entity", BL_WH_F_ENTITY},
    {"entity_type", BL_WH_F_ENTITY_TYPE},
    {"agency", BL_WH_F_AGENCY},
    {"publisher", BL_WH_F_PUBLISHER},
    {"published_after", BL_WH_F_PUBLISHED_AFTER},
    {"published_before", BL_WH_F_PUBLISHED_BEFORE},
};

void bl_wh_filter_destroy(bl_wh_filter_t *filter)
{
    if (!filter)
        return;
    for (int g = 0; g < filter->ngroups; g++) {
        for (int c = 0; c < filter->groups[g].nclauses; c++)
            free(filter->groups[g].clauses[c].value);
        free(filter->groups[g].clauses);
    }
    free(filter->groups);
    free(filter);
}

static int is_date(const char *s)
{
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return 0;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return 0;
    int month = (s[5] - '0') * 10 + (s[6] - '0');
    int day = (s[8] - '0') * 10 + (s[9] - '0');
    return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

static char *trimmed_copy(const char *start, size_t len)
{
    while (len > 0 && (*start == ' ' || *start == '\t')) {
        start++;
        len--;
    }
    while (len > 0 && (start[len - 1] == ' ' || start[len - 1] == '\t'))
        len--;
    char *out = malloc(len + 1);
    memcpy(out, start, len);
    out[len] = '\0';
    return out;
}

static int parse_clause(const char *text, size_t len, bl_wh_clause_t *clause, char *errstr,
                        size_t errstr_size)
{
    char *raw = trimmed_copy(text, len);
    char *colon = strchr(raw, ':');
    if (!colon) {
        snprintf(errstr, errstr_size, "clause \"%s\" is not key:value", raw);
        free(raw);
        return -1;
    }
    *colon = '\0';
    char *key = trimmed_copy(raw, strlen(raw));
    char *value = trimmed_copy(colon + 1, strlen(colon + 1));
    free(raw);
    int found = -1;
    for (size_t i = 0; i < sizeof(filter_keys) / sizeof(filter_keys[0]); i++)
        if (strcmp(key, filter_keys[i].name) == 0)
            found = (int)i;
    int rc = 0;
    if (found < 0) {
        snprintf(errstr, errstr_size,
                 "unknown filter key \"%s\" (entity, entity_type, agency, publisher, "
                 "published_after, published_before)",
                 key);
        rc = -1;
    } else if (!*value) {
        snprintf(errstr, errstr_size, "filter key \"%s\" has an empty value", key);
        rc = -1;
    } else if ((filter_keys[found].key == BL_WH_F_PUBLISHED_AFTER ||
                filter_keys[found].key == BL_WH_F_PUBLISHED_BEFORE) &&
               !is_date(value)) {
        snprintf(errstr, errstr_size, "filter key \"%s\" needs a date YYYY-MM-DD, not \"%s\"", key,
                 value);
        rc = -1;
    }
    free(key);
    if (rc) {
        free(value);
        return rc;
    }
    clause->key = filter_keys[found].key;
    clause->value = value;
    return 0;
}

/* Finds the next " AND " or " OR " at or after @p s; sets *op_len. */
static const char *next_op(const char *s, const char *op, size_t *op_len)
{
    const char *hit = strstr(s, op);
    *op_len = strlen(op);
    return hit;
}

bl_wh_filter_t *bl_wh_filter_parse(const char *text, char *errstr, size_t errstr_size)
{
    bl_wh_filter_t *filter = calloc(1, sizeof(*filter));
    const char *p = text;
    int done = 0;
    if (!*text || strspn(text, " \t") == strlen(text)) {
        snprintf(errstr, errstr_size, "the filter is empty");
        free(filter);
        return NULL;
    }
    while (!done) {
        size_t or_len;
        const char *or_at = next_op(p, " OR ", &or_len);
        const char *group_end = or_at ? or_at : p + strlen(p);
        bl_wh_group_t group = {0};
        const char *q = p;
        for (;;) {
            size_t and_len;
            const char *and_at = next_op(q, " AND ", &and_len);
            const char *clause_end = (and_at && and_at < group_end) ? and_at : group_end;
            group.clauses = realloc(group.clauses, sizeof(*group.clauses) * (group.nclauses + 1));
            if (parse_clause(q, (size_t)(clause_end - q), &group.clauses[group.nclauses], errstr,
                             errstr_size)) {
                filter->groups =
                    realloc(filter->groups, sizeof(*filter->groups) * (filter->ngroups + 1));
                filter->groups[filter->ngroups++] = group;
                bl_wh_filter_destroy(filter);
                return NULL;
            }
            group.nclauses++;
            if (clause_end == group_end)
                break;
            q = clause_end + and_len;
        }
        filter->groups = realloc(filter->groups, sizeof(*filter->groups) * (filter->ngroups + 1));
        filter->groups[filter->ngroups++] = group;
        if (or_at)
            p = or_at + or_len;
        else
            done = 1;
    }
    return filter;
}

/* Array items that are either strings or objects with a "name". */
static const char *item_name(const json_t *item)
{
    if (json_is_string(item))
        return json_string_value(item);
    return json_string_value(json_object_get(item, "name"));
}

static int array_has_name(const json_t *array, const char *value)
{
    size_t i;
    json_t *item;
    json_array_foreach(array, i, item)
    {
        const char *name = item_name(item);
        if (name && strcasecmp(name, value) == 0)
            return 1;
    }
    return 0;
}

static int clause_match(const bl_wh_clause_t *clause, const json_t *record)
{
    const json_t *source = json_object_get(record, "source");
    const char *published =
        json_string_value(json_object_get(json_object_get(record, "published"), "date"));
    switch (clause->key) {
    case BL_WH_F_ENTITY:
        return array_has_name(json_object_get(record, "entities"), clause->value);
    case BL_WH_F_ENTITY_TYPE: {
        size_t i;
        json_t *entity;
        json_array_foreach(json_object_get(record, "entities"), i, entity)
        {
            const char *type = json_string_value(json_object_get(entity, "type"));
            if (type && strcasecmp(type, clause->value) == 0)
                return 1;
        }
        return 0;
    }
    case BL_WH_F_AGENCY:
        return array_has_name(json_object_get(source, "agencies"), clause->value);
    case BL_WH_F_PUBLISHER: {
        const json_t *publisher = json_object_get(source, "publisher");
        const char *name = item_name(publisher);
        return name && strcasecmp(name, clause->value) == 0;
    }
    case BL_WH_F_PUBLISHED_AFTER:
        /* ISO dates compare as strings; a record without a date never matches. */
        return published && strlen(published) >= 10 && strncmp(published, clause->value, 10) > 0;
    case BL_WH_F_PUBLISHED_BEFORE:
        return published && strlen(published) >= 10 && strncmp(published, clause->value, 10) < 0;
    }
    return 0;
}

int bl_wh_filter_match(const bl_wh_filter_t *filter, const json_t *record)
{
    if (!filter)
        return 1;
    for (int g = 0; g < filter->ngroups; g++) {
        int all = 1;
        for (int c = 0; c < filter->groups[g].nclauses && all; c++)
            all = clause_match(&filter->groups[g].clauses[c], record);
        if (all)
            return 1;
    }
    return 0;
}
