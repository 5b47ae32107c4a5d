/*
 * sigv4_uri.c - SigV4 URI encoding, CanonicalURI and CanonicalQueryString.
 *
 *  - CanonicalURI: the path as sent on the request line, dot segments removed
 *    and slash runs collapsed when normalising (every service but S3), then
 *    URI-encoded with '/' kept (so an already percent-encoded path is encoded
 *    again, as those services expect).
 *  - CanonicalQueryString: split on '&', key and value split on the first
 *    '=', each percent-decoded and re-encoded (so "%e1" and a raw byte both
 *    come out as "%E1"), sorted by encoded key then encoded value; a key
 *    without '=' gets an empty value.  '+' is kept literally (encoded %2B).
 */
#include <stdlib.h>
#include <string.h>

#include "ec2ha/sigv4.h"
#include "sigv4_private.h"

#define MAX_QUERY_PARAMS 1024
#define MAX_PATH_SEGMENTS 512

static bool is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_' || c == '.' || c == '~';
}

static int hex_val(char c)
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

ec2ha_rc ec2ha_sigv4_uri_encode(const char *in, size_t len, bool keep_slash, ec2ha_buf *out)
{
    static const char hex[] = "0123456789ABCDEF";
    ec2ha_rc rc = EC2HA_OK;
    size_t i;

    for (i = 0; i < len && rc == EC2HA_OK; i++) {
        unsigned char c = (unsigned char)in[i];

        if (is_unreserved(c) || (keep_slash && c == '/')) {
            rc = ec2ha_buf_append(out, &in[i], 1);
        } else {
            char enc[3] = { '%', hex[c >> 4], hex[c & 0x0f] };

            rc = ec2ha_buf_append(out, enc, sizeof(enc));
        }
    }
    return rc;
}

/* Percent-decode then SigV4-encode one query component. */
static ec2ha_rc encode_query_part(const char *in, size_t len, ec2ha_buf *out)
{
    ec2ha_rc rc = EC2HA_OK;
    size_t i;

    for (i = 0; i < len && rc == EC2HA_OK; i++) {
        char c = in[i];

        if (c == '%' && i + 2 < len && hex_val(in[i + 1]) >= 0 && hex_val(in[i + 2]) >= 0) {
            c = (char)(hex_val(in[i + 1]) * 16 + hex_val(in[i + 2]));
            i += 2;
        }
        rc = ec2ha_sigv4_uri_encode(&c, 1, false, out);
    }
    return rc;
}

/* ---- path ------------------------------------------------------------------ */

/* Remove dot segments and empty segments; result always starts with '/'. */
static ec2ha_rc normalize_path(const char *path, ec2ha_buf *out)
{
    size_t starts[MAX_PATH_SEGMENTS];
    size_t n_seg = 0;
    const char *p = path;
    bool trailing = false;
    ec2ha_rc rc = EC2HA_OK;

    /* out holds "/seg/seg..." ; starts[i] = offset of the '/' before segment i */
    while (*p != '\0' && rc == EC2HA_OK) {
        const char *seg;
        size_t len;

        while (*p == '/') {
            p++;
        }
        if (*p == '\0') {
            break;
        }
        seg = p;
        while (*p != '\0' && *p != '/') {
            p++;
        }
        len = (size_t)(p - seg);
        trailing = (*p == '/');
        if (len == 1 && seg[0] == '.') {
            trailing = true;
            continue;
        }
        if (len == 2 && seg[0] == '.' && seg[1] == '.') {
            if (n_seg > 0) {
                n_seg--;
                out->len = starts[n_seg];
                if (out->data != NULL) {
                    out->data[out->len] = '\0';
                }
            }
            trailing = true;
            continue;
        }
        if (n_seg == sizeof(starts) / sizeof(starts[0])) {
            return EC2HA_ERR_INVALID;
        }
        starts[n_seg++] = out->len;
        rc = ec2ha_buf_append(out, "/", 1);
        if (rc == EC2HA_OK) {
            rc = ec2ha_buf_append(out, seg, len);
        }
    }
    if (rc == EC2HA_OK && (n_seg == 0 || trailing)) {
        rc = ec2ha_buf_append(out, "/", 1);
    }
    return rc;
}

