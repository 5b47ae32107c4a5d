/*
 * test_ini.c - the shared config/credentials parser, case by case against what
 * botocore (configparser + configloader) gives for the same text.
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

#include "ec2ha/ini.h"

static ec2ha_ini *parse_ok(const char *text)
{
    ec2ha_ini *ini = NULL;
    ec2ha_error err = {0};

    if (ec2ha_ini_parse(text, strlen(text), &ini, &err) != EC2HA_OK) {
        fail_msg("parse failed: %s", err.message);
    }
    return ini;
}

static void parse_fails(const char *text, const char *msg_part)
{
    ec2ha_ini *ini = (ec2ha_ini *)(uintptr_t)0x5e17;   /* sentinel */
    ec2ha_error err = {0};

    if (ec2ha_ini_parse(text, strlen(text), &ini, &err) != EC2HA_ERR_PARSE) {
        fail_msg("accepted: %s", text);
    }
    assert_ptr_equal(ini, (ec2ha_ini *)(uintptr_t)0x5e17);
    if (msg_part != NULL && strstr(err.message, msg_part) == NULL) {
        fail_msg("message \"%s\" lacks \"%s\"", err.message, msg_part);
    }
}

static void test_basic_and_no_inline_comments(void **state)
{
    ec2ha_ini *ini = parse_ok("[default]\r\naws_access_key_id=AKID\r\n"
                              "aws_secret_access_key = se;cret # not a comment\r\n");

    (void)state;
    assert_string_equal(ec2ha_ini_get(ini, "default", "aws_access_key_id"), "AKID");
    assert_string_equal(ec2ha_ini_get(ini, "default", "aws_secret_access_key"),
                        "se;cret # not a comment");
    assert_null(ec2ha_ini_get(ini, "default", "missing"));
    assert_null(ec2ha_ini_get(ini, "other", "aws_access_key_id"));
    assert_true(ec2ha_ini_has_section(ini, "default"));
    assert_false(ec2ha_ini_has_section(ini, "Default"));
    ec2ha_ini_free(ini);
}

static void test_line_endings_comments_whitespace(void **state)
{
    ec2ha_ini *ini = parse_ok("[default]\rregion=us-east-1\r");

    (void)state;
    assert_string_equal(ec2ha_ini_get(ini, "default", "region"), "us-east-1");
    ec2ha_ini_free(ini);
    ini = parse_ok("# c\n; c\n\n[p]\n\tkey\t=\t v \t\n");
    assert_string_equal(ec2ha_ini_get(ini, "p", "key"), "v");
    ec2ha_ini_free(ini);
    ini = parse_ok("[a]\n#k=v\n  ;x\nj=1\n");
    assert_null(ec2ha_ini_get(ini, "a", "k"));
    assert_string_equal(ec2ha_ini_get(ini, "a", "j"), "1");
    ec2ha_ini_free(ini);
    /* key lowercased, section kept as written (spaces too) */
    ini = parse_ok("[ Prod Box ]\nRegion: eu-west-1\n");
    assert_string_equal(ec2ha_ini_get(ini, " Prod Box ", "region"), "eu-west-1");
    assert_null(ec2ha_ini_get(ini, " Prod Box ", "Region"));
    ec2ha_ini_free(ini);
    /* split at the first '=' or ':' */
    ini = parse_ok("[a]\nk==v\nj:=v\nurl = https://x:443/p?a=b\n[b]xyz\nk = \n");
    assert_string_equal(ec2ha_ini_get(ini, "a", "k"), "=v");
    assert_string_equal(ec2ha_ini_get(ini, "a", "j"), "=v");
    assert_string_equal(ec2ha_ini_get(ini, "a", "url"), "https://x:443/p?a=b");
    assert_string_equal(ec2ha_ini_get(ini, "b", "k"), "");
    ec2ha_ini_free(ini);
    /* indented keys and headers are fine when nothing is being continued */
    ini = parse_ok("  [a]\n  k = v\n  j = w\n");
    assert_string_equal(ec2ha_ini_get(ini, "a", "k"), "v");
    assert_string_equal(ec2ha_ini_get(ini, "a", "j"), "w");
    ec2ha_ini_free(ini);
    ini = parse_ok("");
    assert_int_equal(ec2ha_ini_section_count(ini), 0);
    ec2ha_ini_free(ini);
}

static void test_nested_and_continuation(void **state)
{
    ec2ha_ini *ini = parse_ok("[profile prod]\nS3 =\n  max_concurrent_requests = 20\n"
                              "  Signature_Version=s3v4\n\nregion = eu-west-1\n");

    (void)state;
    assert_string_equal(ec2ha_ini_get(ini, "profile prod", "s3.max_concurrent_requests"), "20");
    assert_string_equal(ec2ha_ini_get(ini, "profile prod", "s3.Signature_Version"), "s3v4");
    assert_null(ec2ha_ini_get(ini, "profile prod", "s3"));
    assert_string_equal(ec2ha_ini_get(ini, "profile prod", "region"), "eu-west-1");
    ec2ha_ini_free(ini);
    ini = parse_ok("[a]\nk = line1\n   line2\n\n   line3\n\n\n");
    assert_string_equal(ec2ha_ini_get(ini, "a", "k"), "line1\nline2\n\nline3");
    ec2ha_ini_free(ini);
    ini = parse_ok("[a]\nk = v\n  [b]\n");
    assert_string_equal(ec2ha_ini_get(ini, "a", "k"), "v\n[b]");
    assert_false(ec2ha_ini_has_section(ini, "b"));
    ec2ha_ini_free(ini);
    ini = parse_ok("[a]\nk = v\n    # indented comment\n    more\n");
    assert_string_equal(ec2ha_ini_get(ini, "a", "k"), "v\nmore");
    ec2ha_ini_free(ini);
    parse_fails("[a]\nk =\n  nokey\n", "lacks '='");
}

