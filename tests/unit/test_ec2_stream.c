/*
 * test_ec2_stream.c - the streaming DescribeInstances parser (ec2_xml_stream.c):
 * the same document fed whole, a byte at a time, or split anywhere gives the
 * same instances; a retry (reset) drops what a cut attempt left; truncation,
 * DOCTYPE and error documents are refused while streaming as they are whole.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "ec2_private.h"
#include "ec2ha/buf.h"
#include "ec2ha/ec2.h"
#include "testdata.h"

/* ---- comparing results ------------------------------------------------------------- */

static void same_str(const char *a, const char *b, const char *field)
{
    if (a == NULL || b == NULL) {
        if (a != b) {
            fail_msg("%s: '%s' vs '%s'", field, a != NULL ? a : "(null)",
                     b != NULL ? b : "(null)");
        }
        return;
    }
    if (strcmp(a, b) != 0) {
        fail_msg("%s: '%s' vs '%s'", field, a, b);
    }
}

static void same_list(const ec2ha_instance_list *a, const ec2ha_instance_list *b)
{
    assert_int_equal(a->count, b->count);
    assert_true((a->items == NULL) == (b->items == NULL));
    for (size_t i = 0; i < a->count; i++) {
        const ec2ha_instance *x = &a->items[i];
        const ec2ha_instance *y = &b->items[i];

        same_str(x->instance_id, y->instance_id, "instance_id");
        assert_int_equal(x->state, y->state);
        assert_int_equal(x->state_code, y->state_code);
        same_str(x->state_name, y->state_name, "state_name");
        same_str(x->private_ip, y->private_ip, "private_ip");
        same_str(x->private_dns, y->private_dns, "private_dns");
        same_str(x->public_ip, y->public_ip, "public_ip");
        same_str(x->availability_zone, y->availability_zone, "availability_zone");
        assert_int_equal(x->n_tags, y->n_tags);
        assert_true((x->tags == NULL) == (y->tags == NULL));
        for (size_t j = 0; j < x->n_tags; j++) {
            same_str(x->tags[j].key, y->tags[j].key, "tag key");
            same_str(x->tags[j].value, y->tags[j].value, "tag value");
        }
        assert_int_equal(x->n_interfaces, y->n_interfaces);
        assert_true((x->interfaces == NULL) == (y->interfaces == NULL));
        for (size_t j = 0; j < x->n_interfaces; j++) {
            same_str(x->interfaces[j].interface_id, y->interfaces[j].interface_id, "eni id");
            same_str(x->interfaces[j].mac_address, y->interfaces[j].mac_address, "eni mac");
            same_str(x->interfaces[j].private_ip, y->interfaces[j].private_ip, "eni ip");
            same_str(x->interfaces[j].public_ip, y->interfaces[j].public_ip, "eni public ip");
            assert_int_equal(x->interfaces[j].device_index, y->interfaces[j].device_index);
        }
    }
}

/* The document fed in pieces of `step` bytes (and the rest), then finished. */
static ec2ha_rc parse_in_steps(const char *xml, size_t len, size_t step, ec2ha_instance_list *out,
                               char **token, ec2ha_error *err)
{
    ec2_instances_parser *p = NULL;
    ec2ha_rc rc;

    assert_int_equal(ec2_instances_parser_new(&p, err), EC2HA_OK);
    assert_int_equal(ec2_instances_parser_reset(p, 200, err), EC2HA_OK);
    rc = EC2HA_OK;
    for (size_t off = 0; off < len && rc == EC2HA_OK; off += step) {
        rc = ec2_instances_parser_feed(p, xml + off, len - off < step ? len - off : step, err);
    }
    if (rc == EC2HA_OK) {
        rc = ec2_instances_parser_finish(p, out, token, err);
    } else {
        /* a refused feed makes finish() repeat the refusal, with nothing out */
        ec2ha_error again;

        ec2ha_error_clear(&again);
        assert_int_equal(ec2_instances_parser_finish(p, out, token, &again), rc);
        assert_string_equal(again.message, err->message);
        assert_null(out->items);
    }
    ec2_instances_parser_free(p);
    return rc;
}

