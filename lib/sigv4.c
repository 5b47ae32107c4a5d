/*
 * sigv4.c - SigV4 stages 2-4: string to sign, signing key, Authorization.
 * Stage 1 (canonical request) is in sigv4_canon.c.
 *
 *   StringToSign = Algorithm + '\n' + RequestDateTime + '\n' +
 *                  CredentialScope + '\n' + HexEncode(Hash(CanonicalRequest))
 *   CredentialScope = YYYYMMDD + '/' + region + '/' + service + '/aws4_request'
 *   kSecret = "AWS4" + secret; kDate = HMAC(kSecret, YYYYMMDD);
 *   kRegion = HMAC(kDate, region); kService = HMAC(kRegion, service);
 *   kSigning = HMAC(kService, "aws4_request")
 *   Signature = HexEncode(HMAC(kSigning, StringToSign))
 *   Authorization = Algorithm + ' Credential=' + AccessKeyId + '/' + CredentialScope +
 *                   ', SignedHeaders=' + SignedHeaders + ', Signature=' + Signature
 *
 * Every key above and the "AWS4"+secret buffer are wiped before returning.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "ec2ha/sigv4.h"

#define SCOPE_TERMINATOR "aws4_request"
#define DATE_LEN 8                /* YYYYMMDD */
#define SECRET_MAX 1024

static void hex_encode(const unsigned char *in, size_t len, char *out)
{
    static const char hex[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < len; i++) {
        out[2 * i] = hex[in[i] >> 4];
        out[2 * i + 1] = hex[in[i] & 0x0f];
    }
    out[2 * len] = '\0';
}

void ec2ha_sigv4_format_amz_date(time_t now, char out[EC2HA_SIGV4_AMZ_DATE_LEN + 1])
{
    struct tm tm;

    if (gmtime_r(&now, &tm) == NULL ||
        strftime(out, EC2HA_SIGV4_AMZ_DATE_LEN + 1, "%Y%m%dT%H%M%SZ", &tm) !=
            EC2HA_SIGV4_AMZ_DATE_LEN) {
        /* Only for years past 9999 or before 0: an impossible clock, still a valid string. */
        memcpy(out, "19700101T000000Z", EC2HA_SIGV4_AMZ_DATE_LEN + 1);
    }
}

void ec2ha_sigv4_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[SHA256_DIGEST_LENGTH];

    SHA256(data != NULL ? data : (const void *)"", len, md);
    hex_encode(md, sizeof(md), out);
}

/* A scope part (region, service) must be non-empty and free of '/', whitespace, controls. */
static bool valid_scope_part(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    if (s == NULL || *p == '\0') {
        return false;
    }
    for (; *p != '\0'; p++) {
        if (*p <= ' ' || *p >= 0x7f || *p == '/' || *p == ',') {
            return false;
        }
    }
    return true;
}

static ec2ha_rc check_scope(const char *region, const char *service, ec2ha_error *err)
{
    if (!valid_scope_part(region)) {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID,
                               "SigV4: region '%s' is empty or contains '/', ',' or spaces; "
                               "use a region name such as us-east-1",
                               region != NULL ? region : "(none)");
    }
    if (!valid_scope_part(service)) {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID,
                               "SigV4: service '%s' is empty or contains '/', ',' or spaces; "
                               "use a service name such as ec2",
                               service != NULL ? service : "(none)");
    }
    return EC2HA_OK;
}

ec2ha_rc ec2ha_sigv4_string_to_sign(time_t now, const char *region, const char *service,
                                    const char *canonical_request, char **out, ec2ha_error *err)
{
    char amz_date[EC2HA_SIGV4_AMZ_DATE_LEN + 1];
    char creq_hash[65];
    ec2ha_buf b;
    ec2ha_rc rc;

    ec2ha_buf_init(&b, 4096);
    if (out == NULL || canonical_request == NULL) {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID,
                               "SigV4: missing canonical request or output argument");
    }
    *out = NULL;
    rc = check_scope(region, service, err);
    if (rc != EC2HA_OK) {
        return rc;
    }
    ec2ha_sigv4_format_amz_date(now, amz_date);
    ec2ha_sigv4_sha256_hex(canonical_request, strlen(canonical_request), creq_hash);
    rc = ec2ha_buf_printf(&b, "%s\n%s\n%.*s/%s/%s/%s\n%s", EC2HA_SIGV4_ALGORITHM, amz_date,
                          DATE_LEN, amz_date, region, service, SCOPE_TERMINATOR, creq_hash);
    if (rc == EC2HA_OK) {
        *out = ec2ha_buf_steal(&b);
        if (*out == NULL) {
            rc = EC2HA_ERR_NOMEM;
        }
    }
    if (rc != EC2HA_OK) {
        ec2ha_error_set(err, rc, "SigV4: cannot build the string to sign (%s)",
                        ec2ha_rc_str(rc));
    }
    ec2ha_buf_free(&b);
    return rc;
}

