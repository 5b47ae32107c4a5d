/*
 * actions.c - start, stop, monitor and validate-all of ocf:ec2ha:eip.
 *
 * Cost model: a monitor is one DescribeAddresses call; the IMDS token, this
 * instance's id and its interfaces come from the imds cache in $HA_RSCTMP.
 * Every loop here and every retry inside the EC2 client ends at ctx->deadline,
 * which main.c derives from Pacemaker's operation timeout minus a margin.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ec2ha/log.h"

#include "eip.h"

/* Polling DescribeAddresses until EC2 shows the result of our own call. */
#define EIP_VERIFY_FIRST_MS 250
#define EIP_VERIFY_MAX_MS 2000

void eip_ctx_init(eip_ctx *ctx, int64_t timeout_ms)
{
    memset(ctx, 0, sizeof(*ctx));
    ctx->timeout_ms = timeout_ms;
    ctx->deadline = ec2ha_deadline_in_ms(timeout_ms);
}

void eip_ctx_free(eip_ctx *ctx)
{
    if (ctx == NULL) {
        return;
    }
    ec2ha_cluster_free(ctx->cib);
    ec2ha_ec2_client_free(ctx->ec2);
    ec2ha_aws_config_free(&ctx->aws);
    ec2ha_imds_free(ctx->imds);
    free(ctx->instance_id);
    free(ctx->target_eni);
    free(ctx->node_name);
    memset(ctx, 0, sizeof(*ctx));
}

/* ---- AWS error classification (used by main.c's exit-code mapping) ---- */

static bool code_in(const char *code, const char *const *list)
{
    if (code == NULL || code[0] == '\0') {
        return false;
    }
    for (size_t i = 0; list[i] != NULL; i++) {
        if (strcmp(code, list[i]) == 0) {
            return true;
        }
    }
    return false;
}

bool eip_aws_code_is_config(const char *code)
{
    static const char *const config_codes[] = {
        "InvalidAllocationID.NotFound", "InvalidAllocationID.Malformed",
        "InvalidAddress.NotFound", "InvalidAddress.Malformed", "InvalidIPAddress.InUse",
        "InvalidNetworkInterfaceID.NotFound", "InvalidNetworkInterfaceID.Malformed",
        "InvalidParameterValue", "InvalidParameterCombination", "InvalidParameter",
        "MissingParameter", "InvalidAddressID.NotFound", NULL
    };
    return code_in(code, config_codes);
}

bool eip_aws_code_is_permission(const char *code)
{
    static const char *const permission_codes[] = {
        "UnauthorizedOperation", "AuthFailure", "InvalidClientTokenId",
        "SignatureDoesNotMatch", "AccessDenied", "OptInRequired", "Blocked",
        "UnrecognizedClientException", NULL
    };
    return code_in(code, permission_codes);
}

/* ---- configuration checks without I/O ---------------------------------- */

static bool is_ipv4(const char *s)
{
    struct in_addr a;

    return inet_pton(AF_INET, s, &a) == 1;
}

/* AWS ids: prefix, then 1..64 lowercase hex digits. */
static bool is_aws_id(const char *s, const char *prefix)
{
    size_t plen = strlen(prefix);
    size_t n = 0;

    if (strncmp(s, prefix, plen) != 0) {
        return false;
    }
    for (const char *p = s + plen; *p != '\0'; p++, n++) {
        if (!isxdigit((unsigned char)*p)) {
            return false;
        }
    }
    return n >= 1 && n <= 64;
}

static bool is_ifname(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n >= 16 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0) {
        return false;
    }
    for (const char *p = s; *p != '\0'; p++) {
        if (*p == '/' || isspace((unsigned char)*p)) {
            return false;
        }
    }
    return true;
}

