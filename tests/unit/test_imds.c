/*
 * test_imds.c - IMDSv2 against an in-process fake metadata service behind the
 * module's transport seam (token PUT, token header on every GET, one token
 * refresh on 401, never IMDSv1), the cache file (mode, round trip, stale
 * rules with an injected clock, refusal of unsafe files), and role credential
 * parsing.  When ec2sim is running (EC2HA_TEST_IMDS_ENDPOINT set), one test
 * also talks to its IMDS over real HTTP; otherwise that test is skipped.
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

#include "ec2ha/buf.h"
#include "ec2ha/creds.h"
#include "ec2ha/http.h"
#include "ec2ha/imds.h"
#include "ec2ha/retry.h"
#include "imds_private.h"
#include "testdata.h"

#define FAKE_ENDPOINT "http://imds.test"

typedef struct route {
    const char *path;
    const char *body;
} route;

typedef struct fake_imds {
    route routes[32];
    size_t n_routes;
    char token[64];             /* the token currently valid, "" when none */
    int tokens_issued;
    int puts;
    int gets;
    int v1_gets;                /* GETs without a token: must stay 0 */
    int revoke_next;            /* GETs that find their token revoked (IMDS restart) */
    bool revoke_always;
    long put_status;            /* 0: 200 */
    int fail_5xx;               /* GETs answered 503 before the real answer */
    bool transport_down;
    bool bad_request_seen;      /* wrong options for an IMDS request */
} fake_imds;

static fake_imds fake;
static char rundir[256];
static time_t fake_now;

static time_t fake_clock(void)
{
    return fake_now;
}

static void fake_route(const char *path, const char *body)
{
    fake.routes[fake.n_routes].path = path;
    fake.routes[fake.n_routes].body = body;
    fake.n_routes++;
}

/* Replace the answer for a path already routed (or route it). */
static void set_route(const char *path, const char *body)
{
    size_t i;

    for (i = 0; i < fake.n_routes; i++) {
        if (strcmp(fake.routes[i].path, path) == 0) {
            fake.routes[i].body = body;
            return;
        }
    }
    fake_route(path, body);
}

static ec2ha_rc respond(ec2ha_http_response *out, long status, const char *body)
{
    out->status = status;
    ec2ha_buf_init(&out->body, 0);
    if (body != NULL && ec2ha_buf_append_str(&out->body, body) != EC2HA_OK) {
        return EC2HA_ERR_NOMEM;
    }
    return EC2HA_OK;
}

static const char *find_header(const ec2ha_http_request *req, const char *name)
{
    size_t n = strlen(name);

    for (size_t i = 0; i < req->n_headers; i++) {
        if (strncmp(req->headers[i], name, n) == 0 && req->headers[i][n] == ':') {
            return req->headers[i] + n + 2;
        }
    }
    return NULL;
}

static ec2ha_rc fake_transport(void *ctx, const ec2ha_http_options *opts,
                               const ec2ha_http_request *req, ec2ha_deadline deadline,
                               ec2ha_http_response *out, ec2ha_error *err)
{
    fake_imds *f = ctx;
    const char *path;
    const char *tok;

    (void)deadline;
    if (!req->is_imds || opts->connect_timeout_ms != 1000 || opts->proxy != NULL ||
        strncmp(req->url, FAKE_ENDPOINT "/", strlen(FAKE_ENDPOINT) + 1) != 0) {
        f->bad_request_seen = true;
    }
    if (f->transport_down) {
        return ec2ha_error_set(err, EC2HA_ERR_TRANSPORT, "connection refused");
    }
    path = req->url + strlen(FAKE_ENDPOINT);
    if (strcmp(req->method, "PUT") == 0) {
        const char *ttl = find_header(req, EC2HA_IMDS_TOKEN_TTL_HEADER);

        f->puts++;
        if (strcmp(path, "/latest/api/token") != 0 || ttl == NULL || strcmp(ttl, "21600") != 0) {
            f->bad_request_seen = true;
            return respond(out, 400, "bad token request");
        }
        if (f->put_status != 0) {
            return respond(out, f->put_status, "no");
        }
        f->tokens_issued++;
        snprintf(f->token, sizeof(f->token), "AQAEA-token-%d==", f->tokens_issued);
        return respond(out, 200, f->token);
    }
    if (strcmp(req->method, "GET") != 0) {
        f->bad_request_seen = true;
        return respond(out, 405, NULL);
    }
    f->gets++;
    tok = find_header(req, EC2HA_IMDS_TOKEN_HEADER);
    if (tok == NULL) {
        f->v1_gets++;
        return respond(out, 401, NULL);
    }
    if (f->revoke_always || f->revoke_next > 0) {
        if (f->revoke_next > 0) {
            f->revoke_next--;
        }
        f->token[0] = '\0';
    }
    if (f->token[0] == '\0' || strcmp(tok, f->token) != 0) {
        return respond(out, 401, NULL);
    }
    if (f->fail_5xx > 0) {
        f->fail_5xx--;
        return respond(out, 503, NULL);
    }
    for (size_t i = 0; i < f->n_routes; i++) {
        if (strcmp(path, f->routes[i].path) == 0) {
            return respond(out, 200, f->routes[i].body);
        }
    }
    return respond(out, 404, "Not Found");
}

