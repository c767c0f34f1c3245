/*
 * sources: who published and who supplied an article. Finds the publisher
 * (article metadata, else the URL host through a mapping), the wire agencies
 * credited ("AFP contributed reporting", "(Reuters) -"), the dateline places
 * ("WILMINGTON/MOSCOW •") and the outlets cited in the text ("told Sky
 * News"). All lists are data files under config/sources/, loaded once by
 * bl_sources_new(); the extractor is read-only afterwards (any thread).
 *
 * How: one pass over the text looks every word up in a hash of alias first
 * words (most words are rejected on their first three bytes first); each
 * hit is then classified by its context: a credit context makes it a
 * credited agency, a cue phrase ("told", "according to", "had reported") a
 * cited outlet, anything else is ignored. Datelines are parsed at the
 * paragraph starts that have a separator close enough to end one.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "enrich/enrich.h"

enum { KIND_AGENCY = 1, KIND_OUTLET = 2 };

typedef struct src_entry {
    const char *name; /* canonical */
    int kind;
    int credit_only; /* generic credit ("With agencies"): never cited */
} src_entry_t;

typedef struct src_alias {
    const char *text;
    size_t len;
    uint64_t key; /* hash of the case-folded first word */
    uint32_t entry;
} src_alias_t;

typedef struct src_slot {
    uint64_t key;          /* 0 = empty */
    uint32_t first, count; /* range in the sorted alias array */
} src_slot_t;

typedef struct src_host {
    const char *host;
    const char *publisher;
    uint32_t order; /* later files win */
} src_host_t;

typedef struct src_signature {
    const char *agency, *opening, *later;
    size_t opening_len, later_len;
} src_signature_t;

/* Word lists are short, but in_list() runs on most paragraph openings: an
 * indexed list is sorted by length so a look-up compares only the words of
 * the right length. */
#define SRC_LEN_BUCKETS 32

/* Filters: a bit per filter_bit() of three bytes. */
#define SRC_FILTER_BITS 32768

/* Cue phrases by cue_bucket() of two of their bytes. */
#define SRC_CUE_BUCKETS 1024
typedef struct src_cue_index {
    uint32_t start[SRC_CUE_BUCKETS + 1]; /* bucket b: cue[start[b]] .. cue[start[b + 1] - 1] */
    uint32_t *cue;                       /* indices into the list, in list order per bucket */
} src_cue_index_t;

typedef struct src_strs {
    const char **v;
    size_t *len;
    size_t n, cap;
    /* After strs_index(): the words of length L < SRC_LEN_BUCKETS - 1 are
     * [by_len[L], by_len[L + 1]); longer ones start at by_len[SRC_LEN_BUCKETS - 1]. */
    size_t by_len[SRC_LEN_BUCKETS];
    /* filter_bit(first byte, second byte or 0, length) of every word. */
    uint8_t filter[SRC_FILTER_BITS / 8];
    unsigned char first[256]; /* first bytes of the words, in either case */
} src_strs_t;

struct bl_sources {
    char **buffers; /* file contents; every string below points into them */
    size_t nbuffers;

    src_entry_t *entries;
    size_t nentries, entries_cap;
    src_alias_t *aliases;
    size_t naliases, aliases_cap;
    src_slot_t *slots;
    size_t nslots; /* power of two */
    /* separators are grouped by first byte: those opening with byte c are
     * [separator_from[c], separator_from[c + 1]). */
    uint32_t separator_from[257];
    char separator_firsts[256]; /* the bytes that open a separator, listed */
    size_t nseparator_firsts;
    /* For hashing a word as key_hash() does: FOLD(byte) for a byte that
     * continues a word, 0 for one that ends it, 1 for a lead byte that
     * utf8_punct_len() must decide. */
    unsigned char key_byte[256];
    /* Indexed by two_bytes() of the opening of an alias, as written and in
     * upper case: bit (third byte & 7), all bits for two-byte aliases. A
     * word that opens no alias is rejected before its first word is hashed. */
    uint8_t opening[65536];
    /* Cues by the two bytes that open them ("after", "skip") or close them
     * ("before"): each hit compares only the cues that could match. */
    src_cue_index_t cue_after_index, cue_skip_index, cue_before_index;

    src_host_t *hosts;
    size_t nhosts, hosts_cap;

    src_signature_t *signatures;
    size_t nsignatures, signatures_cap;

    src_strs_t credit_words, cue_before, cue_after, cue_skip;
    src_strs_t separators, months, lower_words, stop_words;
};

/* ---------------------------------------------------------------- UTF-8 */

/** @returns the byte length of a UTF-8 punctuation or space character at
 *  @p p (Latin-1 punctuation, General Punctuation, CJK punctuation), else 0. */
static size_t utf8_punct_len(const unsigned char *p)
{
    if (p[0] == 0xC2 && p[1] >= 0xA0 && p[1] <= 0xBF)
        return 2;
    if (p[0] == 0xC3 && (p[1] == 0x97 || p[1] == 0xB7))
        return 2;
    if (p[0] == 0xE2 && p[1] >= 0x80 && p[1] <= 0x81 && p[2])
        return 3; /* U+2000..U+207F */
    if (p[0] == 0xE3 && p[1] == 0x80 && p[2])
        return 3; /* U+3000..U+303F */
    return 0;
}

/* ASCII classes without the locale (the ctype calls cost more than the scan).
 * Bytes >= 0x80 are letters unless utf8_punct_len() says otherwise. */
enum { C_DIGIT = 1, C_UPPER = 2, C_LOWER = 4, C_HIGH = 8, C_PUNCT_LEAD = 16 };
/* C_PUNCT_LEAD: the lead bytes utf8_punct_len() may accept. */
static const unsigned char char_class[256] = {
    ['0' ... '9'] = C_DIGIT,
    ['A' ... 'Z'] = C_UPPER,
    ['a' ... 'z'] = C_LOWER,
    [0x80 ... 0xC1] = C_HIGH,
    [0xC2 ... 0xC3] = C_HIGH | C_PUNCT_LEAD,
    [0xC4 ... 0xE1] = C_HIGH,
    [0xE2 ... 0xE3] = C_HIGH | C_PUNCT_LEAD,
    [0xE4 ... 0xFF] = C_HIGH,
};
#define IS_ALNUM(c) (char_class[(unsigned char)(c)] & (C_DIGIT | C_UPPER | C_LOWER))
#define IS_ALPHA(c) (char_class[(unsigned char)(c)] & (C_UPPER | C_LOWER))
#define IS_UPPER(c) (char_class[(unsigned char)(c)] & C_UPPER)
#define IS_LOWER(c) (char_class[(unsigned char)(c)] & C_LOWER)
#define IS_DIGIT(c) (char_class[(unsigned char)(c)] & C_DIGIT)
#define FOLD(c)     ((unsigned char)(IS_UPPER(c) ? (c) | 0x20 : (c)))

static inline int is_word_at(const char *s, size_t i)
{
    unsigned char c = (unsigned char)s[i];
    if (c < 0xC0)
        return char_class[c] != 0; /* ASCII alnum, or a continuation byte */
    return utf8_punct_len((const unsigned char *)s + i) == 0;
}

/** Is the character that ends just before @p i a word character? */
static int is_word_before(const char *s, size_t i)
{
    if (i == 0)
        return 0;
    size_t j = i - 1;
    while (j > 0 && ((unsigned char)s[j] & 0xC0) == 0x80)
        j--;
    return is_word_at(s, j);
}

static size_t word_end(const char *s, size_t len, size_t i)
{
    while (i < len && is_word_at(s, i))
        i++;
    return i;
}

