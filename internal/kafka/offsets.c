/*
 * offsets: per-partition ring of in-flight offsets in consumption order.
 * begin appends, done binary-searches and marks, the done prefix is popped.
 * Consumer thread only.
 */
#include "kafka/offsets.h"

#include <stdlib.h>
#include <string.h>

typedef struct slot {
    int64_t offset;
    int done;
} slot_t;

typedef struct part {
    slot_t *ring;
    size_t cap, head, count;
    int64_t last_begun;  /* -1 none */
    int64_t committable; /* -1 none */
    int64_t generation;
    int dirty;
} part_t;

struct bl_offsets {
    part_t *parts;
    int32_t nparts;
};

bl_offsets_t *bl_offsets_new(void)
{
    return calloc(1, sizeof(bl_offsets_t));
}

void bl_offsets_destroy(bl_offsets_t *o)
{
    if (!o)
        return;
    for (int32_t i = 0; i < o->nparts; i++)
        free(o->parts[i].ring);
    free(o->parts);
    free(o);
}

static part_t *get_part(bl_offsets_t *o, int32_t partition)
{
    if (partition < 0)
        return NULL;
    if (partition >= o->nparts) {
        int32_t n = partition + 1;
        part_t *np = realloc(o->parts, (size_t)n * sizeof(*np));
        if (!np)
            return NULL;
        for (int32_t i = o->nparts; i < n; i++) {
            memset(&np[i], 0, sizeof(np[i]));
            np[i].last_begun = -1;
            np[i].committable = -1;
        }
        o->parts = np;
        o->nparts = n;
    }
    return &o->parts[partition];
}

static const part_t *find_part(const bl_offsets_t *o, int32_t partition)
{
    return partition >= 0 && partition < o->nparts ? &o->parts[partition] : NULL;
}

int64_t bl_offsets_begin(bl_offsets_t *o, int32_t partition, int64_t offset)
{
    part_t *p = get_part(o, partition);
    if (!p || offset <= p->last_begun)
        return -1;
    if (p->count == p->cap) {
        size_t ncap = p->cap ? p->cap * 2 : 1024;
        slot_t *nr = malloc(ncap * sizeof(*nr));
        if (!nr)
            return -1;
        for (size_t i = 0; i < p->count; i++)
            nr[i] = p->ring[(p->head + i) % p->cap];
        free(p->ring);
        p->ring = nr;
        p->cap = ncap;
        p->head = 0;
    }
    p->ring[(p->head + p->count) % p->cap] = (slot_t){offset, 0};
    p->count++;
    p->last_begun = offset;
    return p->generation;
}

int bl_offsets_done(bl_offsets_t *o, int32_t partition, int64_t offset, int64_t generation)
{
    part_t *p = partition >= 0 && partition < o->nparts ? &o->parts[partition] : NULL;
    if (!p || generation != p->generation || p->count == 0)
        return -1;
    size_t lo = 0, hi = p->count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int64_t v = p->ring[(p->head + mid) % p->cap].offset;
        if (v < offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == p->count || p->ring[(p->head + lo) % p->cap].offset != offset)
        return -1;
    p->ring[(p->head + lo) % p->cap].done = 1;
    int advanced = 0;
    while (p->count && p->ring[p->head].done) {
        p->committable = p->ring[p->head].offset + 1;
        p->head = (p->head + 1) % p->cap;
        p->count--;
        advanced = 1;
    }
    if (advanced)
        p->dirty = 1;
    return advanced;
}

int64_t bl_offsets_committable(const bl_offsets_t *o, int32_t partition)
{
    const part_t *p = find_part(o, partition);
    return p ? p->committable : -1;
}

int bl_offsets_take_dirty(bl_offsets_t *o, int32_t partition)
{
    part_t *p = partition >= 0 && partition < o->nparts ? &o->parts[partition] : NULL;
    if (!p || !p->dirty)
        return 0;
    p->dirty = 0;
    return 1;
}

size_t bl_offsets_inflight(const bl_offsets_t *o, int32_t partition)
{
    if (partition >= 0) {
        const part_t *p = find_part(o, partition);
        return p ? p->count : 0;
    }
    size_t n = 0;
    for (int32_t i = 0; i < o->nparts; i++)
        n += o->parts[i].count;
    return n;
}

int32_t bl_offsets_partitions(const bl_offsets_t *o)
{
    return o->nparts;
}

void bl_offsets_reset(bl_offsets_t *o, int32_t partition)
{
    part_t *p = get_part(o, partition);
    if (!p)
        return;
    p->head = p->count = 0;
    p->last_begun = -1;
    p->committable = -1;
    p->dirty = 0;
    p->generation++;
}
