/*
 * agents/cli/cli.h - private to the ec2ha operator CLI.
 *
 * main.c       argv parsing, the command dispatch, exit codes
 * options.c    the one option table and the command table
 * output.c     human output helpers and the --json writer
 * session.c    the lazily built AWS session, IMDS, CIB and target resolution
 * whoami.c eip.c instance.c preflight.c register.c   the commands
 *
 * The CLI prints (stdout for results, stderr for errors and, with -v, the log);
 * every command returns an ec2ha_rc and main() maps it to the exit status.
 */
#ifndef EC2HA_AGENT_CLI_H
#define EC2HA_AGENT_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ec2ha/buf.h"
#include "ec2ha/cluster.h"
#include "ec2ha/creds.h"
#include "ec2ha/ec2.h"
#include "ec2ha/error.h"
#include "ec2ha/imds.h"
#include "ec2ha/opts.h"
#include "ec2ha/retry.h"

/* Option names (long options are these with '_' -> '-'). */
#define CLI_OPT_REGION "region"
#define CLI_OPT_PROFILE "profile"
#define CLI_OPT_ENDPOINT_URL "endpoint_url"
#define CLI_OPT_CA_BUNDLE "ca_bundle"
#define CLI_OPT_JSON "json"
#define CLI_OPT_VERBOSE "verbose"
#define CLI_OPT_TRACE "trace"
#define CLI_OPT_TIMEOUT "timeout"
#define CLI_OPT_ALLOCATION_ID "allocation_id"
#define CLI_OPT_PUBLIC_IP "public_ip"
#define CLI_OPT_ENI "eni"
#define CLI_OPT_PRIVATE_IP "private_ip"
#define CLI_OPT_INSTANCE_ID "instance_id"
#define CLI_OPT_FORCE "force"
#define CLI_OPT_WAIT "wait"
#define CLI_OPT_FENCE_TARGET "fence_target"
#define CLI_OPT_NODE "node"
#define CLI_OPT_TAG_KEY "tag_key"
#define CLI_OPT_MAX_SKEW "max_clock_skew"
#define CLI_OPT_HELP "help"
#define CLI_OPT_VERSION "version"

#define CLI_DEFAULT_TIMEOUT_S 60
#define CLI_DEFAULT_WAIT_TIMEOUT_S 600
#define CLI_ENV_COROSYNC_CONF "EC2HA_COROSYNC_CONF"
#define CLI_COROSYNC_CONF "/etc/corosync/corosync.conf"

/* Exit status. */
enum cli_exit {
    CLI_EXIT_OK = 0,
    CLI_EXIT_FAILURE = 1,
    CLI_EXIT_USAGE = 2
};

/* ---- output ---------------------------------------------------------------- */

#define CLI_JSON_MAX_DEPTH 16

typedef struct cli_out {
    bool json;
    ec2ha_buf buf;                      /* the JSON document being built */
    int depth;
    bool need_comma[CLI_JSON_MAX_DEPTH];
    bool failed;                        /* out of memory or too deep */
    bool printed;                       /* the document went out already */
} cli_out;

void cli_out_init(cli_out *o, bool json);
void cli_out_free(cli_out *o);
/* key NULL inside arrays and for the top-level value. */
void cli_json_begin_object(cli_out *o, const char *key);
void cli_json_end_object(cli_out *o);
void cli_json_begin_array(cli_out *o, const char *key);
void cli_json_end_array(cli_out *o);
void cli_json_string(cli_out *o, const char *key, const char *value);   /* NULL -> null */
void cli_json_bool(cli_out *o, const char *key, bool value);
void cli_json_int(cli_out *o, const char *key, long long value);
void cli_json_null(cli_out *o, const char *key);
/* Write the document and a newline to stdout; EC2HA_ERR_NOMEM/IO on failure. */
ec2ha_rc cli_json_print(cli_out *o);
/* Escape into a bounded buffer (for tests of the writer and the fuzzers). */
ec2ha_rc cli_json_escape(ec2ha_buf *b, const char *s);

/* "-" for NULL. */
const char *cli_dash(const char *s);

/* ---- session ---------------------------------------------------------------- */

