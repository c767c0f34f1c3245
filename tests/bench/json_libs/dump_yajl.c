/* yajl's streaming generator over the same records (parsed once with
 * yajl_tree, then walked into yajl_gen: the walk is part of the time, as
 * building the output would be). */
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "common.h"

static void gen(yajl_gen g, yajl_val v)
{
    if (YAJL_IS_OBJECT(v)) {
        yajl_gen_map_open(g);
        for (size_t i = 0; i < v->u.object.len; i++) {
            const char *k = v->u.object.keys[i];
            yajl_gen_string(g, (const unsigned char *)k, strlen(k));
            gen(g, v->u.object.values[i]);
        }
        yajl_gen_map_close(g);
    } else if (YAJL_IS_ARRAY(v)) {
        yajl_gen_array_open(g);
        for (size_t i = 0; i < v->u.array.len; i++)
            gen(g, v->u.array.values[i]);
        yajl_gen_array_close(g);
    } else if (YAJL_IS_STRING(v)) {
        yajl_gen_string(g, (const unsigned char *)v->u.string, strlen(v->u.string));
    } else if (YAJL_IS_INTEGER(v)) {
        yajl_gen_integer(g, YAJL_GET_INTEGER(v));
    } else if (YAJL_IS_DOUBLE(v)) {
        yajl_gen_double(g, YAJL_GET_DOUBLE(v));
    } else if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v)) {
        yajl_gen_bool(g, YAJL_IS_TRUE(v));
    } else {
        yajl_gen_null(g);
    }
}

int main(int argc, char **argv)
{
    static char *lines[MAX_RECORDS];
    static yajl_val recs[MAX_RECORDS];
    size_t n = argc > 1 ? read_lines(argv[1], lines) : 0;
    if (!n)
        return fprintf(stderr, "usage: dump_yajl RECORDS.jsonl\n"), 1;
    for (size_t i = 0; i < n; i++)
        if (!(recs[i] = yajl_tree_parse(lines[i], NULL, 0)))
            return fprintf(stderr, "dump_yajl: record %zu does not parse\n", i), 1;
    yajl_gen g = yajl_gen_alloc(NULL);
    double best = 1e30;
    size_t bytes = 0;
    for (int r = 0; r < ROUNDS; r++) {
        double t = cpu_s();
        bytes = 0;
        for (size_t k = 0; k < n * PASSES; k++) {
            size_t i = k / PASSES;
            const unsigned char *out;
            size_t len;
            yajl_gen_reset(g, NULL);
            yajl_gen_clear(g);
            gen(g, recs[i]);
            yajl_gen_get_buf(g, &out, &len);
            bytes += len;
        }
        t = cpu_s() - t;
        if (t < best)
            best = t;
    }
    yajl_gen_free(g);
    report("yajl", "record", best, n, bytes);
    return 0;
}