static void test_default_section(void **state)
{
    ec2ha_ini *ini = parse_ok("[DEFAULT]\nregion=r\n[a]\nk=v\n[b]\nregion=own\n");

    (void)state;
    assert_string_equal(ec2ha_ini_get(ini, "a", "region"), "r");
    assert_string_equal(ec2ha_ini_get(ini, "b", "region"), "own");
    assert_null(ec2ha_ini_get(ini, "c", "region"));
    assert_null(ec2ha_ini_get(ini, "DEFAULT", "region"));
    assert_false(ec2ha_ini_has_section(ini, "DEFAULT"));
    assert_int_equal(ec2ha_ini_section_count(ini), 2);
    assert_string_equal(ec2ha_ini_section_name(ini, 0), "a");
    assert_string_equal(ec2ha_ini_section_name(ini, 1), "b");
    assert_null(ec2ha_ini_section_name(ini, 2));
    ec2ha_ini_free(ini);
}

static void test_errors(void **state)
{
    (void)state;
    parse_fails("k=v\n[a]\n", "line 1");
    parse_fails("[a]\nnovalue\n", "line 2");
    parse_fails("[a]\n=v\n", "line 2");
    parse_fails("[a]\nk=1\nk=2\n", "twice");
    parse_fails("[a]\nK=1\nk=2\n", "twice");
    parse_fails("[a]\nx=1\n[a]\ny=2\n", "twice");
    parse_fails("[a]\ns3 =\n  x = 1\ns3 = 2\n", "twice");
    parse_fails("[]\n", NULL);
    parse_fails("[a\n", NULL);
    /* NUL byte */
    {
        ec2ha_ini *ini = NULL;
        ec2ha_error err = {0};

        assert_int_equal(ec2ha_ini_parse("[a]\nk=v\0x\n", 10, &ini, &err), EC2HA_ERR_PARSE);
        assert_null(ini);
    }
}

static void test_secret_not_in_error(void **state)
{
    ec2ha_ini *ini = NULL;
    ec2ha_error err = {0};
    const char *text = "[a]\naws_secret_access_key = SEKRIT\naws_secret_access_key = SEKRIT2\n";

    (void)state;
    assert_int_equal(ec2ha_ini_parse(text, strlen(text), &ini, &err), EC2HA_ERR_PARSE);
    assert_null(strstr(err.message, "SEKRIT"));
}

static void test_load(void **state)
{
    char dir[] = "/tmp/ec2ha-ini-XXXXXX";
    char path[256];
    FILE *f;
    ec2ha_ini *ini = NULL;
    ec2ha_error err = {0};
    char *big;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/config", dir);
    assert_int_equal(ec2ha_ini_load(path, &ini, &err), EC2HA_ERR_NOT_FOUND);
    assert_null(ini);
    /* a directory is skipped like a missing file, as botocore does */
    assert_int_equal(ec2ha_ini_load(dir, &ini, &err), EC2HA_ERR_NOT_FOUND);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("[profile x]\nregion = ap-south-1\n", f);
    fclose(f);
    assert_int_equal(ec2ha_ini_load(path, &ini, &err), EC2HA_OK);
    assert_string_equal(ec2ha_ini_get(ini, "profile x", "region"), "ap-south-1");
    ec2ha_ini_free(ini);
    ini = NULL;
    /* a parse error names the file and the line */
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("[a]\nbroken\n", f);
    fclose(f);
    assert_int_equal(ec2ha_ini_load(path, &ini, &err), EC2HA_ERR_PARSE);
    assert_non_null(strstr(err.message, path));
    assert_non_null(strstr(err.message, "line 2"));
    /* larger than 1 MiB */
    big = malloc(1024 * 1024 + 2);
    assert_non_null(big);
    memset(big, '#', 1024 * 1024 + 1);
    big[1024 * 1024 + 1] = '\0';
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(big, f);
    fclose(f);
    assert_int_equal(ec2ha_ini_load(path, &ini, &err), EC2HA_ERR_TOO_LARGE);
    assert_int_equal(ec2ha_ini_parse(big, strlen(big), &ini, &err), EC2HA_ERR_TOO_LARGE);
    assert_null(ini);
    free(big);
    unlink(path);
    rmdir(dir);
    ec2ha_ini_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_and_no_inline_comments),
        cmocka_unit_test(test_line_endings_comments_whitespace),
        cmocka_unit_test(test_nested_and_continuation),
        cmocka_unit_test(test_default_section),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_secret_not_in_error),
        cmocka_unit_test(test_load),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
