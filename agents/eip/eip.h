/*
 * agents/eip/eip.h - private to the ocf:ec2ha:eip resource agent.
 *
 * main.c      chooses OCF or LSB mode, parses the options, maps results to exit codes
 * options.c   the one option table, the program and action descriptions
 * actions.c   start, stop, monitor, validate-all against EC2
 * guard.c     the fencing check, the takeover guard, recording ec2-instance-id
 * lsb.c       the init-script personality (/etc/init.d/eip)
 * logging.c   log sinks and level: HA_debug, tracing (OCF_TRACE_RA, trace_ra)
 *
 * Actions return an ec2ha_rc and fill the caller's ec2ha_error; the mapping to
 * OCF or LSB exit codes happens only in main.c.
 */
#ifndef EC2HA_AGENT_EIP_H
#define EC2HA_AGENT_EIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ec2ha/cluster.h"
#include "ec2ha/creds.h"
#include "ec2ha/ec2.h"
#include "ec2ha/error.h"
#include "ec2ha/imds.h"
#include "ec2ha/opts.h"
#include "ec2ha/retry.h"

/* Parameter names: OCF_RESKEY_<name>, and upper-cased in the LSB settings file. */
#define EIP_OPT_ALLOCATION_ID "allocation_id"
#define EIP_OPT_ELASTIC_IP "elastic_ip"
#define EIP_OPT_PRIVATE_IP "private_ip_address"
#define EIP_OPT_ENI "network_interface_id"
#define EIP_OPT_INTERFACE "interface"
#define EIP_OPT_REGION "region"
#define EIP_OPT_PROFILE "profile"
#define EIP_OPT_ENDPOINT_URL "endpoint_url"
#define EIP_OPT_CA_BUNDLE "ca_bundle"
#define EIP_OPT_REQUIRE_FENCING "require_fencing"
#define EIP_OPT_AWSCLI "awscli"
#define EIP_OPT_AUTH_TYPE "auth_type"
#define EIP_OPT_API_DELAY "api_delay"
#define EIP_OPT_CURL_RETRIES "curl_retries"
#define EIP_OPT_CURL_SLEEP "curl_sleep"
#define EIP_OPT_TRACE_RA "trace_ra"         /* as resource-agents and crm resource trace */
#define EIP_OPT_TRACE_DIR "trace_dir"
#define EIP_OPT_TRACE_FILE "trace_file"     /* pcs's name; $OCF_TRACE_FILE wins */

/* OCF exit codes (ocf-returncodes). */
enum eip_ocf_rc {
    EIP_OCF_SUCCESS = 0,
    EIP_OCF_ERR_GENERIC = 1,
    EIP_OCF_ERR_ARGS = 2,
    EIP_OCF_ERR_UNIMPLEMENTED = 3,
    EIP_OCF_ERR_PERM = 4,
    EIP_OCF_ERR_INSTALLED = 5,
    EIP_OCF_ERR_CONFIGURED = 6,
    EIP_OCF_NOT_RUNNING = 7
};

/* LSB status exit codes (init-script actions other than status share the OCF numbers). */
enum eip_lsb_status_rc {
    EIP_LSB_STATUS_RUNNING = 0,
    EIP_LSB_STATUS_NOT_RUNNING = 3,
    EIP_LSB_STATUS_UNKNOWN = 4
};

#define EIP_EXIT_REASON_PREFIX "ocf-exit-reason:"
#define EIP_SYS_CLASS_NET "/sys/class/net"
#define EIP_ENV_SYS_CLASS_NET "EC2HA_SYS_CLASS_NET"   /* test seam for interface MACs */
#define EIP_ENV_LSB_CONFIG "EC2HA_EIP_CONFIG"
#define EIP_LSB_CONFIG_SYSCONFIG "/etc/sysconfig/eip"
#define EIP_LSB_CONFIG_DEFAULT "/etc/default/eip"

/* Default action timeouts in ms (also what meta-data advertises). */
#define EIP_TIMEOUT_START_MS 60000
#define EIP_TIMEOUT_STOP_MS 60000
#define EIP_TIMEOUT_MONITOR_MS 30000
#define EIP_TIMEOUT_VALIDATE_MS 30000
/* LSB mode gets no timeout from Pacemaker: fit its default operation timeout (20 s). */
#define EIP_TIMEOUT_LSB_MS 20000

extern const ec2ha_option eip_options[];
extern const size_t eip_n_options;
extern const ec2ha_program_info eip_program_info;
extern const ec2ha_program_info eip_lsb_program_info;

/* The validated parameters; strings point into the ec2ha_opt_values. */
typedef struct eip_config {
    const char *allocation_id;      /* NULL when only elastic_ip is given */
    const char *elastic_ip;
    const char *private_ip;
    const char *eni;                /* network_interface_id */
    const char *interface;
    const char *region;
    const char *profile;
    const char *endpoint_url;
    const char *ca_bundle;
    bool require_fencing;
} eip_config;

