/*
 * Shared by the json_libs programs: read a JSONL file of records and time a
 * serialiser over them on this thread's CPU clock (best of ROUNDS rounds).
 * Each program links one JSON library only (json-c and jansson clash).
 */
#ifndef JSON_LIBS_COMMON_H
#define JSON_LIBS_COMMON_H

#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_RECORDS 5000
#define ROUNDS      5
/* Each record is serialised PASSES times in a row: hot in the cache, as a
 * record is in the service right after it was built. */
#define PASSES 4

static inline double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Lines of @p path (NUL-terminated, newline dropped) into @p lines; returns the count. */
static inline size_t read_lines(const char *path, char **lines)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        exit(1);
    }
    size_t n = 0, cap = 0;
    char *line = NULL;
    ssize_t len;
    while (n < MAX_RECORDS && (len = getline(&line, &cap, f)) > 0) {
        if (line[len - 1] == '\n')
            line[len - 1] = '\0';
        lines[n++] = strdup(line);
    }
    free(line);
    fclose(f);
    return n;
}

/* Prints one result line: library, variant, best us per record, bytes per record. */
static inline void report(const char *lib, const char *variant, double best_s, size_t n,
                          size_t bytes)
{
    printf("%-8s %-16s %8.1f us/record %7zu bytes/record\n", lib, variant,
           best_s / (double)(n * PASSES) * 1e6, bytes / (n * PASSES));
}

#endif
