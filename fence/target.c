/*
 * fence/target.c - which instance a plug names.
 *
 * DESIGN.md section 3, rule 4: an instance id is used as is; otherwise the
 * node's ec2-instance-id attribute in the CIB (an unreachable CIB only skips
 * this step); otherwise an exact tag:<tag_key>=<plug> match that must find
 * exactly one non-terminated instance.  `identity` restricts this to one step.
 *
 * The CIB attribute is permanent and only rewritten by eip start/monitor or
 * `ec2ha register`, so it goes stale when a node is rebuilt on a new instance.
 * A stale record must never turn into "Already OFF" for a node that runs:
 * fence_target_check_record() cross-checks it against EC2 and the CIB.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "ec2ha/log.h"
#include "fence.h"

bool fence_is_instance_id(const char *s)
{
    size_t n = 0;
    if (s == NULL || strncmp(s, "i-", 2) != 0)
        return false;
    for (const char *p = s + 2; *p; p++, n++)
        if (!isxdigit((unsigned char)*p) || isupper((unsigned char)*p))
            return false;
    return n == 8 || n == 17;
}

ec2ha_cluster *fence_cib(fence_ctx *ctx)
{
    if (!ctx->cib_tried) {
        ec2ha_error e;
        ec2ha_error_clear(&e);
        ctx->cib_tried = true;
        if (ec2ha_cluster_connect(&ctx->cib, &e) != EC2HA_OK) {
            ec2ha_debug("CIB not reachable (%s): skipping the node attribute lookup", e.message);
            ctx->cib = NULL;
        }
    }
    return ctx->cib;
}

/* NOT_FOUND when the CIB has no answer; with `required`, an unreachable CIB is an error. */
static ec2ha_rc lookup_cib(fence_ctx *ctx, const char *plug, bool required, char **id_out,
                           ec2ha_error *err)
{
    ec2ha_cluster *cib = fence_cib(ctx);
    char *value = NULL;
    ec2ha_error e;
    ec2ha_rc rc;

    ec2ha_error_clear(&e);
    if (cib == NULL) {
        if (required)
            return ec2ha_error_set(err, EC2HA_ERR_CIB,
                                   "identity=cib but the CIB cannot be reached to look up node "
                                   "'%s'; is Pacemaker running here?", plug);
        return EC2HA_ERR_NOT_FOUND;
    }
    rc = ec2ha_cluster_get_node_attribute(cib, plug, EC2HA_ATTR_INSTANCE_ID, &value, &e);
    if (rc == EC2HA_ERR_NOT_FOUND) {
        ec2ha_debug("CIB: node '%s' has no %s attribute", plug, EC2HA_ATTR_INSTANCE_ID);
        if (required)
            return ec2ha_error_set(err, EC2HA_ERR_NOT_FOUND,
                                   "node '%s' has no %s attribute in the CIB (identity=cib); "
                                   "run 'ec2ha register' on it or start the eip resource there",
                                   plug, EC2HA_ATTR_INSTANCE_ID);
        return EC2HA_ERR_NOT_FOUND;
    }
    if (rc != EC2HA_OK) {
        if (required) {
            *err = e;
            ec2ha_error_prefix(err, "CIB lookup of node '%s'", plug);
            return rc;
        }
        ec2ha_debug("CIB lookup of node '%s' failed (%s): skipping it", plug, e.message);
        return EC2HA_ERR_NOT_FOUND;
    }
    if (!fence_is_instance_id(value)) {
        rc = ec2ha_error_set(err, EC2HA_ERR_INVALID,
                             "node '%s' has %s='%s' in the CIB, which is not an instance id; "
                             "fix the attribute (crm_attribute -N %s -n %s -v i-...)",
                             plug, EC2HA_ATTR_INSTANCE_ID, value, plug, EC2HA_ATTR_INSTANCE_ID);
        free(value);
        return rc;
    }
    ec2ha_info("plug '%s' is instance %s (CIB node attribute %s)", plug, value,
               EC2HA_ATTR_INSTANCE_ID);
    *id_out = value;
    return EC2HA_OK;
}

static const char *const non_terminated[] = {
    "pending", "running", "shutting-down", "stopping", "stopped"
};

/* Non-terminated instances with tag <tag_key>=<plug> (EC2's filter; callers keep exact matches). */
static ec2ha_rc describe_by_tag(fence_ctx *ctx, const char *plug, ec2ha_instance_list *list,
                                ec2ha_error *err)
{
    const char *key = ctx->s->tag_key;
    char *tag_filter = NULL;
    ec2ha_rc rc;

    if (asprintf(&tag_filter, "tag:%s", key) < 0)
        return ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory");
    const char *plug_values[] = { plug };
    ec2ha_filter filters[] = {
        { tag_filter, plug_values, 1 },
        { "instance-state-name", non_terminated,
          sizeof non_terminated / sizeof non_terminated[0] },
    };
    ec2ha_describe_instances_query q = { 0 };
    q.filters = filters;
    q.n_filters = 2;
    rc = ec2ha_ec2_describe_instances(ctx->ec2, &q, ctx->deadline, list, err);
    if (rc != EC2HA_OK)
        ec2ha_error_prefix(err, "looking up instances with tag %s=%s", key, plug);
    free(tag_filter);
    return rc;
}

