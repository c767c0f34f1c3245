/*
 * config: one table of BYLINE_* variables drives parsing, validation,
 * defaults, --help and the README table; BYLINE_KAFKA_* passes through to
 * librdkafka. Main thread, once, before other threads start.
 */
#include "config/config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "obs/log.h"

typedef enum { T_STRING, T_INT, T_LOGLEVEL, T_DIR } var_type_t;

typedef struct var {
    const char *name;
    var_type_t type;
    const char *def; /* default as text; NULL = required / unset */
    size_t offset;
    int64_t min, max; /* T_INT */
    const char *desc;
} var_t;

#define F(field) offsetof(bl_config_t, field)

static const var_t vars[] = {
    {"BYLINE_BROKERS", T_STRING, NULL, F(brokers), 0, 0,
     "Kafka bootstrap servers (host:port,...). Required by the service; `byline demo` runs "
     "without it."},
    {"BYLINE_GROUP_ID", T_STRING, "byline", F(group_id), 0, 0, "Consumer group of the service."},
    {"BYLINE_INPUT_TOPIC", T_STRING, "articles.raw", F(input_topic), 0, 0,
     "Topic of raw articles to consume."},
    {"BYLINE_OUTPUT_TOPIC", T_STRING, "articles.enriched", F(output_topic), 0, 0,
     "Topic the enriched records go to (key = record id)."},
    {"BYLINE_DLQ_TOPIC", T_STRING, "articles.dlq", F(dlq_topic), 0, 0,
     "Dead-letter topic for messages that cannot be decoded or published."},
    {"BYLINE_ENTITIES_TOPIC", T_STRING, "", F(entities_topic), 0, 0,
     "Optional topic receiving one message per (article, entity); empty = off."},
    {"BYLINE_WEBHOOK_DLQ_TOPIC", T_STRING, "articles.webhooks.dlq", F(webhook_dlq_topic), 0, 0,
     "Dead-letter topic for records a webhook endpoint refused or never accepted."},
    {"BYLINE_WORKERS", T_INT, "0", F(workers), 0, 256,
     "Enrichment threads; 0 = one per CPU. Each input partition is enriched by one thread, so "
     "records of a partition keep their order."},
    {"BYLINE_MAX_MESSAGE_BYTES", T_INT, "1048576", F(max_message_bytes), 1, 100 * 1048576LL,
     "Largest input message accepted; larger ones are dead-lettered as too_large."},
    {"BYLINE_DLQ_MAX_VALUE_BYTES", T_INT, "524288", F(dlq_max_value_bytes), 1024, 100 * 1048576LL,
     "Dead-letter values longer than this keep their first bytes (header byline.truncated)."},
    {"BYLINE_SHUTDOWN_TIMEOUT_MS", T_INT, "10000", F(shutdown_timeout_ms), 0, 3600000,
     "On SIGTERM/SIGINT, how long to wait for in-flight records before closing."},
    {"BYLINE_REVOKE_TIMEOUT_MS", T_INT, "10000", F(revoke_timeout_ms), 0, 3600000,
     "On a rebalance, how long to wait for in-flight records of revoked partitions."},
    {"BYLINE_LOG_LEVEL", T_LOGLEVEL, "info", F(log_level), 0, 0,
     "Lowest log level written: debug, info, warn or error. Logs are JSON lines on stderr."},
    {"BYLINE_CONFIG_DIR", T_DIR, BYLINE_DEFAULT_CONFIG_DIR, F(config_dir), 0, 0,
     "Directory of byline's data files (gazetteers, agency and outlet lists, demo articles)."},
    {"BYLINE_GAZETTEER_FILES", T_STRING, "", F(gazetteer_files), 0, 0,
     "Extra gazetteer files (comma-separated paths) loaded after the shipped one."},
    {"BYLINE_PUBLISHER_MAP", T_STRING, "", F(publisher_map), 0, 0,
     "Extra file mapping URL hosts to publisher names (host<TAB>publisher)."},
    {"BYLINE_HTTP_ADDR", T_STRING, "", F(http_addr), 0, 0,
     "Address of the /healthz, /readyz and /metrics server (e.g. 0.0.0.0:8080); empty = off."},
};

#define NVARS (sizeof(vars) / sizeof(vars[0]))

const char *bl_config_getenv(char **envp, const char *name)
{
    size_t len = strlen(name);
    for (char **e = envp; e && *e; e++)
        if (strncmp(*e, name, len) == 0 && (*e)[len] == '=')
            return *e + len + 1;
    return NULL;
}

