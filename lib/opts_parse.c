/*
 * opts_parse.c - option values from the table: stdin key=value lines, argv
 * (getopt_long built from the table), OCF_RESKEY_* environment and LSB
 * settings files, with type validation at the moment a value is set.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ec2ha/buf.h"
#include "ec2ha/log.h"
#include "ec2ha/opts.h"
#include "opts_private.h"

#define OPTS_INPUT_CAP ((size_t)1024 * 1024)   /* stdin / settings file size limit */
#define OPTS_SECONDS_MAX_DEFAULT 1e9
#define OPTS_LONG_VAL_BASE 256                 /* getopt_long val = base + row */

/* ---- shared helpers (opts_private.h) ------------------------------------- */

const char *ec2ha_opts__long_name(const ec2ha_option *o, char *buf, size_t size)
{
    size_t i;

    if (o->long_opt != NULL) {
        snprintf(buf, size, "%s", o->long_opt);
        return buf;
    }
    snprintf(buf, size, "%s", o->name);
    for (i = 0; buf[i] != '\0'; i++) {
        if (buf[i] == '_') {
            buf[i] = '-';
        }
    }
    return buf;
}

/* Equal when '-' and '_' are taken as the same character. */
static bool name_eq(const char *a, const char *b)
{
    for (; *a != '\0' && *b != '\0'; a++, b++) {
        char ca = *a == '-' ? '_' : *a;
        char cb = *b == '-' ? '_' : *b;

        if (ca != cb) {
            return false;
        }
    }
    return *a == '\0' && *b == '\0';
}

int ec2ha_opts__lookup(const ec2ha_option *table, size_t n, const char *name)
{
    char lbuf[EC2HA_OPT_NAME_MAX];
    size_t i;

    if (name == NULL) {
        return -1;
    }
    for (i = 0; i < n && i < INT_MAX; i++) {
        if (strcmp(table[i].name, name) == 0) {
            return (int)i;
        }
    }
    for (i = 0; i < n && i < INT_MAX; i++) {
        if (name_eq(table[i].name, name)
            || name_eq(ec2ha_opts__long_name(&table[i], lbuf, sizeof(lbuf)), name)) {
            return (int)i;
        }
    }
    return -1;
}

int ec2ha_opts__target(const ec2ha_option *table, size_t n, size_t i)
{
    size_t j;

    if (table[i].alias_of == NULL) {
        return (int)i;
    }
    for (j = 0; j < n && j < INT_MAX; j++) {
        if (table[j].alias_of == NULL && strcmp(table[j].name, table[i].alias_of) == 0) {
            return (int)j;
        }
    }
    return -1;
}

bool ec2ha_opts__bool_default_true(const ec2ha_option *o)
{
    bool b = false;

    return o->type == EC2HA_OPT_BOOL && o->default_value != NULL
           && ec2ha_parse_bool(o->default_value, &b, NULL) == EC2HA_OK && b;
}

/* ---- scalar parsers ------------------------------------------------------- */

ec2ha_rc ec2ha_parse_bool(const char *s, bool *out, ec2ha_error *err)
{
    static const char *const yes[] = {"true", "yes", "on", "1", "y"};
    static const char *const no[] = {"false", "no", "off", "0", "n"};
    size_t i;

    if (s != NULL) {
        for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
            if (strcasecmp(s, yes[i]) == 0) {
                *out = true;
                return EC2HA_OK;
            }
            if (strcasecmp(s, no[i]) == 0) {
                *out = false;
                return EC2HA_OK;
            }
        }
    }
    return ec2ha_error_set(err, EC2HA_ERR_INVALID,
                           "'%s' is not a boolean; use true/false, yes/no, on/off or 1/0",
                           s != NULL ? s : "");
}

ec2ha_rc ec2ha_parse_long(const char *what, const char *s, long min, long max, long *out,
                          ec2ha_error *err)
{
    char *end = NULL;
    long val;

    if (s == NULL || *s == '\0' || isspace((unsigned char)*s)) {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID,
                               "%s: '%s' is not a whole number (valid: %ld to %ld)", what,
                               s != NULL ? s : "", min, max);
    }
    errno = 0;
    val = strtol(s, &end, 10);
    if (end == s || *end != '\0') {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID,
                               "%s: '%s' is not a whole number (valid: %ld to %ld)", what, s,
                               min, max);
    }
    if (errno == ERANGE || val < min || val > max) {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID,
                               "%s: %s is out of range (valid: %ld to %ld)", what, s, min, max);
    }
    *out = val;
    return EC2HA_OK;
}

