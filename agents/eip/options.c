/*
 * options.c - the one option table of ocf:ec2ha:eip.
 *
 * OCF_RESKEY_* parsing, the LSB settings file, meta-data, usage and the man
 * page are all generated from eip_options[]; nothing else describes a parameter.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eip.h"

#ifndef EC2HA_VERSION
#define EC2HA_VERSION "0.0.0"
#endif

const ec2ha_option eip_options[] = {
    {
        .name = EIP_OPT_ALLOCATION_ID, .type = EC2HA_OPT_STRING, .flags = EC2HA_OPT_UNIQUE,
        .arg_name = "eipalloc-id",
        .shortdesc = "Allocation id of the Elastic IP (eipalloc-...)",
        .longdesc = "Allocation id of the Elastic IP address to move (eipalloc-...). "
                    "One of allocation_id or elastic_ip is required; when both are set they "
                    "must name the same address.",
    },
    {
        .name = EIP_OPT_ELASTIC_IP, .type = EC2HA_OPT_STRING, .flags = EC2HA_OPT_UNIQUE,
        .arg_name = "address",
        .shortdesc = "Public address of the Elastic IP",
        .longdesc = "Public IPv4 address of the Elastic IP (as awseip's elastic_ip). It is "
                    "resolved to its allocation id with DescribeAddresses on every action, "
                    "so allocation_id is preferred.",
    },
    {
        .name = EIP_OPT_PRIVATE_IP, .type = EC2HA_OPT_STRING,
        .arg_name = "address",
        .shortdesc = "Private IPv4 address to associate the Elastic IP with",
        .longdesc = "Primary or secondary private IPv4 address of this instance the Elastic "
                    "IP is associated with. Default: the primary private address of the "
                    "interface. The network interface holding it is found through the "
                    "instance metadata when network_interface_id and interface are unset.",
    },
    {
        .name = EIP_OPT_ENI, .type = EC2HA_OPT_STRING,
        .arg_name = "eni-id",
        .shortdesc = "Network interface (eni-...) to associate the Elastic IP with",
        .longdesc = "Network interface id (eni-...) of this instance to associate the Elastic "
                    "IP with. Needed (or interface) on instances with more than one network "
                    "interface; with neither set such an instance is a configuration error.",
    },
    {
        .name = EIP_OPT_INTERFACE, .type = EC2HA_OPT_STRING,
        .arg_name = "name",
        .shortdesc = "Local interface name (eth0, ens5) whose ENI gets the Elastic IP",
        .longdesc = "Name of a local network interface (eth0, ens5). Its MAC address, read "
                    "from /sys/class/net/<name>/address, is looked up in the instance "
                    "metadata to find the network interface id. Alternative to "
                    "network_interface_id when the ENI differs per node.",
    },
    {
        .name = EIP_OPT_REGION, .type = EC2HA_OPT_STRING,
        .arg_name = "region",
        .shortdesc = "AWS region (default: AWS_REGION, the profile, then the instance metadata)",
        .longdesc = "AWS region of the Elastic IP. Default: $AWS_REGION, $AWS_DEFAULT_REGION, "
                    "the profile's region, then the region of this instance from the instance "
                    "metadata.",
    },
    {
        .name = EIP_OPT_PROFILE, .type = EC2HA_OPT_STRING,
        .arg_name = "name",
        .shortdesc = "AWS CLI profile for credentials and region",
        .longdesc = "Profile in ~/.aws/credentials and ~/.aws/config of the user running the "
                    "cluster (root). Default: $AWS_PROFILE, else \"default\". Credentials are "
                    "taken from the environment first, then this profile, then the instance's "
                    "IAM role through the instance metadata.",
    },
    {
        .name = EIP_OPT_ENDPOINT_URL, .type = EC2HA_OPT_STRING,
        .arg_name = "url",
        .shortdesc = "EC2 API endpoint (default: https://ec2.<region>.amazonaws.com)",
        .longdesc = "EC2 API endpoint URL, e.g. a VPC interface endpoint. Default: "
                    "$AWS_ENDPOINT_URL_EC2, $AWS_ENDPOINT_URL, the profile's endpoint_url, "
                    "then https://ec2.<region>.amazonaws.com. TLS is always verified.",
    },
    {
        .name = EIP_OPT_CA_BUNDLE, .type = EC2HA_OPT_STRING,
        .arg_name = "path",
        .shortdesc = "CA bundle (PEM) to verify the EC2 endpoint",
        .longdesc = "PEM file of certificate authorities used to verify the EC2 endpoint. "
                    "Default: $AWS_CA_BUNDLE, the profile's ca_bundle, then the system store.",
    },
    {
        .name = EIP_OPT_REQUIRE_FENCING, .type = EC2HA_OPT_BOOL, .default_value = "true",
        .arg_name = "boolean",
        .shortdesc = "Refuse to start unless the cluster has stonith-enabled=true",
        .longdesc = "When true, start and validate-all refuse (OCF_ERR_CONFIGURED) if the "
                    "cluster property stonith-enabled is false: without fencing two nodes can "
                    "both believe they own the address. Set to false only for a single node "
                    "or a test cluster.",
    },
    {
        .name = EIP_OPT_AWSCLI, .type = EC2HA_OPT_STRING, .flags = EC2HA_OPT_IGNORED,
        .arg_name = "path",
        .shortdesc = "awseip's path of the AWS CLI (none is run)",
        .longdesc = "For a drop-in switch from ocf:heartbeat:awseip: this agent"
                    " calls the EC2 API itself and never runs the AWS CLI.",
    },
    {
        .name = EIP_OPT_AUTH_TYPE, .type = EC2HA_OPT_STRING, .flags = EC2HA_OPT_IGNORED,
        .arg_name = "key|role",
        .shortdesc = "awseip's key or role choice (the credential chain decides)",
        .longdesc = "For a drop-in switch from ocf:heartbeat:awseip: "
                    "keys from the environment or profile are used when present, else the "
                    "instance's IAM role (what awseip calls auth_type=role).",
    },
    {
        .name = EIP_OPT_API_DELAY, .type = EC2HA_OPT_INT, .flags = EC2HA_OPT_IGNORED,
        .arg_name = "seconds",
        .shortdesc = "awseip's delay after each call (EC2 is polled instead)",
        .longdesc = "For a drop-in switch from ocf:heartbeat:awseip: "
                    "instead of sleeping a fixed delay after each call, start and stop poll "
                    "DescribeAddresses with backoff until EC2 shows the result, within the "
                    "operation timeout.",
    },
    {
        .name = EIP_OPT_CURL_RETRIES, .type = EC2HA_OPT_INT, .flags = EC2HA_OPT_IGNORED,
        .arg_name = "count",
        .shortdesc = "awseip's metadata retry count (retries end at the timeout)",
        .longdesc = "For a drop-in switch from ocf:heartbeat:awseip: "
                    "instance metadata and EC2 calls are retried with backoff until the "
                    "operation timeout (minus a safety margin) runs out.",
    },
    {
        .name = EIP_OPT_CURL_SLEEP, .type = EC2HA_OPT_INT, .flags = EC2HA_OPT_IGNORED,
        .arg_name = "seconds",
        .shortdesc = "awseip's metadata retry sleep (jittered backoff instead)",
        .longdesc = "For a drop-in switch from ocf:heartbeat:awseip: "
                    "retries use exponential backoff with jitter instead of a fixed sleep.",
    },
    /*
     * Tracing, as every resource-agents agent takes it (ocf-shellfuncs): set on an
     * operation by `crm resource trace`, not a parameter of the resource, so not in
     * meta-data (like OCF_RESKEY_CRM_meta_*); EIP_MAN_EXTRA's TRACING describes them.
     */
    {
        .name = EIP_OPT_TRACE_RA, .type = EC2HA_OPT_STRING, .flags = EC2HA_OPT_HIDDEN,
        .arg_name = "boolean",
        .shortdesc = "Trace this operation: log every request and response, secrets masked",
    },
    {
        .name = EIP_OPT_TRACE_DIR, .type = EC2HA_OPT_STRING, .flags = EC2HA_OPT_HIDDEN,
        .arg_name = "directory",
        .shortdesc = "Where trace files go (default $HA_VARLIB/trace_ra)",
    },
    {
        .name = EIP_OPT_TRACE_FILE, .type = EC2HA_OPT_STRING, .flags = EC2HA_OPT_HIDDEN,
        .arg_name = "path|fd",
        .shortdesc = "Trace file: an absolute path or a descriptor 3-9",
    },
};

