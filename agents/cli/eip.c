/*
 * eip.c - `ec2ha eip show|associate|disassociate`.
 *
 * associate and disassociate wait until DescribeAddresses shows the result
 * (EC2 is eventually consistent) and refuse, unless --force, to move or
 * remove an association that belongs to another instance.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ec2ha/log.h"

#include "cli.h"

#define CLI_POLL_FIRST_MS 250
#define CLI_POLL_MAX_MS 2000

static bool associated(const ec2ha_address *a)
{
    return a->association_id != NULL || a->instance_id != NULL ||
           a->network_interface_id != NULL;
}

static void json_address(cli_out *out, cli_ctx *ctx, const ec2ha_address *a, const char *self)
{
    char *node = cli_node_of_instance(ctx, a->instance_id);

    cli_json_begin_object(out, NULL);
    cli_json_string(out, "public_ip", a->public_ip);
    cli_json_string(out, "allocation_id", a->allocation_id);
    cli_json_bool(out, "associated", associated(a));
    cli_json_string(out, "association_id", a->association_id);
    cli_json_string(out, "instance_id", a->instance_id);
    cli_json_string(out, "network_interface_id", a->network_interface_id);
    cli_json_string(out, "private_ip", a->private_ip);
    cli_json_string(out, "node", node);
    cli_json_bool(out, "here", self != NULL && a->instance_id != NULL &&
                                   strcmp(self, a->instance_id) == 0);
    cli_json_end_object(out);
    free(node);
}

ec2ha_rc cli_cmd_eip_show(cli_ctx *ctx, int argc, char **argv, cli_out *out, ec2ha_error *err)
{
    ec2ha_rc rc = EC2HA_OK;
    ec2ha_address_list list = { 0 };
    ec2ha_describe_addresses_query q;
    const char *self = NULL;

    if (cli_opt(ctx, CLI_OPT_ALLOCATION_ID) != NULL || cli_opt(ctx, CLI_OPT_PUBLIC_IP) != NULL) {
        rc = cli_describe_one_address(ctx, &list, err);
    } else {
        rc = cli_ec2(ctx, err);
        if (rc == EC2HA_OK) {
            memset(&q, 0, sizeof(q));
            rc = ec2ha_ec2_describe_addresses(ctx->ec2, &q, ctx->deadline, &list, err);
            if (rc != EC2HA_OK) {
                ec2ha_error_prefix(err, "DescribeAddresses");
            }
        }
    }
    if (rc != EC2HA_OK) {
        goto cleanup;
    }
    self = cli_self(ctx, NULL);
    if (ctx->json) {
        cli_json_begin_object(out, NULL);
        cli_json_bool(out, "ok", true);
        cli_json_string(out, "region", ctx->aws.region);
        cli_json_string(out, "this_instance", self);
        cli_json_begin_array(out, "addresses");
        for (size_t i = 0; i < list.count; i++) {
            json_address(out, ctx, &list.items[i], self);
        }
        cli_json_end_array(out);
        cli_json_end_object(out);
        rc = cli_json_print(out);
        goto cleanup;
    }
    if (list.count == 0) {
        printf("no Elastic IPs in %s\n", cli_dash(ctx->aws.region));
        goto cleanup;
    }
    printf("%-16s %-27s %-21s %-10s %-23s %-15s\n", "PUBLIC IP", "ALLOCATION ID", "INSTANCE",
           "NODE", "INTERFACE", "PRIVATE IP");
    for (size_t i = 0; i < list.count; i++) {
        const ec2ha_address *a = &list.items[i];
        char *node = cli_node_of_instance(ctx, a->instance_id);
        bool here = self != NULL && a->instance_id != NULL && strcmp(self, a->instance_id) == 0;

        printf("%-16s %-27s %-21s %-10s %-23s %-15s%s\n", cli_dash(a->public_ip),
               cli_dash(a->allocation_id), cli_dash(a->instance_id), cli_dash(node),
               cli_dash(a->network_interface_id), cli_dash(a->private_ip),
               here ? "  (this instance)" : "");
        free(node);
    }
cleanup:
    ec2ha_address_list_free(&list);
    return rc;
}

/* Poll until `done` holds for the address, within the deadline. */
typedef bool (*address_pred)(const ec2ha_address *a, const void *arg);

