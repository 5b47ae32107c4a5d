/*
 * json.c - a small strict JSON reader (RFC 8259) for the flat objects AWS
 * hands us.  Every call validates the whole document: one top-level object,
 * nesting at most JSON_MAX_DEPTH deep, strings in valid UTF-8 without raw
 * control characters, escapes including \uXXXX surrogate pairs, numbers in the
 * RFC grammar, nothing but whitespace after the closing brace.  Top-level
 * members are looked up by their unescaped name; a name present twice is an
 * error (an ambiguous credential document is refused, not guessed at).
 * Error messages give offsets, never document content (it may be a secret).
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ec2ha/buf.h"
#include "ec2ha/json.h"

#define JSON_MAX_DEPTH 64
#define JSON_MAX_STRING ((size_t)1024 * 1024)

typedef enum json_type {
    JSON_NONE = 0,
    JSON_STRING,
    JSON_NUMBER,
    JSON_OTHER      /* object, array, true, false, null */
} json_type;

typedef struct json_parser {
    const char *start;
    const char *p;
    const char *end;
    unsigned depth;
    ec2ha_error *err;
    /* the member looked for at the top level (NULL: validate only) */
    const char *key;
    const char *found;          /* start of its value */
    json_type found_type;
    unsigned found_count;
} json_parser;

static ec2ha_rc parse_value(json_parser *ps, json_type *type_out);

static ec2ha_rc fail(json_parser *ps, const char *what)
{
    return ec2ha_error_set(ps->err, EC2HA_ERR_PARSE, "malformed JSON at offset %zu: %s",
                           (size_t)(ps->p - ps->start), what);
}

