/*
 * options.c - the one option table and the one command table of ec2ha.
 *
 * argv parsing, --help and the man page come from cli_options[] and
 * cli_commands[]; main.c dispatches through cli_commands[] as well.
 */
#include <stddef.h>

#include "cli.h"

const ec2ha_option cli_options[] = {
    { .name = CLI_OPT_REGION, .short_opt = 'r', .type = EC2HA_OPT_STRING, .arg_name = "region",
      .shortdesc = "AWS region",
      .longdesc = "Default: $AWS_REGION, $AWS_DEFAULT_REGION, the profile, then the instance "
                  "metadata." },
    { .name = CLI_OPT_PROFILE, .short_opt = 'p', .type = EC2HA_OPT_STRING, .arg_name = "name",
      .shortdesc = "AWS profile for credentials and region",
      .longdesc = "Profile in ~/.aws/credentials and ~/.aws/config. Default: $AWS_PROFILE, "
                  "else default. Credentials come from the environment first, then the "
                  "profile, then the instance's IAM role." },
    { .name = CLI_OPT_ENDPOINT_URL, .type = EC2HA_OPT_STRING, .arg_name = "url",
      .shortdesc = "EC2 API endpoint",
      .longdesc = "Default: $AWS_ENDPOINT_URL_EC2, $AWS_ENDPOINT_URL, the profile, then "
                  "https://ec2.<region>.amazonaws.com." },
    { .name = CLI_OPT_CA_BUNDLE, .type = EC2HA_OPT_STRING, .arg_name = "path",
      .shortdesc = "CA bundle (PEM) to verify the endpoint",
      .longdesc = "Default: $AWS_CA_BUNDLE, the profile's ca_bundle, then the system store." },
    { .name = CLI_OPT_ALLOCATION_ID, .short_opt = 'a', .type = EC2HA_OPT_STRING,
      .arg_name = "eipalloc-id",
      .shortdesc = "Elastic IP by allocation id (eip commands, preflight)" },
    { .name = CLI_OPT_PUBLIC_IP, .type = EC2HA_OPT_STRING, .arg_name = "address",
      .shortdesc = "Elastic IP by public address (eip commands, preflight)" },
    { .name = CLI_OPT_ENI, .type = EC2HA_OPT_STRING, .arg_name = "eni-id",
      .shortdesc = "Network interface to associate with (eip associate)",
      .longdesc = "Default: the instance's only interface; required on instances with "
                  "several." },
    { .name = CLI_OPT_PRIVATE_IP, .type = EC2HA_OPT_STRING, .arg_name = "address",
      .shortdesc = "Private address to associate with (eip associate)" },
    { .name = CLI_OPT_INSTANCE_ID, .short_opt = 'i', .type = EC2HA_OPT_STRING,
      .arg_name = "id",
      .shortdesc = "Instance to act on instead of this one (eip associate, register)" },
    { .name = CLI_OPT_FORCE, .short_opt = 'f', .type = EC2HA_OPT_BOOL,
      .shortdesc = "Move an Elastic IP that is associated elsewhere; force-stop an instance",
      .longdesc = "eip associate: reassociate even when the address is on another instance. "
                  "eip disassociate: remove an association that is not this instance's. "
                  "instance stop: Force=true (no clean shutdown, as fencing does)." },
    { .name = CLI_OPT_WAIT, .short_opt = 'w', .type = EC2HA_OPT_BOOL,
      .shortdesc = "Wait until the instance is stopped or running (instance stop/start)" },
    { .name = CLI_OPT_FENCE_TARGET, .type = EC2HA_OPT_STRING, .arg_name = "instance|node",
      .shortdesc = "Instance to test Stop/StartInstances permission on (preflight)",
      .longdesc = "Default: the instances of the other cluster nodes (ec2-instance-id), else "
                  "this instance. Only DryRun calls are made." },
    { .name = CLI_OPT_NODE, .short_opt = 'n', .type = EC2HA_OPT_STRING, .arg_name = "name",
      .shortdesc = "Cluster node name (register)",
      .longdesc = "Default: this node's name (uname -n)." },
    { .name = CLI_OPT_TAG_KEY, .type = EC2HA_OPT_STRING, .default_value = "Name",
      .arg_name = "key",
      .shortdesc = "Tag that names instances when a target is not an instance id or node" },
    { .name = CLI_OPT_MAX_SKEW, .type = EC2HA_OPT_INT, .default_value = "60",
      .arg_name = "seconds",
      .shortdesc = "Largest clock difference to the EC2 API preflight accepts" },
    { .name = CLI_OPT_TIMEOUT, .short_opt = 't', .type = EC2HA_OPT_INT, .arg_name = "seconds",
      .shortdesc = "Give up after this many seconds",
      .longdesc = "Every call and retry ends by then. Default: 60, or 600 with --wait." },
    { .name = CLI_OPT_JSON, .short_opt = 'j', .type = EC2HA_OPT_BOOL,
      .shortdesc = "Print one JSON document on stdout (for scripts)" },
    { .name = CLI_OPT_VERBOSE, .short_opt = 'v', .type = EC2HA_OPT_BOOL,
      .flags = EC2HA_OPT_REPEATABLE,
      .shortdesc = "Log to stderr (-v info, -vv debug, -vvv trace)",
      .longdesc = "-v: info lines (where credentials, region and endpoint came from); -vv: "
                  "debug lines (each EC2 and instance metadata call, its status and time); "
                  "-vvv: trace, the same as --trace." },
    { .name = CLI_OPT_TRACE, .type = EC2HA_OPT_BOOL,
      .shortdesc = "Log to stderr at trace level: every request and response body, secrets masked",
      .longdesc = "Trace level (as -vvv): also every EC2 and instance metadata request and "
                  "response body. Secret keys, session tokens, IMDS tokens and signatures "
                  "are masked (****), and bodies that hold credentials or tokens are not "
                  "logged, but the output names instances, addresses and account details: "
                  "review it before sharing." },
    { .name = CLI_OPT_HELP, .short_opt = 'h', .type = EC2HA_OPT_BOOL,
      .flags = EC2HA_OPT_NO_STDIN, .shortdesc = "Show this help and exit" },
    { .name = CLI_OPT_VERSION, .short_opt = 'V', .type = EC2HA_OPT_BOOL,
      .flags = EC2HA_OPT_NO_STDIN, .shortdesc = "Show the version and exit" },
};

