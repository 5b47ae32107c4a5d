/*
 * guard.c - what the cluster must say before the Elastic IP moves.
 *
 * The fencing check: with require_fencing (the default) start and validate-all
 * refuse when stonith-enabled=false, because without fencing two nodes can
 * both believe they own the address.
 *
 * The takeover guard: the address may be taken from its current owner only if
 * EC2 reports that instance stopped or terminated (or does not know it), or the
 * instance is not an online member of this cluster (the CIB maps nodes to
 * instances through the permanent node attribute ec2-instance-id; a member
 * without one is recognised by name, see judge_owner).  EC2 is eventually consistent, so
 * an owner that just disassociated may still be shown for a moment: the guard
 * looks again for a short grace period before it refuses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ec2ha/log.h"
#include "ec2ha/runtime.h"

#include "eip.h"

#define EIP_GUARD_GRACE_MS 10000
#define EIP_GUARD_POLL_MS 1000
/* A recurring monitor re-reads this node's record at most this often; start and probes always. */
#define EIP_RECORD_RECHECK_S 600
#define EIP_RECORD_MARKER "eip-record"

static ec2ha_rc ensure_node_name(eip_ctx *ctx, ec2ha_error *err)
{
    if (ctx->node_name != NULL) {
        return EC2HA_OK;
    }
    return ec2ha_cluster_local_node_name(&ctx->node_name, err);
}

bool eip_cib_connect(eip_ctx *ctx)
{
    if (!ctx->cib_tried) {
        ctx->cib_tried = true;
        ec2ha_error_clear(&ctx->cib_err);
        if (ec2ha_cluster_connect(&ctx->cib, &ctx->cib_err) != EC2HA_OK) {
            ctx->cib = NULL;
            ec2ha_debug("CIB not reachable: %s", ctx->cib_err.message);
        }
    }
    return ctx->cib != NULL;
}

ec2ha_rc eip_check_fencing(eip_ctx *ctx, ec2ha_error *err)
{
    ec2ha_rc rc = EC2HA_OK;
    bool enabled = false;

    if (!ctx->cfg.require_fencing) {
        ec2ha_info("require_fencing=false: not checking the cluster's stonith-enabled");
        return EC2HA_OK;
    }
    if (!eip_cib_connect(ctx)) {
        return ec2ha_error_set(err, EC2HA_ERR_CIB,
                               "require_fencing=true but stonith-enabled cannot be read from "
                               "the CIB (%s); run this on a cluster node with Pacemaker "
                               "running, or set require_fencing=false where there is no "
                               "cluster", ctx->cib_err.message);
    }
    rc = ec2ha_cluster_stonith_enabled(ctx->cib, &enabled, err);
    if (rc != EC2HA_OK) {
        ec2ha_error_prefix(err, "require_fencing=true but stonith-enabled cannot be read");
        return rc;
    }
    if (!enabled) {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID,
                               "the cluster has stonith-enabled=false: refusing to move the "
                               "Elastic IP without fencing, since two nodes could both claim "
                               "it; configure a fence_ec2 device and run 'crm configure "
                               "property stonith-enabled=true', or set require_fencing=false "
                               "on this resource");
    }
    ec2ha_debug("stonith-enabled=true");
    return EC2HA_OK;
}

/*
 * Failures are logged at `fail_level`: a warning from start, debug from monitor.
 * True when the CIB holds this node's record as it should be.
 */
