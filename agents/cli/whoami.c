/*
 * whoami.c - `ec2ha whoami`: this instance, its interfaces, where the
 * credentials, region and endpoint came from, and this node in the cluster.
 * No EC2 call: only the instance metadata, the credential chain and the CIB.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

ec2ha_rc cli_cmd_whoami(cli_ctx *ctx, int argc, char **argv, cli_out *out, ec2ha_error *err)
{
    ec2ha_rc rc = EC2HA_OK;
    ec2ha_error ierr;
    ec2ha_error aerr;
    ec2ha_imds_interface *ifs = NULL;
    size_t n_ifs = 0;
    bool have_ifs = false;
    const char *self = NULL;
    const char *node = NULL;
    char *registered = NULL;
    bool aws_ok = false;

    ec2ha_error_clear(&ierr);
    ec2ha_error_clear(&aerr);
    self = cli_self(ctx, &ierr);
    if (self != NULL &&
        ec2ha_imds_get_interfaces(ctx->imds, ctx->deadline, &ifs, &n_ifs, &ierr) == EC2HA_OK) {
        have_ifs = true;
    }
    aws_ok = cli_aws(ctx, &aerr) == EC2HA_OK;
    node = cli_node_name(ctx);
    if (node != NULL && cli_cib(ctx)) {
        (void)ec2ha_cluster_get_node_attribute(ctx->cib, node, EC2HA_ATTR_INSTANCE_ID,
                                               &registered, NULL);
    }

    if (ctx->json) {
        cli_json_begin_object(out, NULL);
        cli_json_bool(out, "ok", self != NULL && aws_ok);
        cli_json_string(out, "instance_id", self);
        if (self == NULL) {
            cli_json_string(out, "instance_error", ierr.message);
        }
        cli_json_begin_array(out, "interfaces");
        for (size_t i = 0; have_ifs && i < n_ifs; i++) {
            cli_json_begin_object(out, NULL);
            cli_json_string(out, "interface_id", ifs[i].interface_id);
            cli_json_string(out, "mac", ifs[i].mac);
            cli_json_int(out, "device_number", ifs[i].device_number);
            cli_json_begin_array(out, "private_ips");
            for (size_t j = 0; j < ifs[i].n_private_ips; j++) {
                cli_json_string(out, NULL, ifs[i].private_ips[j]);
            }
            cli_json_end_array(out);
            cli_json_end_object(out);
        }
        cli_json_end_array(out);
        cli_json_begin_object(out, "credentials");
        if (aws_ok) {
            cli_json_string(out, "source", ec2ha_source_str(ctx->aws.credentials_source));
            cli_json_string(out, "detail", ctx->aws.credentials_detail);
            cli_json_string(out, "access_key_id", ctx->aws.access_key_id);
            cli_json_bool(out, "temporary", ctx->aws.session_token != NULL);
            cli_json_string(out, "expiration", ctx->aws.expiration);
            cli_json_string(out, "profile", ctx->aws.profile);
        } else {
            cli_json_null(out, "source");
            cli_json_string(out, "error", aerr.message);
        }
        cli_json_end_object(out);
        cli_json_string(out, "region", aws_ok ? ctx->aws.region : NULL);
        cli_json_string(out, "region_source",
                        aws_ok ? ec2ha_source_str(ctx->aws.region_source) : NULL);
        cli_json_string(out, "endpoint", aws_ok ? ctx->aws.endpoint : NULL);
        cli_json_string(out, "endpoint_source",
                        aws_ok ? ec2ha_source_str(ctx->aws.endpoint_source) : NULL);
        cli_json_begin_object(out, "cluster");
        cli_json_string(out, "node", node);
        cli_json_bool(out, "cib_reachable", ctx->cib != NULL);
        if (ctx->cib == NULL) {
            cli_json_string(out, "cib_error", ctx->cib_err.message);
        }
        cli_json_string(out, "ec2_instance_id", registered);
        cli_json_bool(out, "registered", registered != NULL && self != NULL &&
                                             strcmp(registered, self) == 0);
        cli_json_end_object(out);
        cli_json_end_object(out);
        rc = cli_json_print(out);
    } else {
        printf("%-13s %s\n", "instance", self != NULL ? self : ierr.message);
        for (size_t i = 0; have_ifs && i < n_ifs; i++) {
            printf("%-13s %s (device %d, mac %s)", i == 0 ? "interfaces" : "",
                   cli_dash(ifs[i].interface_id), ifs[i].device_number, cli_dash(ifs[i].mac));
            for (size_t j = 0; j < ifs[i].n_private_ips; j++) {
                printf("%s%s", j == 0 ? " " : ", ", ifs[i].private_ips[j]);
            }
            printf("\n");
        }
        if (aws_ok) {
            printf("%-13s %s%s%s%s\n", "credentials",
                   ec2ha_source_str(ctx->aws.credentials_source),
                   ctx->aws.credentials_detail != NULL ? ": " : "",
                   ctx->aws.credentials_detail != NULL ? ctx->aws.credentials_detail : "",
                   ctx->aws.session_token != NULL ? " (temporary)" : "");
            printf("%-13s %s\n", "access key", cli_dash(ctx->aws.access_key_id));
            printf("%-13s %s (%s)\n", "region", cli_dash(ctx->aws.region),
                   ec2ha_source_str(ctx->aws.region_source));
            printf("%-13s %s (%s)\n", "endpoint", cli_dash(ctx->aws.endpoint),
                   ec2ha_source_str(ctx->aws.endpoint_source));
        } else {
            printf("%-13s none: %s\n", "credentials", aerr.message);
        }
        if (ctx->cib != NULL) {
            printf("%-13s %s, %s=%s%s\n", "node", cli_dash(node), EC2HA_ATTR_INSTANCE_ID,
                   registered != NULL ? registered : "(not registered: run 'ec2ha register')",
                   registered != NULL && self != NULL && strcmp(registered, self) != 0
                       ? " (differs from this instance: run 'ec2ha register')" : "");
        } else {
            printf("%-13s %s (CIB not reachable: %s)\n", "node", cli_dash(node),
                   ctx->cib_err.message);
        }
    }

    if (rc == EC2HA_OK && self == NULL) {
        *err = ierr;
        rc = ierr.rc != EC2HA_OK ? ierr.rc : EC2HA_ERR_UNAVAILABLE;
    } else if (rc == EC2HA_OK && !aws_ok) {
        *err = aerr;
        rc = aerr.rc != EC2HA_OK ? aerr.rc : EC2HA_ERR_NO_CREDENTIALS;
    }
    free(registered);
    ec2ha_imds_interfaces_free(ifs, n_ifs);
    return rc;
}
