/*
 * instance.c - `ec2ha instance list|status|stop|start [--wait]`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ec2ha/log.h"

#include "cli.h"

#define CLI_WAIT_FIRST_MS 1000
#define CLI_WAIT_MAX_MS 5000

static void json_instance(cli_out *out, cli_ctx *ctx, const ec2ha_instance *inst,
                          const char *self)
{
    char *node = cli_node_of_instance(ctx, inst->instance_id);

    cli_json_begin_object(out, NULL);
    cli_json_string(out, "instance_id", inst->instance_id);
    cli_json_string(out, "state", ec2ha_instance_state_str(inst->state));
    cli_json_string(out, "name", ec2ha_instance_tag(inst, "Name"));
    cli_json_string(out, "private_ip", inst->private_ip);
    cli_json_string(out, "public_ip", inst->public_ip);
    cli_json_string(out, "availability_zone", inst->availability_zone);
    cli_json_string(out, "node", node);
    cli_json_bool(out, "this_instance", self != NULL && inst->instance_id != NULL &&
                                            strcmp(self, inst->instance_id) == 0);
    cli_json_begin_array(out, "interfaces");
    for (size_t i = 0; i < inst->n_interfaces; i++) {
        cli_json_string(out, NULL, inst->interfaces[i].interface_id);
    }
    cli_json_end_array(out);
    cli_json_end_object(out);
    free(node);
}

ec2ha_rc cli_cmd_instance_list(cli_ctx *ctx, int argc, char **argv, cli_out *out,
                               ec2ha_error *err)
{
    ec2ha_rc rc = EC2HA_OK;
    ec2ha_instance_list list = { 0 };
    ec2ha_describe_instances_query q;
    const char *self = NULL;

    rc = cli_ec2(ctx, err);
    if (rc != EC2HA_OK) {
        return rc;
    }
    memset(&q, 0, sizeof(q));
    rc = ec2ha_ec2_describe_instances(ctx->ec2, &q, ctx->deadline, &list, err);
    if (rc != EC2HA_OK) {
        ec2ha_error_prefix(err, "DescribeInstances");
        return rc;
    }
    self = cli_self(ctx, NULL);
    if (ctx->json) {
        cli_json_begin_object(out, NULL);
        cli_json_bool(out, "ok", true);
        cli_json_string(out, "region", ctx->aws.region);
        cli_json_begin_array(out, "instances");
        for (size_t i = 0; i < list.count; i++) {
            json_instance(out, ctx, &list.items[i], self);
        }
        cli_json_end_array(out);
        cli_json_end_object(out);
        rc = cli_json_print(out);
    } else if (list.count == 0) {
        printf("no instances in %s\n", cli_dash(ctx->aws.region));
    } else {
        printf("%-21s %-13s %-16s %-15s %-10s\n", "INSTANCE", "STATE", "NAME", "PRIVATE IP",
               "NODE");
        for (size_t i = 0; i < list.count; i++) {
            const ec2ha_instance *inst = &list.items[i];
            char *node = cli_node_of_instance(ctx, inst->instance_id);

            printf("%-21s %-13s %-16s %-15s %-10s%s\n", cli_dash(inst->instance_id),
                   ec2ha_instance_state_str(inst->state),
                   cli_dash(ec2ha_instance_tag(inst, "Name")), cli_dash(inst->private_ip),
                   cli_dash(node),
                   self != NULL && inst->instance_id != NULL &&
                   strcmp(self, inst->instance_id) == 0 ? "  (this instance)" : "");
            free(node);
        }
    }
    ec2ha_instance_list_free(&list);
    return rc;
}

static ec2ha_rc print_instance(cli_ctx *ctx, cli_out *out, const char *action,
                               const ec2ha_instance *inst, const char *previous)
{
    char *node = NULL;

    if (ctx->json) {
        cli_json_begin_object(out, NULL);
        cli_json_bool(out, "ok", true);
        cli_json_string(out, "action", action);
        if (previous != NULL) {
            cli_json_string(out, "previous_state", previous);
        }
        cli_json_begin_array(out, "instances");
        json_instance(out, ctx, inst, cli_self(ctx, NULL));
        cli_json_end_array(out);
        cli_json_end_object(out);
        return cli_json_print(out);
    }
    node = cli_node_of_instance(ctx, inst->instance_id);
    printf("%s%s%s%s: %s", cli_dash(inst->instance_id),
           node != NULL ? " (node " : "", node != NULL ? node : "", node != NULL ? ")" : "",
           ec2ha_instance_state_str(inst->state));
    if (previous != NULL) {
        printf(" (was %s)", previous);
    }
    printf("\n");
    free(node);
    return EC2HA_OK;
}

ec2ha_rc cli_cmd_instance_status(cli_ctx *ctx, int argc, char **argv, cli_out *out,
                                 ec2ha_error *err)
{
    ec2ha_rc rc = EC2HA_OK;
    ec2ha_instance inst;
    char *id = NULL;

    memset(&inst, 0, sizeof(inst));
    rc = cli_resolve_instance(ctx, argc > 0 ? argv[0] : NULL, &id, err);
    if (rc == EC2HA_OK) {
        rc = cli_ec2(ctx, err);
    }
    if (rc == EC2HA_OK) {
        rc = ec2ha_ec2_describe_instance(ctx->ec2, id, ctx->deadline, &inst, err);
        if (rc != EC2HA_OK) {
            ec2ha_error_prefix(err, "DescribeInstances %s", id);
        }
    }
    if (rc == EC2HA_OK) {
        rc = print_instance(ctx, out, "status", &inst, NULL);
    }
    ec2ha_instance_free(&inst);
    free(id);
    return rc;
}

/* Poll DescribeInstances until the state is `want`, within the deadline. */
static ec2ha_rc wait_state(cli_ctx *ctx, const char *id, ec2ha_instance_state want,
                           ec2ha_instance *inst, ec2ha_error *err)
{
    ec2ha_rc rc = EC2HA_OK;
    int64_t delay = CLI_WAIT_FIRST_MS;

    for (;;) {
        ec2ha_instance_free(inst);
        memset(inst, 0, sizeof(*inst));
        rc = ec2ha_ec2_describe_instance(ctx->ec2, id, ctx->deadline, inst, err);
        if (rc != EC2HA_OK) {
            ec2ha_error_prefix(err, "DescribeInstances %s", id);
            return rc;
        }
        if (inst->state == want) {
            return EC2HA_OK;
        }
        if (want == EC2HA_STATE_RUNNING && (inst->state == EC2HA_STATE_TERMINATED ||
                                            inst->state == EC2HA_STATE_SHUTTING_DOWN)) {
            return ec2ha_error_set(err, EC2HA_ERR_STATE, "%s is %s; it will not start", id,
                                   ec2ha_instance_state_str(inst->state));
        }
        if (want == EC2HA_STATE_STOPPED && inst->state == EC2HA_STATE_TERMINATED) {
            return EC2HA_OK;
        }
        if (!ctx->json) {
            fprintf(stderr, "ec2ha: %s is %s, waiting for %s\n", id,
                    ec2ha_instance_state_str(inst->state), ec2ha_instance_state_str(want));
        }
        if (ec2ha_deadline_remaining_ms(ctx->deadline) <= delay ||
            !ec2ha_deadline_sleep_ms(ctx->deadline, delay)) {
            return ec2ha_error_set(err, EC2HA_ERR_TIMEOUT,
                                   "%s is still %s, not %s, when the timeout ran out (raise "
                                   "--timeout)", id, ec2ha_instance_state_str(inst->state),
                                   ec2ha_instance_state_str(want));
        }
        delay = delay * 2 > CLI_WAIT_MAX_MS ? CLI_WAIT_MAX_MS : delay * 2;
    }
}

