/*
 * register.c - `ec2ha register`: write this node's instance id into the CIB
 * as the permanent node attribute ec2-instance-id (what the eip agent does on
 * start), so fence_ec2 finds the instance without pcmk_host_map.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

ec2ha_rc cli_cmd_register(cli_ctx *ctx, int argc, char **argv, cli_out *out, ec2ha_error *err)
{
    ec2ha_rc rc = EC2HA_OK;
    const char *id = cli_opt(ctx, CLI_OPT_INSTANCE_ID);
    const char *node = NULL;
    char *previous = NULL;
    bool changed = false;

    if (id == NULL) {
        id = cli_self(ctx, err);
        if (id == NULL) {
            ec2ha_error_prefix(err, "give --instance-id when not run on the instance itself");
            return err->rc != EC2HA_OK ? err->rc : EC2HA_ERR_UNAVAILABLE;
        }
    } else if (strncmp(id, "i-", 2) != 0) {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID, "--instance-id %s is not an instance "
                               "id (i-...)", id);
    }
    node = cli_node_name(ctx);
    if (node == NULL) {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID, "this node's name is unknown; give "
                               "--node NAME");
    }
    if (!cli_cib(ctx)) {
        *err = ctx->cib_err;
        ec2ha_error_prefix(err, "cannot register %s for node %s: the CIB is not reachable "
                                "(run this on a cluster node with Pacemaker running)", id, node);
        return err->rc != EC2HA_OK ? err->rc : EC2HA_ERR_CIB;
    }
    (void)ec2ha_cluster_get_node_attribute(ctx->cib, node, EC2HA_ATTR_INSTANCE_ID, &previous,
                                           NULL);
    if (previous == NULL || strcmp(previous, id) != 0) {
        rc = ec2ha_cluster_set_node_attribute(ctx->cib, node, EC2HA_ATTR_INSTANCE_ID, id, err);
        if (rc != EC2HA_OK) {
            ec2ha_error_prefix(err, "setting %s=%s for node %s", EC2HA_ATTR_INSTANCE_ID, id,
                               node);
            goto cleanup;
        }
        changed = true;
    }
    if (ctx->json) {
        cli_json_begin_object(out, NULL);
        cli_json_bool(out, "ok", true);
        cli_json_string(out, "node", node);
        cli_json_string(out, "attribute", EC2HA_ATTR_INSTANCE_ID);
        cli_json_string(out, "instance_id", id);
        cli_json_string(out, "previous", previous);
        cli_json_bool(out, "changed", changed);
        cli_json_end_object(out);
        rc = cli_json_print(out);
    } else if (changed) {
        printf("node %s: %s=%s%s%s%s\n", node, EC2HA_ATTR_INSTANCE_ID, id,
               previous != NULL ? " (was " : "", previous != NULL ? previous : "",
               previous != NULL ? ")" : "");
    } else {
        printf("node %s: %s=%s (already registered)\n", node, EC2HA_ATTR_INSTANCE_ID, id);
    }
cleanup:
    free(previous);
    return rc;
}