static uint64_t key_hash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= FOLD(s[i]);
        h *= 1099511628211ULL;
    }
    return h ? h : 1;
}

/** Filter bit of three bytes: their low five bits, which an ASCII letter
 *  shares with its other case, so one bit serves both cases. */
static inline unsigned filter_bit(char a, char b, char c)
{
    return ((unsigned)a & 31) << 10 | ((unsigned)b & 31) << 5 | ((unsigned)c & 31);
}

/** The two bytes at @p p as one index (in the machine's byte order, which
 *  only has to agree with itself). */
static inline unsigned two_bytes(const char *p)
{
    uint16_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

static inline void filter_set(uint8_t *bits, unsigned bit)
{
    bits[bit >> 3] |= (uint8_t)(1u << (bit & 7));
}

static inline int filter_test(const uint8_t *bits, unsigned bit)
{
    return bits[bit >> 3] & (1u << (bit & 7));
}

/** Bucket of a cue by two of its bytes, on their low five bits, which
 *  ci_equal() cannot tell from an ASCII letter's other case. */
static inline unsigned cue_bucket(char first, char second)
{
    return ((unsigned)first & 31) << 5 | ((unsigned)second & 31);
}

static int ci_equal(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (FOLD(a[i]) != FOLD(b[i]))
            return 0;
    return 1;
}

/* ------------------------------------------------------------- loading */

static void set_err(char *errstr, size_t errstr_size, const char *fmt, ...)
{
    if (!errstr || !errstr_size)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errstr, errstr_size, fmt, ap);
    va_end(ap);
}

static int grow(void **v, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 16;
    while (ncap < need)
        ncap *= 2;
    void *nv = realloc(*v, ncap * elem);
    if (!nv)
        return -1;
    *v = nv;
    *cap = ncap;
    return 0;
}

static int strs_add(src_strs_t *s, const char *str)
{
    if (s->n == s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 16;
        const char **nv = realloc(s->v, ncap * sizeof(*nv));
        if (!nv)
            return -1;
        s->v = nv;
        size_t *nl = realloc(s->len, ncap * sizeof(*nl));
        if (!nl)
            return -1;
        s->len = nl;
        s->cap = ncap;
    }
    s->v[s->n] = str;
    s->len[s->n] = strlen(str);
    s->n++;
    return 0;
}

/* One step of an insertion sort: word j and word j - 1 trade places. */
static void swap_with_previous(src_strs_t *s, size_t j)
{
    const char *word = s->v[j];
    size_t len = s->len[j];
    s->v[j] = s->v[j - 1];
    s->len[j] = s->len[j - 1];
    s->v[j - 1] = word;
    s->len[j - 1] = len;
}

/** Sorts @p s by length (stable) and fills its by_len index for in_list(). */
static void strs_index(src_strs_t *s)
{
    for (size_t i = 1; i < s->n; i++)
        for (size_t j = i; j > 0 && s->len[j] < s->len[j - 1]; j--)
            swap_with_previous(s, j);
    for (size_t i = 0; i < s->n; i++) {
        unsigned char c = (unsigned char)s->v[i][0];
        s->first[c] = s->first[FOLD(c)] = s->first[toupper(c)] = 1;
    }
    for (size_t i = 0; i < s->n; i++)
        filter_set(s->filter,
                   filter_bit(s->v[i][0], s->len[i] > 1 ? s->v[i][1] : 0, (char)s->len[i]));
    size_t k = 0;
    for (size_t bucket = 0; bucket < SRC_LEN_BUCKETS; bucket++) {
        while (k < s->n && s->len[k] < bucket)
            k++;
        s->by_len[bucket] = k;
    }
}

/**
 * Indexes the phrases of @p list by their first two bytes (@p backwards:
 * their last two, last first). A one-byte phrase goes in every bucket of its
 * byte. @returns -1 on allocation failure.
 */
static int cue_index_build(src_cue_index_t *idx, const src_strs_t *list, int backwards)
{
    size_t total = 0;
    for (int pass = 0; pass < 2; pass++) {
        total = 0;
        for (unsigned b = 0; b < SRC_CUE_BUCKETS; b++) {
            idx->start[b] = (uint32_t)total;
            for (size_t k = 0; k < list->n; k++) {
                const char *v = list->v[k];
                size_t n = list->len[k];
                char first = backwards ? v[n - 1] : v[0];
                int in = n == 1 ? cue_bucket(first, 0) >> 5 == b >> 5
                                : cue_bucket(first, backwards ? v[n - 2] : v[1]) == b;
                if (in && pass == 1)
                    idx->cue[total] = (uint32_t)k;
                total += in != 0;
            }
        }
        idx->start[SRC_CUE_BUCKETS] = (uint32_t)total;
        if (pass == 0 && !(idx->cue = malloc((total ? total : 1) * sizeof(uint32_t))))
            return -1;
    }
    return 0;
}

static void strs_free(src_strs_t *s)
{
    free(s->v);
    free(s->len);
}

/** @returns the offset of the first byte that is not valid UTF-8 (or a NUL),
 *  or @p len. Names go into JSON strings, which must be valid UTF-8. */
static size_t utf8_invalid_at(const char *buf, size_t len)
{
    const unsigned char *p = (const unsigned char *)buf;
    for (size_t i = 0; i < len;) {
        unsigned char c = p[i];
        size_t n = c < 0x80             ? 1
                   : (c & 0xE0) == 0xC0 ? 2
                   : (c & 0xF0) == 0xE0 ? 3
                   : (c & 0xF8) == 0xF0 ? 4
                                        : 0;
        if (!n || c == 0 || c == 0xC0 || c == 0xC1 || c > 0xF4 || i + n > len)
            return i;
        for (size_t k = 1; k < n; k++)
            if ((p[i + k] & 0xC0) != 0x80)
                return i;
        i += n;
    }
    return len;
}

/** Reads @p path into a NUL-terminated buffer the sources keep. */
static char *read_file(bl_sources_t *src, const char *path, char *errstr, size_t errstr_size)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        set_err(errstr, errstr_size, "sources: cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                set_err(errstr, errstr_size, "sources: out of memory reading %s", path);
                return NULL;
            }
            buf = nb;
        }
        size_t n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        if (n == 0)
            break;
    }
    int failed = ferror(f);
    fclose(f);
    if (failed) {
        free(buf);
        set_err(errstr, errstr_size, "sources: cannot read %s", path);
        return NULL;
    }
    buf[len] = '\0';
    size_t bad = utf8_invalid_at(buf, len);
    if (bad < len) {
        free(buf);
        set_err(errstr, errstr_size, "sources: %s: invalid UTF-8 at byte %zu", path, bad);
        return NULL;
    }
    char **nb = realloc(src->buffers, (src->nbuffers + 1) * sizeof(*nb));
    if (!nb) {
        free(buf);
        set_err(errstr, errstr_size, "sources: out of memory");
        return NULL;
    }
    src->buffers = nb;
    src->buffers[src->nbuffers++] = buf;
    return buf;
}

/**
 * Splits the next non-comment line of @p *cursor into TAB-separated fields
 * (in place). @returns the number of fields (0 at end of file).
 */
static size_t next_line(char **cursor, char **fields, size_t max_fields)
{
    for (;;) {
        char *line = *cursor;
        if (!*line)
            return 0;
        char *nl = strchr(line, '\n');
        if (nl) {
            *nl = '\0';
            *cursor = nl + 1;
        } else {
            *cursor = line + strlen(line);
        }
        size_t l = strlen(line);
        if (l && line[l - 1] == '\r')
            line[--l] = '\0';
        if (!l || line[0] == '#')
            continue;
        size_t n = 0;
        char *p = line;
        while (n < max_fields) {
            char *tab = strchr(p, '\t');
            if (tab)
                *tab = '\0';
            if (*p)
                fields[n++] = p;
            if (!tab)
                break;
            p = tab + 1;
        }
        if (n)
            return n;
    }
}

