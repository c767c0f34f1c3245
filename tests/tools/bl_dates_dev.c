/*
 * bl_dates_dev: development tool for the dates extractor. Scores it against
 * the MEANTIME gold (extent and value F1), prints its output for articles,
 * or times it. Single-threaded; not part of the service.
 *
 *   bl_dates_dev [-c CONFIG_DIR] -e MEANTIME_DIR [-v]   score
 *   bl_dates_dev [-c CONFIG_DIR] -b MEANTIME_DIR [ROUNDS] time
 *   bl_dates_dev [-c CONFIG_DIR] FILE...                print dates (raw article format)
 *
 * MEANTIME annotates time expressions only in the headline and the first
 * sentences; predictions after the last annotated paragraph (the gold files
 * cover paragraphs 0-4: headline plus four body paragraphs) are not scored.
 */
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "enrich/enrich.h"

#define HEADER_LEN        17 /* " date YYYY-MM-DD " */
#define SCORED_PARAGRAPHS 5

typedef struct article_file {
    char name[512];
    char *raw;
    size_t raw_len;
    bl_doc_t doc;
    json_t *gold; /* timex array or NULL */
} article_file_t;

static char *read_all(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, fp) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(fp);
    if (buf) {
        buf[n] = '\0';
        *len = (size_t)n;
    }
    return buf;
}

/* Builds the doc the extractor sees from a raw " date YYYY-MM-DD headline\n\nbody" file. */
static int load_article(article_file_t *a, const char *path)
{
    memset(a, 0, sizeof(*a));
    snprintf(a->name, sizeof(a->name), "%s", path);
    a->raw = read_all(path, &a->raw_len);
    if (!a->raw)
        return -1;
    const char *body = a->raw;
    if (a->raw_len >= HEADER_LEN && strncmp(a->raw, " date ", 6) == 0) {
        sscanf(a->raw + 6, "%4d-%2d-%2d", &a->doc.published.year, &a->doc.published.month,
               &a->doc.published.day);
        body = a->raw + HEADER_LEN;
    }
    a->doc.len = a->raw_len - (size_t)(body - a->raw);
    a->doc.text = malloc(a->doc.len + 1);
    memcpy(a->doc.text, body, a->doc.len + 1);
    const char *nl = strstr(a->doc.text, "\n\n");
    a->doc.headline_len = nl ? (size_t)(nl - a->doc.text) : a->doc.len;
    return 0;
}

static void free_article(article_file_t *a)
{
    free(a->raw);
    free(a->doc.text);
    json_decref(a->gold);
}

static size_t scored_limit(const bl_doc_t *doc)
{
    const char *p = doc->text;
    for (int k = 0; k < SCORED_PARAGRAPHS; k++) {
        p = strstr(p, "\n\n");
        if (!p)
            return doc->len;
        p += 2;
    }
    return (size_t)(p - doc->text);
}

typedef struct counts {
    int gold, pred, extent_ok, value_ok, overlap_ok;
} counts_t;

static void f1_line(const char *label, int tp, int pred, int gold)
{
    double p = pred ? (double)tp / pred : 0, r = gold ? (double)tp / gold : 0;
    double f = p + r > 0 ? 2 * p * r / (p + r) : 0;
    printf("%-22s P %.3f  R %.3f  F1 %.3f   (tp %d, pred %d, gold %d)\n", label, p, r, f, tp, pred,
           gold);
}

