/*
 * ec2ha/ec2.h - the EC2 Query API (Version 2016-11-15).
 *
 * Requests are POSTed as application/x-www-form-urlencoded bodies, signed with
 * SigV4 (re-signed on every attempt) and retried through ec2ha/retry.h within
 * the caller's deadline.  Responses are parsed with libxml2 by element local
 * name into the typed structs below.  An <Response><Errors><Error> body becomes
 * EC2HA_ERR_AWS with err->code, err->message and err->request_id filled.
 *
 * Ownership: every *_list / struct filled by a call belongs to the caller and
 * is released with the matching *_free (which accepts NULL / zeroed structs).
 * On error, out-parameters are left zeroed.
 *
 * DryRun: calls taking dry_run return EC2HA_OK when EC2 answers
 * DryRunOperation (permission granted), and EC2HA_ERR_AWS with the code
 * (e.g. UnauthorizedOperation) otherwise.
 */
#ifndef EC2HA_EC2_H
#define EC2HA_EC2_H

#include <stdbool.h>
#include <stddef.h>

#include "ec2ha/buf.h"
#include "ec2ha/creds.h"
#include "ec2ha/error.h"
#include "ec2ha/http.h"
#include "ec2ha/retry.h"

#define EC2HA_EC2_API_VERSION "2016-11-15"
#define EC2HA_EC2_XMLNS "http://ec2.amazonaws.com/doc/2016-11-15/"

/* ---- form (request body) builder -------------------------------------- */

typedef struct ec2ha_form {
    ec2ha_buf body;     /* "Action=...&Version=...&..." */
    ec2ha_rc rc;        /* first failure, sticky: a form that failed once is never sent */
} ec2ha_form;

/*
 * Starts the body with Action=<action>&Version=2016-11-15.  Every add returns
 * the form's sticky rc, so a sequence of adds may be checked once at the end
 * (ec2ha_ec2_call refuses a form whose rc is not EC2HA_OK).
 */
ec2ha_rc ec2ha_form_init(ec2ha_form *f, const char *action);
/* Appends &key=value, both form-encoded (RFC 3986 unreserved kept, space as %20). */
ec2ha_rc ec2ha_form_add(ec2ha_form *f, const char *key, const char *value);
ec2ha_rc ec2ha_form_add_bool(ec2ha_form *f, const char *key, bool value);  /* "true"/"false" */
/* key.N=value for N = 1.. (InstanceId.1, AllocationId.1 ...) */
ec2ha_rc ec2ha_form_add_list(ec2ha_form *f, const char *prefix, const char *const *values, size_t n);
void ec2ha_form_free(ec2ha_form *f);

typedef struct ec2ha_filter {
    const char *name;                 /* "instance-state-name", "tag:Name" */
    const char *const *values;
    size_t n_values;
} ec2ha_filter;

/* Filter.N.Name / Filter.N.Value.M */
ec2ha_rc ec2ha_form_add_filters(ec2ha_form *f, const ec2ha_filter *filters, size_t n);

/* ---- typed results ------------------------------------------------------ */

typedef enum ec2ha_instance_state {
    EC2HA_STATE_UNKNOWN = -1,
    EC2HA_STATE_PENDING = 0,
    EC2HA_STATE_RUNNING = 16,
    EC2HA_STATE_SHUTTING_DOWN = 32,
    EC2HA_STATE_TERMINATED = 48,
    EC2HA_STATE_STOPPING = 64,
    EC2HA_STATE_STOPPED = 80
} ec2ha_instance_state;

/* "running" ... ; "unknown" for EC2HA_STATE_UNKNOWN. */
const char *ec2ha_instance_state_str(ec2ha_instance_state s);
/* From a name ("stopped") or code (low byte of the code is used, as EC2 says). */
ec2ha_instance_state ec2ha_instance_state_from_name(const char *name);
ec2ha_instance_state ec2ha_instance_state_from_code(long code);

typedef struct ec2ha_tag {
    char *key;
    char *value;
} ec2ha_tag;

typedef struct ec2ha_network_interface {
    char *interface_id;               /* eni-... */
    char *mac_address;
    char *private_ip;                 /* primary private IP */
    char *public_ip;                  /* association/publicIp, NULL when none */
    int device_index;                 /* attachment/deviceIndex, -1 when absent */
} ec2ha_network_interface;

