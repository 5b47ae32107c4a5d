/*
 * test_ec2_form.c - exact EC2 Query API request bodies.
 *
 * Each expected body is what the AWS CLI / botocore sends for the same call
 * (parameter names and numbering from the EC2 API reference), with RFC 3986
 * percent-encoding.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ec2ha/ec2.h"

static void assert_body(const ec2ha_form *f, const char *want)
{
    assert_int_equal(f->rc, EC2HA_OK);
    assert_string_equal(ec2ha_buf_str(&f->body), want);
    assert_int_equal(f->body.len, strlen(want));
}

static void test_init(void **state)
{
    ec2ha_form f;

    assert_int_equal(ec2ha_form_init(&f, "DescribeInstances"), EC2HA_OK);
    assert_body(&f, "Action=DescribeInstances&Version=2016-11-15");
    ec2ha_form_free(&f);
    assert_null(f.body.data);
    ec2ha_form_free(&f);   /* twice is fine */
    ec2ha_form_free(NULL);
}

static void test_describe_instances_by_id(void **state)
{
    static const char *const ids[] = { "i-0000000000000aaaa", "i-0000000000000bbbb" };
    ec2ha_form f;

    assert_int_equal(ec2ha_form_init(&f, "DescribeInstances"), EC2HA_OK);
    assert_int_equal(ec2ha_form_add_list(&f, "InstanceId", ids, 2), EC2HA_OK);
    assert_body(&f, "Action=DescribeInstances&Version=2016-11-15"
                    "&InstanceId.1=i-0000000000000aaaa&InstanceId.2=i-0000000000000bbbb");
    ec2ha_form_free(&f);
}

static void test_describe_instances_filters(void **state)
{
    static const char *const names[] = { "node1" };
    static const char *const states[] = { "pending", "running", "stopping", "stopped" };
    const ec2ha_filter filters[] = {
        { "tag:Name", names, 1 },
        { "instance-state-name", states, 4 },
    };
    ec2ha_form f;

    assert_int_equal(ec2ha_form_init(&f, "DescribeInstances"), EC2HA_OK);
    assert_int_equal(ec2ha_form_add_filters(&f, filters, 2), EC2HA_OK);
    assert_int_equal(ec2ha_form_add(&f, "MaxResults", "5"), EC2HA_OK);
    assert_int_equal(ec2ha_form_add(&f, "NextToken", "eyJ2Ijo+/=="), EC2HA_OK);
    assert_body(&f, "Action=DescribeInstances&Version=2016-11-15"
                    "&Filter.1.Name=tag%3AName&Filter.1.Value.1=node1"
                    "&Filter.2.Name=instance-state-name"
                    "&Filter.2.Value.1=pending&Filter.2.Value.2=running"
                    "&Filter.2.Value.3=stopping&Filter.2.Value.4=stopped"
                    "&MaxResults=5&NextToken=eyJ2Ijo%2B%2F%3D%3D");
    ec2ha_form_free(&f);
}

static void test_stop_instances(void **state)
{
    static const char *const id[] = { "i-0abc" };
    ec2ha_form f;

    assert_int_equal(ec2ha_form_init(&f, "StopInstances"), EC2HA_OK);
    assert_int_equal(ec2ha_form_add_list(&f, "InstanceId", id, 1), EC2HA_OK);
    assert_int_equal(ec2ha_form_add_bool(&f, "Force", true), EC2HA_OK);
    assert_int_equal(ec2ha_form_add_bool(&f, "SkipOsShutdown", true), EC2HA_OK);
    assert_int_equal(ec2ha_form_add_bool(&f, "DryRun", false), EC2HA_OK);
    assert_body(&f, "Action=StopInstances&Version=2016-11-15&InstanceId.1=i-0abc"
                    "&Force=true&SkipOsShutdown=true&DryRun=false");
    ec2ha_form_free(&f);
}

static void test_associate_address(void **state)
{
    ec2ha_form f;

    assert_int_equal(ec2ha_form_init(&f, "AssociateAddress"), EC2HA_OK);
    ec2ha_form_add(&f, "AllocationId", "eipalloc-00000000000000001");
    ec2ha_form_add(&f, "NetworkInterfaceId", "eni-0e3e2b9c1a7f6a0b1");
    ec2ha_form_add(&f, "PrivateIpAddress", "10.0.0.157");
    assert_int_equal(ec2ha_form_add_bool(&f, "AllowReassociation", true), EC2HA_OK);
    assert_body(&f, "Action=AssociateAddress&Version=2016-11-15"
                    "&AllocationId=eipalloc-00000000000000001"
                    "&NetworkInterfaceId=eni-0e3e2b9c1a7f6a0b1&PrivateIpAddress=10.0.0.157"
                    "&AllowReassociation=true");
    ec2ha_form_free(&f);
}

static void test_describe_addresses_public_ips(void **state)
{
    static const char *const ips[] = { "203.0.113.10", "198.51.100.2" };
    static const char *const alloc[] = { "eipalloc-1" };
    ec2ha_form f;

    assert_int_equal(ec2ha_form_init(&f, "DescribeAddresses"), EC2HA_OK);
    ec2ha_form_add_list(&f, "AllocationId", alloc, 1);
    assert_int_equal(ec2ha_form_add_list(&f, "PublicIp", ips, 2), EC2HA_OK);
    assert_body(&f, "Action=DescribeAddresses&Version=2016-11-15&AllocationId.1=eipalloc-1"
                    "&PublicIp.1=203.0.113.10&PublicIp.2=198.51.100.2");
    ec2ha_form_free(&f);
}