/* Whole, byte by byte and in 7- and 4096-byte pieces: the same result and token. */
static void check_chunked_same(const char *file)
{
    static const size_t steps[] = { 1, 7, 4096 };
    ec2ha_instance_list whole = { NULL, 0 };
    char *token = NULL;
    ec2ha_error err;
    size_t len;
    char *xml = test_read_data(file, &len);

    ec2ha_error_clear(&err);
    if (ec2ha_ec2_parse_describe_instances(xml, len, &whole, &token, &err) != EC2HA_OK) {
        fail_msg("%s: %s", file, err.message);
    }
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        ec2ha_instance_list l = { NULL, 0 };
        char *t = NULL;

        if (parse_in_steps(xml, len, steps[i], &l, &t, &err) != EC2HA_OK) {
            fail_msg("%s in %zu-byte pieces: %s", file, steps[i], err.message);
        }
        same_list(&whole, &l);
        same_str(token, t, "nextToken");
        ec2ha_instance_list_free(&l);
        free(t);
    }
    ec2ha_instance_list_free(&whole);
    free(token);
    free(xml);
}

static void test_chunked_fixtures(void **state)
{
    check_chunked_same("ec2-response-fixtures/ec2-describe-instances.xml");
    check_chunked_same("ec2-xml/describe-instances-vpc.xml");
    check_chunked_same("ec2-xml/describe-instances-empty.xml");
    check_chunked_same("ec2-xml/describe-instances-minimal.xml");
    check_chunked_same("ec2-xml/describe-instances-prefixed.xml");
    check_chunked_same("ec2-xml/describe-instances-state-mismatch.xml");
}

/* The small VPC document split in two at every offset. */
static void test_split_everywhere(void **state)
{
    ec2ha_instance_list whole = { NULL, 0 };
    char *token = NULL;
    ec2ha_error err;
    size_t len;
    char *xml = test_read_data("ec2-xml/describe-instances-vpc.xml", &len);
    ec2_instances_parser *p = NULL;

    assert_int_equal(ec2ha_ec2_parse_describe_instances(xml, len, &whole, &token, &err),
                     EC2HA_OK);
    assert_int_equal(ec2_instances_parser_new(&p, &err), EC2HA_OK);
    for (size_t cut = 0; cut <= len; cut++) {
        ec2ha_instance_list l = { NULL, 0 };
        char *t = NULL;

        /* one parser, reset for each attempt, as across retries */
        assert_int_equal(ec2_instances_parser_reset(p, 200, &err), EC2HA_OK);
        assert_int_equal(ec2_instances_parser_feed(p, xml, cut, &err), EC2HA_OK);
        assert_int_equal(ec2_instances_parser_feed(p, xml + cut, len - cut, &err), EC2HA_OK);
        if (ec2_instances_parser_finish(p, &l, &t, &err) != EC2HA_OK) {
            fail_msg("split at %zu: %s", cut, err.message);
        }
        same_list(&whole, &l);
        same_str(token, t, "nextToken");
        ec2ha_instance_list_free(&l);
        free(t);
    }
    ec2_instances_parser_free(p);
    ec2ha_instance_list_free(&whole);
    free(token);
    free(xml);
}

