/*
 * libFuzzer harness: the option parsers that read outside input — fence-agents
 * stdin key=value lines and the LSB settings file (KEY=value), on a table with
 * every option type.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ec2ha/log.h"
#include "ec2ha/opts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const identity_choices[] = {"auto", "instance-id", "tag", "cib", NULL};

static const ec2ha_option table[] = {
    {.name = "action", .short_opt = 'o', .type = EC2HA_OPT_STRING, .default_value = "reboot"},
    {.name = "plug", .short_opt = 'n', .type = EC2HA_OPT_STRING},
    {.name = "port", .alias_of = "plug", .type = EC2HA_OPT_STRING},
    {.name = "secret_key", .short_opt = 's', .type = EC2HA_OPT_STRING, .flags = EC2HA_OPT_SECRET},
    {.name = "skip_race_check", .type = EC2HA_OPT_BOOL, .default_value = "false"},
    {.name = "verbose", .short_opt = 'v', .type = EC2HA_OPT_BOOL, .flags = EC2HA_OPT_REPEATABLE},
    {.name = "power_timeout", .type = EC2HA_OPT_SECONDS, .default_value = "120"},
    {.name = "delay", .type = EC2HA_OPT_INT, .default_value = "0"},
    {.name = "identity", .type = EC2HA_OPT_SELECT, .default_value = "auto",
     .choices = identity_choices},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ec2ha_opt_values v;
    ec2ha_error err;
    char path[64];
    bool b;
    long l;
    double d;
    int fd;

    ec2ha_log_init("fuzz", EC2HA_LOG_ERR, 0, NULL);
    ec2ha_error_clear(&err);
    if (ec2ha_opts_init(&v, table, sizeof(table) / sizeof(table[0]), &err) != EC2HA_OK) {
        return 0;
    }
    (void)ec2ha_opts_parse_text(&v, (const char *)data, size, EC2HA_ORIGIN_STDIN, &err);
    (void)ec2ha_opts_get_bool(&v, "skip_race_check", &b, &err);
    (void)ec2ha_opts_get_long(&v, "delay", 0, 3600, &l, &err);
    (void)ec2ha_opts_get_seconds(&v, "power_timeout", 86400.0, &d, &err);
    ec2ha_opts_free(&v);

    fd = memfd_create("lsb", 0);
    if (fd >= 0) {
        if (write(fd, data, size) == (ssize_t)size &&
            ec2ha_opts_init(&v, table, sizeof(table) / sizeof(table[0]), &err) == EC2HA_OK) {
            snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
            (void)ec2ha_opts_parse_kv_file(&v, path, &err);
            ec2ha_opts_free(&v);
        }
        close(fd);
    }
    return 0;
}
