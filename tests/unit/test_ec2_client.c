/*
 * test_ec2_client.c - the http layer and the EC2 client against a scripted
 * HTTP server on 127.0.0.1 (a forked child, plain http, which the http layer
 * allows on loopback only).  The child answers each connection with the next
 * canned response and records every request it got, so a test checks both
 * what was sent (headers, exact bodies) and how answers were handled
 * (retries, re-signing, pagination, error mapping).  No other network.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "ec2ha/ec2.h"
#include "ec2ha/http.h"

#define MAX_SCRIPT 16
#define REQ_MAX 65536

typedef struct server {
    pid_t pid;
    int port;
    char dir[64];           /* requests recorded as dir/req-N */
    char url[64];
} server;

/* ---- the scripted server ------------------------------------------------------------ */

static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);

        if (w <= 0) {
            return;
        }
        p += w;
        n -= (size_t)w;
    }
}

/* Read one request (headers and Content-Length body) into buf; returns its length. */
static size_t read_request(int fd, char *buf, size_t size)
{
    size_t len = 0;
    size_t need = 0;
    char *hdr_end;

    for (;;) {
        ssize_t r = read(fd, buf + len, size - 1 - len);

        if (r <= 0) {
            break;
        }
        len += (size_t)r;
        buf[len] = '\0';
        hdr_end = strstr(buf, "\r\n\r\n");
        if (hdr_end != NULL && need == 0) {
            const char *cl = strcasestr(buf, "\r\nContent-Length:");

            need = (size_t)(hdr_end + 4 - buf);
            if (cl != NULL && cl < hdr_end) {
                need += strtoul(cl + 17, NULL, 10);
            }
        }
        if (need > 0 && len >= need) {
            break;
        }
        if (len + 1 >= size) {
            break;
        }
    }
    return len;
}

static void serve(int lfd, const char *dir, char *const *script, size_t n)
{
    static char req[REQ_MAX];

    for (size_t i = 0; i < n; i++) {
        char path[128];
        size_t len;
        int fd;
        int cfd = accept(lfd, NULL, NULL);

        if (cfd < 0) {
            _exit(2);
        }
        len = read_request(cfd, req, sizeof(req));
        snprintf(path, sizeof(path), "%s/req-%zu", dir, i);
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            write_all(fd, req, len);
            close(fd);
        }
        if (strncmp(script[i], "SLEEP", 5) == 0) {
            sleep(3);
        } else {
            write_all(cfd, script[i], strlen(script[i]));
        }
        shutdown(cfd, SHUT_RDWR);
        close(cfd);
    }
    _exit(0);
}

static void server_start(server *s, char *const *script, size_t n)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof(a);
    int lfd;

    memset(s, 0, sizeof(*s));
    snprintf(s->dir, sizeof(s->dir), "/tmp/ec2ha-test-XXXXXX");
    assert_non_null(mkdtemp(s->dir));
    lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(lfd >= 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(lfd, 16), 0);
    assert_int_equal(getsockname(lfd, (struct sockaddr *)&a, &alen), 0);
    s->port = ntohs(a.sin_port);
    snprintf(s->url, sizeof(s->url), "http://127.0.0.1:%d", s->port);
    s->pid = fork();
    assert_true(s->pid >= 0);
    if (s->pid == 0) {
        alarm(30);      /* never outlive a broken test */
        serve(lfd, s->dir, script, n);
    }
    close(lfd);
}

/* Number of requests the server recorded; stops it (by pid) and cleans up the dir later. */
static int server_stop(server *s)
{
    int status = 0;
    int count = 0;
    char path[128];

    kill(s->pid, SIGTERM);
    waitpid(s->pid, &status, 0);
    for (;;) {
        snprintf(path, sizeof(path), "%s/req-%d", s->dir, count);
        if (access(path, F_OK) != 0) {
            break;
        }
        count++;
    }
    return count;
}

static char *server_request(const server *s, int i)
{
    char path[128];
    FILE *f;
    char *buf = calloc(1, REQ_MAX);

    assert_non_null(buf);
    snprintf(path, sizeof(path), "%s/req-%d", s->dir, i);
    f = fopen(path, "rb");
    assert_non_null(f);
    assert_true(fread(buf, 1, REQ_MAX - 1, f) > 0);
    fclose(f);
    return buf;
}