/* digits [. digits] | . digits, then an optional 's' */
static bool seconds_syntax_ok(const char *s)
{
    size_t int_digits = 0;
    size_t frac_digits = 0;

    while (isdigit((unsigned char)*s)) {
        s++;
        int_digits++;
    }
    if (*s == '.') {
        s++;
        while (isdigit((unsigned char)*s)) {
            s++;
            frac_digits++;
        }
    }
    if (*s == 's') {
        s++;
    }
    return *s == '\0' && int_digits + frac_digits > 0;
}

ec2ha_rc ec2ha_parse_seconds(const char *what, const char *s, double max, double *out,
                             ec2ha_error *err)
{
    char *end = NULL;
    double val;

    if (s == NULL || !seconds_syntax_ok(s)) {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID,
                               "%s: '%s' is not a number of seconds (valid: 0 to %g, e.g. 30 "
                               "or 1.5; no other units)", what, s != NULL ? s : "", max);
    }
    errno = 0;
    val = strtod(s, &end);
    if (end == s || (*end != '\0' && strcmp(end, "s") != 0)) {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID,
                               "%s: '%s' is not a number of seconds (valid: 0 to %g)", what, s,
                               max);
    }
    if (errno == ERANGE || !isfinite(val) || val < 0 || val > max) {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID,
                               "%s: %s seconds is out of range (valid: 0 to %g)", what, s, max);
    }
    *out = val;
    return EC2HA_OK;
}

/* ---- the value set -------------------------------------------------------- */

ec2ha_rc ec2ha_opts_init(ec2ha_opt_values *v, const ec2ha_option *table, size_t n,
                         ec2ha_error *err)
{
    ec2ha_rc rc = EC2HA_ERR_INVALID;
    size_t i;
    size_t j;

    memset(v, 0, sizeof(*v));
    if (table == NULL || n == 0 || n > INT_MAX - OPTS_LONG_VAL_BASE) {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID, "option table is empty or too large");
    }
    /* The table is code: catch its mistakes here, where a unit test sees them. */
    for (i = 0; i < n; i++) {
        const ec2ha_option *o = &table[i];

        if (o->name == NULL || o->name[0] == '\0'
            || (o->shortdesc == NULL && o->alias_of == NULL)) {
            return ec2ha_error_set(err, rc, "option table row %zu has no name or description",
                                   i);
        }
        if (o->alias_of != NULL && (ec2ha_opts__target(table, n, i) < 0)) {
            return ec2ha_error_set(err, rc, "option %s is an alias of unknown option %s",
                                   o->name, o->alias_of);
        }
        if (o->type == EC2HA_OPT_SELECT && (o->choices == NULL || o->choices[0] == NULL)) {
            return ec2ha_error_set(err, rc, "select option %s has no choices", o->name);
        }
        if (o->short_opt < 0 || o->short_opt > 127
            || (o->short_opt != 0 && !isalnum((unsigned char)o->short_opt))) {
            return ec2ha_error_set(err, rc, "option %s has an invalid short option", o->name);
        }
        for (j = 0; j < i; j++) {
            if (strcmp(table[j].name, o->name) == 0) {
                return ec2ha_error_set(err, rc, "option %s appears twice in the table",
                                       o->name);
            }
            if (o->short_opt != 0 && table[j].short_opt == o->short_opt
                && table[j].alias_of == NULL && o->alias_of == NULL) {
                return ec2ha_error_set(err, rc, "options %s and %s share the letter -%c",
                                       table[j].name, o->name, o->short_opt);
            }
        }
    }
    v->table = table;
    v->n = n;
    v->values = calloc(n, sizeof(*v->values));
    v->origins = calloc(n, sizeof(*v->origins));
    v->counts = calloc(n, sizeof(*v->counts));
    if (v->values == NULL || v->origins == NULL || v->counts == NULL) {
        ec2ha_opts_free(v);
        return ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory for %zu options", n);
    }
    return EC2HA_OK;
}

void ec2ha_opts_free(ec2ha_opt_values *v)
{
    size_t i;

    if (v == NULL) {
        return;
    }
    if (v->values != NULL) {
        for (i = 0; i < v->n; i++) {
            if (v->table[i].flags & EC2HA_OPT_SECRET) {
                ec2ha_free_secret(v->values[i]);
            } else {
                free(v->values[i]);
            }
        }
    }
    free(v->values);
    free(v->origins);
    free(v->counts);
    memset(v, 0, sizeof(*v));
}

int ec2ha_opts_find(const ec2ha_opt_values *v, const char *name)
{
    int i;

    if (v == NULL || v->table == NULL) {
        return -1;
    }
    i = ec2ha_opts__lookup(v->table, v->n, name);
    if (i < 0) {
        return -1;
    }
    return ec2ha_opts__target(v->table, v->n, (size_t)i);
}

