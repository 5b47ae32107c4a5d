/*
 * lsb.c - the init-script personality, for the classic `primitive eip lsb:eip`.
 *
 * Run without OCF_ROOT (through /etc/init.d/eip), settings come from a
 * KEY=value file: $EC2HA_EIP_CONFIG, else /etc/sysconfig/eip, else
 * /etc/default/eip, each key the upper-cased parameter name (ALLOCATION_ID=...).
 * Exit codes follow the LSB: status 0 running, 3 not running, 4 unknown;
 * other actions 0 success, 1 failure, 2 bad usage, 3 unimplemented,
 * 4 no permission, 5 not installed, 6 not configured.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ec2ha/log.h"

#include "eip.h"

typedef enum lsb_action {
    LSB_UNKNOWN = 0,
    LSB_START,
    LSB_STOP,
    LSB_STATUS,
    LSB_RESTART,
    LSB_FORCE_RELOAD,
    LSB_META_DATA,
    LSB_MANPAGE,
    LSB_USAGE
} lsb_action;

static const struct {
    const char *name;
    lsb_action action;
} lsb_actions[] = {
    { "start", LSB_START },
    { "stop", LSB_STOP },
    { "status", LSB_STATUS },
    { "monitor", LSB_STATUS },
    { "restart", LSB_RESTART },
    { "force-reload", LSB_FORCE_RELOAD },
    { "reload", LSB_FORCE_RELOAD },
    { "meta-data", LSB_META_DATA },
    { "manpage", LSB_MANPAGE },
    { "usage", LSB_USAGE },
    { "help", LSB_USAGE },
};

static const char *config_path(void)
{
    const char *env = getenv(EIP_ENV_LSB_CONFIG);

    if (env != NULL && env[0] != '\0') {
        return env;
    }
    if (access(EIP_LSB_CONFIG_SYSCONFIG, F_OK) == 0) {
        return EIP_LSB_CONFIG_SYSCONFIG;
    }
    return EIP_LSB_CONFIG_DEFAULT;
}

static void lsb_usage(FILE *out)
{
    fprintf(out, "Usage: %s\nSettings: KEY=value lines in $%s, %s or %s "
                 "(ALLOCATION_ID=eipalloc-..., PRIVATE_IP_ADDRESS=..., REQUIRE_FENCING=...).\n",
            eip_lsb_program_info.usage, EIP_ENV_LSB_CONFIG, EIP_LSB_CONFIG_SYSCONFIG,
            EIP_LSB_CONFIG_DEFAULT);
}

/* start or stop or status (here/not here) with a fresh context each time, one deadline. */
static ec2ha_rc run_one(const eip_config *cfg, lsb_action action, ec2ha_deadline deadline,
                        bool *here, ec2ha_error *err)
{
    eip_ctx ctx;
    ec2ha_rc rc = EC2HA_OK;

    eip_ctx_init(&ctx, ec2ha_deadline_remaining_ms(deadline));
    ctx.deadline = deadline;
    ctx.cfg = *cfg;
    ctx.lsb = true;
    switch (action) {
    case LSB_START:
        rc = eip_action_start(&ctx, err);
        break;
    case LSB_STOP:
        rc = eip_action_stop(&ctx, err);
        break;
    default:
        rc = eip_action_monitor(&ctx, here, err);
        break;
    }
    eip_ctx_free(&ctx);
    return rc;
}

