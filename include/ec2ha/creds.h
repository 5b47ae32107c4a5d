/*
 * ec2ha/creds.h - the AWS credential chain and region / endpoint resolution.
 *
 * Credentials, first that yields a complete key pair:
 *   1. explicit options (access_key + secret_key [+ session_token])
 *   2. environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN
 *      (AWS_SECURITY_TOKEN as the legacy fallback); empty variables count as unset
 *   3. shared files for the profile (option, else $AWS_PROFILE, else "default"):
 *      $AWS_SHARED_CREDENTIALS_FILE (~/.aws/credentials) section [name], then
 *      $AWS_CONFIG_FILE (~/.aws/config) section [profile name] ([default] for
 *      default; names split by shell rules as botocore does).  The two sections
 *      form one profile, the credentials file winning key by key.  In botocore's
 *      order: aws_access_key_id / aws_secret_access_key / aws_session_token from
 *      the credentials file, then credential_process (run via /bin/sh -c, JSON
 *      Version 1 on stdout, within the deadline), then the keys from the config file.
 *      ~, $VAR and ${VAR} in the two path variables are expanded.
 *   4. IMDS role credentials (skipped when no imds handle is given or IMDS is disabled).
 *   Errors, never a fall-through to another identity: a profile named explicitly
 *   that exists in neither file; half a key pair (option, environment or file);
 *   a malformed file; a profile relying on role_arn, source_profile, SSO or web
 *   identity (not supported: use credential_process).
 * Region: option -> AWS_REGION -> AWS_DEFAULT_REGION -> profile "region" -> IMDS.
 * Endpoint: option -> AWS_ENDPOINT_URL_EC2 -> AWS_ENDPOINT_URL -> the profile's
 *   services section ("services = x", [services x] ec2 = endpoint_url = ...) ->
 *   profile "endpoint_url" -> https://ec2.<region>.amazonaws.com
 *   (amazonaws.com.cn for cn-*, c2s.ic.gov / sc2s.sgov.gov for us-iso-* / us-isob-*).
 *   Trailing '/' removed; only http(s) URLs are accepted.
 * CA bundle: option -> AWS_CA_BUNDLE -> profile "ca_bundle" -> NULL (system).
 *
 * Every result records where it came from; the source never contains a secret.
 * Secrets are registered with the logger's redaction as soon as they are read.
 * A credentials file readable by group/others gives a warning in the log, and
 * the winning provider, region, endpoint and CA bundle are logged at info.
 */
#ifndef EC2HA_CREDS_H
#define EC2HA_CREDS_H

#include <stdbool.h>

#include "ec2ha/error.h"
#include "ec2ha/imds.h"
#include "ec2ha/retry.h"

typedef enum ec2ha_source {
    EC2HA_SOURCE_NONE = 0,
    EC2HA_SOURCE_OPTION,
    EC2HA_SOURCE_ENV,
    EC2HA_SOURCE_CREDENTIALS_FILE,
    EC2HA_SOURCE_CONFIG_FILE,
    EC2HA_SOURCE_CREDENTIAL_PROCESS,
    EC2HA_SOURCE_IMDS,
    EC2HA_SOURCE_DEFAULT
} ec2ha_source;

const char *ec2ha_source_str(ec2ha_source s);   /* "option", "environment", ... */

typedef struct ec2ha_creds_options {
    const char *access_key;          /* explicit, may be NULL */
    const char *secret_key;
    const char *session_token;
    const char *profile;
    const char *region;
    const char *endpoint_url;
    const char *ca_bundle;
    ec2ha_imds *imds;                /* may be NULL: no IMDS fallback */
    bool need_credentials;           /* false: resolve region/endpoint only */
} ec2ha_creds_options;

typedef struct ec2ha_aws_config {
    char *access_key_id;
    char *secret_access_key;         /* wiped on free */
    char *session_token;             /* wiped on free; NULL for long-term keys */
    char *expiration;                /* NULL when not temporary */
    ec2ha_source credentials_source;
    char *credentials_detail;        /* "profile prod in /root/.aws/credentials", no secrets */

    char *profile;                   /* effective profile name */
    char *region;
    ec2ha_source region_source;
    char *endpoint;
    ec2ha_source endpoint_source;
    char *ca_bundle;                 /* NULL: system store */
    ec2ha_source ca_bundle_source;
} ec2ha_aws_config;

/* out must be zeroed; on error it is left zeroed. */
ec2ha_rc ec2ha_aws_config_resolve(const ec2ha_creds_options *opts, ec2ha_deadline deadline,
                                  ec2ha_aws_config *out, ec2ha_error *err);
void ec2ha_aws_config_free(ec2ha_aws_config *cfg);

/* Parse credential_process output (Version must be 1); pure, for tests and fuzzing. */
ec2ha_rc ec2ha_creds_parse_process_output(const char *json, size_t len, ec2ha_aws_config *out,
                                          ec2ha_error *err);

/* Default endpoint for a region into a heap string. */
ec2ha_rc ec2ha_default_ec2_endpoint(const char *region, char **out, ec2ha_error *err);

#endif
