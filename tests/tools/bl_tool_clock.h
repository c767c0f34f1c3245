/* Clocks shared by the benchmark tools (bl_loadgen, bl_latency): one
 * definition, so the send stamp and the arrival are read the same way. */
#ifndef BL_TOOL_CLOCK_H
#define BL_TOOL_CLOCK_H

#include <stdint.h>
#include <time.h>

/** @returns monotonic seconds (for durations). */
static inline double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/** @returns wall-clock microseconds (for stamps compared across processes). */
static inline int64_t real_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

#endif