/* Every cut short of the root's end tag is a parse error with nothing out, streamed or whole. */
static void test_truncated_everywhere(void **state)
{
    size_t len;
    char *xml = test_read_data("ec2-xml/describe-instances-vpc.xml", &len);
    const char *end = strstr(xml, "</DescribeInstancesResponse>");
    size_t complete;

    assert_non_null(end);
    complete = (size_t)(end - xml) + strlen("</DescribeInstancesResponse>");
    for (size_t cut = 0; cut < complete; cut++) {
        ec2ha_instance_list l = { NULL, 0 };
        char *t = (char *)(uintptr_t)0x5e5e5e5e;
        ec2ha_error err;
        ec2ha_rc rc;

        ec2ha_error_clear(&err);
        rc = parse_in_steps(xml, cut, 64, &l, &t, &err);
        if (rc != EC2HA_ERR_PARSE) {
            fail_msg("cut at %zu: rc %d (%s)", cut, rc, err.message);
        }
        assert_null(l.items);
        assert_int_equal(l.count, 0);
        assert_null(t);
        assert_int_equal(err.http_status, 200);   /* a broken 2xx body: retried like a cut */
        assert_int_equal(ec2ha_ec2_parse_describe_instances(xml, cut, &l, NULL, &err),
                         EC2HA_ERR_PARSE);
        assert_null(l.items);
    }
    {
        ec2ha_instance_list l = { NULL, 0 };
        ec2ha_error err;

        ec2ha_error_clear(&err);
        assert_int_equal(parse_in_steps(xml, complete, 64, &l, NULL, &err), EC2HA_OK);
        assert_int_equal(l.count, 2);
        ec2ha_instance_list_free(&l);
        ec2ha_error_clear(&err);
        assert_int_equal(parse_in_steps(xml, 200, 64, &l, NULL, &err), EC2HA_ERR_PARSE);
        assert_non_null(strstr(err.message, "not well-formed"));
    }
    free(xml);
}

/* Results of a cut attempt never leak into the next one. */
static void test_reset_drops_partial_results(void **state)
{
    static const char first[] =
        "<DescribeInstancesResponse><reservationSet><item><instancesSet>"
        "<item><instanceId>i-partial1</instanceId></item>"
        "<item><instanceId>i-partial2</instanceId></item><item><instanceId>i-par";
    static const char second[] =
        "<DescribeInstancesResponse><reservationSet><item><instancesSet>"
        "<item><instanceId>i-good</instanceId></item></instancesSet></item></reservationSet>"
        "<nextToken>t2</nextToken></DescribeInstancesResponse>";
    ec2_instances_parser *p = NULL;
    ec2ha_instance_list l = { NULL, 0 };
    char *t = NULL;
    ec2ha_error err;

    ec2ha_error_clear(&err);
    assert_int_equal(ec2_instances_parser_new(&p, &err), EC2HA_OK);
    assert_int_equal(ec2_instances_parser_reset(p, 200, &err), EC2HA_OK);
    assert_int_equal(ec2_instances_parser_feed(p, first, sizeof(first) - 1, &err), EC2HA_OK);
    assert_int_equal(ec2_instances_parser_reset(p, 200, &err), EC2HA_OK);
    assert_int_equal(ec2_instances_parser_feed(p, second, sizeof(second) - 1, &err), EC2HA_OK);
    assert_int_equal(ec2_instances_parser_finish(p, &l, &t, &err), EC2HA_OK);
    assert_int_equal(l.count, 1);
    assert_string_equal(l.items[0].instance_id, "i-good");
    assert_string_equal(t, "t2");
    ec2ha_instance_list_free(&l);
    free(t);

    /* a failed feed refuses everything until the next reset */
    assert_int_equal(ec2_instances_parser_reset(p, 200, &err), EC2HA_OK);
    assert_int_equal(ec2_instances_parser_feed(p, second, 40, &err), EC2HA_OK);
    ec2ha_error_clear(&err);
    assert_int_equal(ec2_instances_parser_feed(p, "</b></b></b>", 12, &err), EC2HA_ERR_PARSE);
    assert_non_null(strstr(err.message, "not well-formed"));
    assert_int_equal(ec2_instances_parser_feed(p, second, sizeof(second) - 1, &err),
                     EC2HA_ERR_PARSE);
    assert_int_equal(ec2_instances_parser_finish(p, &l, NULL, &err), EC2HA_ERR_PARSE);
    assert_null(l.items);
    assert_int_equal(ec2_instances_parser_reset(p, 200, &err), EC2HA_OK);
    assert_int_equal(ec2_instances_parser_feed(p, second, sizeof(second) - 1, &err), EC2HA_OK);
    assert_int_equal(ec2_instances_parser_finish(p, &l, NULL, &err), EC2HA_OK);
    assert_int_equal(l.count, 1);
    ec2ha_instance_list_free(&l);

    /* an empty 2xx body */
    ec2ha_error_clear(&err);
    assert_int_equal(ec2_instances_parser_reset(p, 200, &err), EC2HA_OK);
    assert_int_equal(ec2_instances_parser_finish(p, &l, NULL, &err), EC2HA_ERR_PARSE);
    assert_non_null(strstr(err.message, "empty"));
    ec2_instances_parser_free(p);
    ec2_instances_parser_free(NULL);
}

