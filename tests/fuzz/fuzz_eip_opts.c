/*
 * libFuzzer harness: the eip agent's real option table (agents/eip/options.c)
 * through every parser that reads outside text - above all the LSB settings
 * file (/etc/sysconfig/eip, KEY=value with shell quoting), plus the key=value
 * and command-line parsers - then eip_config_from_values(), which validates
 * the parameters (allocation id, address, ENI, interface ...).
 * Linked with agents/eip/options.c (see tests/fuzz/run).
 */
#include <stdint.h>
#include <string.h>

#include "eip.h"
#include "opts_driver.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void load_config(const ec2ha_opt_values *v)
{
    eip_config cfg;
    ec2ha_error err;

    memset(&cfg, 0, sizeof(cfg));
    ec2ha_error_clear(&err);
    (void)eip_config_from_values(v, &cfg, &err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_opts_one_input(eip_options, eip_n_options, data, size, load_config);
}
