/*
 * bl_entities_dev: runs the entities extractor over raw article files
 * (" date YYYY-MM-DD headline\n\nbody") and prints one JSON line per file
 * ({"file","text","entities"}), or with --bench N times N passes.
 * Used by tests/quality/entities_dev.py. Single-threaded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "enrich/enrich.h"

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) {
        buf[n] = '\0';
        *len = (size_t)n;
    }
    return buf;
}

/* The doc text: the raw file without its " date YYYY-MM-DD " prefix. */
static int make_doc(bl_doc_t *doc, const char *raw, size_t len)
{
    const char *p = raw;
    if (len > 17 && strncmp(raw, " date ", 6) == 0)
        p = raw + 17;
    memset(doc, 0, sizeof(*doc));
    doc->len = len - (size_t)(p - raw);
    doc->text = malloc(doc->len + 1);
    memcpy(doc->text, p, doc->len + 1);
    const char *nl = strchr(doc->text, '\n');
    doc->headline_len = nl ? (size_t)(nl - doc->text) : doc->len;
    return bl_doc_tokenize(doc);
}

int main(int argc, char **argv)
{
    int bench = 0, argi = 1;
    if (argc > 2 && strcmp(argv[1], "--bench") == 0) {
        bench = atoi(argv[2]);
        argi = 3;
    }
    if (argc - argi < 1) {
        fprintf(stderr, "usage: bl_entities_dev [--bench N] config_dir file...\n");
        return 2;
    }
    char errstr[512];
    bl_entities_t *ent =
        bl_entities_new(argv[argi], getenv("BYLINE_EXTRA_GAZETTEERS"), errstr, sizeof(errstr));
    if (!ent) {
        fprintf(stderr, "%s\n", errstr);
        return 1;
    }
    fprintf(stderr, "gazetteer: %s\n", bl_entities_gazetteer_info(ent));
    int nfiles = argc - argi - 1;
    bl_doc_t *docs = calloc((size_t)nfiles + 1, sizeof(*docs));
    size_t total_bytes = 0;
    for (int i = 0; i < nfiles; i++) {
        size_t len;
        char *raw = read_all(argv[argi + 1 + i], &len);
        if (!raw || make_doc(&docs[i], raw, len)) {
            fprintf(stderr, "cannot read %s\n", argv[argi + 1 + i]);
            return 1;
        }
        total_bytes += docs[i].len;
        free(raw);
    }
    if (bench > 0) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (int r = 0; r < bench; r++)
            for (int i = 0; i < nfiles; i++) {
                json_t *rec = json_object();
                bl_entities_extract(ent, &docs[i], rec);
                json_decref(rec);
            }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        double per = s / ((double)bench * nfiles);
        printf("%d docs x %d: %.2f us/doc (avg %.0f bytes), %.1f MB/s\n", nfiles, bench, per * 1e6,
               (double)total_bytes / nfiles, (double)total_bytes * bench / s / 1e6);
    } else {
        for (int i = 0; i < nfiles; i++) {
            json_t *rec = json_object();
            bl_entities_extract(ent, &docs[i], rec);
            json_object_set_new(rec, "file", json_string(argv[argi + 1 + i]));
            json_object_set_new(rec, "text", json_string(docs[i].text));
            char *out = json_dumps(rec, JSON_COMPACT);
            puts(out);
            free(out);
            json_decref(rec);
        }
    }
    for (int i = 0; i < nfiles; i++)
        bl_doc_clear(&docs[i]);
    free(docs);
    bl_entities_destroy(ent);
    return 0;
}
