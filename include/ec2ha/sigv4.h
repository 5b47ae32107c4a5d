/*
 * ec2ha/sigv4.h - AWS Signature Version 4, as a pipeline of pure stages.
 *
 *   request -> canonical request -> string to sign -> signature -> Authorization
 *
 * No I/O and no clock reads: the time is a parameter.  The caller puts every
 * header it will send into the request, including Host, X-Amz-Date (see
 * ec2ha_sigv4_format_amz_date) and, with temporary credentials,
 * X-Amz-Security-Token, so the token is signed (unlike curl's signer).
 * Derived keys and the "AWS4"+secret buffer are wiped before returning.
 * Results are heap strings owned by the caller (ec2ha_sigv4_result_free).
 */
#ifndef EC2HA_SIGV4_H
#define EC2HA_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "ec2ha/buf.h"
#include "ec2ha/error.h"

#define EC2HA_SIGV4_ALGORITHM "AWS4-HMAC-SHA256"
#define EC2HA_HEADER_AMZ_DATE "X-Amz-Date"
#define EC2HA_HEADER_SECURITY_TOKEN "X-Amz-Security-Token"
#define EC2HA_HEADER_AUTHORIZATION "Authorization"
#define EC2HA_SIGV4_AMZ_DATE_LEN 16   /* 20150830T123600Z */

typedef struct ec2ha_sigv4_header {
    const char *name;
    const char *value;
} ec2ha_sigv4_header;

typedef struct ec2ha_sigv4_request {
    const char *method;                 /* "GET", "POST" */
    const char *path;                   /* as on the request line, e.g. "/" */
    const char *query;                  /* without '?'; NULL or "" for none */
    const ec2ha_sigv4_header *headers;  /* every header sent (duplicates allowed) */
    size_t n_headers;
    const void *payload;
    size_t payload_len;
} ec2ha_sigv4_request;

typedef struct ec2ha_sigv4_params {
    const char *access_key_id;
    const char *secret_access_key;
    const char *region;                 /* "us-east-1" */
    const char *service;                /* "ec2" */
    time_t now;                         /* UTC seconds; injected clock */
    bool normalize_path;                /* true for every service but S3 */
} ec2ha_sigv4_params;

typedef struct ec2ha_sigv4_result {
    char *canonical_request;
    char *string_to_sign;
    char *signed_headers;               /* "host;x-amz-date" */
    char signature[65];                 /* lowercase hex */
    char *authorization;                /* full Authorization header value */
} ec2ha_sigv4_result;

/* "20150830T123600Z" into out (at least 17 bytes). */
void ec2ha_sigv4_format_amz_date(time_t now, char out[EC2HA_SIGV4_AMZ_DATE_LEN + 1]);

/* Lowercase hex SHA-256 of data into out (65 bytes). */
void ec2ha_sigv4_sha256_hex(const void *data, size_t len, char out[65]);

/* URI-encode per SigV4 (unreserved A-Z a-z 0-9 - _ . ~ kept; '/' kept when keep_slash). */
ec2ha_rc ec2ha_sigv4_uri_encode(const char *in, size_t len, bool keep_slash, ec2ha_buf *out);

/* Stage 1: canonical request and the signed-headers list. */
ec2ha_rc ec2ha_sigv4_canonical_request(const ec2ha_sigv4_request *req, bool normalize_path,
                                       char **canonical_out, char **signed_headers_out,
                                       ec2ha_error *err);

/* Stage 2: string to sign from the time, scope parts and canonical request. */
ec2ha_rc ec2ha_sigv4_string_to_sign(time_t now, const char *region, const char *service,
                                    const char *canonical_request, char **out, ec2ha_error *err);

/* Stage 3: the signing key (kSigning), 32 bytes.  Wipe it after use. */
ec2ha_rc ec2ha_sigv4_signing_key(const char *secret_access_key, time_t now, const char *region,
                                 const char *service, unsigned char key_out[32], ec2ha_error *err);

/* All stages: fills out (zero it first); on error out is left empty. */
ec2ha_rc ec2ha_sigv4_sign(const ec2ha_sigv4_request *req, const ec2ha_sigv4_params *params,
                          ec2ha_sigv4_result *out, ec2ha_error *err);
void ec2ha_sigv4_result_free(ec2ha_sigv4_result *r);

/* Constant-time comparison of two equal-length MACs / signatures. */
bool ec2ha_sigv4_equal(const char *a, const char *b);

#endif