static bool hmac_sha256(const void *key, size_t key_len, const void *data, size_t data_len,
                        unsigned char out[32])
{
    unsigned int out_len = 0;

    return HMAC(EVP_sha256(), key, (int)key_len, data, data_len, out, &out_len) != NULL &&
           out_len == 32;
}

ec2ha_rc ec2ha_sigv4_signing_key(const char *secret_access_key, time_t now, const char *region,
                                 const char *service, unsigned char key_out[32], ec2ha_error *err)
{
    char amz_date[EC2HA_SIGV4_AMZ_DATE_LEN + 1];
    unsigned char k_secret[4 + SECRET_MAX];
    unsigned char k_date[32];
    unsigned char k_region[32];
    unsigned char k_service[32];
    size_t secret_len;
    ec2ha_rc rc = EC2HA_ERR_INVALID;

    if (key_out == NULL) {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID, "SigV4: missing key output argument");
    }
    ec2ha_secure_zero(key_out, 32);
    if (secret_access_key == NULL || secret_access_key[0] == '\0') {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID,
                               "SigV4: the secret access key is empty; refusing to sign "
                               "(check the credential source)");
    }
    secret_len = strlen(secret_access_key);
    if (secret_len > SECRET_MAX) {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID,
                               "SigV4: the secret access key is %zu bytes, more than the %d "
                               "any AWS key has; check the credential source",
                               secret_len, SECRET_MAX);
    }
    rc = check_scope(region, service, err);
    if (rc != EC2HA_OK) {
        return rc;
    }
    ec2ha_sigv4_format_amz_date(now, amz_date);
    memcpy(k_secret, "AWS4", 4);
    memcpy(k_secret + 4, secret_access_key, secret_len);

    rc = EC2HA_ERR_INVALID;
    if (!hmac_sha256(k_secret, 4 + secret_len, amz_date, DATE_LEN, k_date) ||
        !hmac_sha256(k_date, sizeof(k_date), region, strlen(region), k_region) ||
        !hmac_sha256(k_region, sizeof(k_region), service, strlen(service), k_service) ||
        !hmac_sha256(k_service, sizeof(k_service), SCOPE_TERMINATOR,
                     strlen(SCOPE_TERMINATOR), key_out)) {
        ec2ha_secure_zero(key_out, 32);
        ec2ha_error_set(err, EC2HA_ERR_INVALID,
                        "SigV4: HMAC-SHA256 failed in libcrypto (FIPS mode or broken OpenSSL?)");
        goto cleanup;
    }
    rc = EC2HA_OK;

cleanup:
    ec2ha_secure_zero(k_secret, sizeof(k_secret));
    ec2ha_secure_zero(k_date, sizeof(k_date));
    ec2ha_secure_zero(k_region, sizeof(k_region));
    ec2ha_secure_zero(k_service, sizeof(k_service));
    return rc;
}

static bool valid_access_key_id(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    if (s == NULL || *p == '\0') {
        return false;
    }
    for (; *p != '\0'; p++) {
        if (*p <= ' ' || *p >= 0x7f || *p == '/' || *p == ',') {
            return false;
        }
    }
    return true;
}

/* The caller must send Host and an X-Amz-Date equal to the signing time. */
static ec2ha_rc check_required_headers(const ec2ha_sigv4_request *req, time_t now,
                                       ec2ha_error *err)
{
    char amz_date[EC2HA_SIGV4_AMZ_DATE_LEN + 1];
    bool have_host = false;
    const char *date = NULL;
    size_t i;

    ec2ha_sigv4_format_amz_date(now, amz_date);
    for (i = 0; i < req->n_headers && req->headers != NULL; i++) {
        const char *name = req->headers[i].name;

        if (name == NULL) {
            continue;
        }
        if (strcasecmp(name, "Host") == 0) {
            have_host = true;
        } else if (strcasecmp(name, EC2HA_HEADER_AMZ_DATE) == 0) {
            date = req->headers[i].value;
        } else if (strcasecmp(name, EC2HA_HEADER_AUTHORIZATION) == 0) {
            return ec2ha_error_set(err, EC2HA_ERR_INVALID,
                                   "SigV4: the request already has an Authorization header; "
                                   "sign the request without it");
        }
    }
    if (!have_host) {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID,
                               "SigV4: the request has no Host header; AWS requires it signed");
    }
    if (date == NULL || strcmp(date, amz_date) != 0) {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID,
                               "SigV4: the X-Amz-Date header (%s) must equal the signing time "
                               "%s; format it with ec2ha_sigv4_format_amz_date",
                               date != NULL ? date : "missing", amz_date);
    }
    return EC2HA_OK;
}

