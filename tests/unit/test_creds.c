/*
 * test_creds.c - the credential chain, region / endpoint / CA bundle
 * resolution and credential_process, with a temporary HOME and a scrubbed
 * environment.  Fixtures: tests/data/creds/ (profile expectations there were
 * checked against botocore).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "creds_private.h"
#include "ec2ha/creds.h"
#include "ec2ha/imds.h"
#include "ec2ha/log.h"
#include "ec2ha/retry.h"
#include "testdata.h"

static char home[128];
static char data[256];

static const char *const scrubbed[] = {
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
    "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE",
    "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_EC2",
    "AWS_CA_BUNDLE", "AWS_EC2_METADATA_DISABLED", "AWS_EC2_METADATA_SERVICE_ENDPOINT",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "HA_RSCTMP",
};

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(chmod(path, mode), 0);
}

static void rm_rf(const char *path)
{
    char cmd[512];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
    assert_int_equal(system(cmd), 0);
}

static int setup(void **state)
{
    const char *td = getenv("EC2HA_TEST_DATA");

    (void)state;
    snprintf(data, sizeof(data), "%s/creds", td != NULL ? td : "tests/data");
    snprintf(home, sizeof(home), "/tmp/ec2ha-creds-XXXXXX");
    if (mkdtemp(home) == NULL) {
        return -1;
    }
    for (size_t i = 0; i < sizeof(scrubbed) / sizeof(scrubbed[0]); i++) {
        unsetenv(scrubbed[i]);
    }
    setenv("HOME", home, 1);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    rm_rf(home);
    return 0;
}

/* Point the two files at copies of the fixtures (0600, so no permission warning). */
static void use_fixtures(void)
{
    char cmd[2048];
    char p[600];

    snprintf(cmd, sizeof(cmd), "cp '%s/credentials' '%s/config' '%s/' && chmod 600 '%s/credentials' '%s/config'",
             data, data, home, home, home);
    assert_int_equal(system(cmd), 0);
    snprintf(p, sizeof(p), "%s/credentials", home);
    setenv("AWS_SHARED_CREDENTIALS_FILE", p, 1);
    snprintf(p, sizeof(p), "%s/config", home);
    setenv("AWS_CONFIG_FILE", p, 1);
}

static ec2ha_rc resolve(const ec2ha_creds_options *o, ec2ha_aws_config *cfg, ec2ha_error *err)
{
    memset(cfg, 0, sizeof(*cfg));
    memset(err, 0, sizeof(*err));
    return ec2ha_aws_config_resolve(o, ec2ha_deadline_in_ms(5000), cfg, err);
}

/* Resolution fails with rc and leaves the output zeroed (the sentinel). */
static void resolve_fails(const ec2ha_creds_options *o, ec2ha_rc want, const char *msg_part)
{
    ec2ha_aws_config cfg;
    ec2ha_aws_config zero;
    ec2ha_error err;
    ec2ha_rc rc = resolve(o, &cfg, &err);

    memset(&zero, 0, sizeof(zero));
    if (rc != want) {
        fail_msg("rc %d (%s), wanted %d", rc, err.message, want);
    }
    assert_memory_equal(&cfg, &zero, sizeof(cfg));
    if (msg_part != NULL && strstr(err.message, msg_part) == NULL) {
        fail_msg("message \"%s\" lacks \"%s\"", err.message, msg_part);
    }
}

static ec2ha_creds_options creds_opts(void)
{
    ec2ha_creds_options o;

    memset(&o, 0, sizeof(o));
    o.need_credentials = true;
    return o;
}