typedef struct ec2ha_instance {
    char *instance_id;
    ec2ha_instance_state state;
    long state_code;                  /* raw instanceState/code */
    char *state_name;                 /* raw instanceState/name */
    char *private_ip;
    char *private_dns;
    char *public_ip;                  /* ipAddress, NULL when none */
    char *availability_zone;
    ec2ha_tag *tags;
    size_t n_tags;
    ec2ha_network_interface *interfaces;
    size_t n_interfaces;
} ec2ha_instance;

typedef struct ec2ha_instance_list {
    ec2ha_instance *items;
    size_t count;
} ec2ha_instance_list;

/* Value of tag `key` or NULL. */
const char *ec2ha_instance_tag(const ec2ha_instance *inst, const char *key);
/* Is host the instance's private DNS name, whole or its first label
 * ("ip-10-0-0-5" of "ip-10-0-0-5.ec2.internal")?  How a node named after its
 * EC2 host name is recognised without a tag. */
bool ec2ha_instance_dns_is(const ec2ha_instance *inst, const char *host);

typedef struct ec2ha_address {
    char *public_ip;
    char *allocation_id;
    char *association_id;             /* NULL when not associated */
    char *domain;                     /* "vpc" */
    char *instance_id;                /* NULL when not associated to an instance */
    char *network_interface_id;
    char *network_interface_owner_id;
    char *private_ip;
} ec2ha_address;

typedef struct ec2ha_address_list {
    ec2ha_address *items;
    size_t count;
} ec2ha_address_list;

typedef struct ec2ha_state_change {
    char *instance_id;
    ec2ha_instance_state current;
    ec2ha_instance_state previous;
} ec2ha_state_change;

void ec2ha_instance_list_free(ec2ha_instance_list *l);
void ec2ha_address_list_free(ec2ha_address_list *l);
void ec2ha_state_change_free(ec2ha_state_change *c);

/* ---- parsers (pure; used by the client and by the fuzzers) -------------- */

/* Error body -> err (rc EC2HA_ERR_AWS, code, message, request_id). */
ec2ha_rc ec2ha_ec2_parse_error(const char *xml, size_t len, long http_status, ec2ha_error *err);
/* next_token_out: heap string or NULL when this is the last page. */
ec2ha_rc ec2ha_ec2_parse_describe_instances(const char *xml, size_t len, ec2ha_instance_list *out,
                                            char **next_token_out, ec2ha_error *err);
ec2ha_rc ec2ha_ec2_parse_describe_addresses(const char *xml, size_t len, ec2ha_address_list *out,
                                            ec2ha_error *err);
/* StopInstances / StartInstances: the (first) instancesSet item. */
ec2ha_rc ec2ha_ec2_parse_state_change(const char *xml, size_t len, ec2ha_state_change *out,
                                      ec2ha_error *err);
/* AssociateAddress: associationId (heap string). */
ec2ha_rc ec2ha_ec2_parse_associate_address(const char *xml, size_t len, char **association_id_out,
                                           ec2ha_error *err);
/* DisassociateAddress and others answering <return>true</return>. */
ec2ha_rc ec2ha_ec2_parse_return(const char *xml, size_t len, ec2ha_error *err);

/* ---- the client ---------------------------------------------------------- */

typedef struct ec2ha_ec2_client ec2ha_ec2_client;

typedef struct ec2ha_ec2_config {
    const char *endpoint;             /* "https://ec2.us-east-1.amazonaws.com" */
    const char *region;
    const char *access_key_id;
    const char *secret_access_key;
    const char *session_token;        /* NULL for long-term keys */
    ec2ha_http_options http;
} ec2ha_ec2_config;

/* Copies everything it needs from cfg (secrets copied and registered for redaction). */
ec2ha_rc ec2ha_ec2_client_new(const ec2ha_ec2_config *cfg, ec2ha_ec2_client **out, ec2ha_error *err);
void ec2ha_ec2_client_free(ec2ha_ec2_client *c);   /* wipes the secrets; accepts NULL */

