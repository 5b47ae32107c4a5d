/* libFuzzer harness: the AWS shared config/credentials file parser. */
#include <stdint.h>
#include <stdlib.h>

#include "ec2ha/ini.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ec2ha_ini *ini = NULL;
    ec2ha_error err;

    ec2ha_error_clear(&err);
    if (ec2ha_ini_parse((const char *)data, size, &ini, &err) == EC2HA_OK) {
        (void)ec2ha_ini_get(ini, "default", "region");
        (void)ec2ha_ini_get(ini, "profile prod", "aws_access_key_id");
        (void)ec2ha_ini_get(ini, "default", "s3.max_concurrent_requests");
        (void)ec2ha_ini_has_section(ini, "profile x");
    }
    ec2ha_ini_free(ini);
    return 0;
}