/* Every validation message ends by saying what happens next (STYLE 14). */
static void append_next_step(ec2ha_error *err)
{
    size_t len;

    if (err == NULL) {
        return;
    }
    len = strnlen(err->message, sizeof(err->message));
    if (len < sizeof(err->message)) {
        snprintf(err->message + len, sizeof(err->message) - len,
                 "; the value is rejected and nothing is done: fix the setting and retry");
    }
}

/* Check `value` against the row's type; *canon_out: the form to store (NULL: value as is). */
static ec2ha_rc validate_value(const ec2ha_option *o, const char *given_name, const char *value,
                               const char **canon_out, ec2ha_error *err)
{
    char what[EC2HA_OPT_NAME_MAX + 16];
    bool secret = (o->flags & EC2HA_OPT_SECRET) != 0;
    const char *shown = secret ? "(hidden)" : value;
    ec2ha_rc rc = EC2HA_OK;
    bool b = false;
    long l = 0;
    double d = 0;
    size_t i;

    *canon_out = NULL;
    if (strcmp(given_name, o->name) == 0) {
        snprintf(what, sizeof(what), "option %s", o->name);
    } else {
        snprintf(what, sizeof(what), "option %s (%s)", given_name, o->name);
    }
    switch (o->type) {
    case EC2HA_OPT_STRING:
        break;
    case EC2HA_OPT_BOOL:
        if (ec2ha_parse_bool(value, &b, NULL) != EC2HA_OK) {
            rc = ec2ha_error_set(err, EC2HA_ERR_INVALID,
                                 "%s: '%s' is not a boolean (valid: true/false, yes/no, "
                                 "on/off, 1/0)", what, shown);
        } else {
            *canon_out = b ? "true" : "false";
        }
        break;
    case EC2HA_OPT_INT:
        rc = ec2ha_parse_long(what, value, LONG_MIN, LONG_MAX, &l, err);
        break;
    case EC2HA_OPT_SECONDS:
        rc = ec2ha_parse_seconds(what, value, OPTS_SECONDS_MAX_DEFAULT, &d, err);
        break;
    case EC2HA_OPT_SELECT: {
        ec2ha_buf list;

        for (i = 0; o->choices[i] != NULL; i++) {
            if (strcasecmp(o->choices[i], value) == 0) {
                *canon_out = o->choices[i];
                return EC2HA_OK;
            }
        }
        ec2ha_buf_init(&list, 4096);
        for (i = 0; o->choices[i] != NULL; i++) {
            ec2ha_buf_printf(&list, "%s%s", i > 0 ? ", " : "", o->choices[i]);
        }
        rc = ec2ha_error_set(err, EC2HA_ERR_INVALID, "%s: '%s' is not one of: %s", what, shown,
                             ec2ha_buf_str(&list));
        ec2ha_buf_free(&list);
        break;
    }
    default:
        rc = ec2ha_error_set(err, EC2HA_ERR_INVALID, "%s has an unknown type", what);
        break;
    }
    if (rc != EC2HA_OK && secret && err != NULL) {
        /* parse_long/seconds echo the value: never for a secret. */
        ec2ha_error_set(err, rc, "%s: the value given is not valid for this option", what);
    }
    return rc;
}

ec2ha_rc ec2ha_opts_set(ec2ha_opt_values *v, const char *name, const char *value,
                        ec2ha_opt_origin origin, ec2ha_error *err)
{
    const char *canon = NULL;
    const ec2ha_option *o = NULL;
    char *copy = NULL;
    ec2ha_rc rc;
    int row;
    int idx;

    if (v == NULL || v->table == NULL || name == NULL || value == NULL) {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID, "ec2ha_opts_set: missing argument");
    }
    row = ec2ha_opts__lookup(v->table, v->n, name);
    idx = row < 0 ? -1 : ec2ha_opts__target(v->table, v->n, (size_t)row);
    if (idx < 0) {
        return ec2ha_error_set(err, EC2HA_ERR_NOT_FOUND, "unknown option '%s'", name);
    }
    o = &v->table[idx];
    rc = validate_value(o, v->table[row].name, value, &canon, err);
    if (rc != EC2HA_OK) {
        append_next_step(err);
        return rc;
    }
    copy = strdup(canon != NULL ? canon : value);
    if (copy == NULL) {
        return ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory setting option %s",
                               o->name);
    }
    if (o->flags & EC2HA_OPT_SECRET) {
        ec2ha_free_secret(v->values[idx]);
    } else {
        free(v->values[idx]);
    }
    v->values[idx] = copy;
    v->origins[idx] = origin;
    if (v->counts[idx] < UINT_MAX) {
        v->counts[idx]++;
    }
    return EC2HA_OK;
}

/* ---- line-oriented input (stdin and settings files) ---------------------- */

