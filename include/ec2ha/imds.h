/*
 * ec2ha/imds.h - the EC2 instance metadata service, IMDSv2 only.
 *
 * A session token is fetched with PUT /latest/api/token (TTL 21600 s) and sent
 * as X-aws-ec2-metadata-token; a 401 fetches a new token once; there is never
 * a fallback to IMDSv1 (a 403/404/405 to the token request is an error).
 * Endpoint: $AWS_EC2_METADATA_SERVICE_ENDPOINT, else http://[fd00:ec2::254]
 * when $AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv6, else http://169.254.169.254;
 * $AWS_EC2_METADATA_DISABLED=true (any case) makes every call
 * EC2HA_ERR_UNAVAILABLE.  Connect timeout 1 s, at most 5 s per attempt, never
 * proxied; 429 and 5xx answers are retried twice within the deadline.
 *
 * The token and the identity (instance id, region, interfaces) are cached in
 * <runtime dir>/imds-cache, created 0600 (directory made 0700 if missing,
 * opened O_NOFOLLOW, replaced via temp file + rename), where the runtime dir
 * is the argument, else $HA_RSCTMP, else /run/ec2ha.  The cache belongs to the
 * endpoint that filled it.  Cached values are used while the token has more
 * than 60 s left and the identity is younger than an hour (a clock that went
 * back makes both stale); a cache that cannot be read or written, or is not
 * ours with mode 0600, is ignored (logged at debug).
 */
#ifndef EC2HA_IMDS_H
#define EC2HA_IMDS_H

#include <stdbool.h>
#include <stddef.h>

#include "ec2ha/error.h"
#include "ec2ha/retry.h"

#define EC2HA_IMDS_DEFAULT_ENDPOINT "http://169.254.169.254"
#define EC2HA_IMDS_TOKEN_HEADER "X-aws-ec2-metadata-token"
#define EC2HA_IMDS_TOKEN_TTL_HEADER "X-aws-ec2-metadata-token-ttl-seconds"

typedef struct ec2ha_imds ec2ha_imds;

typedef struct ec2ha_imds_interface {
    char *mac;
    char *interface_id;
    char **private_ips;             /* local-ipv4s, primary first */
    size_t n_private_ips;
    int device_number;              /* -1 when unknown */
} ec2ha_imds_interface;

typedef struct ec2ha_imds_role_credentials {
    char *role_name;
    char *access_key_id;
    char *secret_access_key;
    char *token;
    char *expiration;               /* ISO 8601 as IMDS gives it */
} ec2ha_imds_role_credentials;

/* runtime_dir NULL: $HA_RSCTMP, else /run/ec2ha.  No network I/O here. */
ec2ha_rc ec2ha_imds_new(const char *runtime_dir, ec2ha_imds **out, ec2ha_error *err);
void ec2ha_imds_free(ec2ha_imds *m);   /* wipes the token; accepts NULL */

/* True unless AWS_EC2_METADATA_DISABLED is set to true. */
bool ec2ha_imds_enabled(const ec2ha_imds *m);
const char *ec2ha_imds_endpoint(const ec2ha_imds *m);

/* GET /latest/meta-data/<path> (or /latest/<path> when path starts with "dynamic/"). */
ec2ha_rc ec2ha_imds_get(ec2ha_imds *m, const char *path, ec2ha_deadline deadline, char **out,
                        ec2ha_error *err);

ec2ha_rc ec2ha_imds_get_instance_id(ec2ha_imds *m, ec2ha_deadline deadline, char **out,
                                    ec2ha_error *err);
ec2ha_rc ec2ha_imds_get_region(ec2ha_imds *m, ec2ha_deadline deadline, char **out,
                               ec2ha_error *err);
/* All interfaces (network/interfaces/macs/...), primary (device 0) first. */
ec2ha_rc ec2ha_imds_get_interfaces(ec2ha_imds *m, ec2ha_deadline deadline,
                                   ec2ha_imds_interface **out, size_t *n_out, ec2ha_error *err);
void ec2ha_imds_interfaces_free(ec2ha_imds_interface *ifs, size_t n);

/* iam/security-credentials/ then the role's JSON. Secrets registered for redaction. */
ec2ha_rc ec2ha_imds_get_role_credentials(ec2ha_imds *m, ec2ha_deadline deadline,
                                         ec2ha_imds_role_credentials *out, ec2ha_error *err);
/* Parse the role JSON (Code must be "Success"); pure, for tests and fuzzing. */
ec2ha_rc ec2ha_imds_parse_role_credentials(const char *json, size_t len,
                                           ec2ha_imds_role_credentials *out, ec2ha_error *err);
void ec2ha_imds_role_credentials_free(ec2ha_imds_role_credentials *c);  /* wipes */

#endif