static ec2ha_rc wait_address(cli_ctx *ctx, address_pred done, const void *arg,
                             ec2ha_address_list *last, ec2ha_error *err)
{
    ec2ha_rc rc = EC2HA_OK;
    int64_t delay = CLI_POLL_FIRST_MS;

    for (;;) {
        ec2ha_address_list_free(last);
        rc = cli_describe_one_address(ctx, last, err);
        if (rc != EC2HA_OK || done(&last->items[0], arg)) {
            return rc;
        }
        if (ec2ha_deadline_remaining_ms(ctx->deadline) <= delay ||
            !ec2ha_deadline_sleep_ms(ctx->deadline, delay)) {
            return ec2ha_error_set(err, EC2HA_ERR_TIMEOUT,
                                   "EC2 accepted the change but DescribeAddresses does not "
                                   "show it yet; the timeout ran out (check with 'ec2ha eip "
                                   "show')");
        }
        delay = delay * 2 > CLI_POLL_MAX_MS ? CLI_POLL_MAX_MS : delay * 2;
    }
}

typedef struct assoc_target {
    const char *instance_id;
    const char *eni;
    const char *private_ip;
} assoc_target;

/*
 * The instance an ENI is attached to (DescribeInstances by
 * network-interface.network-interface-id); an error when --instance-id names
 * another one or the ENI is attached to none.
 */
static ec2ha_rc eni_owner(cli_ctx *ctx, const char *eni, char **id_out, ec2ha_error *err)
{
    ec2ha_rc rc = EC2HA_OK;
    ec2ha_instance_list list = { 0 };
    ec2ha_describe_instances_query q;
    ec2ha_filter filter;
    const char *values[1] = { eni };
    const char *given = cli_opt(ctx, CLI_OPT_INSTANCE_ID);

    filter.name = "network-interface.network-interface-id";
    filter.values = values;
    filter.n_values = 1;
    memset(&q, 0, sizeof(q));
    q.filters = &filter;
    q.n_filters = 1;
    rc = ec2ha_ec2_describe_instances(ctx->ec2, &q, ctx->deadline, &list, err);
    if (rc != EC2HA_OK) {
        ec2ha_error_prefix(err, "looking up the instance of %s", eni);
        return rc;
    }
    if (list.count != 1 || list.items[0].instance_id == NULL) {
        rc = ec2ha_error_set(err, EC2HA_ERR_INVALID, "network interface %s is attached to %s "
                             "instance; give an attached interface", eni,
                             list.count == 0 ? "no" : "more than one");
    } else if (given != NULL && strcmp(given, list.items[0].instance_id) != 0) {
        rc = ec2ha_error_set(err, EC2HA_ERR_INVALID, "network interface %s belongs to %s, not "
                             "to --instance-id %s", eni, list.items[0].instance_id, given);
    } else {
        *id_out = strdup(list.items[0].instance_id);
        if (*id_out == NULL) {
            rc = ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory");
        }
    }
    ec2ha_instance_list_free(&list);
    return rc;
}

static bool is_at_target(const ec2ha_address *a, const void *arg)
{
    const assoc_target *t = arg;

    if (a->instance_id == NULL || strcmp(a->instance_id, t->instance_id) != 0) {
        return false;
    }
    if (t->eni != NULL &&
        (a->network_interface_id == NULL || strcmp(a->network_interface_id, t->eni) != 0)) {
        return false;
    }
    if (t->private_ip != NULL && (a->private_ip == NULL || strcmp(a->private_ip, t->private_ip) != 0)) {
        return false;
    }
    return true;
}

static bool association_gone(const ec2ha_address *a, const void *arg)
{
    const char *association_id = arg;

    return a->association_id == NULL || strcmp(a->association_id, association_id) != 0;
}

