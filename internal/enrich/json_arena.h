/*
 * json_arena: a per-thread bump allocator for jansson. A record is built,
 * serialised and freed inside one arena window on one thread; jansson's
 * hundreds of small allocations per record then cost a pointer bump, and
 * the window's end releases them at once. Outside a window (other threads,
 * config loading, webhook parsing) jansson uses malloc as usual.
 */
#ifndef BL_JSON_ARENA_H
#define BL_JSON_ARENA_H

#include <stddef.h>

/** @brief Routes jansson's allocations through the arena. Call once in main() before threads. */
void bl_json_arena_install(void);

/** @brief Opens a window on this thread: jansson allocations come from the arena. */
void bl_json_arena_begin(void);

/**
 * @brief Closes the window and forgets everything allocated in it.
 * @remark Every json_t and every jansson-allocated buffer (json_dumps) of
 *         the window must be dead by then: copy out what must live on. A
 *         value made outside the window may be referenced (incref) inside
 *         it, but not modified there (its growth would come from the arena).
 */
void bl_json_arena_end(void);

/** @brief Frees this thread's arena block (call when the thread ends). */
void bl_json_arena_release(void);

/** @brief Frees memory jansson allocated (e.g. json_dumps output), arena or not. */
void bl_json_free(void *ptr);

#endif
