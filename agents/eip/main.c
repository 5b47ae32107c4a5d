/*
 * main.c - ocf:ec2ha:eip entry point: OCF or LSB mode, options, exit codes.
 *
 * With OCF_ROOT in the environment the program is an OCF resource agent
 * (action in argv[1], parameters in OCF_RESKEY_*); without it, e.g. run as
 * /etc/init.d/eip, it is an LSB init script (lsb.c).  This file is the only
 * place where an ec2ha_rc becomes an exit code.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ec2ha/http.h"
#include "ec2ha/log.h"

#include "eip.h"

typedef enum eip_ocf_action {
    ACT_UNKNOWN = 0,
    ACT_START,
    ACT_STOP,
    ACT_MONITOR,
    ACT_VALIDATE,
    ACT_META_DATA,
    ACT_USAGE,
    ACT_MANPAGE
} eip_ocf_action;

static const struct {
    const char *name;
    eip_ocf_action action;
    int64_t default_timeout_ms;
} ocf_actions[] = {
    { "start", ACT_START, EIP_TIMEOUT_START_MS },
    { "stop", ACT_STOP, EIP_TIMEOUT_STOP_MS },
    { "monitor", ACT_MONITOR, EIP_TIMEOUT_MONITOR_MS },
    { "status", ACT_MONITOR, EIP_TIMEOUT_MONITOR_MS },          /* heartbeat-era alias */
    { "validate-all", ACT_VALIDATE, EIP_TIMEOUT_VALIDATE_MS },
    { "validate", ACT_VALIDATE, EIP_TIMEOUT_VALIDATE_MS },      /* awseip's alias */
    { "meta-data", ACT_META_DATA, 0 },
    { "metadata", ACT_META_DATA, 0 },
    { "usage", ACT_USAGE, 0 },
    { "help", ACT_USAGE, 0 },
    { "manpage", ACT_MANPAGE, 0 },
};

/* ---- exit codes ----------------------------------------------------------- */

int eip_ocf_exit_code(ec2ha_rc rc, const ec2ha_error *err)
{
    switch (rc) {
    case EC2HA_OK:
        return EIP_OCF_SUCCESS;
    case EC2HA_ERR_INVALID:
    case EC2HA_ERR_AMBIGUOUS:
    case EC2HA_ERR_NOT_FOUND:
        return EIP_OCF_ERR_CONFIGURED;
    case EC2HA_ERR_NO_CREDENTIALS:
    case EC2HA_ERR_UNAVAILABLE:
        /* node-local: Pacemaker bans this node and may run the resource elsewhere */
        return EIP_OCF_ERR_INSTALLED;
    case EC2HA_ERR_AWS:
        if (err != NULL && eip_aws_code_is_permission(err->code)) {
            return EIP_OCF_ERR_PERM;
        }
        if (err != NULL && eip_aws_code_is_config(err->code)) {
            return EIP_OCF_ERR_CONFIGURED;
        }
        return EIP_OCF_ERR_GENERIC;
    default:
        return EIP_OCF_ERR_GENERIC;
    }
}

int64_t eip_timeout_from_env(int64_t default_ms)
{
    const char *s = getenv("OCF_RESKEY_CRM_meta_timeout");
    long timeout_ms = (long)default_ms;
    int64_t margin_ms = 0;
    ec2ha_error err;

    ec2ha_error_clear(&err);
    if (s != NULL && s[0] != '\0' &&
        ec2ha_parse_long("OCF_RESKEY_CRM_meta_timeout", s, 1, 86400L * 1000, &timeout_ms,
                         &err) != EC2HA_OK) {
        ec2ha_warn("%s; using %lld ms", err.message, (long long)default_ms);
        timeout_ms = (long)default_ms;
    }
    /* End before Pacemaker kills us: a tenth of the timeout, at least 1 s, at most 5 s. */
    margin_ms = timeout_ms / 10;
    if (margin_ms < 1000) {
        margin_ms = 1000;
    }
    if (margin_ms > 5000) {
        margin_ms = 5000;
    }
    if (timeout_ms - margin_ms < timeout_ms / 2) {
        return timeout_ms / 2;
    }
    return timeout_ms - margin_ms;
}

void eip_print_exit_reason(const char *reason)
{
    char line[EC2HA_ERROR_MESSAGE_MAX];

    snprintf(line, sizeof(line), "%s", reason != NULL && reason[0] != '\0' ? reason : "failed");
    for (char *p = line; *p != '\0'; p++) {
        if (*p == '\n' || *p == '\r') {
            *p = ' ';
        }
    }
    ec2ha_log_redact(line);
    fprintf(stderr, "%s%s\n", EIP_EXIT_REASON_PREFIX, line);
    fflush(stderr);
}

/* ---- OCF mode ------------------------------------------------------------- */

static void ocf_usage(FILE *out)
{
    fprintf(out, "usage: %s\n\nExpects a fully populated OCF RA-compliant environment "
                 "(OCF_ROOT, OCF_RESKEY_*).\nWithout OCF_ROOT it runs as an LSB init script: "
                 "%s\n", eip_program_info.usage, eip_lsb_program_info.usage);
}

static void log_ignored_options(const ec2ha_opt_values *v)
{
    for (size_t i = 0; i < eip_n_options; i++) {
        if ((eip_options[i].flags & EC2HA_OPT_IGNORED) != 0 &&
            ec2ha_opts_is_set(v, eip_options[i].name)) {
            ec2ha_info("%s=%s is accepted for awseip compatibility and ignored",
                       eip_options[i].name, ec2ha_opts_get(v, eip_options[i].name));
        }
    }
}

