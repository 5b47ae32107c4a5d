/* test_cluster.c - libcib access through CIB_file fixtures (tests/data/cib). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "ec2ha/cluster.h"

static char fixture_path[4096];

static const char *fixture(const char *name)
{
    const char *dir = getenv("EC2HA_TEST_DATA");

    snprintf(fixture_path, sizeof(fixture_path), "%s/cib/%s", dir != NULL ? dir : "tests/data",
             name);
    return fixture_path;
}

static ec2ha_cluster *connect_to(const char *name)
{
    ec2ha_cluster *c = NULL;
    ec2ha_error err;

    setenv("CIB_file", fixture(name), 1);
    if (ec2ha_cluster_connect(&c, &err) != EC2HA_OK) {
        fail_msg("connect to %s: %s", fixture_path, err.message);
    }
    return c;
}

/* A private copy of a fixture that writes may change. */
static char *temp_copy(const char *name)
{
    char *path = strdup("/tmp/ec2ha-test-cib-XXXXXX");
    char buf[4096];
    FILE *in;
    FILE *out;
    size_t got;
    int fd;

    assert_non_null(path);
    fd = mkstemp(path);
    assert_true(fd >= 0);
    out = fdopen(fd, "w");
    in = fopen(fixture(name), "r");
    assert_non_null(out);
    assert_non_null(in);
    while ((got = fread(buf, 1, sizeof(buf), in)) > 0) {
        assert_int_equal(fwrite(buf, 1, got, out), got);
    }
    fclose(in);
    fclose(out);
    return path;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    char *text;
    long len;

    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    len = ftell(f);
    assert_true(len > 0);
    rewind(f);
    text = calloc(1, (size_t)len + 1);
    assert_non_null(text);
    assert_int_equal(fread(text, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    return text;
}

static size_t count_of(const char *hay, const char *needle)
{
    size_t n = 0;

    for (hay = strstr(hay, needle); hay != NULL; hay = strstr(hay + 1, needle)) {
        n++;
    }
    return n;
}

/* ---- connection ---------------------------------------------------------------------- */

static void test_unreachable_cib(void **state)
{
    ec2ha_cluster *c = (ec2ha_cluster *)0x1;
    ec2ha_error err;

    (void)state;
    setenv("CIB_file", "/nonexistent/ec2ha/cib.xml", 1);
    assert_int_equal(ec2ha_cluster_connect(&c, &err), EC2HA_ERR_CIB);
    assert_null(c);
    assert_int_equal(err.rc, EC2HA_ERR_CIB);
    assert_non_null(strstr(err.message, "/nonexistent/ec2ha/cib.xml"));
    assert_non_null(strstr(err.message, "No such file or directory"));
    ec2ha_cluster_free(NULL);
}

/* ---- properties ------------------------------------------------------------------------- */

static void test_stonith_enabled(void **state)
{
    static const struct {
        const char *file;
        bool expected;
    } cases[] = {
        {"stonith-true.xml", true},
        {"cluster.xml", false},          /* cib-bootstrap-options wins over a later set */
        {"stonith-absent.xml", true},    /* Pacemaker's default */
        {"stonith-invalid.xml", true},   /* invalid value: Pacemaker uses the default */
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ec2ha_cluster *c = connect_to(cases[i].file);
        ec2ha_error err;
        bool enabled = !cases[i].expected;

        assert_int_equal(ec2ha_cluster_stonith_enabled(c, &enabled, &err), EC2HA_OK);
        if (enabled != cases[i].expected) {
            fail_msg("%s: stonith-enabled %d, expected %d", cases[i].file, enabled,
                     cases[i].expected);
        }
        ec2ha_cluster_free(c);
    }
}

static void test_get_property(void **state)
{
    ec2ha_cluster *c = connect_to("cluster.xml");
    char *value = NULL;
    ec2ha_error err;

    (void)state;
    assert_int_equal(ec2ha_cluster_get_property(c, "cluster-name", &value, &err), EC2HA_OK);
    assert_string_equal(value, "ec2ha-test");   /* from the second set */
    free(value);
    assert_int_equal(ec2ha_cluster_get_property(c, "stonith-enabled", &value, &err), EC2HA_OK);
    assert_string_equal(value, "false");
    free(value);
    assert_int_equal(ec2ha_cluster_get_property(c, "no-quorum-policy", &value, &err),
                     EC2HA_ERR_NOT_FOUND);
    assert_null(value);
    assert_non_null(strstr(err.message, "no-quorum-policy"));
    ec2ha_cluster_free(c);
}

/* ---- node attributes ---------------------------------------------------------------------- */

static void test_get_node_attribute(void **state)
{
    ec2ha_cluster *c = connect_to("cluster.xml");
    char *value = NULL;
    ec2ha_error err;

    (void)state;
    assert_int_equal(ec2ha_cluster_get_node_attribute(c, "node1", EC2HA_ATTR_INSTANCE_ID,
                                                      &value, &err), EC2HA_OK);
    assert_string_equal(value, "i-0000000000000aaaa");
    free(value);
    assert_int_equal(ec2ha_cluster_get_node_attribute(c, "node2", "rack", &value, &err),
                     EC2HA_OK);
    assert_string_equal(value, "r1");
    free(value);
    value = NULL;
    assert_int_equal(ec2ha_cluster_get_node_attribute(c, "node3", EC2HA_ATTR_INSTANCE_ID,
                                                      &value, &err), EC2HA_ERR_NOT_FOUND);
    assert_null(value);
    assert_non_null(strstr(err.message, "node3"));
    assert_non_null(strstr(err.message, EC2HA_ATTR_INSTANCE_ID));
    assert_int_equal(ec2ha_cluster_get_node_attribute(c, "node9", EC2HA_ATTR_INSTANCE_ID,
                                                      &value, &err), EC2HA_ERR_NOT_FOUND);
    assert_non_null(strstr(err.message, "node9"));
    ec2ha_cluster_free(c);
}

static void expect_attr(ec2ha_cluster *c, const char *node, const char *value)
{
    char *got = NULL;
    ec2ha_error err;

    if (ec2ha_cluster_get_node_attribute(c, node, EC2HA_ATTR_INSTANCE_ID, &got, &err)
        != EC2HA_OK) {
        fail_msg("reading %s of %s: %s", EC2HA_ATTR_INSTANCE_ID, node, err.message);
    }
    assert_string_equal(got, value);
    free(got);
}

static void test_set_node_attribute_round_trip(void **state)
{
    char *path = temp_copy("cluster.xml");
    ec2ha_cluster *c = NULL;
    ec2ha_error err;
    char *text = NULL;

    (void)state;
    setenv("CIB_file", path, 1);
    assert_int_equal(ec2ha_cluster_connect(&c, &err), EC2HA_OK);
    /* node3: no attribute set yet -> created with crm_attribute's ids */
    assert_int_equal(ec2ha_cluster_set_node_attribute(c, "node3", EC2HA_ATTR_INSTANCE_ID,
                                                      "i-0000000000000cccc", &err), EC2HA_OK);
    /* node2: existing nvpair with other ids -> updated in place */
    assert_int_equal(ec2ha_cluster_set_node_attribute(c, "node2", EC2HA_ATTR_INSTANCE_ID,
                                                      "i-0000000000000dddd", &err), EC2HA_OK);
    /* node4: existing set without the attribute -> added to that set */
    assert_int_equal(ec2ha_cluster_set_node_attribute(c, "node4", EC2HA_ATTR_INSTANCE_ID,
                                                      "i-0000000000000eeee", &err), EC2HA_OK);
    /* node1: same value -> nothing to do */
    assert_int_equal(ec2ha_cluster_set_node_attribute(c, "node1", EC2HA_ATTR_INSTANCE_ID,
                                                      "i-0000000000000aaaa", &err), EC2HA_OK);
    assert_int_equal(ec2ha_cluster_set_node_attribute(c, "node9", EC2HA_ATTR_INSTANCE_ID,
                                                      "i-0000000000000ffff", &err),
                     EC2HA_ERR_NOT_FOUND);
    assert_non_null(strstr(err.message, "node9"));
    expect_attr(c, "node3", "i-0000000000000cccc");
    expect_attr(c, "node2", "i-0000000000000dddd");
    ec2ha_cluster_free(c);   /* the file variant writes the CIB at sign-off */

    /* A new connection reads the values back from the file. */
    c = NULL;
    assert_int_equal(ec2ha_cluster_connect(&c, &err), EC2HA_OK);
    expect_attr(c, "node1", "i-0000000000000aaaa");
    expect_attr(c, "node2", "i-0000000000000dddd");
    expect_attr(c, "node3", "i-0000000000000cccc");
    expect_attr(c, "node4", "i-0000000000000eeee");
    ec2ha_cluster_free(c);

    text = slurp(path);
    assert_non_null(strstr(text, "id=\"nodes-3\""));
    assert_non_null(strstr(text, "id=\"nodes-3-ec2-instance-id\""));
    assert_non_null(strstr(text, "id=\"nodes-4-ec2-instance-id\""));
    assert_int_equal(count_of(text, "name=\"ec2-instance-id\""), 4);   /* no duplicates */
    assert_int_equal(count_of(text, "id=\"nodes-4\""), 1);
    free(text);
    unlink(path);
    free(path);
}

static void test_set_fails_with_newer_feature_set(void **state)
{
    char *path = temp_copy("newer-feature-set.xml");
    ec2ha_cluster *c = NULL;
    ec2ha_error err;

    (void)state;
    setenv("CIB_file", path, 1);
    assert_int_equal(ec2ha_cluster_connect(&c, &err), EC2HA_OK);
    expect_attr(c, "node1", "i-0000000000000aaaa");   /* reads still work */
    assert_int_equal(ec2ha_cluster_set_node_attribute(c, "node3", EC2HA_ATTR_INSTANCE_ID,
                                                      "i-0000000000000cccc", &err),
                     EC2HA_ERR_CIB);
    assert_non_null(strstr(err.message, "node3"));
    assert_non_null(strstr(err.message, "Protocol not supported"));
    assert_non_null(strstr(err.message, "crm_feature_set"));
    ec2ha_cluster_free(c);
    unlink(path);
    free(path);
}

/* ---- node states ---------------------------------------------------------------------------- */

static void check_states(const char *file, const ec2ha_node_state *expected, size_t n_expected)
{
    ec2ha_cluster *c = connect_to(file);
    ec2ha_cluster_node *nodes = NULL;
    ec2ha_error err;
    size_t n = 0;
    size_t i;

    assert_int_equal(ec2ha_cluster_list_nodes(c, &nodes, &n, &err), EC2HA_OK);
    assert_int_equal(n, n_expected);
    for (i = 0; i < n; i++) {
        char name[32];

        snprintf(name, sizeof(name), "node%zu", i + 1);
        assert_string_equal(nodes[i].name, name);
        if (nodes[i].state != expected[i]) {
            fail_msg("%s %s: state %s, expected %s", file, name,
                     ec2ha_node_state_str(nodes[i].state), ec2ha_node_state_str(expected[i]));
        }
    }
    ec2ha_cluster_nodes_free(nodes, n);
    ec2ha_cluster_free(c);
}

static void test_node_states_words(void **state)
{
    static const ec2ha_node_state expected[] = {
        EC2HA_NODE_ONLINE, EC2HA_NODE_OFFLINE, EC2HA_NODE_UNCLEAN, EC2HA_NODE_PENDING,
        EC2HA_NODE_UNKNOWN,
    };

    (void)state;
    check_states("cluster.xml", expected, sizeof(expected) / sizeof(expected[0]));
}

static void test_node_states_timestamps(void **state)
{
    static const ec2ha_node_state expected[] = {
        EC2HA_NODE_ONLINE, EC2HA_NODE_OFFLINE, EC2HA_NODE_UNCLEAN, EC2HA_NODE_PENDING,
        EC2HA_NODE_UNCLEAN,   /* member but controller gone */
    };

    (void)state;
    check_states("timestamps.xml", expected, sizeof(expected) / sizeof(expected[0]));
}

static void test_list_nodes_fields(void **state)
{
    ec2ha_cluster *c = connect_to("cluster.xml");
    ec2ha_cluster_node *nodes = NULL;
    ec2ha_error err;
    size_t n = 0;

    (void)state;
    assert_int_equal(ec2ha_cluster_list_nodes(c, &nodes, &n, &err), EC2HA_OK);
    assert_int_equal(n, 5);
    assert_string_equal(nodes[0].id, "1");
    assert_string_equal(nodes[0].instance_id, "i-0000000000000aaaa");
    assert_string_equal(nodes[1].instance_id, "i-0000000000000bbbb");
    assert_null(nodes[2].instance_id);
    assert_null(nodes[3].instance_id);
    ec2ha_cluster_nodes_free(nodes, n);
    ec2ha_cluster_free(c);

    c = connect_to("stonith-absent.xml");
    nodes = (ec2ha_cluster_node *)0x1;
    assert_int_equal(ec2ha_cluster_list_nodes(c, &nodes, &n, &err), EC2HA_OK);
    assert_int_equal(n, 0);
    assert_null(nodes);
    ec2ha_cluster_free(c);
    assert_string_equal(ec2ha_node_state_str(EC2HA_NODE_UNCLEAN), "unclean");
    assert_string_equal(ec2ha_node_state_str((ec2ha_node_state)99), "unknown");
}

static void test_node_by_instance(void **state)
{
    ec2ha_cluster *c = connect_to("cluster.xml");
    char *node = NULL;
    ec2ha_error err;

    (void)state;
    assert_int_equal(ec2ha_cluster_node_by_instance(c, "i-0000000000000bbbb", &node, &err),
                     EC2HA_OK);
    assert_string_equal(node, "node2");
    free(node);
    node = NULL;
    assert_int_equal(ec2ha_cluster_node_by_instance(c, "i-0000000000000zzzz", &node, &err),
                     EC2HA_ERR_NOT_FOUND);
    assert_null(node);
    assert_non_null(strstr(err.message, "i-0000000000000zzzz"));
    ec2ha_cluster_free(c);

    c = connect_to("ambiguous.xml");
    assert_int_equal(ec2ha_cluster_node_by_instance(c, "i-0000000000000aaaa", &node, &err),
                     EC2HA_ERR_AMBIGUOUS);
    assert_null(node);
    assert_non_null(strstr(err.message, "node1"));
    assert_non_null(strstr(err.message, "node2"));
    ec2ha_cluster_free(c);
}

/* ---- fence devices and local node ----------------------------------------------------------- */

static void test_count_fence_devices(void **state)
{
    ec2ha_cluster *c = connect_to("cluster.xml");
    ec2ha_error err;
    int count = -1;

    (void)state;
    assert_int_equal(ec2ha_cluster_count_fence_devices(c, "fence_ec2", &count, &err), EC2HA_OK);
    assert_int_equal(count, 2);   /* one top-level, one inside a group; not the ocf one */
    assert_int_equal(ec2ha_cluster_count_fence_devices(c, NULL, &count, &err), EC2HA_OK);
    assert_int_equal(count, 3);
    assert_int_equal(ec2ha_cluster_count_fence_devices(c, "fence_xvm", &count, &err), EC2HA_OK);
    assert_int_equal(count, 0);
    ec2ha_cluster_free(c);

    c = connect_to("stonith-absent.xml");
    count = -1;
    assert_int_equal(ec2ha_cluster_count_fence_devices(c, NULL, &count, &err), EC2HA_OK);
    assert_int_equal(count, 0);
    ec2ha_cluster_free(c);
}

static void test_local_node_name(void **state)
{
    struct utsname u;
    ec2ha_error err;
    char *name = NULL;

    (void)state;
    setenv("OCF_RESKEY_CRM_meta_on_node", "node7", 1);
    assert_int_equal(ec2ha_cluster_local_node_name(&name, &err), EC2HA_OK);
    assert_string_equal(name, "node7");
    free(name);
    unsetenv("OCF_RESKEY_CRM_meta_on_node");
    assert_int_equal(uname(&u), 0);
    assert_int_equal(ec2ha_cluster_local_node_name(&name, &err), EC2HA_OK);
    assert_string_equal(name, u.nodename);
    free(name);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unreachable_cib),
        cmocka_unit_test(test_stonith_enabled),
        cmocka_unit_test(test_get_property),
        cmocka_unit_test(test_get_node_attribute),
        cmocka_unit_test(test_set_node_attribute_round_trip),
        cmocka_unit_test(test_set_fails_with_newer_feature_set),
        cmocka_unit_test(test_node_states_words),
        cmocka_unit_test(test_node_states_timestamps),
        cmocka_unit_test(test_list_nodes_fields),
        cmocka_unit_test(test_node_by_instance),
        cmocka_unit_test(test_count_fence_devices),
        cmocka_unit_test(test_local_node_name),
    };

    return cmocka_run_group_tests_name("cluster", tests, NULL, NULL);
}
