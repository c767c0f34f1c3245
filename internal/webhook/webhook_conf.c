/*
 * webhook_conf: the BYLINE_WEBHOOK_<NAME>_* variables. One table drives
 * parsing, validation, defaults and the help table. Runs once in main()
 * before any thread starts.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "webhook/webhook_int.h"

#define ENV_PREFIX "BYLINE_WEBHOOK_"

typedef enum { T_STRING, T_INT, T_SECRET, T_SECRET_FILE, T_FILTER, T_START } setting_type_t;

typedef struct setting {
    const char *suffix;
    setting_type_t type;
    const char *default_text;
    int64_t min, max;
    size_t offset; /* into bl_wh_endpoint_conf_t, for T_INT */
    const char *description;
} setting_t;

#define OFF(field) offsetof(bl_wh_endpoint_conf_t, field)

static const setting_t settings[] = {
    {"URL", T_STRING, "(required)", 0, 0, 0,
     "Where records are POSTed (http:// or https://). Setting it creates the endpoint."},
    {"SECRET", T_SECRET, "(none: unsigned)", 0, 0, 0,
     "Signing secret `whsec_<base64>`; two separated by a space during rotation "
     "(both signatures are sent). Never logged."},
    {"SECRET_FILE", T_SECRET_FILE, "", 0, 0, 0, "Read the secret(s) from this file instead."},
    {"FILTER", T_FILTER, "(all records)", 0, 0, 0,
     "Only records matching, e.g. `entity:Vladimir Putin AND agency:Reuters`; see the "
     "filter syntax."},
    {"TIMEOUT_MS", T_INT, "10000", 1, 600000, OFF(timeout_ms),
     "Whole-request timeout; past it the attempt counts as failed and is retried."},
    {"CONNECT_TIMEOUT_MS", T_INT, "5000", 1, 600000, OFF(connect_timeout_ms),
     "TCP/TLS connect timeout."},
    {"CONCURRENCY", T_INT, "4", 1, 256, OFF(concurrency),
     "Requests in flight at once (one while the endpoint is failing)."},
    {"RETRY_INITIAL_MS", T_INT, "1000", 1, 3600000, OFF(retry_initial_ms),
     "First retry delay cap; doubles per attempt (full jitter)."},
    {"RETRY_MAX_MS", T_INT, "300000", 1, 86400000, OFF(retry_max_ms), "Largest retry delay cap."},
    {"RETRY_GIVE_UP_MS", T_INT, "21600000", 0, INT64_C(2592000000), OFF(retry_give_up_ms),
     "Time after the first attempt when a record is dead-lettered instead (default 6 h)."},
    {"BATCH_SIZE", T_INT, "1", 1, 1000, OFF(batch_size),
     "Records per request; above 1 the body is a JSON array of records."},
    {"MAX_PENDING", T_INT, "1000", 1, 1000000, OFF(max_pending),
     "Records held (fetched, not finished) before the endpoint's partitions pause."},
    {"START_FROM", T_START, "earliest", 0, 0, 0,
     "Where a new endpoint (no committed offset yet) starts: `earliest` or `latest`."},
};
#define NSETTINGS ((int)(sizeof(settings) / sizeof(settings[0])))

/* BYLINE_WEBHOOK_* variables that are not per-endpoint (internal/config owns them). */
static const char *global_names[] = {"BYLINE_WEBHOOK_DLQ_TOPIC", NULL};

void bl_wh_confs_free(bl_wh_endpoint_conf_t *confs, int nconfs)
{
    for (int i = 0; i < nconfs; i++) {
        free(confs[i].name);
        free(confs[i].url);
        free(confs[i].filter_text);
        bl_wh_filter_destroy(confs[i].filter);
        /* wipe key material */
        memset(confs[i].keys, 0, sizeof(confs[i].keys));
    }
    free(confs);
}

static int parse_int(const char *var, const char *value, const setting_t *s, int64_t *out,
                     char *errstr, size_t errstr_size)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(value, &end, 10);
    if (!*value || errno || *end || v < s->min || v > s->max) {
        snprintf(errstr, errstr_size, "%s: \"%s\" is not an integer from %" PRId64 " to %" PRId64,
                 var, value, s->min, s->max);
        return -1;
    }
    *out = v;
    return 0;
}

static char *read_secret_file(const char *var, const char *path, char *errstr, size_t errstr_size)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(errstr, errstr_size, "%s: cannot read \"%s\": %s", var, path, strerror(errno));
        return NULL;
    }
    char *buf = calloc(1, 4097);
    size_t n = fread(buf, 1, 4096, f);
    fclose(f);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
        buf[--n] = '\0';
    return buf;
}

