/*
 * fence/main.c - fence_ec2's entry point.
 *
 * fence-agents calling convention: key=value lines on stdin when there are no
 * arguments (Pacemaker's fencer), getopt otherwise.  Results go to stdout in
 * fence-agents' words; errors to stderr and syslog.  Exit codes are decided
 * here only: 0 success, 1 failure, 2 when status finds the target OFF.
 */
#include <stdlib.h>
#include <string.h>

#include "ec2ha/http.h"
#include "ec2ha/log.h"
#include "fence.h"

/* Set-up (credentials, IMDS) gets at least this long even with a tiny login_timeout. */
#define FENCE_SETUP_MIN_MS 2000

static ec2ha_log_level level_for(long verbose_level)
{
    if (verbose_level <= 0)
        return EC2HA_LOG_NOTICE;
    if (verbose_level == 1)
        return EC2HA_LOG_DEBUG;
    return EC2HA_LOG_TRACE;
}

static void setup_logging(const fence_settings *s)
{
    unsigned sinks = EC2HA_LOG_TO_SYSLOG;
    ec2ha_log_level level = level_for(s->verbose_level);

    if (!s->quiet)
        sinks |= EC2HA_LOG_TO_STDERR;
    if (s->debug_file != NULL && *s->debug_file != '\0') {
        sinks |= EC2HA_LOG_TO_FILE;
        if (level < EC2HA_LOG_DEBUG)
            level = EC2HA_LOG_DEBUG;
    }
    /* Re-init keeps the secrets registered so far (ec2ha_log_close would wipe them). */
    ec2ha_log_init(FENCE_PROGRAM_NAME, level, sinks,
                   (sinks & EC2HA_LOG_TO_FILE) ? s->debug_file : NULL);
}

/*
 * Pacemaker passes no timeout: the whole run is bounded by
 * delay + login_timeout + power_timeout + power_wait + shell_timeout,
 * with power_timeout and power_wait counted twice for reboot.
 */
static int64_t run_budget_ms(const fence_settings *s)
{
    int64_t k = s->action == FENCE_ACTION_REBOOT ? 2 : 1;
    int64_t ms = s->login_timeout_ms + s->shell_timeout_ms +
                 k * (s->power_timeout_ms + s->power_wait_ms);
    if (s->action == FENCE_ACTION_OFF || s->action == FENCE_ACTION_REBOOT)
        ms += s->delay_ms;
    return ms;
}

static ec2ha_rc setup_aws(fence_ctx *ctx, ec2ha_error *err)
{
    const fence_settings *s = ctx->s;
    ec2ha_creds_options co = { 0 };
    ec2ha_http_options http = { 0 };
    ec2ha_error e;
    ec2ha_rc rc;

    ec2ha_error_clear(&e);
    if (ec2ha_imds_new(NULL, &ctx->imds, &e) != EC2HA_OK) {
        ec2ha_warn("instance metadata service not usable: %s", e.message);
        ctx->imds = NULL;
    }

    co.access_key = s->access_key;
    co.secret_key = s->secret_key;
    co.session_token = s->session_token;
    co.profile = s->profile;
    co.region = s->region;
    co.endpoint_url = s->endpoint_url;
    co.ca_bundle = s->ca_bundle;
    co.imds = ctx->imds;
    co.need_credentials = true;

    int64_t budget = s->login_timeout_ms > FENCE_SETUP_MIN_MS ? s->login_timeout_ms
                                                              : FENCE_SETUP_MIN_MS;
    ec2ha_deadline d = ec2ha_deadline_in_ms(budget);
    if (d.at_ms > ctx->deadline.at_ms)
        d = ctx->deadline;
    rc = ec2ha_aws_config_resolve(&co, d, &ctx->aws, err);
    if (rc != EC2HA_OK) {
        ec2ha_error_prefix(err, "Unable to connect to AWS");
        return rc;
    }
    http.proxy = s->proxy;
    http.connect_timeout_ms = (long)s->connect_timeout_ms;
    rc = ec2ha_ec2_client_new_from_aws(&ctx->aws, &http, &ctx->ec2, err);
    if (rc != EC2HA_OK)
        ec2ha_error_prefix(err, "Unable to set up the EC2 client");
    return rc;
}

static void teardown(fence_ctx *ctx)
{
    ec2ha_ec2_client_free(ctx->ec2);
    ec2ha_aws_config_free(&ctx->aws);
    ec2ha_imds_free(ctx->imds);
    ec2ha_cluster_free(ctx->cib);
    free(ctx->own_instance_id);
    memset(ctx, 0, sizeof *ctx);
}

