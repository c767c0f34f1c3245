/* jansson's json_dumpb (as byline serialises) over the records, as they are
 * and with two leaner mention layouts, for the record-format question. */
#include <jansson.h>

#include "common.h"

/* Mentions {"text","start","end"} -> [start, end] (flat = 0) or start, end, ... (flat = 1). */
static json_t *lean_mentions(json_t *rec, int flat)
{
    json_t *r = json_deep_copy(rec), *ent;
    size_t i;
    json_array_foreach(json_object_get(r, "entities"), i, ent)
    {
        json_t *lean = json_array(), *m;
        size_t j;
        json_array_foreach(json_object_get(ent, "mentions"), j, m)
        {
            json_t *start = json_object_get(m, "start"), *end = json_object_get(m, "end");
            if (flat) {
                json_array_append(lean, start);
                json_array_append(lean, end);
            } else {
                json_array_append_new(lean, json_pack("[OO]", start, end));
            }
        }
        json_object_set_new(ent, "mentions", lean);
    }
    return r;
}

int main(int argc, char **argv)
{
    static char *lines[MAX_RECORDS];
    static json_t *recs[3][MAX_RECORDS];
    size_t n = argc > 1 ? read_lines(argv[1], lines) : 0;
    if (!n)
        return fprintf(stderr, "usage: dump_jansson RECORDS.jsonl\n"), 1;
    for (size_t i = 0; i < n; i++) {
        recs[0][i] = json_loads(lines[i], 0, NULL);
        if (!recs[0][i])
            return fprintf(stderr, "dump_jansson: record %zu does not parse\n", i), 1;
        recs[1][i] = lean_mentions(recs[0][i], 0);
        recs[2][i] = lean_mentions(recs[0][i], 1);
    }
    static const char *const variants[] = {"record", "mentions [s,e]", "mentions flat"};
    static char buf[1 << 20];
    for (int v = 0; v < 3; v++) {
        double best = 1e30;
        size_t bytes = 0;
        for (int r = 0; r < ROUNDS; r++) {
            double t = cpu_s();
            bytes = 0;
            for (size_t i = 0; i < n; i++)
                for (int pass = 0; pass < PASSES; pass++)
                    bytes += json_dumpb(recs[v][i], buf, sizeof(buf),
                                        JSON_COMPACT | JSON_REAL_PRECISION(4));
            t = cpu_s() - t;
            if (t < best)
                best = t;
        }
        report("jansson", variants[v], best, n, bytes);
    }
    return 0;
}