const size_t eip_n_options = sizeof(eip_options) / sizeof(eip_options[0]);

/* Only the actions ra-api-1.dtd knows appear in meta-data. */
static const ec2ha_action_info eip_ocf_actions[] = {
    { .name = "start", .timeout = "60s",
      .description = "Associate the Elastic IP with this node and wait until EC2 shows it here." },
    { .name = "stop", .timeout = "60s",
      .description = "Disassociate the Elastic IP if, and only if, it is associated here." },
    { .name = "monitor", .timeout = "30s", .interval = "30s", .depth = "0",
      .description = "One DescribeAddresses call: 0 here, 7 elsewhere or unassociated, 1 "
                     "when EC2 cannot tell within the timeout." },
    { .name = "validate-all", .timeout = "30s",
      .description = "Check the parameters and the cluster's fencing settings." },
    { .name = "meta-data", .timeout = "5s",
      .description = "Print the resource agent meta-data." },
    { .name = "usage", .timeout = "5s",
      .description = "Print a usage line." },
};

static const ec2ha_action_info eip_lsb_actions[] = {
    { .name = "start", .description = "Associate the Elastic IP with this instance." },
    { .name = "stop", .description = "Disassociate it if it is associated here." },
    { .name = "status", .description = "Exit 0 when the Elastic IP is here, 3 when not, "
                                       "4 when EC2 cannot tell." },
    { .name = "restart", .description = "stop, then start." },
    { .name = "force-reload", .description = "Re-apply the settings (start) when running." },
};