/* DOCTYPE refused a byte at a time too, before any declaration is read. */
static void test_doctype_refused_streaming(void **state)
{
    static const char *const files[] = { "ec2-xml/billion-laughs.xml", "ec2-xml/xxe-file.xml" };
    struct timespec t0;
    struct timespec t1;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        ec2ha_instance_list l = { NULL, 0 };
        ec2ha_error err;
        size_t len;
        char *xml = test_read_data(files[i], &len);

        ec2ha_error_clear(&err);
        assert_int_equal(parse_in_steps(xml, len, 1, &l, NULL, &err), EC2HA_ERR_PARSE);
        assert_non_null(strstr(err.message, "DOCTYPE"));
        assert_null(l.items);
        free(xml);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_true(t1.tv_sec - t0.tv_sec < 2);
}

/* An error document (or a proxy page) at 2xx, streamed, is read by the DOM error path. */
static void test_error_documents_streaming(void **state)
{
    ec2ha_instance_list l = { NULL, 0 };
    ec2ha_error err;
    size_t len;
    char *xml = test_read_data("ec2-response-fixtures/ec2-describe-instances-error.xml", &len);

    ec2ha_error_clear(&err);
    assert_int_equal(parse_in_steps(xml, len, 5, &l, NULL, &err), EC2HA_ERR_AWS);
    assert_string_equal(err.code, "InvalidInstanceID.Malformed");
    assert_string_equal(err.request_id, "dfb14b43-9a55-4d8e-b676-e8034d12bbeb");
    assert_int_equal(err.http_status, 200);
    assert_null(l.items);
    /* cut short: not well-formed, not an AWS error */
    ec2ha_error_clear(&err);
    assert_int_equal(parse_in_steps(xml, len / 2, 5, &l, NULL, &err), EC2HA_ERR_PARSE);
    assert_non_null(strstr(err.message, "not well-formed"));
    free(xml);

    xml = test_read_data("ec2-xml/error-errorresponse.xml", &len);
    ec2ha_error_clear(&err);
    assert_int_equal(parse_in_steps(xml, len, 3, &l, NULL, &err), EC2HA_ERR_AWS);
    assert_string_equal(err.code, "InvalidClientTokenId");
    free(xml);

    xml = test_read_data("ec2-xml/html-error.html", &len);
    ec2ha_error_clear(&err);
    assert_int_equal(parse_in_steps(xml, len, 1, &l, NULL, &err), EC2HA_ERR_PARSE);
    assert_non_null(strstr(err.message, "root element is <html>"));
    free(xml);

    xml = test_read_data("ec2-xml/describe-addresses-vpc.xml", &len);
    ec2ha_error_clear(&err);
    assert_int_equal(parse_in_steps(xml, len, 1, &l, NULL, &err), EC2HA_ERR_PARSE);
    assert_non_null(strstr(err.message, "expected a <DescribeInstancesResponse> document"));
    free(xml);
}

