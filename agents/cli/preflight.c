/*
 * preflight.c - `ec2ha preflight`: is this node ready for the cluster to rely on?
 *
 * A checklist: credentials, region, the instance metadata (IMDSv2 token),
 * the EC2 endpoint and clock skew against its Date header, the IAM permission
 * of every call fence_ec2 and the eip agent make (DryRun=true, nothing
 * changes), and the cluster's fencing settings in the CIB.  Each failure
 * carries the fix; the exit status is 1 if any check failed.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ec2ha/log.h"
#include "ec2ha/retry.h"

#include "cli.h"

#define PF_MAX_CHECKS 64
#define PF_NAME_MAX 128
#define PF_TEXT_MAX 768
#define PF_MAX_TARGETS 8
#define PF_POLICY_HINT "see /usr/share/doc/ec2ha/iam-policy.json"

typedef enum pf_status {
    PF_OK = 0,
    PF_WARN,
    PF_FAIL,
    PF_SKIP
} pf_status;

static const char *const pf_status_json[] = { "ok", "warn", "fail", "skip" };
static const char *const pf_status_human[] = { " ok ", "warn", "FAIL", "skip" };

typedef struct pf_check {
    char name[PF_NAME_MAX];
    pf_status status;
    char detail[PF_TEXT_MAX];
    char fix[PF_TEXT_MAX];
} pf_check;

typedef struct pf_list {
    pf_check items[PF_MAX_CHECKS];
    size_t n;
} pf_list;

__attribute__((format(printf, 5, 6)))
static void pf_add(pf_list *l, const char *name, pf_status status, const char *fix,
                   const char *fmt, ...)
{
    pf_check *c = NULL;
    va_list ap;

    if (l->n >= PF_MAX_CHECKS) {
        return;
    }
    c = &l->items[l->n++];
    snprintf(c->name, sizeof(c->name), "%s", name);
    c->status = status;
    va_start(ap, fmt);
    vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
    va_end(ap);
    ec2ha_log_redact(c->detail);
    snprintf(c->fix, sizeof(c->fix), "%s", fix != NULL ? fix : "");
}

/* ---- AWS ------------------------------------------------------------------------ */

static void check_endpoint_and_clock(cli_ctx *ctx, pf_list *l)
{
    ec2ha_form form;
    ec2ha_buf body;
    ec2ha_error err;
    char *date = NULL;
    time_t server = 0;
    time_t local = 0;
    long max_skew = 60;
    long long skew = 0;
    char fix[PF_TEXT_MAX];

    memset(&form, 0, sizeof(form));
    ec2ha_buf_init(&body, EC2HA_HTTP_MAX_RESPONSE_BYTES);
    ec2ha_error_clear(&err);
    (void)ec2ha_opts_get_long(ctx->opts, CLI_OPT_MAX_SKEW, 1, 3600, &max_skew, NULL);

    if (ec2ha_form_init(&form, "DescribeAddresses") != EC2HA_OK ||
        ec2ha_ec2_call(ctx->ec2, &form, ctx->deadline, &body, &date, &err) != EC2HA_OK) {
        pf_add(l, "EC2 endpoint", PF_FAIL,
               "check the region and endpoint (--region, --endpoint-url), the route or VPC "
               "endpoint to EC2, https_proxy/no_proxy and the CA bundle",
               "%s: %s", cli_dash(ctx->aws.endpoint),
               err.message[0] != '\0' ? err.message : "request failed");
        goto cleanup;
    }
    pf_add(l, "EC2 endpoint", PF_OK, NULL, "%s answered (%s)", cli_dash(ctx->aws.endpoint),
           ec2ha_source_str(ctx->aws.endpoint_source));
    local = time(NULL);
    if (date == NULL || !ec2ha_retry_parse_http_date(date, &server)) {
        pf_add(l, "clock skew", PF_WARN, "compare the clock with a trusted NTP source",
               "EC2 sent no usable Date header (%s)", date != NULL ? date : "none");
        goto cleanup;
    }
    skew = (long long)local - (long long)server;
    snprintf(fix, sizeof(fix), "synchronise the clock (chrony: 'chronyc makestep', "
                               "'systemctl enable --now chrony'); AWS rejects signatures more "
                               "than 5 minutes off, and this check allows %ld s", max_skew);
    pf_add(l, "clock skew", (skew > max_skew || skew < -max_skew) ? PF_FAIL : PF_OK, fix,
           "local clock %lld s %s EC2's Date header", skew < 0 ? -skew : skew,
           skew < 0 ? "behind" : "ahead of");
cleanup:
    free(date);
    ec2ha_buf_free(&body);
    ec2ha_form_free(&form);
}

