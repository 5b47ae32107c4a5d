/*
 * session.c - what the commands share, built on first use: the instance
 * metadata, the AWS configuration and EC2 client, this instance's id, the CIB,
 * and the resolution of a TARGET (instance id, node name or Name tag).
 */
#include <stdlib.h>
#include <string.h>

#include "ec2ha/log.h"

#include "cli.h"

void cli_ctx_init(cli_ctx *ctx, const ec2ha_opt_values *opts, bool json, int64_t timeout_ms)
{
    memset(ctx, 0, sizeof(*ctx));
    ctx->opts = opts;
    ctx->json = json;
    ctx->deadline = ec2ha_deadline_in_ms(timeout_ms);
}

void cli_ctx_free(cli_ctx *ctx)
{
    if (ctx == NULL) {
        return;
    }
    ec2ha_cluster_free(ctx->cib);
    ec2ha_ec2_client_free(ctx->ec2);
    ec2ha_aws_config_free(&ctx->aws);
    ec2ha_imds_free(ctx->imds);
    free(ctx->instance_id);
    free(ctx->node_name);
    memset(ctx, 0, sizeof(*ctx));
}

const char *cli_opt(const cli_ctx *ctx, const char *name)
{
    const char *v = ec2ha_opts_get(ctx->opts, name);

    return (v != NULL && v[0] != '\0') ? v : NULL;
}

bool cli_flag(const cli_ctx *ctx, const char *name)
{
    bool b = false;

    if (ec2ha_opts_get_bool(ctx->opts, name, &b, NULL) != EC2HA_OK) {
        return false;
    }
    return b;
}

ec2ha_rc cli_imds(cli_ctx *ctx, ec2ha_error *err)
{
    if (ctx->imds != NULL) {
        return EC2HA_OK;
    }
    return ec2ha_imds_new(NULL, &ctx->imds, err);
}

ec2ha_rc cli_aws(cli_ctx *ctx, ec2ha_error *err)
{
    ec2ha_rc rc = EC2HA_OK;
    ec2ha_creds_options copts;

    if (ctx->aws_ready) {
        return EC2HA_OK;
    }
    rc = cli_imds(ctx, err);
    if (rc != EC2HA_OK) {
        return rc;
    }
    memset(&copts, 0, sizeof(copts));
    copts.profile = cli_opt(ctx, CLI_OPT_PROFILE);
    copts.region = cli_opt(ctx, CLI_OPT_REGION);
    copts.endpoint_url = cli_opt(ctx, CLI_OPT_ENDPOINT_URL);
    copts.ca_bundle = cli_opt(ctx, CLI_OPT_CA_BUNDLE);
    copts.imds = ctx->imds;
    copts.need_credentials = true;
    rc = ec2ha_aws_config_resolve(&copts, ctx->deadline, &ctx->aws, err);
    if (rc != EC2HA_OK) {
        return rc;
    }
    ctx->aws_ready = true;
    return EC2HA_OK;
}

ec2ha_rc cli_ec2(cli_ctx *ctx, ec2ha_error *err)
{
    ec2ha_rc rc = EC2HA_OK;

    if (ctx->ec2 != NULL) {
        return EC2HA_OK;
    }
    rc = cli_aws(ctx, err);
    if (rc != EC2HA_OK) {
        return rc;
    }
    return ec2ha_ec2_client_new_from_aws(&ctx->aws, NULL, &ctx->ec2, err);
}

const char *cli_self(cli_ctx *ctx, ec2ha_error *err)
{
    if (!ctx->self_tried) {
        ctx->self_tried = true;
        ec2ha_error_clear(&ctx->self_err);
        if (cli_imds(ctx, &ctx->self_err) == EC2HA_OK &&
            ec2ha_imds_get_instance_id(ctx->imds, ctx->deadline, &ctx->instance_id,
                                       &ctx->self_err) != EC2HA_OK) {
            ctx->instance_id = NULL;
        }
        if (ctx->instance_id == NULL) {
            ec2ha_error_prefix(&ctx->self_err, "this instance cannot be identified through "
                                               "the instance metadata");
        }
    }
    if (ctx->instance_id == NULL && err != NULL) {
        *err = ctx->self_err;
    }
    return ctx->instance_id;
}

bool cli_cib(cli_ctx *ctx)
{
    if (!ctx->cib_tried) {
        ctx->cib_tried = true;
        ec2ha_error_clear(&ctx->cib_err);
        if (ec2ha_cluster_connect(&ctx->cib, &ctx->cib_err) != EC2HA_OK) {
            ctx->cib = NULL;
            ec2ha_info("CIB not reachable: %s", ctx->cib_err.message);
        }
    }
    return ctx->cib != NULL;
}

const char *cli_node_name(cli_ctx *ctx)
{
    const char *given = cli_opt(ctx, CLI_OPT_NODE);

    if (ctx->node_name == NULL) {
        if (given != NULL) {
            ctx->node_name = strdup(given);
        } else if (ec2ha_cluster_local_node_name(&ctx->node_name, NULL) != EC2HA_OK) {
            ctx->node_name = NULL;
        }
    }
    return ctx->node_name;
}

char *cli_node_of_instance(cli_ctx *ctx, const char *instance_id)
{
    char *node = NULL;

    if (instance_id == NULL || !cli_cib(ctx)) {
        return NULL;
    }
    if (ec2ha_cluster_node_by_instance(ctx->cib, instance_id, &node, NULL) != EC2HA_OK) {
        return NULL;
    }
    return node;
}