enum line_mode { LINE_STDIN, LINE_KVFILE };

static char *trim(char *s)
{
    char *end;

    while (isspace((unsigned char)*s)) {
        s++;
    }
    end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1])) {
        *--end = '\0';
    }
    return s;
}

/* fence-agents: strip one pair of matching quotes around the value. */
static char *strip_quotes(char *s)
{
    size_t len = strlen(s);

    if (len >= 2 && (s[0] == '"' || s[0] == '\'') && s[len - 1] == s[0]) {
        s[len - 1] = '\0';
        return s + 1;
    }
    return s;
}

/*
 * Shell-style value of an LSB settings file: 'single' (literal), "double"
 * (\" \\ \$ \` escapes) or a bare word; after it only blanks or a # comment.
 * Decodes in place.  false when the quoting is broken.
 */
static bool shell_value(char *s, char **out)
{
    char *r = s;
    char *w = s;

    if (*r == '\'') {
        r++;
        while (*r != '\0' && *r != '\'') {
            *w++ = *r++;
        }
        if (*r != '\'') {
            return false;
        }
        r++;
    } else if (*r == '"') {
        r++;
        while (*r != '\0' && *r != '"') {
            if (*r == '\\' && r[1] != '\0' && strchr("\"\\$`", r[1]) != NULL) {
                r++;
            }
            *w++ = *r++;
        }
        if (*r != '"') {
            return false;
        }
        r++;
    } else {
        while (*r != '\0' && !isspace((unsigned char)*r)) {
            *w++ = *r++;
        }
    }
    while (isspace((unsigned char)*r)) {
        r++;
    }
    if (*r != '\0' && *r != '#') {
        return false;
    }
    *w = '\0';
    *out = s;
    return true;
}

/* Row for an LSB key (upper-cased name), -1 when unknown. */
static int kv_lookup(const ec2ha_opt_values *v, const char *key)
{
    size_t i;

    for (i = 0; i < v->n && i < INT_MAX; i++) {
        const char *a = v->table[i].name;
        const char *b = key;

        while (*a != '\0' && *b != '\0'
               && toupper((unsigned char)*a) == *b) {
            a++;
            b++;
        }
        if (*a == '\0' && *b == '\0') {
            return (int)i;
        }
    }
    return -1;
}

/* One line (NUL-terminated, writable).  lineno for messages. */
static ec2ha_rc parse_line(ec2ha_opt_values *v, char *line, unsigned lineno, enum line_mode mode,
                           ec2ha_opt_origin origin, ec2ha_error *err)
{
    const char *where = mode == LINE_STDIN ? "stdin" : "settings file";
    char *key = NULL;
    char *value = NULL;
    char *eq = NULL;
    ec2ha_rc rc = EC2HA_OK;
    int row = -1;

    line = trim(line);
    if (*line == '\0' || *line == '#') {
        return EC2HA_OK;
    }
    if (mode == LINE_KVFILE && strncmp(line, "export", 6) == 0
        && isspace((unsigned char)line[6])) {
        line = trim(line + 6);
    }
    eq = strchr(line, '=');
    if (eq == NULL) {
        /* The text could be a pasted secret: never echo it. */
        ec2ha_warn("%s line %u: no '=' in the line; ignored", where, lineno);
        return EC2HA_OK;
    }
    *eq = '\0';
    key = trim(line);
    value = eq + 1;
    if (mode == LINE_STDIN) {
        value = strip_quotes(trim(value));
        row = ec2ha_opts__lookup(v->table, v->n, key);
    } else {
        value = trim(value);
        row = kv_lookup(v, key);
        if (!shell_value(value, &value)) {
            ec2ha_warn("%s line %u: the value of %.64s has unbalanced quotes or trailing "
                       "text; ignored", where, lineno, key);
            return EC2HA_OK;
        }
    }
    if (row < 0) {
        if (mode == LINE_STDIN && strcmp(key, "nodename") == 0) {
            /* Pacemaker's fencer always sends nodename=; fence-agents ignores it too. */
            ec2ha_debug("stdin line %u: nodename is not used by this agent", lineno);
        } else {
            ec2ha_warn("%s line %u: ignoring unknown option '%.64s'", where, lineno, key);
        }
        return EC2HA_OK;
    }
    if (v->table[row].flags & EC2HA_OPT_NO_STDIN) {
        ec2ha_warn("%s line %u: option '%.64s' is for the command line only; ignored", where,
                   lineno, key);
        return EC2HA_OK;
    }
    rc = ec2ha_opts_set(v, v->table[row].name, value, origin, err);
    if (rc != EC2HA_OK) {
        ec2ha_error_prefix(err, "%s line %u", where, lineno);
    }
    return rc;
}

