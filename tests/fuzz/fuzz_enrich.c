/*
 * Fuzz target: decode + enrich + serialise any bytes. Invariants checked on
 * every input: decoding either succeeds or names a reason; every span of the
 * record lies inside its text and its "text" field equals that slice; the
 * record serialises. Built two ways:
 *   - with libFuzzer (clang -fsanitize=fuzzer): LLVMFuzzerTestOneInput only;
 *   - standalone (the default, run by ctest under ASan/UBSan): a bounded,
 *     seeded mutation loop over the sample articles.
 */
#include <dirent.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "article/article.h"
#include "enrich/enrich.h"
#include "enrich/json_arena.h"

static bl_enricher_t *enricher;

static void check_spans(json_t *items, const char *text, size_t text_len, const char *field)
{
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it)
    {
        json_int_t start = json_integer_value(json_object_get(it, "start"));
        json_int_t end = json_integer_value(json_object_get(it, "end"));
        if (start < 0 || end < start || (size_t)end > text_len) {
            fprintf(stderr, "span out of range: %lld..%lld of %zu\n", (long long)start,
                    (long long)end, text_len);
            abort();
        }
        json_t *t = field ? json_object_get(it, field) : NULL;
        if (json_is_string(t) &&
            (json_string_length(t) != (size_t)(end - start) ||
             memcmp(json_string_value(t), text + start, (size_t)(end - start)))) {
            fprintf(stderr, "span text differs from text[%lld:%lld]\n", (long long)start,
                    (long long)end);
            abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!enricher) {
        char errstr[512];
        const char *dir = getenv("BYLINE_CONFIG_DIR");
        bl_enricher_conf_t conf = {dir ? dir : BYLINE_DEFAULT_CONFIG_DIR, NULL, NULL};
        enricher = bl_enricher_new(&conf, errstr, sizeof(errstr));
        if (!enricher) {
            fprintf(stderr, "enricher: %s\n", errstr);
            abort();
        }
    }
    bl_article_t a;
    char errstr[512];
    bl_article_meta_t meta = {.timestamp_ms = 1640995200000LL};
    bl_json_arena_begin(); /* as the service does per message */
    bl_decode_err_t err =
        bl_article_decode(&a, (const char *)data, size, &meta, 1 << 20, errstr, sizeof(errstr));
    if (err != BL_DECODE_OK) {
        bl_json_arena_end();
        if (!errstr[0])
            abort(); /* every rejection must say why */
        return 0;
    }
    bl_origin_t origin = {"fuzz", 0, 0, 0};
    json_t *rec = bl_enricher_run(enricher, &a, &origin);
    bl_article_clear(&a);
    if (!rec)
        abort();
    json_t *text = json_object_get(rec, "text");
    const char *t = json_string_value(text);
    size_t tlen = json_string_length(text);
    check_spans(json_object_get(rec, "dates"), t, tlen, "text");
    json_t *src = json_object_get(rec, "source");
    check_spans(json_object_get(src, "agencies"), t, tlen, NULL);
    check_spans(json_object_get(src, "datelines"), t, tlen, NULL);
    check_spans(json_object_get(src, "cited"), t, tlen, NULL);
    size_t i;
    json_t *ent;
    json_array_foreach(json_object_get(rec, "entities"), i, ent)
        check_spans(json_object_get(ent, "mentions"), t, tlen, "text");
    char *out = json_dumps(rec, BL_RECORD_DUMP_FLAGS);
    if (!out)
        abort();
    bl_json_free(out);
    json_decref(rec);
    bl_json_arena_end();
    return 0;
}

#ifndef BL_LIBFUZZER
/* Standalone: seeded mutations of the seed files, bounded in count. */
static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static const char *const dictionary[] = {
    " date ",        "2022-02-30",   "\n\n",       "(Reuters) -", "AFP contributed reporting.",
    "Mr ",           "President ",   "January 10", "last week",   "{\"headline\":",
    "\"}",           "\xe2\x80\x99", "\xc3",       "U.S.",        "WILMINGTON/MOSCOW \xe2\x80\xa2 ",
    "told Sky News", "1990s",        "Jan 9-10",   "\x00"};

int main(int argc, char **argv)
{
    bl_json_arena_install();
    long iterations = argc > 1 ? atol(argv[1]) : 20000;
    const char *seed_dir = argc > 2 ? argv[2] : BYLINE_DEFAULT_CONFIG_DIR "/demo";
    char *seeds[64];
    size_t seed_len[64];
    int nseeds = 0;
    DIR *d = opendir(seed_dir);
    struct dirent *de;
    while (d && (de = readdir(d)) && nseeds < 64) {
        if (!strstr(de->d_name, ".txt"))
            continue;
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", seed_dir, de->d_name);
        FILE *f = fopen(path, "rb");
        if (!f)
            continue;
        seeds[nseeds] = malloc(1 << 16);
        seed_len[nseeds] = fread(seeds[nseeds], 1, 1 << 16, f);
        fclose(f);
        nseeds++;
    }
    if (d)
        closedir(d);
    if (nseeds == 0) {
        fprintf(stderr, "fuzz_enrich: no seed files in %s\n", seed_dir);
        return 1;
    }
    char *buf = malloc(1 << 17);
    for (long it = 0; it < iterations; it++) {
        int s = (int)(next_rand() % (uint64_t)nseeds);
        size_t len = seed_len[s];
        memcpy(buf, seeds[s], len);
        int edits = 1 + (int)(next_rand() % 8);
        for (int e = 0; e < edits; e++) {
            size_t pos = len ? next_rand() % len : 0;
            switch (next_rand() % 5) {
            case 0: /* flip a byte */
                if (len)
                    buf[pos] = (char)next_rand();
                break;
            case 1: /* truncate */
                len = pos;
                break;
            case 2: { /* insert a dictionary token */
                const char *tok =
                    dictionary[next_rand() % (sizeof(dictionary) / sizeof(*dictionary))];
                size_t tl = strlen(tok) ? strlen(tok) : 1;
                if (len + tl < (1 << 17)) {
                    memmove(buf + pos + tl, buf + pos, len - pos);
                    memcpy(buf + pos, tok, tl);
                    len += tl;
                }
                break;
            }
            case 3: { /* duplicate a block */
                size_t blk = len - pos < 512 ? len - pos : 512;
                if (len + blk < (1 << 17)) {
                    memmove(buf + pos + blk, buf + pos, len - pos);
                    len += blk;
                }
                break;
            }
            default: /* delete a block */
                if (len) {
                    size_t blk = (next_rand() % 64) % (len - pos + 1);
                    memmove(buf + pos, buf + pos + blk, len - pos - blk);
                    len -= blk;
                }
            }
        }
        LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
    }
    free(buf);
    for (int i = 0; i < nseeds; i++)
        free(seeds[i]);
    bl_enricher_destroy(enricher);
    bl_json_arena_release();
    printf("fuzz_enrich: %ld inputs, no invariant broken\n", iterations);
    return 0;
}
#endif