static void warn_unused_args(int next, int argc, char **argv)
{
    for (int i = next; i < argc; i++)
        ec2ha_warn("Unused argument on command line: '%s'", argv[i]);
}

int main(int argc, char **argv)
{
    ec2ha_opt_values values = { 0 };
    fence_settings settings = { 0 };
    fence_ctx ctx = { 0 };
    ec2ha_error err;
    int code = FENCE_EXIT_FAIL;
    int next = argc;
    bool status_off = false;
    char detail[EC2HA_ERROR_MESSAGE_MAX + 2 * EC2HA_ERROR_FIELD_MAX + 64];

    ec2ha_error_clear(&err);
    ec2ha_log_init(FENCE_PROGRAM_NAME, EC2HA_LOG_NOTICE,
                   EC2HA_LOG_TO_STDERR | EC2HA_LOG_TO_SYSLOG, NULL);

    if (ec2ha_opts_init(&values, fence_options, fence_n_options, &err) != EC2HA_OK) {
        ec2ha_err("Failed: %s", err.message);
        goto done;
    }
    if ((argc > 1 ? ec2ha_opts_parse_argv(&values, argc, argv, &next, &err)
                  : ec2ha_opts_parse_stdin(&values, stdin, &err)) != EC2HA_OK) {
        ec2ha_err("Parse error: %s", err.message);
        ec2ha_err("Please use '-h' for usage");
        goto done;
    }
    warn_unused_args(next, argc, argv);

    if (ec2ha_opts_is_set(&values, "help")) {
        ec2ha_opts_print_help(stdout, &fence_program, fence_options, fence_n_options);
        code = FENCE_EXIT_OK;
        goto done;
    }
    fence_action action = fence_action_from_name(ec2ha_opts_get(&values, "action"));
    if (action == FENCE_ACTION_METADATA || action == FENCE_ACTION_MANPAGE) {
        if (action == FENCE_ACTION_METADATA)
            ec2ha_opts_print_fence_metadata(stdout, &fence_program, fence_options,
                                            fence_n_options);
        else
            ec2ha_opts_print_manpage(stdout, &fence_program, fence_options, fence_n_options);
        code = FENCE_EXIT_OK;
        goto done;
    }
    if (ec2ha_opts_is_set(&values, "version")) {
        printf("%s\n", fence_program.version);
        code = FENCE_EXIT_OK;
        goto done;
    }

    if (fence_settings_load(&values, &settings, &err) != EC2HA_OK) {
        if (settings.action == FENCE_ACTION_VALIDATE_ALL)
            ec2ha_err("validate-all failed: %s", err.message);
        else
            ec2ha_err("Failed: %s", err.message);
        ec2ha_err("Please use '-h' for usage");
        goto done;
    }
    setup_logging(&settings);
    ec2ha_opts_log_effective(&values);
    if (ec2ha_opts_is_set(&values, "disable_timeout"))
        ec2ha_debug("disable_timeout accepted: fence_ec2 always ends within its deadline");
    if (ec2ha_opts_is_set(&values, "boto3_debug"))
        ec2ha_debug("boto3_debug accepted and ignored (use verbose)");

    if (settings.action == FENCE_ACTION_VALIDATE_ALL) {
        ec2ha_info("validate-all: options are valid");
        code = FENCE_EXIT_OK;
        goto done;
    }

    ctx.s = &settings;
    ctx.out = stdout;
    ctx.deadline = ec2ha_deadline_in_ms(run_budget_ms(&settings));
    ec2ha_debug("action %s, run deadline in %lld ms", settings.action_name,
                (long long)run_budget_ms(&settings));

    if ((settings.action == FENCE_ACTION_OFF || settings.action == FENCE_ACTION_REBOOT) &&
        settings.delay_ms > 0) {
        ec2ha_info("Delay %.1f second(s) before fencing", (double)settings.delay_ms / 1000.0);
        ec2ha_deadline_sleep_ms(ctx.deadline, settings.delay_ms);
    }

    if (setup_aws(&ctx, &err) != EC2HA_OK ||
        fence_run_action(&ctx, &status_off, &err) != EC2HA_OK) {
        ec2ha_err("Failed: %s", fence_error_detail(&err, detail, sizeof detail));
        goto done;
    }
    code = status_off ? FENCE_EXIT_STATUS_OFF : FENCE_EXIT_OK;

done:
    if (fflush(stdout) != 0 || ferror(stdout)) {
        ec2ha_err("Failed: cannot write to standard output");
        code = FENCE_EXIT_FAIL;
    }
    teardown(&ctx);
    fence_settings_free(&settings);
    ec2ha_opts_free(&values);
    ec2ha_http_cleanup();
    ec2ha_log_close();
    return code;
}
