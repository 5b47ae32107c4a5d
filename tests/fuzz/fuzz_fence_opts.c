/*
 * libFuzzer harness: fence_ec2's real option table (fence/options.c) through
 * every parser that reads outside text - Pacemaker's key=value lines on stdin,
 * the command line, and (for completeness) the settings-file syntax - then
 * fence_settings_load(), which validates the values and splits plug lists and
 * filters, and fence_filter_parse() on the raw input.
 * Linked with fence/options.c and fence/target.c (see tests/fuzz/run).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fence.h"
#include "opts_driver.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void load_settings(const ec2ha_opt_values *v)
{
    fence_settings s;
    ec2ha_error err;

    memset(&s, 0, sizeof(s));
    ec2ha_error_clear(&err);
    (void)fence_settings_load(v, &s, &err);
    fence_settings_free(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fence_filter_set f;
    ec2ha_error err;
    char *text = malloc(size + 1);

    if (text != NULL) {
        memcpy(text, data, size);
        text[size] = '\0';
        memset(&f, 0, sizeof(f));
        ec2ha_error_clear(&err);
        (void)fence_filter_parse(text, &f, &err);
        fence_filter_free(&f);
        free(text);
    }
    return fuzz_opts_one_input(fence_options, fence_n_options, data, size, load_settings);
}