#define EIP_LONGDESC \
    "Moves an AWS Elastic IP address to the node where Pacemaker runs this resource, " \
    "with the safety an HA cluster needs. start refuses to run unless fencing is enabled " \
    "(require_fencing), refuses to take the address from an instance that EC2 reports " \
    "running and that is an online member of this cluster, associates with " \
    "AllowReassociation and returns only once DescribeAddresses shows the address here. " \
    "stop disassociates only this node's association. monitor costs one EC2 call and " \
    "returns 7 only when EC2 confirms the address is elsewhere or unassociated; API " \
    "errors are retried within the operation timeout and reported as failures, never " \
    "as \"not running\". On start this node's instance id is recorded as the permanent " \
    "node attribute ec2-instance-id, which fence_ec2 uses to find the instance to fence; " \
    "probes correct it, and recurring monitors check it every 10 minutes. " \
    "The parameters of ocf:heartbeat:awseip are accepted, so switching is a change of " \
    "agent name. IAM permissions needed: ec2:DescribeAddresses, ec2:AssociateAddress, " \
    "ec2:DisassociateAddress, ec2:DescribeInstances. Debugging: HA_debug=1 adds debug " \
    "lines; tracing (crm resource trace <resource> <operation>, which sets trace_ra=1 on " \
    "the operation, or OCF_TRACE_RA=1) logs every EC2 and instance metadata request and " \
    "response, secrets masked, to /var/lib/heartbeat/trace_ra/eip/."

