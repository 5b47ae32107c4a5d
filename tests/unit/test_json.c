/* test_json.c - the strict JSON reader: lookups, escapes, and malformed documents. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ec2ha/json.h"

static ec2ha_rc get_str(const char *doc, const char *key, char **out, ec2ha_error *err)
{
    return ec2ha_json_get_string(doc, strlen(doc), key, out, err);
}

static void test_get_string_basic(void **state)
{
    const char *doc = "{\"Version\": 1, \"AccessKeyId\": \"AKIDEXAMPLE\",\n"
                      " \"nested\": {\"AccessKeyId\": \"no\"}, \"arr\": [1, \"x\", null, true]}";
    ec2ha_error err = {0};
    char *v = NULL;
    long n = 0;

    (void)state;
    assert_int_equal(get_str(doc, "AccessKeyId", &v, &err), EC2HA_OK);
    assert_string_equal(v, "AKIDEXAMPLE");
    free(v);
    v = NULL;
    assert_int_equal(ec2ha_json_get_long(doc, strlen(doc), "Version", &n, &err), EC2HA_OK);
    assert_int_equal(n, 1);
    /* nested members are not top-level members */
    assert_int_equal(get_str("{\"a\": {\"b\": \"c\"}}", "b", &v, &err), EC2HA_ERR_NOT_FOUND);
    assert_null(v);
    assert_int_equal(get_str(doc, "Missing", &v, &err), EC2HA_ERR_NOT_FOUND);
    assert_non_null(strstr(err.message, "Missing"));
    assert_int_equal(get_str(doc, "Version", &v, &err), EC2HA_ERR_PARSE);
    assert_int_equal(get_str(doc, "nested", &v, &err), EC2HA_ERR_PARSE);
    assert_int_equal(ec2ha_json_get_long(doc, strlen(doc), "AccessKeyId", &n, &err),
                     EC2HA_ERR_PARSE);
    assert_null(v);
}

static void test_escapes(void **state)
{
    ec2ha_error err = {0};
    char *v = NULL;

    (void)state;
    assert_int_equal(get_str("{\"k\":\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\te\"}", "k", &v, &err),
                     EC2HA_OK);
    assert_string_equal(v, "a\"b\\c/d\b\f\n\r\te");
    free(v);
    v = NULL;
    /* BMP code points to 1, 2 and 3 UTF-8 bytes */
    assert_int_equal(get_str("{\"k\":\"\\u0041\\u00e9\\u20AC\"}", "k", &v, &err), EC2HA_OK);
    assert_string_equal(v, "A\xc3\xa9\xe2\x82\xac");
    free(v);
    v = NULL;
    /* surrogate pair: U+1F600 */
    assert_int_equal(get_str("{\"k\":\"\\ud83d\\ude00\"}", "k", &v, &err), EC2HA_OK);
    assert_string_equal(v, "\xf0\x9f\x98\x80");
    free(v);
    v = NULL;
    /* raw UTF-8 passes through */
    assert_int_equal(get_str("{\"k\":\"\xc3\xa9\xf0\x9f\x98\x80\"}", "k", &v, &err), EC2HA_OK);
    assert_string_equal(v, "\xc3\xa9\xf0\x9f\x98\x80");
    free(v);
    v = NULL;
    /* escaped member names match their unescaped form */
    assert_int_equal(get_str("{\"\\u004bey\":\"v\"}", "Key", &v, &err), EC2HA_OK);
    assert_string_equal(v, "v");
    free(v);
    v = NULL;
    /* U+0000 is valid JSON but cannot be a C string */
    assert_int_equal(get_str("{\"k\":\"a\\u0000b\"}", "k", &v, &err), EC2HA_ERR_PARSE);
    assert_int_equal(ec2ha_json_validate_object("{\"k\":\"a\\u0000b\"}", 16, &err), EC2HA_OK);
    assert_null(v);
    assert_int_equal(get_str("{\"k\":\"\"}", "k", &v, &err), EC2HA_OK);
    assert_string_equal(v, "");
    free(v);
}

