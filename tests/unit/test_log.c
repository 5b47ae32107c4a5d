/*
 * test_log.c - redaction proves no secret reaches a log line; level filter;
 * the log file is created 0600 whatever the umask.
 */
#include <errno.h>
#include <fcntl.h>
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

#include "ec2ha/log.h"
#include "testdata.h"

#define SECRET_KEY "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define SESSION_TOKEN "IQoJb3JpZ2luX2VjEXAMPLE//////////wEaCWV1LXdlc3QtMSJHMEUCIQD+EXAMPLE/tok=="
#define IMDS_TOKEN "AQAEAEXAMPLEimdsTOKENvalue_0123456789abcdefghij=="
#define SIGNATURE "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
#define REGISTERED "my-registered-secret-42"
#define REGISTERED_ENC "IQoJb3JpZ2luX2VjEXAMPLE%2F%2F%2F%2F%2F%2F%2F%2F%2F%2FwEaCWV1LXdlc3QtMSJHMEUCIQD%2BEXAMPLE%2Ftok%3D%3D"

typedef struct redact_case {
    const char *in;
    const char *out;
} redact_case;

static const redact_case cases[] = {
    { "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/"
      "aws4_request, SignedHeaders=host;x-amz-date, Signature=" SIGNATURE,
      "Authorization: ****" },
    { "> authorization:AWS4-HMAC-SHA256 Credential=AKID\r\nHost: x",
      "> authorization:****\r\nHost: x" },
    { "X-Amz-Security-Token: " SESSION_TOKEN, "X-Amz-Security-Token: ****" },
    { "url ?X-Amz-Security-Token=" REGISTERED_ENC "&X-Amz-Date=20150830T123600Z",
      "url ?X-Amz-Security-Token=****&X-Amz-Date=20150830T123600Z" },
    { "X-aws-ec2-metadata-token: " IMDS_TOKEN, "X-aws-ec2-metadata-token: ****" },
    { "X-aws-ec2-metadata-token-ttl-seconds: 21600", "X-aws-ec2-metadata-token-ttl-seconds: 21600" },
    { "<SecretAccessKey>" SECRET_KEY "</SecretAccessKey><Expiration>2024</Expiration>",
      "<SecretAccessKey>****</SecretAccessKey><Expiration>2024</Expiration>" },
    { "{ \"AccessKeyId\" : \"ASIAEXAMPLE\", \"SecretAccessKey\" : \"" SECRET_KEY
      "\", \"Token\" : \"" SESSION_TOKEN "\", \"Expiration\" : \"2024-01-01T00:00:00Z\" }",
      "{ \"AccessKeyId\" : \"ASIAEXAMPLE\", \"SecretAccessKey\" : \"****\", \"Token\" : "
      "\"****\", \"Expiration\" : \"2024-01-01T00:00:00Z\" }" },
    { "\"SecretAccessKey\":\"" SECRET_KEY "\"", "\"SecretAccessKey\":\"****\"" },
    { "<SessionToken>" SESSION_TOKEN "</SessionToken>", "<SessionToken>****</SessionToken>" },
    { "Token=" SESSION_TOKEN " rest", "Token=**** rest" },
    { "secret_key=" SECRET_KEY, "secret_key=****" },
    { "--secret-key=" SECRET_KEY " -r eu-west-1", "--secret-key=**** -r eu-west-1" },
    { "aws_secret_access_key = " SECRET_KEY, "aws_secret_access_key = ****" },
    { "AWS_SECRET_ACCESS_KEY=" SECRET_KEY, "AWS_SECRET_ACCESS_KEY=****" },
    { "aws_session_token=" SESSION_TOKEN, "aws_session_token=****" },
    { "X-Amz-Signature=" SIGNATURE "&a=b", "X-Amz-Signature=****&a=b" },
    { "Signature=" SIGNATURE, "Signature=****" },
    { "value " REGISTERED " twice " REGISTERED ".", "value **** twice ****." },
    { "a secret in a plain sentence: " SECRET_KEY " end", "a secret in a plain sentence: **** end" },
    { "Token=ab", "Token=**" },      /* never grows */
    { "Token=", "Token=" },
    /* Things that are not secrets stay intact. */
    { "SignatureDoesNotMatch: The request signature we calculated does not match",
      "SignatureDoesNotMatch: The request signature we calculated does not match" },
    { "Credential=AKIDEXAMPLE/20150830/us-east-1 tokens left 5",
      "Credential=AKIDEXAMPLE/20150830/us-east-1 tokens left 5" },
    { "instance i-0abc is stopped", "instance i-0abc is stopped" },
    { "", "" },
};

static int setup_secrets(void **state)
{
    (void)state;
    ec2ha_log_add_secret(SECRET_KEY);
    ec2ha_log_add_secret(SESSION_TOKEN);
    ec2ha_log_add_secret(IMDS_TOKEN);
    ec2ha_log_add_secret(REGISTERED);
    ec2ha_log_add_secret(REGISTERED);   /* twice: stored once */
    ec2ha_log_add_secret("");
    ec2ha_log_add_secret(NULL);
    return 0;
}