/* EC2 filters treat * and ? as wildcards: an exact, non-terminated match only. */
static bool tag_match(const fence_ctx *ctx, const ec2ha_instance *inst, const char *plug)
{
    const char *v = ec2ha_instance_tag(inst, ctx->s->tag_key);
    return v != NULL && strcmp(v, plug) == 0 && inst->state != EC2HA_STATE_TERMINATED;
}

static ec2ha_rc lookup_tag(fence_ctx *ctx, const char *plug, char **id_out, ec2ha_error *err)
{
    const char *key = ctx->s->tag_key;
    ec2ha_instance_list list = { 0 };
    ec2ha_buf names;
    ec2ha_rc rc;
    size_t matches = 0;
    const ec2ha_instance *match = NULL;

    ec2ha_buf_init(&names, 4096);
    rc = describe_by_tag(ctx, plug, &list, err);
    if (rc != EC2HA_OK)
        goto done;
    for (size_t i = 0; i < list.count; i++) {
        const ec2ha_instance *inst = &list.items[i];
        if (!tag_match(ctx, inst, plug))
            continue;
        matches++;
        match = inst;
        if (ec2ha_buf_printf(&names, "%s%s (%s)", matches > 1 ? ", " : "", inst->instance_id,
                             ec2ha_instance_state_str(inst->state)) != EC2HA_OK) {
            rc = ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory");
            goto done;
        }
    }
    if (matches == 0) {
        rc = ec2ha_error_set(err, EC2HA_ERR_NOT_FOUND,
                             "no instance found for plug '%s': it is not an instance id, %s"
                             "and no non-terminated instance has tag %s=%s",
                             plug,
                             ctx->s->identity == FENCE_IDENTITY_AUTO
                                 ? "no cluster node of that name has ec2-instance-id, " : "",
                             key, plug);
        goto done;
    }
    if (matches > 1) {
        rc = ec2ha_error_set(err, EC2HA_ERR_AMBIGUOUS,
                             "plug '%s' is ambiguous: %zu non-terminated instances have tag "
                             "%s=%s: %s; use the instance id as plug or give the instances "
                             "distinct tags", plug, matches, key, plug, ec2ha_buf_str(&names));
        goto done;
    }
    *id_out = strdup(match->instance_id);
    if (*id_out == NULL) {
        rc = ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory");
        goto done;
    }
    ec2ha_info("plug '%s' is instance %s (tag %s, %s)", plug, match->instance_id, key,
               ec2ha_instance_state_str(match->state));
    rc = EC2HA_OK;

done:
    ec2ha_buf_free(&names);
    ec2ha_instance_list_free(&list);
    return rc;
}

#define STALE_HINT "stale %s for node '%s': run 'ec2ha register' on %s (or start the eip " \
                   "resource there); refusing to fence it through that record"