#define EIP_MAN_EXTRA \
    ".SH EXIT STATUS\n" \
    "OCF exit codes: 0 success (monitor: associated here), 1 generic error (monitor: EC2 " \
    "could not tell), 2 bad arguments, 3 unknown action, 4 no permission, 5 no credentials " \
    "on this node (start and probes; a recurring monitor says 1), 6 configuration error (including stonith-enabled=false with " \
    "require_fencing=true), 7 not running (monitor only: confirmed elsewhere or " \
    "unassociated). Every failure prints an \\fBocf-exit-reason:\\fR line on stderr.\n" \
    ".SH TIMEOUTS\n" \
    "Every action ends before Pacemaker's timeout (OCF_RESKEY_CRM_meta_timeout) minus a " \
    "safety margin of a tenth of it (at least 1 s, at most 5 s); retries of throttled or " \
    "failed EC2 calls stop there.\n" \
    ".SH LOGGING AND TRACING\n" \
    "The agent logs to stderr, which Pacemaker's executor copies into its log; to syslog " \
    "as eip(<resource>) when HA_LOGFACILITY names a facility (none: not at all); and to " \
    "HA_LOGFILE when set (created 0600). A recurring monitor logs notices and errors " \
    "only, other actions info lines too; HA_debug=1 (not 0) adds debug lines: each EC2 " \
    "and instance metadata call, each state seen, the effective parameters and where " \
    "they came from.\n" \
    ".PP\n" \
    "Tracing adds every request and response body. Secret keys, session tokens, IMDS " \
    "tokens, Authorization headers and signatures are masked (****) in every line at " \
    "every level, and bodies that hold credentials or tokens are never logged. Tracing " \
    "is on when OCF_TRACE_RA is true (1, yes, true, on) or, with OCF_TRACE_RA unset, " \
    "when the operation has trace_ra=1: \\fBcrm resource trace\\fR \\fIresource\\fR " \
    "[\\fIoperation\\fR] sets it (\\fBcrm resource untrace\\fR removes it); " \
    "\\fBcrm_resource \\-\\-force\\-check \\-VV\\fR exports OCF_TRACE_RA=1; in LSB mode " \
    "TRACE_RA=1 in the settings file. The trace goes to OCF_TRACE_FILE, else the " \
    "operation's trace_file: an absolute path, or a descriptor 3 to 9 open for writing " \
    "(/dev/stderr: the usual log). Otherwise, when Pacemaker runs the agent (stdin not a " \
    "terminal), each traced operation gets its own file, " \
    "\\fItrace_dir\\fR/eip/\\fIresource\\fR.\\fIaction\\fR.\\fIYYYY-MM-DD.HH:MM:SS\\fR, " \
    "trace_dir defaulting to $HA_VARLIB/trace_ra (/var/lib/heartbeat/trace_ra), the " \
    "place crm resource trace names and crm report collects; a trace file gets the whole " \
    "log of the operation (created 0600) and the usual log one line naming it. Run by " \
    "hand or in LSB mode, the trace goes to the usual log (stderr first).\n" \
    ".SH LSB MODE\n" \
    "Run without OCF_ROOT, e.g. through a symbolic link /etc/init.d/eip, the agent reads " \
    "KEY=value settings (ALLOCATION_ID=..., ELASTIC_IP=..., PRIVATE_IP_ADDRESS=..., " \
    "REQUIRE_FENCING=...: each parameter upper-cased) from /etc/sysconfig/eip or " \
    "/etc/default/eip ($EC2HA_EIP_CONFIG overrides) and supports start, stop, status, " \
    "restart and force-reload. status exits 0 when the address is here, 3 when not, 4 when " \
    "EC2 cannot tell. Pacemaker passes no timeout to an LSB script, so each action ends " \
    "within 18 s, inside Pacemaker's default operation timeout of 20 s " \
    "(OCF_RESKEY_CRM_meta_timeout, in ms, overrides).\n" \
    ".SH EXAMPLES\n" \
    ".nf\n" \
    "crm configure primitive eip ocf:ec2ha:eip \\e\n" \
    "    params allocation_id=eipalloc-0123456789abcdef0 \\e\n" \
    "    op monitor interval=30s timeout=30s\n" \
    "OCF_ROOT=/usr/lib/ocf /usr/lib/ocf/resource.d/ec2ha/eip manpage\n" \
    ".fi\n" \
    ".SH SEE ALSO\n" \
    "fence_ec2(8), ec2ha(8), crm(8)\n"

