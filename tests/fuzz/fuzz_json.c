/* libFuzzer harness: the JSON reader, IMDS role credentials and credential_process output. */
#include <stdint.h>
#include <stdlib.h>

#include "ec2ha/buf.h"
#include "ec2ha/creds.h"
#include "ec2ha/imds.h"
#include "ec2ha/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *json = (const char *)data;
    ec2ha_error err;
    ec2ha_imds_role_credentials role = {0};
    ec2ha_aws_config cfg = {0};
    char *s = NULL;
    long n = 0;

    ec2ha_error_clear(&err);
    (void)ec2ha_json_validate_object(json, size, &err);
    if (ec2ha_json_get_string(json, size, "AccessKeyId", &s, &err) == EC2HA_OK) {
        ec2ha_free_secret(s);
    }
    (void)ec2ha_json_get_long(json, size, "Version", &n, &err);
    (void)ec2ha_imds_parse_role_credentials(json, size, &role, &err);
    ec2ha_imds_role_credentials_free(&role);
    (void)ec2ha_creds_parse_process_output(json, size, &cfg, &err);
    ec2ha_aws_config_free(&cfg);
    return 0;
}