static int add_alias(bl_sources_t *src, const char *text, uint32_t entry)
{
    if (!strncmp(text, "The ", 4) && text[4])
        text += 4; /* "The" is optional in the text; matched separately */
    size_t len = strlen(text);
    if (len < 2 || !is_word_at(text, 0))
        return 0; /* one-letter names would match everywhere */
    for (size_t i = 0; i < src->naliases; i++)
        if (src->aliases[i].entry == entry && src->aliases[i].len == len &&
            !memcmp(src->aliases[i].text, text, len))
            return 0;
    if (grow((void **)&src->aliases, &src->aliases_cap, src->naliases + 1, sizeof(src_alias_t)))
        return -1;
    src_alias_t *a = &src->aliases[src->naliases++];
    a->text = text;
    a->len = len;
    a->key = key_hash(text, word_end(text, len, 0));
    a->entry = entry;
    /* The text matches an alias as written or in ALL CAPS (alias_matches());
     * upper case leaves (byte & 7) as it is. */
    unsigned char c0 = (unsigned char)text[0], c1 = (unsigned char)text[1];
    unsigned char third_bits = len == 2 ? 0xFF : (unsigned char)(1u << (text[2] & 7));
    const char as_written[2] = {(char)c0, (char)c1},
               upper[2] = {(char)toupper(c0), (char)toupper(c1)};
    src->opening[two_bytes(as_written)] |= third_bits;
    src->opening[two_bytes(upper)] |= third_bits;
    return 0;
}

static int load_names(bl_sources_t *src, const char *path, int kind, char *errstr,
                      size_t errstr_size)
{
    char *cursor = read_file(src, path, errstr, errstr_size);
    if (!cursor)
        return -1;
    char *fields[64];
    size_t n;
    while ((n = next_line(&cursor, fields, 64)) > 0) {
        if (grow((void **)&src->entries, &src->entries_cap, src->nentries + 1, sizeof(src_entry_t)))
            goto oom;
        src_entry_t *e = &src->entries[src->nentries];
        e->credit_only = fields[0][0] == '!';
        e->name = fields[0] + e->credit_only;
        e->kind = kind;
        uint32_t idx = (uint32_t)src->nentries++;
        if (add_alias(src, e->name, idx))
            goto oom;
        for (size_t i = 1; i < n; i++)
            if (add_alias(src, fields[i], idx))
                goto oom;
    }
    return 0;
oom:
    set_err(errstr, errstr_size, "sources: out of memory loading %s", path);
    return -1;
}

