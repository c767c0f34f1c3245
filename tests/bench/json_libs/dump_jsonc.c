/* json-c's json_object_to_json_string_length over the same records. */
#include <json-c/json.h>

#include "common.h"

int main(int argc, char **argv)
{
    static char *lines[MAX_RECORDS];
    static struct json_object *recs[MAX_RECORDS];
    size_t n = argc > 1 ? read_lines(argv[1], lines) : 0;
    if (!n)
        return fprintf(stderr, "usage: dump_jsonc RECORDS.jsonl\n"), 1;
    for (size_t i = 0; i < n; i++)
        if (!(recs[i] = json_tokener_parse(lines[i])))
            return fprintf(stderr, "dump_jsonc: record %zu does not parse\n", i), 1;
    double best = 1e30;
    size_t bytes = 0;
    for (int r = 0; r < ROUNDS; r++) {
        double t = cpu_s();
        bytes = 0;
        for (size_t k = 0; k < n * PASSES; k++) {
            size_t i = k / PASSES, len;
            /* Serialised anew each call, into a buffer the object keeps. */
            json_object_to_json_string_length(
                recs[i], JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
            bytes += len;
        }
        t = cpu_s() - t;
        if (t < best)
            best = t;
    }
    report("json-c", "record", best, n, bytes);
    return 0;
}
