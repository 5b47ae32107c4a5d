/*
 * sigv4_canon.c - SigV4 stage 1: the canonical request (URI and query parts
 * in sigv4_uri.c).
 *
 *   CanonicalRequest = HTTPRequestMethod + '\n' + CanonicalURI + '\n' +
 *                      CanonicalQueryString + '\n' + CanonicalHeaders + '\n' +
 *                      SignedHeaders + '\n' + HexEncode(Hash(RequestPayload))
 *
 * Rules follow the AWS SigV4 test suite (tests/data/aws-sigv4-testsuite):
 *  - CanonicalURI: the path as sent on the request line, dot segments removed
 *    and slash runs collapsed when normalize_path, then URI-encoded with '/'
 *    kept (so an already percent-encoded path is encoded again, as every
 *    service but S3 expects).
 *  - CanonicalQueryString: split on '&', key and value split on the first
 *    '=', each percent-decoded and re-encoded (so "%e1" and a raw byte both
 *    come out as "%E1"), sorted by encoded key then encoded value; a key
 *    without '=' gets an empty value.  '+' is kept literally (encoded %2B).
 *  - CanonicalHeaders: names lowercased, values trimmed with every inner
 *    whitespace run (spaces, tabs, folded line breaks) collapsed to one space,
 *    duplicate names joined with ',' in the order given, sorted by name.
 */
#include <stdlib.h>
#include <string.h>

#include "ec2ha/sigv4.h"
#include "sigv4_private.h"

#define MAX_HEADERS 256

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* ---- headers --------------------------------------------------------------- */

typedef struct canon_header {
    char *name;         /* lowercased */
    size_t index;       /* position in the request, keeps duplicates in order */
    const char *value;
} canon_header;

static int cmp_header(const void *a, const void *b)
{
    const canon_header *ha = a;
    const canon_header *hb = b;
    int c = strcmp(ha->name, hb->name);

    if (c != 0) {
        return c;
    }
    return ha->index < hb->index ? -1 : (ha->index > hb->index ? 1 : 0);
}

/* Trimmed value, whitespace runs collapsed to one space. */
static ec2ha_rc append_header_value(ec2ha_buf *out, const char *v)
{
    ec2ha_rc rc = EC2HA_OK;
    bool pending_space = false;
    bool any = false;

    for (; *v != '\0' && rc == EC2HA_OK; v++) {
        if (is_ws(*v)) {
            pending_space = any;
            continue;
        }
        if (pending_space) {
            rc = ec2ha_buf_append(out, " ", 1);
            pending_space = false;
        }
        if (rc == EC2HA_OK) {
            rc = ec2ha_buf_append(out, v, 1);
        }
        any = true;
    }
    return rc;
}

static bool valid_header_name(const char *name)
{
    const unsigned char *p = (const unsigned char *)name;

    if (name == NULL || *p == '\0') {
        return false;
    }
    for (; *p != '\0'; p++) {
        if (*p <= ' ' || *p >= 0x7f || *p == ':') {
            return false;
        }
    }
    return true;
}

static ec2ha_rc canonical_headers(const ec2ha_sigv4_request *req, ec2ha_buf *out,
                                  ec2ha_buf *signed_out, ec2ha_error *err)
{
    canon_header *hs = NULL;
    size_t i;
    size_t n = 0;
    ec2ha_rc rc = EC2HA_OK;

    if (req->n_headers == 0 || req->headers == NULL) {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID,
                               "SigV4: the request has no headers; at least Host must be signed");
    }
    if (req->n_headers > MAX_HEADERS) {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID,
                               "SigV4: %zu headers given, at most %d can be signed",
                               req->n_headers, MAX_HEADERS);
    }
    hs = calloc(req->n_headers, sizeof(*hs));
    if (hs == NULL) {
        rc = ec2ha_error_set(err, EC2HA_ERR_NOMEM, "SigV4: out of memory for headers");
        goto cleanup;
    }
    for (n = 0; n < req->n_headers; n++) {
        const ec2ha_sigv4_header *h = &req->headers[n];
        char *q;

        if (!valid_header_name(h->name)) {
            rc = ec2ha_error_set(err, EC2HA_ERR_INVALID,
                                 "SigV4: header %zu has an empty or invalid name; names must be "
                                 "visible ASCII without ':'", n + 1);
            goto cleanup;
        }
        hs[n].name = strdup(h->name);
        if (hs[n].name == NULL) {
            rc = ec2ha_error_set(err, EC2HA_ERR_NOMEM, "SigV4: out of memory for headers");
            goto cleanup;
        }
        for (q = hs[n].name; *q != '\0'; q++) {
            if (*q >= 'A' && *q <= 'Z') {
                *q = (char)(*q - 'A' + 'a');
            }
        }
        hs[n].index = n;
        hs[n].value = h->value != NULL ? h->value : "";
    }
    qsort(hs, n, sizeof(*hs), cmp_header);

    for (i = 0; i < n && rc == EC2HA_OK; i++) {
        bool same_as_prev = i > 0 && strcmp(hs[i].name, hs[i - 1].name) == 0;

        if (same_as_prev) {
            rc = ec2ha_buf_append(out, ",", 1);
        } else {
            if (i > 0) {
                rc = ec2ha_buf_append(out, "\n", 1);
                if (rc == EC2HA_OK) {
                    rc = ec2ha_buf_append(signed_out, ";", 1);
                }
            }
            if (rc == EC2HA_OK) {
                rc = ec2ha_buf_printf(out, "%s:", hs[i].name);
            }
            if (rc == EC2HA_OK) {
                rc = ec2ha_buf_append_str(signed_out, hs[i].name);
            }
        }
        if (rc == EC2HA_OK) {
            rc = append_header_value(out, hs[i].value);
        }
    }
    if (rc == EC2HA_OK) {
        rc = ec2ha_buf_append(out, "\n", 1);
    }
    if (rc != EC2HA_OK) {
        ec2ha_error_set(err, rc, "SigV4: canonical headers too large or out of memory");
    }