typedef struct cli_ctx {
    const ec2ha_opt_values *opts;
    bool json;
    ec2ha_deadline deadline;
    ec2ha_imds *imds;
    bool aws_ready;
    ec2ha_aws_config aws;
    ec2ha_ec2_client *ec2;
    char *instance_id;                  /* this instance, when on EC2 */
    bool self_tried;
    ec2ha_error self_err;
    ec2ha_cluster *cib;
    bool cib_tried;
    ec2ha_error cib_err;
    char *node_name;
} cli_ctx;

void cli_ctx_init(cli_ctx *ctx, const ec2ha_opt_values *opts, bool json, int64_t timeout_ms);
void cli_ctx_free(cli_ctx *ctx);
const char *cli_opt(const cli_ctx *ctx, const char *name);   /* NULL when unset or empty */
bool cli_flag(const cli_ctx *ctx, const char *name);
ec2ha_rc cli_imds(cli_ctx *ctx, ec2ha_error *err);
/* Region, endpoint and (need_credentials) the credential chain. */
ec2ha_rc cli_aws(cli_ctx *ctx, ec2ha_error *err);
ec2ha_rc cli_ec2(cli_ctx *ctx, ec2ha_error *err);
/* This instance's id from IMDS; NULL with err filled when not on EC2. */
const char *cli_self(cli_ctx *ctx, ec2ha_error *err);
bool cli_cib(cli_ctx *ctx);
const char *cli_node_name(cli_ctx *ctx);
/* Node whose ec2-instance-id is instance_id (heap), NULL when none or no CIB. */
char *cli_node_of_instance(cli_ctx *ctx, const char *instance_id);
/* An instance id as is; else a node's ec2-instance-id; else tag:<tag_key>=target. */
ec2ha_rc cli_resolve_instance(cli_ctx *ctx, const char *target, char **id_out, ec2ha_error *err);
/* DescribeAddresses for --allocation-id / --public-ip; exactly one address. */
ec2ha_rc cli_describe_one_address(cli_ctx *ctx, ec2ha_address_list *out, ec2ha_error *err);

/* ---- commands ----------------------------------------------------------------- */

typedef ec2ha_rc (*cli_command_fn)(cli_ctx *ctx, int argc, char **argv, cli_out *out,
                                   ec2ha_error *err);

typedef struct cli_command {
    const char *group;                  /* "eip", "instance" or NULL */
    const char *verb;                   /* "show" ... or the command itself */
    cli_command_fn fn;
    int max_operands;                   /* after the command words */
    const char *synopsis;               /* "eip show [--allocation-id ID | --public-ip IP]" */
    const char *description;
} cli_command;

extern const ec2ha_option cli_options[];
extern const size_t cli_n_options;
extern const cli_command cli_commands[];
extern const size_t cli_n_commands;
extern const char cli_man_extra[];

ec2ha_rc cli_cmd_whoami(cli_ctx *ctx, int argc, char **argv, cli_out *out, ec2ha_error *err);
ec2ha_rc cli_cmd_eip_show(cli_ctx *ctx, int argc, char **argv, cli_out *out, ec2ha_error *err);
ec2ha_rc cli_cmd_eip_associate(cli_ctx *ctx, int argc, char **argv, cli_out *out,
                               ec2ha_error *err);
ec2ha_rc cli_cmd_eip_disassociate(cli_ctx *ctx, int argc, char **argv, cli_out *out,
                                  ec2ha_error *err);
ec2ha_rc cli_cmd_instance_list(cli_ctx *ctx, int argc, char **argv, cli_out *out,
                               ec2ha_error *err);
ec2ha_rc cli_cmd_instance_status(cli_ctx *ctx, int argc, char **argv, cli_out *out,
                                 ec2ha_error *err);
ec2ha_rc cli_cmd_instance_stop(cli_ctx *ctx, int argc, char **argv, cli_out *out,
                               ec2ha_error *err);
ec2ha_rc cli_cmd_instance_start(cli_ctx *ctx, int argc, char **argv, cli_out *out,
                                ec2ha_error *err);
ec2ha_rc cli_cmd_preflight(cli_ctx *ctx, int argc, char **argv, cli_out *out, ec2ha_error *err);
ec2ha_rc cli_cmd_register(cli_ctx *ctx, int argc, char **argv, cli_out *out, ec2ha_error *err);

#endif