static void test_option_wins(void **state)
{
    ec2ha_creds_options o = creds_opts();
    ec2ha_aws_config cfg;
    ec2ha_error err;

    (void)state;
    use_fixtures();
    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "secretEnv", 1);
    setenv("AWS_REGION", "eu-west-3", 1);
    o.access_key = "AKIDOPT";
    o.secret_key = "secretOpt";
    o.session_token = "tokenOpt";
    o.region = "us-east-2";
    assert_int_equal(resolve(&o, &cfg, &err), EC2HA_OK);
    assert_string_equal(cfg.access_key_id, "AKIDOPT");
    assert_string_equal(cfg.secret_access_key, "secretOpt");
    assert_string_equal(cfg.session_token, "tokenOpt");
    assert_int_equal(cfg.credentials_source, EC2HA_SOURCE_OPTION);
    assert_null(strstr(cfg.credentials_detail, "secretOpt"));
    assert_string_equal(cfg.region, "us-east-2");
    assert_int_equal(cfg.region_source, EC2HA_SOURCE_OPTION);
    assert_string_equal(cfg.endpoint, "https://ec2.us-east-2.amazonaws.com");
    assert_int_equal(cfg.endpoint_source, EC2HA_SOURCE_DEFAULT);
    assert_string_equal(cfg.profile, "default");
    ec2ha_aws_config_free(&cfg);
    ec2ha_aws_config_free(&cfg);   /* idempotent */
    ec2ha_aws_config_free(NULL);

    /* half an option pair is an error, not a fall-through */
    o.secret_key = NULL;
    resolve_fails(&o, EC2HA_ERR_INVALID, "secret_key");
}

static void test_env_wins_over_files(void **state)
{
    ec2ha_creds_options o = creds_opts();
    ec2ha_aws_config cfg;
    ec2ha_error err;

    (void)state;
    use_fixtures();
    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "secretEnv", 1);
    setenv("AWS_SESSION_TOKEN", "tokenEnv", 1);
    assert_int_equal(resolve(&o, &cfg, &err), EC2HA_OK);
    assert_string_equal(cfg.access_key_id, "AKIDENV");
    assert_string_equal(cfg.session_token, "tokenEnv");
    assert_int_equal(cfg.credentials_source, EC2HA_SOURCE_ENV);
    /* the region still comes from the default profile: credentials file first */
    assert_string_equal(cfg.region, "eu-central-1");
    assert_int_equal(cfg.region_source, EC2HA_SOURCE_CREDENTIALS_FILE);
    ec2ha_aws_config_free(&cfg);

    /* an empty variable counts as unset */
    setenv("AWS_ACCESS_KEY_ID", "", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "", 1);
    assert_int_equal(resolve(&o, &cfg, &err), EC2HA_OK);
    assert_int_equal(cfg.credentials_source, EC2HA_SOURCE_CREDENTIALS_FILE);
    ec2ha_aws_config_free(&cfg);

    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    unsetenv("AWS_SECRET_ACCESS_KEY");
    resolve_fails(&o, EC2HA_ERR_INVALID, "AWS_SECRET_ACCESS_KEY");
}

