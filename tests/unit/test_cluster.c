/* test_cluster.c - libcib access through CIB_file fixtures (tests/data/cib). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cluster_private.h"   /* the sonames the build found */
#include "ec2ha/cluster.h"
#include "testdata.h"

/* Set in the environment of a re-executed copy of this program (see run_child). */
#define CHILD_ENV "EC2HA_TEST_CLUSTER_CHILD"

static const char *self_path;   /* argv[0], to re-execute this test program */

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

static size_t count_of(const char *hay, const char *needle)
{
    size_t n = 0;

    for (hay = strstr(hay, needle); hay != NULL; hay = strstr(hay + 1, needle)) {
        n++;
    }
    return n;
}

/* ---- loading Pacemaker's libraries ------------------------------------------------------ */

static int find_object(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    return info->dlpi_name != NULL && strstr(info->dlpi_name, (const char *)data) != NULL;
}

/* Whether a shared object whose path contains `name` is mapped in this process. */
static bool mapped(const char *name)
{
    return dl_iterate_phdr(find_object, (void *)name) != 0;
}

/* Runs first: nothing before it may use the CIB.  Only ec2ha_cluster_connect()
 * loads libcib and libcrmcommon (and glib, qb, ... with them). */
static void test_pacemaker_loaded_on_first_connect(void **state)
{
    static const char *const pacemaker[] = {
        EC2HA_LIBCIB_SONAME, EC2HA_LIBCRMCOMMON_SONAME, "libglib-2.0.so", "libqb.so",
    };
    ec2ha_cluster *c = NULL;
    ec2ha_error err;
    char *name = NULL;
    char *value = NULL;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(pacemaker) / sizeof(pacemaker[0]); i++) {
        if (mapped(pacemaker[i])) {
            fail_msg("%s is mapped before any CIB use", pacemaker[i]);
        }
    }
    /* What needs no CIB connection leaves them unloaded. */
    assert_string_equal(ec2ha_node_state_str(EC2HA_NODE_ONLINE), "online");
    assert_int_equal(ec2ha_cluster_local_node_name(&name, &err), EC2HA_OK);
    free(name);
    assert_int_equal(ec2ha_cluster_get_property(NULL, "stonith-enabled", &value, &err),
                     EC2HA_ERR_INVALID);
    ec2ha_cluster_free(NULL);
    ec2ha_cluster_nodes_free(NULL, 0);
    assert_false(mapped(EC2HA_LIBCIB_SONAME));
    assert_false(mapped(EC2HA_LIBCRMCOMMON_SONAME));

    c = connect_to("cluster.xml");
    assert_true(mapped(EC2HA_LIBCIB_SONAME));
    assert_true(mapped(EC2HA_LIBCRMCOMMON_SONAME));
    ec2ha_cluster_free(c);
}

/* In the re-executed child: connect, write "<rc> <message>" to stdout. */
static int child_main(void)
{
    ec2ha_cluster *c = NULL;
    ec2ha_error err;
    ec2ha_rc rc;

    ec2ha_error_clear(&err);
    rc = ec2ha_cluster_connect(&c, &err);
    printf("%d %s", (int)rc, err.message);
    ec2ha_cluster_free(c);
    return 0;
}

/* Re-executes this program with LD_LIBRARY_PATH=dir (dlopen() searches it
 * before the system's directories) and returns what child_main() printed. */
static char *run_child(const char *dir)
{
    char *out = calloc(1, 4096);
    size_t got = 0;
    ssize_t n;
    int fds[2];
    int status = 0;
    pid_t pid;

    assert_non_null(out);
    assert_int_equal(pipe(fds), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char *const argv[] = {(char *)self_path, NULL};

        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        setenv("LD_LIBRARY_PATH", dir, 1);
        setenv(CHILD_ENV, "1", 1);
        execv(self_path, argv);
        _exit(127);
    }
    close(fds[1]);
    while (got < 4095 && (n = read(fds[0], out + got, 4095 - got)) > 0) {
        got += (size_t)n;
    }
    close(fds[0]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    return out;
}

/* A library that cannot be loaded: EC2HA_ERR_CIB naming it, its package and
 * dlerror().  An empty file of that soname first on LD_LIBRARY_PATH makes the
 * real dlopen() fail ("file too short") without any hook in lib/. */
static void test_load_failure_names_the_library(void **state)
{
    static const struct {
        const char *fake;         /* the soname replaced by an empty file */
        const char *message;      /* expected start of the message */
    } cases[] = {
        {EC2HA_LIBCRMCOMMON_SONAME, "cannot load " EC2HA_LIBCRMCOMMON_SONAME
                                    " (Pacemaker's common library, Debian package libcrmcommon"},
        {EC2HA_LIBCIB_SONAME, "cannot load " EC2HA_LIBCIB_SONAME
                              " (Pacemaker's CIB library, Debian package libcib"},
    };
    char expected_rc[16];
    size_t i;

    (void)state;
    snprintf(expected_rc, sizeof(expected_rc), "%d ", (int)EC2HA_ERR_CIB);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char dir[] = "/tmp/ec2ha-test-nolib-XXXXXX";
        char fake[256];
        char *out;
        int fd;

        assert_non_null(mkdtemp(dir));
        snprintf(fake, sizeof(fake), "%s/%s", dir, cases[i].fake);
        fd = open(fake, O_WRONLY | O_CREAT | O_EXCL, 0644);
        assert_true(fd >= 0);
        close(fd);
        out = run_child(dir);
        unlink(fake);
        rmdir(dir);
        if (strncmp(out, expected_rc, strlen(expected_rc)) != 0
            || strstr(out, cases[i].message) == NULL || strstr(out, fake) == NULL) {
            fail_msg("fake %s: child said \"%s\"", cases[i].fake, out);
        }
        free(out);
    }
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

    text = test_read_file(path, NULL);
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

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pacemaker_loaded_on_first_connect),   /* first: see there */
        cmocka_unit_test(test_load_failure_names_the_library),
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

    (void)argc;
    if (getenv(CHILD_ENV) != NULL) {
        return child_main();
    }
    self_path = argv[0];
    return cmocka_run_group_tests_name("cluster", tests, NULL, NULL);
}