static bool record_instance_id(eip_ctx *ctx, ec2ha_log_level fail_level)
{
    ec2ha_error err;
    char *current = NULL;
    ec2ha_rc rc = EC2HA_OK;
    bool ok = false;

    ec2ha_error_clear(&err);
    if (ctx->instance_id == NULL) {
        return false;
    }
    if (ensure_node_name(ctx, &err) != EC2HA_OK) {
        ec2ha_log(fail_level, "not recording %s=%s: %s", EC2HA_ATTR_INSTANCE_ID,
                  ctx->instance_id, err.message);
        return false;
    }
    if (!eip_cib_connect(ctx)) {
        ec2ha_log(fail_level, "not recording %s=%s for node %s: the CIB is not reachable (%s); "
                  "fence_ec2 will need pcmk_host_map or a Name tag to find this instance",
                  EC2HA_ATTR_INSTANCE_ID, ctx->instance_id, ctx->node_name,
                  ctx->cib_err.message);
        return false;
    }
    rc = ec2ha_cluster_get_node_attribute(ctx->cib, ctx->node_name, EC2HA_ATTR_INSTANCE_ID,
                                          &current, &err);
    if (rc == EC2HA_OK && current != NULL && strcmp(current, ctx->instance_id) == 0) {
        ec2ha_debug("node %s already has %s=%s", ctx->node_name, EC2HA_ATTR_INSTANCE_ID,
                    current);
        ok = true;
        goto cleanup;
    }
    ec2ha_error_clear(&err);
    rc = ec2ha_cluster_set_node_attribute(ctx->cib, ctx->node_name, EC2HA_ATTR_INSTANCE_ID,
                                          ctx->instance_id, &err);
    if (rc != EC2HA_OK) {
        ec2ha_log(fail_level, "could not record %s=%s for node %s: %s", EC2HA_ATTR_INSTANCE_ID,
                  ctx->instance_id, ctx->node_name, err.message);
        goto cleanup;
    }
    /* a changed record is worth a notice: fence_ec2 was reading a stale one */
    ec2ha_log(current != NULL ? EC2HA_LOG_NOTICE : EC2HA_LOG_INFO,
              "recorded %s=%s for node %s%s%s%s", EC2HA_ATTR_INSTANCE_ID, ctx->instance_id,
              ctx->node_name, current != NULL ? " (was " : "", current != NULL ? current : "",
              current != NULL ? ")" : "");
    ok = true;
cleanup:
    free(current);
    return ok;
}

/*
 * The marker says "this node's record was right at <mtime>": one line
 * "<node> <instance-id>" in the runtime directory, beside the IMDS cache.
 * Pacemaker's libraries are loaded only when the CIB is read, so a recurring
 * monitor that skips the read costs no CIB sign-on.
 */
static char *record_marker_path(void)
{
    char *path = NULL;

    if (asprintf(&path, "%s/%s", ec2ha_runtime_dir_default(), EIP_RECORD_MARKER) < 0) {
        return NULL;
    }
    return path;
}

static bool record_marker_fresh(const eip_ctx *ctx, const char *path)
{
    char want[512];
    ec2ha_buf got;
    ec2ha_error err;
    time_t mtime = 0;
    time_t now = time(NULL);
    bool fresh = false;

    ec2ha_buf_init(&got, sizeof(want));
    ec2ha_error_clear(&err);
    if (snprintf(want, sizeof(want), "%s %s\n", ctx->node_name, ctx->instance_id) >=
            (int)sizeof(want) ||
        ec2ha_runtime_file_read(path, &got, &mtime, &err) != EC2HA_OK) {
        goto cleanup;
    }
    /* a clock stepped back makes the marker look new: treat the future as stale */
    fresh = mtime <= now && now - mtime < EIP_RECORD_RECHECK_S &&
            strcmp(ec2ha_buf_str(&got), want) == 0;
cleanup:
    ec2ha_buf_free(&got);
    return fresh;
}

/* Best effort: a marker that cannot be written only means the next monitor reads the CIB. */
static void record_marker_write(const eip_ctx *ctx, const char *path)
{
    char line[512];
    ec2ha_error err;
    int n;

    ec2ha_error_clear(&err);
    n = snprintf(line, sizeof(line), "%s %s\n", ctx->node_name, ctx->instance_id);
    if (n < 0 || n >= (int)sizeof(line) ||
        ec2ha_runtime_file_write(ec2ha_runtime_dir_default(), path, line, (size_t)n, &err) !=
            EC2HA_OK) {
        ec2ha_debug("could not write %s (%s); the next monitor reads the CIB again", path,
                    err.message[0] != '\0' ? err.message : "line too long");
    }
}

