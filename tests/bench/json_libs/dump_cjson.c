/* cJSON's cJSON_PrintPreallocated over the same records. */
#include <cjson/cJSON.h>

#include "common.h"

int main(int argc, char **argv)
{
    static char *lines[MAX_RECORDS];
    static cJSON *recs[MAX_RECORDS];
    static char buf[1 << 20];
    size_t n = argc > 1 ? read_lines(argv[1], lines) : 0;
    if (!n)
        return fprintf(stderr, "usage: dump_cjson RECORDS.jsonl\n"), 1;
    for (size_t i = 0; i < n; i++)
        if (!(recs[i] = cJSON_Parse(lines[i])))
            return fprintf(stderr, "dump_cjson: record %zu does not parse\n", i), 1;
    double best = 1e30;
    size_t bytes = 0;
    for (int r = 0; r < ROUNDS; r++) {
        double t = cpu_s();
        bytes = 0;
        for (size_t k = 0; k < n * PASSES; k++) {
            size_t i = k / PASSES;
            if (!cJSON_PrintPreallocated(recs[i], buf, (int)sizeof(buf), 0))
                return fprintf(stderr, "dump_cjson: record %zu does not fit\n", i), 1;
            bytes += strlen(buf);
        }
        t = cpu_s() - t;
        if (t < best)
            best = t;
    }
    report("cJSON", "record", best, n, bytes);
    return 0;
}
