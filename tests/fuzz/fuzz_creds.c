/*
 * libFuzzer harness: the credential chain over the AWS shared files - profile
 * lookup in both files (botocore's "[profile name]" rules with shell-style
 * quoting), keys, session tokens, region, endpoint_url and ca_bundle from a
 * profile, and the endpoint URL check.
 *
 * Input: first line = profile name (empty: the default profile), then the
 * credentials file, "\n--\n", then the config file.  Both are written 0600 in
 * a directory under $TMPDIR that AWS_SHARED_CREDENTIALS_FILE / AWS_CONFIG_FILE
 * point at.  No IMDS handle, so nothing goes to the network.  Every "process"
 * in the input is defused (credential_process would run a shell command from
 * the fuzzer): that path is fuzzed through ec2ha_creds_parse_process_output
 * in fuzz_json instead.
 */
#include <ctype.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "ec2ha/creds.h"
#include "ec2ha/log.h"
#include "ec2ha/retry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SEP "\n--\n"

static char dir[4096];
static char cred_path[4200];
static char config_path[4200];

static void remove_dir(void)
{
    unlink(cred_path);
    unlink(config_path);
    rmdir(dir);
}

static bool setup(void)
{
    static bool ready;
    static const char *const unset[] = {
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_EC2", "AWS_CA_BUNDLE", "AWS_EC2_METADATA_SERVICE_ENDPOINT",
        NULL
    };
    const char *tmp = getenv("TMPDIR");

    if (ready) {
        return true;
    }
    snprintf(dir, sizeof(dir), "%s/ec2ha-fuzz-creds-XXXXXX",
             tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
    if (mkdtemp(dir) == NULL) {
        return false;
    }
    snprintf(cred_path, sizeof(cred_path), "%s/credentials", dir);
    snprintf(config_path, sizeof(config_path), "%s/config", dir);
    atexit(remove_dir);
    for (size_t i = 0; unset[i] != NULL; i++) {
        unsetenv(unset[i]);
    }
    setenv("HOME", dir, 1);
    setenv("AWS_SHARED_CREDENTIALS_FILE", cred_path, 1);
    setenv("AWS_CONFIG_FILE", config_path, 1);
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    ec2ha_log_init("fuzz", EC2HA_LOG_TRACE, EC2HA_LOG_TO_FILE, "/dev/null");
    ready = true;
    return true;
}

static void write_file(const char *path, const char *text, size_t len)
{
    int fd;

    unlink(path);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        return;
    }
    if (len > 0 && write(fd, text, len) != (ssize_t)len) {
        /* a short file is just another input */
    }
    close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = NULL;
    char *profile;
    char *files;
    char *sep;
    char *nl;
    ec2ha_creds_options opts;
    ec2ha_aws_config cfg;
    ec2ha_error err;

    if (!setup()) {
        return 0;
    }
    copy = malloc(size + 1);
    if (copy == NULL) {
        return 0;
    }
    memcpy(copy, data, size);
    copy[size] = '\0';
    for (char *p = copy; (p = strcasestr(p, "process")) != NULL; p++) {
        p[2] = '0';   /* "pr0cess": never a credential_process key */
    }
    profile = copy;
    nl = memchr(copy, '\n', size);
    files = nl != NULL ? nl + 1 : copy + size;
    if (nl != NULL) {
        *nl = '\0';
    }
    sep = memmem(files, (size_t)(copy + size - files), SEP, strlen(SEP));
    if (sep != NULL) {
        write_file(cred_path, files, (size_t)(sep - files));
        write_file(config_path, sep + strlen(SEP), (size_t)(copy + size - sep - strlen(SEP)));
    } else {
        write_file(cred_path, files, (size_t)(copy + size - files));
        unlink(config_path);
    }

    memset(&opts, 0, sizeof(opts));
    opts.profile = nl != NULL && profile[0] != '\0' ? profile : NULL;
    opts.need_credentials = true;
    memset(&cfg, 0, sizeof(cfg));
    ec2ha_error_clear(&err);
    if (ec2ha_aws_config_resolve(&opts, ec2ha_deadline_in_ms(1000), &cfg, &err) == EC2HA_OK) {
        (void)ec2ha_source_str(cfg.credentials_source);
        (void)ec2ha_source_str(cfg.region_source);
    }
    ec2ha_aws_config_free(&cfg);

    /* Region and endpoint only, as `ec2ha whoami` does without keys. */
    opts.need_credentials = false;
    memset(&cfg, 0, sizeof(cfg));
    (void)ec2ha_aws_config_resolve(&opts, ec2ha_deadline_in_ms(1000), &cfg, &err);
    ec2ha_aws_config_free(&cfg);

    ec2ha_log_close();
    ec2ha_log_init("fuzz", EC2HA_LOG_TRACE, EC2HA_LOG_TO_FILE, "/dev/null");
    free(copy);
    return 0;
}