/* The DOM's reading rules: first of each field, unbound prefixes, nested text, CDATA. */
static void test_reading_rules(void **state)
{
    static const char doc[] =
        "<DescribeInstancesResponse xmlns:e=\"urn:x\"><reservationSet><item><instancesSet>"
        "<item><x:instanceId>i-unbound</x:instanceId><e:instanceId> i-1 </e:instanceId>"
        "<instanceId>i-second</instanceId>"
        "<placement/><placement><availabilityZone>az-second</availabilityZone></placement>"
        "<privateDnsName/><privateDnsName>dns-second</privateDnsName>"
        "<instanceState><name>stopped</name><code>8<!-- c -->0</code><code>16</code>"
        "</instanceState>"
        "<tagSet><item><key>a<b>nested</b>b</key><value><![CDATA[<x&y>]]></value></item>"
        "<item><key></key></item></tagSet>"
        "<networkInterfaceSet><item><networkInterfaceId>eni-1</networkInterfaceId>"
        "<privateIpAddressesSet><item><privateIpAddress>10.9.9.9</privateIpAddress></item>"
        "</privateIpAddressesSet><privateIpAddress>10.0.0.1</privateIpAddress>"
        "<attachment><deviceIndex> 3 </deviceIndex></attachment></item></networkInterfaceSet>"
        "</item></instancesSet></item></reservationSet>"
        "<reservationSet><item><instancesSet><item><instanceId>i-ignored</instanceId></item>"
        "</instancesSet></item></reservationSet><nextToken>  </nextToken>"
        "</DescribeInstancesResponse>";
    ec2ha_instance_list l = { NULL, 0 };
    ec2ha_instance_list l2 = { NULL, 0 };
    char *t = (char *)(uintptr_t)0x5e5e5e5e;
    ec2ha_error err;
    const ec2ha_instance *i;

    ec2ha_error_clear(&err);
    assert_int_equal(ec2ha_ec2_parse_describe_instances(doc, sizeof(doc) - 1, &l, &t, &err),
                     EC2HA_OK);
    assert_null(t);
    assert_int_equal(l.count, 1);
    i = &l.items[0];
    assert_string_equal(i->instance_id, "i-1");
    assert_null(i->availability_zone);
    assert_null(i->private_dns);
    assert_int_equal(i->state_code, 80);
    assert_int_equal(i->state, EC2HA_STATE_STOPPED);
    assert_int_equal(i->n_tags, 2);
    assert_string_equal(i->tags[0].key, "ab");
    assert_string_equal(i->tags[0].value, "<x&y>");
    assert_string_equal(i->tags[1].key, "");
    assert_string_equal(i->tags[1].value, "");
    assert_int_equal(i->n_interfaces, 1);
    assert_string_equal(i->interfaces[0].private_ip, "10.0.0.1");
    assert_int_equal(i->interfaces[0].device_index, 3);
    assert_int_equal(parse_in_steps(doc, sizeof(doc) - 1, 1, &l2, NULL, &err), EC2HA_OK);
    same_list(&l, &l2);
    ec2ha_instance_list_free(&l);
    ec2ha_instance_list_free(&l2);
}

