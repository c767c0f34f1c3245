/*
 * bl_enrich_bench: times enrichment alone (no Kafka) on one thread over a
 * corpus held in memory, beside a reference measured in the same run
 * (hashing the same bytes), plus a per-stage breakdown. Not part of ctest.
 *
 *   bl_enrich_bench -c CONFIG_DIR -i CORPUS [-r ROUNDS] [-n MAX_ARTICLES] [-S]
 *
 * CORPUS: raw articles separated by NUL bytes (tests/bench/gen_articles.py).
 * -o FILE writes every record (one JSON line each) and exits instead: the
 * before/after check that an optimisation changed no output byte.
 * -S skips the per-stage pass (e.g. under callgrind, where the function
 * bench_enrich_round is what to collect: --toggle-collect=bench_enrich_round).
 */
#include <getopt.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "enrich/enrich.h"
#include "enrich/json_arena.h"

#define MAX_ROUNDS      50
#define TARGET_PER_SEC  10000.0
#define MIN_GAZETTEER   10000
#define MAX_INPUT_BYTES (1024 * 1024)
/* Stages are timed on the thread's CPU clock: steadier than the wall on shared cores. */
#define STAGE_CLOCK CLOCK_THREAD_CPUTIME_ID

typedef struct bench_corpus {
    char *data; /* the whole file; articles are NUL-terminated inside it */
    const char **articles;
    size_t *lens;
    size_t count, total_bytes, min_bytes, max_bytes;
} bench_corpus_t;

typedef struct bench_time {
    double wall_s, cpu_s;
} bench_time_t;

/* The stages of one enrichment, as bl_enricher_run() runs them. */
enum {
    STAGE_DECODE,
    STAGE_DOC,
    STAGE_RECORD,
    STAGE_DATES,
    STAGE_SOURCES,
    STAGE_ENTITIES,
    STAGE_FINGERPRINT,
    STAGE_SERIALISE,
    STAGE_FREE,
    STAGE_COUNT
};
static const char *const stage_names[STAGE_COUNT] = {
    "decode (bl_article_decode)",   "doc build (bl_doc_build)",
    "record skeleton (text, ids)",  "dates (bl_dates_extract)",
    "sources (bl_sources_extract)", "entities (bl_entities_extract)",
    "fingerprint (bl_doc_simhash)", "serialise (bl_record_dump)",
    "free (decref, clears)",
};

static double now_s(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static long peak_rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss; /* kilobytes on Linux */
}

static int bench_corpus_load(bench_corpus_t *c, const char *path, size_t max_articles, char *errstr,
                             size_t errstr_size)
{
    memset(c, 0, sizeof(*c));
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        snprintf(errstr, errstr_size, "%s: cannot open", path);
        return -1;
    }
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    c->data = malloc((size_t)n + 1);
    if (!c->data || fread(c->data, 1, (size_t)n, fp) != (size_t)n) {
        fclose(fp);
        snprintf(errstr, errstr_size, "%s: cannot read", path);
        return -1;
    }
    fclose(fp);
    c->data[n] = '\0';
    size_t cap = 0;
    for (long i = 0; i < n; i++)
        cap += c->data[i] == '\0';
    cap++;
    c->articles = malloc(cap * sizeof(*c->articles));
    c->lens = malloc(cap * sizeof(*c->lens));
    if (!c->articles || !c->lens) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    c->min_bytes = (size_t)-1;
    for (char *p = c->data, *end = c->data + n; p < end && c->count < max_articles;) {
        size_t len = strlen(p);
        if (len) {
            c->articles[c->count] = p;
            c->lens[c->count] = len;
            c->count++;
            c->total_bytes += len;
            c->min_bytes = len < c->min_bytes ? len : c->min_bytes;
            c->max_bytes = len > c->max_bytes ? len : c->max_bytes;
        }
        p += len + 1;
    }
    if (!c->count) {
        snprintf(errstr, errstr_size, "%s: no articles", path);
        return -1;
    }
    return 0;
}

static void bench_corpus_clear(bench_corpus_t *c)
{
    free(c->data);
    free(c->articles);
    free(c->lens);
}

/* Reference 1: FNV-1a 64 over every byte (reads each byte once). */
__attribute__((noinline)) static uint64_t bench_fnv_round(const bench_corpus_t *c)
{
    uint64_t all = 0;
    for (size_t i = 0; i < c->count; i++) {
        uint64_t h = 1469598103934665603ULL;
        const unsigned char *p = (const unsigned char *)c->articles[i];
        for (size_t k = 0; k < c->lens[i]; k++)
            h = (h ^ p[k]) * 1099511628211ULL;
        all ^= h;
    }
    return all;
}