/* One DryRun result as a check. */
static void dry_run_result(pf_list *l, const char *what, const char *action, ec2ha_rc rc,
                           const ec2ha_error *err, const char *principal)
{
    char fix[PF_TEXT_MAX];

    if (rc == EC2HA_OK) {
        pf_add(l, what, PF_OK, NULL, "allowed (DryRun)");
        return;
    }
    if (rc == EC2HA_ERR_AWS && (strcmp(err->code, "UnauthorizedOperation") == 0 ||
                                strcmp(err->code, "AccessDenied") == 0 ||
                                strcmp(err->code, "AuthFailure") == 0)) {
        snprintf(fix, sizeof(fix), "allow ec2:%s for %s in its IAM policy (%s)", action,
                 principal, PF_POLICY_HINT);
        pf_add(l, what, PF_FAIL, fix, "denied: %s", err->message);
        return;
    }
    pf_add(l, what, PF_FAIL, "see the error; the agents make this call with the same "
                             "credentials", "%s", err->message[0] != '\0' ? err->message
                                                                        : ec2ha_rc_str(rc));
}

/* Instances whose Stop/StartInstances permission matters: --fence-target, else the
 * other nodes' ec2-instance-id, else this instance. */
static size_t fence_targets(cli_ctx *ctx, char **ids, size_t max, pf_list *l)
{
    const char *given = cli_opt(ctx, CLI_OPT_FENCE_TARGET);
    const char *self = cli_self(ctx, NULL);
    ec2ha_cluster_node *nodes = NULL;
    size_t n_nodes = 0;
    size_t n = 0;
    ec2ha_error err;

    ec2ha_error_clear(&err);
    if (given != NULL) {
        if (cli_resolve_instance(ctx, given, &ids[0], &err) != EC2HA_OK) {
            pf_add(l, "fence target", PF_FAIL, "give an instance id, node name or Name tag",
                   "%s: %s", given, err.message);
            return 0;
        }
        return 1;
    }
    if (cli_cib(ctx) && ec2ha_cluster_list_nodes(ctx->cib, &nodes, &n_nodes, NULL) == EC2HA_OK) {
        for (size_t i = 0; i < n_nodes && n < max; i++) {
            if (nodes[i].instance_id == NULL ||
                (self != NULL && strcmp(nodes[i].instance_id, self) == 0)) {
                continue;
            }
            ids[n] = strdup(nodes[i].instance_id);
            if (ids[n] != NULL) {
                n++;
            }
        }
        ec2ha_cluster_nodes_free(nodes, n_nodes);
    }
    if (n == 0 && self != NULL) {
        ids[0] = strdup(self);
        n = ids[0] != NULL ? 1 : 0;
    }
    return n;
}