ec2ha_rc fence_target_check_record(fence_ctx *ctx, const char *plug, const char *id,
                                   const ec2ha_instance *inst, ec2ha_error *err)
{
    const char *key = ctx->s->tag_key;
    const char *tag = inst != NULL ? ec2ha_instance_tag(inst, key) : NULL;
    const char *dns = inst != NULL ? inst->private_dns : NULL;
    const char *seen = inst != NULL ? ec2ha_instance_state_str(inst->state) : "unknown to EC2";
    bool off = inst == NULL || inst->state == EC2HA_STATE_STOPPED ||
               inst->state == EC2HA_STATE_TERMINATED;
    ec2ha_cluster *cib = fence_cib(ctx);
    ec2ha_cluster_node *nodes = NULL;
    size_t n_nodes = 0;
    ec2ha_instance_list list = { 0 };
    ec2ha_buf others;
    ec2ha_error e;
    ec2ha_rc rc = EC2HA_OK;

    ec2ha_buf_init(&others, 4096);
    ec2ha_error_clear(&e);
    /* 1. the record names what the CIB or EC2 says is another node's instance */
    if (cib != NULL && ec2ha_cluster_list_nodes(cib, &nodes, &n_nodes, &e) == EC2HA_OK) {
        for (size_t i = 0; i < n_nodes; i++) {
            const ec2ha_cluster_node *nd = &nodes[i];
            if (nd->name == NULL || strcmp(nd->name, plug) == 0)
                continue;
            if (nd->instance_id != NULL && strcmp(nd->instance_id, id) == 0) {
                rc = ec2ha_error_set(err, EC2HA_ERR_REFUSED,
                                     "nodes '%s' and '%s' both have %s=%s in the CIB: one record "
                                     "is " STALE_HINT, plug, nd->name, EC2HA_ATTR_INSTANCE_ID,
                                     id, EC2HA_ATTR_INSTANCE_ID, plug, plug);
                goto done;
            }
            if ((tag != NULL && strcmp(tag, nd->name) == 0) ||
                ec2ha_instance_dns_is(inst, nd->name)) {
                char why[512];
                if (tag != NULL && strcmp(tag, nd->name) == 0)
                    snprintf(why, sizeof why, "tag %s=%s", key, tag);
                else
                    snprintf(why, sizeof why, "private DNS name %s", dns);
                rc = ec2ha_error_set(err, EC2HA_ERR_REFUSED,
                                     "node '%s' has %s=%s in the CIB, but instance %s (%s, %s) is "
                                     "cluster node '%s': " STALE_HINT,
                                     plug, EC2HA_ATTR_INSTANCE_ID, id, id, seen, why, nd->name,
                                     EC2HA_ATTR_INSTANCE_ID, plug, plug);
                goto done;
            }
        }
    } else if (cib != NULL) {
        ec2ha_debug("cannot list the cluster's nodes to check %s=%s of '%s': %s",
                    EC2HA_ATTR_INSTANCE_ID, id, plug, e.message);
    }

    /* 2. a live namesake: the node was rebuilt on a new instance, the record is the old one */
    if (!off && (tag == NULL || strcmp(tag, plug) == 0))
        goto done;              /* running under the plug's own name, or untagged: it is it */
    rc = describe_by_tag(ctx, plug, &list, err);
    if (rc != EC2HA_OK) {
        ec2ha_error_prefix(err, "node '%s' has %s=%s in the CIB, which is %s; checking that no "
                                "other instance is node '%s'", plug, EC2HA_ATTR_INSTANCE_ID, id,
                           seen, plug);
        goto done;
    }
    for (size_t i = 0; i < list.count; i++) {
        const ec2ha_instance *other = &list.items[i];
        if (!tag_match(ctx, other, plug) || strcmp(other->instance_id, id) == 0 ||
            other->state == EC2HA_STATE_STOPPED)
            continue;
        if (ec2ha_buf_printf(&others, "%s%s (%s)", others.len > 0 ? ", " : "",
                             other->instance_id,
                             ec2ha_instance_state_str(other->state)) != EC2HA_OK) {
            rc = ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory");
            goto done;
        }
    }
    if (others.len > 0) {
        char own_tag[512] = "";
        if (tag != NULL && strcmp(tag, plug) != 0)
            snprintf(own_tag, sizeof own_tag, " with tag %s=%s", key, tag);
        rc = ec2ha_error_set(err, EC2HA_ERR_REFUSED,
                             "node '%s' has %s=%s in the CIB, which is %s%s, but %s has tag %s=%s "
                             "and is not off: " STALE_HINT,
                             plug, EC2HA_ATTR_INSTANCE_ID, id, seen, own_tag,
                             ec2ha_buf_str(&others), key, plug, EC2HA_ATTR_INSTANCE_ID, plug,
                             plug);
        goto done;
    }
    ec2ha_debug("CIB record %s=%s of node '%s' (%s): no other live instance has tag %s=%s",
                EC2HA_ATTR_INSTANCE_ID, id, plug, seen, key, plug);

done:
    ec2ha_buf_free(&others);
    ec2ha_instance_list_free(&list);
    ec2ha_cluster_nodes_free(nodes, n_nodes);
    return rc;
}

ec2ha_rc fence_target_resolve(fence_ctx *ctx, const char *plug, char **instance_id_out,
                              bool *from_cib_out, ec2ha_error *err)
{
    ec2ha_rc rc;

    *instance_id_out = NULL;
    *from_cib_out = false;
    switch (ctx->s->identity) {
    case FENCE_IDENTITY_INSTANCE_ID:
        if (!fence_is_instance_id(plug))
            return ec2ha_error_set(err, EC2HA_ERR_INVALID,
                                   "plug '%s' is not an instance id (identity=instance-id)",
                                   plug);
        break;
    case FENCE_IDENTITY_CIB:
        rc = lookup_cib(ctx, plug, true, instance_id_out, err);
        *from_cib_out = rc == EC2HA_OK;
        return rc;
    case FENCE_IDENTITY_TAG:
        return lookup_tag(ctx, plug, instance_id_out, err);
    case FENCE_IDENTITY_AUTO:
    default:
        if (fence_is_instance_id(plug))
            break;
        rc = lookup_cib(ctx, plug, false, instance_id_out, err);
        *from_cib_out = rc == EC2HA_OK;
        if (rc != EC2HA_ERR_NOT_FOUND)
            return rc;
        return lookup_tag(ctx, plug, instance_id_out, err);
    }
    *instance_id_out = strdup(plug);
    if (*instance_id_out == NULL)
        return ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory");
    ec2ha_debug("plug '%s' is an instance id", plug);
    return EC2HA_OK;
}