const ec2ha_program_info eip_program_info = {
    .name = "eip",
    .version = EC2HA_VERSION,
    .shortdesc = "AWS Elastic IP address, moved with fencing awareness",
    .longdesc = EIP_LONGDESC,
    .usage = "eip {start|stop|monitor|validate-all|meta-data|usage|manpage}",
    .actions = eip_ocf_actions,
    .n_actions = sizeof(eip_ocf_actions) / sizeof(eip_ocf_actions[0]),
    .man_section = "7",
    /* installed as ocf_ec2ha_eip(7), resource-agents' name for OCF agents' pages
     * (ocf_heartbeat_IPaddr2(7)); mandb, whatis and lintian read it from NAME */
    .man_name = "ocf_ec2ha_eip",
    .man_extra = EIP_MAN_EXTRA,
    .kind = EC2HA_PROGRAM_OCF,
};

const ec2ha_program_info eip_lsb_program_info = {
    .name = "eip",
    .version = EC2HA_VERSION,
    .shortdesc = "AWS Elastic IP address (init script mode)",
    .longdesc = EIP_LONGDESC,
    .usage = "/etc/init.d/eip {start|stop|status|restart|force-reload}",
    .actions = eip_lsb_actions,
    .n_actions = sizeof(eip_lsb_actions) / sizeof(eip_lsb_actions[0]),
    .man_section = "7",
    /* installed as ocf_ec2ha_eip(7), resource-agents' name for OCF agents' pages
     * (ocf_heartbeat_IPaddr2(7)); mandb, whatis and lintian read it from NAME */
    .man_name = "ocf_ec2ha_eip",
    .man_extra = EIP_MAN_EXTRA,
    .kind = EC2HA_PROGRAM_OCF,
};

static const char *nonempty(const char *s)
{
    return (s != NULL && s[0] != '\0') ? s : NULL;
}

ec2ha_rc eip_config_from_values(const ec2ha_opt_values *v, eip_config *cfg, ec2ha_error *err)
{
    ec2ha_rc rc = EC2HA_OK;
    bool require = true;

    memset(cfg, 0, sizeof(*cfg));
    cfg->allocation_id = nonempty(ec2ha_opts_get(v, EIP_OPT_ALLOCATION_ID));
    cfg->elastic_ip = nonempty(ec2ha_opts_get(v, EIP_OPT_ELASTIC_IP));
    cfg->private_ip = nonempty(ec2ha_opts_get(v, EIP_OPT_PRIVATE_IP));
    cfg->eni = nonempty(ec2ha_opts_get(v, EIP_OPT_ENI));
    cfg->interface = nonempty(ec2ha_opts_get(v, EIP_OPT_INTERFACE));
    cfg->region = nonempty(ec2ha_opts_get(v, EIP_OPT_REGION));
    cfg->profile = nonempty(ec2ha_opts_get(v, EIP_OPT_PROFILE));
    cfg->endpoint_url = nonempty(ec2ha_opts_get(v, EIP_OPT_ENDPOINT_URL));
    cfg->ca_bundle = nonempty(ec2ha_opts_get(v, EIP_OPT_CA_BUNDLE));

    rc = ec2ha_opts_get_bool(v, EIP_OPT_REQUIRE_FENCING, &require, err);
    if (rc != EC2HA_OK) {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID,
                               "require_fencing=%s is not a boolean; use true or false",
                               ec2ha_opts_get(v, EIP_OPT_REQUIRE_FENCING));
    }
    cfg->require_fencing = require;
    return EC2HA_OK;
}