static ec2ha_rc parse_lines(ec2ha_opt_values *v, const char *text, size_t len,
                            enum line_mode mode, ec2ha_opt_origin origin, ec2ha_error *err)
{
    ec2ha_rc rc = EC2HA_OK;
    unsigned lineno = 0;
    size_t pos = 0;

    if (v == NULL || v->table == NULL || (text == NULL && len > 0)) {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID, "option parser called without input");
    }
    while (pos < len && rc == EC2HA_OK) {
        const char *start = text + pos;
        const char *nl = memchr(start, '\n', len - pos);
        size_t line_len = nl != NULL ? (size_t)(nl - start) : len - pos;
        char *line = NULL;

        pos += line_len + (nl != NULL ? 1 : 0);
        lineno++;
        if (memchr(start, '\0', line_len) != NULL) {
            return ec2ha_error_set(err, EC2HA_ERR_INVALID,
                                   "%s line %u contains a NUL byte; the input is rejected",
                                   mode == LINE_STDIN ? "stdin" : "settings file", lineno);
        }
        line = malloc(line_len + 1);
        if (line == NULL) {
            return ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory reading options");
        }
        memcpy(line, start, line_len);
        line[line_len] = '\0';
        rc = parse_line(v, line, lineno, mode, origin, err);
        ec2ha_secure_zero(line, line_len + 1);   /* lines may hold secrets */
        free(line);
    }
    return rc;
}

ec2ha_rc ec2ha_opts_parse_text(ec2ha_opt_values *v, const char *text, size_t len,
                               ec2ha_opt_origin origin, ec2ha_error *err)
{
    return parse_lines(v, text, len, LINE_STDIN, origin, err);
}

static ec2ha_rc read_stream(FILE *in, const char *what, ec2ha_buf *b, ec2ha_error *err)
{
    char chunk[4096];
    size_t got;

    while ((got = fread(chunk, 1, sizeof(chunk), in)) > 0) {
        ec2ha_rc rc = ec2ha_buf_append(b, chunk, got);

        if (rc != EC2HA_OK) {
            ec2ha_secure_zero(chunk, sizeof(chunk));
            return ec2ha_error_set(err, rc, "%s is larger than %zu bytes or memory ran out",
                                   what, OPTS_INPUT_CAP);
        }
    }
    ec2ha_secure_zero(chunk, sizeof(chunk));
    if (ferror(in)) {
        return ec2ha_error_set(err, EC2HA_ERR_IO, "reading %s failed: %s", what,
                               strerror(errno));
    }
    return EC2HA_OK;
}

ec2ha_rc ec2ha_opts_parse_stdin(ec2ha_opt_values *v, FILE *in, ec2ha_error *err)
{
    ec2ha_buf b;
    ec2ha_rc rc;

    ec2ha_buf_init_secret(&b, OPTS_INPUT_CAP);
    rc = read_stream(in, "stdin", &b, err);
    if (rc == EC2HA_OK) {
        rc = parse_lines(v, ec2ha_buf_str(&b), b.len, LINE_STDIN, EC2HA_ORIGIN_STDIN, err);
    }
    ec2ha_buf_free(&b);
    return rc;
}

ec2ha_rc ec2ha_opts_parse_kv_file(ec2ha_opt_values *v, const char *path, ec2ha_error *err)
{
    ec2ha_rc rc = EC2HA_ERR_IO;
    FILE *f = NULL;
    ec2ha_buf b;

    ec2ha_buf_init_secret(&b, OPTS_INPUT_CAP);
    if (path == NULL) {
        rc = ec2ha_error_set(err, EC2HA_ERR_INVALID, "no settings file given");
        goto cleanup;
    }
    f = fopen(path, "re");
    if (f == NULL) {
        rc = ec2ha_error_set(err, errno == ENOENT ? EC2HA_ERR_NOT_FOUND : EC2HA_ERR_IO,
                             "cannot open settings file %s: %s", path, strerror(errno));
        goto cleanup;
    }
    rc = read_stream(f, path, &b, err);
    if (rc != EC2HA_OK) {
        goto cleanup;
    }
    rc = parse_lines(v, ec2ha_buf_str(&b), b.len, LINE_KVFILE, EC2HA_ORIGIN_FILE, err);
    if (rc != EC2HA_OK) {
        ec2ha_error_prefix(err, "%s", path);
    }
cleanup:
    if (f != NULL) {
        fclose(f);
    }
    ec2ha_buf_free(&b);
    return rc;
}

/* ---- environment ------------------------------------------------------------ */