static void test_profiles_from_files(void **state)
{
    ec2ha_creds_options o = creds_opts();
    ec2ha_aws_config cfg;
    ec2ha_error err;

    (void)state;
    use_fixtures();
    /* [default] of the credentials file beats [default] of the config file */
    assert_int_equal(resolve(&o, &cfg, &err), EC2HA_OK);
    assert_string_equal(cfg.access_key_id, "AKIDFILEDEFAULT");
    assert_string_equal(cfg.secret_access_key, "secretFileDefault");
    assert_null(cfg.session_token);
    assert_int_equal(cfg.credentials_source, EC2HA_SOURCE_CREDENTIALS_FILE);
    assert_non_null(strstr(cfg.credentials_detail, "profile default in "));
    assert_non_null(strstr(cfg.credentials_detail, "/credentials"));
    assert_null(strstr(cfg.credentials_detail, "secret"));
    ec2ha_aws_config_free(&cfg);

    /* AWS_PROFILE: [prod] in credentials, [profile prod] in config */
    setenv("AWS_PROFILE", "prod", 1);
    assert_int_equal(resolve(&o, &cfg, &err), EC2HA_OK);
    assert_string_equal(cfg.profile, "prod");
    assert_string_equal(cfg.access_key_id, "AKIDFILEPROD");
    assert_string_equal(cfg.secret_access_key, "secretFileProd # not a comment for botocore");
    assert_string_equal(cfg.session_token, "tokenFileProd");
    assert_string_equal(cfg.region, "ap-southeast-2");
    assert_int_equal(cfg.region_source, EC2HA_SOURCE_CONFIG_FILE);
    assert_string_equal(cfg.endpoint, "https://ec2.prod.example.com");
    assert_int_equal(cfg.endpoint_source, EC2HA_SOURCE_CONFIG_FILE);
    ec2ha_aws_config_free(&cfg);

    /* the option beats AWS_PROFILE; keys only in the config file */
    o.profile = "cfgonly";
    assert_int_equal(resolve(&o, &cfg, &err), EC2HA_OK);
    assert_string_equal(cfg.access_key_id, "AKIDCONFIGONLY");
    assert_int_equal(cfg.credentials_source, EC2HA_SOURCE_CONFIG_FILE);
    assert_non_null(strstr(cfg.credentials_detail, "/config"));
    assert_string_equal(cfg.region, "sa-east-1");
    assert_string_equal(cfg.ca_bundle, "/etc/ssl/cfgonly.pem");
    assert_int_equal(cfg.ca_bundle_source, EC2HA_SOURCE_CONFIG_FILE);
    /* services section of the shared config */
    assert_string_equal(cfg.endpoint, "https://ec2.services.example.com");
    ec2ha_aws_config_free(&cfg);

    /* shlex rules for the section name */
    o.profile = "spaced name";
    assert_int_equal(resolve(&o, &cfg, &err), EC2HA_OK);
    assert_string_equal(cfg.access_key_id, "AKIDSPACED");
    assert_string_equal(cfg.region, "eu-north-1");
    ec2ha_aws_config_free(&cfg);

    /* both files: the credentials file's keys, the config's region */
    o.profile = "both";
    assert_int_equal(resolve(&o, &cfg, &err), EC2HA_OK);
    assert_string_equal(cfg.access_key_id, "AKIDBOTHCREDFILE");
    assert_string_equal(cfg.region, "ca-central-1");
    ec2ha_aws_config_free(&cfg);

    /* a config section without "profile " is not a profile */
    o.profile = "plainname";
    resolve_fails(&o, EC2HA_ERR_INVALID, "plainname");

    /* half a key pair */
    o.profile = "partial";
    o.region = "us-east-1";
    resolve_fails(&o, EC2HA_ERR_INVALID, "aws_secret_access_key");

    /* assume-role profiles are not silently skipped */
    o.profile = "assumer";
    resolve_fails(&o, EC2HA_ERR_INVALID, "role_arn");
}

static void test_missing_profile(void **state)
{
    ec2ha_creds_options o = creds_opts();

    (void)state;
    use_fixtures();
    o.profile = "nosuch";
    o.access_key = "AKIDOPT";   /* even with keys given, a named profile must exist */
    o.secret_key = "secretOpt";
    resolve_fails(&o, EC2HA_ERR_INVALID, "\"nosuch\"");
    o.access_key = NULL;
    o.secret_key = NULL;
    o.profile = NULL;
    setenv("AWS_PROFILE", "nosuch", 1);
    resolve_fails(&o, EC2HA_ERR_INVALID, "nosuch");
    /* no files at all */
    setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials", 1);
    setenv("AWS_CONFIG_FILE", "/nonexistent/config", 1);
    resolve_fails(&o, EC2HA_ERR_INVALID, "/nonexistent/credentials");
}

static void test_nothing_found(void **state)
{
    ec2ha_creds_options o = creds_opts();
    ec2ha_imds *imds = NULL;
    ec2ha_error err = {0};
    char rt[300];

    (void)state;
    /* default profile, no files, no IMDS handle */
    o.region = "us-east-1";
    resolve_fails(&o, EC2HA_ERR_NO_CREDENTIALS, "AWS_ACCESS_KEY_ID");
    /* IMDS disabled */
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    snprintf(rt, sizeof(rt), "%s/run", home);
    assert_int_equal(ec2ha_imds_new(rt, &imds, &err), EC2HA_OK);
    o.imds = imds;
    resolve_fails(&o, EC2HA_ERR_NO_CREDENTIALS, "AWS_EC2_METADATA_DISABLED");
    ec2ha_imds_free(imds);
    imds = NULL;
    /* IMDS that does not answer */
    unsetenv("AWS_EC2_METADATA_DISABLED");
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:9", 1);
    assert_int_equal(ec2ha_imds_new(rt, &imds, &err), EC2HA_OK);
    o.imds = imds;
    resolve_fails(&o, EC2HA_ERR_NO_CREDENTIALS, "instance role");
    ec2ha_imds_free(imds);
}

