/* libFuzzer harness: every EC2 response parser on the same input. */
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
    ec2ha_instance_list_free(&instances);
    ec2ha_address_list_free(&addresses);
    ec2ha_state_change_free(&change);
    free(next_token);
    free(association_id);
    return 0;
}