static int apply_secrets(const char *var, char *secrets, bl_wh_endpoint_conf_t *conf, char *errstr,
                         size_t errstr_size)
{
    char *save = NULL;
    conf->nkeys = 0;
    for (char *tok = strtok_r(secrets, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
        char why[160];
        if (conf->nkeys == BL_WH_MAX_SECRETS) {
            snprintf(errstr, errstr_size, "%s: at most %d secrets (current and next)", var,
                     BL_WH_MAX_SECRETS);
            return -1;
        }
        if (bl_wh_key_decode(tok, &conf->keys[conf->nkeys], why, sizeof(why))) {
            snprintf(errstr, errstr_size, "%s: secret %d: %s", var, conf->nkeys + 1, why);
            return -1;
        }
        conf->nkeys++;
    }
    if (conf->nkeys == 0) {
        snprintf(errstr, errstr_size, "%s: is empty", var);
        return -1;
    }
    return 0;
}

static bl_wh_endpoint_conf_t *find_or_add(bl_wh_endpoint_conf_t **confs, int *nconfs,
                                          const char *name, size_t name_len)
{
    for (int i = 0; i < *nconfs; i++)
        if (strlen((*confs)[i].name) == name_len && !strncmp((*confs)[i].name, name, name_len))
            return &(*confs)[i];
    *confs = realloc(*confs, sizeof(**confs) * (*nconfs + 1));
    bl_wh_endpoint_conf_t *conf = &(*confs)[(*nconfs)++];
    memset(conf, 0, sizeof(*conf));
    conf->name = strndup(name, name_len);
    conf->start_earliest = 1;
    for (int s = 0; s < NSETTINGS; s++)
        if (settings[s].type == T_INT)
            *(int64_t *)((char *)conf + settings[s].offset) =
                strtoll(settings[s].default_text, NULL, 10);
    return conf;
}

static int endpoint_set(bl_wh_endpoint_conf_t *conf, const char *var, const setting_t *s,
                        const char *value, char *errstr, size_t errstr_size)
{
    switch (s->type) {
    case T_STRING:
        if (strncmp(value, "http://", 7) && strncmp(value, "https://", 8)) {
            snprintf(errstr, errstr_size, "%s: must be an http:// or https:// URL", var);
            return -1;
        }
        conf->url = strdup(value);
        return 0;
    case T_INT:
        return parse_int(var, value, s, (int64_t *)((char *)conf + s->offset), errstr, errstr_size);
    case T_SECRET: {
        char *copy = strdup(value);
        int rc = apply_secrets(var, copy, conf, errstr, errstr_size);
        memset(copy, 0, strlen(copy));
        free(copy);
        return rc;
    }
    case T_SECRET_FILE: {
        char *secrets = read_secret_file(var, value, errstr, errstr_size);
        if (!secrets)
            return -1;
        int rc = apply_secrets(var, secrets, conf, errstr, errstr_size);
        memset(secrets, 0, strlen(secrets));
        free(secrets);
        return rc;
    }
    case T_FILTER: {
        char why[300];
        conf->filter = bl_wh_filter_parse(value, why, sizeof(why));
        if (!conf->filter) {
            snprintf(errstr, errstr_size, "%s: %s", var, why);
            return -1;
        }
        conf->filter_text = strdup(value);
        return 0;
    }
    case T_START:
        if (!strcmp(value, "earliest") || !strcmp(value, "latest")) {
            conf->start_earliest = !strcmp(value, "earliest");
            return 0;
        }
        snprintf(errstr, errstr_size, "%s: \"%s\" is not earliest or latest", var, value);
        return -1;
    }
    return -1;
}

int bl_wh_confs_parse(char **envp, bl_wh_endpoint_conf_t **confs_out, int *nconfs_out, char *errstr,
                      size_t errstr_size)
{
    bl_wh_endpoint_conf_t *confs = NULL;
    int nconfs = 0;
    const size_t plen = strlen(ENV_PREFIX);
    int has_secret_var = 0; /* catches SECRET and SECRET_FILE both set */

    for (char **e = envp; e && *e; e++) {
        const char *eq = strchr(*e, '=');
        if (!eq || strncmp(*e, ENV_PREFIX, plen) != 0)
            continue;
        char var[256];
        size_t var_len = (size_t)(eq - *e);
        if (var_len >= sizeof(var))
            var_len = sizeof(var) - 1;
        memcpy(var, *e, var_len);
        var[var_len] = '\0';
        int global = 0;
        for (int g = 0; global_names[g]; g++)
            global |= !strcmp(var, global_names[g]);
        if (global)
            continue;
        const char *value = eq + 1;
        const char *name = var + plen;
        const char *us = strchr(name, '_');
        if (!us || us == name) {
            snprintf(errstr, errstr_size,
                     "%s: not a webhook variable (expected BYLINE_WEBHOOK_<NAME>_URL and friends)",
                     var);
            goto fail;
        }
        for (const char *c = name; c < us; c++)
            if (!(isupper((unsigned char)*c) || isdigit((unsigned char)*c))) {
                snprintf(errstr, errstr_size, "%s: endpoint name \"%.*s\" must be [A-Z0-9]+", var,
                         (int)(us - name), name);
                goto fail;
            }
        const char *suffix = us + 1;
        const setting_t *s = NULL;
        for (int i = 0; i < NSETTINGS; i++)
            if (!strcmp(suffix, settings[i].suffix))
                s = &settings[i];
        if (!s) {
            snprintf(errstr, errstr_size,
                     "%s: unknown setting \"%s\" for webhook %.*s (see byline --help)", var, suffix,
                     (int)(us - name), name);
            goto fail;
        }
        bl_wh_endpoint_conf_t *conf = find_or_add(&confs, &nconfs, name, (size_t)(us - name));
        if (s->type == T_SECRET || s->type == T_SECRET_FILE) {
            if (conf->nkeys > 0) {
                snprintf(errstr, errstr_size, "%s: set only one of %s%s_SECRET and _SECRET_FILE",
                         var, ENV_PREFIX, conf->name);
                goto fail;
            }
            has_secret_var = 1;
        }
        if (endpoint_set(conf, var, s, value, errstr, errstr_size))
            goto fail;
    }
    (void)has_secret_var;

    for (int i = 0; i < nconfs; i++) {
        bl_wh_endpoint_conf_t *c = &confs[i];
        if (!c->url) {
            snprintf(errstr, errstr_size, "%s%s_URL: required (other %s%s_* variables are set)",
                     ENV_PREFIX, c->name, ENV_PREFIX, c->name);
            goto fail;
        }
        if (c->retry_initial_ms > c->retry_max_ms) {
            snprintf(errstr, errstr_size,
                     "%s%s_RETRY_INITIAL_MS: %" PRId64 " is above _RETRY_MAX_MS %" PRId64,
                     ENV_PREFIX, c->name, c->retry_initial_ms, c->retry_max_ms);
            goto fail;
        }
        if (c->max_pending < c->concurrency * c->batch_size) {
            snprintf(errstr, errstr_size,
                     "%s%s_MAX_PENDING: %" PRId64 " is below _CONCURRENCY x _BATCH_SIZE (%" PRId64
                     ")",
                     ENV_PREFIX, c->name, c->max_pending, c->concurrency * c->batch_size);
            goto fail;
        }
    }
    *confs_out = confs;
    *nconfs_out = nconfs;
    return 0;
fail:
    bl_wh_confs_free(confs, nconfs);
    return -1;
}

bl_webhooks_t *bl_webhooks_new(const bl_config_t *cfg, char **envp, char *errstr,
                               size_t errstr_size)
{
    bl_wh_endpoint_conf_t *confs = NULL;
    int nconfs = 0;
    if (bl_wh_confs_parse(envp, &confs, &nconfs, errstr, errstr_size))
        return NULL;
    bl_webhooks_t *whs = calloc(1, sizeof(*whs));
    whs->cfg = cfg;
    whs->confs = confs;
    whs->nconfs = nconfs;
    return whs;
}

int bl_webhooks_count(const bl_webhooks_t *whs)
{
    return whs ? whs->nconfs : 0;
}

void bl_webhooks_destroy(bl_webhooks_t *whs)
{
    if (!whs)
        return;
    if (whs->engines_free)
        whs->engines_free(whs);
    bl_wh_confs_free(whs->confs, whs->nconfs);
    free(whs);
}

void bl_webhooks_print_help(FILE *out, int markdown)
{
    if (markdown) {
        fprintf(out, "| Variable | Default | Description |\n|---|---|---|\n");
        for (int i = 0; i < NSETTINGS; i++)
            fprintf(out, "| `BYLINE_WEBHOOK_<NAME>_%s` | %s | %s |\n", settings[i].suffix,
                    settings[i].default_text[0] ? settings[i].default_text : "",
                    settings[i].description);
        return;
    }
    fprintf(out, "Webhook endpoints (any number; NAME is [A-Z0-9]+):\n");
    for (int i = 0; i < NSETTINGS; i++)
        fprintf(out, "  BYLINE_WEBHOOK_<NAME>_%-20s %-18s %s\n", settings[i].suffix,
                settings[i].default_text, settings[i].description);
}