static void check_permissions(cli_ctx *ctx, pf_list *l)
{
    ec2ha_error err;
    ec2ha_rc rc = EC2HA_OK;
    char what[PF_NAME_MAX];
    char principal[PF_TEXT_MAX];
    char *targets[PF_MAX_TARGETS] = { NULL };
    size_t n_targets = 0;
    const char *self = cli_self(ctx, NULL);
    ec2ha_address_list addrs = { 0 };
    bool have_address = false;

    snprintf(principal, sizeof(principal), "the credentials from %s%s%s",
             ec2ha_source_str(ctx->aws.credentials_source),
             ctx->aws.credentials_detail != NULL ? ": " : "",
             ctx->aws.credentials_detail != NULL ? ctx->aws.credentials_detail : "");

    {
        ec2ha_describe_instances_query q;
        ec2ha_instance_list list = { 0 };

        memset(&q, 0, sizeof(q));
        q.dry_run = true;
        ec2ha_error_clear(&err);
        rc = ec2ha_ec2_describe_instances(ctx->ec2, &q, ctx->deadline, &list, &err);
        ec2ha_instance_list_free(&list);
        dry_run_result(l, "permission DescribeInstances", "DescribeInstances", rc, &err,
                       principal);
    }
    {
        ec2ha_describe_addresses_query q;
        ec2ha_address_list list = { 0 };

        memset(&q, 0, sizeof(q));
        q.dry_run = true;
        ec2ha_error_clear(&err);
        rc = ec2ha_ec2_describe_addresses(ctx->ec2, &q, ctx->deadline, &list, &err);
        ec2ha_address_list_free(&list);
        dry_run_result(l, "permission DescribeAddresses", "DescribeAddresses", rc, &err,
                       principal);
    }

    n_targets = fence_targets(ctx, targets, PF_MAX_TARGETS, l);
    if (n_targets == 0 && cli_opt(ctx, CLI_OPT_FENCE_TARGET) == NULL) {
        pf_add(l, "permission StopInstances", PF_SKIP, "pass --fence-target INSTANCE",
               "no instance to test against (not on EC2 and no cluster nodes registered)");
    }
    for (size_t i = 0; i < n_targets; i++) {
        ec2ha_stop_params sp;
        ec2ha_state_change change;

        memset(&sp, 0, sizeof(sp));
        memset(&change, 0, sizeof(change));
        sp.instance_id = targets[i];
        sp.force = true;
        sp.dry_run = true;
        ec2ha_error_clear(&err);
        rc = ec2ha_ec2_stop_instances(ctx->ec2, &sp, ctx->deadline, &change, &err);
        ec2ha_state_change_free(&change);
        snprintf(what, sizeof(what), "permission StopInstances on %s", targets[i]);
        dry_run_result(l, what, "StopInstances", rc, &err, principal);

        memset(&change, 0, sizeof(change));
        ec2ha_error_clear(&err);
        rc = ec2ha_ec2_start_instances(ctx->ec2, targets[i], true, ctx->deadline, &change, &err);
        ec2ha_state_change_free(&change);
        snprintf(what, sizeof(what), "permission StartInstances on %s", targets[i]);
        dry_run_result(l, what, "StartInstances", rc, &err, principal);
    }

    if (cli_opt(ctx, CLI_OPT_ALLOCATION_ID) == NULL && cli_opt(ctx, CLI_OPT_PUBLIC_IP) == NULL) {
        pf_add(l, "permission AssociateAddress", PF_SKIP,
               "pass --allocation-id eipalloc-... to test the eip agent's calls",
               "no Elastic IP given");
        pf_add(l, "permission DisassociateAddress", PF_SKIP,
               "pass --allocation-id eipalloc-... to test the eip agent's calls",
               "no Elastic IP given");
        goto cleanup;
    }
    ec2ha_error_clear(&err);
    if (cli_describe_one_address(ctx, &addrs, &err) != EC2HA_OK) {
        pf_add(l, "Elastic IP", PF_FAIL, "check --allocation-id/--public-ip and the region",
               "%s", err.message);
        goto cleanup;
    }
    have_address = true;
    pf_add(l, "Elastic IP", PF_OK, NULL, "%s is %s%s", cli_dash(addrs.items[0].allocation_id),
           cli_dash(addrs.items[0].public_ip),
           addrs.items[0].instance_id != NULL ? ", associated" : ", not associated");
    if (self == NULL) {
        pf_add(l, "permission AssociateAddress", PF_SKIP, "run preflight on the cluster node",
               "this instance is unknown (instance metadata not reachable)");
    } else {
        ec2ha_associate_params ap;
        ec2ha_imds_interface *ifs = NULL;
        size_t n_ifs = 0;
        ec2ha_error ierr;
        char *association = NULL;

        memset(&ap, 0, sizeof(ap));
        ap.allocation_id = addrs.items[0].allocation_id;
        ap.network_interface_id = cli_opt(ctx, CLI_OPT_ENI);
        /* The eip agent associates by network interface (the policy must allow that
         * resource too), so test the same call with this instance's primary interface. */
        ec2ha_error_clear(&ierr);
        if (ap.network_interface_id == NULL &&
            ec2ha_imds_get_interfaces(ctx->imds, ctx->deadline, &ifs, &n_ifs, &ierr) == EC2HA_OK &&
            n_ifs > 0) {
            ap.network_interface_id = ifs[0].interface_id;
        }
        ap.instance_id = ap.network_interface_id == NULL ? self : NULL;
        ap.allow_reassociation = true;
        ap.dry_run = true;
        ec2ha_error_clear(&err);
        rc = ec2ha_ec2_associate_address(ctx->ec2, &ap, ctx->deadline, &association, &err);
        free(association);
        snprintf(what, sizeof(what), "permission AssociateAddress %s to %s",
                 cli_dash(addrs.items[0].allocation_id),
                 ap.network_interface_id != NULL ? ap.network_interface_id : self);
        dry_run_result(l, what, "AssociateAddress", rc, &err, principal);
        ec2ha_imds_interfaces_free(ifs, n_ifs);
    }
    if (addrs.items[0].association_id == NULL) {
        pf_add(l, "permission DisassociateAddress", PF_SKIP,
               "run preflight again while the Elastic IP is associated",
               "the Elastic IP is not associated, so there is no association to test with");
    } else {
        ec2ha_error_clear(&err);
        rc = ec2ha_ec2_disassociate_address(ctx->ec2, addrs.items[0].association_id, true,
                                            ctx->deadline, &err);
        snprintf(what, sizeof(what), "permission DisassociateAddress %s",
                 addrs.items[0].association_id);
        dry_run_result(l, what, "DisassociateAddress", rc, &err, principal);
    }
cleanup:
    if (have_address) {
        ec2ha_address_list_free(&addrs);
    }
    for (size_t i = 0; i < PF_MAX_TARGETS; i++) {
        free(targets[i]);
    }
}