static ec2ha_rc print_result(cli_ctx *ctx, cli_out *out, const char *what,
                             const ec2ha_address *a, bool changed, const char *text)
{
    if (ctx->json) {
        cli_json_begin_object(out, NULL);
        cli_json_bool(out, "ok", true);
        cli_json_string(out, "action", what);
        cli_json_bool(out, "changed", changed);
        cli_json_begin_array(out, "addresses");
        json_address(out, ctx, a, cli_self(ctx, NULL));
        cli_json_end_array(out);
        cli_json_end_object(out);
        return cli_json_print(out);
    }
    printf("%s\n", text);
    return EC2HA_OK;
}

ec2ha_rc cli_cmd_eip_associate(cli_ctx *ctx, int argc, char **argv, cli_out *out,
                               ec2ha_error *err)
{
    ec2ha_rc rc = EC2HA_OK;
    ec2ha_address_list list = { 0 };
    ec2ha_associate_params ap;
    assoc_target target;
    char *instance_id = NULL;
    char *association_id = NULL;
    char *owner_node = NULL;
    char text[768];
    bool force = cli_flag(ctx, CLI_OPT_FORCE);

    rc = cli_describe_one_address(ctx, &list, err);
    if (rc != EC2HA_OK) {
        goto cleanup;
    }
    if (cli_opt(ctx, CLI_OPT_ENI) != NULL) {
        rc = eni_owner(ctx, cli_opt(ctx, CLI_OPT_ENI), &instance_id, err);
    } else {
        rc = cli_resolve_instance(ctx, cli_opt(ctx, CLI_OPT_INSTANCE_ID), &instance_id, err);
    }
    if (rc != EC2HA_OK) {
        goto cleanup;
    }
    memset(&target, 0, sizeof(target));
    target.instance_id = instance_id;
    target.eni = cli_opt(ctx, CLI_OPT_ENI);
    target.private_ip = cli_opt(ctx, CLI_OPT_PRIVATE_IP);

    if (is_at_target(&list.items[0], &target)) {
        snprintf(text, sizeof(text), "%s (%s) is already associated with %s (%s, %s)",
                 cli_dash(list.items[0].public_ip), cli_dash(list.items[0].allocation_id),
                 instance_id, cli_dash(list.items[0].network_interface_id),
                 cli_dash(list.items[0].private_ip));
        rc = print_result(ctx, out, "associate", &list.items[0], false, text);
        goto cleanup;
    }
    if (associated(&list.items[0]) && !force &&
        (list.items[0].instance_id == NULL || strcmp(list.items[0].instance_id, instance_id) != 0)) {
        owner_node = cli_node_of_instance(ctx, list.items[0].instance_id);
        rc = ec2ha_error_set(err, EC2HA_ERR_REFUSED,
                             "%s is associated with %s%s%s%s; not moving it without --force "
                             "(in a cluster, move the eip resource instead: crm resource move)",
                             cli_dash(list.items[0].public_ip),
                             list.items[0].instance_id != NULL ? "instance " : "interface ",
                             list.items[0].instance_id != NULL ? list.items[0].instance_id
                                                               : cli_dash(list.items[0].network_interface_id),
                             owner_node != NULL ? ", node " : "",
                             owner_node != NULL ? owner_node : "");
        goto cleanup;
    }

    memset(&ap, 0, sizeof(ap));
    ap.allocation_id = list.items[0].allocation_id;
    if (target.eni != NULL) {
        ap.network_interface_id = target.eni;
    } else {
        ap.instance_id = instance_id;
    }
    ap.private_ip = target.private_ip;
    /* moving within the same instance is not taking it from anyone */
    ap.allow_reassociation = force || list.items[0].instance_id != NULL;
    rc = ec2ha_ec2_associate_address(ctx->ec2, &ap, ctx->deadline, &association_id, err);
    if (rc != EC2HA_OK) {
        ec2ha_error_prefix(err, "AssociateAddress");
        goto cleanup;
    }
    rc = wait_address(ctx, is_at_target, &target, &list, err);
    if (rc != EC2HA_OK) {
        goto cleanup;
    }
    snprintf(text, sizeof(text), "associated %s (%s) with %s (%s, %s): %s",
             cli_dash(list.items[0].public_ip), cli_dash(list.items[0].allocation_id),
             instance_id, cli_dash(list.items[0].network_interface_id),
             cli_dash(list.items[0].private_ip), cli_dash(list.items[0].association_id));
    rc = print_result(ctx, out, "associate", &list.items[0], true, text);
cleanup:
    free(owner_node);
    free(association_id);
    free(instance_id);
    ec2ha_address_list_free(&list);
    return rc;
}