static int teardown_log(void **state)
{
    (void)state;
    ec2ha_log_close();
    return 0;
}

static void test_redact_table(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *line = strdup(cases[i].in);
        size_t before = strlen(line);

        assert_non_null(line);
        ec2ha_log_redact(line);
        if (strcmp(line, cases[i].out) != 0) {
            fail_msg("case %zu:\n in:  %s\n got: %s\n want: %s", i, cases[i].in, line,
                     cases[i].out);
        }
        assert_true(strlen(line) <= before);
        free(line);
    }
    ec2ha_log_redact(NULL);
}

static void test_redact_key_patterns_without_registration(void **state)
{
    char line[] = "\"Token\" : \"unregistered-token-value\", secret_key=unregistered-key";

    (void)state;
    ec2ha_log_close();   /* no registered secrets now: only the key patterns */
    ec2ha_log_redact(line);
    assert_string_equal(line, "\"Token\" : \"****\", secret_key=****");
}

static char *make_tmpdir(void)
{
    char tmpl[] = "/tmp/ec2ha-test-log-XXXXXX";
    char *d = mkdtemp(tmpl);

    assert_non_null(d);
    return strdup(d);
}

static void cleanup_dir(char *dir, const char *file)
{
    char path[512];

    snprintf(path, sizeof(path), "%s/%s", dir, file);
    unlink(path);
    rmdir(dir);
    free(dir);
}

static void test_file_sink_never_holds_a_secret(void **state)
{
    char *dir = make_tmpdir();
    char path[512];
    char *text;
    struct stat st;
    mode_t old_umask;

    (void)state;
    snprintf(path, sizeof(path), "%s/ha.log", dir);
    assert_int_equal(setenv("HA_LOGFILE", path, 1), 0);
    assert_int_equal(setenv("HA_LOGFACILITY", "none", 1), 0);
    old_umask = umask(0);       /* 0600 must not depend on the umask */
    ec2ha_log_init("fence_ec2", EC2HA_LOG_TRACE, EC2HA_LOG_TO_FILE | EC2HA_LOG_TO_SYSLOG, NULL);
    umask(old_umask);
    setup_secrets(NULL);

    ec2ha_info("start marker-0 with key %s in the middle", SECRET_KEY);
    ec2ha_debug("request headers:\nHost: ec2.eu-west-1.amazonaws.com\nAuthorization: "
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240229/eu-west-1/ec2/aws4_request, "
                "SignedHeaders=host, Signature=%s\nX-Amz-Security-Token: %s\nmarker-1", SIGNATURE,
                SESSION_TOKEN);
    ec2ha_trace("IMDS: PUT token -> X-aws-ec2-metadata-token: %s marker-2", IMDS_TOKEN);
    ec2ha_trace("credentials JSON: {\"Code\" : \"Success\", \"SecretAccessKey\" : \"%s\", "
                "\"Token\" : \"%s\"} marker-3", SECRET_KEY, SESSION_TOKEN);
    ec2ha_notice("stdin: secret_key=%s marker-4", SECRET_KEY);
    ec2ha_warn("ini: aws_secret_access_key = %s ; aws_session_token=%s marker-5", SECRET_KEY,
               SESSION_TOKEN);
    ec2ha_err("query ?X-Amz-Security-Token=%s&Signature=%s marker-6", REGISTERED_ENC, SIGNATURE);
    ec2ha_err("a registered one: %s marker-7", REGISTERED);
    {
        /* A message longer than the on-stack buffer takes the heap path. */
        char big[3000];

        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        ec2ha_info("%s %s marker-8 %s", big, SECRET_KEY, big);
    }
    ec2ha_log_close();

    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);

    text = test_read_file(path, NULL);
    assert_null(strstr(text, SECRET_KEY));
    assert_null(strstr(text, "wJalrXUtnFEMI"));
    assert_null(strstr(text, SESSION_TOKEN));
    assert_null(strstr(text, "IQoJb3JpZ2luX2Vj"));
    assert_null(strstr(text, IMDS_TOKEN));
    assert_null(strstr(text, SIGNATURE));
    assert_null(strstr(text, REGISTERED));
    assert_null(strstr(text, "AWS4-HMAC-SHA256"));
    /* The rest is intact. */
    assert_non_null(strstr(text, " fence_ec2["));
    assert_non_null(strstr(text, "]: INFO: start marker-0 with key **** in the middle\n"));
    assert_non_null(strstr(text, "]: DEBUG: request headers:\n"));
    assert_non_null(strstr(text, "]: DEBUG: Host: ec2.eu-west-1.amazonaws.com\n"));
    assert_non_null(strstr(text, "]: DEBUG: Authorization: ****\n"));
    assert_non_null(strstr(text, "]: DEBUG: X-Amz-Security-Token: ****\n"));
    assert_non_null(strstr(text, "]: TRACE: IMDS: PUT token -> X-aws-ec2-metadata-token: **** "
                                 "marker-2\n"));
    assert_non_null(strstr(text, "\"Code\" : \"Success\", \"SecretAccessKey\" : \"****\", "
                                 "\"Token\" : \"****\"} marker-3\n"));
    assert_non_null(strstr(text, "]: NOTICE: stdin: secret_key=**** marker-4\n"));
    assert_non_null(strstr(text, "]: WARNING: ini: aws_secret_access_key = **** ; "
                                 "aws_session_token=**** marker-5\n"));
    assert_non_null(strstr(text, "]: ERROR: query ?X-Amz-Security-Token=****&Signature=**** "
                                 "marker-6\n"));
    assert_non_null(strstr(text, "]: ERROR: a registered one: **** marker-7\n"));
    assert_non_null(strstr(text, "xxx **** marker-8 xxx"));
    free(text);
    cleanup_dir(dir, "ha.log");
    unsetenv("HA_LOGFILE");
    unsetenv("HA_LOGFACILITY");
}