static ec2ha_rc env_row(ec2ha_opt_values *v, const char *prefix, size_t i, ec2ha_error *err)
{
    char var[EC2HA_OPT_NAME_MAX + 64];
    const char *value;
    ec2ha_rc rc;
    int n;

    n = snprintf(var, sizeof(var), "%s%s", prefix, v->table[i].name);
    if (n < 0 || (size_t)n >= sizeof(var)) {
        return EC2HA_OK;
    }
    value = getenv(var);
    if (value == NULL || value[0] == '\0') {
        return EC2HA_OK;   /* unset or empty: not given */
    }
    rc = ec2ha_opts_set(v, v->table[i].name, value, EC2HA_ORIGIN_ENV, err);
    if (rc != EC2HA_OK) {
        ec2ha_error_prefix(err, "environment %s", var);
    }
    return rc;
}

ec2ha_rc ec2ha_opts_parse_env(ec2ha_opt_values *v, const char *prefix, ec2ha_error *err)
{
    ec2ha_rc rc = EC2HA_OK;
    size_t i;
    int pass;

    if (v == NULL || v->table == NULL) {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID, "option values not initialised");
    }
    if (prefix == NULL) {
        prefix = "";
    }
    /* Aliases first, so the canonical name wins when both are set. */
    for (pass = 0; pass < 2 && rc == EC2HA_OK; pass++) {
        for (i = 0; i < v->n && rc == EC2HA_OK; i++) {
            bool is_alias = v->table[i].alias_of != NULL;

            if ((pass == 0) == is_alias && !(v->table[i].flags & EC2HA_OPT_NO_STDIN)) {
                rc = env_row(v, prefix, i, err);
            }
        }
    }
    return rc;
}

/* ---- argv ------------------------------------------------------------------ */

static ec2ha_rc build_getopt(const ec2ha_opt_values *v, char **shortopts_out,
                             struct option **longopts_out, char **names_out,
                             ec2ha_error *err)
{
    struct option *lo = NULL;
    char *so = NULL;
    char *names = NULL;
    size_t sp = 0;
    size_t i;

    so = calloc(v->n * 2 + 2, 1);
    lo = calloc(v->n + 1, sizeof(*lo));
    names = calloc(v->n, EC2HA_OPT_NAME_MAX);
    if (so == NULL || lo == NULL || names == NULL) {
        free(so);
        free(lo);
        free(names);
        return ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory building getopt tables");
    }
    so[sp++] = ':';   /* report missing arguments as ':' and print nothing */
    for (i = 0; i < v->n; i++) {
        const ec2ha_option *o = &v->table[i];
        int t = ec2ha_opts__target(v->table, v->n, i);
        bool is_bool = v->table[t].type == EC2HA_OPT_BOOL;
        char *name = names + i * EC2HA_OPT_NAME_MAX;

        if (o->short_opt != 0 && o->alias_of == NULL) {
            so[sp++] = (char)o->short_opt;
            if (!is_bool) {
                so[sp++] = ':';
            }
        }
        ec2ha_opts__long_name(o, name, EC2HA_OPT_NAME_MAX);
        lo[i].name = name;
        /* --flag means true; --flag=false turns a default-true flag off. */
        lo[i].has_arg = is_bool ? optional_argument : required_argument;
        lo[i].flag = NULL;
        lo[i].val = OPTS_LONG_VAL_BASE + (int)i;
    }
    *shortopts_out = so;
    *longopts_out = lo;
    *names_out = names;
    return EC2HA_OK;
}

static int row_for_short(const ec2ha_opt_values *v, int c)
{
    size_t i;

    for (i = 0; i < v->n && i < INT_MAX; i++) {
        if (v->table[i].short_opt == c && v->table[i].alias_of == NULL) {
            return (int)i;
        }
    }
    return -1;
}