ec2ha_rc cli_cmd_eip_disassociate(cli_ctx *ctx, int argc, char **argv, cli_out *out,
                                  ec2ha_error *err)
{
    ec2ha_rc rc = EC2HA_OK;
    ec2ha_address_list list = { 0 };
    ec2ha_error serr;
    char *association_id = NULL;
    char *owner_node = NULL;
    const char *self = NULL;
    char text[768];
    bool force = cli_flag(ctx, CLI_OPT_FORCE);

    rc = cli_describe_one_address(ctx, &list, err);
    if (rc != EC2HA_OK) {
        goto cleanup;
    }
    if (!associated(&list.items[0])) {
        snprintf(text, sizeof(text), "%s (%s) is not associated", cli_dash(list.items[0].public_ip),
                 cli_dash(list.items[0].allocation_id));
        rc = print_result(ctx, out, "disassociate", &list.items[0], false, text);
        goto cleanup;
    }
    ec2ha_error_clear(&serr);
    self = cli_self(ctx, &serr);
    if (!force && (self == NULL || list.items[0].instance_id == NULL ||
                   strcmp(self, list.items[0].instance_id) != 0)) {
        owner_node = cli_node_of_instance(ctx, list.items[0].instance_id);
        rc = ec2ha_error_set(err, EC2HA_ERR_REFUSED,
                             "%s is associated with %s%s%s%s, %s; not removing that "
                             "association without --force",
                             cli_dash(list.items[0].public_ip),
                             list.items[0].instance_id != NULL ? "instance " : "interface ",
                             list.items[0].instance_id != NULL ? list.items[0].instance_id
                                                               : cli_dash(list.items[0].network_interface_id),
                             owner_node != NULL ? ", node " : "", owner_node != NULL ? owner_node : "",
                             self != NULL ? "not this instance" : "and this instance is unknown");
        goto cleanup;
    }
    association_id = strdup(list.items[0].association_id != NULL ? list.items[0].association_id : "");
    if (association_id == NULL || association_id[0] == '\0') {
        rc = ec2ha_error_set(err, association_id == NULL ? EC2HA_ERR_NOMEM : EC2HA_ERR_STATE,
                             "DescribeAddresses shows no association id to disassociate");
        goto cleanup;
    }
    rc = ec2ha_ec2_disassociate_address(ctx->ec2, association_id, false, ctx->deadline, err);
    if (rc == EC2HA_ERR_AWS && strcmp(err->code, "InvalidAssociationID.NotFound") == 0) {
        ec2ha_error_clear(err);
        rc = EC2HA_OK;
    }
    if (rc != EC2HA_OK) {
        ec2ha_error_prefix(err, "DisassociateAddress %s", association_id);
        goto cleanup;
    }
    rc = wait_address(ctx, association_gone, association_id, &list, err);
    if (rc != EC2HA_OK) {
        goto cleanup;
    }
    snprintf(text, sizeof(text), "disassociated %s (%s): %s removed",
             cli_dash(list.items[0].public_ip), cli_dash(list.items[0].allocation_id),
             association_id);
    rc = print_result(ctx, out, "disassociate", &list.items[0], true, text);
cleanup:
    free(owner_node);
    free(association_id);
    ec2ha_address_list_free(&list);
    return rc;
}