/* ---- cluster ------------------------------------------------------------------- */

/* Does corosync.conf say two_node: 1?  -1 when it cannot be read. */
static int corosync_two_node(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[512];
    int found = 0;

    if (f == NULL) {
        return -1;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        char *p = line + strspn(line, " \t");
        char *v = NULL;

        if (*p == '#' || strncmp(p, "two_node", 8) != 0) {
            continue;
        }
        v = p + 8;
        v += strspn(v, " \t");
        if (*v != ':') {
            continue;
        }
        v++;
        v += strspn(v, " \t");
        found = (*v == '1') ? 1 : 0;
    }
    fclose(f);
    return found;
}

static void check_cluster(cli_ctx *ctx, pf_list *l)
{
    ec2ha_error err;
    bool stonith = false;
    int devices = 0;
    ec2ha_cluster_node *nodes = NULL;
    size_t n_nodes = 0;
    char *delay = NULL;
    int delayed = 0;
    const char *conf = getenv(CLI_ENV_COROSYNC_CONF);
    const char *self = cli_self(ctx, NULL);
    char missing[PF_TEXT_MAX] = "";
    size_t n_missing = 0;
    bool me_listed = false;

    ec2ha_error_clear(&err);
    if (!cli_cib(ctx)) {
        pf_add(l, "cluster (CIB)", PF_FAIL,
               "run preflight on a cluster node with Pacemaker running (or set CIB_file)",
               "not reachable: %s", ctx->cib_err.message);
        return;
    }
    pf_add(l, "cluster (CIB)", PF_OK, NULL, "reachable as node %s", cli_dash(cli_node_name(ctx)));

    if (ec2ha_cluster_stonith_enabled(ctx->cib, &stonith, &err) != EC2HA_OK) {
        pf_add(l, "stonith-enabled", PF_FAIL, "check the CIB (crm configure show)", "%s",
               err.message);
    } else {
        pf_add(l, "stonith-enabled", stonith ? PF_OK : PF_FAIL,
               "configure a fence_ec2 device, then: crm configure property stonith-enabled=true "
               "(the eip agent refuses to start without it)",
               "stonith-enabled=%s", stonith ? "true" : "false");
    }

    ec2ha_error_clear(&err);
    if (ec2ha_cluster_count_fence_devices(ctx->cib, "fence_ec2", &devices, &err) != EC2HA_OK) {
        pf_add(l, "fence_ec2 device", PF_FAIL, "check the CIB (crm configure show)", "%s",
               err.message);
    } else {
        pf_add(l, "fence_ec2 device", devices > 0 ? PF_OK : PF_FAIL,
               "crm configure primitive fence-ec2 stonith:fence_ec2 params region=REGION "
               "(see /usr/share/doc/ec2ha/crm-examples)",
               "%d fence_ec2 device%s configured", devices, devices == 1 ? "" : "s");
    }

    ec2ha_error_clear(&err);
    if (ec2ha_cluster_list_nodes(ctx->cib, &nodes, &n_nodes, &err) != EC2HA_OK) {
        pf_add(l, "cluster nodes", PF_FAIL, "check the CIB (crm configure show)", "%s",
               err.message);
        return;
    }
    for (size_t i = 0; i < n_nodes; i++) {
        if (nodes[i].name != NULL && cli_node_name(ctx) != NULL &&
            strcmp(nodes[i].name, cli_node_name(ctx)) == 0) {
            me_listed = true;
        }
        if (nodes[i].instance_id == NULL) {
            size_t used = strlen(missing);

            snprintf(missing + used, sizeof(missing) - used, "%s%s", n_missing > 0 ? ", " : "",
                     cli_dash(nodes[i].name));
            n_missing++;
        } else if (self != NULL && nodes[i].name != NULL && cli_node_name(ctx) != NULL &&
                   strcmp(nodes[i].name, cli_node_name(ctx)) == 0 &&
                   strcmp(nodes[i].instance_id, self) != 0) {
            pf_add(l, "ec2-instance-id of this node", PF_FAIL,
                   "run 'ec2ha register' on this node",
                   "node %s is recorded as %s but this instance is %s", nodes[i].name,
                   nodes[i].instance_id, self);
        }
    }
    if (!me_listed) {
        pf_add(l, "this node in the cluster", PF_WARN,
               "run preflight on a cluster node, or give its cluster name with --node",
               "%s is not one of the %zu nodes in the CIB", cli_dash(cli_node_name(ctx)),
               n_nodes);
    }
    pf_add(l, "node instance ids", n_missing == 0 ? PF_OK : PF_WARN,
           "run 'ec2ha register' on each node (the eip agent also records it on start); "
           "until then fence_ec2 falls back to the Name tag",
           n_missing == 0 ? "every node (%zu) has ec2-instance-id" :
                            "%zu of the nodes have no ec2-instance-id: %s",
           n_missing == 0 ? n_nodes : n_missing, n_missing == 0 ? "" : missing);

    if (n_nodes == 2) {
        int two = corosync_two_node(conf != NULL && conf[0] != '\0' ? conf : CLI_COROSYNC_CONF);

        if (two < 0) {
            pf_add(l, "two_node", PF_WARN, "set two_node: 1 in the quorum section of "
                   "corosync.conf on both nodes",
                   "cannot read %s (%s)", conf != NULL && conf[0] != '\0' ? conf : CLI_COROSYNC_CONF,
                   strerror(errno));
        } else {
            pf_add(l, "two_node", two == 1 ? PF_OK : PF_FAIL,
                   "add 'two_node: 1' to the quorum section of corosync.conf on both nodes "
                   "and restart corosync, so the survivor keeps quorum",
                   "corosync two_node %s", two == 1 ? "enabled" : "not enabled");
        }
        ec2ha_error_clear(&err);
        if (ec2ha_cluster_get_property(ctx->cib, "priority-fencing-delay", &delay, &err) ==
                EC2HA_OK && delay != NULL && strcmp(delay, "0") != 0 &&
            strcmp(delay, "0s") != 0) {
            pf_add(l, "fence delay", PF_OK, NULL, "priority-fencing-delay=%s", delay);
        } else if (ec2ha_cluster_count_delayed_fence_devices(ctx->cib, NULL, &delayed, &err) ==
                       EC2HA_OK && delayed > 0) {
            pf_add(l, "fence delay", PF_OK, NULL,
                   "%d fence device(s) with pcmk_delay_base or pcmk_delay_max", delayed);
        } else {
            pf_add(l, "fence delay", PF_FAIL,
                   "crm configure property priority-fencing-delay=15s (or pcmk_delay_base "
                   "on one node's fence device), so both nodes cannot fence each other at once",
                   "no fence-race delay: neither priority-fencing-delay nor a device's "
                   "pcmk_delay_base/pcmk_delay_max is set");
        }
    } else {
        pf_add(l, "two-node settings", PF_SKIP, NULL, "%zu nodes in the CIB", n_nodes);
    }
    free(delay);
    ec2ha_cluster_nodes_free(nodes, n_nodes);
}