static void test_levels_filter(void **state)
{
    char *dir = make_tmpdir();
    char path[512];
    char *text;

    (void)state;
    snprintf(path, sizeof(path), "%s/levels.log", dir);
    ec2ha_log_init("eip", EC2HA_LOG_WARNING, EC2HA_LOG_TO_FILE, path);
    assert_int_equal(ec2ha_log_get_level(), EC2HA_LOG_WARNING);
    assert_true(ec2ha_log_enabled(EC2HA_LOG_ERR));
    assert_true(ec2ha_log_enabled(EC2HA_LOG_WARNING));
    assert_false(ec2ha_log_enabled(EC2HA_LOG_NOTICE));
    ec2ha_err("level-err");
    ec2ha_warn("level-warning");
    ec2ha_notice("level-notice");
    ec2ha_info("level-info");
    ec2ha_debug("level-debug");
    ec2ha_trace("level-trace");
    ec2ha_log_set_level(EC2HA_LOG_DEBUG);
    assert_true(ec2ha_log_enabled(EC2HA_LOG_DEBUG));
    assert_false(ec2ha_log_enabled(EC2HA_LOG_TRACE));
    ec2ha_debug("level-debug-now");
    ec2ha_trace("level-trace-still-not");
    ec2ha_log_set_level((ec2ha_log_level)42);   /* clamped */
    assert_int_equal(ec2ha_log_get_level(), EC2HA_LOG_TRACE);
    ec2ha_log_close();
    assert_int_equal(ec2ha_log_get_level(), EC2HA_LOG_NOTICE);

    text = test_read_file(path, NULL);
    assert_non_null(strstr(text, "eip["));
    assert_non_null(strstr(text, "ERROR: level-err\n"));
    assert_non_null(strstr(text, "WARNING: level-warning\n"));
    assert_null(strstr(text, "level-notice"));
    assert_null(strstr(text, "level-info"));
    assert_null(strstr(text, "level-debug\n"));
    assert_null(strstr(text, "level-trace"));
    assert_non_null(strstr(text, "DEBUG: level-debug-now\n"));
    free(text);
    cleanup_dir(dir, "levels.log");
}

static void test_stderr_format_and_errno(void **state)
{
    char *dir = make_tmpdir();
    char path[512];
    char *text;
    int saved;
    int fd;

    (void)state;
    snprintf(path, sizeof(path), "%s/stderr.txt", dir);
    fflush(stderr);
    saved = dup(STDERR_FILENO);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(saved >= 0 && fd >= 0);
    assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
    close(fd);

    ec2ha_log_init("ec2ha", EC2HA_LOG_INFO, EC2HA_LOG_TO_STDERR, NULL);
    ec2ha_log_add_secret(SECRET_KEY);
    errno = ENOENT;
    ec2ha_info("hello %s with\x1b[31m escape", SECRET_KEY);
    assert_int_equal(errno, ENOENT);     /* logging keeps errno */
    ec2ha_err("line one\nline two\n");
    ec2ha_log_close();

    assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
    close(saved);
    text = test_read_file(path, NULL);
    assert_string_equal(text, "ec2ha: INFO: hello **** with?[31m escape\n"
                              "ec2ha: ERROR: line one\nec2ha: ERROR: line two\n");
    free(text);
    cleanup_dir(dir, "stderr.txt");
}

static void test_unwritable_logfile_is_not_fatal(void **state)
{
    (void)state;
    ec2ha_log_init("t", EC2HA_LOG_ERR, EC2HA_LOG_TO_FILE,
                   "/nonexistent-dir-ec2ha/x.log");
    ec2ha_err("goes nowhere, must not crash");
    ec2ha_log_close();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_redact_table, setup_secrets, teardown_log),
        cmocka_unit_test_teardown(test_redact_key_patterns_without_registration, teardown_log),
        cmocka_unit_test_teardown(test_file_sink_never_holds_a_secret, teardown_log),
        cmocka_unit_test_teardown(test_levels_filter, teardown_log),
        cmocka_unit_test_teardown(test_stderr_format_and_errno, teardown_log),
        cmocka_unit_test_teardown(test_unwritable_logfile_is_not_fatal, teardown_log),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