void eip_record_instance_id(eip_ctx *ctx)
{
    char *marker = NULL;
    bool ok = record_instance_id(ctx, EC2HA_LOG_WARNING);

    if (!ctx->lsb && ctx->instance_id != NULL && ctx->node_name != NULL &&
        (marker = record_marker_path()) != NULL) {
        if (ok) {
            record_marker_write(ctx, marker);
        } else {
            unlink(marker);
        }
    }
    free(marker);
}

void eip_refresh_instance_id(eip_ctx *ctx, bool recurring)
{
    ec2ha_error err;
    char *marker = NULL;

    ec2ha_error_clear(&err);
    if (ctx->lsb || ctx->instance_id == NULL) {
        return;                 /* no cluster, or nothing to record */
    }
    if (ensure_node_name(ctx, &err) != EC2HA_OK) {
        ec2ha_debug("not refreshing %s: %s", EC2HA_ATTR_INSTANCE_ID, err.message);
        return;
    }
    marker = record_marker_path();
    if (recurring && marker != NULL && record_marker_fresh(ctx, marker)) {
        ec2ha_debug("%s=%s for node %s was checked less than %d s ago (%s)",
                    EC2HA_ATTR_INSTANCE_ID, ctx->instance_id, ctx->node_name,
                    EIP_RECORD_RECHECK_S, marker);
        goto cleanup;
    }
    if (record_instance_id(ctx, EC2HA_LOG_DEBUG)) {
        if (marker != NULL) {
            record_marker_write(ctx, marker);
        }
    } else if (marker != NULL) {
        unlink(marker);
    }
cleanup:
    free(marker);
}

static bool is_self(const eip_ctx *ctx, const char *self, const ec2ha_cluster_node *nd)
{
    if (self != NULL) {
        return nd->name != NULL && strcmp(nd->name, self) == 0;
    }
    /* this node's name is unknown: its record is the only way to recognise it */
    return nd->instance_id != NULL && ctx->instance_id != NULL &&
           strcmp(nd->instance_id, ctx->instance_id) == 0;
}

/*
 * One evaluation of the guard for an owner instance.  *refuse_out says a
 * running online member holds it (or may: a member without a record); the
 * message for that case goes into err.
 *
 * The owner is a member when a node's ec2-instance-id names it.  A member
 * without a record (never started eip, a failed CIB write, an address that
 * came from awseip) is recognised by its Name tag or private DNS host name;
 * when any other online node has no record at all, the owner cannot be
 * proven a non-member and the takeover is refused until it is registered.
 */
