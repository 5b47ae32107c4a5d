/*
 * libFuzzer harness: every EC2 response parser (DescribeInstances with its
 * pagination token, DescribeAddresses, Stop/StartInstances, AssociateAddress,
 * <return> answers and the error body) on the same input, then a walk over
 * whatever was parsed, as the agents read it.
 */
#include <stdint.h>
#include <stdlib.h>

#include "ec2ha/ec2.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *xml = (const char *)data;
    ec2ha_error err;
    ec2ha_instance_list instances = {0};
    ec2ha_address_list addresses = {0};
    ec2ha_state_change change = {0};
    char *next_token = NULL;
    char *association_id = NULL;

    ec2ha_error_clear(&err);
    (void)ec2ha_ec2_parse_error(xml, size, 400, &err);
    (void)ec2ha_ec2_parse_describe_instances(xml, size, &instances, &next_token, &err);
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
