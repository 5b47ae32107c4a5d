/*
 * ini.c - the AWS shared config/credentials format, read the way botocore
 * reads it (configparser.RawConfigParser with its defaults, then
 * botocore.configloader's nested-value parsing):
 *   - lines end at \n, \r\n or \r; each line is trimmed of whitespace;
 *   - a line whose trimmed text starts with '#' or ';' is a comment; there are
 *     NO inline comments ("key = abc # x" has the value "abc # x");
 *   - "[name]": a section; the name runs to the last ']' and is kept as written;
 *   - "key = value" or "key: value", split at the first '=' or ':'; the key is
 *     lowercased (configparser's optionxform), the value trimmed;
 *   - a line indented deeper than its key's line continues the value (blank
 *     lines inside are kept, trailing ones dropped); a value that so starts
 *     with a newline is a nested block of "sub = value" lines, stored as
 *     "key.sub" (botocore's one level of nesting, e.g. s3 settings);
 *   - a key before any section, a line that is neither, a section or a key
 *     given twice in one file are errors, as they are for the AWS CLI;
 *   - "[DEFAULT]" is configparser's defaults section: its keys are fallbacks
 *     for every other section, and it is not a section itself.
 * Values may be secrets: they are wiped when the ini is freed.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ec2ha/buf.h"
#include "ec2ha/ini.h"

#define INI_MAX_FILE_BYTES ((size_t)1024 * 1024)
#define INI_DEFAULT_SECTION "DEFAULT"

typedef struct ini_entry {
    char *key;
    char *value;
} ini_entry;

typedef struct ini_section {
    char *name;
    ini_entry *entries;
    size_t n_entries;
    size_t alloc_entries;
} ini_section;

struct ec2ha_ini {
    ini_section *sections;
    size_t n_sections;
    size_t alloc_sections;
};

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* [*s, *e) trimmed of whitespace at both ends. */
static void trim(const char **s, const char **e)
{
    while (*s < *e && is_space(**s)) {
        (*s)++;
    }
    while (*e > *s && is_space((*e)[-1])) {
        (*e)--;
    }
}

static char *dup_range(const char *s, const char *e)
{
    char *p = malloc((size_t)(e - s) + 1);

    if (p != NULL) {
        memcpy(p, s, (size_t)(e - s));
        p[e - s] = '\0';
    }
    return p;
}

static void free_section(ini_section *sec)
{
    for (size_t i = 0; i < sec->n_entries; i++) {
        free(sec->entries[i].key);
        ec2ha_free_secret(sec->entries[i].value);
    }
    free(sec->entries);
    free(sec->name);
}

void ec2ha_ini_free(ec2ha_ini *ini)
{
    if (ini == NULL) {
        return;
    }
    for (size_t i = 0; i < ini->n_sections; i++) {
        free_section(&ini->sections[i]);
    }
    free(ini->sections);
    free(ini);
}

static ini_section *find_section(const ec2ha_ini *ini, const char *name)
{
    for (size_t i = 0; i < ini->n_sections; i++) {
        if (strcmp(ini->sections[i].name, name) == 0) {
            return &ini->sections[i];
        }
    }
    return NULL;
}

static ini_entry *find_entry(const ini_section *sec, const char *key)
{
    for (size_t i = 0; i < sec->n_entries; i++) {
        if (strcmp(sec->entries[i].key, key) == 0) {
            return &sec->entries[i];
        }
    }
    return NULL;
}

static ec2ha_rc add_section(ec2ha_ini *ini, const char *s, const char *e, size_t *index_out)
{
    ini_section *sec;

    if (ini->n_sections == ini->alloc_sections) {
        size_t n = ini->alloc_sections ? ini->alloc_sections * 2 : 8;
        ini_section *p = realloc(ini->sections, n * sizeof(*p));

        if (p == NULL) {
            return EC2HA_ERR_NOMEM;
        }
        ini->sections = p;
        ini->alloc_sections = n;
    }
    sec = &ini->sections[ini->n_sections];
    memset(sec, 0, sizeof(*sec));
    sec->name = dup_range(s, e);
    if (sec->name == NULL) {
        return EC2HA_ERR_NOMEM;
    }
    *index_out = ini->n_sections++;
    return EC2HA_OK;
}

/* Set key (taking ownership of key and value, even on failure); replaces an existing one. */
static ec2ha_rc set_entry(ini_section *sec, char *key, char *value)
{
    ini_entry *old = find_entry(sec, key);

    if (old != NULL) {
        free(key);
        ec2ha_free_secret(old->value);
        old->value = value;
        return EC2HA_OK;
    }
    if (sec->n_entries == sec->alloc_entries) {
        size_t n = sec->alloc_entries ? sec->alloc_entries * 2 : 8;
        ini_entry *p = realloc(sec->entries, n * sizeof(*p));

        if (p == NULL) {
            free(key);
            ec2ha_free_secret(value);
            return EC2HA_ERR_NOMEM;
        }
        sec->entries = p;
        sec->alloc_entries = n;
    }
    sec->entries[sec->n_entries].key = key;
    sec->entries[sec->n_entries].value = value;
    sec->n_entries++;
    return EC2HA_OK;
}