/* ---- the command ------------------------------------------------------------------ */

ec2ha_rc cli_cmd_preflight(cli_ctx *ctx, int argc, char **argv, cli_out *out, ec2ha_error *err)
{
    ec2ha_rc rc = EC2HA_OK;
    pf_list *l = calloc(1, sizeof(*l));
    ec2ha_error aerr;
    ec2ha_error serr;
    const char *self = NULL;
    size_t counts[4] = { 0, 0, 0, 0 };

    if (l == NULL) {
        return ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory");
    }
    ec2ha_error_clear(&aerr);
    ec2ha_error_clear(&serr);

    if (cli_aws(ctx, &aerr) != EC2HA_OK) {
        pf_add(l, "credentials", PF_FAIL,
               "export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, configure a profile "
               "('aws configure', --profile), or attach an IAM role to the instance",
               "%s", aerr.message);
    } else {
        pf_add(l, "credentials", PF_OK, NULL, "%s%s%s (access key %s%s)",
               ec2ha_source_str(ctx->aws.credentials_source),
               ctx->aws.credentials_detail != NULL ? ": " : "",
               ctx->aws.credentials_detail != NULL ? ctx->aws.credentials_detail : "",
               cli_dash(ctx->aws.access_key_id),
               ctx->aws.session_token != NULL ? ", temporary" : "");
        pf_add(l, "region", PF_OK, NULL, "%s (%s)", cli_dash(ctx->aws.region),
               ec2ha_source_str(ctx->aws.region_source));
    }

    self = cli_self(ctx, &serr);
    if (self != NULL) {
        pf_add(l, "instance metadata (IMDSv2)", PF_OK, NULL, "token accepted, this is %s", self);
    } else {
        pf_add(l, "instance metadata (IMDSv2)", PF_FAIL,
               "enable IMDSv2 on the instance ('aws ec2 modify-instance-metadata-options "
               "--http-endpoint enabled --http-tokens required --http-put-response-hop-limit "
               "2') and do not set AWS_EC2_METADATA_DISABLED",
               "%s", serr.message);
    }

    if (ctx->aws_ready && cli_ec2(ctx, &aerr) == EC2HA_OK) {
        check_endpoint_and_clock(ctx, l);
        check_permissions(ctx, l);
    } else {
        pf_add(l, "EC2 API and permissions", PF_SKIP, "fix the credentials first",
               "no credentials");
    }
    check_cluster(ctx, l);

    for (size_t i = 0; i < l->n; i++) {
        counts[l->items[i].status]++;
    }
    if (ctx->json) {
        cli_json_begin_object(out, NULL);
        cli_json_bool(out, "ok", counts[PF_FAIL] == 0);
        cli_json_int(out, "failed", (long long)counts[PF_FAIL]);
        cli_json_int(out, "warnings", (long long)counts[PF_WARN]);
        cli_json_string(out, "instance_id", self);
        cli_json_string(out, "region", ctx->aws_ready ? ctx->aws.region : NULL);
        cli_json_begin_array(out, "checks");
        for (size_t i = 0; i < l->n; i++) {
            cli_json_begin_object(out, NULL);
            cli_json_string(out, "name", l->items[i].name);
            cli_json_string(out, "status", pf_status_json[l->items[i].status]);
            cli_json_string(out, "detail", l->items[i].detail);
            cli_json_string(out, "fix", l->items[i].status == PF_OK || l->items[i].fix[0] == '\0'
                                            ? NULL : l->items[i].fix);
            cli_json_end_object(out);
        }
        cli_json_end_array(out);
        cli_json_end_object(out);
        rc = cli_json_print(out);
    } else {
        printf("ec2ha preflight: instance %s, region %s, node %s\n", cli_dash(self),
               ctx->aws_ready ? cli_dash(ctx->aws.region) : "-", cli_dash(cli_node_name(ctx)));
        for (size_t i = 0; i < l->n; i++) {
            const pf_check *c = &l->items[i];

            printf("  [%s] %s: %s\n", pf_status_human[c->status], c->name, c->detail);
            if (c->status != PF_OK && c->fix[0] != '\0') {
                printf("         fix: %s\n", c->fix);
            }
        }
        printf("%zu checks: %zu ok, %zu failed, %zu warnings, %zu skipped\n", l->n,
               counts[PF_OK], counts[PF_FAIL], counts[PF_WARN], counts[PF_SKIP]);
    }
    if (rc == EC2HA_OK && counts[PF_FAIL] > 0) {
        rc = ec2ha_error_set(err, EC2HA_ERR_STATE, "%zu of %zu preflight checks failed",
                             counts[PF_FAIL], l->n);
    }
    free(l);
    return rc;
}