static int by_name(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

static int list_articles(const char *dir, char ***names, size_t *count)
{
    DIR *dp = opendir(dir);
    if (!dp)
        return -1;
    size_t n = 0, cap = 64;
    char **v = malloc(cap * sizeof(*v));
    struct dirent *de;
    while ((de = readdir(dp))) {
        size_t l = strlen(de->d_name);
        if (l < 5 || strcmp(de->d_name + l - 4, ".txt") != 0)
            continue;
        if (n == cap)
            v = realloc(v, (cap *= 2) * sizeof(*v));
        size_t pl = strlen(dir) + l + 2;
        v[n] = malloc(pl);
        snprintf(v[n], pl, "%s/%s", dir, de->d_name);
        n++;
    }
    closedir(dp);
    qsort(v, n, sizeof(*v), by_name);
    *names = v;
    *count = n;
    return 0;
}

static void score_type(json_t *gold, json_t *pred, size_t limit, const char *type, counts_t *c,
                       int verbose, const char *text, const char *name)
{
    size_t gi, pi;
    json_t *g, *p;
    json_array_foreach(gold, gi, g)
    {
        const char *gt = json_string_value(json_object_get(g, "type"));
        if (type && strcmp(gt, type) != 0)
            continue;
        c->gold++;
        long gs = (long)json_integer_value(json_object_get(g, "start_byte")) - HEADER_LEN;
        long ge = (long)json_integer_value(json_object_get(g, "end_byte")) - HEADER_LEN;
        const char *gv = json_string_value(json_object_get(g, "value"));
        int found = 0;
        json_array_foreach(pred, pi, p)
        {
            long ps = (long)json_integer_value(json_object_get(p, "start"));
            long pe = (long)json_integer_value(json_object_get(p, "end"));
            const char *pt = json_string_value(json_object_get(p, "type"));
            if ((size_t)ps >= limit || (type && strcmp(pt, type) != 0))
                continue;
            if (ps == gs && pe == ge) {
                c->extent_ok++;
                found = 1;
                if (strcmp(gv, json_string_value(json_object_get(p, "value"))) == 0)
                    c->value_ok++;
                else if (verbose)
                    printf("  VALUE %-34s gold %-12s got %s\n",
                           json_string_value(json_object_get(g, "text")), gv,
                           json_string_value(json_object_get(p, "value")));
            }
            if (ps < ge && gs < pe)
                c->overlap_ok++;
        }
        if (!found && verbose)
            printf("  MISS  %-34s gold %-12s %s  [%s]\n",
                   json_string_value(json_object_get(g, "text")), gv, gt, name);
    }
    json_array_foreach(pred, pi, p)
    {
        long ps = (long)json_integer_value(json_object_get(p, "start"));
        long pe = (long)json_integer_value(json_object_get(p, "end"));
        const char *pt = json_string_value(json_object_get(p, "type"));
        if ((size_t)ps >= limit || (type && strcmp(pt, type) != 0))
            continue;
        c->pred++;
        if (!verbose)
            continue;
        int found = 0;
        json_array_foreach(gold, gi, g)
        {
            long gs = (long)json_integer_value(json_object_get(g, "start_byte")) - HEADER_LEN;
            long ge = (long)json_integer_value(json_object_get(g, "end_byte")) - HEADER_LEN;
            if (ps == gs && pe == ge)
                found = 1;
        }
        if (!found) {
            long cs = ps > 30 ? ps - 30 : 0;
            printf("  EXTRA %-34s got  %-12s ...%.*s[%.*s]%.*s...\n",
                   json_string_value(json_object_get(p, "text")),
                   json_string_value(json_object_get(p, "value")), (int)(ps - cs), text + cs,
                   (int)(pe - ps), text + ps, 25, text + pe);
        }
    }
}

static int cmd_eval(const bl_dates_t *dates, const char *dir, int verbose)
{
    char **names;
    size_t n;
    if (list_articles(dir, &names, &n) != 0) {
        fprintf(stderr, "cannot list %s\n", dir);
        return 1;
    }
    counts_t all = {0}, date = {0};
    for (size_t k = 0; k < n; k++) {
        article_file_t a;
        if (load_article(&a, names[k]) != 0)
            continue;
        char gpath[1024];
        snprintf(gpath, sizeof(gpath), "%.*s.gold.json", (int)(strlen(names[k]) - 4), names[k]);
        json_t *gold = json_load_file(gpath, 0, NULL);
        json_t *rec = json_object();
        bl_dates_extract(dates, &a.doc, rec);
        json_t *pred = json_object_get(rec, "dates");
        size_t limit = scored_limit(&a.doc);
        if (verbose)
            printf("%s (published %04d-%02d-%02d)\n", strrchr(names[k], '/') + 1,
                   a.doc.published.year, a.doc.published.month, a.doc.published.day);
        json_t *gt = json_object_get(gold, "timex");
        score_type(gt, pred, limit, NULL, &all, verbose, a.doc.text, strrchr(names[k], '/') + 1);
        score_type(gt, pred, limit, "DATE", &date, 0, a.doc.text, NULL);
        json_decref(rec);
        json_decref(gold);
        free_article(&a);
        free(names[k]);
    }
    free(names);
    printf("articles: %zu (scored: headline + first %d body paragraphs)\n", n,
           SCORED_PARAGRAPHS - 1);
    f1_line("all extent (exact)", all.extent_ok, all.pred, all.gold);
    f1_line("all value (exact)", all.value_ok, all.pred, all.gold);
    f1_line("all extent (overlap)", all.overlap_ok, all.pred, all.gold);
    f1_line("DATE extent (exact)", date.extent_ok, date.pred, date.gold);
    f1_line("DATE value (exact)", date.value_ok, date.pred, date.gold);
    return 0;
}

static int cmd_bench(const bl_dates_t *dates, const char *dir, int rounds)
{
    char **names;
    size_t n;
    if (list_articles(dir, &names, &n) != 0 || n == 0) {
        fprintf(stderr, "cannot list %s\n", dir);
        return 1;
    }
    article_file_t *a = calloc(n, sizeof(*a));
    size_t bytes = 0;
    for (size_t k = 0; k < n; k++) {
        load_article(&a[k], names[k]);
        bytes += a[k].doc.len;
    }
    /* CPU time, not wall time: the benchmark machines are shared. */
    struct timespec t0, t1, w0, w1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
    clock_gettime(CLOCK_MONOTONIC, &w0);
    size_t found = 0;
    for (int r = 0; r < rounds; r++) {
        for (size_t k = 0; k < n; k++) {
            json_t *rec = json_object();
            bl_dates_extract(dates, &a[k].doc, rec);
            found += json_array_size(json_object_get(rec, "dates"));
            json_decref(rec);
        }
    }
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
    clock_gettime(CLOCK_MONOTONIC, &w1);
    double us = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / 1e3;
    double wall_us =
        ((double)(w1.tv_sec - w0.tv_sec) * 1e9 + (double)(w1.tv_nsec - w0.tv_nsec)) / 1e3;
    double per_article = us / ((double)rounds * (double)n);
    double per_4k = us / ((double)rounds * (double)bytes / 4096.0);
    /* Reference in the same run: the shared tokeniser over the same texts. */
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &w0);
    for (int r = 0; r < rounds; r++) {
        for (size_t k = 0; k < n; k++) {
            bl_doc_tokenize(&a[k].doc);
            free(a[k].doc.tokens);
            a[k].doc.tokens = NULL;
            a[k].doc.ntokens = 0;
        }
    }
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &w1);
    double ref_us =
        ((double)(w1.tv_sec - w0.tv_sec) * 1e9 + (double)(w1.tv_nsec - w0.tv_nsec)) / 1e3;
    printf("articles %zu x %d rounds, mean %.0f bytes, %zu dates/round\n", n, rounds,
           (double)bytes / (double)n, found / (size_t)rounds);
    printf("CPU: %.2f us/article, %.2f us per 4 KB, %.1f MB/s (wall %.2f us/article)\n",
           per_article, per_4k, (double)bytes * rounds / us,
           wall_us / ((double)rounds * (double)n));
    printf("reference bl_doc_tokenize: CPU %.2f us per 4 KB; dates/tokenize = %.2f\n",
           ref_us / ((double)rounds * (double)bytes / 4096.0), us / ref_us);
    for (size_t k = 0; k < n; k++) {
        free_article(&a[k]);
        free(names[k]);
    }
    free(a);
    free(names);
    return 0;
}