/* The pending option: its key, line and the value collected so far. */
typedef struct pending {
    bool active;
    char *key;
    size_t line;
    ec2ha_buf value;
} pending;

/* botocore's _parse_nested: each non-blank line "sub = value" becomes "key.sub". */
static ec2ha_rc store_nested(ini_section *sec, const char *key, const char *text, size_t line,
                             ec2ha_error *err)
{
    const char *p = text;

    while (*p != '\0') {
        const char *eol = strchr(p, '\n');
        const char *s = p;
        const char *e;
        const char *eq;
        char *full = NULL;
        char *value = NULL;
        size_t klen;

        if (eol == NULL) {
            eol = p + strlen(p);
        }
        e = eol;
        p = *eol != '\0' ? eol + 1 : eol;
        trim(&s, &e);
        if (s == e) {
            continue;
        }
        eq = memchr(s, '=', (size_t)(e - s));
        if (eq == NULL) {
            return ec2ha_error_set(err, EC2HA_ERR_PARSE,
                                   "nested setting under \"%s\" (line %zu) lacks '='", key, line);
        }
        const char *ks = s;
        const char *ke = eq;
        const char *vs = eq + 1;
        const char *ve = e;

        trim(&ks, &ke);
        trim(&vs, &ve);
        klen = strlen(key);
        full = malloc(klen + 1 + (size_t)(ke - ks) + 1);
        value = dup_range(vs, ve);
        if (full == NULL || value == NULL) {
            free(full);
            ec2ha_free_secret(value);
            return ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory reading settings");
        }
        memcpy(full, key, klen);
        full[klen] = '.';
        memcpy(full + klen + 1, ks, (size_t)(ke - ks));
        full[klen + 1 + (size_t)(ke - ks)] = '\0';
        if (set_entry(sec, full, value) != EC2HA_OK) {
            return ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory reading settings");
        }
    }
    return EC2HA_OK;
}

/* Store the pending option into sec (configparser's _join_multiline_values). */
static ec2ha_rc flush_pending(pending *pd, ini_section *sec, ec2ha_error *err)
{
    ec2ha_rc rc = EC2HA_OK;
    char *value = NULL;
    size_t len;

    if (!pd->active) {
        return EC2HA_OK;
    }
    pd->active = false;
    len = pd->value.len;
    while (len > 0 && is_space(pd->value.data[len - 1])) {
        len--;
    }
    if (pd->value.data != NULL) {
        pd->value.data[len] = '\0';
    }
    if (len > 0 && pd->value.data[0] == '\n') {
        rc = store_nested(sec, pd->key, pd->value.data, pd->line, err);
        goto done;
    }
    value = dup_range(ec2ha_buf_str(&pd->value), ec2ha_buf_str(&pd->value) + len);
    if (value == NULL) {
        rc = ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory reading settings");
        goto done;
    }
    rc = set_entry(sec, pd->key, value);
    pd->key = NULL;
    if (rc != EC2HA_OK) {
        ec2ha_error_set(err, rc, "out of memory reading settings");
    }
done:
    free(pd->key);
    pd->key = NULL;
    ec2ha_buf_free(&pd->value);
    return rc;
}