static int load_hosts(bl_sources_t *src, const char *path, char *errstr, size_t errstr_size)
{
    char *cursor = read_file(src, path, errstr, errstr_size);
    if (!cursor)
        return -1;
    char *fields[4];
    size_t n;
    while ((n = next_line(&cursor, fields, 4)) > 0) {
        if (n < 2) {
            set_err(errstr, errstr_size, "sources: %s: line for \"%s\" has no publisher", path,
                    fields[0]);
            return -1;
        }
        for (char *p = fields[0]; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        if (grow((void **)&src->hosts, &src->hosts_cap, src->nhosts + 1, sizeof(src_host_t))) {
            set_err(errstr, errstr_size, "sources: out of memory");
            return -1;
        }
        src->hosts[src->nhosts].host = fields[0];
        src->hosts[src->nhosts].publisher = fields[1];
        src->hosts[src->nhosts].order = (uint32_t)src->nhosts;
        src->nhosts++;
    }
    return 0;
}

static int load_keyed_lists(bl_sources_t *src, const char *path, const char *const *keys,
                            src_strs_t *const *lists, size_t nkeys, char *errstr,
                            size_t errstr_size)
{
    char *cursor = read_file(src, path, errstr, errstr_size);
    if (!cursor)
        return -1;
    char *fields[128];
    size_t n;
    while ((n = next_line(&cursor, fields, 128)) > 0) {
        size_t k = 0;
        while (k < nkeys && strcmp(fields[0], keys[k]))
            k++;
        if (k == nkeys) {
            set_err(errstr, errstr_size, "sources: %s: unknown line kind \"%s\"", path, fields[0]);
            return -1;
        }
        for (size_t i = 1; i < n; i++)
            if (strs_add(lists[k], fields[i])) {
                set_err(errstr, errstr_size, "sources: out of memory");
                return -1;
            }
    }
    return 0;
}

static int load_words(bl_sources_t *src, const char *path, src_strs_t *list, char *errstr,
                      size_t errstr_size)
{
    char *cursor = read_file(src, path, errstr, errstr_size);
    if (!cursor)
        return -1;
    char *fields[1];
    while (next_line(&cursor, fields, 1) > 0)
        if (strs_add(list, fields[0])) {
            set_err(errstr, errstr_size, "sources: out of memory");
            return -1;
        }
    return 0;
}

static int load_signatures(bl_sources_t *src, const char *path, char *errstr, size_t errstr_size)
{
    char *cursor = read_file(src, path, errstr, errstr_size);
    if (!cursor)
        return -1;
    char *fields[3];
    size_t n;
    while ((n = next_line(&cursor, fields, 3)) > 0) {
        if (n < 3) {
            set_err(errstr, errstr_size, "sources: %s: \"%s\" needs agency, opening, later", path,
                    fields[0]);
            return -1;
        }
        if (grow((void **)&src->signatures, &src->signatures_cap, src->nsignatures + 1,
                 sizeof(src_signature_t))) {
            set_err(errstr, errstr_size, "sources: out of memory");
            return -1;
        }
        src_signature_t *s = &src->signatures[src->nsignatures++];
        s->agency = fields[0];
        s->opening = fields[1];
        s->later = fields[2];
        s->opening_len = strlen(s->opening);
        s->later_len = strlen(s->later);
    }
    return 0;
}

static int alias_cmp(const void *pa, const void *pb)
{
    const src_alias_t *a = pa, *b = pb;
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    if (a->len != b->len)
        return a->len > b->len ? -1 : 1; /* longest first */
    return a->entry < b->entry ? -1 : a->entry > b->entry;
}

static int host_cmp(const void *pa, const void *pb)
{
    const src_host_t *a = pa, *b = pb;
    int c = strcmp(a->host, b->host);
    if (c)
        return c;
    return a->order > b->order ? -1 : a->order < b->order; /* latest first */
}

static int build_index(bl_sources_t *src)
{
    qsort(src->aliases, src->naliases, sizeof(src_alias_t), alias_cmp);
    src->nslots = 64;
    while (src->nslots < src->naliases * 2)
        src->nslots *= 2;
    src->slots = calloc(src->nslots, sizeof(src_slot_t));
    if (!src->slots)
        return -1;
    for (size_t i = 0; i < src->naliases;) {
        size_t j = i;
        while (j < src->naliases && src->aliases[j].key == src->aliases[i].key)
            j++;
        size_t s = src->aliases[i].key & (src->nslots - 1);
        while (src->slots[s].key)
            s = (s + 1) & (src->nslots - 1);
        src->slots[s].key = src->aliases[i].key;
        src->slots[s].first = (uint32_t)i;
        src->slots[s].count = (uint32_t)(j - i);
        i = j;
    }
    /* Host table: sorted, duplicates dropped keeping the latest line. */
    qsort(src->hosts, src->nhosts, sizeof(src_host_t), host_cmp);
    size_t out = 0;
    for (size_t i = 0; i < src->nhosts; i++)
        if (!out || strcmp(src->hosts[out - 1].host, src->hosts[i].host))
            src->hosts[out++] = src->hosts[i];
    src->nhosts = out;
    return 0;
}

bl_sources_t *bl_sources_new(const char *config_dir, const char *publisher_map, char *errstr,
                             size_t errstr_size)
{
    bl_sources_t *src = calloc(1, sizeof(*src));
    if (!src) {
        set_err(errstr, errstr_size, "sources: out of memory");
        return NULL;
    }
    char path[4096];
#define SRC_PATH(file) (snprintf(path, sizeof(path), "%s/sources/%s", config_dir, file), path)
    static const char *const cue_keys[] = {"before", "after", "skip"};
    src_strs_t *const cue_lists[] = {&src->cue_before, &src->cue_after, &src->cue_skip};
    static const char *const dl_keys[] = {"separator", "month", "lower", "stop"};
    src_strs_t *const dl_lists[] = {&src->separators, &src->months, &src->lower_words,
                                    &src->stop_words};
    if (load_names(src, SRC_PATH("agencies.tsv"), KIND_AGENCY, errstr, errstr_size) ||
        load_names(src, SRC_PATH("outlets.tsv"), KIND_OUTLET, errstr, errstr_size) ||
        load_hosts(src, SRC_PATH("publishers.tsv"), errstr, errstr_size) ||
        (publisher_map && *publisher_map && load_hosts(src, publisher_map, errstr, errstr_size)) ||
        load_words(src, SRC_PATH("credit_words.txt"), &src->credit_words, errstr, errstr_size) ||
        load_keyed_lists(src, SRC_PATH("cues.tsv"), cue_keys, cue_lists, 3, errstr, errstr_size) ||
        load_keyed_lists(src, SRC_PATH("datelines.tsv"), dl_keys, dl_lists, 4, errstr,
                         errstr_size) ||
        load_signatures(src, SRC_PATH("signatures.tsv"), errstr, errstr_size))
        goto fail;
#undef SRC_PATH
    if (!src->naliases || !src->separators.n) {
        set_err(errstr, errstr_size, "sources: %s/sources has no agencies or no separators",
                config_dir);
        goto fail;
    }
    if (build_index(src)) {
        set_err(errstr, errstr_size, "sources: out of memory");
        goto fail;
    }
    /* Longest separator first, so "--" wins over "-"; then (stable) grouped
     * by first byte, as only those can match at a byte. */
    for (size_t i = 1; i < src->separators.n; i++)
        for (size_t j = i; j > 0 && src->separators.len[j] > src->separators.len[j - 1]; j--)
            swap_with_previous(&src->separators, j);
    for (size_t i = 1; i < src->separators.n; i++)
        for (size_t j = i; j > 0 && (unsigned char)src->separators.v[j][0] <
                                        (unsigned char)src->separators.v[j - 1][0];
             j--)
            swap_with_previous(&src->separators, j);
    for (unsigned c = 0; c < 256; c++)
        src->key_byte[c] = c >= 0xC0 && (char_class[c] & C_PUNCT_LEAD) ? 1
                           : c >= 0xC0 || char_class[c]                ? FOLD(c)
                                                                       : 0;
    for (unsigned c = 0, k = 0; c < 256; c++) {
        src->separator_from[c] = k;
        while (k < src->separators.n && (unsigned char)src->separators.v[k][0] == c)
            k++;
        if (k > src->separator_from[c])
            src->separator_firsts[src->nseparator_firsts++] = (char)c;
    }
    src->separator_from[256] = (uint32_t)src->separators.n;
    if (cue_index_build(&src->cue_before_index, &src->cue_before, 1) ||
        cue_index_build(&src->cue_after_index, &src->cue_after, 0) ||
        cue_index_build(&src->cue_skip_index, &src->cue_skip, 0)) {
        set_err(errstr, errstr_size, "sources: out of memory");
        goto fail;
    }
    strs_index(&src->credit_words);
    strs_index(&src->months);
    strs_index(&src->lower_words);
    strs_index(&src->stop_words);
    return src;
fail:
    bl_sources_destroy(src);
    return NULL;
}

void bl_sources_destroy(bl_sources_t *src)
{
    if (!src)
        return;
    for (size_t i = 0; i < src->nbuffers; i++)
        free(src->buffers[i]);
    free(src->buffers);
    free(src->entries);
    free(src->aliases);
    free(src->slots);
    free(src->hosts);
    free(src->signatures);
    free(src->cue_before_index.cue);
    free(src->cue_after_index.cue);
    free(src->cue_skip_index.cue);
    strs_free(&src->credit_words);
    strs_free(&src->cue_before);
    strs_free(&src->cue_after);
    strs_free(&src->cue_skip);
    strs_free(&src->separators);
    strs_free(&src->months);
    strs_free(&src->lower_words);
    strs_free(&src->stop_words);
    free(src);
}

/* ------------------------------------------------------------ matching */

typedef struct src_match {
    uint32_t start, end; /* surface, including a leading "The " */
    uint32_t name_start; /* without it */
    uint32_t entry;
} src_match_t;

typedef struct src_span {
    uint32_t start, end;
    const char *name;
} src_span_t;

/** Growable vector with a small inline buffer; extraction must not allocate
 *  for ordinary articles. */
#define SRC_INLINE 32
typedef struct src_vec {
    void *v;
    size_t n, cap, elem;
    unsigned char inline_buf[SRC_INLINE * 16];
} src_vec_t;

static void vec_init(src_vec_t *vec, size_t elem)
{
    vec->v = vec->inline_buf;
    vec->n = 0;
    vec->elem = elem;
    vec->cap = sizeof(vec->inline_buf) / elem;
}

static void *vec_push(src_vec_t *vec)
{
    if (vec->n == vec->cap) {
        size_t ncap = vec->cap * 2;
        void *nv = malloc(ncap * vec->elem);
        if (!nv)
            return NULL;
        memcpy(nv, vec->v, vec->n * vec->elem);
        if (vec->v != vec->inline_buf)
            free(vec->v);
        vec->v = nv;
        vec->cap = ncap;
    }
    return (char *)vec->v + vec->elem * vec->n++;
}

static void vec_free(src_vec_t *vec)
{
    if (vec->v != vec->inline_buf)
        free(vec->v);
}

/** Is the word [w, w + n) in the list @p l (indexed by strs_index())? */
static int in_list(const src_strs_t *l, const char *w, size_t n, int case_insensitive)
{
    if (!n || !filter_test(l->filter, filter_bit(w[0], n > 1 ? w[1] : 0, (char)n)))
        return 0; /* most words */
    size_t k = n < SRC_LEN_BUCKETS - 1 ? l->by_len[n] : l->by_len[SRC_LEN_BUCKETS - 1];
    size_t stop = n < SRC_LEN_BUCKETS - 1 ? l->by_len[n + 1] : l->n;
    for (; k < stop; k++)
        if (l->len[k] == n && (case_insensitive ? ci_equal(w, l->v[k], n) : !memcmp(w, l->v[k], n)))
            return 1;
    return 0;
}

/** Does @p alias match the text at @p i, as written or in ALL CAPS? */
static int alias_matches(const src_alias_t *a, const char *text, size_t len, size_t i)
{
    if (i + a->len > len)
        return 0;
    if (is_word_at(text, i + a->len - 1) && i + a->len < len && is_word_at(text, i + a->len))
        return 0; /* would end inside a word */
    if (!memcmp(text + i, a->text, a->len))
        return 1;
    /* ALL CAPS: most misses have a lower-case letter early, so look first. */
    int letters = 0;
    for (size_t k = 0; k < a->len; k++) {
        unsigned char c = (unsigned char)text[i + k];
        if (IS_LOWER(c))
            return 0;
        letters += IS_UPPER(c) != 0;
    }
    return letters >= 2 && ci_equal(text + i, a->text, a->len);
}

/** @p key: key_hash() of the word at @p i. */
static const src_alias_t *lookup(const bl_sources_t *src, const char *text, size_t len, size_t i,
                                 uint64_t key)
{
    size_t s = key & (src->nslots - 1);
    while (src->slots[s].key) {
        if (src->slots[s].key == key) {
            const src_alias_t *a = src->aliases + src->slots[s].first;
            for (uint32_t k = 0; k < src->slots[s].count; k++)
                if (alias_matches(&a[k], text, len, i))
                    return &a[k];
            return NULL;
        }
        s = (s + 1) & (src->nslots - 1);
    }
    return NULL;
}

static size_t skip_spaces(const char *text, size_t len, size_t i)
{
    while (i < len && text[i] == ' ')
        i++;
    return i;
}

static size_t skip_spaces_back(const char *text, size_t i)
{
    while (i > 0 && text[i - 1] == ' ')
        i--;
    return i;
}

/** @returns the length of the separator at @p i (followed by a space or the
 *  end of the paragraph), or 0. */
static size_t separator_at(const bl_sources_t *src, const char *text, size_t len, size_t i)
{
    if (i >= len)
        return 0;
    unsigned char c = (unsigned char)text[i];
    for (size_t k = src->separator_from[c]; k < src->separator_from[c + 1]; k++) {
        size_t n = src->separators.len[k];
        if (i + n > len)
            continue;
        const char *sep = src->separators.v[k];
        size_t m = 0; /* separators are a few bytes: no memcmp() call */
        while (m < n && text[i + m] == sep[m])
            m++;
        if (m == n && (i + n == len || text[i + n] == ' ' || text[i + n] == '\n'))
            return n;
    }
    return 0;
}

/*
 * The next occurrence of each byte that opens a separator
 * (src->separator_firsts) at or after the last paragraph tested. Paragraphs
 * are tested in text order, so each byte is searched for once over the
 * text rather than once per paragraph.
 */
typedef struct src_separator_cursor {
    size_t next[256]; /* offsets into the text; its length when there is none */
} src_separator_cursor_t;

static size_t next_byte(const char *text, size_t len, size_t from, char c)
{
    const char *p = memchr(text + from, c, len - from);
    return p ? (size_t)(p - text) : len;
}

static void separator_cursor_init(const bl_sources_t *src, const char *text, size_t len,
                                  src_separator_cursor_t *cur)
{
    for (size_t k = 0; k < src->nseparator_firsts; k++)
        cur->next[k] = next_byte(text, len, 0, src->separator_firsts[k]);
}

/** Does a separator of the paragraph ending at @p pe start in [s, e)? @p s
 *  must not be below that of the previous call with @p cur. */
static int has_separator(const bl_sources_t *src, const char *text, size_t len, size_t pe, size_t s,
                         size_t e, src_separator_cursor_t *cur)
{
    for (size_t k = 0; k < src->nseparator_firsts; k++) {
        char c = src->separator_firsts[k];
        size_t *next = &cur->next[k];
        if (*next < s)
            *next = next_byte(text, len, s, c);
        for (; *next < e; *next = next_byte(text, len, *next + 1, c))
            if (separator_at(src, text, pe, *next))
                return 1;
    }
    return 0;
}

static int phrase_at(const char *text, size_t len, size_t i, const char *phrase, size_t n)
{
    return i + n <= len && ci_equal(text + i, phrase, n) &&
           (i + n == len || !is_word_at(text, i + n));
}

/** @returns the index in @p list of the first of its phrases at @p q, or -1. */
static long cue_at(const src_cue_index_t *idx, const src_strs_t *list, const char *text, size_t len,
                   size_t q)
{
    if (q >= len)
        return -1;
    unsigned b = cue_bucket(text[q], q + 1 < len ? text[q + 1] : 0);
    for (uint32_t i = idx->start[b]; i < idx->start[b + 1]; i++) {
        uint32_t k = idx->cue[i];
        if (phrase_at(text, len, q, list->v[k], list->len[k]))
            return (long)k;
    }
    return -1;
}

static int has_before_cue(const bl_sources_t *src, const char *text, size_t pos)
{
    size_t q = skip_spaces_back(text, pos);
    if (q >= 3 && ci_equal(text + q - 3, "the", 3) && !is_word_before(text, q - 3))
        q = skip_spaces_back(text, q - 3);
    if (q == 0)
        return 0;
    const src_cue_index_t *idx = &src->cue_before_index;
    unsigned b = cue_bucket(text[q - 1], q > 1 ? text[q - 2] : 0);
    for (uint32_t i = idx->start[b]; i < idx->start[b + 1]; i++) {
        size_t n = src->cue_before.len[idx->cue[i]];
        if (q >= n && ci_equal(text + q - n, src->cue_before.v[idx->cue[i]], n) &&
            !is_word_before(text, q - n))
            return 1;
    }
    return 0;
}

static int has_after_cue(const bl_sources_t *src, const char *text, size_t len, size_t pos)
{
    size_t q = skip_spaces(text, len, pos);
    for (int round = 0; round < 2; round++) {
        long k = cue_at(&src->cue_skip_index, &src->cue_skip, text, len, q);
        if (k < 0)
            break;
        q = skip_spaces(text, len, q + src->cue_skip.len[k]);
    }
    return cue_at(&src->cue_after_index, &src->cue_after, text, len, q) >= 0;
}

/**
 * Is [s, e) a credit line: agency names and credit words only, at least one
 * agency ("REUTERS, AGENCE FRANCE-PRESSE", "AFP contributed reporting")?
 */
#define SRC_CREDIT_MAX 240 /* bytes in a credit line */

static int is_credit_segment(const bl_sources_t *src, const char *text, size_t s, size_t e,
                             const src_match_t *m, size_t nm)
{
    if (e - s > SRC_CREDIT_MAX)
        return 0;
    int agencies = 0;
    size_t mi = 0;
    while (mi < nm && m[mi].end <= s)
        mi++;
    for (size_t i = s; i < e;) {
        if (mi < nm && m[mi].start <= i && i < m[mi].end) {
            if (src->entries[m[mi].entry].kind != KIND_AGENCY)
                return 0;
            agencies++;
            i = m[mi++].end;
            continue;
        }
        if (!is_word_at(text, i)) {
            i++;
            continue;
        }
        size_t we = word_end(text, e, i);
        if (!in_list(&src->credit_words, text + i, we - i, 1))
            return 0;
        i = we;
    }
    return agencies > 0;
}

/** @returns the offset just after the last dash in [s, e) that opens a tail
 *  ("... said. — AP"), or s when there is none. */
static size_t last_dash_tail(const char *text, size_t s, size_t e)
{
    for (size_t i = e; i > s; i--) {
        size_t j = i - 1;
        if (j + 3 <= e && (unsigned char)text[j] == 0xE2 && (unsigned char)text[j + 1] == 0x80 &&
            ((unsigned char)text[j + 2] == 0x94 || (unsigned char)text[j + 2] == 0x93))
            return j + 3;
        if (text[j] == '-' && j > s && text[j - 1] == ' ' && j + 1 < e && text[j + 1] == ' ')
            return j + 1;
    }
    return s;
}

static int contains_word(const char *text, size_t s, size_t e, const char *w)
{
    size_t n = strlen(w);
    for (size_t i = s; i + n <= e; i++)
        if ((text[i] == w[0] || text[i] == toupper((unsigned char)w[0])) &&
            ci_equal(text + i, w, n) && !is_word_before(text, i) &&
            (i + n == e || !is_word_at(text, i + n)))
            return 1;
    return 0;
}

enum { CLASS_NONE, CLASS_CREDIT, CLASS_CITED };

static int classify(const bl_sources_t *src, const char *text, size_t len, const src_match_t *m,
                    const src_match_t *all, size_t nall, size_t ps, size_t pe)
{
    const src_entry_t *e = &src->entries[m->entry];
    if (e->kind == KIND_AGENCY) {
        /* The whole paragraph, or its tail after a dash, is a credit line. */
        if (is_credit_segment(src, text, ps, pe, all, nall))
            return CLASS_CREDIT;
        /* A dash further back opens a tail too long for a credit line. */
        size_t tail =
            last_dash_tail(text, pe - ps > SRC_CREDIT_MAX + 3 ? pe - SRC_CREDIT_MAX - 3 : ps, pe);
        if (tail > ps && m->start >= tail && is_credit_segment(src, text, tail, pe, all, nall))
            return CLASS_CREDIT;
        /* "LONDON (Reuters) -", "(AP) —" near the paragraph start. */
        if (m->start - ps <= 150 && m->start > ps && text[m->start - 1] == '(' && m->end < len &&
            text[m->end] == ')' && separator_at(src, text, pe, skip_spaces(text, pe, m->end + 1)))
            return CLASS_CREDIT;
        /* "Agence France-Presse contributed to this report." */
        if (!e->credit_only && pe - ps <= 400 &&
            (contains_word(text, m->end, m->end + 120 < pe ? m->end + 120 : pe, "contributed") ||
             contains_word(text, m->end, m->end + 120 < pe ? m->end + 120 : pe, "contributing")))
            return CLASS_CREDIT;
    }
    if (e->credit_only)
        return CLASS_NONE;
    if (has_before_cue(src, text, m->start) || has_after_cue(src, text, len, m->end))
        return CLASS_CITED;
    return CLASS_NONE;
}

/* ----------------------------------------------------------- datelines */

/** Can a place word start at @p i: an upper-case letter or a two-byte letter? */
static int place_word_at(const char *text, size_t i)
{
    unsigned char c = (unsigned char)text[i];
    return IS_UPPER(c) ||
           (c >= 0xC3 && c < 0xE0 && !utf8_punct_len((const unsigned char *)text + i));
}

/** A place word: starts with an upper-case letter; letters, digits, . ' - */
static size_t place_word_end(const char *text, size_t e, size_t i, int *allcaps)
{
    if (!place_word_at(text, i))
        return i;
    unsigned char c;
    size_t j = i;
    int lower = 0, letters = 0;
    while (j < e) {
        c = (unsigned char)text[j];
        unsigned cls = char_class[c];
        if (cls & (C_DIGIT | C_UPPER | C_LOWER)) { /* most bytes: ASCII letters */
            lower |= (cls & C_LOWER) != 0;
            letters += (cls & (C_UPPER | C_LOWER)) != 0;
            j++;
            continue;
        }
        if (c == '.' || c == '\'' || c == '-') {
            if (j + 1 < e &&
                (IS_ALPHA((unsigned char)text[j + 1]) || (unsigned char)text[j + 1] >= 0xC3))
                j++;
            else if (c == '.')
                j++; /* "D.C." */
            else
                break;
            continue;
        }
        if (c < 0x80 || (c >= 0xC0 && utf8_punct_len((const unsigned char *)text + j))) {
            break; /* ASCII other than letters, digits and . ' - above; punctuation */
        } else {
            /* Latin-1 lower case (U+00DF..U+00FF) counts as lower. */
            if (c == 0xC3 && j + 1 < e && (unsigned char)text[j + 1] >= 0x9F)
                lower = 1;
            letters += c >= 0xC0;
            j++;
        }
    }
    *allcaps = letters >= 2 && !lower;
    return j;
}

/**
 * Parses a group of place words in one case style ("NEW YORK", "Rio de
 * Janeiro"). @p mode: 1 all caps, 2 title case, 0 = decide on the first word.
 * @returns the end of the group, or @p i when there is none.
 */
static size_t place_group_end(const bl_sources_t *src, const char *text, size_t e, size_t i,
                              int *mode)
{
    size_t end = i;
    for (int words = 0; words < 5; words++) {
        int allcaps = 0;
        size_t we = place_word_end(text, e, i, &allcaps);
        if (we == i) {
            /* "de" in "Rio de Janeiro": only between two place words. */
            if (words == 0 || !src->lower_words.first[(unsigned char)text[i]])
                break;
            size_t lw = word_end(text, e, i);
            if (lw == i || !in_list(&src->lower_words, text + i, lw - i, 1) || lw >= e ||
                text[lw] != ' ')
                break;
            size_t nx = lw + 1;
            int ac2 = 0;
            if (place_word_end(text, e, nx, &ac2) == nx)
                break;
            i = nx;
            continue;
        }
        int word_mode = allcaps ? 1 : 2;
        if (*mode == 0)
            *mode = word_mode;
        else if (*mode != word_mode)
            break;
        end = we;
        if (we < e && text[we] == ' ')
            i = we + 1;
        else
            break;
    }
    return end;
}

/** "Feb 2", "Feb. 2", "February 2, 2022": @returns the end or @p i. */
static size_t date_end(const bl_sources_t *src, const char *text, size_t e, size_t i)
{
    if (!src->months.first[(unsigned char)text[i]])
        return i; /* most words, before word_end() */
    size_t we = word_end(text, e, i);
    if (we == i || !in_list(&src->months, text + i, we - i, 1))
        return i;
    size_t j = we;
    if (j < e && text[j] == '.')
        j++;
    if (j >= e || text[j] != ' ')
        return i;
    j++;
    size_t d = j;
    while (j < e && IS_DIGIT((unsigned char)text[j]) && j - d < 2)
        j++;
    if (j == d || (j < e && is_word_at(text, j)))
        return i;
    if (j + 6 <= e && text[j] == ',' && text[j + 1] == ' ' &&
        IS_DIGIT((unsigned char)text[j + 2]) && IS_DIGIT((unsigned char)text[j + 5]) &&
        (j + 6 == e || !is_word_at(text, j + 6)))
        j += 6;
    return j;
}

/** Writes the display form of a place: ALL CAPS become title case. */
static size_t place_name(const bl_sources_t *src, const char *text, size_t s, size_t e, int mode,
                         char *out, size_t out_size)
{
    size_t n = e - s < out_size - 1 ? e - s : out_size - 1;
    memcpy(out, text + s, n);
    out[n] = '\0';
    if (mode != 1)
        return n;
    for (size_t i = 0, word_index = 0; i < n; word_index++) {
        while (i < n && (out[i] == ' ' || out[i] == '-'))
            i++;
        size_t we = i;
        while (we < n && out[we] != ' ' && out[we] != '-')
            we++;
        if (we == i)
            break;
        int keep = memchr(out + i, '.', we - i) != NULL; /* "D.C." */
        int lower_all = word_index > 0 && in_list(&src->lower_words, out + i, we - i, 1);
        size_t k = i;
        if (!lower_all) /* keep the first character, however long */
            for (k++; k < we && ((unsigned char)out[k] & 0xC0) == 0x80; k++)
                ;
        for (; k < we && !keep; k++) {
            unsigned char ch = (unsigned char)out[k];
            if (ch == 0xC3 && k + 1 < we) {
                unsigned char c2 = (unsigned char)out[k + 1];
                if (c2 >= 0x80 && c2 <= 0x9E && c2 != 0x97)
                    out[k + 1] = (char)(c2 + 0x20);
                k++;
            } else if (ch < 0x80) {
                out[k] = (char)tolower(ch);
            }
        }
        i = we;
    }
    return n;
}

/** @p name_checked: @p name is known to be valid UTF-8 (a name from the data
 *  files, which bl_sources_new() checked). */
static int add_span_json(json_t *arr, const char *name, size_t name_len, int name_checked,
                         size_t start, size_t end)
{
    json_t *o = json_object();
    /* _nocheck: the keys are ASCII literals, no need to validate them. */
    if (!o ||
        json_object_set_new_nocheck(o, "name",
                                    name_checked ? json_stringn_nocheck(name, name_len)
                                                 : json_stringn(name, name_len)) ||
        json_object_set_new_nocheck(o, "start", json_integer((json_int_t)start)) ||
        json_object_set_new_nocheck(o, "end", json_integer((json_int_t)end)) ||
        json_array_append_new(arr, o)) {
        json_decref(o);
        return -1;
    }
    return 0;
}

/** Parses a dateline at the paragraph [ps, pe) and appends its places. */
static int parse_dateline(const bl_sources_t *src, const char *text, size_t ps, size_t pe,
                          json_t *out)
{
    size_t groups[8][2];
    size_t ngroups = 0;
    int mode = 0;
    size_t i = ps;
    for (;;) {
        size_t ge = place_group_end(src, text, pe, i, &mode);
        if (ge == i || ngroups == 8)
            return 0;
        groups[ngroups][0] = i;
        groups[ngroups][1] = ge;
        ngroups++;
        i = ge;
        size_t j = skip_spaces(text, pe, i);
        if (j < pe && text[j] == '/') {
            i = skip_spaces(text, pe, j + 1);
            continue;
        }
        break;
    }
    int dated = 0, credited = 0;
    /* ", Ukraine", ", Feb 2", ", Calif., Feb 2" */
    for (int round = 0; round < 2 && i + 2 < pe && text[i] == ',' && text[i + 1] == ' '; round++) {
        size_t d = date_end(src, text, pe, i + 2);
        if (d > i + 2) {
            i = d;
            dated = 1;
            break;
        }
        int qmode = 0;
        size_t q = place_group_end(src, text, pe, i + 2, &qmode);
        if (q == i + 2)
            return 0;
        i = q;
    }
    if (!dated && i + 1 < pe && text[i] == ' ') {
        size_t d = date_end(src, text, pe, i + 1);
        if (d > i + 1) {
            i = d;
            dated = 1;
        }
    }
    size_t j = skip_spaces(text, pe, i);
    if (j < pe && text[j] == '(') {
        const char *close = memchr(text + j, ')', pe - j < 40 ? pe - j : 40);
        if (!close)
            return 0;
        credited = 1;
        j = skip_spaces(text, pe, (size_t)(close - text) + 1);
    }
    if (!separator_at(src, text, pe, j))
        return 0;
    if (mode != 1 && !dated && !credited)
        return 0; /* "Moscow -" alone is too weak; "Moscow, Feb 2 (Reuters) -" is not */
    if (j - ps > 120)
        return 0;
    for (size_t g = 0; g < ngroups; g++) {
        size_t ws = groups[g][0];
        if (src->stop_words.first[(unsigned char)text[ws]] &&
            in_list(&src->stop_words, text + ws, word_end(text, groups[g][1], ws) - ws, 0))
            return 0;
    }
    for (size_t g = 0; g < ngroups; g++) {
        char name[128];
        size_t n = place_name(src, text, groups[g][0], groups[g][1], mode, name, sizeof(name));
        if (add_span_json(out, name, n, 0, groups[g][0], groups[g][1]))
            return -1;
    }
    return 0;
}

/* ----------------------------------------------------------- publisher */

static const char *publisher_from_url(const bl_sources_t *src, const char *url, char *host,
                                      size_t host_size)
{
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    const char *end = p + strcspn(p, "/?#");
    const char *at = memchr(p, '@', (size_t)(end - p));
    if (at)
        p = at + 1;
    const char *colon = memchr(p, ':', (size_t)(end - p));
    if (colon)
        end = colon;
    size_t n = (size_t)(end - p);
    if (n == 0 || n >= host_size)
        return NULL;
    for (size_t i = 0; i < n; i++)
        host[i] = (char)tolower((unsigned char)p[i]);
    host[n] = '\0';
    while (n && host[n - 1] == '.')
        host[--n] = '\0';
    const char *h = host;
    if (!strncmp(h, "www.", 4))
        h += 4;
    while (h && *h) {
        size_t lo = 0, hi = src->nhosts;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            int c = strcmp(src->hosts[mid].host, h);
            if (!c)
                return src->hosts[mid].publisher;
            if (c < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        h = strchr(h, '.');
        if (h && strchr(h + 1, '.'))
            h++;
        else
            break; /* never match a bare TLD */
    }
    return NULL;
}

/** Canonical name when the publisher is a known alias ("reuters" -> "Reuters"). */
static const char *canonical_publisher(const bl_sources_t *src, const char *publisher)
{
    size_t len = strlen(publisher);
    const char *p = publisher;
    if (len > 4 && !strncasecmp(p, "the ", 4)) {
        p += 4;
        len -= 4;
    }
    size_t we = word_end(p, len, 0);
    if (!we)
        return publisher;
    uint64_t key = key_hash(p, we);
    size_t s = key & (src->nslots - 1);
    while (src->slots[s].key) {
        if (src->slots[s].key == key) {
            const src_alias_t *a = src->aliases + src->slots[s].first;
            for (uint32_t k = 0; k < src->slots[s].count; k++)
                if (a[k].len == len && ci_equal(a[k].text, p, len))
                    return src->entries[a[k].entry].name;
            break;
        }
        s = (s + 1) & (src->nslots - 1);
    }
    return publisher;
}

/* ------------------------------------------------------------- extract */

static int span_cmp(const void *pa, const void *pb)
{
    const src_span_t *a = pa, *b = pb;
    return a->start < b->start ? -1 : a->start > b->start;
}

/** memmem() for the short phrases of signatures.tsv: glibc's set-up for a
 *  general needle costs more than this scan of a few paragraphs. */
static const char *phrase_find(const char *hay, size_t hay_len, const char *phrase, size_t n)
{
    const char *end = hay + hay_len;
    while (n && (size_t)(end - hay) >= n) {
        const char *p = memchr(hay, phrase[0], (size_t)(end - hay) - n + 1);
        if (!p)
            return NULL;
        if (!memcmp(p + 1, phrase + 1, n - 1))
            return p;
        hay = p + 1;
    }
    return n ? NULL : hay;
}

static int find_signatures(const bl_sources_t *src, const char *text, size_t len,
                           const size_t *paras, size_t nparas, src_vec_t *credits)
{
    /* Credit lines close an article: search its last three paragraphs. */
    size_t from = nparas > 3 ? paras[2 * (nparas - 3)] : 0;
    for (size_t k = 0; k < src->nsignatures; k++) {
        const src_signature_t *sig = &src->signatures[k];
        const char *p = text + from;
        while ((p = phrase_find(p, len - (size_t)(p - text), sig->opening, sig->opening_len))) {
            size_t s = (size_t)(p - text);
            p += sig->opening_len;
            if (is_word_before(text, s))
                continue;
            size_t pi = 0;
            while (pi + 1 < nparas && paras[2 * (pi + 1)] <= s)
                pi++;
            size_t pe = paras[2 * pi + 1];
            size_t lim = s + 400 < pe ? s + 400 : pe;
            const char *later =
                phrase_find(p, lim - (size_t)(p - text), sig->later, sig->later_len);
            if (!later)
                continue;
            const char *close = memchr(later, ')', pe - (size_t)(later - text));
            size_t e = close ? (size_t)(close - text) : pe;
            while (e > s && (text[e - 1] == ' ' || text[e - 1] == '.' || text[e - 1] == ';'))
                e--;
            src_span_t *sp = vec_push(credits);
            if (!sp)
                return -1;
            sp->start = (uint32_t)s;
            sp->end = (uint32_t)e;
            sp->name = sig->agency;
            p = text + e;
        }
    }
    return 0;
}

/** Cheap test before try_alias(): can an alias start at @p ws (< doc->len)?
 *  Most words are rejected on their first two bytes, most others on the third. */
static inline int may_open_alias(const bl_sources_t *src, const char *text, size_t ws)
{
    /* Reads at most text[len], the NUL: no alias holds a NUL, so a pair with
     * one has no bits and text[ws + 2] is read only when ws + 2 <= len. */
    unsigned third_bits = src->opening[two_bytes(text + ws)];
    return third_bits && third_bits >> (text[ws + 2] & 7) & 1;
}

/**
 * Looks the word at @p ws up (may_open_alias() said yes); on a hit appends
 * it to @p matches and sets @p *end to the end of the hit. @returns -1 on
 * allocation failure.
 */
static int try_alias(const bl_sources_t *src, const char *text, size_t len, size_t ws, size_t *end,
                     src_vec_t *matches)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = ws; i < len; i++) { /* key_hash() of the word, as word_end() ends it */
        unsigned k = src->key_byte[(unsigned char)text[i]];
        if (k <= 1) {
            if (!k || utf8_punct_len((const unsigned char *)text + i))
                break;
            k = (unsigned char)text[i];
        }
        h = (h ^ k) * 1099511628211ULL;
    }
    const src_alias_t *al = lookup(src, text, len, ws, h ? h : 1);
    if (!al)
        return 0;
    src_match_t *m = vec_push(matches);
    if (!m)
        return -1;
    m->name_start = (uint32_t)ws;
    m->start = (uint32_t)ws;
    m->end = (uint32_t)(ws + al->len);
    m->entry = al->entry;
    if (ws >= 4 && !memcmp(text + ws - 4, "The ", 4) && !is_word_before(text, ws - 4))
        m->start = (uint32_t)(ws - 4);
    *end = m->end;
    return 0;
}

