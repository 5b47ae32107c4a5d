/*
 * libFuzzer harness: every EC2 response parser (DescribeInstances with its
 * pagination token, DescribeAddresses, Stop/StartInstances, AssociateAddress,
 * <return> answers and the error body) on the same input, then a walk over
 * whatever was parsed, as the agents read it.  DescribeInstances is also fed
 * to the streaming parser in pieces whose sizes come from the input itself:
 * it must give exactly what the whole document gives (rc, instances, token).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ec2_private.h"
#include "ec2ha/ec2.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same_str(const char *a, const char *b)
{
    if ((a == NULL) != (b == NULL) || (a != NULL && strcmp(a, b) != 0)) {
        abort();
    }
}

static void same_list(const ec2ha_instance_list *a, const ec2ha_instance_list *b)
{
    if (a->count != b->count) {
        abort();
    }
    for (size_t i = 0; i < a->count; i++) {
        const ec2ha_instance *x = &a->items[i];
        const ec2ha_instance *y = &b->items[i];

        same_str(x->instance_id, y->instance_id);
        same_str(x->state_name, y->state_name);
        same_str(x->private_ip, y->private_ip);
        same_str(x->private_dns, y->private_dns);
        same_str(x->public_ip, y->public_ip);
        same_str(x->availability_zone, y->availability_zone);
        if (x->state != y->state || x->state_code != y->state_code || x->n_tags != y->n_tags ||
            x->n_interfaces != y->n_interfaces) {
            abort();
        }
        for (size_t j = 0; j < x->n_tags; j++) {
            same_str(x->tags[j].key, y->tags[j].key);
            same_str(x->tags[j].value, y->tags[j].value);
        }
        for (size_t j = 0; j < x->n_interfaces; j++) {
            same_str(x->interfaces[j].interface_id, y->interfaces[j].interface_id);
            same_str(x->interfaces[j].mac_address, y->interfaces[j].mac_address);
            same_str(x->interfaces[j].private_ip, y->interfaces[j].private_ip);
            same_str(x->interfaces[j].public_ip, y->interfaces[j].public_ip);
            if (x->interfaces[j].device_index != y->interfaces[j].device_index) {
                abort();
            }
        }
    }
}

/* The streaming parser, fed in pieces of 1..64 bytes chosen by the input's own bytes. */
static void streamed(const char *xml, size_t size, ec2ha_rc whole_rc,
                     const ec2ha_instance_list *whole, const char *whole_token)
{
    ec2_instances_parser *p = NULL;
    ec2ha_instance_list list = {0};
    char *token = NULL;
    ec2ha_error err;
    ec2ha_rc rc = EC2HA_OK;
    size_t off = 0;

    if (size == 0 || ec2_instances_parser_new(&p, &err) != EC2HA_OK) {
        return;
    }
    if (ec2_instances_parser_reset(p, 200, &err) == EC2HA_OK) {
        while (off < size && rc == EC2HA_OK) {
            size_t n = 1 + (unsigned char)xml[off] % 64;

            if (n > size - off) {
                n = size - off;
            }
            rc = ec2_instances_parser_feed(p, xml + off, n, &err);
            off += n;
        }
        if (rc == EC2HA_OK) {
            rc = ec2_instances_parser_finish(p, &list, &token, &err);
        }
        /* out of memory is the one outcome that may differ between the two runs */
        if (rc != whole_rc && rc != EC2HA_ERR_NOMEM && whole_rc != EC2HA_ERR_NOMEM) {
            abort();
        }
        if (rc == EC2HA_OK && whole_rc == EC2HA_OK) {
            same_list(whole, &list);
            same_str(whole_token, token);
        }
    }
    ec2ha_instance_list_free(&list);
    free(token);
    ec2_instances_parser_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *xml = (const char *)data;
    ec2ha_error err;
    ec2ha_instance_list instances = {0};
    ec2ha_address_list addresses = {0};
    ec2ha_state_change change = {0};
    char *next_token = NULL;
    char *association_id = NULL;
    ec2ha_rc rc;

    ec2ha_error_clear(&err);
    (void)ec2ha_ec2_parse_error(xml, size, 400, &err);
    rc = ec2ha_ec2_parse_describe_instances(xml, size, &instances, &next_token, &err);
    streamed(xml, size, rc, &instances, next_token);
    (void)ec2ha_ec2_parse_describe_addresses(xml, size, &addresses, &err);
    (void)ec2ha_ec2_parse_state_change(xml, size, &change, &err);
    (void)ec2ha_ec2_parse_associate_address(xml, size, &association_id, &err);
    (void)ec2ha_ec2_parse_return(xml, size, &err);

    for (size_t i = 0; i < instances.count; i++) {
        const ec2ha_instance *inst = &instances.items[i];

        (void)ec2ha_instance_tag(inst, "Name");
        (void)ec2ha_instance_state_str(inst->state);
        for (size_t j = 0; j < inst->n_interfaces; j++) {
            (void)inst->interfaces[j].device_index;
        }
    }
    (void)ec2ha_instance_state_str(change.current);
    (void)ec2ha_instance_state_str(change.previous);
    ec2ha_instance_list_free(&instances);
    ec2ha_address_list_free(&addresses);
    ec2ha_state_change_free(&change);
    free(next_token);
    free(association_id);
    return 0;
}