ec2ha_rc ec2ha_ini_parse(const char *text, size_t len, ec2ha_ini **out, ec2ha_error *err)
{
    ec2ha_ini *ini = NULL;
    pending pd;
    const char *p = text;
    const char *end = text + len;
    size_t lineno = 0;
    bool have_section = false;
    size_t cur = 0;              /* index of the current section */
    size_t indent_level = 0;
    ec2ha_rc rc = EC2HA_ERR_NOMEM;

    memset(&pd, 0, sizeof(pd));
    ec2ha_buf_init_secret(&pd.value, INI_MAX_FILE_BYTES);
    if (len > INI_MAX_FILE_BYTES) {
        rc = ec2ha_error_set(err, EC2HA_ERR_TOO_LARGE, "settings file is larger than %zu bytes",
                             INI_MAX_FILE_BYTES);
        goto done;
    }
    if (len > 0 && memchr(text, '\0', len) != NULL) {
        rc = ec2ha_error_set(err, EC2HA_ERR_PARSE, "settings file contains a NUL byte");
        goto done;
    }
    ini = calloc(1, sizeof(*ini));
    if (ini == NULL) {
        rc = ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory reading settings");
        goto done;
    }
    while (p < end) {
        const char *ls = p;
        const char *le = p;
        const char *s;
        const char *e;
        size_t indent;

        while (le < end && *le != '\n' && *le != '\r') {
            le++;
        }
        /* universal newlines, as Python reads text files: \r\n, \r or \n */
        if (le < end && *le == '\r' && le + 1 < end && le[1] == '\n') {
            p = le + 2;
        } else if (le < end) {
            p = le + 1;
        } else {
            p = le;
        }
        lineno++;
        s = ls;
        e = le;
        trim(&s, &e);
        if (s == e || *s == '#' || *s == ';') {
            /* blank lines are part of a value being continued; comment lines are not */
            if (s == e && pd.active && ec2ha_buf_append(&pd.value, "\n", 1) != EC2HA_OK) {
                rc = ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory reading settings");
                goto done;
            }
            continue;
        }
        indent = (size_t)(s - ls);
        if (pd.active && indent > indent_level) {
            if (ec2ha_buf_append(&pd.value, "\n", 1) != EC2HA_OK ||
                ec2ha_buf_append(&pd.value, s, (size_t)(e - s)) != EC2HA_OK) {
                rc = ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory reading settings");
                goto done;
            }
            continue;
        }
        indent_level = indent;
        if (have_section) {
            rc = flush_pending(&pd, &ini->sections[cur], err);
            if (rc != EC2HA_OK) {
                goto done;
            }
        }
        if (*s == '[') {
            const char *close = e;

            while (close > s + 1 && close[-1] != ']') {
                close--;
            }
            /* close[-1] is the last ']' of the line; the name needs one character */
            if (close > s + 2 && close[-1] == ']') {
                const char *ns = s + 1;
                const char *ne = close - 1;
                ini_section *existing = NULL;
                char *name = dup_range(ns, ne);

                if (name == NULL) {
                    rc = ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory reading settings");
                    goto done;
                }
                existing = find_section(ini, name);
                if (existing != NULL && strcmp(name, INI_DEFAULT_SECTION) != 0) {
                    rc = ec2ha_error_set(err, EC2HA_ERR_PARSE,
                                         "line %zu: section [%s] appears twice", lineno, name);
                    free(name);
                    goto done;
                }
                if (existing != NULL) {
                    cur = (size_t)(existing - ini->sections);
                } else {
                    rc = add_section(ini, ns, ne, &cur);
                    if (rc != EC2HA_OK) {
                        free(name);
                        ec2ha_error_set(err, rc, "out of memory reading settings");
                        goto done;
                    }
                }
                free(name);
                have_section = true;
                continue;
            }
        }
        if (!have_section) {
            rc = ec2ha_error_set(err, EC2HA_ERR_PARSE,
                                 "line %zu: a setting before the first [section] header", lineno);
            goto done;
        }
        /* option line: the key runs to the first '=' or ':' */
        const char *delim = s;

        while (delim < e && *delim != '=' && *delim != ':') {
            delim++;
        }
        const char *ks = s;
        const char *ke = delim;

        trim(&ks, &ke);
        if (delim == e || ks == ke) {
            rc = ec2ha_error_set(err, EC2HA_ERR_PARSE,
                                 "line %zu: expected \"key = value\" or a [section] header",
                                 lineno);
            goto done;
        }
        pd.key = dup_range(ks, ke);
        if (pd.key == NULL) {
            rc = ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory reading settings");
            goto done;
        }
        for (char *k = pd.key; *k != '\0'; k++) {
            *k = (char)tolower((unsigned char)*k);
        }
        if (find_entry(&ini->sections[cur], pd.key) != NULL) {
            rc = ec2ha_error_set(err, EC2HA_ERR_PARSE,
                                 "line %zu: \"%s\" is set twice in section [%s]", lineno,
                                 pd.key, ini->sections[cur].name);
            goto done;
        }
        /* the nested "key.sub" entries of an earlier same-named key also count */
        {
            size_t klen = strlen(pd.key);
            const ini_section *sec = &ini->sections[cur];

            for (size_t i = 0; i < sec->n_entries; i++) {
                if (strncmp(sec->entries[i].key, pd.key, klen) == 0 &&
                    sec->entries[i].key[klen] == '.') {
                    rc = ec2ha_error_set(err, EC2HA_ERR_PARSE,
                                         "line %zu: \"%s\" is set twice in section [%s]",
                                         lineno, pd.key, sec->name);
                    goto done;
                }
            }
        }
        const char *vs = delim + 1;
        const char *ve = e;

        trim(&vs, &ve);
        if (vs < ve && ec2ha_buf_append(&pd.value, vs, (size_t)(ve - vs)) != EC2HA_OK) {
            rc = ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory reading settings");
            goto done;
        }
        pd.active = true;
        pd.line = lineno;
    }
    if (have_section) {
        rc = flush_pending(&pd, &ini->sections[cur], err);
        if (rc != EC2HA_OK) {
            goto done;
        }
    }
    *out = ini;
    ini = NULL;
    rc = EC2HA_OK;
done:
    free(pd.key);
    ec2ha_buf_free(&pd.value);
    ec2ha_ini_free(ini);
    return rc;
}

