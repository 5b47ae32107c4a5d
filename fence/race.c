/*
 * fence/race.c - this node's own instance: the race guard (DESIGN.md section 3, rule 3).
 *
 * In a split brain both nodes fence each other.  The node whose own instance
 * is already stopping (it is the one being fenced) must not stop the other,
 * or both end up stopped.  So before stopping another instance, fence_ec2
 * reads its own instance id from IMDS and requires DescribeInstances to show
 * it `running`.  When that cannot be established it refuses, unless
 * skip_race_check=true (fencing from outside EC2).  Whatever the options, it
 * never stops its own instance.
 */
#include <stdlib.h>
#include <string.h>

#include "ec2ha/log.h"
#include "fence.h"

/* IMDS answers in milliseconds on EC2; an unreachable one must not eat the power timeout. */
#define FENCE_IMDS_MIN_BUDGET_MS 2000

ec2ha_rc fence_own_instance(fence_ctx *ctx, const char **id_out, ec2ha_error *err)
{
    if (!ctx->own_tried) {
        ctx->own_tried = true;
        ec2ha_error_clear(&ctx->own_err);
        if (ctx->imds == NULL) {
            ec2ha_error_set(&ctx->own_err, EC2HA_ERR_UNAVAILABLE,
                            "the instance metadata service is not set up");
        } else if (!ec2ha_imds_enabled(ctx->imds)) {
            ec2ha_error_set(&ctx->own_err, EC2HA_ERR_UNAVAILABLE,
                            "the instance metadata service is disabled "
                            "(AWS_EC2_METADATA_DISABLED)");
        } else {
            int64_t budget = ctx->s->login_timeout_ms;
            if (budget < FENCE_IMDS_MIN_BUDGET_MS)
                budget = FENCE_IMDS_MIN_BUDGET_MS;
            ec2ha_deadline d = ec2ha_deadline_in_ms(budget);
            if (d.at_ms > ctx->deadline.at_ms)
                d = ctx->deadline;
            char *id = NULL;
            if (ec2ha_imds_get_instance_id(ctx->imds, d, &id, &ctx->own_err) == EC2HA_OK) {
                if (fence_is_instance_id(id)) {
                    ctx->own_instance_id = id;
                    ec2ha_debug("this node is instance %s (instance metadata at %s)", id,
                                ec2ha_imds_endpoint(ctx->imds));
                } else {
                    ec2ha_error_set(&ctx->own_err, EC2HA_ERR_PARSE,
                                    "the instance metadata service at %s answered '%.40s' for "
                                    "instance-id, which is not an instance id",
                                    ec2ha_imds_endpoint(ctx->imds), id);
                    free(id);
                }
            } else {
                ec2ha_error_prefix(&ctx->own_err, "instance metadata service at %s",
                                   ec2ha_imds_endpoint(ctx->imds));
            }
        }
    }
    if (ctx->own_instance_id != NULL) {
        *id_out = ctx->own_instance_id;
        return EC2HA_OK;
    }
    *id_out = NULL;
    if (err != NULL)
        *err = ctx->own_err;
    return ctx->own_err.rc != EC2HA_OK ? ctx->own_err.rc : EC2HA_ERR_UNAVAILABLE;
}

/* This node's ec2-instance-id from the CIB, when IMDS cannot tell (NULL if unknown). */
static char *own_instance_from_cib(fence_ctx *ctx)
{
    ec2ha_cluster *cib = fence_cib(ctx);
    char *node = NULL;
    char *id = NULL;
    ec2ha_error e;

    ec2ha_error_clear(&e);
    if (cib == NULL)
        return NULL;
    if (ec2ha_cluster_local_node_name(&node, &e) != EC2HA_OK) {
        ec2ha_debug("cannot tell this node's name: %s", e.message);
        return NULL;
    }
    if (ec2ha_cluster_get_node_attribute(cib, node, EC2HA_ATTR_INSTANCE_ID, &id, &e) !=
        EC2HA_OK) {
        ec2ha_debug("no %s for this node (%s) in the CIB: %s", EC2HA_ATTR_INSTANCE_ID, node,
                    e.message);
        id = NULL;
    }
    free(node);
    return id;
}

ec2ha_rc fence_race_guard(fence_ctx *ctx, const char *target_id, ec2ha_error *err)
{
    const char *own = NULL;
    ec2ha_error e;
    ec2ha_instance me = { 0 };
    ec2ha_rc rc;
    char detail[EC2HA_ERROR_MESSAGE_MAX + 2 * EC2HA_ERROR_FIELD_MAX + 64];

    ec2ha_error_clear(&e);
    if (fence_own_instance(ctx, &own, &e) != EC2HA_OK) {
        char *cib_own = own_instance_from_cib(ctx);
        if (cib_own != NULL && strcmp(cib_own, target_id) == 0) {
            free(cib_own);
            return ec2ha_error_set(err, EC2HA_ERR_REFUSED,
                                   "refusing to stop %s: the CIB says it is this node's own "
                                   "instance; fence_ec2 never stops the node it runs on",
                                   target_id);
        }
        free(cib_own);
        if (!ctx->s->skip_race_check)
            return ec2ha_error_set(err, EC2HA_ERR_REFUSED,
                                   "race guard: cannot determine this node's own instance (%s); "
                                   "refusing to stop %s. Set skip_race_check=true only when "
                                   "this fence device runs outside EC2",
                                   e.message, target_id);
        ec2ha_notice("skip_race_check=true: not checking this node's own instance (%s)",
                     e.message);
        return EC2HA_OK;
    }
    if (strcmp(own, target_id) == 0)
        return ec2ha_error_set(err, EC2HA_ERR_REFUSED,
                               "refusing to stop %s: it is this node's own instance; fence_ec2 "
                               "never stops the node it runs on", target_id);
    if (ctx->s->skip_race_check) {
        ec2ha_notice("skip_race_check=true: not checking that this node's instance %s is "
                     "running", own);
        return EC2HA_OK;
    }

    rc = ec2ha_ec2_describe_instance(ctx->ec2, own, ctx->deadline, &me, &e);
    if (rc == EC2HA_ERR_NOT_FOUND) {
        rc = ec2ha_error_set(err, EC2HA_ERR_REFUSED,
                             "race guard: this node's own instance %s (from instance metadata) "
                             "is unknown to EC2 at %s; wrong region or account? Refusing to "
                             "stop %s", own, ctx->aws.endpoint, target_id);
        goto done;
    }
    if (rc != EC2HA_OK) {
        rc = ec2ha_error_set(err, EC2HA_ERR_REFUSED,
                             "race guard: cannot read the state of this node's own instance %s "
                             "(%s); refusing to stop %s", own,
                             fence_error_detail(&e, detail, sizeof detail), target_id);
        goto done;
    }
    if (me.state != EC2HA_STATE_RUNNING) {
        rc = ec2ha_error_set(err, EC2HA_ERR_REFUSED,
                             "race guard: this node's own instance %s is %s, not running: this "
                             "node is itself being stopped (fenced?); refusing to stop %s",
                             own, me.state_name ? me.state_name
                                                : ec2ha_instance_state_str(me.state),
                             target_id);
        goto done;
    }
    ec2ha_info("race guard: this node's own instance %s is running", own);
    rc = EC2HA_OK;

done:
    ec2ha_instance_free(&me);
    return rc;
}
