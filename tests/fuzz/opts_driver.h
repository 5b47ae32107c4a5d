/*
 * opts_driver.h - shared body of the option-parser harnesses (fuzz_opts with a
 * synthetic table, fuzz_fence_opts / fuzz_eip_opts with the agents' real
 * tables).  One input drives every parser that reads outside text:
 *   1. fence-agents stdin key=value lines (ec2ha_opts_parse_text)
 *   2. the LSB settings file, KEY=value with shell quoting
 *      (ec2ha_opts_parse_kv_file, through a memfd)
 *   3. the same bytes split at newlines as a command line (getopt_long)
 * then reads every option back through the typed getters, logs the effective
 * values and hands them to the program's own settings loader (the after()
 * callback: fence_settings_load, eip_config_from_values), which validates
 * and splits values further (plug lists, filters, timeouts).  The log runs at
 * trace level into /dev/null, so the warning paths (which quote keys from the
 * input) and redaction run too.
 */
#ifndef EC2HA_FUZZ_OPTS_DRIVER_H
#define EC2HA_FUZZ_OPTS_DRIVER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ec2ha/log.h"
#include "ec2ha/opts.h"

#define FUZZ_MAX_ARGS 64

typedef void (*fuzz_opts_after_fn)(const ec2ha_opt_values *v);

static fuzz_opts_after_fn fuzz_opts_after;

static void fuzz_opts_read_back(const ec2ha_opt_values *v)
{
    ec2ha_error err;
    size_t i;

    for (i = 0; i < v->n; i++) {
        const ec2ha_option *o = &v->table[i];
        bool b;
        long l;
        double d;

        ec2ha_error_clear(&err);
        (void)ec2ha_opts_get(v, o->name);
        (void)ec2ha_opts_is_set(v, o->name);
        (void)ec2ha_opts_count(v, o->name);
        switch (o->type) {
        case EC2HA_OPT_BOOL:
            (void)ec2ha_opts_get_bool(v, o->name, &b, &err);
            break;
        case EC2HA_OPT_INT:
            (void)ec2ha_opts_get_long(v, o->name, -100000, 100000, &l, &err);
            break;
        case EC2HA_OPT_SECONDS:
            (void)ec2ha_opts_get_seconds(v, o->name, 86400.0, &d, &err);
            break;
        default:
            break;
        }
    }
    (void)ec2ha_opts_check_required(v, &err);
    ec2ha_opts_log_effective(v);
    if (fuzz_opts_after != NULL) {
        fuzz_opts_after(v);
    }
}

static void fuzz_opts_parse_argv(const ec2ha_option *table, size_t n, const uint8_t *data,
                                 size_t size)
{
    ec2ha_opt_values v;
    ec2ha_error err;
    char *copy = NULL;
    char *argv[FUZZ_MAX_ARGS + 2];
    int argc = 0;
    int next = 0;
    char *p;
    char *end;

    copy = malloc(size + 1);
    if (copy == NULL) {
        return;
    }
    memcpy(copy, data, size);
    copy[size] = '\0';
    argv[argc++] = (char *)"fuzz";
    p = copy;
    end = copy + strlen(copy);   /* an embedded NUL ends the command line */
    while (p < end && argc < FUZZ_MAX_ARGS) {
        char *nl = strchr(p, '\n');

        if (nl != NULL) {
            *nl = '\0';
        }
        argv[argc++] = p;
        if (nl == NULL) {
            break;
        }
        p = nl + 1;
    }
    argv[argc] = NULL;
    ec2ha_error_clear(&err);
    if (ec2ha_opts_init(&v, table, n, &err) == EC2HA_OK) {
        if (ec2ha_opts_parse_argv(&v, argc, argv, &next, &err) == EC2HA_OK) {
            fuzz_opts_read_back(&v);
        }
        ec2ha_opts_free(&v);
    }
    free(copy);
}

static void fuzz_opts_parse_lsb(const ec2ha_option *table, size_t n, const uint8_t *data,
                                size_t size)
{
    ec2ha_opt_values v;
    ec2ha_error err;
    char path[64];
    int fd;

    fd = memfd_create("lsb", MFD_CLOEXEC);
    if (fd < 0) {
        return;
    }
    ec2ha_error_clear(&err);
    if ((size == 0 || write(fd, data, size) == (ssize_t)size)
        && ec2ha_opts_init(&v, table, n, &err) == EC2HA_OK) {
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        if (ec2ha_opts_parse_kv_file(&v, path, &err) == EC2HA_OK) {
            fuzz_opts_read_back(&v);
        }
        ec2ha_opts_free(&v);
    }
    close(fd);
}

static int fuzz_opts_one_input(const ec2ha_option *table, size_t n, const uint8_t *data,
                               size_t size, fuzz_opts_after_fn after)
{
    static bool log_ready;
    ec2ha_opt_values v;
    ec2ha_error err;

    fuzz_opts_after = after;
    if (!log_ready) {
        ec2ha_log_init("fuzz", EC2HA_LOG_TRACE, EC2HA_LOG_TO_FILE, "/dev/null");
        log_ready = true;
    }
    ec2ha_error_clear(&err);
    if (ec2ha_opts_init(&v, table, n, &err) != EC2HA_OK) {
        /* A table the library rejects would make this harness test nothing. */
        fprintf(stderr, "option table rejected: %s\n", err.message);
        abort();
    }
    {
        if (ec2ha_opts_parse_text(&v, (const char *)data, size, EC2HA_ORIGIN_STDIN, &err)
            == EC2HA_OK) {
            fuzz_opts_read_back(&v);
        }
        ec2ha_opts_free(&v);
    }
    fuzz_opts_parse_lsb(table, n, data, size);
    fuzz_opts_parse_argv(table, n, data, size);
    return 0;
}

#endif