ec2ha_rc eip_validate_config(const eip_ctx *ctx, ec2ha_error *err)
{
    const eip_config *c = &ctx->cfg;

    if (c->allocation_id == NULL && c->elastic_ip == NULL) {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID,
                               "neither allocation_id nor elastic_ip is set; set allocation_id "
                               "to the Elastic IP's allocation id (eipalloc-...)");
    }
    if (c->allocation_id != NULL && !is_aws_id(c->allocation_id, "eipalloc-")) {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID,
                               "allocation_id=%s is not an allocation id; expected eipalloc- "
                               "followed by hex digits, as DescribeAddresses shows it",
                               c->allocation_id);
    }
    if (c->elastic_ip != NULL && !is_ipv4(c->elastic_ip)) {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID,
                               "elastic_ip=%s is not an IPv4 address; give the Elastic IP's "
                               "public address or use allocation_id", c->elastic_ip);
    }
    if (c->private_ip != NULL && !is_ipv4(c->private_ip)) {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID,
                               "private_ip_address=%s is not an IPv4 address; give one of "
                               "this instance's private addresses or leave it unset",
                               c->private_ip);
    }
    if (c->eni != NULL && !is_aws_id(c->eni, "eni-")) {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID,
                               "network_interface_id=%s is not a network interface id; "
                               "expected eni- followed by hex digits", c->eni);
    }
    if (c->interface != NULL && !is_ifname(c->interface)) {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID,
                               "interface=%s is not a network interface name (1-15 "
                               "characters, no '/' or spaces), e.g. eth0", c->interface);
    }
    if (c->eni != NULL && c->interface != NULL) {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID,
                               "both network_interface_id=%s and interface=%s are set; set "
                               "only one of them", c->eni, c->interface);
    }
    return EC2HA_OK;
}

/* ---- AWS session and this instance's identity --------------------------- */

static ec2ha_rc ensure_imds(eip_ctx *ctx, ec2ha_error *err)
{
    if (ctx->imds != NULL) {
        return EC2HA_OK;
    }
    return ec2ha_imds_new(NULL, &ctx->imds, err);
}

static ec2ha_rc ensure_aws(eip_ctx *ctx, ec2ha_error *err)
{
    ec2ha_rc rc = EC2HA_OK;
    ec2ha_creds_options copts;

    if (ctx->ec2 != NULL) {
        return EC2HA_OK;
    }
    rc = ensure_imds(ctx, err);
    if (rc != EC2HA_OK) {
        return rc;
    }
    memset(&copts, 0, sizeof(copts));
    copts.profile = ctx->cfg.profile;
    copts.region = ctx->cfg.region;
    copts.endpoint_url = ctx->cfg.endpoint_url;
    copts.ca_bundle = ctx->cfg.ca_bundle;
    copts.imds = ctx->imds;
    copts.need_credentials = true;
    if (!ctx->aws_ready) {
        rc = ec2ha_aws_config_resolve(&copts, ctx->deadline, &ctx->aws, err);
        if (rc != EC2HA_OK) {
            return rc;
        }
        ctx->aws_ready = true;
    }
    return ec2ha_ec2_client_new_from_aws(&ctx->aws, NULL, &ctx->ec2, err);
}

static ec2ha_rc ensure_instance_id(eip_ctx *ctx, ec2ha_error *err)
{
    ec2ha_rc rc = EC2HA_OK;

    if (ctx->instance_id != NULL) {
        return EC2HA_OK;
    }
    rc = ensure_imds(ctx, err);
    if (rc == EC2HA_OK) {
        rc = ec2ha_imds_get_instance_id(ctx->imds, ctx->deadline, &ctx->instance_id, err);
    }
    if (rc != EC2HA_OK) {
        ec2ha_error_prefix(err, "cannot identify this instance through the instance metadata");
    }
    return rc;
}

/* The MAC of a local interface from sysfs, lowercased. */
static ec2ha_rc read_interface_mac(const char *ifname, char *mac, size_t mac_len,
                                   ec2ha_error *err)
{
    ec2ha_rc rc = EC2HA_ERR_NOT_FOUND;
    const char *base = getenv(EIP_ENV_SYS_CLASS_NET);
    char path[512];
    FILE *f = NULL;
    size_t n = 0;

    if (base == NULL || base[0] == '\0') {
        base = EIP_SYS_CLASS_NET;
    }
    snprintf(path, sizeof(path), "%s/%s/address", base, ifname);
    f = fopen(path, "r");
    if (f == NULL) {
        rc = ec2ha_error_set(err, EC2HA_ERR_NOT_FOUND,
                             "interface=%s: cannot read its MAC address from %s (%s); "
                             "set interface to a network interface of this node "
                             "(see 'ip link')", ifname, path, strerror(errno));
        goto cleanup;
    }
    if (fgets(mac, (int)mac_len, f) == NULL) {
        rc = ec2ha_error_set(err, EC2HA_ERR_IO, "interface=%s: %s is empty", ifname, path);
        goto cleanup;
    }
    n = strcspn(mac, " \t\r\n");
    mac[n] = '\0';
    for (char *p = mac; *p != '\0'; p++) {
        *p = (char)tolower((unsigned char)*p);
    }
    rc = EC2HA_OK;
cleanup:
    if (f != NULL) {
        fclose(f);
    }
    return rc;
}