/* Checks run in the DOM parser's order when an instance closes. */
static void test_check_order(void **state)
{
    static const struct {
        const char *doc;
        const char *needle;
    } cases[] = {
        { "<DescribeInstancesResponse><reservationSet><item><instancesSet><item>"
          "<instanceState><code>x</code></instanceState><tagSet><item/></tagSet>"
          "</item></instancesSet></item></reservationSet></DescribeInstancesResponse>",
          "without an instanceId" },
        { "<DescribeInstancesResponse><reservationSet><item><instancesSet><item>"
          "<tagSet><item/></tagSet><instanceState><code>x</code></instanceState>"
          "<instanceId>i-1</instanceId></item></instancesSet></item></reservationSet>"
          "</DescribeInstancesResponse>",
          "<code> is 'x', not an integer" },
        { "<DescribeInstancesResponse><reservationSet><item><instancesSet><item>"
          "<networkInterfaceSet><item/></networkInterfaceSet><tagSet><item/></tagSet>"
          "<instanceId>i-1</instanceId></item></instancesSet></item></reservationSet>"
          "</DescribeInstancesResponse>",
          "i-1 has a tag without a key" },
        { "<DescribeInstancesResponse><reservationSet><item><instancesSet><item>"
          "<instanceId>i-1</instanceId><networkInterfaceSet><item><networkInterfaceId>e"
          "</networkInterfaceId><attachment><deviceIndex>-1</deviceIndex></attachment></item>"
          "<item/></networkInterfaceSet></item></instancesSet></item></reservationSet>"
          "</DescribeInstancesResponse>",
          "deviceIndex -1 out of range" },
        { "<DescribeInstancesResponse><reservationSet><item><instancesSet><item>"
          "<instanceId>i-1</instanceId><networkInterfaceSet><item><networkInterfaceId>e"
          "</networkInterfaceId><attachment><deviceIndex>1z</deviceIndex></attachment></item>"
          "</networkInterfaceSet></item></instancesSet></item></reservationSet>"
          "</DescribeInstancesResponse>",
          "<deviceIndex> is '1z', not an integer" },
    };

    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        ec2ha_instance_list l = { NULL, 0 };
        ec2ha_error err;

        ec2ha_error_clear(&err);
        assert_int_equal(ec2ha_ec2_parse_describe_instances(cases[c].doc, strlen(cases[c].doc),
                                                            &l, NULL, &err), EC2HA_ERR_PARSE);
        if (strstr(err.message, cases[c].needle) == NULL) {
            fail_msg("case %zu: '%s' lacks '%s'", c, err.message, cases[c].needle);
        }
        assert_null(l.items);
    }
}

/* A full 1000-instance page (EC2's MaxResults maximum), whole and in 16 KiB pieces. */
static void test_thousand_instance_page(void **state)
{
    const size_t n = 1000;
    ec2ha_instance_list whole = { NULL, 0 };
    ec2ha_instance_list l = { NULL, 0 };
    char *token = NULL;
    char *t = NULL;
    ec2ha_buf b;
    ec2ha_error err;

    ec2ha_buf_init(&b, 0);
    assert_int_equal(ec2ha_buf_append_str(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                                          "<DescribeInstancesResponse xmlns=\"" EC2HA_EC2_XMLNS
                                          "\">\n <requestId>r</requestId>\n <reservationSet>\n"),
                     EC2HA_OK);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(ec2ha_buf_printf(&b,
            "  <item><reservationId>r-%zu</reservationId><instancesSet><item>\n"
            "   <instanceId>i-1%016zx</instanceId><imageId>ami-1</imageId>\n"
            "   <instanceState><code>%d</code><name>%s</name></instanceState>\n"
            "   <privateDnsName>ip-10-1-%zu-%zu.ec2.internal</privateDnsName>\n"
            "   <placement><availabilityZone>us-east-1a</availabilityZone><tenancy>default"
            "</tenancy></placement>\n"
            "   <privateIpAddress>10.1.%zu.%zu</privateIpAddress>\n"
            "   <blockDeviceMapping><item><deviceName>/dev/xvda</deviceName></item>"
            "</blockDeviceMapping>\n"
            "   <tagSet><item><key>Name</key><value>bench-%05zu</value></item>"
            "<item><key>env</key><value>bench</value></item></tagSet>\n"
            "   <networkInterfaceSet><item><networkInterfaceId>eni-1%016zx</networkInterfaceId>"
            "<macAddress>0e:01:00:00:00:01</macAddress><privateIpAddress>10.1.%zu.%zu"
            "</privateIpAddress><attachment><deviceIndex>0</deviceIndex></attachment>"
            "</item></networkInterfaceSet>\n  </item></instancesSet></item>\n",
            i, i, i % 10 ? 16 : 80, i % 10 ? "running" : "stopped", i / 250, 1 + i % 250,
            i / 250, 1 + i % 250, i, i, i / 250, 1 + i % 250), EC2HA_OK);
    }
    assert_int_equal(ec2ha_buf_append_str(&b, " </reservationSet>\n <nextToken>page2</nextToken>\n"
                                          "</DescribeInstancesResponse>\n"), EC2HA_OK);
    ec2ha_error_clear(&err);
    assert_int_equal(ec2ha_ec2_parse_describe_instances(b.data, b.len, &whole, &token, &err),
                     EC2HA_OK);
    assert_int_equal(whole.count, n);
    assert_string_equal(token, "page2");
    assert_string_equal(whole.items[999].instance_id, "i-100000000000003e7");
    assert_int_equal(whole.items[0].state, EC2HA_STATE_STOPPED);
    assert_int_equal(whole.items[1].state, EC2HA_STATE_RUNNING);
    assert_string_equal(ec2ha_instance_tag(&whole.items[123], "Name"), "bench-00123");
    assert_string_equal(whole.items[500].availability_zone, "us-east-1a");
    assert_int_equal(whole.items[500].interfaces[0].device_index, 0);
    assert_int_equal(parse_in_steps(b.data, b.len, 16384, &l, &t, &err), EC2HA_OK);
    same_list(&whole, &l);
    assert_string_equal(t, "page2");
    ec2ha_instance_list_free(&whole);
    ec2ha_instance_list_free(&l);
    free(token);
    free(t);
    ec2ha_buf_free(&b);
}