static ec2ha_rc judge_owner(eip_ctx *ctx, const char *owner, bool *refuse_out, ec2ha_error *err)
{
    ec2ha_rc rc = EC2HA_OK;
    ec2ha_instance inst;
    ec2ha_cluster_node *nodes = NULL;
    size_t n_nodes = 0;
    ec2ha_error ierr;
    const char *self = NULL;
    const char *name_tag = NULL;
    const ec2ha_cluster_node *unrecorded = NULL;

    *refuse_out = false;
    memset(&inst, 0, sizeof(inst));
    ec2ha_error_clear(&ierr);
    rc = ec2ha_ec2_describe_instance(ctx->ec2, owner, ctx->deadline, &inst, &ierr);
    if (rc == EC2HA_ERR_NOT_FOUND) {
        ec2ha_notice("takeover allowed: the current owner %s is unknown to EC2 (terminated)",
                     owner);
        rc = EC2HA_OK;
        goto cleanup;
    }
    if (rc != EC2HA_OK) {
        if (err != NULL) {
            *err = ierr;
        }
        ec2ha_error_prefix(err, "cannot tell whether the current owner %s is running", owner);
        goto cleanup;
    }
    if (inst.state == EC2HA_STATE_STOPPED || inst.state == EC2HA_STATE_TERMINATED) {
        ec2ha_notice("takeover allowed: the current owner %s is %s", owner,
                     ec2ha_instance_state_str(inst.state));
        goto cleanup;
    }
    if (inst.state == EC2HA_STATE_UNKNOWN) {
        rc = ec2ha_error_set(err, EC2HA_ERR_STATE,
                             "cannot tell whether the current owner %s is running: EC2 reports "
                             "an unknown state '%s' (code %ld); refusing to take the address",
                             owner, inst.state_name != NULL ? inst.state_name : "",
                             inst.state_code);
        goto cleanup;
    }
    /* running, pending, stopping or shutting-down: it may still answer on the address */
    if (!eip_cib_connect(ctx)) {
        rc = ec2ha_error_set(err, EC2HA_ERR_CIB,
                             "the Elastic IP is on instance %s, which EC2 reports %s, and "
                             "the CIB is not reachable (%s), so whether that instance is an "
                             "online member of this cluster cannot be checked; refusing to "
                             "take the address", owner, ec2ha_instance_state_str(inst.state),
                             ctx->cib_err.message);
        goto cleanup;
    }
    rc = ec2ha_cluster_list_nodes(ctx->cib, &nodes, &n_nodes, err);
    if (rc != EC2HA_OK) {
        ec2ha_error_prefix(err, "the Elastic IP is on %s instance %s, but the cluster's "
                                "nodes cannot be read; refusing to take it",
                           ec2ha_instance_state_str(inst.state), owner);
        goto cleanup;
    }
    (void)ensure_node_name(ctx, NULL);
    self = ctx->node_name;
    for (size_t i = 0; i < n_nodes; i++) {
        const ec2ha_cluster_node *nd = &nodes[i];

        if (nd->instance_id == NULL || strcmp(nd->instance_id, owner) != 0) {
            continue;
        }
        if (self != NULL && nd->name != NULL && strcmp(nd->name, self) == 0) {
            ec2ha_warn("node %s (this node) was recorded with instance %s, but this is %s; "
                       "treating the record as stale", self, owner, ctx->instance_id);
            continue;
        }
        if (nd->state == EC2HA_NODE_ONLINE) {
            *refuse_out = true;
            ec2ha_error_set(err, EC2HA_ERR_REFUSED,
                            "refusing to take the Elastic IP from instance %s: EC2 reports it "
                            "%s and it is node %s, an online member of this cluster "
                            "(stop the resource there first; if that node is hung, fence it)",
                            owner, ec2ha_instance_state_str(inst.state),
                            nd->name != NULL ? nd->name : "?");
            goto cleanup;
        }
        ec2ha_notice("takeover allowed: the current owner %s is node %s, %s in this cluster",
                     owner, nd->name != NULL ? nd->name : "?", ec2ha_node_state_str(nd->state));
        goto cleanup;
    }
    /* No record names the owner: is it an online member that has no record? */
    name_tag = ec2ha_instance_tag(&inst, "Name");
    for (size_t i = 0; i < n_nodes; i++) {
        const ec2ha_cluster_node *nd = &nodes[i];

        if (nd->state != EC2HA_NODE_ONLINE || nd->name == NULL || is_self(ctx, self, nd)) {
            continue;
        }
        if ((name_tag != NULL && strcmp(name_tag, nd->name) == 0) ||
            ec2ha_instance_dns_is(&inst, nd->name)) {
            *refuse_out = true;
            ec2ha_error_set(err, EC2HA_ERR_REFUSED,
                            "refusing to take the Elastic IP from instance %s: EC2 reports it "
                            "%s and its %s %s is the name of node %s, an online member of this "
                            "cluster without an %s record (run 'ec2ha register' on %s; stop "
                            "the resource there first; if that node is hung, fence it)",
                            owner, ec2ha_instance_state_str(inst.state),
                            name_tag != NULL && strcmp(name_tag, nd->name) == 0
                                ? "Name tag" : "private DNS name",
                            name_tag != NULL && strcmp(name_tag, nd->name) == 0
                                ? name_tag : inst.private_dns,
                            nd->name, EC2HA_ATTR_INSTANCE_ID, nd->name);
            goto cleanup;
        }
        if (nd->instance_id == NULL && unrecorded == NULL) {
            unrecorded = nd;
        }
    }
    if (unrecorded != NULL) {
        *refuse_out = true;
        ec2ha_error_set(err, EC2HA_ERR_REFUSED,
                        "refusing to take the Elastic IP from instance %s: EC2 reports it %s, "
                        "and online node %s has no %s record, so whether %s is that node "
                        "cannot be told; run 'ec2ha register' on %s (or start this resource "
                        "there once)", owner, ec2ha_instance_state_str(inst.state),
                        unrecorded->name, EC2HA_ATTR_INSTANCE_ID, owner, unrecorded->name);
        goto cleanup;
    }
    ec2ha_notice("takeover allowed: the current owner %s is %s but is not a node of this "
                 "cluster (no node has %s=%s, and no online node is named like it)", owner,
                 ec2ha_instance_state_str(inst.state), EC2HA_ATTR_INSTANCE_ID, owner);
cleanup:
    ec2ha_cluster_nodes_free(nodes, n_nodes);
    ec2ha_instance_free(&inst);
    return rc;
}