static int setup(void **state)
{
    (void)state;
    memset(&fake, 0, sizeof(fake));
    unsetenv("AWS_EC2_METADATA_DISABLED");
    unsetenv("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
    unsetenv("HA_RSCTMP");
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", FAKE_ENDPOINT "/", 1);
    snprintf(rundir, sizeof(rundir), "/tmp/ec2ha-imds-XXXXXX");
    if (mkdtemp(rundir) == NULL) {
        return -1;
    }
    strcat(rundir, "/run");   /* missing on purpose: the module makes it 0700 */
    fake_now = 1700000000;
    fake_route("/latest/meta-data/instance-id", "i-0000000000000aaaa");
    fake_route("/latest/meta-data/placement/region", "us-east-1\n");
    fake_route("/latest/meta-data/network/interfaces/macs/",
               "02:00:00:00:00:02/\n02:00:00:00:00:01/");
    fake_route("/latest/meta-data/network/interfaces/macs/02:00:00:00:00:01/interface-id",
               "eni-0000000000000001a");
    fake_route("/latest/meta-data/network/interfaces/macs/02:00:00:00:00:01/device-number", "0");
    fake_route("/latest/meta-data/network/interfaces/macs/02:00:00:00:00:01/local-ipv4s",
               "10.0.0.10\n10.0.0.11\n");
    fake_route("/latest/meta-data/network/interfaces/macs/02:00:00:00:00:02/interface-id",
               "eni-0000000000000002b");
    fake_route("/latest/meta-data/network/interfaces/macs/02:00:00:00:00:02/device-number", "1");
    return 0;
}

static int teardown(void **state)
{
    char cmd[300];

    (void)state;
    rundir[strlen(rundir) - 4] = '\0';
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", rundir);
    return system(cmd) == 0 ? 0 : -1;
}

static ec2ha_imds *new_imds(void)
{
    ec2ha_imds *m = NULL;
    ec2ha_error err = {0};

    assert_int_equal(ec2ha_imds_new(rundir, &m, &err), EC2HA_OK);
    ec2ha_imds_set_transport(m, fake_transport, &fake);
    ec2ha_imds_set_clock(m, fake_clock);
    return m;
}

static ec2ha_deadline dl(void)
{
    return ec2ha_deadline_in_ms(5000);
}

static void test_new_and_env(void **state)
{
    ec2ha_imds *m = NULL;
    ec2ha_error err = {0};

    (void)state;
    m = new_imds();
    assert_string_equal(ec2ha_imds_endpoint(m), FAKE_ENDPOINT);
    assert_true(ec2ha_imds_enabled(m));
    ec2ha_imds_free(m);
    unsetenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
    assert_int_equal(ec2ha_imds_new(NULL, &m, &err), EC2HA_OK);
    assert_string_equal(ec2ha_imds_endpoint(m), "http://169.254.169.254");
    assert_string_equal(ec2ha_imds_cache_path(m), "/run/ec2ha/imds-cache");
    ec2ha_imds_free(m);
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPv6", 1);
    setenv("HA_RSCTMP", "/run/resource-agents", 1);
    assert_int_equal(ec2ha_imds_new(NULL, &m, &err), EC2HA_OK);
    assert_string_equal(ec2ha_imds_endpoint(m), "http://[fd00:ec2::254]");
    assert_string_equal(ec2ha_imds_cache_path(m), "/run/resource-agents/imds-cache");
    ec2ha_imds_free(m);
    setenv("AWS_EC2_METADATA_DISABLED", "TRUE", 1);
    assert_int_equal(ec2ha_imds_new(NULL, &m, &err), EC2HA_OK);
    assert_false(ec2ha_imds_enabled(m));
    ec2ha_imds_free(m);
    setenv("AWS_EC2_METADATA_DISABLED", "false", 1);
    assert_int_equal(ec2ha_imds_new(NULL, &m, &err), EC2HA_OK);
    assert_true(ec2ha_imds_enabled(m));
    ec2ha_imds_free(m);
    m = NULL;
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "169.254.169.254", 1);
    assert_int_equal(ec2ha_imds_new(NULL, &m, &err), EC2HA_ERR_INVALID);
    assert_null(m);
    ec2ha_imds_free(NULL);
}