int main(int argc, char **argv)
{
    const char *config_dir = getenv("BYLINE_CONFIG_DIR");
    if (!config_dir)
        config_dir = BYLINE_DEFAULT_CONFIG_DIR;
    const char *eval_dir = NULL, *bench_dir = NULL;
    int verbose = 0, argi = 1, rounds = 200;
    for (; argi < argc && argv[argi][0] == '-'; argi++) {
        if (!strcmp(argv[argi], "-c") && argi + 1 < argc)
            config_dir = argv[++argi];
        else if (!strcmp(argv[argi], "-e") && argi + 1 < argc)
            eval_dir = argv[++argi];
        else if (!strcmp(argv[argi], "-b") && argi + 1 < argc)
            bench_dir = argv[++argi];
        else if (!strcmp(argv[argi], "-v"))
            verbose = 1;
        else {
            fprintf(stderr, "usage: %s [-c CONFIG_DIR] (-e DIR [-v] | -b DIR [ROUNDS] | FILE...)\n",
                    argv[0]);
            return 2;
        }
    }
    char errstr[512];
    bl_dates_t *dates = bl_dates_new(config_dir, errstr, sizeof(errstr));
    if (!dates) {
        fprintf(stderr, "%s\n", errstr);
        return 1;
    }
    int rc = 0;
    if (eval_dir) {
        rc = cmd_eval(dates, eval_dir, verbose);
    } else if (bench_dir) {
        if (argi < argc)
            rounds = atoi(argv[argi]);
        rc = cmd_bench(dates, bench_dir, rounds > 0 ? rounds : 1);
    } else {
        for (; argi < argc; argi++) {
            article_file_t a;
            if (load_article(&a, argv[argi]) != 0) {
                fprintf(stderr, "cannot read %s\n", argv[argi]);
                rc = 1;
                continue;
            }
            json_t *rec = json_object();
            bl_dates_extract(dates, &a.doc, rec);
            char *out = json_dumps(json_object_get(rec, "dates"), JSON_INDENT(1));
            printf("%s\n", out);
            free(out);
            json_decref(rec);
            free_article(&a);
        }
    }
    bl_dates_destroy(dates);
    return rc;
}