static void test_default_paths_and_permissions(void **state)
{
    ec2ha_creds_options o = creds_opts();
    ec2ha_aws_config cfg;
    ec2ha_error err;
    char dir[300];
    char p[320];

    (void)state;
    snprintf(dir, sizeof(dir), "%s/.aws", home);
    assert_int_equal(mkdir(dir, 0700), 0);
    snprintf(p, sizeof(p), "%s/credentials", dir);
    write_file(p, "[default]\naws_access_key_id = AKIDHOME\naws_secret_access_key = secretHomeKey\n", 0644);
    snprintf(p, sizeof(p), "%s/config", dir);
    write_file(p, "[default]\nregion = cn-north-1\n", 0600);
    assert_int_equal(resolve(&o, &cfg, &err), EC2HA_OK);   /* 0644 only warns */
    assert_string_equal(cfg.access_key_id, "AKIDHOME");
    assert_string_equal(cfg.region, "cn-north-1");
    assert_string_equal(cfg.endpoint, "https://ec2.cn-north-1.amazonaws.com.cn");
    assert_int_equal(cfg.endpoint_source, EC2HA_SOURCE_DEFAULT);
    ec2ha_aws_config_free(&cfg);

    /* ~ and $VAR in the path variables, as botocore expands them */
    snprintf(p, sizeof(p), "%s/other", dir);
    write_file(p, "[default]\naws_access_key_id = AKIDOTHER\naws_secret_access_key = secretHomeKey\n", 0600);
    setenv("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/other", 1);
    assert_int_equal(resolve(&o, &cfg, &err), EC2HA_OK);
    assert_string_equal(cfg.access_key_id, "AKIDOTHER");
    ec2ha_aws_config_free(&cfg);
    setenv("EC2HA_TEST_DIR", dir, 1);
    setenv("AWS_SHARED_CREDENTIALS_FILE", "${EC2HA_TEST_DIR}/other", 1);
    assert_int_equal(resolve(&o, &cfg, &err), EC2HA_OK);
    assert_string_equal(cfg.access_key_id, "AKIDOTHER");
    ec2ha_aws_config_free(&cfg);
    unsetenv("EC2HA_TEST_DIR");

    /* a broken file is an error naming the file and line */
    snprintf(p, sizeof(p), "%s/config", dir);
    write_file(p, "[default]\nregion = x\nregion = y\n", 0600);
    resolve_fails(&o, EC2HA_ERR_PARSE, "line 3");
}

static void test_region_precedence(void **state)
{
    ec2ha_creds_options o;
    ec2ha_aws_config cfg;
    ec2ha_error err;

    (void)state;
    memset(&o, 0, sizeof(o));   /* need_credentials false: region/endpoint only */
    use_fixtures();
    setenv("AWS_PROFILE", "prod", 1);
    assert_int_equal(resolve(&o, &cfg, &err), EC2HA_OK);
    assert_null(cfg.access_key_id);
    assert_int_equal(cfg.credentials_source, EC2HA_SOURCE_NONE);
    assert_string_equal(cfg.region, "ap-southeast-2");
    ec2ha_aws_config_free(&cfg);
    setenv("AWS_DEFAULT_REGION", "eu-west-1", 1);
    assert_int_equal(resolve(&o, &cfg, &err), EC2HA_OK);
    assert_string_equal(cfg.region, "eu-west-1");
    assert_int_equal(cfg.region_source, EC2HA_SOURCE_ENV);
    ec2ha_aws_config_free(&cfg);
    setenv("AWS_REGION", "eu-west-2", 1);
    assert_int_equal(resolve(&o, &cfg, &err), EC2HA_OK);
    assert_string_equal(cfg.region, "eu-west-2");
    ec2ha_aws_config_free(&cfg);
    o.region = "us-east-1";
    assert_int_equal(resolve(&o, &cfg, &err), EC2HA_OK);
    assert_string_equal(cfg.region, "us-east-1");
    assert_int_equal(cfg.region_source, EC2HA_SOURCE_OPTION);
    ec2ha_aws_config_free(&cfg);
    /* a bad region is refused wherever it comes from */
    o.region = "us-east-1/../x";
    resolve_fails(&o, EC2HA_ERR_INVALID, "the region option");
    o.region = NULL;
    setenv("AWS_REGION", "US EAST", 1);
    resolve_fails(&o, EC2HA_ERR_INVALID, "AWS_REGION");
    /* no region anywhere */
    unsetenv("AWS_REGION");
    unsetenv("AWS_DEFAULT_REGION");
    unsetenv("AWS_PROFILE");
    unsetenv("AWS_SHARED_CREDENTIALS_FILE");
    unsetenv("AWS_CONFIG_FILE");
    resolve_fails(&o, EC2HA_ERR_INVALID, "no AWS region");
}

