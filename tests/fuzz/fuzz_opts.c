/*
 * libFuzzer harness: the option parsers (stdin key=value, LSB settings file,
 * getopt command line) on a synthetic table that has every option type and
 * flag.  fuzz_fence_opts and fuzz_eip_opts run the same driver on the agents'
 * real tables.
 */
#include <stdint.h>
#include <stdlib.h>

#include "opts_driver.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const identity_choices[] = {"auto", "instance-id", "tag", "cib", NULL};

static const ec2ha_option table[] = {
    {.name = "action", .short_opt = 'o', .type = EC2HA_OPT_STRING, .default_value = "reboot",
     .shortdesc = "action"},
    {.name = "plug", .short_opt = 'n', .type = EC2HA_OPT_STRING, .shortdesc = "target"},
    {.name = "port", .alias_of = "plug", .type = EC2HA_OPT_STRING,
     .flags = EC2HA_OPT_DEPRECATED},
    {.name = "access_key", .short_opt = 'a', .type = EC2HA_OPT_STRING, .shortdesc = "key id"},
    {.name = "secret_key", .short_opt = 's', .type = EC2HA_OPT_STRING,
     .flags = EC2HA_OPT_SECRET, .shortdesc = "secret"},
    {.name = "region", .short_opt = 'r', .type = EC2HA_OPT_STRING,
     .flags = EC2HA_OPT_REQUIRED, .shortdesc = "region"},
    {.name = "skip_race_check", .type = EC2HA_OPT_BOOL, .default_value = "false",
     .shortdesc = "skip the race check"},
    {.name = "require_fencing", .type = EC2HA_OPT_BOOL, .default_value = "true",
     .shortdesc = "require fencing"},
    {.name = "verbose", .short_opt = 'v', .type = EC2HA_OPT_BOOL,
     .flags = EC2HA_OPT_REPEATABLE, .shortdesc = "more output"},
    {.name = "help", .short_opt = 'h', .type = EC2HA_OPT_BOOL, .flags = EC2HA_OPT_NO_STDIN,
     .shortdesc = "help"},
    {.name = "power_timeout", .type = EC2HA_OPT_SECONDS, .default_value = "120",
     .shortdesc = "seconds"},
    {.name = "delay", .type = EC2HA_OPT_INT, .default_value = "0", .shortdesc = "delay"},
    {.name = "api_delay", .type = EC2HA_OPT_INT, .flags = EC2HA_OPT_IGNORED | EC2HA_OPT_HIDDEN,
     .shortdesc = "ignored"},
    {.name = "identity", .type = EC2HA_OPT_SELECT, .default_value = "auto",
     .choices = identity_choices, .shortdesc = "how to find this node"},
    {.name = "allocation_id", .long_opt = "allocation-id", .type = EC2HA_OPT_STRING,
     .flags = EC2HA_OPT_UNIQUE, .shortdesc = "allocation id"},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_opts_one_input(table, sizeof(table) / sizeof(table[0]), data, size, NULL);
}