/* Reference 2: OpenSSL SHA-256 of every article. */
__attribute__((noinline)) static uint64_t bench_sha256_round(const bench_corpus_t *c)
{
    uint64_t all = 0;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len;
    for (size_t i = 0; i < c->count; i++) {
        EVP_Digest(c->articles[i], c->lens[i], md, &md_len, EVP_sha256(), NULL);
        uint64_t h;
        memcpy(&h, md, sizeof(h));
        all ^= h;
    }
    return all;
}

/* The serialised record, reused as each service worker reuses its own. */
static char *out_buf;
static size_t out_size;

/*
 * Decodes article @p i and enriches it, as the service does for a message
 * at offset @p i. @returns the record (caller owns), or NULL after saying why.
 */
static json_t *enrich_article(const bl_enricher_t *e, const bench_corpus_t *c, size_t i)
{
    bl_origin_t origin = {
        .topic = "news.raw", .offset = (int64_t)i, .timestamp_ms = 1700000000000LL};
    char errstr[256];
    bl_article_t a;
    if (bl_article_decode(&a, c->articles[i], c->lens[i], NULL, MAX_INPUT_BYTES, errstr,
                          sizeof(errstr)) != BL_DECODE_OK) {
        fprintf(stderr, "bl_enrich_bench: article %zu: %s\n", i, errstr);
        return NULL;
    }
    json_t *rec = bl_enricher_run(e, &a, &origin);
    bl_article_clear(&a);
    if (!rec)
        fprintf(stderr, "bl_enrich_bench: article %zu: enrichment failed\n", i);
    return rec;
}

/* The service's path per article: decode, enrich, serialise, free. */
__attribute__((noinline)) static int bench_enrich_round(const bl_enricher_t *e,
                                                        const bench_corpus_t *c, size_t *json_bytes)
{
    *json_bytes = 0;
    for (size_t i = 0; i < c->count; i++) {
        bl_json_arena_begin(); /* as the service does per message */
        json_t *rec = enrich_article(e, c, i);
        size_t len = rec ? bl_record_dump(rec, &out_buf, &out_size) : 0;
        json_decref(rec);
        bl_json_arena_end();
        if (!len)
            return -1;
        *json_bytes += len;
    }
    return 0;
}

/* -o: every record, one line each, as the service would produce it. */
static int bench_write_records(const bl_enricher_t *e, const bench_corpus_t *c, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < c->count && rc == 0; i++) {
        json_t *rec = enrich_article(e, c, i);
        if (!rec || json_dumpf(rec, f, BL_RECORD_DUMP_FLAGS) < 0 || fputc('\n', f) == EOF)
            rc = -1;
        json_decref(rec);
    }
    if (fclose(f) != 0)
        rc = -1;
    return rc;
}

typedef struct bench_stages {
    bl_boilerplate_t *boilerplate;
    bl_dates_t *dates;
    bl_sources_t *sources;
    bl_entities_t *entities;
} bench_stages_t;

/* bl_enricher_run() taken apart through the public functions, each stage timed. */
static int bench_stages_round(const bench_stages_t *st, const bench_corpus_t *c,
                              double stage_s[STAGE_COUNT])
{
    char errstr[256];
    memset(stage_s, 0, STAGE_COUNT * sizeof(*stage_s));
    for (size_t i = 0; i < c->count; i++) {
        double t[STAGE_COUNT + 1];
        bl_article_t a;
        bl_doc_t doc;
        bl_json_arena_begin();
        t[0] = now_s(STAGE_CLOCK);
        if (bl_article_decode(&a, c->articles[i], c->lens[i], NULL, MAX_INPUT_BYTES, errstr,
                              sizeof(errstr)) != BL_DECODE_OK)
            return -1;
        t[1] = now_s(STAGE_CLOCK);
        if (bl_doc_build(&doc, &a, st->boilerplate) < 0)
            return -1;
        t[2] = now_s(STAGE_CLOCK);
        json_t *rec = json_object();
        json_object_set_new(rec, "schema", json_string(BL_RECORD_SCHEMA));
        json_object_set_new(rec, "headline", json_stringn(doc.text, doc.headline_len));
        json_object_set_new(rec, "text", json_stringn(doc.text, doc.len));
        json_object_set_new(rec, "word_count", json_integer(bl_doc_word_count(&doc)));
        t[3] = now_s(STAGE_CLOCK);
        int rc = bl_dates_extract(st->dates, &doc, rec);
        t[4] = now_s(STAGE_CLOCK);
        rc |= bl_sources_extract(st->sources, &a, &doc, rec);
        t[5] = now_s(STAGE_CLOCK);
        rc |= bl_entities_extract(st->entities, &doc, rec);
        t[6] = now_s(STAGE_CLOCK);
        char fp[20];
        snprintf(fp, sizeof(fp), "%016llx", (unsigned long long)bl_doc_simhash(&doc));
        json_object_set_new(rec, "fingerprint", json_string(fp));
        t[7] = now_s(STAGE_CLOCK);
        int serialised = bl_record_dump(rec, &out_buf, &out_size) > 0;
        t[8] = now_s(STAGE_CLOCK);
        json_decref(rec);
        bl_doc_clear(&doc);
        bl_article_clear(&a);
        bl_json_arena_end();
        t[9] = now_s(STAGE_CLOCK);
        if (rc < 0 || !serialised)
            return -1;
        for (int s = 0; s < STAGE_COUNT; s++)
            stage_s[s] += t[s + 1] - t[s];
    }
    return 0;
}