static void test_numbers(void **state)
{
    ec2ha_error err = {0};
    long n = 0;
    static const char *const good[] = {
        "{\"n\":0}", "{\"n\":-0}", "{\"n\":12}", "{\"n\":-12}", "{\"n\":1.5}", "{\"n\":1e5}",
        "{\"n\":1E+5}", "{\"n\":1.25e-3}", "{\"n\":0.0}",
    };
    static const char *const bad[] = {
        "{\"n\":01}", "{\"n\":+1}", "{\"n\":1.}", "{\"n\":.5}", "{\"n\":1e}", "{\"n\":-}",
        "{\"n\":0x10}", "{\"n\":1e+}", "{\"n\":NaN}", "{\"n\":Infinity}", "{\"n\":--1}",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        assert_int_equal(ec2ha_json_validate_object(good[i], strlen(good[i]), &err), EC2HA_OK);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(ec2ha_json_validate_object(bad[i], strlen(bad[i]), &err),
                         EC2HA_ERR_PARSE);
    }
    assert_int_equal(ec2ha_json_get_long("{\"n\":-42}", 9, "n", &n, &err), EC2HA_OK);
    assert_int_equal(n, -42);
    n = 7;
    assert_int_equal(ec2ha_json_get_long("{\"n\":1.0}", 9, "n", &n, &err), EC2HA_ERR_PARSE);
    assert_int_equal(ec2ha_json_get_long("{\"n\":1e2}", 9, "n", &n, &err), EC2HA_ERR_PARSE);
    assert_int_equal(ec2ha_json_get_long("{\"n\":99999999999999999999999}", 29, "n", &n, &err),
                     EC2HA_ERR_PARSE);
    assert_int_equal(n, 7);   /* untouched on error */
}

static void test_malformed(void **state)
{
    ec2ha_error err = {0};
    static const char *const bad[] = {
        "",
        "   ",
        "[]",
        "\"s\"",
        "1",
        "null",
        "{",
        "}",
        "{\"a\"}",
        "{\"a\":}",
        "{\"a\":1,}",
        "{,}",
        "{\"a\":1 \"b\":2}",
        "{'a':1}",
        "{a:1}",
        "{\"a\":[1,]}",
        "{\"a\":[1 2]}",
        "{\"a\":tru}",
        "{\"a\":nul}",
        "{\"a\":True}",
        "{\"a\":\"x}",
        "{\"a\":\"\\x\"}",
        "{\"a\":\"\\u12\"}",
        "{\"a\":\"\\u12G4\"}",
        "{\"a\":\"\\ud800\"}",          /* lone high surrogate */
        "{\"a\":\"\\ud800\\u0041\"}",   /* high surrogate + non-low */
        "{\"a\":\"\\udc00\"}",          /* lone low surrogate */
        "{\"a\":\"tab\there\"}",        /* raw control character */
        "{\"a\":\"nl\nhere\"}",
        "{\"a\":1} x",
        "{\"a\":1}{}",
        "{\"a\":\"\xc3\"}",             /* truncated UTF-8 */
        "{\"a\":\"\xc0\xaf\"}",         /* overlong */
        "{\"a\":\"\xed\xa0\x80\"}",     /* UTF-8 encoded surrogate */
        "{\"a\":\"\xf4\x90\x80\x80\"}", /* > U+10FFFF */
        "{\"a\":\"\xff\"}",
        "{\"a\":1}\v",                  /* not JSON whitespace */
        "\xef\xbb\xbf{}",               /* BOM */
        "{\"a\":1,\"a\":2}",            /* duplicates are checked per looked-up key */
    };

    (void)state;
    for (size_t i = 0; i + 1 < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&err, 0, sizeof(err));
        if (ec2ha_json_validate_object(bad[i], strlen(bad[i]), &err) != EC2HA_ERR_PARSE) {
            fail_msg("accepted malformed document #%zu: %s", i, bad[i]);
        }
        assert_int_equal(err.rc, EC2HA_ERR_PARSE);
        assert_non_null(strstr(err.message, "JSON"));
    }
    /* an embedded NUL within len */
    assert_int_equal(ec2ha_json_validate_object("{\"a\":1}\0", 8, &err), EC2HA_ERR_PARSE);
    assert_int_equal(ec2ha_json_validate_object(NULL, 0, &err), EC2HA_ERR_PARSE);
    /* len is honoured: the document ends where len says */
    assert_int_equal(ec2ha_json_validate_object("{\"a\":1}garbage", 7, &err), EC2HA_OK);
    assert_int_equal(ec2ha_json_validate_object(" \t\r\n{ } \n", 9, &err), EC2HA_OK);
}

