/*
 * offsets: per-partition tracker of in-flight messages. An offset becomes
 * committable only when it and every earlier offset of its partition are
 * done. Not thread-safe: the consumer thread owns it (delivery reports are
 * served on that thread too).
 */
#ifndef BL_OFFSETS_H
#define BL_OFFSETS_H

#include <stddef.h>
#include <stdint.h>

typedef struct bl_offsets bl_offsets_t;

bl_offsets_t *bl_offsets_new(void);
/** @brief Frees the tracker. Accepts NULL. */
void bl_offsets_destroy(bl_offsets_t *o);

/**
 * @brief Records @p offset of @p partition as in flight. Offsets of a
 *        partition must be begun in increasing order.
 * @returns the partition's generation (pass it to bl_offsets_done()), or
 *          -1 if @p offset is not above the last begun offset.
 */
int64_t bl_offsets_begin(bl_offsets_t *o, int32_t partition, int64_t offset);

/**
 * @brief Marks @p offset done. A mark for an older generation (the
 *        partition was reset by a rebalance since) is ignored.
 * @returns 1 when the committable offset advanced, 0 when not, -1 unknown.
 */
int bl_offsets_done(bl_offsets_t *o, int32_t partition, int64_t offset, int64_t generation);

/**
 * @returns the offset to commit for @p partition (the lowest unfinished
 *          offset, or the last done + 1), or -1 when nothing is done yet.
 */
int64_t bl_offsets_committable(const bl_offsets_t *o, int32_t partition);

/** @returns 1 and clears the flag if @p partition's committable offset moved since the last call.
 */
int bl_offsets_take_dirty(bl_offsets_t *o, int32_t partition);

/** @returns the number of in-flight offsets of @p partition (-1: all partitions). */
size_t bl_offsets_inflight(const bl_offsets_t *o, int32_t partition);

/** @returns one past the highest partition number ever seen. */
int32_t bl_offsets_partitions(const bl_offsets_t *o);

/** @brief Forgets @p partition (revoked): drops its in-flight offsets, bumps its generation. */
void bl_offsets_reset(bl_offsets_t *o, int32_t partition);

#endif