static int by_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* Best (smallest) and median of @p n values; sorts them. */
static void best_median(double *v, int n, double *best, double *median)
{
    qsort(v, (size_t)n, sizeof(*v), by_double);
    *best = v[0];
    *median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void print_row(const bench_corpus_t *c, double t, double ref_t)
{
    printf(" | %9.0f %8.1f %9.2f %6.1fx", (double)c->count / t, (double)c->total_bytes / t / 1e6,
           t / (double)c->count * 1e6, t / ref_t);
}

/*
 * What serialisation alone costs: each record is built as the service
 * builds it (in the arena), then only bl_record_dump is timed, a few times
 * over the same record while it is hot in the cache, as it is in the
 * service right after enrichment. Its rate is the most enrichment + JSON
 * could reach per core if the extractors cost nothing.
 */
static int bench_json_floor(const bl_enricher_t *e, const bench_corpus_t *c)
{
    enum { FLOOR_PASSES = 4 };
    double dump_s = 0;
    size_t bytes = 0;
    for (size_t i = 0; i < c->count; i++) {
        bl_json_arena_begin();
        json_t *rec = enrich_article(e, c, i);
        double c0 = now_s(CLOCK_THREAD_CPUTIME_ID);
        for (int pass = 0; rec && pass < FLOOR_PASSES; pass++)
            bytes += bl_record_dump(rec, &out_buf, &out_size);
        dump_s += now_s(CLOCK_THREAD_CPUTIME_ID) - c0;
        json_decref(rec);
        bl_json_arena_end();
        if (!rec)
            return -1;
    }
    double us = dump_s / (double)(c->count * FLOOR_PASSES) * 1e6;
    printf("\nJSON floor bl_record_dump alone (jansson json_dumpb), %.0f bytes per record: %.2f "
           "us/record = %.0f records/s per core at most, even if the extractors cost nothing\n",
           (double)bytes / (double)(c->count * FLOOR_PASSES), us, 1e6 / us);
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: bl_enrich_bench -c CONFIG_DIR -i CORPUS [-r ROUNDS] [-n MAX_ARTICLES] "
                    "[-S] [-o RECORDS]\n");
}