char *bl_config_getenv_secret(char **envp, const char *name, char *errstr, size_t errstr_size)
{
    errstr[0] = '\0';
    const char *v = bl_config_getenv(envp, name);
    if (v)
        return strdup(v);
    char fname[256];
    snprintf(fname, sizeof(fname), "%s_FILE", name);
    const char *path = bl_config_getenv(envp, fname);
    if (!path)
        return NULL;
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(errstr, errstr_size, "%s: cannot read %s: %s", fname, path, strerror(errno));
        return NULL;
    }
    char buf[8192];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    return strdup(buf);
}

static int parse_int(const char *s, int64_t *out)
{
    if (!*s)
        return -1;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

static int set_var(bl_config_t *cfg, const var_t *v, const char *value, char *errstr,
                   size_t errstr_size)
{
    char *base = (char *)cfg + v->offset;
    switch (v->type) {
    case T_INT: {
        int64_t n;
        if (parse_int(value, &n) < 0) {
            snprintf(errstr, errstr_size, "%s: \"%.40s\" is not a whole number", v->name, value);
            return -1;
        }
        if (n < v->min || n > v->max) {
            snprintf(errstr, errstr_size, "%s: %lld is out of range [%lld, %lld]", v->name,
                     (long long)n, (long long)v->min, (long long)v->max);
            return -1;
        }
        *(int64_t *)base = n;
        return 0;
    }
    case T_LOGLEVEL: {
        bl_log_level_t level;
        if (bl_log_level_parse(value, &level) < 0) {
            snprintf(errstr, errstr_size, "%s: \"%.40s\" is not one of debug, info, warn, error",
                     v->name, value);
            return -1;
        }
        break;
    }
    case T_STRING:
    case T_DIR:
        break;
    }
    char **slot = (char **)base;
    free(*slot);
    *slot = strdup(value);
    return 0;
}

/* "BYLINE_KAFKA_SASL_PASSWORD" -> "sasl.password" */
static char *kafka_prop_name(const char *suffix, size_t len)
{
    char *name = malloc(len + 1);
    for (size_t i = 0; i < len; i++)
        name[i] = suffix[i] == '_' ? '.' : (char)tolower((unsigned char)suffix[i]);
    name[len] = '\0';
    return name;
}

static int add_kafka_prop(bl_config_t *cfg, char **envp, const char *entry, char *errstr,
                          size_t errstr_size)
{
    static const struct {
        const char *prefix;
        int role;
    } prefixes[] = {{"BYLINE_KAFKA_CONSUMER_", BL_KAFKA_CONSUMER},
                    {"BYLINE_KAFKA_PRODUCER_", BL_KAFKA_PRODUCER},
                    {"BYLINE_KAFKA_", BL_KAFKA_ANY}};
    const char *eq = strchr(entry, '=');
    for (size_t p = 0; p < 3; p++) {
        size_t plen = strlen(prefixes[p].prefix);
        if (strncmp(entry, prefixes[p].prefix, plen) != 0)
            continue;
        const char *suffix = entry + plen;
        size_t slen = (size_t)(eq - suffix);
        int from_file = slen > 5 && strncmp(suffix + slen - 5, "_FILE", 5) == 0;
        if (from_file)
            slen -= 5;
        if (slen == 0)
            return 0;
        struct bl_kafka_prop *np = realloc(cfg->kafka, (cfg->nkafka + 1) * sizeof(*np));
        if (!np)
            return -1;
        cfg->kafka = np;
        struct bl_kafka_prop *prop = &cfg->kafka[cfg->nkafka];
        prop->env = strndup(entry, (size_t)(eq - entry));
        prop->name = kafka_prop_name(suffix, slen);
        prop->role = prefixes[p].role;
        if (from_file) {
            char varname[256];
            snprintf(varname, sizeof(varname), "%.*s", (int)(eq - entry - 5), entry);
            /* The plain variable wins when both are set; it is added on its own. */
            if (bl_config_getenv(envp, varname)) {
                free(prop->env);
                free(prop->name);
                return 0;
            }
            prop->value = bl_config_getenv_secret(envp, varname, errstr, errstr_size);
            if (!prop->value) {
                free(prop->env);
                free(prop->name);
                return -1;
            }
        } else {
            prop->value = strdup(eq + 1);
        }
        cfg->nkafka++;
        return 0;
    }
    return 0;
}

int bl_config_load(bl_config_t *cfg, char **envp, char *errstr, size_t errstr_size)
{
    memset(cfg, 0, sizeof(*cfg));
    for (size_t i = 0; i < NVARS; i++) {
        const var_t *v = &vars[i];
        const char *value = bl_config_getenv(envp, v->name);
        if (value && !*value && v->type != T_STRING) {
            snprintf(errstr, errstr_size, "%s: is set but empty", v->name);
            return -1;
        }
        if (!value)
            value = v->def;
        if (value && set_var(cfg, v, value, errstr, errstr_size) < 0)
            return -1;
    }
    if (cfg->brokers && !*cfg->brokers) {
        free(cfg->brokers);
        cfg->brokers = NULL;
    }
    for (char **e = envp; e && *e; e++) {
        if (strncmp(*e, "BYLINE_", 7) != 0)
            continue;
        const char *eq = strchr(*e, '=');
        if (!eq)
            continue;
        size_t nlen = (size_t)(eq - *e);
        if (strncmp(*e, "BYLINE_KAFKA_", 13) == 0) {
            if (add_kafka_prop(cfg, envp, *e, errstr, errstr_size) < 0)
                return -1;
            continue;
        }
        int known = strncmp(*e, "BYLINE_WEBHOOK_", 15) == 0 || strncmp(*e, "BYLINE_TEST_", 12) == 0;
        for (size_t i = 0; !known && i < NVARS; i++)
            known = strlen(vars[i].name) == nlen && strncmp(vars[i].name, *e, nlen) == 0;
        /* Warn, not fail: deployment tooling sets BYLINE_ names of its own. */
        if (!known)
            bl_warn("config_unknown_variable", "%.*s is not a byline variable (typo?)", (int)nlen,
                    *e);
    }
    /* Validate the pass-through now, with librdkafka's own words. */
    for (int role = BL_KAFKA_CONSUMER; role <= BL_KAFKA_PRODUCER; role++) {
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        int rc = bl_config_kafka_apply(cfg, conf, (bl_kafka_role_t)role, errstr, errstr_size);
        rd_kafka_conf_destroy(conf);
        if (rc < 0)
            return -1;
    }
    return 0;
}

void bl_config_clear(bl_config_t *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < NVARS; i++) {
        if (vars[i].type == T_INT)
            continue;
        free(*(char **)((char *)cfg + vars[i].offset));
    }
    for (size_t i = 0; i < cfg->nkafka; i++) {
        free(cfg->kafka[i].env);
        free(cfg->kafka[i].name);
        free(cfg->kafka[i].value);
    }
    free(cfg->kafka);
    memset(cfg, 0, sizeof(*cfg));
}