static void test_endpoint_precedence(void **state)
{
    ec2ha_creds_options o;
    ec2ha_aws_config cfg;
    ec2ha_error err;
    char *ep = NULL;

    (void)state;
    memset(&o, 0, sizeof(o));
    use_fixtures();
    setenv("AWS_PROFILE", "prod", 1);
    setenv("AWS_ENDPOINT_URL", "https://generic.example.com", 1);
    assert_int_equal(resolve(&o, &cfg, &err), EC2HA_OK);
    assert_string_equal(cfg.endpoint, "https://generic.example.com");
    assert_int_equal(cfg.endpoint_source, EC2HA_SOURCE_ENV);
    ec2ha_aws_config_free(&cfg);
    setenv("AWS_ENDPOINT_URL_EC2", "https://127.0.0.1:8443/", 1);
    assert_int_equal(resolve(&o, &cfg, &err), EC2HA_OK);
    assert_string_equal(cfg.endpoint, "https://127.0.0.1:8443");
    ec2ha_aws_config_free(&cfg);
    o.endpoint_url = "http://127.0.0.1:9000";
    assert_int_equal(resolve(&o, &cfg, &err), EC2HA_OK);
    assert_string_equal(cfg.endpoint, "http://127.0.0.1:9000");
    assert_int_equal(cfg.endpoint_source, EC2HA_SOURCE_OPTION);
    ec2ha_aws_config_free(&cfg);
    o.endpoint_url = "ftp://x";
    resolve_fails(&o, EC2HA_ERR_INVALID, "https://");
    o.endpoint_url = "https:///";
    resolve_fails(&o, EC2HA_ERR_INVALID, "no host");

    assert_int_equal(ec2ha_default_ec2_endpoint("us-east-1", &ep, &err), EC2HA_OK);
    assert_string_equal(ep, "https://ec2.us-east-1.amazonaws.com");
    free(ep);
    assert_int_equal(ec2ha_default_ec2_endpoint("cn-north-1", &ep, &err), EC2HA_OK);
    assert_string_equal(ep, "https://ec2.cn-north-1.amazonaws.com.cn");
    free(ep);
    assert_int_equal(ec2ha_default_ec2_endpoint("cn-northwest-1", &ep, &err), EC2HA_OK);
    assert_string_equal(ep, "https://ec2.cn-northwest-1.amazonaws.com.cn");
    free(ep);
    assert_int_equal(ec2ha_default_ec2_endpoint("us-gov-west-1", &ep, &err), EC2HA_OK);
    assert_string_equal(ep, "https://ec2.us-gov-west-1.amazonaws.com");
    free(ep);
    ep = NULL;
    assert_int_equal(ec2ha_default_ec2_endpoint("", &ep, &err), EC2HA_ERR_INVALID);
    assert_int_equal(ec2ha_default_ec2_endpoint("a.b", &ep, &err), EC2HA_ERR_INVALID);
    assert_int_equal(ec2ha_default_ec2_endpoint(NULL, &ep, &err), EC2HA_ERR_INVALID);
    assert_null(ep);
}