static void skip_ws(json_parser *ps)
{
    while (ps->p < ps->end &&
           (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')) {
        ps->p++;
    }
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* Four hex digits after "\u"; ps->p points at the first digit. */
static ec2ha_rc parse_hex4(json_parser *ps, uint32_t *out)
{
    uint32_t v = 0;

    if (ps->end - ps->p < 4) {
        return fail(ps, "truncated \\u escape");
    }
    for (int i = 0; i < 4; i++) {
        int h = hex_value(ps->p[i]);

        if (h < 0) {
            return fail(ps, "bad hex digit in \\u escape");
        }
        v = (v << 4) | (uint32_t)h;
    }
    ps->p += 4;
    *out = v;
    return EC2HA_OK;
}

static size_t utf8_encode(uint32_t cp, char out[4])
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Length of the valid UTF-8 sequence at p (>= 2 bytes, lead byte >= 0x80), 0 if invalid. */
static size_t utf8_valid_len(const unsigned char *p, const unsigned char *end)
{
    size_t n;
    uint32_t cp;
    uint32_t min;

    if (p[0] >= 0xC2 && p[0] <= 0xDF) {
        n = 2;
        cp = p[0] & 0x1Fu;
        min = 0x80;
    } else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
        n = 3;
        cp = p[0] & 0x0Fu;
        min = 0x800;
    } else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
        n = 4;
        cp = p[0] & 0x07u;
        min = 0x10000;
    } else {
        return 0;
    }
    if ((size_t)(end - p) < n) {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (p[i] & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        return 0;
    }
    return n;
}

/*
 * A string; ps->p at the opening quote.  The unescaped bytes go to out when
 * it is not NULL; *has_nul tells whether the value contains U+0000.
 */
static ec2ha_rc parse_string(json_parser *ps, ec2ha_buf *out, bool *has_nul)
{
    ec2ha_rc rc;

    if (has_nul != NULL) {
        *has_nul = false;
    }
    ps->p++;   /* opening quote */
    for (;;) {
        const char *run = ps->p;

        /* a run of plain bytes */
        while (ps->p < ps->end) {
            unsigned char c = (unsigned char)*ps->p;

            if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) {
                break;
            }
            ps->p++;
        }
        if (out != NULL && ps->p > run) {
            rc = ec2ha_buf_append(out, run, (size_t)(ps->p - run));
            if (rc != EC2HA_OK) {
                return ec2ha_error_set(ps->err, rc, "JSON string too large or out of memory");
            }
        }
        if (ps->p >= ps->end) {
            return fail(ps, "unterminated string");
        }
        unsigned char c = (unsigned char)*ps->p;

        if (c == '"') {
            ps->p++;
            return EC2HA_OK;
        }
        if (c < 0x20) {
            return fail(ps, "control character in string");
        }
        if (c >= 0x80) {
            size_t n = utf8_valid_len((const unsigned char *)ps->p, (const unsigned char *)ps->end);

            if (n == 0) {
                return fail(ps, "invalid UTF-8 in string");
            }
            if (out != NULL && ec2ha_buf_append(out, ps->p, n) != EC2HA_OK) {
                return ec2ha_error_set(ps->err, EC2HA_ERR_TOO_LARGE,
                                       "JSON string too large or out of memory");
            }
            ps->p += n;
            continue;
        }
        /* backslash escape */
        char enc[4];
        size_t enc_len = 1;

        ps->p++;
        if (ps->p >= ps->end) {
            return fail(ps, "unterminated escape");
        }
        switch (*ps->p) {
        case '"': enc[0] = '"'; break;
        case '\\': enc[0] = '\\'; break;
        case '/': enc[0] = '/'; break;
        case 'b': enc[0] = '\b'; break;
        case 'f': enc[0] = '\f'; break;
        case 'n': enc[0] = '\n'; break;
        case 'r': enc[0] = '\r'; break;
        case 't': enc[0] = '\t'; break;
        case 'u': {
            uint32_t cp;
            uint32_t lo;

            ps->p++;
            rc = parse_hex4(ps, &cp);
            if (rc != EC2HA_OK) {
                return rc;
            }
            if (cp >= 0xDC00 && cp <= 0xDFFF) {
                return fail(ps, "lone low surrogate in \\u escape");
            }
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (ps->end - ps->p < 2 || ps->p[0] != '\\' || ps->p[1] != 'u') {
                    return fail(ps, "high surrogate not followed by a low surrogate");
                }
                ps->p += 2;
                rc = parse_hex4(ps, &lo);
                if (rc != EC2HA_OK) {
                    return rc;
                }
                if (lo < 0xDC00 || lo > 0xDFFF) {
                    return fail(ps, "high surrogate not followed by a low surrogate");
                }
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            if (cp == 0 && has_nul != NULL) {
                *has_nul = true;
            }
            enc_len = utf8_encode(cp, enc);
            ps->p--;   /* the switch's common increment below */
            break;
        }
        default:
            return fail(ps, "unknown escape in string");
        }
        ps->p++;
        if (out != NULL && ec2ha_buf_append(out, enc, enc_len) != EC2HA_OK) {
            ec2ha_secure_zero(enc, sizeof(enc));
            return ec2ha_error_set(ps->err, EC2HA_ERR_TOO_LARGE,
                                   "JSON string too large or out of memory");
        }
        ec2ha_secure_zero(enc, sizeof(enc));
    }
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* number = [ minus ] int [ frac ] [ exp ]; *integer tells whether frac and exp are absent. */
static ec2ha_rc parse_number(json_parser *ps, bool *integer)
{
    *integer = true;
    if (ps->p < ps->end && *ps->p == '-') {
        ps->p++;
    }
    if (ps->p >= ps->end || !is_digit(*ps->p)) {
        return fail(ps, "expected a digit");
    }
    if (*ps->p == '0') {
        ps->p++;
        if (ps->p < ps->end && is_digit(*ps->p)) {
            return fail(ps, "leading zero in number");
        }
    } else {
        while (ps->p < ps->end && is_digit(*ps->p)) {
            ps->p++;
        }
    }
    if (ps->p < ps->end && *ps->p == '.') {
        *integer = false;
        ps->p++;
        if (ps->p >= ps->end || !is_digit(*ps->p)) {
            return fail(ps, "expected a digit after the decimal point");
        }
        while (ps->p < ps->end && is_digit(*ps->p)) {
            ps->p++;
        }
    }
    if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
        *integer = false;
        ps->p++;
        if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-')) {
            ps->p++;
        }
        if (ps->p >= ps->end || !is_digit(*ps->p)) {
            return fail(ps, "expected a digit in the exponent");
        }
        while (ps->p < ps->end && is_digit(*ps->p)) {
            ps->p++;
        }
    }
    return EC2HA_OK;
}