/* RFC 3986: unreserved kept, the rest %XX uppercase, space is %20 (never '+'), UTF-8 bytes. */
static void test_encoding(void **state)
{
    ec2ha_form f;

    assert_int_equal(ec2ha_form_init(&f, "DescribeInstances"), EC2HA_OK);
    assert_int_equal(ec2ha_form_add(&f, "Filter.1.Name", "tag:my key"), EC2HA_OK);
    assert_int_equal(ec2ha_form_add(&f, "Filter.1.Value.1",
                                    "a b+c&d=e/f?g#h%i~j_k-l.m*n'o(p)q!r\xc3\xa9\n"), EC2HA_OK);
    assert_int_equal(ec2ha_form_add(&f, "Empty", ""), EC2HA_OK);
    assert_body(&f, "Action=DescribeInstances&Version=2016-11-15"
                    "&Filter.1.Name=tag%3Amy%20key"
                    "&Filter.1.Value.1=a%20b%2Bc%26d%3De%2Ff%3Fg%23h%25i~j_k-l.m%2An%27o%28p%29"
                    "q%21r%C3%A9%0A"
                    "&Empty=");
    ec2ha_form_free(&f);
}

static void test_empty_list_adds_nothing(void **state)
{
    ec2ha_form f;

    assert_int_equal(ec2ha_form_init(&f, "DescribeInstances"), EC2HA_OK);
    assert_int_equal(ec2ha_form_add_list(&f, "InstanceId", NULL, 0), EC2HA_OK);
    assert_int_equal(ec2ha_form_add_filters(&f, NULL, 0), EC2HA_OK);
    assert_body(&f, "Action=DescribeInstances&Version=2016-11-15");
    ec2ha_form_free(&f);
}

/* One bad add poisons the form: later adds fail and the body is gone. */
static void test_sticky_failure(void **state)
{
    ec2ha_form f;

    assert_int_equal(ec2ha_form_init(&f, "StopInstances"), EC2HA_OK);
    assert_int_equal(ec2ha_form_add(&f, "InstanceId.1", NULL), EC2HA_ERR_INVALID);
    assert_int_equal(f.rc, EC2HA_ERR_INVALID);
    assert_null(f.body.data);
    assert_int_equal(ec2ha_form_add_bool(&f, "Force", true), EC2HA_ERR_INVALID);
    assert_null(f.body.data);
    ec2ha_form_free(&f);
}

static void test_invalid_arguments(void **state)
{
    static const char *const none[] = { "x" };
    const ec2ha_filter no_values[] = { { "tag:Name", none, 0 } };
    const ec2ha_filter no_name[] = { { NULL, none, 1 } };
    ec2ha_form f;

    assert_int_equal(ec2ha_form_init(&f, ""), EC2HA_ERR_INVALID);
    assert_null(f.body.data);
    ec2ha_form_free(&f);
    assert_int_equal(ec2ha_form_init(&f, NULL), EC2HA_ERR_INVALID);
    ec2ha_form_free(&f);
    assert_int_equal(ec2ha_form_init(NULL, "X"), EC2HA_ERR_INVALID);

    assert_int_equal(ec2ha_form_init(&f, "DescribeInstances"), EC2HA_OK);
    assert_int_equal(ec2ha_form_add_filters(&f, no_values, 1), EC2HA_ERR_INVALID);
    ec2ha_form_free(&f);

    assert_int_equal(ec2ha_form_init(&f, "DescribeInstances"), EC2HA_OK);
    assert_int_equal(ec2ha_form_add_filters(&f, no_name, 1), EC2HA_ERR_INVALID);
    ec2ha_form_free(&f);

    assert_int_equal(ec2ha_form_init(&f, "DescribeInstances"), EC2HA_OK);
    assert_int_equal(ec2ha_form_add(&f, "", "v"), EC2HA_ERR_INVALID);
    ec2ha_form_free(&f);

    assert_int_equal(ec2ha_form_init(&f, "DescribeInstances"), EC2HA_OK);
    assert_int_equal(ec2ha_form_add_list(&f, "InstanceId", NULL, 2), EC2HA_ERR_INVALID);
    ec2ha_form_free(&f);

    /* adding to a freed form fails instead of starting a body without Action */
    assert_int_equal(ec2ha_form_add(&f, "k", "v"), EC2HA_ERR_INVALID);
    ec2ha_form_free(&f);
}

static void test_too_large(void **state)
{
    const size_t n = 2u * 1024 * 1024;
    char *big = malloc(n + 1);
    ec2ha_form f;

    assert_non_null(big);
    memset(big, 'a', n);
    big[n] = '\0';
    assert_int_equal(ec2ha_form_init(&f, "DescribeInstances"), EC2HA_OK);
    assert_int_equal(ec2ha_form_add(&f, "NextToken", big), EC2HA_ERR_TOO_LARGE);
    assert_int_equal(f.rc, EC2HA_ERR_TOO_LARGE);
    assert_null(f.body.data);
    ec2ha_form_free(&f);
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init),
        cmocka_unit_test(test_describe_instances_by_id),
        cmocka_unit_test(test_describe_instances_filters),
        cmocka_unit_test(test_stop_instances),
        cmocka_unit_test(test_associate_address),
        cmocka_unit_test(test_describe_addresses_public_ips),
        cmocka_unit_test(test_encoding),
        cmocka_unit_test(test_empty_list_adds_nothing),
        cmocka_unit_test(test_sticky_failure),
        cmocka_unit_test(test_invalid_arguments),
        cmocka_unit_test(test_too_large),
    };

    return cmocka_run_group_tests_name("ec2_form", tests, NULL, NULL);
}