static void test_duplicates(void **state)
{
    const char *doc = "{\"a\":1,\"a\":2,\"b\":\"x\"}";
    ec2ha_error err = {0};
    char *v = NULL;
    long n = 0;

    (void)state;
    assert_int_equal(ec2ha_json_get_long(doc, strlen(doc), "a", &n, &err), EC2HA_ERR_PARSE);
    assert_non_null(strstr(err.message, "2 times"));
    assert_int_equal(get_str(doc, "b", &v, &err), EC2HA_OK);
    assert_string_equal(v, "x");
    free(v);
}

static void test_depth(void **state)
{
    char doc[512];
    size_t n = 0;
    ec2ha_error err = {0};

    (void)state;
    /* depth 64 in total is fine, 65 is not */
    doc[n++] = '{';
    doc[n++] = '"';
    doc[n++] = 'a';
    doc[n++] = '"';
    doc[n++] = ':';
    for (int i = 0; i < 63; i++) {
        doc[n++] = '[';
    }
    for (int i = 0; i < 63; i++) {
        doc[n++] = ']';
    }
    doc[n++] = '}';
    assert_int_equal(ec2ha_json_validate_object(doc, n, &err), EC2HA_OK);
    n = 0;
    doc[n++] = '{';
    doc[n++] = '"';
    doc[n++] = 'a';
    doc[n++] = '"';
    doc[n++] = ':';
    for (int i = 0; i < 64; i++) {
        doc[n++] = '[';
    }
    for (int i = 0; i < 64; i++) {
        doc[n++] = ']';
    }
    doc[n++] = '}';
    assert_int_equal(ec2ha_json_validate_object(doc, n, &err), EC2HA_ERR_PARSE);
    assert_non_null(strstr(err.message, "deep"));
}

static void test_deep_unbalanced(void **state)
{
    /* 100000 '[' must be refused by the depth bound, not by the stack */
    size_t len = 100000;
    char *doc = malloc(len + 8);
    ec2ha_error err = {0};

    (void)state;
    assert_non_null(doc);
    memcpy(doc, "{\"a\":", 5);
    memset(doc + 5, '[', len);
    assert_int_equal(ec2ha_json_validate_object(doc, len + 5, &err), EC2HA_ERR_PARSE);
    free(doc);
}

static void test_error_has_no_content(void **state)
{
    /* a secret inside a broken document must not reach the message */
    const char *doc = "{\"SecretAccessKey\":\"wJalrXUtnFEMI/K7MDENG\" oops}";
    ec2ha_error err = {0};
    char *v = NULL;

    (void)state;
    assert_int_equal(get_str(doc, "SecretAccessKey", &v, &err), EC2HA_ERR_PARSE);
    assert_null(strstr(err.message, "wJalr"));
    assert_null(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_string_basic),
        cmocka_unit_test(test_escapes),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_depth),
        cmocka_unit_test(test_deep_unbalanced),
        cmocka_unit_test(test_error_has_no_content),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