static ec2ha_rc parse_literal(json_parser *ps, const char *lit)
{
    size_t n = strlen(lit);

    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, lit, n) != 0) {
        return fail(ps, "unexpected character");
    }
    ps->p += n;
    return EC2HA_OK;
}

/* Object or array; ps->p at the opening bracket. */
static ec2ha_rc parse_container(json_parser *ps, bool is_object)
{
    char close = is_object ? '}' : ']';
    bool top = ps->depth == 0;
    ec2ha_buf name;
    ec2ha_rc rc = EC2HA_OK;

    ec2ha_buf_init(&name, JSON_MAX_STRING);
    if (ps->depth >= JSON_MAX_DEPTH) {
        rc = fail(ps, "nesting too deep");
        goto done;
    }
    ps->depth++;
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        goto out;
    }
    for (;;) {
        bool match = false;
        json_type type = JSON_NONE;
        const char *value_start;

        skip_ws(ps);
        if (is_object) {
            bool has_nul = false;

            if (ps->p >= ps->end || *ps->p != '"') {
                rc = fail(ps, "expected a member name");
                goto done;
            }
            ec2ha_buf_reset(&name);
            rc = parse_string(ps, top && ps->key != NULL ? &name : NULL, &has_nul);
            if (rc != EC2HA_OK) {
                goto done;
            }
            match = top && ps->key != NULL && !has_nul &&
                    strcmp(ec2ha_buf_str(&name), ps->key) == 0;
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':') {
                rc = fail(ps, "expected ':' after a member name");
                goto done;
            }
            ps->p++;
            skip_ws(ps);
        }
        value_start = ps->p;
        rc = parse_value(ps, &type);
        if (rc != EC2HA_OK) {
            goto done;
        }
        if (match) {
            ps->found = value_start;
            ps->found_type = type;
            ps->found_count++;
        }
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == close) {
            ps->p++;
            break;
        }
        rc = fail(ps, is_object ? "expected ',' or '}'" : "expected ',' or ']'");
        goto done;
    }
out:
    ps->depth--;
done:
    ec2ha_buf_free(&name);
    return rc;
}

static ec2ha_rc parse_value(json_parser *ps, json_type *type_out)
{
    bool integer;

    skip_ws(ps);
    if (ps->p >= ps->end) {
        return fail(ps, "unexpected end of document");
    }
    switch (*ps->p) {
    case '{':
        *type_out = JSON_OTHER;
        return parse_container(ps, true);
    case '[':
        *type_out = JSON_OTHER;
        return parse_container(ps, false);
    case '"':
        *type_out = JSON_STRING;
        return parse_string(ps, NULL, NULL);
    case 't':
        *type_out = JSON_OTHER;
        return parse_literal(ps, "true");
    case 'f':
        *type_out = JSON_OTHER;
        return parse_literal(ps, "false");
    case 'n':
        *type_out = JSON_OTHER;
        return parse_literal(ps, "null");
    default:
        *type_out = JSON_NUMBER;
        return parse_number(ps, &integer);
    }
}

/* Validate the document as one top-level object, looking for key (may be NULL). */
static ec2ha_rc parse_document(json_parser *ps, const char *json, size_t len, const char *key,
                               ec2ha_error *err)
{
    ec2ha_rc rc;

    memset(ps, 0, sizeof(*ps));
    ps->start = json;
    ps->p = json;
    ps->end = json + len;
    ps->err = err;
    ps->key = key;
    if (json == NULL) {
        return ec2ha_error_set(err, EC2HA_ERR_PARSE, "malformed JSON: empty document");
    }
    skip_ws(ps);
    if (ps->p >= ps->end || *ps->p != '{') {
        return fail(ps, "expected a JSON object");
    }
    rc = parse_container(ps, true);
    if (rc != EC2HA_OK) {
        return rc;
    }
    skip_ws(ps);
    if (ps->p != ps->end) {
        return fail(ps, "trailing data after the object");
    }
    if (key != NULL && ps->found_count > 1) {
        return ec2ha_error_set(err, EC2HA_ERR_PARSE, "malformed JSON: member \"%s\" appears %u times",
                               key, ps->found_count);
    }
    return EC2HA_OK;
}