static void list_enis(const ec2ha_imds_interface *ifs, size_t n, char *out, size_t out_len)
{
    size_t used = 0;

    out[0] = '\0';
    for (size_t i = 0; i < n && used + 1 < out_len; i++) {
        int w = snprintf(out + used, out_len - used, "%s%s", i > 0 ? ", " : "",
                         ifs[i].interface_id != NULL ? ifs[i].interface_id : "?");
        if (w < 0) {
            break;
        }
        used += (size_t)w;
    }
}

static bool interface_has_ip(const ec2ha_imds_interface *itf, const char *ip)
{
    for (size_t j = 0; j < itf->n_private_ips; j++) {
        if (itf->private_ips[j] != NULL && strcmp(itf->private_ips[j], ip) == 0) {
            return true;
        }
    }
    return false;
}

/*
 * The interface holding `ip`, asked fresh from IMDS: the cached interface list
 * may be up to an hour old, and a secondary address moved by ocf:heartbeat:awsvip
 * in the same group a moment ago is not in it.  NULL when none has it.
 */
static const char *fresh_interface_with_ip(eip_ctx *ctx, const ec2ha_imds_interface *ifs,
                                           size_t n, const char *ip)
{
    char path[256];

    for (size_t i = 0; i < n; i++) {
        char *ips = NULL;
        bool found = false;

        if (ifs[i].mac == NULL || ifs[i].interface_id == NULL) {
            continue;
        }
        snprintf(path, sizeof(path), "network/interfaces/macs/%s/local-ipv4s", ifs[i].mac);
        if (ec2ha_imds_get(ctx->imds, path, ctx->deadline, &ips, NULL) != EC2HA_OK) {
            continue;
        }
        for (char *save = NULL, *tok = strtok_r(ips, " \t\r\n", &save); tok != NULL;
             tok = strtok_r(NULL, " \t\r\n", &save)) {
            found = found || strcmp(tok, ip) == 0;
        }
        free(ips);
        if (found) {
            ec2ha_debug("%s is on %s (fresh from the instance metadata)", ip,
                        ifs[i].interface_id);
            return ifs[i].interface_id;
        }
    }
    return NULL;
}

static ec2ha_rc set_target(eip_ctx *ctx, const char *eni, ec2ha_error *err)
{
    free(ctx->target_eni);
    ctx->target_eni = NULL;
    if (eni == NULL) {
        return EC2HA_OK;
    }
    ctx->target_eni = strdup(eni);
    if (ctx->target_eni == NULL) {
        return ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory");
    }
    return EC2HA_OK;
}

/*
 * Resolve this instance and the ENI to associate with.  full: check what start
 * and validate-all need (the ENI belongs to this instance, an instance with
 * several ENIs names one).  Otherwise only what placement comparison needs.
 */