static int lsb_run(lsb_action action, const char *name)
{
    int exit_code = EIP_OCF_ERR_GENERIC;
    ec2ha_opt_values values;
    eip_config cfg;
    ec2ha_error err;
    ec2ha_rc rc = EC2HA_OK;
    bool here = false;
    const char *path = config_path();
    /* one deadline for the whole action: restart's stop and start share it */
    ec2ha_deadline deadline = ec2ha_deadline_in_ms(eip_timeout_from_env(EIP_TIMEOUT_LSB_MS));

    memset(&values, 0, sizeof(values));
    ec2ha_error_clear(&err);
    rc = ec2ha_opts_init(&values, eip_options, eip_n_options, &err);
    if (rc == EC2HA_OK) {
        rc = ec2ha_opts_parse_kv_file(&values, path, &err);
        if (rc == EC2HA_ERR_NOT_FOUND) {
            ec2ha_error_set(&err, EC2HA_ERR_INVALID,
                            "no settings file: create %s (or %s, or point $%s at one) with "
                            "ALLOCATION_ID=eipalloc-...", EIP_LSB_CONFIG_SYSCONFIG,
                            EIP_LSB_CONFIG_DEFAULT, EIP_ENV_LSB_CONFIG);
        }
        if (rc != EC2HA_OK && rc != EC2HA_ERR_NOMEM) {
            rc = EC2HA_ERR_INVALID;
            ec2ha_error_prefix(&err, "%s", path);
        }
    }
    (void)eip_trace_start(&values, name, true);
    if (rc == EC2HA_OK) {
        rc = eip_config_from_values(&values, &cfg, &err);
    }
    if (rc != EC2HA_OK) {
        goto done;
    }
    ec2ha_debug("settings from %s", path);
    ec2ha_opts_log_effective(&values);

    switch (action) {
    case LSB_START:
        rc = run_one(&cfg, LSB_START, deadline, &here, &err);
        break;
    case LSB_STOP:
        rc = run_one(&cfg, LSB_STOP, deadline, &here, &err);
        break;
    case LSB_STATUS:
        rc = run_one(&cfg, LSB_STATUS, deadline, &here, &err);
        break;
    case LSB_RESTART:
        rc = run_one(&cfg, LSB_STOP, deadline, &here, &err);
        if (rc == EC2HA_OK) {
            rc = run_one(&cfg, LSB_START, deadline, &here, &err);
        }
        break;
    case LSB_FORCE_RELOAD:
        /* Re-apply the settings without an outage: start moves it to the configured
         * interface with AllowReassociation.  Not running: nothing to reload. */
        rc = run_one(&cfg, LSB_STATUS, deadline, &here, &err);
        if (rc == EC2HA_OK && here) {
            rc = run_one(&cfg, LSB_START, deadline, &here, &err);
        } else if (rc == EC2HA_OK) {
            ec2ha_info("not running here: nothing to reload");
        }
        break;
    default:
        rc = ec2ha_error_set(&err, EC2HA_ERR_INVALID, "internal: unexpected action");
        break;
    }

done:
    if (action == LSB_STATUS) {
        if (rc == EC2HA_OK) {
            exit_code = here ? EIP_LSB_STATUS_RUNNING : EIP_LSB_STATUS_NOT_RUNNING;
            printf("eip is %s\n", here ? "running (associated with this instance)"
                                       : "stopped (not associated with this instance)");
        } else {
            exit_code = EIP_LSB_STATUS_UNKNOWN;
            printf("eip status unknown: %s\n", err.message);
        }
    } else {
        exit_code = eip_ocf_exit_code(rc, &err);
    }
    if (rc != EC2HA_OK) {
        ec2ha_err("%s failed (exit %d): %s", name, exit_code, err.message);
    }
    ec2ha_opts_free(&values);
    return exit_code;
}

int eip_lsb_main(int argc, char **argv)
{
    lsb_action action = LSB_UNKNOWN;
    const char *name = argc > 1 ? argv[1] : NULL;

    if (name != NULL) {
        for (size_t i = 0; i < sizeof(lsb_actions) / sizeof(lsb_actions[0]); i++) {
            if (strcmp(name, lsb_actions[i].name) == 0) {
                action = lsb_actions[i].action;
            }
        }
    }
    switch (action) {
    case LSB_META_DATA:
        ec2ha_opts_print_ocf_metadata(stdout, &eip_program_info, eip_options, eip_n_options);
        return EIP_OCF_SUCCESS;
    case LSB_MANPAGE:
        ec2ha_opts_print_manpage(stdout, &eip_program_info, eip_options, eip_n_options);
        return EIP_OCF_SUCCESS;
    case LSB_USAGE:
        lsb_usage(stdout);
        return EIP_OCF_SUCCESS;
    case LSB_UNKNOWN:
        lsb_usage(stderr);
        return name == NULL ? EIP_OCF_ERR_ARGS : EIP_OCF_ERR_UNIMPLEMENTED;
    default:
        break;
    }
    eip_log_start(true, action == LSB_STATUS);
    return lsb_run(action, name);
}