ec2ha_rc eip_takeover_guard(eip_ctx *ctx, const ec2ha_address *addr, ec2ha_error *err)
{
    ec2ha_rc rc = EC2HA_OK;
    char *owner = NULL;
    bool refuse = false;
    int64_t grace_ms = 0;
    ec2ha_deadline grace;

    if (addr->instance_id == NULL) {
        ec2ha_notice("takeover allowed: the Elastic IP is on interface %s, which no instance "
                     "holds", addr->network_interface_id != NULL ? addr->network_interface_id
                                                              : "(none)");
        return EC2HA_OK;
    }
    if (ctx->instance_id != NULL && strcmp(addr->instance_id, ctx->instance_id) == 0) {
        return EC2HA_OK;
    }
    owner = strdup(addr->instance_id);
    if (owner == NULL) {
        return ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory");
    }
    grace_ms = ec2ha_deadline_remaining_ms(ctx->deadline) / 2;
    if (grace_ms > EIP_GUARD_GRACE_MS) {
        grace_ms = EIP_GUARD_GRACE_MS;
    }
    grace = ec2ha_deadline_in_ms(grace_ms);

    for (;;) {
        ec2ha_describe_addresses_query q;
        ec2ha_address_list list = { 0 };
        const char *ids[1];
        bool same_owner = false;

        rc = judge_owner(ctx, owner, &refuse, err);
        if (rc != EC2HA_OK || !refuse) {
            break;
        }
        /* EC2 may still show an association its owner has just removed: look again. */
        if (!ec2ha_deadline_sleep_ms(grace, EIP_GUARD_POLL_MS) || ec2ha_deadline_passed(grace)) {
            rc = EC2HA_ERR_REFUSED;
            break;
        }
        memset(&q, 0, sizeof(q));
        ids[0] = addr->allocation_id;
        q.allocation_ids = ids;
        q.n_allocation_ids = 1;
        if (ec2ha_ec2_describe_addresses(ctx->ec2, &q, ctx->deadline, &list, NULL) == EC2HA_OK &&
            list.count == 1) {
            same_owner = list.items[0].instance_id != NULL &&
                         strcmp(list.items[0].instance_id, owner) == 0;
            if (!same_owner) {
                ec2ha_info("EC2 no longer shows the Elastic IP on %s (now %s)", owner,
                           list.items[0].instance_id != NULL ? list.items[0].instance_id
                                                             : "unassociated");
            }
        } else {
            same_owner = true;
        }
        if (!same_owner) {
            const char *next = list.count == 1 ? list.items[0].instance_id : NULL;

            free(owner);
            owner = NULL;
            if (next == NULL || (ctx->instance_id != NULL && strcmp(next, ctx->instance_id) == 0)) {
                ec2ha_address_list_free(&list);
                ec2ha_error_clear(err);
                rc = EC2HA_OK;
                break;
            }
            owner = strdup(next);
            ec2ha_address_list_free(&list);
            if (owner == NULL) {
                rc = ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory");
                break;
            }
            continue;
        }
        ec2ha_address_list_free(&list);
    }
    if (rc == EC2HA_ERR_REFUSED) {
        ec2ha_err("%s", err != NULL ? err->message : "takeover refused");
    }
    free(owner);
    return rc;
}