static ec2ha_rc ensure_identity(eip_ctx *ctx, bool full, ec2ha_error *err)
{
    ec2ha_rc rc = EC2HA_OK;
    const eip_config *c = &ctx->cfg;
    ec2ha_imds_interface *ifs = NULL;
    size_t n_ifs = 0;
    char mac[64];
    char enis[512];
    const char *chosen = NULL;

    rc = ensure_instance_id(ctx, err);
    if (rc != EC2HA_OK) {
        goto cleanup;
    }
    if (ctx->identity_ready) {
        goto cleanup;
    }
    if (!full && c->interface == NULL) {
        /* monitor / stop: compare against the configured ENI only */
        rc = set_target(ctx, c->eni, err);
        goto cleanup;
    }

    rc = ec2ha_imds_get_interfaces(ctx->imds, ctx->deadline, &ifs, &n_ifs, err);
    if (rc != EC2HA_OK) {
        ec2ha_error_prefix(err, "cannot list this instance's network interfaces through the "
                                "instance metadata");
        goto cleanup;
    }
    list_enis(ifs, n_ifs, enis, sizeof(enis));

    if (c->eni != NULL) {
        for (size_t i = 0; i < n_ifs; i++) {
            if (ifs[i].interface_id != NULL && strcmp(ifs[i].interface_id, c->eni) == 0) {
                chosen = c->eni;
            }
        }
        if (chosen == NULL) {
            rc = ec2ha_error_set(err, EC2HA_ERR_INVALID,
                                 "network_interface_id=%s is not attached to this instance "
                                 "(%s, interfaces: %s); use one of those or the interface "
                                 "parameter when the ENI differs per node",
                                 c->eni, ctx->instance_id, enis);
            goto cleanup;
        }
    } else if (c->interface != NULL) {
        rc = read_interface_mac(c->interface, mac, sizeof(mac), err);
        if (rc != EC2HA_OK) {
            goto cleanup;
        }
        for (size_t i = 0; i < n_ifs; i++) {
            if (ifs[i].mac != NULL && strcasecmp(ifs[i].mac, mac) == 0) {
                chosen = ifs[i].interface_id;
            }
        }
        if (chosen == NULL) {
            rc = ec2ha_error_set(err, EC2HA_ERR_NOT_FOUND,
                                 "interface=%s (MAC %s) is not one of this instance's network "
                                 "interfaces in the instance metadata (%s: %s)",
                                 c->interface, mac, ctx->instance_id, enis);
            goto cleanup;
        }
    } else if (c->private_ip != NULL) {
        for (size_t i = 0; i < n_ifs; i++) {
            if (interface_has_ip(&ifs[i], c->private_ip)) {
                chosen = ifs[i].interface_id;
            }
        }
        if (chosen == NULL) {
            chosen = fresh_interface_with_ip(ctx, ifs, n_ifs, c->private_ip);
        }
        if (chosen == NULL && n_ifs == 1) {
            /* The metadata may lag a freshly assigned secondary address: let EC2 judge. */
            chosen = ifs[0].interface_id;
        } else if (chosen == NULL) {
            rc = ec2ha_error_set(err, EC2HA_ERR_INVALID,
                                 "private_ip_address=%s is not assigned to any network "
                                 "interface of this instance (%s: %s); assign it first or set "
                                 "network_interface_id", c->private_ip, ctx->instance_id, enis);
            goto cleanup;
        }
    } else if (n_ifs > 1) {
        rc = ec2ha_error_set(err, EC2HA_ERR_AMBIGUOUS,
                             "this instance (%s) has %zu network interfaces (%s); set "
                             "network_interface_id or interface to say which one gets the "
                             "Elastic IP", ctx->instance_id, n_ifs, enis);
        goto cleanup;
    } else if (n_ifs == 1) {
        chosen = ifs[0].interface_id;
    }
    rc = set_target(ctx, chosen, err);
    if (rc == EC2HA_OK) {
        ctx->identity_ready = true;
        ec2ha_debug("this instance %s, target interface %s", ctx->instance_id,
                    ctx->target_eni != NULL ? ctx->target_eni : "(primary)");
    }
cleanup:
    ec2ha_imds_interfaces_free(ifs, n_ifs);
    return rc;
}

/* ---- the address ---------------------------------------------------------- */

static const char *addr_name(const eip_ctx *ctx)
{
    return ctx->cfg.allocation_id != NULL ? ctx->cfg.allocation_id : ctx->cfg.elastic_ip;
}

