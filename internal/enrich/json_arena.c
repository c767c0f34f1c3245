/*
 * json_arena: per-thread bump allocator behind jansson's allocation hooks.
 * Each thread has its own block (thread-local), so no locking; a pointer
 * is the arena's when it lies inside the block, and free() ignores it.
 */
#include "enrich/json_arena.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

#define ARENA_BYTES (1u << 20) /* a record needs ~100-300 KB; more falls back to malloc */

typedef struct arena {
    char *base;
    size_t used;
    int active;
} arena_t;

static __thread arena_t arena;

static void *arena_malloc(size_t size)
{
    if (arena.active) {
        size_t need = (size + 15) & ~(size_t)15;
        if (arena.used + need <= ARENA_BYTES) {
            void *p = arena.base + arena.used;
            arena.used += need;
            return p;
        }
    }
    return malloc(size);
}

static int in_arena(const void *ptr)
{
    return arena.base && (const char *)ptr >= arena.base &&
           (const char *)ptr < arena.base + ARENA_BYTES;
}

static void arena_free(void *ptr)
{
    if (!in_arena(ptr))
        free(ptr);
}

void bl_json_arena_install(void)
{
    json_set_alloc_funcs(arena_malloc, arena_free);
}

void bl_json_arena_begin(void)
{
    if (!arena.base)
        arena.base = malloc(ARENA_BYTES);
    arena.used = 0;
    arena.active = arena.base != NULL;
}

void bl_json_arena_end(void)
{
    arena.active = 0;
    arena.used = 0;
}

void bl_json_free(void *ptr)
{
    arena_free(ptr);
}

void bl_json_arena_release(void)
{
    free(arena.base);
    arena.base = NULL;
    arena.active = 0;
    arena.used = 0;
}