int main(int argc, char **argv)
{
    bl_json_arena_install(); /* as byline's main() does */
    const char *config_dir = NULL, *corpus_path = NULL, *records_path = NULL;
    int rounds = 5, stages = 1;
    size_t max_articles = (size_t)-1;
    int opt;
    while ((opt = getopt(argc, argv, "c:i:r:n:So:")) != -1) {
        switch (opt) {
        case 'c':
            config_dir = optarg;
            break;
        case 'i':
            corpus_path = optarg;
            break;
        case 'r':
            rounds = atoi(optarg);
            break;
        case 'n':
            max_articles = (size_t)strtoull(optarg, NULL, 10);
            break;
        case 'S':
            stages = 0;
            break;
        case 'o':
            records_path = optarg;
            break;
        default:
            usage();
            return 2;
        }
    }
    if (!config_dir || !corpus_path || rounds < 1 || rounds > MAX_ROUNDS) {
        usage();
        return 2;
    }

    char errstr[512];
    long rss_start_kb = peak_rss_kb();
    bench_corpus_t corpus;
    if (bench_corpus_load(&corpus, corpus_path, max_articles, errstr, sizeof(errstr)) < 0) {
        fprintf(stderr, "bl_enrich_bench: %s\n", errstr);
        return 1;
    }
    long rss_corpus_kb = peak_rss_kb();

    double load_t0 = now_s(CLOCK_MONOTONIC);
    bl_enricher_conf_t conf = {.config_dir = config_dir};
    bl_enricher_t *enricher = bl_enricher_new(&conf, errstr, sizeof(errstr));
    if (!enricher) {
        fprintf(stderr, "bl_enrich_bench: enricher: %s\n", errstr);
        bench_corpus_clear(&corpus);
        return 1;
    }
    double load_s = now_s(CLOCK_MONOTONIC) - load_t0;
    long rss_enricher_kb = peak_rss_kb();

    /* The gazetteer as the record reports it ("N names from M files"). */
    bl_article_t probe;
    if (bl_article_decode(&probe, corpus.articles[0], corpus.lens[0], NULL, MAX_INPUT_BYTES, errstr,
                          sizeof(errstr)) != BL_DECODE_OK) {
        fprintf(stderr, "bl_enrich_bench: article 0: %s\n", errstr);
        return 1;
    }
    json_t *probe_rec = bl_enricher_run(enricher, &probe, NULL);
    const char *gazetteer_info =
        json_string_value(json_object_get(json_object_get(probe_rec, "enricher"), "gazetteer"));
    char gazetteer[128];
    snprintf(gazetteer, sizeof(gazetteer), "%s", gazetteer_info ? gazetteer_info : "?");
    long gazetteer_names = strtol(gazetteer, NULL, 10);
    json_decref(probe_rec);
    bl_article_clear(&probe);

    if (records_path) {
        int rc = bench_write_records(enricher, &corpus, records_path);
        bl_enricher_destroy(enricher);
        bench_corpus_clear(&corpus);
        return rc < 0 ? 1 : 0;
    }

    printf("corpus     %zu articles, %.2f MB, %zu-%zu bytes (mean %.0f), held in memory\n",
           corpus.count, (double)corpus.total_bytes / 1e6, corpus.min_bytes, corpus.max_bytes,
           (double)corpus.total_bytes / (double)corpus.count);
    printf("gazetteer  %s (enricher start-up %.2f s)\n", gazetteer, load_s);
    if (gazetteer_names < MIN_GAZETTEER)
        printf("WARNING    gazetteer holds fewer than %d names\n", MIN_GAZETTEER);

    /* Warm-up: caches, allocator arenas, lazily built tables. */
    size_t json_bytes = 0;
    bench_corpus_t warm = corpus;
    warm.count = corpus.count < 500 ? corpus.count : 500;
    if (bench_enrich_round(enricher, &warm, &json_bytes) < 0)
        return 1;

    /* Rounds interleave the three paths so that noise from other processes
     * on the shared cores falls on all of them alike. Each path is timed by
     * the wall clock and by this thread's CPU clock: on cores shared with
     * other work the CPU time is what one core of our own would take. */
    enum { PATH_FNV, PATH_SHA, PATH_ENRICH, PATH_COUNT };
    static const char *const path_names[PATH_COUNT] = {"reference FNV-1a", "reference SHA-256",
                                                       "enrich + JSON"};
    double wall[PATH_COUNT][MAX_ROUNDS], cpu[PATH_COUNT][MAX_ROUNDS];
    volatile uint64_t sink = 0;
    for (int r = 0; r < rounds; r++) {
        for (int p = 0; p < PATH_COUNT; p++) {
            double w0 = now_s(CLOCK_MONOTONIC), c0 = now_s(CLOCK_THREAD_CPUTIME_ID);
            if (p == PATH_FNV)
                sink ^= bench_fnv_round(&corpus);
            else if (p == PATH_SHA)
                sink ^= bench_sha256_round(&corpus);
            else if (bench_enrich_round(enricher, &corpus, &json_bytes) < 0)
                return 1;
            cpu[p][r] = now_s(CLOCK_THREAD_CPUTIME_ID) - c0;
            wall[p][r] = now_s(CLOCK_MONOTONIC) - w0;
        }
        fprintf(stderr, "round %d/%d: enrich %.2f s wall, %.2f s cpu\n", r + 1, rounds,
                wall[PATH_ENRICH][r], cpu[PATH_ENRICH][r]);
    }
    long rss_run_kb = peak_rss_kb();

    printf("rounds     %d, one thread; \"x ref\" = time / time of the same bytes through "
           "FNV-1a in the same run\n",
           rounds);
    double enrich_cpu_best = 0;
    for (int clock = 0; clock < 2; clock++) {
        double best[PATH_COUNT], median[PATH_COUNT];
        for (int p = 0; p < PATH_COUNT; p++)
            best_median(clock ? wall[p] : cpu[p], rounds, &best[p], &median[p]);
        if (!clock)
            enrich_cpu_best = best[PATH_ENRICH];
        printf("\n%s\n", clock ? "wall-clock time (includes waiting for the shared cores)"
                               : "CPU time of the benchmark thread (one core's work)");
        printf("  %-17s | %9s %8s %9s %7s | %9s %8s %9s %7s\n", "", "best", "", "", "", "median",
               "", "", "");
        printf("  %-17s | %9s %8s %9s %7s | %9s %8s %9s %7s\n", "path", "art/s", "MB/s", "us/art",
               "x ref", "art/s", "MB/s", "us/art", "x ref");
        for (int p = 0; p < PATH_COUNT; p++) {
            printf("  %-17s", path_names[p]);
            print_row(&corpus, best[p], best[PATH_FNV]);
            print_row(&corpus, median[p], median[PATH_FNV]);
            printf("\n");
        }
        printf("  enrich / SHA-256: %.0fx best, %.0fx median\n", best[PATH_ENRICH] / best[PATH_SHA],
               median[PATH_ENRICH] / median[PATH_SHA]);
    }
    printf("\nJSON out   %.0f bytes/article\n", (double)json_bytes / (double)corpus.count);
    printf("peak RSS   %.1f MB (at start %.1f, + corpus file %.1f, + enricher %.1f, + enriching "
           "%.1f)\n",
           rss_run_kb / 1024.0, rss_start_kb / 1024.0, (rss_corpus_kb - rss_start_kb) / 1024.0,
           (rss_enricher_kb - rss_corpus_kb) / 1024.0, (rss_run_kb - rss_enricher_kb) / 1024.0);
    double best_rate = (double)corpus.count / enrich_cpu_best;
    if (best_rate >= TARGET_PER_SEC)
        printf("target     %.0f art/s per core: MET (best %.0f art/s, CPU time)\n", TARGET_PER_SEC,
               best_rate);
    else
        printf("target     %.0f art/s per core: MISSED by %.1fx (best %.0f art/s on CPU time, "
               "%.0f%% of target)\n",
               TARGET_PER_SEC, TARGET_PER_SEC / best_rate, best_rate,
               100.0 * best_rate / TARGET_PER_SEC);

    if (stages) {
        bench_stages_t st = {0};
        char path[4096];
        snprintf(path, sizeof(path), "%s/boilerplate.txt", config_dir);
        if (!(st.boilerplate = bl_boilerplate_load(path, errstr, sizeof(errstr))) ||
            !(st.dates = bl_dates_new(config_dir, errstr, sizeof(errstr))) ||
            !(st.sources = bl_sources_new(config_dir, NULL, errstr, sizeof(errstr))) ||
            !(st.entities = bl_entities_new(config_dir, NULL, errstr, sizeof(errstr)))) {
            fprintf(stderr, "bl_enrich_bench: stages: %s\n", errstr);
            return 1;
        }
        double per_round[MAX_ROUNDS][STAGE_COUNT];
        for (int r = 0; r < rounds; r++) {
            if (bench_stages_round(&st, &corpus, per_round[r]) < 0) {
                fprintf(stderr, "bl_enrich_bench: stages: an article failed\n");
                return 1;
            }
        }
        double median[STAGE_COUNT], total = 0;
        for (int s = 0; s < STAGE_COUNT; s++) {
            double v[MAX_ROUNDS], best;
            for (int r = 0; r < rounds; r++)
                v[r] = per_round[r][s];
            best_median(v, rounds, &best, &median[s]);
            total += median[s];
        }
        printf("\nstages     median of %d rounds, CPU us per article (CPU clock read between "
               "stages)\n",
               rounds);
        for (int s = 0; s < STAGE_COUNT; s++)
            printf("  %-32s %9.2f  %5.1f%%\n", stage_names[s],
                   median[s] / (double)corpus.count * 1e6, 100.0 * median[s] / total);
        printf("  %-32s %9.2f  (bl_enricher_run path, best CPU: %.2f)\n", "sum",
               total / (double)corpus.count * 1e6, enrich_cpu_best / (double)corpus.count * 1e6);
        bl_entities_destroy(st.entities);
        bl_sources_destroy(st.sources);
        bl_dates_destroy(st.dates);
        bl_boilerplate_destroy(st.boilerplate);
    }
    if (bench_json_floor(enricher, &corpus) < 0)
        return 1;
    (void)sink;
    bl_enricher_destroy(enricher);
    bench_corpus_clear(&corpus);
    return 0;
}