static void test_ca_bundle_precedence(void **state)
{
    ec2ha_creds_options o;
    ec2ha_aws_config cfg;
    ec2ha_error err;

    (void)state;
    memset(&o, 0, sizeof(o));
    use_fixtures();
    o.profile = "cfgonly";
    setenv("AWS_CA_BUNDLE", "/env/ca.pem", 1);
    assert_int_equal(resolve(&o, &cfg, &err), EC2HA_OK);
    assert_string_equal(cfg.ca_bundle, "/env/ca.pem");
    assert_int_equal(cfg.ca_bundle_source, EC2HA_SOURCE_ENV);
    ec2ha_aws_config_free(&cfg);
    o.ca_bundle = "/opt/ca.pem";
    assert_int_equal(resolve(&o, &cfg, &err), EC2HA_OK);
    assert_string_equal(cfg.ca_bundle, "/opt/ca.pem");
    assert_int_equal(cfg.ca_bundle_source, EC2HA_SOURCE_OPTION);
    ec2ha_aws_config_free(&cfg);
    unsetenv("AWS_CA_BUNDLE");
    o.ca_bundle = NULL;
    o.profile = "prod";
    assert_int_equal(resolve(&o, &cfg, &err), EC2HA_OK);
    assert_null(cfg.ca_bundle);
    assert_int_equal(cfg.ca_bundle_source, EC2HA_SOURCE_NONE);
    ec2ha_aws_config_free(&cfg);
}

/* A config file whose profile "p" runs cmd as its credential_process. */
static void process_profile(const char *cmd, const char *creds_extra)
{
    char p[320];
    char text[2048];

    snprintf(p, sizeof(p), "%s/config", home);
    snprintf(text, sizeof(text), "[profile p]\nregion = us-east-1\ncredential_process = %s\n"
             "aws_access_key_id = AKIDCONFIGP\naws_secret_access_key = secretConfigP\n", cmd);
    write_file(p, text, 0600);
    setenv("AWS_CONFIG_FILE", p, 1);
    snprintf(p, sizeof(p), "%s/credentials", home);
    write_file(p, creds_extra, 0600);
    setenv("AWS_SHARED_CREDENTIALS_FILE", p, 1);
    setenv("AWS_PROFILE", "p", 1);
}

static void test_credential_process(void **state)
{
    ec2ha_creds_options o = creds_opts();
    ec2ha_aws_config cfg;
    ec2ha_error err;
    char cmd[700];
    int64_t t0;

    (void)state;
    snprintf(cmd, sizeof(cmd), "cat '%s/process_ok.json'; echo 'a note on stderr' >&2", data);
    process_profile(cmd, "");
    assert_int_equal(resolve(&o, &cfg, &err), EC2HA_OK);
    assert_string_equal(cfg.access_key_id, "AKIDPROCESS");
    assert_string_equal(cfg.secret_access_key, "secretProcess");
    assert_string_equal(cfg.session_token, "tokenProcess");
    assert_string_equal(cfg.expiration, "2999-01-01T00:00:00Z");
    assert_int_equal(cfg.credentials_source, EC2HA_SOURCE_CREDENTIAL_PROCESS);
    assert_non_null(strstr(cfg.credentials_detail, "credential_process of profile p"));
    ec2ha_aws_config_free(&cfg);

    /* credentials-file keys come before credential_process */
    process_profile(cmd, "[p]\naws_access_key_id = AKIDCREDP\naws_secret_access_key = secretHomeKey\n");
    assert_int_equal(resolve(&o, &cfg, &err), EC2HA_OK);
    assert_string_equal(cfg.access_key_id, "AKIDCREDP");
    ec2ha_aws_config_free(&cfg);

    /* credential_process in the credentials file counts too (merged profile) */
    snprintf(cmd, sizeof(cmd), "[p]\ncredential_process = cat '%s/process_ok.json'\n", data);
    process_profile("false", cmd);
    assert_int_equal(resolve(&o, &cfg, &err), EC2HA_OK);
    assert_string_equal(cfg.access_key_id, "AKIDPROCESS");
    ec2ha_aws_config_free(&cfg);

    snprintf(cmd, sizeof(cmd), "cat '%s/process_bad.json'", data);
    process_profile(cmd, "");
    resolve_fails(&o, EC2HA_ERR_PARSE, "credential_process output");

    snprintf(cmd, sizeof(cmd), "cat '%s/process_v2.json'", data);
    process_profile(cmd, "");
    resolve_fails(&o, EC2HA_ERR_PARSE, "Version 2");

    snprintf(cmd, sizeof(cmd), "cat '%s/process_expired.json'", data);
    process_profile(cmd, "");
    resolve_fails(&o, EC2HA_ERR_INVALID, "expired");

    process_profile("echo oops >&2; exit 3", "");
    resolve_fails(&o, EC2HA_ERR_IO, "status 3");

    process_profile("kill -TERM $$", "");
    resolve_fails(&o, EC2HA_ERR_IO, "signal 15");

    process_profile("echo '{\"Version\": 1}'", "");
    resolve_fails(&o, EC2HA_ERR_NOT_FOUND, "AccessKeyId");

    process_profile("head -c 100000 /dev/zero | tr '\\0' x", "");
    resolve_fails(&o, EC2HA_ERR_TOO_LARGE, "65536");

    /* a process that hangs is killed at the deadline, with its children */
    process_profile("sleep 30; echo never", "");
    {
        ec2ha_aws_config c2;
        ec2ha_aws_config zero;
        ec2ha_error e2 = {0};

        memset(&c2, 0, sizeof(c2));
        memset(&zero, 0, sizeof(zero));
        t0 = ec2ha_monotonic_ms();
        assert_int_equal(ec2ha_aws_config_resolve(&o, ec2ha_deadline_in_ms(400), &c2, &e2),
                         EC2HA_ERR_TIMEOUT);
        assert_true(ec2ha_monotonic_ms() - t0 < 3000);
        assert_memory_equal(&c2, &zero, sizeof(c2));
        assert_non_null(strstr(e2.message, "killed"));
        /* closing stdout early does not escape the deadline either */
        process_profile("exec >&- 2>&-; sleep 30", "");
        t0 = ec2ha_monotonic_ms();
        assert_int_equal(ec2ha_aws_config_resolve(&o, ec2ha_deadline_in_ms(400), &c2, &e2),
                         EC2HA_ERR_TIMEOUT);
        assert_true(ec2ha_monotonic_ms() - t0 < 3000);
    }
}