int bl_sources_extract(const bl_sources_t *src, const bl_article_t *a, const bl_doc_t *doc,
                       json_t *record)
{
    const char *text = doc->text;
    size_t len = doc->len;
    int rc = -1;
    src_vec_t paras, matches, credits;
    vec_init(&paras, 2 * sizeof(size_t));
    vec_init(&matches, sizeof(src_match_t));
    vec_init(&credits, sizeof(src_span_t));
    json_t *source = json_object();
    json_t *agencies = json_array(), *datelines = json_array(), *cited = json_array();
    if (!source || !agencies || !datelines || !cited)
        goto done;

    /* Paragraphs: [start, end) pairs, separated by blank lines. */
    for (size_t i = 0; i < len;) {
        size_t e = i;
        for (;;) {
            const char *nl = memchr(text + e, '\n', len - e);
            if (!nl) {
                e = len;
                break;
            }
            e = (size_t)(nl - text);
            if (e + 1 < len && text[e + 1] == '\n')
                break;
            e++;
        }
        size_t *pp = vec_push(&paras);
        if (!pp)
            goto done;
        pp[0] = i;
        pp[1] = e;
        i = e;
        while (i < len && text[i] == '\n')
            i++;
    }
    const size_t *pv = paras.v;

    /* Alias hits: one look-up per word whose first byte can start an alias.
     * The tokeniser has already found the words; without tokens (a doc
     * built by hand) the text is scanned for word starts. */
    if (doc->ntokens) {
        size_t covered = 0; /* end of the last hit */
        const bl_token_t *tok = doc->tokens, *tok_end = doc->tokens + doc->ntokens;
        for (; tok < tok_end; tok++) {
            size_t ws = tok->start;
            if (!may_open_alias(src, text, ws))
                continue; /* most tokens: the cheapest test first */
            if (!(tok->flags & BL_TOK_WORD) || ws < covered || is_word_before(text, ws))
                continue;
            size_t end = 0;
            if (try_alias(src, text, len, ws, &end, &matches))
                goto done;
            if (end)
                covered = end;
        }
    } else {
        for (size_t i = 0; i < len;) {
            unsigned char c = (unsigned char)text[i];
            size_t pl = c >= 0xC0 ? utf8_punct_len((const unsigned char *)text + i) : 0;
            if (c < 0xC0 ? !char_class[c] : pl > 0) {
                i += pl ? pl : 1;
                continue;
            }
            size_t end = 0;
            if (may_open_alias(src, text, i) && try_alias(src, text, len, i, &end, &matches))
                goto done;
            i = end ? end : word_end(text, len, i);
        }
    }

    /* Classify each hit in its paragraph. */
    const src_match_t *mv = matches.v;
    size_t pi = 0;
    for (size_t k = 0; k < matches.n; k++) {
        while (pi + 1 < paras.n && pv[2 * (pi + 1)] <= mv[k].start)
            pi++;
        size_t ps = pv[2 * pi], pe = pv[2 * pi + 1];
        int cls = classify(src, text, len, &mv[k], mv, matches.n, ps, pe);
        const char *name = src->entries[mv[k].entry].name;
        if (cls == CLASS_CREDIT) {
            src_span_t *sp = vec_push(&credits);
            if (!sp)
                goto done;
            sp->start = mv[k].name_start;
            sp->end = mv[k].end;
            sp->name = name;
        } else if (cls == CLASS_CITED) {
            if (add_span_json(cited, name, strlen(name), 1, mv[k].start, mv[k].end))
                goto done;
        }
    }
    if (find_signatures(src, text, len, pv, paras.n, &credits))
        goto done;
    qsort(credits.v, credits.n, sizeof(src_span_t), span_cmp);
    const src_span_t *cv = credits.v;
    for (size_t k = 0; k < credits.n; k++)
        if (add_span_json(agencies, cv[k].name, strlen(cv[k].name), 1, cv[k].start, cv[k].end))
            goto done;

    /* A dateline opens with a place word and ends at a separator at most
     * 120 bytes in (parse_dateline()): most paragraphs have none there, and
     * that test is cheaper than the parse. */
    src_separator_cursor_t separators;
    separator_cursor_init(src, text, len, &separators);
    for (size_t p = 0; p < paras.n; p++) {
        size_t ps = pv[2 * p], pe = pv[2 * p + 1];
        if (ps < pe && place_word_at(text, ps) &&
            has_separator(src, text, len, pe, ps, pe - ps > 121 ? ps + 121 : pe, &separators) &&
            parse_dateline(src, text, ps, pe, datelines))
            goto done;
    }

    const char *publisher = NULL;
    char host[256];
    if (a && a->publisher && *a->publisher)
        publisher = canonical_publisher(src, a->publisher);
    else if (a && a->url && *a->url)
        publisher = publisher_from_url(src, a->url, host, sizeof(host));
    if (json_object_set_new_nocheck(source, "publisher",
                                    publisher ? json_string(publisher) : json_null()))
        goto done;
    json_object_set_new_nocheck(source, "agencies", agencies);
    json_object_set_new_nocheck(source, "datelines", datelines);
    json_object_set_new_nocheck(source, "cited", cited);
    agencies = datelines = cited = NULL;
    rc = json_object_set_new_nocheck(record, "source", source);
    source = NULL;
done:
    json_decref(source);
    json_decref(agencies);
    json_decref(datelines);
    json_decref(cited);
    vec_free(&paras);
    vec_free(&matches);
    vec_free(&credits);
    return rc;
}