/* More instances than one page may hold: refused as soon as the cap is passed. */
static void test_item_cap_streaming(void **state)
{
    static const char head[] = "<DescribeInstancesResponse><reservationSet><item><instancesSet>";
    static const char one[] = "<item><instanceId>i-1</instanceId></item>";
    ec2_instances_parser *p = NULL;
    ec2ha_instance_list l = { NULL, 0 };
    ec2ha_error err;
    ec2ha_rc rc = EC2HA_OK;

    ec2ha_error_clear(&err);
    assert_int_equal(ec2_instances_parser_new(&p, &err), EC2HA_OK);
    assert_int_equal(ec2_instances_parser_reset(p, 200, &err), EC2HA_OK);
    assert_int_equal(ec2_instances_parser_feed(p, head, sizeof(head) - 1, &err), EC2HA_OK);
    for (int i = 0; i <= EC2_XML_MAX_ITEMS && rc == EC2HA_OK; i++) {
        rc = ec2_instances_parser_feed(p, one, sizeof(one) - 1, &err);
    }
    if (rc == EC2HA_OK) {
        rc = ec2_instances_parser_feed(p, "<", 1, &err);   /* the last item opens on its '>' */
    }
    assert_int_equal(rc, EC2HA_ERR_PARSE);
    assert_non_null(strstr(err.message, "more than 100000 instances"));
    assert_int_equal(ec2_instances_parser_finish(p, &l, NULL, &err), EC2HA_ERR_PARSE);
    assert_null(l.items);
    ec2_instances_parser_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chunked_fixtures),
        cmocka_unit_test(test_split_everywhere),
        cmocka_unit_test(test_truncated_everywhere),
        cmocka_unit_test(test_reset_drops_partial_results),
        cmocka_unit_test(test_doctype_refused_streaming),
        cmocka_unit_test(test_error_documents_streaming),
        cmocka_unit_test(test_reading_rules),
        cmocka_unit_test(test_check_order),
        cmocka_unit_test(test_thousand_instance_page),
        cmocka_unit_test(test_item_cap_streaming),
    };

    return cmocka_run_group_tests_name("ec2_stream", tests, NULL, NULL);
}