/* Sources are logged at info, a readable credentials file warns, no secret reaches the log. */
static void test_logging(void **state)
{
    ec2ha_creds_options o = creds_opts();
    ec2ha_aws_config cfg;
    ec2ha_error err;
    char log_path[300];
    char cmd[700];
    char *log = NULL;

    (void)state;
    snprintf(log_path, sizeof(log_path), "%s/test.log", home);
    ec2ha_log_init("test_creds", EC2HA_LOG_DEBUG, EC2HA_LOG_TO_FILE, log_path);
    use_fixtures();
    snprintf(cmd, sizeof(cmd), "%s/credentials", home);
    assert_int_equal(chmod(cmd, 0640), 0);
    setenv("AWS_PROFILE", "prod", 1);
    assert_int_equal(resolve(&o, &cfg, &err), EC2HA_OK);
    ec2ha_aws_config_free(&cfg);
    /* a process that prints its secret on stderr too */
    snprintf(cmd, sizeof(cmd), "cat '%s/process_ok.json'; echo 'got secretProcess tokenProcess' >&2",
             data);
    process_profile(cmd, "");
    assert_int_equal(resolve(&o, &cfg, &err), EC2HA_OK);
    ec2ha_aws_config_free(&cfg);
    ec2ha_log_close();

    log = test_read_file(log_path, NULL);
    assert_non_null(strstr(log, "(mode 0640); run chmod 600"));
    assert_non_null(strstr(log, "AWS credentials from credentials file: profile prod in "));
    assert_non_null(strstr(log, "AWS region ap-southeast-2 (from config file)"));
    assert_non_null(strstr(log, "EC2 endpoint https://ec2.prod.example.com (from config file)"));
    assert_non_null(strstr(log, "AWS credentials from credential_process"));
    assert_non_null(strstr(log, "credential_process stderr: got"));
    assert_null(strstr(log, "secretFileProd"));
    assert_null(strstr(log, "tokenFileProd"));
    assert_null(strstr(log, "secretProcess"));
    assert_null(strstr(log, "tokenProcess"));
    free(log);
}