int bl_config_kafka_apply(const bl_config_t *cfg, rd_kafka_conf_t *conf, bl_kafka_role_t role,
                          char *errstr, size_t errstr_size)
{
    char err[512];
    if (cfg->brokers && rd_kafka_conf_set(conf, "bootstrap.servers", cfg->brokers, err,
                                          sizeof(err)) != RD_KAFKA_CONF_OK) {
        snprintf(errstr, errstr_size, "BYLINE_BROKERS: %s", err);
        return -1;
    }
    for (size_t i = 0; i < cfg->nkafka; i++) {
        const struct bl_kafka_prop *p = &cfg->kafka[i];
        if (p->role != BL_KAFKA_ANY && p->role != (int)role)
            continue;
        if (rd_kafka_conf_set(conf, p->name, p->value, err, sizeof(err)) != RD_KAFKA_CONF_OK) {
            snprintf(errstr, errstr_size, "%s: %s", p->env, err);
            return -1;
        }
    }
    return 0;
}

void bl_config_print_table(FILE *out, int markdown)
{
    if (markdown) {
        fprintf(out, "| Variable | Default | Description |\n|---|---|---|\n");
        for (size_t i = 0; i < NVARS; i++) {
            const char *def = vars[i].def;
            if (vars[i].type == T_DIR)
                def = "the shipped config/";
            int code = def && *def && vars[i].type != T_DIR;
            fprintf(out, "| `%s` | %s%s%s | %s |\n", vars[i].name, code ? "`" : "",
                    !def   ? "(required)"
                    : *def ? def
                           : "(empty)",
                    code ? "`" : "", vars[i].desc);
        }
        fprintf(out,
                "| `BYLINE_KAFKA_<PROPERTY>` | librdkafka's | Any librdkafka property, dots as "
                "underscores (`BYLINE_KAFKA_SECURITY_PROTOCOL` sets `security.protocol`); "
                "`BYLINE_KAFKA_CONSUMER_*` / `BYLINE_KAFKA_PRODUCER_*` set it for one client "
                "only; `*_FILE` reads the value from a file. |\n");
        return;
    }
    for (size_t i = 0; i < NVARS; i++) {
        fprintf(out, "  %-28s %s\n  %-28s default: %s\n", vars[i].name, vars[i].desc, "",
                vars[i].def ? (*vars[i].def ? vars[i].def : "(empty)") : "(required)");
    }
    fprintf(out, "  %-28s %s\n", "BYLINE_KAFKA_<PROPERTY>",
            "any librdkafka property, dots as underscores (BYLINE_KAFKA_SECURITY_PROTOCOL)");
}