static int run_ocf_action(eip_ocf_action action, const char *name, int64_t default_timeout_ms)
{
    int exit_code = EIP_OCF_ERR_GENERIC;
    ec2ha_opt_values values;
    ec2ha_error err;
    eip_ctx ctx;
    ec2ha_rc rc = EC2HA_OK;
    bool here = false;
    const char *interval = getenv("OCF_RESKEY_CRM_meta_interval");
    bool probe = interval == NULL || interval[0] == '\0' || strcmp(interval, "0") == 0;

    memset(&values, 0, sizeof(values));
    ec2ha_error_clear(&err);
    eip_ctx_init(&ctx, eip_timeout_from_env(default_timeout_ms));
    ctx.probe = probe;

    rc = ec2ha_opts_init(&values, eip_options, eip_n_options, &err);
    if (rc == EC2HA_OK) {
        rc = ec2ha_opts_parse_env(&values, "OCF_RESKEY_", &err);
    }
    /* before anything is checked: a configuration error is worth a trace too */
    (void)eip_trace_start(&values, name, false);
    if (rc == EC2HA_OK) {
        rc = eip_config_from_values(&values, &ctx.cfg, &err);
    }
    if (rc != EC2HA_OK) {
        if (rc != EC2HA_ERR_NOMEM) {
            rc = EC2HA_ERR_INVALID;
        }
        goto done;
    }
    ec2ha_opts_log_effective(&values);
    log_ignored_options(&values);

    switch (action) {
    case ACT_START:
        rc = eip_action_start(&ctx, &err);
        break;
    case ACT_STOP:
        rc = eip_action_stop(&ctx, &err);
        break;
    case ACT_MONITOR:
        rc = eip_action_monitor(&ctx, &here, &err);
        break;
    case ACT_VALIDATE:
        rc = eip_action_validate(&ctx, &err);
        break;
    default:
        rc = ec2ha_error_set(&err, EC2HA_ERR_INVALID, "internal: unexpected action");
        break;
    }

done:
    exit_code = eip_ocf_exit_code(rc, &err);
    /*
     * A recurring monitor that cannot reach credentials or instance metadata cannot tell
     * where the address is: that is 1 (DESIGN section 4), not "not installed" (5), which
     * would ban a node that may well be serving the address.  Start and probes keep 5.
     */
    if (action == ACT_MONITOR && !probe && exit_code == EIP_OCF_ERR_INSTALLED) {
        exit_code = EIP_OCF_ERR_GENERIC;
    }
    if (rc == EC2HA_OK && action == ACT_MONITOR && !here) {
        exit_code = EIP_OCF_NOT_RUNNING;
    }
    if (rc != EC2HA_OK) {
        ec2ha_err("%s%s failed (exit %d): %s", action == ACT_MONITOR && probe ? "probe " : "",
                  action == ACT_START ? "start" : action == ACT_STOP ? "stop" :
                  action == ACT_MONITOR ? "monitor" : "validate-all", exit_code, err.message);
        eip_print_exit_reason(err.message);
    }
    eip_ctx_free(&ctx);
    ec2ha_opts_free(&values);
    return exit_code;
}

static int ocf_main(int argc, char **argv)
{
    const char *name = argc > 1 ? argv[1] : NULL;
    eip_ocf_action action = ACT_UNKNOWN;
    int64_t timeout_ms = 0;

    if (argc != 2 || name == NULL) {
        ocf_usage(stderr);
        return EIP_OCF_ERR_ARGS;
    }
    for (size_t i = 0; i < sizeof(ocf_actions) / sizeof(ocf_actions[0]); i++) {
        if (strcmp(name, ocf_actions[i].name) == 0) {
            action = ocf_actions[i].action;
            timeout_ms = ocf_actions[i].default_timeout_ms;
        }
    }
    switch (action) {
    case ACT_META_DATA:
        ec2ha_opts_print_ocf_metadata(stdout, &eip_program_info, eip_options, eip_n_options);
        return fflush(stdout) == 0 ? EIP_OCF_SUCCESS : EIP_OCF_ERR_GENERIC;
    case ACT_USAGE:
        ocf_usage(stdout);
        ec2ha_opts_print_help(stdout, &eip_program_info, eip_options, eip_n_options);
        return EIP_OCF_SUCCESS;
    case ACT_MANPAGE:
        ec2ha_opts_print_manpage(stdout, &eip_program_info, eip_options, eip_n_options);
        return EIP_OCF_SUCCESS;
    case ACT_UNKNOWN: {
        char reason[160];

        snprintf(reason, sizeof(reason), "action '%.64s' is not implemented by ocf:ec2ha:eip",
                 name);
        ocf_usage(stderr);
        eip_print_exit_reason(reason);
        return EIP_OCF_ERR_UNIMPLEMENTED;
    }
    default:
        break;
    }
    eip_log_start(false, action == ACT_MONITOR);
    return run_ocf_action(action, name, timeout_ms);
}

int main(int argc, char **argv)
{
    const char *ocf_root = getenv("OCF_ROOT");
    int exit_code = 0;

    if (ocf_root == NULL || ocf_root[0] == '\0') {
        exit_code = eip_lsb_main(argc, argv);
    } else {
        exit_code = ocf_main(argc, argv);
    }
    ec2ha_http_cleanup();
    ec2ha_log_close();
    return exit_code;
}
