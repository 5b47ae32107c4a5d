/*
 * main.c - ec2ha, the operator CLI: argv, command dispatch, exit status.
 *
 *   ec2ha [options] COMMAND [args]     (options may come anywhere)
 *
 * Results go to stdout (human text, or one JSON document with --json);
 * errors to stderr as "ec2ha: error: ..." (and, with --json, as a JSON
 * document {"ok": false, "error": {...}} on stdout too).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ec2ha/http.h"
#include "ec2ha/log.h"

#include "cli.h"

#ifndef EC2HA_VERSION
#define EC2HA_VERSION "0.0.0"
#endif

#define CLI_MAX_COMMANDS 32

static ec2ha_action_info command_infos[CLI_MAX_COMMANDS];

static void program_info(ec2ha_program_info *info)
{
    size_t n = cli_n_commands < CLI_MAX_COMMANDS ? cli_n_commands : CLI_MAX_COMMANDS;

    for (size_t i = 0; i < n; i++) {
        command_infos[i].name = cli_commands[i].synopsis;
        command_infos[i].description = cli_commands[i].description;
    }
    memset(info, 0, sizeof(*info));
    info->name = "ec2ha";
    info->version = EC2HA_VERSION;
    info->shortdesc = "operator tool for Pacemaker clusters on AWS EC2";
    info->longdesc =
        "ec2ha shows and changes what the ec2ha agents (fence_ec2 and ocf:ec2ha:eip) work "
        "with: this instance, Elastic IPs, instances, and the cluster's fencing settings. "
        "It uses the same core as the agents: the AWS credential chain, IMDSv2, SigV4 and "
        "deadline-bounded retries. preflight checks a node before the cluster relies on it; "
        "register records the node's instance id for fence_ec2.";
    info->usage = "ec2ha [OPTIONS] COMMAND [ARGS]";
    info->actions = command_infos;
    info->n_actions = n;
    info->man_section = "8";
    info->man_extra = cli_man_extra;
    info->kind = EC2HA_PROGRAM_CLI;
}

static const cli_command *find_command(int n_ops, char **ops, int *used_out)
{
    for (size_t i = 0; i < cli_n_commands; i++) {
        const cli_command *c = &cli_commands[i];

        if (c->group == NULL && n_ops >= 1 && strcmp(ops[0], c->verb) == 0) {
            *used_out = 1;
            return c;
        }
        if (c->group != NULL && n_ops >= 2 && strcmp(ops[0], c->group) == 0 &&
            strcmp(ops[1], c->verb) == 0) {
            *used_out = 2;
            return c;
        }
    }
    return NULL;
}

__attribute__((format(printf, 1, 2)))
static void usage_error(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "ec2ha: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'ec2ha --help'.\n");
}

static void print_error_json(cli_out *out, const ec2ha_error *err)
{
    cli_out_free(out);
    cli_out_init(out, true);
    cli_json_begin_object(out, NULL);
    cli_json_bool(out, "ok", false);
    cli_json_begin_object(out, "error");
    cli_json_string(out, "message", err->message);
    cli_json_string(out, "kind", ec2ha_rc_str(err->rc));
    cli_json_string(out, "code", err->code[0] != '\0' ? err->code : NULL);
    cli_json_string(out, "request_id", err->request_id[0] != '\0' ? err->request_id : NULL);
    if (err->http_status != 0) {
        cli_json_int(out, "http_status", err->http_status);
    }
    cli_json_end_object(out);
    cli_json_end_object(out);
    (void)cli_json_print(out);
}

static int run(int argc, char **argv)
{
    int exit_code = CLI_EXIT_FAILURE;
    ec2ha_opt_values values;
    ec2ha_program_info info;
    ec2ha_error err;
    ec2ha_rc rc = EC2HA_OK;
    cli_ctx ctx;
    cli_out out;
    const cli_command *cmd = NULL;
    int next = argc;
    int used = 0;
    long timeout_s = 0;
    bool json = false;
    unsigned verbose = 0;
    ec2ha_log_level level = EC2HA_LOG_WARNING;

    memset(&values, 0, sizeof(values));
    ec2ha_error_clear(&err);
    cli_ctx_init(&ctx, &values, false, 0);
    cli_out_init(&out, false);
    program_info(&info);

    rc = ec2ha_opts_init(&values, cli_options, cli_n_options, &err);
    if (rc == EC2HA_OK) {
        rc = ec2ha_opts_parse_argv(&values, argc, argv, &next, &err);
    }
    if (rc != EC2HA_OK) {
        usage_error("%s", err.message);
        exit_code = CLI_EXIT_USAGE;
        goto done;
    }
    if (ec2ha_opts_is_set(&values, CLI_OPT_HELP) ||
        (next < argc && strcmp(argv[next], "help") == 0)) {
        ec2ha_opts_print_help(stdout, &info, cli_options, cli_n_options);
        exit_code = CLI_EXIT_OK;
        goto done;
    }
    if (ec2ha_opts_is_set(&values, CLI_OPT_VERSION)) {
        printf("ec2ha %s\n", EC2HA_VERSION);
        exit_code = CLI_EXIT_OK;
        goto done;
    }
    if (next >= argc) {
        ec2ha_opts_print_help(stderr, &info, cli_options, cli_n_options);
        exit_code = CLI_EXIT_USAGE;
        goto done;
    }
    if (strcmp(argv[next], "manpage") == 0) {
        ec2ha_opts_print_manpage(stdout, &info, cli_options, cli_n_options);
        exit_code = fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
        goto done;
    }
    cmd = find_command(argc - next, argv + next, &used);
    if (cmd == NULL) {
        usage_error("unknown command '%s'", argv[next]);
        exit_code = CLI_EXIT_USAGE;
        goto done;
    }
    if (argc - next - used > cmd->max_operands) {
        usage_error("too many arguments; usage: ec2ha %s", cmd->synopsis);
        exit_code = CLI_EXIT_USAGE;
        goto done;
    }

    json = cli_flag(&ctx, CLI_OPT_JSON);
    verbose = ec2ha_opts_count(&values, CLI_OPT_VERBOSE);
    if (cli_flag(&ctx, CLI_OPT_TRACE) || verbose >= 3) {
        level = EC2HA_LOG_TRACE;
    } else if (verbose == 2) {
        level = EC2HA_LOG_DEBUG;
    } else if (verbose == 1) {
        level = EC2HA_LOG_INFO;
    }
    ec2ha_log_init("ec2ha", level, EC2HA_LOG_TO_STDERR, NULL);
    ec2ha_opts_log_effective(&values);

    timeout_s = cli_flag(&ctx, CLI_OPT_WAIT) ? CLI_DEFAULT_WAIT_TIMEOUT_S : CLI_DEFAULT_TIMEOUT_S;
    if (ec2ha_opts_is_set(&values, CLI_OPT_TIMEOUT) &&
        ec2ha_opts_get_long(&values, CLI_OPT_TIMEOUT, 1, 86400, &timeout_s, &err) != EC2HA_OK) {
        usage_error("%s", err.message);
        exit_code = CLI_EXIT_USAGE;
        goto done;
    }
    cli_ctx_init(&ctx, &values, json, (int64_t)timeout_s * 1000);
    cli_out_free(&out);
    cli_out_init(&out, json);

    rc = cmd->fn(&ctx, argc - next - used, argv + next + used, &out, &err);
    if (rc == EC2HA_OK) {
        exit_code = CLI_EXIT_OK;
    } else {
        if (err.rc == EC2HA_OK) {
            err.rc = rc;
        }
        if (err.message[0] == '\0') {
            snprintf(err.message, sizeof(err.message), "%s", ec2ha_rc_str(rc));
        }
        ec2ha_log_redact(err.message);
        fprintf(stderr, "ec2ha: error: %s\n", err.message);
        if (json && !out.printed) {
            print_error_json(&out, &err);
        }
        exit_code = CLI_EXIT_FAILURE;
    }

done:
    cli_out_free(&out);
    cli_ctx_free(&ctx);
    ec2ha_opts_free(&values);
    return exit_code;
}

int main(int argc, char **argv)
{
    int exit_code = run(argc, argv);

    ec2ha_http_cleanup();
    ec2ha_log_close();
    return exit_code;
}