ec2ha_rc ec2ha_sigv4_canonical_uri(const char *path, bool normalize, ec2ha_buf *out)
{
    ec2ha_buf tmp;
    ec2ha_rc rc = EC2HA_OK;

    ec2ha_buf_init(&tmp, SIGV4_CANON_CAP);
    if (path == NULL || path[0] == '\0') {
        path = "/";
    }
    if (normalize) {
        rc = normalize_path(path, &tmp);
        if (rc == EC2HA_OK) {
            rc = ec2ha_sigv4_uri_encode(tmp.data, tmp.len, true, out);
        }
    } else {
        rc = ec2ha_sigv4_uri_encode(path, strlen(path), true, out);
    }
    ec2ha_buf_free(&tmp);
    return rc;
}

/* ---- query ----------------------------------------------------------------- */

typedef struct query_param {
    char *key;      /* encoded */
    char *value;    /* encoded */
} query_param;

static int cmp_param(const void *a, const void *b)
{
    const query_param *pa = a;
    const query_param *pb = b;
    int c = strcmp(pa->key, pb->key);

    return c != 0 ? c : strcmp(pa->value, pb->value);
}

static ec2ha_rc encode_to_string(const char *in, size_t len, char **out)
{
    ec2ha_buf b;
    ec2ha_rc rc;

    ec2ha_buf_init(&b, SIGV4_CANON_CAP);
    rc = encode_query_part(in, len, &b);
    if (rc == EC2HA_OK) {
        *out = ec2ha_buf_steal(&b);
        if (*out == NULL) {
            rc = EC2HA_ERR_NOMEM;
        }
    }
    ec2ha_buf_free(&b);
    return rc;
}

ec2ha_rc ec2ha_sigv4_canonical_query(const char *query, ec2ha_buf *out, ec2ha_error *err)
{
    query_param *params = NULL;
    size_t n = 0;
    size_t i;
    const char *p = query;
    ec2ha_rc rc = EC2HA_OK;

    if (query == NULL || query[0] == '\0') {
        return EC2HA_OK;
    }
    params = calloc(MAX_QUERY_PARAMS, sizeof(*params));
    if (params == NULL) {
        rc = ec2ha_error_set(err, EC2HA_ERR_NOMEM, "SigV4: out of memory for the query string");
        goto cleanup;
    }
    while (*p != '\0') {
        const char *end = strchr(p, '&');
        const char *eq;
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);

        if (len > 0) {
            if (n == MAX_QUERY_PARAMS) {
                rc = ec2ha_error_set(err, EC2HA_ERR_INVALID,
                                     "SigV4: query string has more than %d parameters",
                                     MAX_QUERY_PARAMS);
                goto cleanup;
            }
            eq = memchr(p, '=', len);
            rc = encode_to_string(p, eq != NULL ? (size_t)(eq - p) : len, &params[n].key);
            if (rc == EC2HA_OK) {
                rc = eq != NULL ? encode_to_string(eq + 1, len - (size_t)(eq + 1 - p),
                                                   &params[n].value)
                                : encode_to_string("", 0, &params[n].value);
            }
            n++;
            if (rc != EC2HA_OK) {
                ec2ha_error_set(err, rc, "SigV4: cannot encode the query string (%s)",
                                ec2ha_rc_str(rc));
                goto cleanup;
            }
        }
        if (end == NULL) {
            break;
        }
        p = end + 1;
    }
    qsort(params, n, sizeof(*params), cmp_param);
    for (i = 0; i < n && rc == EC2HA_OK; i++) {
        rc = ec2ha_buf_printf(out, "%s%s=%s", i > 0 ? "&" : "", params[i].key,
                              params[i].value);
    }
    if (rc != EC2HA_OK) {
        ec2ha_error_set(err, rc, "SigV4: canonical query string too large or out of memory");
    }

cleanup:
    if (params != NULL) {
        for (i = 0; i < n; i++) {
            free(params[i].key);
            free(params[i].value);
        }
        free(params);
    }
    return rc;
}