ec2ha_rc ec2ha_opts_parse_argv(ec2ha_opt_values *v, int argc, char **argv, int *next_arg_out,
                               ec2ha_error *err)
{
    struct option *longopts = NULL;
    char *shortopts = NULL;
    char *names = NULL;
    ec2ha_rc rc = EC2HA_ERR_INVALID;
    int c;

    if (v == NULL || v->table == NULL || argv == NULL || argc < 1) {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID, "option parser called without argv");
    }
    rc = build_getopt(v, &shortopts, &longopts, &names, err);
    if (rc != EC2HA_OK) {
        return rc;
    }
    opterr = 0;
    optind = 0;   /* glibc: full re-initialisation, so the parser can run again */
    while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
        const char *arg = optarg;
        const char *shown = NULL;
        int row;

        if (c == '?' || c == ':') {
            const char *bad = optind > 0 && optind <= argc ? argv[optind - 1] : "";

            if (c == ':') {
                rc = ec2ha_error_set(err, EC2HA_ERR_INVALID,
                                     "option %s needs a value; see --help", bad);
            } else if (optopt != 0 && optopt < OPTS_LONG_VAL_BASE) {
                rc = ec2ha_error_set(err, EC2HA_ERR_INVALID, "unknown option -%c; see --help",
                                     optopt);
            } else {
                rc = ec2ha_error_set(err, EC2HA_ERR_INVALID,
                                     "unknown or ambiguous option %s; see --help", bad);
            }
            goto cleanup;
        }
        row = c >= OPTS_LONG_VAL_BASE ? c - OPTS_LONG_VAL_BASE : row_for_short(v, c);
        if (row < 0 || (size_t)row >= v->n) {
            rc = ec2ha_error_set(err, EC2HA_ERR_INVALID, "unknown option -%c; see --help", c);
            goto cleanup;
        }
        shown = v->table[row].name;
        if (v->table[ec2ha_opts__target(v->table, v->n, (size_t)row)].type == EC2HA_OPT_BOOL
            && arg == NULL) {
            arg = "true";
        }
        rc = ec2ha_opts_set(v, shown, arg, EC2HA_ORIGIN_ARGV, err);
        if (rc != EC2HA_OK) {
            goto cleanup;
        }
        if ((v->table[ec2ha_opts__target(v->table, v->n, (size_t)row)].flags
             & EC2HA_OPT_SECRET) != 0) {
            ec2ha_warn("%s was given on the command line, where every local user can read it "
                       "in the process list (ps); pass it on standard input, in a profile or "
                       "through the instance role instead", shown);
        }
    }
    if (next_arg_out != NULL) {
        *next_arg_out = optind;
    }
    rc = EC2HA_OK;
cleanup:
    free(shortopts);
    free(longopts);
    free(names);
    return rc;
}

/* ---- getters ---------------------------------------------------------------- */

const char *ec2ha_opts_get(const ec2ha_opt_values *v, const char *name)
{
    int i = ec2ha_opts_find(v, name);

    if (i < 0) {
        return NULL;
    }
    return v->values[i] != NULL ? v->values[i] : v->table[i].default_value;
}

bool ec2ha_opts_is_set(const ec2ha_opt_values *v, const char *name)
{
    int i = ec2ha_opts_find(v, name);

    return i >= 0 && v->values[i] != NULL;
}

unsigned ec2ha_opts_count(const ec2ha_opt_values *v, const char *name)
{
    int i = ec2ha_opts_find(v, name);

    return i >= 0 ? v->counts[i] : 0;
}

static ec2ha_rc get_checked(const ec2ha_opt_values *v, const char *name, int *idx_out,
                            const char **value_out, ec2ha_error *err)
{
    int i = ec2ha_opts_find(v, name);

    if (i < 0) {
        return ec2ha_error_set(err, EC2HA_ERR_NOT_FOUND, "unknown option '%s'",
                               name != NULL ? name : "");
    }
    *idx_out = i;
    *value_out = v->values[i] != NULL ? v->values[i] : v->table[i].default_value;
    if (*value_out == NULL) {
        return ec2ha_error_set(err, EC2HA_ERR_NOT_FOUND, "option %s is not set",
                               v->table[i].name);
    }
    return EC2HA_OK;
}

ec2ha_rc ec2ha_opts_get_bool(const ec2ha_opt_values *v, const char *name, bool *out,
                             ec2ha_error *err)
{
    const char *value = NULL;
    ec2ha_rc rc;
    int i = -1;

    rc = get_checked(v, name, &i, &value, err);
    if (rc != EC2HA_OK) {
        return rc;
    }
    rc = ec2ha_parse_bool(value, out, err);
    if (rc != EC2HA_OK) {
        ec2ha_error_prefix(err, "option %s (%s)", v->table[i].name,
                           ec2ha_opt_origin_str(v->origins[i]));
    }
    return rc;
}

static const char *origin_of(const ec2ha_opt_values *v, int i)
{
    return v->values[i] != NULL ? ec2ha_opt_origin_str(v->origins[i]) : "default";
}

ec2ha_rc ec2ha_opts_get_long(const ec2ha_opt_values *v, const char *name, long min, long max,
                             long *out, ec2ha_error *err)
{
    char what[EC2HA_OPT_NAME_MAX + 64];
    const char *value = NULL;
    ec2ha_rc rc;
    int i = -1;

    rc = get_checked(v, name, &i, &value, err);
    if (rc != EC2HA_OK) {
        return rc;
    }
    snprintf(what, sizeof(what), "option %s (from %s)", v->table[i].name, origin_of(v, i));
    rc = ec2ha_parse_long(what, value, min, max, out, err);
    if (rc != EC2HA_OK) {
        append_next_step(err);
    }
    return rc;
}