ec2ha_rc ec2ha_ini_load(const char *path, ec2ha_ini **out, ec2ha_error *err)
{
    ec2ha_buf text;
    struct stat st;
    char chunk[4096];
    int fd = -1;
    ec2ha_rc rc = EC2HA_ERR_IO;

    ec2ha_buf_init_secret(&text, INI_MAX_FILE_BYTES);
    /* O_NONBLOCK: a FIFO in the way must not hang us before the regular-file check */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR) {
            rc = ec2ha_error_set(err, EC2HA_ERR_NOT_FOUND, "%s does not exist", path);
        } else {
            rc = ec2ha_error_set(err, EC2HA_ERR_IO, "cannot open %s: %s", path, strerror(errno));
        }
        goto done;
    }
    if (fstat(fd, &st) != 0) {
        rc = ec2ha_error_set(err, EC2HA_ERR_IO, "cannot stat %s: %s", path, strerror(errno));
        goto done;
    }
    if (!S_ISREG(st.st_mode)) {
        /* botocore skips a path that is not a regular file as if it were absent */
        rc = ec2ha_error_set(err, EC2HA_ERR_NOT_FOUND, "%s is not a regular file", path);
        goto done;
    }
    if ((size_t)st.st_size > INI_MAX_FILE_BYTES) {
        rc = ec2ha_error_set(err, EC2HA_ERR_TOO_LARGE, "%s is larger than %zu bytes", path,
                             INI_MAX_FILE_BYTES);
        goto done;
    }
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            rc = ec2ha_error_set(err, EC2HA_ERR_IO, "cannot read %s: %s", path, strerror(errno));
            goto done;
        }
        if (n == 0) {
            break;
        }
        rc = ec2ha_buf_append(&text, chunk, (size_t)n);
        if (rc != EC2HA_OK) {
            rc = ec2ha_error_set(err, rc, "%s is larger than %zu bytes or memory ran out", path,
                                 INI_MAX_FILE_BYTES);
            goto done;
        }
    }
    rc = ec2ha_ini_parse(ec2ha_buf_str(&text), text.len, out, err);
    if (rc != EC2HA_OK) {
        ec2ha_error_prefix(err, "%s", path);
    }
done:
    ec2ha_secure_zero(chunk, sizeof(chunk));
    if (fd >= 0) {
        close(fd);
    }
    ec2ha_buf_free(&text);
    return rc;
}

const char *ec2ha_ini_get(const ec2ha_ini *ini, const char *section, const char *key)
{
    const ini_section *sec;
    const ini_section *defaults;
    const ini_entry *ent;

    if (ini == NULL || section == NULL || key == NULL ||
        strcmp(section, INI_DEFAULT_SECTION) == 0) {
        return NULL;
    }
    sec = find_section(ini, section);
    if (sec == NULL) {
        return NULL;
    }
    ent = find_entry(sec, key);
    if (ent != NULL) {
        return ent->value;
    }
    defaults = find_section(ini, INI_DEFAULT_SECTION);
    if (defaults != NULL) {
        ent = find_entry(defaults, key);
        if (ent != NULL) {
            return ent->value;
        }
    }
    return NULL;
}

int ec2ha_ini_has_section(const ec2ha_ini *ini, const char *section)
{
    if (ini == NULL || section == NULL || strcmp(section, INI_DEFAULT_SECTION) == 0) {
        return 0;
    }
    return find_section(ini, section) != NULL;
}

size_t ec2ha_ini_section_count(const ec2ha_ini *ini)
{
    size_t n = 0;

    if (ini == NULL) {
        return 0;
    }
    for (size_t i = 0; i < ini->n_sections; i++) {
        if (strcmp(ini->sections[i].name, INI_DEFAULT_SECTION) != 0) {
            n++;
        }
    }
    return n;
}

const char *ec2ha_ini_section_name(const ec2ha_ini *ini, size_t index)
{
    if (ini == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < ini->n_sections; i++) {
        if (strcmp(ini->sections[i].name, INI_DEFAULT_SECTION) == 0) {
            continue;
        }
        if (index == 0) {
            return ini->sections[i].name;
        }
        index--;
    }
    return NULL;
}