ec2ha_rc ec2ha_json_validate_object(const char *json, size_t len, ec2ha_error *err)
{
    json_parser ps;

    return parse_document(&ps, json, len, NULL, err);
}

ec2ha_rc ec2ha_json_get_string(const char *json, size_t len, const char *key, char **out,
                               ec2ha_error *err)
{
    json_parser ps;
    ec2ha_buf value;
    bool has_nul = false;
    char *copy = NULL;
    ec2ha_rc rc;

    ec2ha_buf_init_secret(&value, JSON_MAX_STRING);
    rc = parse_document(&ps, json, len, key, err);
    if (rc != EC2HA_OK) {
        goto done;
    }
    if (ps.found_count == 0) {
        rc = ec2ha_error_set(err, EC2HA_ERR_NOT_FOUND, "JSON member \"%s\" is missing", key);
        goto done;
    }
    if (ps.found_type != JSON_STRING) {
        rc = ec2ha_error_set(err, EC2HA_ERR_PARSE, "JSON member \"%s\" is not a string", key);
        goto done;
    }
    ps.p = ps.found;
    rc = parse_string(&ps, &value, &has_nul);
    if (rc != EC2HA_OK) {
        goto done;
    }
    if (has_nul) {
        rc = ec2ha_error_set(err, EC2HA_ERR_PARSE, "JSON member \"%s\" contains a NUL character",
                             key);
        goto done;
    }
    copy = ec2ha_buf_steal(&value);
    if (copy == NULL) {
        rc = ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory reading JSON member \"%s\"", key);
        goto done;
    }
    *out = copy;
    rc = EC2HA_OK;
done:
    ec2ha_buf_free(&value);
    return rc;
}

ec2ha_rc ec2ha_json_get_long(const char *json, size_t len, const char *key, long *out,
                             ec2ha_error *err)
{
    json_parser ps;
    char digits[32];
    const char *num_end;
    char *endp = NULL;
    bool integer = true;
    long v;
    ec2ha_rc rc;

    rc = parse_document(&ps, json, len, key, err);
    if (rc != EC2HA_OK) {
        return rc;
    }
    if (ps.found_count == 0) {
        return ec2ha_error_set(err, EC2HA_ERR_NOT_FOUND, "JSON member \"%s\" is missing", key);
    }
    if (ps.found_type != JSON_NUMBER) {
        return ec2ha_error_set(err, EC2HA_ERR_PARSE, "JSON member \"%s\" is not a number", key);
    }
    ps.p = ps.found;
    rc = parse_number(&ps, &integer);
    if (rc != EC2HA_OK) {
        return rc;
    }
    num_end = ps.p;
    if (!integer) {
        return ec2ha_error_set(err, EC2HA_ERR_PARSE, "JSON member \"%s\" is not an integer", key);
    }
    if ((size_t)(num_end - ps.found) >= sizeof(digits)) {
        return ec2ha_error_set(err, EC2HA_ERR_PARSE, "JSON member \"%s\" is out of range", key);
    }
    memcpy(digits, ps.found, (size_t)(num_end - ps.found));
    digits[num_end - ps.found] = '\0';
    errno = 0;
    v = strtol(digits, &endp, 10);
    if (errno == ERANGE || endp == digits || *endp != '\0') {
        return ec2ha_error_set(err, EC2HA_ERR_PARSE, "JSON member \"%s\" is out of range", key);
    }
    *out = v;
    return EC2HA_OK;
}