static ec2ha_rc stop_or_start(cli_ctx *ctx, int argc, char **argv, cli_out *out, bool stop,
                              ec2ha_error *err)
{
    ec2ha_rc rc = EC2HA_OK;
    ec2ha_state_change change;
    ec2ha_stop_params sp;
    ec2ha_instance inst;
    char *id = NULL;
    const char *previous = NULL;
    const char *action = stop ? "stop" : "start";

    memset(&change, 0, sizeof(change));
    memset(&inst, 0, sizeof(inst));
    if (argc < 1) {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID,
                               "which instance? usage: ec2ha instance %s TARGET (an instance "
                               "id, node name or Name tag)", action);
    }
    rc = cli_resolve_instance(ctx, argv[0], &id, err);
    if (rc == EC2HA_OK) {
        rc = cli_ec2(ctx, err);
    }
    if (rc != EC2HA_OK) {
        goto cleanup;
    }
    if (stop) {
        memset(&sp, 0, sizeof(sp));
        sp.instance_id = id;
        sp.force = cli_flag(ctx, CLI_OPT_FORCE);
        rc = ec2ha_ec2_stop_instances(ctx->ec2, &sp, ctx->deadline, &change, err);
    } else {
        rc = ec2ha_ec2_start_instances(ctx->ec2, id, false, ctx->deadline, &change, err);
    }
    if (rc != EC2HA_OK) {
        ec2ha_error_prefix(err, "%s %s", stop ? "StopInstances" : "StartInstances", id);
        goto cleanup;
    }
    previous = ec2ha_instance_state_str(change.previous);
    if (cli_flag(ctx, CLI_OPT_WAIT)) {
        rc = wait_state(ctx, id, stop ? EC2HA_STATE_STOPPED : EC2HA_STATE_RUNNING, &inst, err);
        if (rc != EC2HA_OK) {
            goto cleanup;
        }
    } else {
        inst.instance_id = strdup(id);
        inst.state = change.current;
        if (inst.instance_id == NULL) {
            rc = ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory");
            goto cleanup;
        }
    }
    rc = print_instance(ctx, out, action, &inst, previous);
cleanup:
    ec2ha_instance_free(&inst);
    ec2ha_state_change_free(&change);
    free(id);
    return rc;
}

ec2ha_rc cli_cmd_instance_stop(cli_ctx *ctx, int argc, char **argv, cli_out *out,
                               ec2ha_error *err)
{
    return stop_or_start(ctx, argc, argv, out, true, err);
}

ec2ha_rc cli_cmd_instance_start(cli_ctx *ctx, int argc, char **argv, cli_out *out,
                                ec2ha_error *err)
{
    return stop_or_start(ctx, argc, argv, out, false, err);
}