ec2ha_rc ec2ha_sigv4_sign(const ec2ha_sigv4_request *req, const ec2ha_sigv4_params *params,
                          ec2ha_sigv4_result *out, ec2ha_error *err)
{
    unsigned char k_signing[32];
    unsigned char mac[32];
    char amz_date[EC2HA_SIGV4_AMZ_DATE_LEN + 1];
    ec2ha_sigv4_result r;
    ec2ha_buf auth;
    ec2ha_rc rc = EC2HA_ERR_INVALID;

    memset(&r, 0, sizeof(r));
    ec2ha_buf_init(&auth, 8192);
    if (out == NULL || req == NULL || params == NULL) {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID, "SigV4: missing argument to sign");
    }
    memset(out, 0, sizeof(*out));
    if (!valid_access_key_id(params->access_key_id)) {
        ec2ha_error_set(err, EC2HA_ERR_INVALID,
                        "SigV4: the access key id is empty or contains '/', ',' or spaces; "
                        "check the credential source");
        goto cleanup;
    }
    rc = check_required_headers(req, params->now, err);
    if (rc != EC2HA_OK) {
        goto cleanup;
    }
    rc = ec2ha_sigv4_canonical_request(req, params->normalize_path, &r.canonical_request,
                                       &r.signed_headers, err);
    if (rc != EC2HA_OK) {
        goto cleanup;
    }
    rc = ec2ha_sigv4_string_to_sign(params->now, params->region, params->service,
                                    r.canonical_request, &r.string_to_sign, err);
    if (rc != EC2HA_OK) {
        goto cleanup;
    }
    rc = ec2ha_sigv4_signing_key(params->secret_access_key, params->now, params->region,
                                 params->service, k_signing, err);
    if (rc != EC2HA_OK) {
        goto cleanup;
    }
    rc = EC2HA_ERR_INVALID;
    if (!hmac_sha256(k_signing, sizeof(k_signing), r.string_to_sign,
                     strlen(r.string_to_sign), mac)) {
        ec2ha_error_set(err, EC2HA_ERR_INVALID,
                        "SigV4: HMAC-SHA256 failed in libcrypto (FIPS mode or broken OpenSSL?)");
        goto cleanup;
    }
    hex_encode(mac, sizeof(mac), r.signature);
    ec2ha_sigv4_format_amz_date(params->now, amz_date);
    rc = ec2ha_buf_printf(&auth, "%s Credential=%s/%.*s/%s/%s/%s, SignedHeaders=%s, "
                          "Signature=%s", EC2HA_SIGV4_ALGORITHM, params->access_key_id,
                          DATE_LEN, amz_date, params->region, params->service,
                          SCOPE_TERMINATOR, r.signed_headers, r.signature);
    if (rc == EC2HA_OK) {
        r.authorization = ec2ha_buf_steal(&auth);
        if (r.authorization == NULL) {
            rc = EC2HA_ERR_NOMEM;
        }
    }
    if (rc != EC2HA_OK) {
        ec2ha_error_set(err, rc, "SigV4: cannot build the Authorization header (%s)",
                        ec2ha_rc_str(rc));
        goto cleanup;
    }
    *out = r;
    memset(&r, 0, sizeof(r));
    rc = EC2HA_OK;

cleanup:
    ec2ha_secure_zero(k_signing, sizeof(k_signing));
    ec2ha_secure_zero(mac, sizeof(mac));
    ec2ha_sigv4_result_free(&r);
    ec2ha_buf_free(&auth);
    return rc;
}

void ec2ha_sigv4_result_free(ec2ha_sigv4_result *r)
{
    if (r == NULL) {
        return;
    }
    ec2ha_free_secret(r->canonical_request);   /* holds the session token */
    free(r->string_to_sign);
    free(r->signed_headers);
    free(r->authorization);
    memset(r, 0, sizeof(*r));
}

bool ec2ha_sigv4_equal(const char *a, const char *b)
{
    size_t la;

    if (a == NULL || b == NULL) {
        return false;
    }
    la = strlen(a);
    if (la != strlen(b)) {
        return false;   /* lengths are public (hex signatures are always 64) */
    }
    return CRYPTO_memcmp(a, b, la) == 0;
}