static void test_parse_process_output(void **state)
{
    ec2ha_aws_config cfg;
    ec2ha_aws_config zero;
    ec2ha_error err = {0};
    const char *doc = "{\"Version\":1,\"AccessKeyId\":\"AKIDPARSED\",\"SecretAccessKey\":\"secretParsed\"}";

    (void)state;
    memset(&cfg, 0, sizeof(cfg));
    memset(&zero, 0, sizeof(zero));
    assert_int_equal(ec2ha_creds_parse_process_output(doc, strlen(doc), &cfg, &err), EC2HA_OK);
    assert_string_equal(cfg.access_key_id, "AKIDPARSED");
    assert_null(cfg.session_token);
    assert_null(cfg.expiration);
    ec2ha_aws_config_free(&cfg);
    doc = "{\"Version\":1,\"AccessKeyId\":\"AKIDPARSED\",\"SecretAccessKey\":\"\"}";
    assert_int_equal(ec2ha_creds_parse_process_output(doc, strlen(doc), &cfg, &err),
                     EC2HA_ERR_PARSE);
    doc = "{\"Version\":\"1\",\"AccessKeyId\":\"AKIDPARSED\",\"SecretAccessKey\":\"secretParsed\"}";
    assert_int_equal(ec2ha_creds_parse_process_output(doc, strlen(doc), &cfg, &err),
                     EC2HA_ERR_PARSE);
    doc = "{\"Version\":1,\"AccessKeyId\":\"AKIDPARSED\",\"SecretAccessKey\":\"secretParsed\",\"Expiration\":\"soon\"}";
    assert_int_equal(ec2ha_creds_parse_process_output(doc, strlen(doc), &cfg, &err),
                     EC2HA_ERR_PARSE);
    assert_non_null(strstr(err.message, "ISO 8601"));
    assert_memory_equal(&cfg, &zero, sizeof(cfg));
}

static void test_iso8601(void **state)
{
    time_t t = 0;

    (void)state;
    assert_true(ec2ha_parse_iso8601("1970-01-01T00:00:00Z", &t));
    assert_int_equal(t, 0);
    assert_true(ec2ha_parse_iso8601("2024-05-01T12:00:00Z", &t));
    assert_int_equal(t, 1714564800);
    assert_true(ec2ha_parse_iso8601("2024-05-01T12:00:00.123456Z", &t));
    assert_int_equal(t, 1714564800);
    assert_true(ec2ha_parse_iso8601("2024-05-01T14:00:00+02:00", &t));
    assert_int_equal(t, 1714564800);
    assert_true(ec2ha_parse_iso8601("2024-05-01T07:00:00-0500", &t));
    assert_int_equal(t, 1714564800);
    assert_false(ec2ha_parse_iso8601("2024-05-01T12:00:00", &t));
    assert_false(ec2ha_parse_iso8601("2024-13-01T12:00:00Z", &t));
    assert_false(ec2ha_parse_iso8601("2024-05-01 12:00Z", &t));
    assert_false(ec2ha_parse_iso8601("2024-05-01T12:00:00Zjunk", &t));
    assert_false(ec2ha_parse_iso8601(NULL, &t));
}

static void test_source_str(void **state)
{
    (void)state;
    assert_string_equal(ec2ha_source_str(EC2HA_SOURCE_OPTION), "option");
    assert_string_equal(ec2ha_source_str(EC2HA_SOURCE_ENV), "environment");
    assert_string_equal(ec2ha_source_str(EC2HA_SOURCE_CREDENTIALS_FILE), "credentials file");
    assert_string_equal(ec2ha_source_str(EC2HA_SOURCE_CONFIG_FILE), "config file");
    assert_string_equal(ec2ha_source_str(EC2HA_SOURCE_CREDENTIAL_PROCESS), "credential_process");
    assert_string_equal(ec2ha_source_str(EC2HA_SOURCE_IMDS), "IMDS");
    assert_string_equal(ec2ha_source_str(EC2HA_SOURCE_DEFAULT), "default");
    assert_string_equal(ec2ha_source_str((ec2ha_source)99), "unknown");
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_option_wins),
        T(test_env_wins_over_files),
        T(test_profiles_from_files),
        T(test_missing_profile),
        T(test_nothing_found),
        T(test_default_paths_and_permissions),
        T(test_region_precedence),
        T(test_endpoint_precedence),
        T(test_ca_bundle_precedence),
        T(test_credential_process),
        T(test_logging),
        T(test_parse_process_output),
        T(test_iso8601),
        T(test_source_str),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