/*
 * The client for a configuration resolved by the credential chain (creds.h):
 * endpoint, region, keys and CA bundle come from aws; proxy, connect timeout and
 * body cap from http (NULL: defaults; its ca_bundle is ignored).  What every
 * program does after ec2ha_aws_config_resolve().
 */
ec2ha_rc ec2ha_ec2_client_new_from_aws(const ec2ha_aws_config *aws,
                                       const ec2ha_http_options *http,
                                       ec2ha_ec2_client **out, ec2ha_error *err);

/*
 * One signed call with retries: classify, back off, re-sign, until success,
 * a non-retryable error, or the deadline.  On success body_out holds the XML
 * (body_out is overwritten: pass an empty one; free it with ec2ha_buf_free).
 * A form whose rc is not EC2HA_OK is refused (EC2HA_ERR_INVALID).
 * date_out (optional): the server's Date header of the last response (for the
 * clock-skew check), heap string or NULL -- set on failure too, since a
 * skewed clock is exactly when it is needed.
 */
ec2ha_rc ec2ha_ec2_call(ec2ha_ec2_client *c, const ec2ha_form *form, ec2ha_deadline deadline,
                        ec2ha_buf *body_out, char **date_out, ec2ha_error *err);

typedef struct ec2ha_describe_instances_query {
    const char *const *instance_ids;
    size_t n_instance_ids;
    const ec2ha_filter *filters;
    size_t n_filters;
    int max_results;                  /* 0: 1000 (EC2's largest page) for a listing;
                                       * none sent with instance_ids (EC2 refuses both) */
    bool dry_run;
} ec2ha_describe_instances_query;

/* Follows nextToken until the last page; each page is parsed as it arrives. */
ec2ha_rc ec2ha_ec2_describe_instances(ec2ha_ec2_client *c, const ec2ha_describe_instances_query *q,
                                      ec2ha_deadline deadline, ec2ha_instance_list *out,
                                      ec2ha_error *err);

/* One instance by id; EC2HA_ERR_NOT_FOUND when EC2 does not know it. */
ec2ha_rc ec2ha_ec2_describe_instance(ec2ha_ec2_client *c, const char *instance_id,
                                     ec2ha_deadline deadline, ec2ha_instance *out,
                                     ec2ha_error *err);
void ec2ha_instance_free(ec2ha_instance *inst);

typedef struct ec2ha_stop_params {
    const char *instance_id;
    bool force;
    bool skip_os_shutdown;            /* sent only when true */
    bool dry_run;
} ec2ha_stop_params;

ec2ha_rc ec2ha_ec2_stop_instances(ec2ha_ec2_client *c, const ec2ha_stop_params *p,
                                  ec2ha_deadline deadline, ec2ha_state_change *out,
                                  ec2ha_error *err);
ec2ha_rc ec2ha_ec2_start_instances(ec2ha_ec2_client *c, const char *instance_id, bool dry_run,
                                   ec2ha_deadline deadline, ec2ha_state_change *out,
                                   ec2ha_error *err);

typedef struct ec2ha_describe_addresses_query {
    const char *const *allocation_ids;
    size_t n_allocation_ids;
    const char *const *public_ips;
    size_t n_public_ips;
    const ec2ha_filter *filters;
    size_t n_filters;
    bool dry_run;
} ec2ha_describe_addresses_query;

ec2ha_rc ec2ha_ec2_describe_addresses(ec2ha_ec2_client *c, const ec2ha_describe_addresses_query *q,
                                      ec2ha_deadline deadline, ec2ha_address_list *out,
                                      ec2ha_error *err);

typedef struct ec2ha_associate_params {
    const char *allocation_id;
    const char *instance_id;          /* one of instance_id / network_interface_id */
    const char *network_interface_id;
    const char *private_ip;           /* optional */
    bool allow_reassociation;
    bool dry_run;
} ec2ha_associate_params;

ec2ha_rc ec2ha_ec2_associate_address(ec2ha_ec2_client *c, const ec2ha_associate_params *p,
                                     ec2ha_deadline deadline, char **association_id_out,
                                     ec2ha_error *err);
ec2ha_rc ec2ha_ec2_disassociate_address(ec2ha_ec2_client *c, const char *association_id,
                                        bool dry_run, ec2ha_deadline deadline, ec2ha_error *err);

#endif
