/*
 * `byline enrich [FILE...]`: decode and enrich files (or stdin) without
 * Kafka; one JSON record per line on stdout, errors on stderr.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "article/article.h"
#include "byline.h"
#include "enrich/enrich.h"
#include "enrich/json_arena.h"

static char *read_all(FILE *f, size_t *len)
{
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        cap *= 2;
        char *nb = realloc(buf, cap);
        if (!nb) {
            free(buf);
            return NULL;
        }
        buf = nb;
    }
    *len = n;
    return buf;
}

static int enrich_one(const bl_enricher_t *e, const bl_config_t *cfg, const char *name, FILE *f)
{
    size_t len;
    char *buf = read_all(f, &len);
    if (!buf) {
        fprintf(stderr, "byline: %s: out of memory\n", name);
        return 1;
    }
    bl_article_t a;
    char errstr[512];
    bl_json_arena_begin();
    bl_decode_err_t err = bl_article_decode(&a, buf, len, NULL, (size_t)cfg->max_message_bytes,
                                            errstr, sizeof(errstr));
    free(buf);
    if (err != BL_DECODE_OK) {
        bl_json_arena_end();
        fprintf(stderr, "byline: %s: %s: %s\n", name, bl_decode_err_name(err), errstr);
        return 1;
    }
    json_t *rec = bl_enricher_run(e, &a, NULL);
    bl_article_clear(&a);
    if (rec) {
        json_dumpf(rec, stdout, BL_RECORD_DUMP_FLAGS);
        fputc('\n', stdout);
        json_decref(rec);
    }
    bl_json_arena_end();
    if (!rec) {
        fprintf(stderr, "byline: %s: out of memory\n", name);
        return 1;
    }
    return 0;
}

int bl_cmd_enrich(bl_config_t *cfg, int argc, char **argv)
{
    char errstr[1024];
    bl_enricher_conf_t econf = {cfg->config_dir, cfg->gazetteer_files, cfg->publisher_map};
    bl_enricher_t *e = bl_enricher_new(&econf, errstr, sizeof(errstr));
    if (!e) {
        fprintf(stderr, "byline: configuration error: BYLINE_CONFIG_DIR: %s\n", errstr);
        return 2;
    }
    int failed = 0;
    if (argc == 0)
        failed += enrich_one(e, cfg, "stdin", stdin);
    for (int i = 0; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) {
            fprintf(stderr, "byline: %s: %s\n", argv[i], strerror(errno));
            failed++;
            continue;
        }
        failed += enrich_one(e, cfg, argv[i], f);
        fclose(f);
    }
    bl_enricher_destroy(e);
    bl_json_arena_release();
    return failed ? 1 : 0;
}