/* DescribeAddresses for the configured address; exactly one item on success. */
static ec2ha_rc describe_address(eip_ctx *ctx, ec2ha_address_list *list, ec2ha_error *err)
{
    ec2ha_rc rc = EC2HA_OK;
    ec2ha_describe_addresses_query q;
    const char *ids[1];

    memset(&q, 0, sizeof(q));
    if (ctx->cfg.allocation_id != NULL) {
        ids[0] = ctx->cfg.allocation_id;
        q.allocation_ids = ids;
        q.n_allocation_ids = 1;
    } else {
        ids[0] = ctx->cfg.elastic_ip;
        q.public_ips = ids;
        q.n_public_ips = 1;
    }
    rc = ec2ha_ec2_describe_addresses(ctx->ec2, &q, ctx->deadline, list, err);
    if (rc != EC2HA_OK) {
        ec2ha_error_prefix(err, "DescribeAddresses for %s", addr_name(ctx));
        return rc;
    }
    if (list->count != 1) {
        rc = ec2ha_error_set(err, list->count == 0 ? EC2HA_ERR_NOT_FOUND : EC2HA_ERR_AMBIGUOUS,
                             "DescribeAddresses for %s returned %zu addresses; check "
                             "allocation_id/elastic_ip and the region (%s)", addr_name(ctx),
                             list->count, ctx->aws.region != NULL ? ctx->aws.region : "?");
        ec2ha_address_list_free(list);
        return rc;
    }
    if (ctx->cfg.allocation_id != NULL && ctx->cfg.elastic_ip != NULL &&
        (list->items[0].public_ip == NULL ||
         strcmp(list->items[0].public_ip, ctx->cfg.elastic_ip) != 0)) {
        rc = ec2ha_error_set(err, EC2HA_ERR_INVALID,
                             "allocation_id=%s is the address %s, not elastic_ip=%s; set only "
                             "one of them", ctx->cfg.allocation_id,
                             list->items[0].public_ip != NULL ? list->items[0].public_ip : "?",
                             ctx->cfg.elastic_ip);
        ec2ha_address_list_free(list);
        return rc;
    }
    return EC2HA_OK;
}

static bool is_associated(const ec2ha_address *a)
{
    return a->association_id != NULL || a->instance_id != NULL ||
           a->network_interface_id != NULL;
}

static eip_placement placement(const eip_ctx *ctx, const ec2ha_address *a)
{
    if (!is_associated(a)) {
        return EIP_PLACED_NOWHERE;
    }
    if (a->instance_id == NULL || ctx->instance_id == NULL ||
        strcmp(a->instance_id, ctx->instance_id) != 0) {
        return EIP_PLACED_ELSEWHERE;
    }
    if (ctx->target_eni != NULL &&
        (a->network_interface_id == NULL || strcmp(a->network_interface_id, ctx->target_eni) != 0)) {
        return EIP_PLACED_THIS_INSTANCE;
    }
    if (ctx->cfg.private_ip != NULL &&
        (a->private_ip == NULL || strcmp(a->private_ip, ctx->cfg.private_ip) != 0)) {
        return EIP_PLACED_THIS_INSTANCE;
    }
    return EIP_PLACED_HERE;
}

static void describe_placement(const ec2ha_address *a, char *out, size_t len)
{
    if (!is_associated(a)) {
        snprintf(out, len, "not associated");
        return;
    }
    snprintf(out, len, "associated with instance %s, interface %s, private address %s",
             a->instance_id != NULL ? a->instance_id : "(none)",
             a->network_interface_id != NULL ? a->network_interface_id : "(none)",
             a->private_ip != NULL ? a->private_ip : "(none)");
}

/* ---- validate-all ------------------------------------------------------- */

ec2ha_rc eip_action_validate(eip_ctx *ctx, ec2ha_error *err)
{
    ec2ha_rc rc = EC2HA_OK;
    ec2ha_address_list list = { 0 };

    rc = eip_validate_config(ctx, err);
    if (rc == EC2HA_OK) {
        rc = eip_check_fencing(ctx, err);
    }
    if (rc == EC2HA_OK) {
        rc = ensure_aws(ctx, err);
    }
    if (rc == EC2HA_OK) {
        rc = ensure_identity(ctx, true, err);
    }
    if (rc == EC2HA_OK) {
        rc = describe_address(ctx, &list, err);
    }
    if (rc == EC2HA_OK) {
        ec2ha_info("configuration valid: %s is %s, this instance %s", addr_name(ctx),
                   list.items[0].public_ip != NULL ? list.items[0].public_ip : "?",
                   ctx->instance_id);
    }
    ec2ha_address_list_free(&list);
    return rc;
}