cleanup:
    if (hs != NULL) {
        for (i = 0; i < req->n_headers; i++) {
            free(hs[i].name);
        }
        free(hs);
    }
    return rc;
}

/* ---- stage 1 ------------------------------------------------------------------ */

ec2ha_rc ec2ha_sigv4_canonical_request(const ec2ha_sigv4_request *req, bool normalize_path,
                                       char **canonical_out, char **signed_headers_out,
                                       ec2ha_error *err)
{
    ec2ha_buf canon;
    ec2ha_buf signed_headers;
    char payload_hash[65];
    ec2ha_rc rc = EC2HA_ERR_INVALID;
    const char *m;

    /* secret: the canonical headers hold X-Amz-Security-Token; no stray copies on realloc */
    ec2ha_buf_init_secret(&canon, SIGV4_CANON_CAP);
    ec2ha_buf_init(&signed_headers, SIGV4_CANON_CAP);
    if (canonical_out == NULL || signed_headers_out == NULL || req == NULL) {
        ec2ha_error_set(err, EC2HA_ERR_INVALID, "SigV4: missing request or output argument");
        goto cleanup;
    }
    *canonical_out = NULL;
    *signed_headers_out = NULL;
    if (req->method == NULL || req->method[0] == '\0') {
        ec2ha_error_set(err, EC2HA_ERR_INVALID, "SigV4: the request has no HTTP method");
        goto cleanup;
    }
    for (m = req->method; *m != '\0'; m++) {
        if (*m < 'A' || *m > 'Z') {
            ec2ha_error_set(err, EC2HA_ERR_INVALID,
                            "SigV4: HTTP method must be upper-case letters (e.g. POST)");
            goto cleanup;
        }
    }
    if (req->payload == NULL && req->payload_len > 0) {
        ec2ha_error_set(err, EC2HA_ERR_INVALID, "SigV4: payload length without payload");
        goto cleanup;
    }

    rc = ec2ha_buf_printf(&canon, "%s\n", req->method);
    if (rc == EC2HA_OK) {
        rc = ec2ha_sigv4_canonical_uri(req->path, normalize_path, &canon);
    }
    if (rc == EC2HA_OK) {
        rc = ec2ha_buf_append(&canon, "\n", 1);
    }
    if (rc != EC2HA_OK) {
        ec2ha_error_set(err, rc, "SigV4: request path too long or out of memory");
        goto cleanup;
    }
    rc = ec2ha_sigv4_canonical_query(req->query, &canon, err);
    if (rc != EC2HA_OK) {
        goto cleanup;
    }
    rc = ec2ha_buf_append(&canon, "\n", 1);
    if (rc != EC2HA_OK) {
        ec2ha_error_set(err, rc, "SigV4: out of memory");
        goto cleanup;
    }
    rc = canonical_headers(req, &canon, &signed_headers, err);
    if (rc != EC2HA_OK) {
        goto cleanup;
    }
    ec2ha_sigv4_sha256_hex(req->payload != NULL ? req->payload : "", req->payload_len,
                           payload_hash);
    rc = ec2ha_buf_printf(&canon, "\n%s\n%s", ec2ha_buf_str(&signed_headers), payload_hash);
    if (rc != EC2HA_OK) {
        ec2ha_error_set(err, rc, "SigV4: canonical request too large or out of memory");
        goto cleanup;
    }
    *canonical_out = ec2ha_buf_steal(&canon);
    *signed_headers_out = ec2ha_buf_steal(&signed_headers);
    if (*canonical_out == NULL || *signed_headers_out == NULL) {
        free(*canonical_out);
        free(*signed_headers_out);
        *canonical_out = NULL;
        *signed_headers_out = NULL;
        rc = ec2ha_error_set(err, EC2HA_ERR_NOMEM, "SigV4: out of memory");
        goto cleanup;
    }
    rc = EC2HA_OK;

cleanup:
    ec2ha_buf_free(&canon);
    ec2ha_buf_free(&signed_headers);
    return rc;
}