const size_t cli_n_options = sizeof(cli_options) / sizeof(cli_options[0]);

const cli_command cli_commands[] = {
    { NULL, "whoami", cli_cmd_whoami, 0, "whoami",
      "This instance (id, region, network interfaces and private addresses), where the "
      "credentials, region and endpoint came from, and this node's cluster name and "
      "ec2-instance-id." },
    { "eip", "show", cli_cmd_eip_show, 0, "eip show [-a ID | --public-ip IP]",
      "Elastic IPs (all, or the one given) with their association and cluster node." },
    { "eip", "associate", cli_cmd_eip_associate, 0,
      "eip associate -a ID|--public-ip IP [--eni ENI] [--private-ip IP] [-i ID] [-f]",
      "Associate the Elastic IP with this instance (or -i) and wait until EC2 shows it. "
      "Refuses when it is associated with another instance unless --force." },
    { "eip", "disassociate", cli_cmd_eip_disassociate, 0,
      "eip disassociate -a ID|--public-ip IP [-f]",
      "Disassociate the Elastic IP from this instance and wait until EC2 shows it gone. "
      "Refuses to remove another instance's association unless --force." },
    { "instance", "list", cli_cmd_instance_list, 0, "instance list",
      "Instances in the region with state, name tag, private address and cluster node." },
    { "instance", "status", cli_cmd_instance_status, 1, "instance status [TARGET]",
      "State of an instance (id, node name or Name tag; default this instance)." },
    { "instance", "stop", cli_cmd_instance_stop, 1, "instance stop TARGET [-f] [-w]",
      "StopInstances (Force=true with --force); --wait polls until it is stopped." },
    { "instance", "start", cli_cmd_instance_start, 1, "instance start TARGET [-w]",
      "StartInstances; --wait polls until it is running." },
    { NULL, "preflight", cli_cmd_preflight, 0,
      "preflight [-a ID | --public-ip IP] [--fence-target TARGET]",
      "Check credentials, region, clock skew, the IAM permission of every call fence_ec2 "
      "and the eip agent make (DryRun), the instance metadata, and the cluster's fencing "
      "settings; prints a checklist with a fix for each failure, exit 1 if any fails." },
    { NULL, "register", cli_cmd_register, 0, "register [-n NODE] [-i ID]",
      "Write this node's instance id into the CIB as its permanent ec2-instance-id "
      "attribute, which fence_ec2 uses to find the instance to fence." },
};

const size_t cli_n_commands = sizeof(cli_commands) / sizeof(cli_commands[0]);

const char cli_man_extra[] =
    ".SH EXIT STATUS\n"
    "0 success; 1 failure (for preflight: at least one check failed); 2 usage error.\n"
    ".SH TARGETS\n"
    "Where a command takes an instance, it accepts an instance id (i-...), a cluster node "
    "name (resolved through the node's ec2-instance-id attribute in the CIB), or the value "
    "of the Name tag (--tag-key), which must match exactly one instance that is not "
    "terminated.\n"
    ".SH ENVIRONMENT\n"
    "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_PROFILE, "
    "AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE, AWS_REGION, AWS_DEFAULT_REGION, "
    "AWS_ENDPOINT_URL_EC2, AWS_ENDPOINT_URL, AWS_CA_BUNDLE, AWS_EC2_METADATA_SERVICE_ENDPOINT, "
    "AWS_EC2_METADATA_DISABLED as the AWS CLI reads them; CIB_file for an offline CIB; "
    "EC2HA_COROSYNC_CONF for the corosync.conf preflight reads "
    "(default /etc/corosync/corosync.conf).\n"
    ".SH EXAMPLES\n"
    ".nf\n"
    "ec2ha preflight --allocation-id eipalloc-0123456789abcdef0\n"
    "ec2ha eip show --json\n"
    "ec2ha instance stop node2 --force --wait\n"
    "ec2ha register\n"
    ".fi\n"
    ".SH SEE ALSO\n"
    "fence_ec2(8), ocf_ec2ha_eip(7)\n";