/* ---- monitor -------------------------------------------------------------- */

/* A probe asks IMDS at most this long for this instance's id (on EC2: milliseconds). */
#define EIP_PROBE_IMDS_BUDGET_MS 2000

/*
 * Keep this node's ec2-instance-id right (defence in depth for fence_ec2): a
 * node rebuilt on a new instance under its old name probes its resources when
 * it joins, so the probe corrects the record even where the address is not.
 * Recurring monitors do it when they already know the instance, at most every
 * 10 minutes.  Never an EC2 call, never a change to the monitor's result.
 */
static void refresh_record(eip_ctx *ctx)
{
    if (ctx->lsb) {
        return;
    }
    if (ctx->instance_id == NULL && ctx->probe) {
        ec2ha_deadline saved = ctx->deadline;
        ec2ha_deadline d = ec2ha_deadline_in_ms(EIP_PROBE_IMDS_BUDGET_MS);
        ec2ha_error e;

        ec2ha_error_clear(&e);
        if (d.at_ms < ctx->deadline.at_ms) {
            ctx->deadline = d;
        }
        if (ensure_instance_id(ctx, &e) != EC2HA_OK) {
            ec2ha_debug("not refreshing %s: %s", EC2HA_ATTR_INSTANCE_ID, e.message);
        }
        ctx->deadline = saved;
    }
    if (ctx->instance_id != NULL) {
        eip_refresh_instance_id(ctx, !ctx->probe);
    }
}

ec2ha_rc eip_action_monitor(eip_ctx *ctx, bool *here_out, ec2ha_error *err)
{
    ec2ha_rc rc = EC2HA_OK;
    ec2ha_address_list list = { 0 };
    char where[512];
    eip_placement p = EIP_PLACED_NOWHERE;

    *here_out = false;
    rc = eip_validate_config(ctx, err);
    if (rc == EC2HA_OK) {
        rc = ensure_aws(ctx, err);
    }
    if (rc == EC2HA_OK) {
        rc = describe_address(ctx, &list, err);
    }
    if (rc != EC2HA_OK) {
        goto cleanup;
    }
    describe_placement(&list.items[0], where, sizeof(where));
    if (!is_associated(&list.items[0])) {
        ec2ha_debug("%s is not associated", addr_name(ctx));
        goto cleanup;
    }
    /* Associated somewhere: only now does it matter who we are. */
    rc = ensure_identity(ctx, false, err);
    if (rc != EC2HA_OK) {
        ec2ha_error_prefix(err, "%s is %s, but", addr_name(ctx), where);
        goto cleanup;
    }
    p = placement(ctx, &list.items[0]);
    *here_out = p == EIP_PLACED_HERE;
    if (p == EIP_PLACED_THIS_INSTANCE) {
        ec2ha_notice("%s is %s: on this instance, but not on the configured %s%s%s",
                     addr_name(ctx), where,
                     ctx->target_eni != NULL ? "interface " : "private address ",
                     ctx->target_eni != NULL ? ctx->target_eni : "",
                     ctx->target_eni != NULL ? "" : ctx->cfg.private_ip);
    } else {
        ec2ha_debug("%s is %s (%s)", addr_name(ctx), where, *here_out ? "here" : "elsewhere");
    }
cleanup:
    ec2ha_address_list_free(&list);
    if (rc == EC2HA_OK) {
        refresh_record(ctx);
    }
    return rc;
}

/* ---- start -------------------------------------------------------------- */