ec2ha_rc ec2ha_opts_get_seconds(const ec2ha_opt_values *v, const char *name, double max,
                                double *out, ec2ha_error *err)
{
    char what[EC2HA_OPT_NAME_MAX + 64];
    const char *value = NULL;
    ec2ha_rc rc;
    int i = -1;

    rc = get_checked(v, name, &i, &value, err);
    if (rc != EC2HA_OK) {
        return rc;
    }
    snprintf(what, sizeof(what), "option %s (from %s)", v->table[i].name, origin_of(v, i));
    rc = ec2ha_parse_seconds(what, value, max, out, err);
    if (rc != EC2HA_OK) {
        append_next_step(err);
    }
    return rc;
}

ec2ha_rc ec2ha_opts_check_required(const ec2ha_opt_values *v, ec2ha_error *err)
{
    size_t i;

    if (v == NULL || v->table == NULL) {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID, "option values not initialised");
    }
    for (i = 0; i < v->n; i++) {
        const ec2ha_option *o = &v->table[i];

        if (o->alias_of == NULL && (o->flags & EC2HA_OPT_REQUIRED) && v->values[i] == NULL
            && o->default_value == NULL) {
            return ec2ha_error_set(err, EC2HA_ERR_INVALID,
                                   "required option %s is not set; set it and try again",
                                   o->name);
        }
    }
    return EC2HA_OK;
}

const char *ec2ha_opt_origin_str(ec2ha_opt_origin origin)
{
    switch (origin) {
    case EC2HA_ORIGIN_DEFAULT:
        return "default";
    case EC2HA_ORIGIN_STDIN:
        return "stdin";
    case EC2HA_ORIGIN_ARGV:
        return "command line";
    case EC2HA_ORIGIN_ENV:
        return "environment";
    case EC2HA_ORIGIN_FILE:
        return "settings file";
    }
    return "unknown";
}

/* A URL scheme ends at `end` ("http" in "http://"): a letter, then letters, digits, + - . */
static bool scheme_before(const char *start, const char *end)
{
    const char *p = end;

    while (p > start && (isalnum((unsigned char)p[-1]) || p[-1] == '+' || p[-1] == '-' ||
                         p[-1] == '.')) {
        p--;
    }
    return p < end && isalpha((unsigned char)*p);
}

char *ec2ha_opts_mask_userinfo(const char *value)
{
    ec2ha_buf b;
    const char *p = value;
    const char *sep;

    if (value == NULL) {
        return NULL;
    }
    ec2ha_buf_init_secret(&b, strlen(value) * 2 + 16);
    while ((sep = strstr(p, "://")) != NULL) {
        const char *auth = sep + 3;
        size_t auth_len = strcspn(auth, "/?#");
        const char *at = NULL;
        const char *colon;

        for (size_t k = 0; k < auth_len; k++) {
            if (auth[k] == '@') {
                at = auth + k;       /* the last '@' ends the userinfo */
            }
        }
        if (at == NULL || !scheme_before(p, sep)) {
            if (ec2ha_buf_append(&b, p, (size_t)(auth - p)) != EC2HA_OK) {
                return NULL;
            }
            p = auth;
            continue;
        }
        colon = memchr(auth, ':', (size_t)(at - auth));
        /* user:password@ keeps the user; a lone token@ is hidden as a whole */
        if (ec2ha_buf_append(&b, p, (size_t)((colon != NULL ? colon + 1 : auth) - p)) !=
                EC2HA_OK ||
            ec2ha_buf_append_str(&b, "****") != EC2HA_OK) {
            return NULL;
        }
        p = at;
    }
    if (ec2ha_buf_append_str(&b, p) != EC2HA_OK) {
        return NULL;
    }
    return ec2ha_buf_steal(&b);
}

void ec2ha_opts_log_effective(const ec2ha_opt_values *v)
{
    size_t i;

    /* every agent run comes here: copy and mask nothing unless it will be logged */
    if (v == NULL || v->table == NULL || !ec2ha_log_enabled(EC2HA_LOG_DEBUG)) {
        return;
    }
    for (i = 0; i < v->n; i++) {
        const ec2ha_option *o = &v->table[i];
        const char *value = v->values[i] != NULL ? v->values[i] : o->default_value;
        char *shown = NULL;

        if (o->alias_of != NULL || value == NULL) {
            continue;
        }
        if (!(o->flags & EC2HA_OPT_SECRET)) {
            /* a password in a URL (proxy, endpoint) never reaches the log either */
            shown = ec2ha_opts_mask_userinfo(value);
        }
        ec2ha_debug("option %s=%s (%s)", o->name, shown != NULL ? shown : "****",
                    origin_of(v, (int)i));
        ec2ha_free_secret(shown);
    }
}