static bool looks_like_instance_id(const char *s)
{
    return strncmp(s, "i-", 2) == 0 && strlen(s) > 2 &&
           strspn(s + 2, "0123456789abcdef") == strlen(s + 2);
}

ec2ha_rc cli_resolve_instance(cli_ctx *ctx, const char *target, char **id_out, ec2ha_error *err)
{
    ec2ha_rc rc = EC2HA_OK;
    ec2ha_instance_list list = { 0 };
    ec2ha_describe_instances_query q;
    ec2ha_filter filters[2];
    char tag_filter[160];
    const char *tag_values[1];
    static const char *const live_states[] = { "pending", "running", "shutting-down",
                                               "stopping", "stopped" };
    char *attr = NULL;
    const char *tag_key = cli_opt(ctx, CLI_OPT_TAG_KEY);

    *id_out = NULL;
    if (target == NULL) {
        const char *self = cli_self(ctx, err);

        if (self == NULL) {
            return err != NULL ? err->rc : EC2HA_ERR_UNAVAILABLE;
        }
        *id_out = strdup(self);
        return *id_out != NULL ? EC2HA_OK : ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory");
    }
    if (looks_like_instance_id(target)) {
        *id_out = strdup(target);
        return *id_out != NULL ? EC2HA_OK : ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory");
    }
    if (cli_cib(ctx) &&
        ec2ha_cluster_get_node_attribute(ctx->cib, target, EC2HA_ATTR_INSTANCE_ID, &attr,
                                         NULL) == EC2HA_OK && attr != NULL) {
        ec2ha_info("node %s is instance %s (ec2-instance-id)", target, attr);
        *id_out = attr;
        return EC2HA_OK;
    }
    free(attr);

    rc = cli_ec2(ctx, err);
    if (rc != EC2HA_OK) {
        return rc;
    }
    snprintf(tag_filter, sizeof(tag_filter), "tag:%s", tag_key != NULL ? tag_key : "Name");
    tag_values[0] = target;
    filters[0].name = tag_filter;
    filters[0].values = tag_values;
    filters[0].n_values = 1;
    filters[1].name = "instance-state-name";
    filters[1].values = live_states;
    filters[1].n_values = sizeof(live_states) / sizeof(live_states[0]);
    memset(&q, 0, sizeof(q));
    q.filters = filters;
    q.n_filters = 2;
    rc = ec2ha_ec2_describe_instances(ctx->ec2, &q, ctx->deadline, &list, err);
    if (rc != EC2HA_OK) {
        ec2ha_error_prefix(err, "looking up instances tagged %s=%s", tag_filter + 4, target);
        return rc;
    }
    if (list.count != 1) {
        rc = ec2ha_error_set(err, list.count == 0 ? EC2HA_ERR_NOT_FOUND : EC2HA_ERR_AMBIGUOUS,
                             "%s is not an instance id, not a cluster node with %s, and %zu "
                             "instances are tagged %s=%s (exactly one needed); give the "
                             "instance id", target, EC2HA_ATTR_INSTANCE_ID, list.count,
                             tag_filter + 4, target);
        ec2ha_instance_list_free(&list);
        return rc;
    }
    *id_out = strdup(list.items[0].instance_id);
    ec2ha_instance_list_free(&list);
    if (*id_out == NULL) {
        return ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory");
    }
    ec2ha_info("%s=%s is instance %s", tag_filter + 4, target, *id_out);
    return EC2HA_OK;
}

ec2ha_rc cli_describe_one_address(cli_ctx *ctx, ec2ha_address_list *out, ec2ha_error *err)
{
    ec2ha_rc rc = EC2HA_OK;
    ec2ha_describe_addresses_query q;
    const char *alloc = cli_opt(ctx, CLI_OPT_ALLOCATION_ID);
    const char *pub = cli_opt(ctx, CLI_OPT_PUBLIC_IP);
    const char *ids[1];

    if (alloc == NULL && pub == NULL) {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID,
                               "which Elastic IP? give --allocation-id eipalloc-... or "
                               "--public-ip ADDRESS");
    }
    rc = cli_ec2(ctx, err);
    if (rc != EC2HA_OK) {
        return rc;
    }
    memset(&q, 0, sizeof(q));
    if (alloc != NULL) {
        ids[0] = alloc;
        q.allocation_ids = ids;
        q.n_allocation_ids = 1;
    } else {
        ids[0] = pub;
        q.public_ips = ids;
        q.n_public_ips = 1;
    }
    rc = ec2ha_ec2_describe_addresses(ctx->ec2, &q, ctx->deadline, out, err);
    if (rc != EC2HA_OK) {
        ec2ha_error_prefix(err, "DescribeAddresses %s", alloc != NULL ? alloc : pub);
        return rc;
    }
    if (out->count != 1) {
        ec2ha_address_list_free(out);
        return ec2ha_error_set(err, EC2HA_ERR_NOT_FOUND, "no Elastic IP %s in %s",
                               alloc != NULL ? alloc : pub, cli_dash(ctx->aws.region));
    }
    if (alloc != NULL && pub != NULL &&
        (out->items[0].public_ip == NULL || strcmp(out->items[0].public_ip, pub) != 0)) {
        rc = ec2ha_error_set(err, EC2HA_ERR_INVALID, "%s is %s, not %s; give only one of "
                             "--allocation-id and --public-ip", alloc,
                             cli_dash(out->items[0].public_ip), pub);
        ec2ha_address_list_free(out);
        return rc;
    }
    return EC2HA_OK;
}