/* Poll DescribeAddresses until placement() says `want`, or the deadline. */
static ec2ha_rc wait_for(eip_ctx *ctx, bool want_here, const char *association_id,
                         ec2ha_error *err)
{
    ec2ha_rc rc = EC2HA_OK;
    int64_t delay_ms = EIP_VERIFY_FIRST_MS;
    int64_t started = ec2ha_monotonic_ms();
    unsigned polls = 0;
    char where[512] = "unknown";

    for (;;) {
        ec2ha_address_list list = { 0 };
        bool done = false;

        rc = describe_address(ctx, &list, err);
        if (rc != EC2HA_OK) {
            return rc;
        }
        polls++;
        describe_placement(&list.items[0], where, sizeof(where));
        if (want_here) {
            done = placement(ctx, &list.items[0]) == EIP_PLACED_HERE;
        } else {
            /* our association is gone: unassociated, or someone else's association */
            done = !is_associated(&list.items[0]) ||
                   (association_id != NULL && list.items[0].association_id != NULL &&
                    strcmp(list.items[0].association_id, association_id) != 0) ||
                   placement(ctx, &list.items[0]) == EIP_PLACED_ELSEWHERE;
        }
        ec2ha_address_list_free(&list);
        if (done) {
            ec2ha_info("EC2 shows %s %s after %u DescribeAddresses call%s (%lld ms)",
                       addr_name(ctx), where, polls, polls == 1 ? "" : "s",
                       (long long)(ec2ha_monotonic_ms() - started));
            return EC2HA_OK;
        }
        ec2ha_debug("EC2 still shows %s %s; polling again in %lld ms", addr_name(ctx), where,
                    (long long)delay_ms);
        if (ec2ha_deadline_remaining_ms(ctx->deadline) <= delay_ms ||
            !ec2ha_deadline_sleep_ms(ctx->deadline, delay_ms)) {
            break;
        }
        delay_ms = delay_ms * 2 > EIP_VERIFY_MAX_MS ? EIP_VERIFY_MAX_MS : delay_ms * 2;
    }
    return ec2ha_error_set(err, EC2HA_ERR_TIMEOUT,
                           "%s: EC2 accepted the %s but DescribeAddresses still shows it %s "
                           "after %lld ms (%u calls); the operation timeout ran out",
                           addr_name(ctx), want_here ? "association" : "disassociation", where,
                           (long long)(ec2ha_monotonic_ms() - started), polls);
}

ec2ha_rc eip_action_start(eip_ctx *ctx, ec2ha_error *err)
{
    ec2ha_rc rc = EC2HA_OK;
    ec2ha_address_list list = { 0 };
    ec2ha_associate_params ap;
    char *association_id = NULL;
    char where[512];
    eip_placement p = EIP_PLACED_NOWHERE;

    rc = eip_validate_config(ctx, err);
    if (rc == EC2HA_OK) {
        rc = eip_check_fencing(ctx, err);
    }
    if (rc == EC2HA_OK) {
        rc = ensure_aws(ctx, err);
    }
    if (rc == EC2HA_OK) {
        rc = ensure_identity(ctx, true, err);
    }
    if (rc != EC2HA_OK) {
        goto cleanup;
    }
    eip_record_instance_id(ctx);

    rc = describe_address(ctx, &list, err);
    if (rc != EC2HA_OK) {
        goto cleanup;
    }
    describe_placement(&list.items[0], where, sizeof(where));
    p = placement(ctx, &list.items[0]);
    if (p == EIP_PLACED_HERE) {
        ec2ha_info("%s (%s) is already %s: nothing to do", addr_name(ctx),
                   list.items[0].public_ip != NULL ? list.items[0].public_ip : "?", where);
        goto cleanup;
    }
    if (p == EIP_PLACED_ELSEWHERE) {
        rc = eip_takeover_guard(ctx, &list.items[0], err);
        if (rc != EC2HA_OK) {
            goto cleanup;
        }
    }

    memset(&ap, 0, sizeof(ap));
    ap.allocation_id = list.items[0].allocation_id;
    if (ctx->target_eni != NULL) {
        ap.network_interface_id = ctx->target_eni;
    } else {
        ap.instance_id = ctx->instance_id;
    }
    ap.private_ip = ctx->cfg.private_ip;
    ap.allow_reassociation = true;
    ec2ha_notice("associating %s (%s, %s) with %s %s%s%s", addr_name(ctx),
                 list.items[0].public_ip != NULL ? list.items[0].public_ip : "?", where,
                 ctx->target_eni != NULL ? "interface" : "instance",
                 ctx->target_eni != NULL ? ctx->target_eni : ctx->instance_id,
                 ctx->cfg.private_ip != NULL ? ", private address " : "",
                 ctx->cfg.private_ip != NULL ? ctx->cfg.private_ip : "");
    rc = ec2ha_ec2_associate_address(ctx->ec2, &ap, ctx->deadline, &association_id, err);
    if (rc != EC2HA_OK) {
        ec2ha_error_prefix(err, "AssociateAddress %s with %s", addr_name(ctx),
                           ctx->target_eni != NULL ? ctx->target_eni : ctx->instance_id);
        goto cleanup;
    }
    ec2ha_info("AssociateAddress returned %s; waiting until DescribeAddresses shows it",
               association_id != NULL ? association_id : "(no association id)");
    rc = wait_for(ctx, true, NULL, err);
    if (rc == EC2HA_OK) {
        ec2ha_notice("%s is now associated with this node (%s)", addr_name(ctx),
                     ctx->instance_id);
    }
cleanup:
    free(association_id);
    ec2ha_address_list_free(&list);
    return rc;
}