static void server_cleanup(server *s)
{
    char path[128];

    for (int i = 0; i < MAX_SCRIPT; i++) {
        snprintf(path, sizeof(path), "%s/req-%d", s->dir, i);
        unlink(path);
    }
    rmdir(s->dir);
}

static const char *request_body(const char *req)
{
    const char *p = strstr(req, "\r\n\r\n");

    return p != NULL ? p + 4 : "";
}

/* A complete HTTP response (heap). */
static char *response(int status, const char *body)
{
    char *r = NULL;

    assert_true(asprintf(&r, "HTTP/1.1 %d X\r\nContent-Type: text/xml;charset=UTF-8\r\n"
                             "Date: Tue, 02 Jan 2024 03:04:05 GMT\r\n"
                             "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                         status, strlen(body), body) > 0);
    return r;
}

static char *error_response(int status, const char *code)
{
    char body[512];

    snprintf(body, sizeof(body), "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors>"
             "<Error><Code>%s</Code><Message>scripted %s</Message></Error></Errors>"
             "<RequestID>req-%s</RequestID></Response>", code, code, code);
    return response(status, body);
}

static void free_script(char **script, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(script[i]);
    }
}

static ec2ha_ec2_client *client_for(const server *s, const char *token)
{
    ec2ha_ec2_config cfg;
    ec2ha_ec2_client *c = NULL;
    ec2ha_error err;

    memset(&cfg, 0, sizeof(cfg));
    cfg.endpoint = s->url;
    cfg.region = "us-east-1";
    cfg.access_key_id = "AKIDEXAMPLE";
    cfg.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    cfg.session_token = token;
    assert_int_equal(ec2ha_ec2_client_new(&cfg, &c, &err), EC2HA_OK);
    return c;
}

static const char stop_ok[] =
    "<StopInstancesResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">"
    "<requestId>r1</requestId><instancesSet><item><instanceId>i-0abc</instanceId>"
    "<currentState><code>64</code><name>stopping</name></currentState>"
    "<previousState><code>16</code><name>running</name></previousState>"
    "</item></instancesSet></StopInstancesResponse>";

/* ---- http ----------------------------------------------------------------------------- */

static void test_url_host(void **state)
{
    char *h = NULL;
    ec2ha_error err;

    assert_int_equal(ec2ha_http_url_host("https://ec2.us-east-1.amazonaws.com", &h, &err),
                     EC2HA_OK);
    assert_string_equal(h, "ec2.us-east-1.amazonaws.com");
    free(h);
    assert_int_equal(ec2ha_http_url_host("https://ec2.us-east-1.amazonaws.com:443/", &h, &err),
                     EC2HA_OK);
    assert_string_equal(h, "ec2.us-east-1.amazonaws.com");
    free(h);
    assert_int_equal(ec2ha_http_url_host("https://127.0.0.1:8443/x", &h, &err), EC2HA_OK);
    assert_string_equal(h, "127.0.0.1:8443");
    free(h);
    assert_int_equal(ec2ha_http_url_host("http://[::1]:8080", &h, &err), EC2HA_OK);
    assert_string_equal(h, "[::1]:8080");
    free(h);
    assert_int_equal(ec2ha_http_url_host("ftp://example.com/", &h, &err), EC2HA_ERR_INVALID);
    assert_null(h);
    assert_int_equal(ec2ha_http_url_host("not a url", &h, &err), EC2HA_ERR_INVALID);
}

static void test_plain_http_refused_off_loopback(void **state)
{
    ec2ha_http_request req = { "GET", "http://192.0.2.1/", NULL, 0, NULL, 0, false, false };
    ec2ha_http_response resp;
    ec2ha_error err;

    memset(&resp, 0, sizeof(resp));
    assert_int_equal(ec2ha_http_perform(NULL, &req, ec2ha_deadline_in_ms(1000), &resp, &err),
                     EC2HA_ERR_INVALID);
    assert_non_null(strstr(err.message, "refusing plain http://"));
    assert_null(resp.body.data);
    req.url = "http://ec2.us-east-1.amazonaws.com/";
    assert_int_equal(ec2ha_http_perform(NULL, &req, ec2ha_deadline_in_ms(1000), &resp, &err),
                     EC2HA_ERR_INVALID);
    req.url = "file:///etc/passwd";
    assert_int_equal(ec2ha_http_perform(NULL, &req, ec2ha_deadline_in_ms(1000), &resp, &err),
                     EC2HA_ERR_INVALID);
    /* a passed deadline is a timeout before any I/O */
    req.url = "https://192.0.2.1/";
    assert_int_equal(ec2ha_http_perform(NULL, &req, ec2ha_deadline_in_ms(0), &resp, &err),
                     EC2HA_ERR_TIMEOUT);
    ec2ha_http_cleanup();
}

static void test_http_basic_and_caps(void **state)
{
    char *script[3];
    const char *headers[] = { "X-Test: 1" };
    ec2ha_http_request req = { "GET", NULL, headers, 1, NULL, 0, false, false };
    ec2ha_http_options opts = { NULL, NULL, 0, 64 };
    ec2ha_http_response resp;
    ec2ha_error err;
    server s;
    char *r;

    script[0] = response(200, "hello");
    script[1] = response(200, "this body is definitely longer than sixty-four bytes, so it is "
                              "cut off by the cap");
    assert_true(asprintf(&script[2], "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n"
                                     "Connection: close\r\n\r\n<Desc") > 0);
    server_start(&s, script, 3);
    req.url = s.url;

    memset(&resp, 0, sizeof(resp));
    assert_int_equal(ec2ha_http_perform(&opts, &req, ec2ha_deadline_in_ms(10000), &resp, &err),
                     EC2HA_OK);
    assert_int_equal(resp.status, 200);
    assert_string_equal(ec2ha_buf_str(&resp.body), "hello");
    assert_string_equal(resp.date, "Tue, 02 Jan 2024 03:04:05 GMT");
    ec2ha_http_response_free(&resp);

    assert_int_equal(ec2ha_http_perform(&opts, &req, ec2ha_deadline_in_ms(10000), &resp, &err),
                     EC2HA_ERR_TOO_LARGE);
    assert_non_null(strstr(err.message, "larger than 64 bytes"));
    assert_null(resp.body.data);

    /* the connection closes before Content-Length bytes: a transport error (retryable) */
    assert_int_equal(ec2ha_http_perform(NULL, &req, ec2ha_deadline_in_ms(10000), &resp, &err),
                     EC2HA_ERR_TRANSPORT);

    assert_int_equal(server_stop(&s), 3);
    r = server_request(&s, 0);
    assert_true(strncmp(r, "GET / HTTP/1.1\r\n", 16) == 0);
    assert_non_null(strstr(r, "\r\nX-Test: 1\r\n"));
    assert_null(strcasestr(r, "Expect:"));
    free(r);
    server_cleanup(&s);
    free_script(script, 3);
    ec2ha_http_cleanup();
}

static void test_http_timeout(void **state)
{
    char *script[1] = { (char *)"SLEEP" };
    ec2ha_http_request req = { "GET", NULL, NULL, 0, NULL, 0, false, false };
    ec2ha_http_response resp;
    ec2ha_error err;
    int64_t t0 = ec2ha_monotonic_ms();
    server s;

    server_start(&s, script, 1);
    req.url = s.url;
    memset(&resp, 0, sizeof(resp));
    assert_int_equal(ec2ha_http_perform(NULL, &req, ec2ha_deadline_in_ms(700), &resp, &err),
                     EC2HA_ERR_TIMEOUT);
    assert_true(ec2ha_monotonic_ms() - t0 < 2500);
    server_stop(&s);
    server_cleanup(&s);
    ec2ha_http_cleanup();
}

static void test_http_connection_refused(void **state)
{
    ec2ha_http_request req = { "GET", NULL, NULL, 0, NULL, 0, false, false };
    ec2ha_http_response resp;
    ec2ha_error err;
    server s;
    char *script[1];

    /* a port that was just free: start and stop a server to learn one */
    script[0] = response(200, "x");
    server_start(&s, script, 0);
    server_stop(&s);
    server_cleanup(&s);
    req.url = s.url;
    memset(&resp, 0, sizeof(resp));
    assert_int_equal(ec2ha_http_perform(NULL, &req, ec2ha_deadline_in_ms(3000), &resp, &err),
                     EC2HA_ERR_TRANSPORT);
    assert_non_null(strstr(err.message, "127.0.0.1"));
    free(script[0]);
    ec2ha_http_cleanup();
}

/* ---- the client ------------------------------------------------------------------------ */

static void test_client_config_errors(void **state)
{
    ec2ha_ec2_config cfg;
    ec2ha_ec2_client *c = (ec2ha_ec2_client *)(uintptr_t)1;
    ec2ha_error err;

    memset(&cfg, 0, sizeof(cfg));
    cfg.endpoint = "https://ec2.us-east-1.amazonaws.com";
    cfg.region = "us-east-1";
    cfg.access_key_id = "AKID";
    assert_int_equal(ec2ha_ec2_client_new(&cfg, &c, &err), EC2HA_ERR_NO_CREDENTIALS);
    assert_null(c);
    cfg.secret_access_key = "secret";
    cfg.region = "us east 1";
    assert_int_equal(ec2ha_ec2_client_new(&cfg, &c, &err), EC2HA_ERR_INVALID);
    assert_non_null(strstr(err.message, "region"));
    cfg.region = "us-east-1";
    cfg.endpoint = "https://ec2.amazonaws.com/?x=1";
    assert_int_equal(ec2ha_ec2_client_new(&cfg, &c, &err), EC2HA_ERR_INVALID);
    cfg.endpoint = "::::";
    assert_int_equal(ec2ha_ec2_client_new(&cfg, &c, &err), EC2HA_ERR_INVALID);
    cfg.endpoint = "https://ec2.us-east-1.amazonaws.com";
    assert_int_equal(ec2ha_ec2_client_new(&cfg, &c, &err), EC2HA_OK);
    ec2ha_ec2_client_free(c);
    ec2ha_ec2_client_free(NULL);
}

static void test_stop_request_is_signed_and_exact(void **state)
{
    char *script[2];
    ec2ha_stop_params p = { "i-0abc", true, true, false };
    ec2ha_state_change sc;
    ec2ha_error err;
    ec2ha_ec2_client *c;
    server s;
    char *r;

    script[0] = response(200, stop_ok);
    script[1] = response(200, stop_ok);
    server_start(&s, script, 2);
    c = client_for(&s, "FQoGZXIvYXdzEXAMPLETOKEN");
    assert_int_equal(ec2ha_ec2_stop_instances(c, &p, ec2ha_deadline_in_ms(10000), &sc, &err),
                     EC2HA_OK);
    assert_string_equal(sc.instance_id, "i-0abc");
    assert_int_equal(sc.current, EC2HA_STATE_STOPPING);
    assert_int_equal(sc.previous, EC2HA_STATE_RUNNING);
    ec2ha_state_change_free(&sc);

    /* without skip_os_shutdown the parameter is not sent at all */
    p.skip_os_shutdown = false;
    assert_int_equal(ec2ha_ec2_stop_instances(c, &p, ec2ha_deadline_in_ms(10000), &sc, &err),
                     EC2HA_OK);
    ec2ha_state_change_free(&sc);
    assert_int_equal(server_stop(&s), 2);

    r = server_request(&s, 0);
    assert_true(strncmp(r, "POST / HTTP/1.1\r\n", 17) == 0);
    assert_non_null(strstr(r, "\r\nHost: 127.0.0.1:"));
    assert_non_null(strstr(r, "\r\nContent-Type: application/x-www-form-urlencoded; "
                              "charset=utf-8\r\n"));
    assert_non_null(strstr(r, "\r\nX-Amz-Date: 20"));
    assert_non_null(strstr(r, "\r\nX-Amz-Security-Token: FQoGZXIvYXdzEXAMPLETOKEN\r\n"));
    assert_non_null(strstr(r, "\r\nAuthorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"));
    assert_non_null(strstr(r, "/us-east-1/ec2/aws4_request, SignedHeaders=content-type;host;"
                              "x-amz-date;x-amz-security-token, Signature="));
    assert_null(strstr(r, "wJalrXUtnFEMI"));
    assert_string_equal(request_body(r), "Action=StopInstances&Version=2016-11-15"
                                         "&InstanceId.1=i-0abc&Force=true&SkipOsShutdown=true");
    free(r);
    r = server_request(&s, 1);
    assert_string_equal(request_body(r), "Action=StopInstances&Version=2016-11-15"
                                         "&InstanceId.1=i-0abc&Force=true");
    free(r);
    server_cleanup(&s);
    free_script(script, 2);
    ec2ha_ec2_client_free(c);
    ec2ha_http_cleanup();
}

static void test_retries_then_success(void **state)
{
    char *script[4];
    ec2ha_form form;
    ec2ha_buf body;
    char *date = NULL;
    ec2ha_error err;
    ec2ha_ec2_client *c;
    server s;

    script[0] = error_response(503, "Unavailable");
    script[1] = response(502, "<html><body>bad gateway</body></html>");
    assert_true(asprintf(&script[2], "HTTP/1.1 200 OK\r\nContent-Length: 500\r\n"
                                     "Connection: close\r\n\r\n<DescribeInstancesRes") > 0);
    script[3] = response(200, "<DescribeInstancesResponse><reservationSet/>"
                              "</DescribeInstancesResponse>");
    server_start(&s, script, 4);
    c = client_for(&s, NULL);
    assert_int_equal(ec2ha_form_init(&form, "DescribeInstances"), EC2HA_OK);
    assert_int_equal(ec2ha_ec2_call(c, &form, ec2ha_deadline_in_ms(20000), &body, &date, &err),
                     EC2HA_OK);
    assert_non_null(strstr(ec2ha_buf_str(&body), "<reservationSet/>"));
    assert_string_equal(date, "Tue, 02 Jan 2024 03:04:05 GMT");
    assert_int_equal(server_stop(&s), 4);
    ec2ha_buf_free(&body);
    free(date);
    ec2ha_form_free(&form);
    server_cleanup(&s);
    free_script(script, 4);
    ec2ha_ec2_client_free(c);
    ec2ha_http_cleanup();
}

static void test_non_retryable_error_stops_at_once(void **state)
{
    char *script[2];
    ec2ha_instance inst;
    ec2ha_error err;
    ec2ha_ec2_client *c;
    server s;

    script[0] = error_response(400, "InvalidInstanceID.NotFound");
    script[1] = error_response(403, "UnauthorizedOperation");
    server_start(&s, script, 2);
    c = client_for(&s, NULL);
    assert_int_equal(ec2ha_ec2_describe_instance(c, "i-0nothere", ec2ha_deadline_in_ms(10000),
                                                 &inst, &err), EC2HA_ERR_NOT_FOUND);
    assert_string_equal(err.code, "InvalidInstanceID.NotFound");
    assert_string_equal(err.request_id, "req-InvalidInstanceID.NotFound");
    assert_int_equal(err.http_status, 400);
    assert_non_null(strstr(err.message, "EC2 DescribeInstances"));
    assert_null(inst.instance_id);
    assert_int_equal(ec2ha_ec2_describe_instance(c, "i-0abc", ec2ha_deadline_in_ms(10000),
                                                 &inst, &err), EC2HA_ERR_AWS);
    assert_string_equal(err.code, "UnauthorizedOperation");
    assert_int_equal(server_stop(&s), 2);
    server_cleanup(&s);
    free_script(script, 2);
    ec2ha_ec2_client_free(c);
    ec2ha_http_cleanup();
}

static void test_request_expired_resigns_once(void **state)
{
    char *script[3];
    ec2ha_error err;
    ec2ha_ec2_client *c;
    server s;

    script[0] = error_response(400, "RequestExpired");
    script[1] = error_response(400, "RequestExpired");
    script[2] = response(200, "<DisassociateAddressResponse><return>true</return>"
                              "</DisassociateAddressResponse>");
    server_start(&s, script, 3);
    c = client_for(&s, NULL);
    assert_int_equal(ec2ha_ec2_disassociate_address(c, "eipassoc-1", false,
                                                    ec2ha_deadline_in_ms(10000), &err),
                     EC2HA_ERR_AWS);
    assert_string_equal(err.code, "RequestExpired");
    /* one call, two attempts: the third answer is never asked for */
    assert_int_equal(server_stop(&s), 2);
    server_cleanup(&s);
    free_script(script, 3);
    ec2ha_ec2_client_free(c);
    ec2ha_http_cleanup();
}

static void test_retries_bounded_by_deadline(void **state)
{
    char *script[MAX_SCRIPT];
    ec2ha_address_list list;
    ec2ha_error err;
    ec2ha_ec2_client *c;
    int64_t t0;
    int n;
    server s;

    for (int i = 0; i < MAX_SCRIPT; i++) {
        script[i] = error_response(503, "RequestLimitExceeded");
    }
    server_start(&s, script, MAX_SCRIPT);
    c = client_for(&s, NULL);
    t0 = ec2ha_monotonic_ms();
    assert_int_equal(ec2ha_ec2_describe_addresses(c, NULL, ec2ha_deadline_in_ms(1500), &list,
                                                  &err), EC2HA_ERR_AWS);
    assert_true(ec2ha_monotonic_ms() - t0 <= 1700);
    assert_string_equal(err.code, "RequestLimitExceeded");
    assert_non_null(strstr(err.message, "giving up after"));
    assert_null(list.items);
    n = server_stop(&s);
    assert_true(n >= 1 && n < MAX_SCRIPT);
    server_cleanup(&s);
    free_script(script, MAX_SCRIPT);
    ec2ha_ec2_client_free(c);
    ec2ha_http_cleanup();
}

static void test_pagination_and_dry_run(void **state)
{
    static const char *const ids[] = { "i-1", "i-2" };
    char *script[4];
    ec2ha_describe_instances_query q;
    ec2ha_instance_list list;
    ec2ha_error err;
    ec2ha_ec2_client *c;
    server s;
    char *r;

    script[0] = response(200, "<DescribeInstancesResponse><reservationSet><item><instancesSet>"
                              "<item><instanceId>i-1</instanceId></item></instancesSet></item>"
                              "</reservationSet><nextToken>tok+/1</nextToken>"
                              "</DescribeInstancesResponse>");
    script[1] = response(200, "<DescribeInstancesResponse><reservationSet><item><instancesSet>"
                              "<item><instanceId>i-2</instanceId></item></instancesSet></item>"
                              "</reservationSet><nextToken/></DescribeInstancesResponse>");
    script[2] = error_response(412, "DryRunOperation");
    script[3] = error_response(403, "UnauthorizedOperation");
    server_start(&s, script, 4);
    c = client_for(&s, NULL);
    memset(&q, 0, sizeof(q));
    q.instance_ids = ids;
    q.n_instance_ids = 2;
    q.max_results = 5;
    assert_int_equal(ec2ha_ec2_describe_instances(c, &q, ec2ha_deadline_in_ms(10000), &list,
                                                  &err), EC2HA_OK);
    assert_int_equal(list.count, 2);
    assert_string_equal(list.items[0].instance_id, "i-1");
    assert_string_equal(list.items[1].instance_id, "i-2");
    ec2ha_instance_list_free(&list);

    memset(&q, 0, sizeof(q));
    q.dry_run = true;
    assert_int_equal(ec2ha_ec2_describe_instances(c, &q, ec2ha_deadline_in_ms(10000), &list,
                                                  &err), EC2HA_OK);
    assert_int_equal(list.count, 0);
    assert_int_equal(ec2ha_ec2_describe_instances(c, &q, ec2ha_deadline_in_ms(10000), &list,
                                                  &err), EC2HA_ERR_AWS);
    assert_string_equal(err.code, "UnauthorizedOperation");
    assert_int_equal(server_stop(&s), 4);

    r = server_request(&s, 0);
    assert_string_equal(request_body(r), "Action=DescribeInstances&Version=2016-11-15"
                                         "&InstanceId.1=i-1&InstanceId.2=i-2&MaxResults=5");
    free(r);
    r = server_request(&s, 1);
    assert_string_equal(request_body(r), "Action=DescribeInstances&Version=2016-11-15"
                                         "&InstanceId.1=i-1&InstanceId.2=i-2&MaxResults=5"
                                         "&NextToken=tok%2B%2F1");
    free(r);
    r = server_request(&s, 2);
    assert_string_equal(request_body(r), "Action=DescribeInstances&Version=2016-11-15"
                                         "&DryRun=true&MaxResults=1000");
    free(r);
    server_cleanup(&s);
    free_script(script, 4);
    ec2ha_ec2_client_free(c);
    ec2ha_http_cleanup();
}

/*
 * DescribeInstances pages are parsed as they arrive: a transfer cut mid-body,
 * a 2xx body that breaks mid-stream and an error status are each retried,
 * and nothing the broken attempts delivered survives into the result.
 */
static void test_streamed_page_retries(void **state)
{
    static const char head[] =
        "<DescribeInstancesResponse><reservationSet><item><instancesSet>"
        "<item><instanceId>i-cut1</instanceId></item><item><instanceId>i-cut2</instanceId>";
    static const char *const ids[] = { "i-good" };
    char *script[5];
    ec2ha_describe_instances_query q;
    ec2ha_instance_list list;
    ec2ha_instance inst;
    ec2ha_error err;
    ec2ha_ec2_client *c;
    server s;
    char *r;

    /* Content-Length promises more than is sent: curl reports the cut */
    assert_true(asprintf(&script[0], "HTTP/1.1 200 OK\r\nContent-Length: 4000\r\n"
                         "Connection: close\r\n\r\n%s", head) > 0);
    /* complete as HTTP, broken as XML after two instances */
    script[1] = response(200, "<DescribeInstancesResponse><reservationSet><item><instancesSet>"
                              "<item><instanceId>i-bad1</instanceId></item><item><instanceId>"
                              "i-bad2</instanceId></item></instancesSet></item></wrong>"
                              "</DescribeInstancesResponse>");
    script[2] = error_response(503, "Unavailable");
    script[3] = response(200, "<DescribeInstancesResponse><reservationSet><item><instancesSet>"
                              "<item><instanceId>i-good</instanceId><instanceState><code>80"
                              "</code><name>stopped</name></instanceState></item></instancesSet>"
                              "</item></reservationSet></DescribeInstancesResponse>");
    /* an error document at 200 is that error, from the streamed body */
    script[4] = response(200, "<Response><Errors><Error><Code>InvalidInstanceID.NotFound</Code>"
                              "<Message>gone</Message></Error></Errors><RequestID>r-4"
                              "</RequestID></Response>");
    server_start(&s, script, 5);
    c = client_for(&s, NULL);
    memset(&q, 0, sizeof(q));
    ec2ha_error_clear(&err);
    assert_int_equal(ec2ha_ec2_describe_instances(c, &q, ec2ha_deadline_in_ms(15000), &list,
                                                  &err), EC2HA_OK);
    assert_int_equal(list.count, 1);
    assert_string_equal(list.items[0].instance_id, "i-good");
    assert_int_equal(list.items[0].state, EC2HA_STATE_STOPPED);
    ec2ha_instance_list_free(&list);

    assert_int_equal(ec2ha_ec2_describe_instance(c, ids[0], ec2ha_deadline_in_ms(5000), &inst,
                                                 &err), EC2HA_ERR_NOT_FOUND);
    assert_string_equal(err.code, "InvalidInstanceID.NotFound");
    assert_string_equal(err.request_id, "r-4");
    assert_int_equal(server_stop(&s), 5);

    /* a listing asks for EC2's largest page; a query by id never sends MaxResults */
    r = server_request(&s, 0);
    assert_string_equal(request_body(r), "Action=DescribeInstances&Version=2016-11-15"
                                         "&MaxResults=1000");
    free(r);
    r = server_request(&s, 4);
    assert_string_equal(request_body(r), "Action=DescribeInstances&Version=2016-11-15"
                                         "&InstanceId.1=i-good");
    free(r);
    server_cleanup(&s);
    free_script(script, 5);
    ec2ha_ec2_client_free(c);
    ec2ha_http_cleanup();
}

static void test_associate_and_wrong_answers(void **state)
{
    char *script[3];
    ec2ha_associate_params p = { "eipalloc-1", NULL, "eni-1", "10.0.0.5", true, false };
    ec2ha_stop_params sp = { "i-other", true, false, false };
    ec2ha_state_change sc;
    char *assoc = NULL;
    ec2ha_error err;
    ec2ha_ec2_client *c;
    server s;
    char *r;

    script[0] = response(200, "<AssociateAddressResponse><return>true</return>"
                              "<associationId>eipassoc-9</associationId>"
                              "</AssociateAddressResponse>");
    script[1] = response(200, stop_ok);     /* about i-0abc, not i-other */
    script[2] = response(200, stop_ok);
    server_start(&s, script, 2);
    c = client_for(&s, NULL);
    assert_int_equal(ec2ha_ec2_associate_address(c, &p, ec2ha_deadline_in_ms(10000), &assoc,
                                                 &err), EC2HA_OK);
    assert_string_equal(assoc, "eipassoc-9");
    free(assoc);
    assert_int_equal(ec2ha_ec2_stop_instances(c, &sp, ec2ha_deadline_in_ms(10000), &sc, &err),
                     EC2HA_ERR_STATE);
    assert_null(sc.instance_id);
    assert_int_equal(server_stop(&s), 2);
    r = server_request(&s, 0);
    assert_string_equal(request_body(r), "Action=AssociateAddress&Version=2016-11-15"
                                         "&AllocationId=eipalloc-1&NetworkInterfaceId=eni-1"
                                         "&PrivateIpAddress=10.0.0.5&AllowReassociation=true");
    free(r);

    /* both or neither target: refused before any request */
    p.instance_id = "i-1";
    assert_int_equal(ec2ha_ec2_associate_address(c, &p, ec2ha_deadline_in_ms(1000), &assoc,
                                                 &err), EC2HA_ERR_INVALID);
    server_cleanup(&s);
    free_script(script, 3);
    ec2ha_ec2_client_free(c);
    ec2ha_http_cleanup();
}

static void test_call_refuses_broken_form(void **state)
{
    ec2ha_form form;
    ec2ha_buf body;
    ec2ha_error err;
    ec2ha_ec2_config cfg;
    ec2ha_ec2_client *c = NULL;

    memset(&cfg, 0, sizeof(cfg));
    cfg.endpoint = "https://192.0.2.1";
    cfg.region = "us-east-1";
    cfg.access_key_id = "AKID";
    cfg.secret_access_key = "secret";
    assert_int_equal(ec2ha_ec2_client_new(&cfg, &c, &err), EC2HA_OK);
    ec2ha_form_init(&form, "StopInstances");
    ec2ha_form_add(&form, "InstanceId.1", NULL);
    assert_int_equal(ec2ha_ec2_call(c, &form, ec2ha_deadline_in_ms(1000), &body, NULL, &err),
                     EC2HA_ERR_INVALID);
    assert_non_null(strstr(err.message, "not sent"));
    ec2ha_form_free(&form);
    ec2ha_ec2_client_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_host),
        cmocka_unit_test(test_plain_http_refused_off_loopback),
        cmocka_unit_test(test_http_basic_and_caps),
        cmocka_unit_test(test_http_timeout),
        cmocka_unit_test(test_http_connection_refused),
        cmocka_unit_test(test_client_config_errors),
        cmocka_unit_test(test_stop_request_is_signed_and_exact),
        cmocka_unit_test(test_retries_then_success),
        cmocka_unit_test(test_non_retryable_error_stops_at_once),
        cmocka_unit_test(test_request_expired_resigns_once),
        cmocka_unit_test(test_retries_bounded_by_deadline),
        cmocka_unit_test(test_pagination_and_dry_run),
        cmocka_unit_test(test_streamed_page_retries),
        cmocka_unit_test(test_associate_and_wrong_answers),
        cmocka_unit_test(test_call_refuses_broken_form),
    };

    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests_name("ec2_client", tests, NULL, NULL);
}