static void test_token_then_get_and_cache(void **state)
{
    ec2ha_imds *m = new_imds();
    ec2ha_error err = {0};
    char *id = NULL;
    char *region = NULL;
    struct stat st;
    char dir[256];

    (void)state;
    assert_int_equal(ec2ha_imds_get_instance_id(m, dl(), &id, &err), EC2HA_OK);
    assert_string_equal(id, "i-0000000000000aaaa");
    free(id);
    assert_int_equal(fake.puts, 1);
    assert_int_equal(fake.gets, 1);
    assert_int_equal(ec2ha_imds_get_region(m, dl(), &region, &err), EC2HA_OK);
    assert_string_equal(region, "us-east-1");
    free(region);
    assert_int_equal(fake.puts, 1);   /* token reused */
    assert_int_equal(fake.gets, 2);
    /* cached in memory */
    assert_int_equal(ec2ha_imds_get_instance_id(m, dl(), &id, &err), EC2HA_OK);
    free(id);
    assert_int_equal(fake.gets, 2);
    assert_int_equal(fake.v1_gets, 0);
    assert_false(fake.bad_request_seen);
    /* the cache file: 0600 in the 0700 directory the module made */
    assert_int_equal(stat(ec2ha_imds_cache_path(m), &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    snprintf(dir, sizeof(dir), "%s", rundir);
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0700);
    ec2ha_imds_free(m);
}

static void test_cache_round_trip(void **state)
{
    ec2ha_imds *m = new_imds();
    ec2ha_error err = {0};
    char *id = NULL;
    char *region = NULL;
    ec2ha_imds_interface *ifs = NULL;
    size_t n = 0;
    struct stat st;

    (void)state;
    assert_int_equal(ec2ha_imds_get_instance_id(m, dl(), &id, &err), EC2HA_OK);
    free(id);
    assert_int_equal(ec2ha_imds_get_region(m, dl(), &region, &err), EC2HA_OK);
    free(region);
    assert_int_equal(ec2ha_imds_get_interfaces(m, dl(), &ifs, &n, &err), EC2HA_OK);
    ec2ha_imds_interfaces_free(ifs, n);
    assert_int_equal(stat(ec2ha_imds_cache_path(m), &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(stat(rundir, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0700);
    ec2ha_imds_free(m);

    /* a second process: everything from the file, no request at all */
    memset(&fake.puts, 0, sizeof(fake) - offsetof(fake_imds, puts));
    fake.transport_down = true;
    m = new_imds();
    assert_int_equal(ec2ha_imds_get_instance_id(m, dl(), &id, &err), EC2HA_OK);
    assert_string_equal(id, "i-0000000000000aaaa");
    free(id);
    assert_int_equal(ec2ha_imds_get_region(m, dl(), &region, &err), EC2HA_OK);
    assert_string_equal(region, "us-east-1");
    free(region);
    assert_int_equal(ec2ha_imds_get_interfaces(m, dl(), &ifs, &n, &err), EC2HA_OK);
    assert_int_equal(n, 2);
    assert_string_equal(ifs[0].mac, "02:00:00:00:00:01");
    assert_string_equal(ifs[0].interface_id, "eni-0000000000000001a");
    assert_int_equal(ifs[0].device_number, 0);
    assert_int_equal(ifs[0].n_private_ips, 2);
    assert_string_equal(ifs[0].private_ips[0], "10.0.0.10");
    assert_string_equal(ifs[0].private_ips[1], "10.0.0.11");
    assert_string_equal(ifs[1].interface_id, "eni-0000000000000002b");
    assert_int_equal(ifs[1].device_number, 1);
    assert_int_equal(ifs[1].n_private_ips, 0);
    ec2ha_imds_interfaces_free(ifs, n);
    assert_int_equal(fake.puts + fake.gets, 0);
    /* the cached token is used for a path that is not cached */
    fake.transport_down = false;
    strcpy(fake.token, "AQAEA-token-1==");
    fake_route("/latest/meta-data/ami-id", "ami-1");
    assert_int_equal(ec2ha_imds_get(m, "ami-id", dl(), &id, &err), EC2HA_OK);
    assert_string_equal(id, "ami-1");
    free(id);
    assert_int_equal(fake.puts, 0);
    ec2ha_imds_free(m);
}

static void test_stale_rules(void **state)
{
    ec2ha_imds *m = new_imds();
    ec2ha_error err = {0};
    char *id = NULL;
    time_t t0 = fake_now;

    (void)state;
    assert_int_equal(ec2ha_imds_get_instance_id(m, dl(), &id, &err), EC2HA_OK);
    free(id);
    ec2ha_imds_free(m);
    assert_int_equal(fake.puts, 1);

    /* identity just under an hour old: still from the cache */
    fake_now = t0 + 3599;
    m = new_imds();
    assert_int_equal(ec2ha_imds_get_instance_id(m, dl(), &id, &err), EC2HA_OK);
    free(id);
    ec2ha_imds_free(m);
    assert_int_equal(fake.gets, 1);

    /* an hour old: fetched again, with the cached token */
    fake_now = t0 + 3600;
    m = new_imds();
    assert_int_equal(ec2ha_imds_get_instance_id(m, dl(), &id, &err), EC2HA_OK);
    free(id);
    ec2ha_imds_free(m);
    assert_int_equal(fake.gets, 2);
    assert_int_equal(fake.puts, 1);

    /* token with 61 s left is used, with 60 s left it is replaced */
    fake_now = t0 + 21600 - 61;
    m = new_imds();
    assert_int_equal(ec2ha_imds_get(m, "placement/region", dl(), &id, &err), EC2HA_OK);
    free(id);
    ec2ha_imds_free(m);
    assert_int_equal(fake.puts, 1);
    fake_now = t0 + 21600 - 60;
    m = new_imds();
    assert_int_equal(ec2ha_imds_get(m, "placement/region", dl(), &id, &err), EC2HA_OK);
    free(id);
    ec2ha_imds_free(m);
    assert_int_equal(fake.puts, 2);

    /* the clock went back by a day: neither token nor identity is trusted */
    fake_now = t0 + 21600 - 60 - 86400;
    m = new_imds();
    assert_int_equal(ec2ha_imds_get_instance_id(m, dl(), &id, &err), EC2HA_OK);
    free(id);
    ec2ha_imds_free(m);
    assert_int_equal(fake.puts, 3);
}

static void test_unsafe_cache_ignored(void **state)
{
    ec2ha_imds *m = new_imds();
    ec2ha_error err = {0};
    char *id = NULL;
    char other[300];
    FILE *f;

    (void)state;
    assert_int_equal(ec2ha_imds_get_instance_id(m, dl(), &id, &err), EC2HA_OK);
    free(id);
    ec2ha_imds_free(m);

    /* group/other bits: ignored (and replaced on the next write) */
    m = new_imds();
    assert_int_equal(chmod(ec2ha_imds_cache_path(m), 0644), 0);
    assert_int_equal(ec2ha_imds_get_instance_id(m, dl(), &id, &err), EC2HA_OK);
    free(id);
    assert_int_equal(fake.puts, 2);
    ec2ha_imds_free(m);

    /* a symlink is not followed */
    m = new_imds();
    snprintf(other, sizeof(other), "%s/elsewhere", rundir);
    assert_int_equal(rename(ec2ha_imds_cache_path(m), other), 0);
    assert_int_equal(symlink(other, ec2ha_imds_cache_path(m)), 0);
    assert_int_equal(ec2ha_imds_get_instance_id(m, dl(), &id, &err), EC2HA_OK);
    free(id);
    assert_int_equal(fake.puts, 3);
    ec2ha_imds_free(m);

    /* garbage */
    m = new_imds();
    f = fopen(ec2ha_imds_cache_path(m), "w");
    assert_non_null(f);
    fputs("ec2ha-imds-cache 1\nendpoint " FAKE_ENDPOINT "\nidentity 12x\n", f);
    fclose(f);
    chmod(ec2ha_imds_cache_path(m), 0600);
    assert_int_equal(ec2ha_imds_get_instance_id(m, dl(), &id, &err), EC2HA_OK);
    free(id);
    assert_int_equal(fake.puts, 4);
    ec2ha_imds_free(m);

    /* a cache written for another endpoint */
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://other.test", 1);
    assert_int_equal(ec2ha_imds_new(rundir, &m, &err), EC2HA_OK);
    ec2ha_imds_set_clock(m, fake_clock);
    fake.transport_down = true;
    ec2ha_imds_set_transport(m, fake_transport, &fake);
    assert_int_equal(ec2ha_imds_get_instance_id(m, dl(), &id, &err), EC2HA_ERR_TRANSPORT);
    ec2ha_imds_free(m);
}

static void test_cache_put_seam(void **state)
{
    ec2ha_imds *m = new_imds();
    ec2ha_error err = {0};
    ec2ha_imds_interface in = {0};
    ec2ha_imds_interface *ifs = NULL;
    char *ips[] = {(char *)"192.0.2.1"};
    char *id = NULL;
    size_t n = 9;

    (void)state;
    in.mac = (char *)"0a:0b:0c:0d:0e:0f";
    in.interface_id = (char *)"eni-1";
    in.private_ips = ips;
    in.n_private_ips = 1;
    in.device_number = 0;
    assert_int_equal(ec2ha_imds_cache_put(m, "tokenFromPut", "i-0123456789abcdef0", "eu-west-1", &in, 1,
                                          &err), EC2HA_OK);
    ec2ha_imds_free(m);
    fake.transport_down = true;
    m = new_imds();
    assert_int_equal(ec2ha_imds_get_instance_id(m, dl(), &id, &err), EC2HA_OK);
    assert_string_equal(id, "i-0123456789abcdef0");
    free(id);
    assert_int_equal(ec2ha_imds_get_interfaces(m, dl(), &ifs, &n, &err), EC2HA_OK);
    assert_int_equal(n, 1);
    assert_string_equal(ifs[0].private_ips[0], "192.0.2.1");
    ec2ha_imds_interfaces_free(ifs, n);
    ec2ha_imds_free(m);
    /* an empty interface list survives the round trip as empty, not as "unknown" */
    m = new_imds();
    assert_int_equal(ec2ha_imds_cache_put(m, NULL, "i-0123456789abcdef0", NULL, &in, 0, &err),
                     EC2HA_OK);
    ec2ha_imds_free(m);
    m = new_imds();
    assert_int_equal(ec2ha_imds_get_interfaces(m, dl(), &ifs, &n, &err), EC2HA_OK);
    assert_int_equal(n, 0);
    ec2ha_imds_interfaces_free(ifs, n);
    ec2ha_imds_free(m);
}

static void test_401_refreshes_once(void **state)
{
    ec2ha_imds *m = new_imds();
    ec2ha_error err = {0};
    char *id = NULL;

    (void)state;
    fake.revoke_next = 1;   /* IMDS forgot the token once */
    assert_int_equal(ec2ha_imds_get(m, "instance-id", dl(), &id, &err), EC2HA_OK);
    assert_string_equal(id, "i-0000000000000aaaa");
    free(id);
    assert_int_equal(fake.puts, 2);
    assert_int_equal(fake.gets, 2);

    fake.revoke_always = true;   /* never accepted: one refresh, then an error */
    id = NULL;
    assert_int_equal(ec2ha_imds_get(m, "instance-id", dl(), &id, &err), EC2HA_ERR_HTTP);
    assert_null(id);
    assert_int_equal(err.http_status, 401);
    assert_int_equal(fake.puts, 3);
    assert_int_equal(fake.gets, 4);
    assert_int_equal(fake.v1_gets, 0);
    assert_false(fake.bad_request_seen);
    ec2ha_imds_free(m);
}

static void test_no_v1_fallback(void **state)
{
    static const long statuses[] = {403, 404, 405, 400, 500};
    ec2ha_error err = {0};
    char *id = NULL;

    (void)state;
    for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
        ec2ha_imds *m = new_imds();
        ec2ha_rc rc;

        fake.put_status = statuses[i];
        fake.gets = 0;
        rc = ec2ha_imds_get(m, "instance-id", dl(), &id, &err);
        assert_true(rc == EC2HA_ERR_UNAVAILABLE || rc == EC2HA_ERR_HTTP);
        assert_int_equal(fake.gets, 0);   /* never a GET without a token */
        assert_null(id);
        if (statuses[i] == 404 || statuses[i] == 405) {
            assert_non_null(strstr(err.message, "never falls back to IMDSv1"));
        }
        ec2ha_imds_free(m);
    }
    assert_int_equal(fake.v1_gets, 0);
}

static void test_disabled_and_transport(void **state)
{
    ec2ha_imds *m = NULL;
    ec2ha_error err = {0};
    char *id = NULL;
    ec2ha_imds_role_credentials rc_creds = {0};

    (void)state;
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    m = new_imds();
    assert_int_equal(ec2ha_imds_get_instance_id(m, dl(), &id, &err), EC2HA_ERR_UNAVAILABLE);
    assert_int_equal(ec2ha_imds_get_role_credentials(m, dl(), &rc_creds, &err),
                     EC2HA_ERR_UNAVAILABLE);
    assert_int_equal(fake.puts + fake.gets, 0);
    ec2ha_imds_free(m);
    unsetenv("AWS_EC2_METADATA_DISABLED");
    fake.transport_down = true;
    m = new_imds();
    assert_int_equal(ec2ha_imds_get_instance_id(m, dl(), &id, &err), EC2HA_ERR_TRANSPORT);
    assert_non_null(strstr(err.message, "hop limit"));
    assert_int_equal(ec2ha_imds_get(m, "../x", dl(), &id, &err), EC2HA_ERR_INVALID);
    assert_int_equal(ec2ha_imds_get(m, "/abs", dl(), &id, &err), EC2HA_ERR_INVALID);
    assert_int_equal(ec2ha_imds_get(m, "a b", dl(), &id, &err), EC2HA_ERR_INVALID);
    assert_null(id);
    ec2ha_imds_free(m);
}

static void test_5xx_retried(void **state)
{
    ec2ha_imds *m = new_imds();
    ec2ha_error err = {0};
    char *id = NULL;

    (void)state;
    fake.fail_5xx = 2;
    assert_int_equal(ec2ha_imds_get(m, "instance-id", dl(), &id, &err), EC2HA_OK);
    free(id);
    assert_int_equal(fake.gets, 3);
    fake.fail_5xx = 10;
    id = NULL;
    assert_int_equal(ec2ha_imds_get(m, "instance-id", dl(), &id, &err), EC2HA_ERR_HTTP);
    assert_int_equal(err.http_status, 503);
    assert_null(id);
    ec2ha_imds_free(m);
}

static void test_region_fallback_and_404(void **state)
{
    ec2ha_imds *m = NULL;
    ec2ha_error err = {0};
    char *v = NULL;

    (void)state;
    fake.routes[1].path = "/nowhere";   /* no placement/region */
    fake_route("/latest/dynamic/instance-identity/document",
               "{\"region\": \"ap-northeast-1\", \"instanceId\": \"i-0000000000000aaaa\"}");
    m = new_imds();
    assert_int_equal(ec2ha_imds_get_region(m, dl(), &v, &err), EC2HA_OK);
    assert_string_equal(v, "ap-northeast-1");
    free(v);
    v = NULL;
    assert_int_equal(ec2ha_imds_get(m, "no/such/thing", dl(), &v, &err), EC2HA_ERR_NOT_FOUND);
    assert_int_equal(err.http_status, 404);
    assert_null(v);
    ec2ha_imds_free(m);
}

static void test_role_credentials(void **state)
{
    ec2ha_imds *m = new_imds();
    ec2ha_error err = {0};
    ec2ha_imds_role_credentials c = {0};
    ec2ha_imds_role_credentials zero = {0};

    (void)state;
    assert_int_equal(ec2ha_imds_get_role_credentials(m, dl(), &c, &err), EC2HA_ERR_NOT_FOUND);
    assert_non_null(strstr(err.message, "no IAM role"));
    fake_route("/latest/meta-data/iam/security-credentials/", "ha-node-role\n");
    fake_route("/latest/meta-data/iam/security-credentials/ha-node-role",
               "{\"Code\":\"Success\",\"Type\":\"AWS-HMAC\",\"AccessKeyId\":\"ASIAX\","
               "\"SecretAccessKey\":\"secretFromRole\",\"Token\":\"tokenFromRole\","
               "\"Expiration\":\"2999-01-01T00:00:00Z\"}");
    assert_int_equal(ec2ha_imds_get_role_credentials(m, dl(), &c, &err), EC2HA_OK);
    assert_string_equal(c.role_name, "ha-node-role");
    assert_string_equal(c.access_key_id, "ASIAX");
    assert_string_equal(c.secret_access_key, "secretFromRole");
    assert_string_equal(c.token, "tokenFromRole");
    assert_string_equal(c.expiration, "2999-01-01T00:00:00Z");
    ec2ha_imds_role_credentials_free(&c);
    assert_memory_equal(&c, &zero, sizeof(c));
    ec2ha_imds_role_credentials_free(NULL);
    /* expired credentials from IMDS are refused */
    fake.routes[fake.n_routes - 1].body =
        "{\"Code\":\"Success\",\"AccessKeyId\":\"ASIAX\",\"SecretAccessKey\":\"secretFromRole\","
        "\"Token\":\"tokenFromRole\",\"Expiration\":\"2001-01-01T00:00:00Z\"}";
    assert_int_equal(ec2ha_imds_get_role_credentials(m, dl(), &c, &err), EC2HA_ERR_STATE);
    assert_memory_equal(&c, &zero, sizeof(c));
    ec2ha_imds_free(m);
}

static void test_parse_role_credentials(void **state)
{
    ec2ha_imds_role_credentials c = {0};
    ec2ha_imds_role_credentials zero = {0};
    ec2ha_error err = {0};
    size_t len = 0;
    char *doc;

    (void)state;
    doc = test_read_data("creds/role_ok.json", &len);
    assert_int_equal(ec2ha_imds_parse_role_credentials(doc, len, &c, &err), EC2HA_OK);
    assert_string_equal(c.access_key_id, "ASIAROLEEXAMPLE");
    assert_string_equal(c.secret_access_key, "secretRole");
    assert_string_equal(c.token, "tokenRole");
    assert_string_equal(c.expiration, "2999-05-01T17:00:00Z");
    assert_null(c.role_name);
    ec2ha_imds_role_credentials_free(&c);
    free(doc);

    doc = test_read_data("creds/role_failed.json", &len);
    assert_int_equal(ec2ha_imds_parse_role_credentials(doc, len, &c, &err), EC2HA_ERR_AWS);
    assert_string_equal(err.code, "AssumeRoleUnauthorizedAccess");
    assert_memory_equal(&c, &zero, sizeof(c));
    free(doc);

    {
        static const char *const bad[] = {
            "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"secretBad\",\"Token\":\"tokenBad\",\"Expiration\":\"E\"}",
            "{\"Code\":\"Success\",\"SecretAccessKey\":\"secretBad\",\"Token\":\"tokenBad\",\"Expiration\":\"E\"}",
            "{\"Code\":\"Success\",\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"secretBad\",\"Expiration\":\"E\"}",
            "{\"Code\":\"Success\",\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"secretBad\",\"Token\":\"tokenBad\"}",
            "{\"Code\":\"Success\",\"AccessKeyId\":\"\",\"SecretAccessKey\":\"secretBad\",\"Token\":\"tokenBad\",\"Expiration\":\"E\"}",
            "{\"Code\":\"Success\",\"AccessKeyId\":1,\"SecretAccessKey\":\"secretBad\",\"Token\":\"tokenBad\",\"Expiration\":\"E\"}",
            "{\"Code\":\"Success\"",
            "",
        };

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            ec2ha_rc rc = ec2ha_imds_parse_role_credentials(bad[i], strlen(bad[i]), &c, &err);

            if (rc == EC2HA_OK) {
                fail_msg("accepted #%zu", i);
            }
            assert_memory_equal(&c, &zero, sizeof(c));
        }
    }
}

/* Against a running ec2sim's IMDS (EC2HA_TEST_IMDS_ENDPOINT), over the real http module. */
static void test_ec2sim_imds(void **state)
{
    const char *ep = getenv("EC2HA_TEST_IMDS_ENDPOINT");
    ec2ha_imds *m = NULL;
    ec2ha_error err = {0};
    char *id = NULL;
    char *region = NULL;
    ec2ha_imds_interface *ifs = NULL;
    size_t n = 0;
    ec2ha_imds_role_credentials role = {0};
    ec2ha_creds_options o;
    ec2ha_aws_config cfg = {0};

    (void)state;
    if (ep == NULL || ep[0] == '\0') {
        skip();
    }
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", ep, 1);
    assert_int_equal(ec2ha_imds_new(rundir, &m, &err), EC2HA_OK);
    if (ec2ha_imds_get_instance_id(m, ec2ha_deadline_in_ms(10000), &id, &err) != EC2HA_OK) {
        fail_msg("%s", err.message);
    }
    assert_int_equal(strncmp(id, "i-", 2), 0);
    assert_int_equal(ec2ha_imds_get_region(m, ec2ha_deadline_in_ms(10000), &region, &err),
                     EC2HA_OK);
    if (ec2ha_imds_get_interfaces(m, ec2ha_deadline_in_ms(10000), &ifs, &n, &err) != EC2HA_OK) {
        fail_msg("%s", err.message);
    }
    assert_true(n >= 1);
    assert_int_equal(ifs[0].device_number, 0);
    assert_non_null(ifs[0].interface_id);
    print_message("ec2sim IMDS: %s in %s, %zu interface(s), primary %s\n", id, region, n,
                  ifs[0].interface_id);
    ec2ha_imds_interfaces_free(ifs, n);
    free(id);
    free(region);
    /* the role's credentials, then the whole chain falling through to them */
    if (ec2ha_imds_get_role_credentials(m, ec2ha_deadline_in_ms(10000), &role, &err) !=
        EC2HA_OK) {
        fail_msg("%s", err.message);
    }
    assert_non_null(role.role_name);
    assert_true(strlen(role.secret_access_key) > 0 && strlen(role.token) > 0);
    ec2ha_imds_role_credentials_free(&role);
    setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials", 1);
    setenv("AWS_CONFIG_FILE", "/nonexistent/config", 1);
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    unsetenv("AWS_PROFILE");
    unsetenv("AWS_REGION");
    unsetenv("AWS_DEFAULT_REGION");
    unsetenv("AWS_ENDPOINT_URL");
    unsetenv("AWS_ENDPOINT_URL_EC2");
    memset(&o, 0, sizeof(o));
    o.imds = m;
    o.need_credentials = true;
    if (ec2ha_aws_config_resolve(&o, ec2ha_deadline_in_ms(10000), &cfg, &err) != EC2HA_OK) {
        fail_msg("%s", err.message);
    }
    assert_int_equal(cfg.credentials_source, EC2HA_SOURCE_IMDS);
    assert_int_equal(cfg.region_source, EC2HA_SOURCE_IMDS);
    assert_non_null(cfg.session_token);
    assert_non_null(cfg.expiration);
    print_message("chain: %s; region %s\n", cfg.credentials_detail, cfg.region);
    ec2ha_aws_config_free(&cfg);
    ec2ha_imds_free(m);
    ec2ha_http_cleanup();
}

/* Values IMDS should never send are refused, not cached half-understood. */
static void test_malformed_interfaces_refused(void **state)
{
    static const struct {
        const char *path;
        const char *body;
    } bad[] = {
        {"/latest/meta-data/network/interfaces/macs/02:00:00:00:00:01/interface-id", ""},
        {"/latest/meta-data/network/interfaces/macs/02:00:00:00:00:01/interface-id", "eni-X 1"},
        {"/latest/meta-data/network/interfaces/macs/02:00:00:00:00:01/local-ipv4s", "L 3\n"},
        {"/latest/meta-data/network/interfaces/macs/02:00:00:00:00:01/local-ipv4s",
         "10.0.0.300\n"},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ec2ha_imds *m = NULL;
        ec2ha_imds_interface *ifs = NULL;
        size_t n = 0;
        ec2ha_error err = {0};

        set_route(bad[i].path, bad[i].body);
        m = new_imds();
        assert_int_equal(ec2ha_imds_get_interfaces(m, dl(), &ifs, &n, &err), EC2HA_ERR_PARSE);
        assert_non_null(strstr(err.message, "malformed"));
        assert_null(ifs);
        ec2ha_imds_free(m);
        /* restore the good answers for the next case */
        set_route("/latest/meta-data/network/interfaces/macs/02:00:00:00:00:01/interface-id",
                   "eni-0000000000000001a");
        set_route("/latest/meta-data/network/interfaces/macs/02:00:00:00:00:01/local-ipv4s",
                   "10.0.0.10\n10.0.0.11\n");
    }
    ec2ha_http_cleanup();
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_new_and_env),
        T(test_token_then_get_and_cache),
        T(test_cache_round_trip),
        T(test_stale_rules),
        T(test_unsafe_cache_ignored),
        T(test_cache_put_seam),
        T(test_401_refreshes_once),
        T(test_no_v1_fallback),
        T(test_disabled_and_transport),
        T(test_5xx_retried),
        T(test_region_fallback_and_404),
        T(test_role_credentials),
        T(test_parse_role_credentials),
        T(test_ec2sim_imds),
        T(test_malformed_interfaces_refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