/* Where the Elastic IP is, seen from this node. */
typedef enum eip_placement {
    EIP_PLACED_NOWHERE = 0,         /* not associated */
    EIP_PLACED_HERE,                /* this instance, and the configured ENI / private IP */
    EIP_PLACED_THIS_INSTANCE,       /* this instance, another ENI or private IP */
    EIP_PLACED_ELSEWHERE            /* another instance or interface */
} eip_placement;

typedef struct eip_ctx {
    eip_config cfg;
    ec2ha_deadline deadline;
    int64_t timeout_ms;             /* what the deadline was derived from */
    bool lsb;
    bool probe;                     /* monitor with interval 0 (OCF) */
    char *node_name;                /* this node's cluster name */

    ec2ha_imds *imds;
    bool aws_ready;
    ec2ha_aws_config aws;
    ec2ha_ec2_client *ec2;
    char *instance_id;              /* this instance, from IMDS (cached) */
    char *target_eni;               /* ENI to associate with, NULL: the instance */
    bool identity_ready;

    ec2ha_cluster *cib;             /* NULL until eip_cib_connect */
    bool cib_tried;
    ec2ha_error cib_err;            /* why the CIB is not reachable */
} eip_ctx;

/* options.c */
ec2ha_rc eip_config_from_values(const ec2ha_opt_values *v, eip_config *cfg, ec2ha_error *err);

/* actions.c */
void eip_ctx_init(eip_ctx *ctx, int64_t timeout_ms);
void eip_ctx_free(eip_ctx *ctx);
/* Options only, no I/O: the checks every action makes first. */
ec2ha_rc eip_validate_config(const eip_ctx *ctx, ec2ha_error *err);
ec2ha_rc eip_action_validate(eip_ctx *ctx, ec2ha_error *err);
ec2ha_rc eip_action_start(eip_ctx *ctx, ec2ha_error *err);
ec2ha_rc eip_action_stop(eip_ctx *ctx, ec2ha_error *err);
/* EC2HA_OK with *here_out; an error when EC2 could not tell within the deadline. */
ec2ha_rc eip_action_monitor(eip_ctx *ctx, bool *here_out, ec2ha_error *err);
/* The AWS error codes that mean the configuration names something that does not exist. */
bool eip_aws_code_is_config(const char *code);
bool eip_aws_code_is_permission(const char *code);

/* guard.c */
/* Connect once; false (with ctx->cib_err filled) when the CIB cannot be reached. */
bool eip_cib_connect(eip_ctx *ctx);
/* require_fencing: stonith-enabled must be true.  EC2HA_ERR_INVALID names the fix. */
ec2ha_rc eip_check_fencing(eip_ctx *ctx, ec2ha_error *err);
/* Record this node's ec2-instance-id (permanent); logs a warning when it cannot. */
void eip_record_instance_id(eip_ctx *ctx);
/*
 * The same from monitor (OCF only, failures at debug level): a node rebuilt on
 * a new instance under its old name gets its record corrected by its first
 * probe, before fence_ec2 can act on the stale one.  One CIB read when the
 * record is right, no EC2 call.  A recurring monitor reads it at most every
 * 10 minutes (a marker in the runtime directory says when it was last right),
 * so most monitors never load Pacemaker's libraries.
 */
void eip_refresh_instance_id(eip_ctx *ctx, bool recurring);
/*
 * May the address be taken from its current owner?  EC2HA_OK when it is
 * unassociated, ours, on a stopped/gone instance, an offline or unclean node
 * or a non-member; EC2HA_ERR_REFUSED when the owner is running and an online
 * member of this cluster; an error when that cannot be determined.
 */
ec2ha_rc eip_takeover_guard(eip_ctx *ctx, const ec2ha_address *addr, ec2ha_error *err);

/* lsb.c */
int eip_lsb_main(int argc, char **argv);

/* main.c */
int eip_ocf_exit_code(ec2ha_rc rc, const ec2ha_error *err);
int64_t eip_timeout_from_env(int64_t default_ms);
void eip_print_exit_reason(const char *reason);

/* logging.c */
/* quiet: NOTICE and above unless HA_debug (for the frequent monitor). */
void eip_log_start(bool lsb, bool quiet);
/*
 * Trace level when $OCF_TRACE_RA, else trace_ra, is true; to $OCF_TRACE_FILE,
 * trace_file, trace_dir/<type>/<resource>.<action>.<time> or the usual sinks
 * (see logging.c).  v may be partly parsed.  True when tracing.
 */
bool eip_trace_start(const ec2ha_opt_values *v, const char *action, bool lsb);

#endif