/* ---- stop --------------------------------------------------------------- */

ec2ha_rc eip_action_stop(eip_ctx *ctx, ec2ha_error *err)
{
    ec2ha_rc rc = EC2HA_OK;
    ec2ha_address_list list = { 0 };
    ec2ha_error derr;
    char where[512];
    char *association_id = NULL;

    rc = eip_validate_config(ctx, err);
    if (rc == EC2HA_OK) {
        rc = ensure_aws(ctx, err);
    }
    if (rc == EC2HA_OK) {
        rc = describe_address(ctx, &list, err);
        if (rc == EC2HA_ERR_AWS && err != NULL &&
            (strcmp(err->code, "InvalidAllocationID.NotFound") == 0 ||
             strcmp(err->code, "InvalidAddress.NotFound") == 0)) {
            /* An address that does not exist is associated nowhere: a failed stop
             * would get this node fenced for a configuration mistake. */
            ec2ha_warn("%s; it cannot be associated here, so stop succeeds", err->message);
            ec2ha_error_clear(err);
            rc = EC2HA_OK;
            goto cleanup;
        }
    }
    if (rc != EC2HA_OK) {
        goto cleanup;
    }
    describe_placement(&list.items[0], where, sizeof(where));
    if (!is_associated(&list.items[0])) {
        ec2ha_info("%s is not associated: nothing to stop", addr_name(ctx));
        goto cleanup;
    }
    rc = ensure_identity(ctx, false, err);
    if (rc != EC2HA_OK) {
        ec2ha_error_prefix(err, "%s is %s, but", addr_name(ctx), where);
        goto cleanup;
    }
    if (list.items[0].instance_id == NULL ||
        strcmp(list.items[0].instance_id, ctx->instance_id) != 0) {
        ec2ha_info("%s is %s, not this instance (%s): leaving that association alone",
                   addr_name(ctx), where, ctx->instance_id);
        goto cleanup;
    }
    if (list.items[0].association_id == NULL) {
        rc = ec2ha_error_set(err, EC2HA_ERR_STATE,
                             "%s is %s but DescribeAddresses gave no association id to "
                             "disassociate", addr_name(ctx), where);
        goto cleanup;
    }
    association_id = strdup(list.items[0].association_id);
    if (association_id == NULL) {
        rc = ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory");
        goto cleanup;
    }
    ec2ha_notice("disassociating %s (%s) from this instance (%s)", addr_name(ctx),
                 association_id, where);
    ec2ha_error_clear(&derr);
    rc = ec2ha_ec2_disassociate_address(ctx->ec2, association_id, false, ctx->deadline, &derr);
    if (rc == EC2HA_ERR_AWS && strcmp(derr.code, "InvalidAssociationID.NotFound") == 0) {
        /* Gone already (or moved by someone else): the poll below tells which. */
        ec2ha_info("association %s no longer exists", association_id);
        rc = EC2HA_OK;
    } else if (rc != EC2HA_OK) {
        if (err != NULL) {
            *err = derr;
        }
        ec2ha_error_prefix(err, "DisassociateAddress %s (%s)", addr_name(ctx), association_id);
        goto cleanup;
    }
    rc = wait_for(ctx, false, association_id, err);
    if (rc == EC2HA_OK) {
        ec2ha_notice("%s is no longer associated with this node", addr_name(ctx));
    }
cleanup:
    free(association_id);
    ec2ha_address_list_free(&list);
    return rc;
}
