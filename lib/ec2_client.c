/*
 * ec2_client.c - signed EC2 Query API calls with deadline-bounded retries,
 * and the typed calls the agents use.
 *
 * Every attempt is signed afresh with the current time (a retry after a
 * backoff must not reuse a stale X-Amz-Date); RequestExpired gets one
 * immediate re-sign.  Retries follow ec2ha_retry_classify / ec2ha_backoff and
 * never outlive the caller's deadline; each attempt gets at most its share of
 * it (ec2ha_attempt_deadline), so one hung request leaves time for a retry on
 * a new connection (libcurl closes a connection whose transfer timed out).
 * Clock skew: when EC2 refuses a request for its time and its Date header is
 * minutes away from ours, the client signs with EC2's time from then on
 * (c->clock_offset_s, as the AWS SDKs do) and says loudly that the clock is
 * wrong.  The client owns copies of everything in its config; the secret key
 * and session token are registered with the logger for redaction and wiped
 * when the client is freed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "ec2_private.h"
#include "ec2ha/ec2.h"
#include "ec2ha/log.h"
#include "ec2ha/sigv4.h"

#define EC2_SERVICE "ec2"
#define EC2_CONTENT_TYPE "application/x-www-form-urlencoded; charset=utf-8"
/* The least time worth starting another attempt with. */
#define EC2_MIN_ATTEMPT_MS 300
/* Instances accumulated over all pages of one DescribeInstances. */
#define EC2_MAX_TOTAL_INSTANCES EC2_XML_MAX_ITEMS

struct ec2ha_ec2_client {
    char *url;                  /* scheme://host[:port]/path */
    char *host;                 /* Host header: host[:port] */
    char *path;                 /* request path, "/" for EC2 */
    char *region;
    char *access_key_id;
    char *secret_access_key;    /* wiped on free */
    char *session_token;        /* wiped on free; NULL for long-term keys */
    char *ca_bundle;
    char *proxy;                /* may hold user:password: wiped on free */
    ec2ha_http_options http;    /* points into the copies above */
    int64_t clock_offset_s;     /* EC2's Date - local clock, once a skew error showed it */
};

/* ---- client lifetime ------------------------------------------------------------- */

static ec2ha_rc dup_opt(const char *in, char **out)
{
    *out = NULL;
    if (in == NULL) {
        return EC2HA_OK;
    }
    *out = strdup(in);
    return *out != NULL ? EC2HA_OK : EC2HA_ERR_NOMEM;
}

static bool region_valid(const char *r)
{
    size_t i;

    if (r == NULL || r[0] == '\0' || strlen(r) > 64) {
        return false;
    }
    for (i = 0; r[i] != '\0'; i++) {
        char ch = r[i];

        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-')) {
            return false;
        }
    }
    return true;
}

/* Split the endpoint into the URL we POST to and the path we sign. */
static ec2ha_rc parse_endpoint(ec2ha_ec2_client *c, const char *endpoint, ec2ha_error *err)
{
    CURLU *u = NULL;
    char *url = NULL;
    char *path = NULL;
    char *extra = NULL;
    ec2ha_rc rc = EC2HA_ERR_INVALID;

    u = curl_url();
    if (u == NULL) {
        return ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory");
    }
    if (curl_url_set(u, CURLUPART_URL, endpoint, 0) != CURLUE_OK) {
        ec2ha_error_set(err, EC2HA_ERR_INVALID,
                        "EC2 endpoint '%.200s' is not a URL (expected like "
                        "https://ec2.us-east-1.amazonaws.com)", endpoint);
        goto cleanup;
    }
    if (curl_url_get(u, CURLUPART_QUERY, &extra, 0) == CURLUE_OK ||
        curl_url_get(u, CURLUPART_FRAGMENT, &extra, 0) == CURLUE_OK ||
        curl_url_get(u, CURLUPART_USER, &extra, 0) == CURLUE_OK) {
        ec2ha_error_set(err, EC2HA_ERR_INVALID,
                        "EC2 endpoint '%.200s' must not carry a query, fragment or user name",
                        endpoint);
        goto cleanup;
    }
    if (curl_url_get(u, CURLUPART_URL, &url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK) {
        ec2ha_error_set(err, EC2HA_ERR_INVALID, "EC2 endpoint '%.200s' has no usable URL form",
                        endpoint);
        goto cleanup;
    }
    rc = ec2ha_http_url_host(endpoint, &c->host, err);
    if (rc != EC2HA_OK) {
        goto cleanup;
    }
    c->url = strdup(url);
    c->path = strdup(path[0] != '\0' ? path : "/");
    if (c->url == NULL || c->path == NULL) {
        rc = ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory");
        goto cleanup;
    }
    rc = EC2HA_OK;
cleanup:
    curl_free(extra);
    curl_free(url);
    curl_free(path);
    curl_url_cleanup(u);
    return rc;
}

ec2ha_rc ec2ha_ec2_client_new_from_aws(const ec2ha_aws_config *aws,
                                       const ec2ha_http_options *http,
                                       ec2ha_ec2_client **out, ec2ha_error *err)
{
    ec2ha_ec2_config cfg;

    memset(&cfg, 0, sizeof(cfg));
    if (http != NULL) {
        cfg.http = *http;
    }
    cfg.endpoint = aws->endpoint;
    cfg.region = aws->region;
    cfg.access_key_id = aws->access_key_id;
    cfg.secret_access_key = aws->secret_access_key;
    cfg.session_token = aws->session_token;
    cfg.http.ca_bundle = aws->ca_bundle;
    return ec2ha_ec2_client_new(&cfg, out, err);
}

ec2ha_rc ec2ha_ec2_client_new(const ec2ha_ec2_config *cfg, ec2ha_ec2_client **out,
                              ec2ha_error *err)
{
    ec2ha_ec2_client *c = NULL;
    ec2ha_rc rc = EC2HA_ERR_INVALID;

    if (out == NULL) {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID, "ec2_client_new: out is NULL");
    }
    *out = NULL;
    if (cfg == NULL || cfg->endpoint == NULL || cfg->endpoint[0] == '\0') {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID, "no EC2 endpoint configured");
    }
    if (!region_valid(cfg->region)) {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID,
                               "region '%.64s' is not valid (expected like us-east-1)",
                               cfg->region != NULL ? cfg->region : "");
    }
    if (cfg->access_key_id == NULL || cfg->access_key_id[0] == '\0' ||
        cfg->secret_access_key == NULL || cfg->secret_access_key[0] == '\0') {
        return ec2ha_error_set(err, EC2HA_ERR_NO_CREDENTIALS,
                               "no AWS access key id and secret access key for the EC2 client");
    }
    c = calloc(1, sizeof(*c));
    if (c == NULL) {
        return ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory");
    }
    if (dup_opt(cfg->region, &c->region) != EC2HA_OK ||
        dup_opt(cfg->access_key_id, &c->access_key_id) != EC2HA_OK ||
        dup_opt(cfg->secret_access_key, &c->secret_access_key) != EC2HA_OK ||
        dup_opt(cfg->session_token != NULL && cfg->session_token[0] != '\0' ? cfg->session_token
                                                                             : NULL,
                &c->session_token) != EC2HA_OK ||
        dup_opt(cfg->http.ca_bundle, &c->ca_bundle) != EC2HA_OK ||
        dup_opt(cfg->http.proxy, &c->proxy) != EC2HA_OK) {
        rc = ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory");
        goto cleanup;
    }
    ec2ha_log_add_secret(c->secret_access_key);
    if (c->session_token != NULL) {
        ec2ha_log_add_secret(c->session_token);
    }
    rc = parse_endpoint(c, cfg->endpoint, err);
    if (rc != EC2HA_OK) {
        goto cleanup;
    }
    c->http.ca_bundle = c->ca_bundle;
    c->http.proxy = c->proxy;
    c->http.connect_timeout_ms = cfg->http.connect_timeout_ms;
    c->http.max_response_bytes = cfg->http.max_response_bytes;
    *out = c;
    c = NULL;
    rc = EC2HA_OK;
cleanup:
    ec2ha_ec2_client_free(c);
    return rc;
}

void ec2ha_ec2_client_free(ec2ha_ec2_client *c)
{
    if (c == NULL) {
        return;
    }
    free(c->url);
    free(c->host);
    free(c->path);
    free(c->region);
    free(c->access_key_id);
    ec2ha_free_secret(c->secret_access_key);
    ec2ha_free_secret(c->session_token);
    free(c->ca_bundle);
    ec2ha_free_secret(c->proxy);
    ec2ha_secure_zero(c, sizeof(*c));
    free(c);
}

/* ---- one signed attempt ----------------------------------------------------------- */

static char *header_line(const char *name, const char *value)
{
    size_t size = strlen(name) + strlen(value) + 3;
    char *s = malloc(size);

    if (s != NULL) {
        snprintf(s, size, "%s: %s", name, value);
    }
    return s;
}

static ec2ha_rc attempt(ec2ha_ec2_client *c, const ec2ha_form *form, ec2ha_deadline deadline,
                        const ec2ha_http_sink *sink, ec2ha_http_response *resp, ec2ha_error *err)
{
    enum { MAX_HEADERS = 5 };
    ec2ha_sigv4_header sh[MAX_HEADERS];
    char *lines[MAX_HEADERS] = { NULL };
    ec2ha_sigv4_result sig;
    ec2ha_sigv4_request sreq;
    ec2ha_sigv4_params params;
    ec2ha_http_request hreq;
    char amz_date[EC2HA_SIGV4_AMZ_DATE_LEN + 1];
    time_t now = time(NULL) + (time_t)c->clock_offset_s;
    size_t n = 0;
    size_t i;
    ec2ha_rc rc;

    memset(&sig, 0, sizeof(sig));
    ec2ha_sigv4_format_amz_date(now, amz_date);
    sh[n++] = (ec2ha_sigv4_header){ "Host", c->host };
    sh[n++] = (ec2ha_sigv4_header){ "Content-Type", EC2_CONTENT_TYPE };
    sh[n++] = (ec2ha_sigv4_header){ EC2HA_HEADER_AMZ_DATE, amz_date };
    if (c->session_token != NULL) {
        sh[n++] = (ec2ha_sigv4_header){ EC2HA_HEADER_SECURITY_TOKEN, c->session_token };
    }
    sreq.method = "POST";
    sreq.path = c->path;
    sreq.query = NULL;
    sreq.headers = sh;
    sreq.n_headers = n;
    sreq.payload = form->body.data;
    sreq.payload_len = form->body.len;
    params.access_key_id = c->access_key_id;
    params.secret_access_key = c->secret_access_key;
    params.region = c->region;
    params.service = EC2_SERVICE;
    params.now = now;
    params.normalize_path = true;
    rc = ec2ha_sigv4_sign(&sreq, &params, &sig, err);
    if (rc != EC2HA_OK) {
        goto cleanup;
    }
    for (i = 0; i < n; i++) {
        lines[i] = header_line(sh[i].name, sh[i].value);
        if (lines[i] == NULL) {
            rc = ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory");
            goto cleanup;
        }
    }
    lines[n] = header_line(EC2HA_HEADER_AUTHORIZATION, sig.authorization);
    if (lines[n] == NULL) {
        rc = ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory");
        goto cleanup;
    }
    n++;
    memset(&hreq, 0, sizeof(hreq));
    hreq.method = "POST";
    hreq.url = c->url;
    hreq.headers = (const char *const *)lines;
    hreq.n_headers = n;
    hreq.body = form->body.data;
    hreq.body_len = form->body.len;
    hreq.is_imds = false;
    hreq.secret_body = false;     /* EC2 answers hold no credentials */
    rc = ec2ha_http_perform_sink(&c->http, &hreq, sink, deadline, resp, err);
cleanup:
    for (i = 0; i < MAX_HEADERS; i++) {
        ec2ha_free_secret(lines[i]);   /* token and signature lines */
    }
    ec2ha_sigv4_result_free(&sig);
    return rc;
}

/* "DescribeInstances" from "Action=DescribeInstances&..." for messages. */
static void form_action(const ec2ha_form *form, char *out, size_t size)
{
    const char *s = ec2ha_buf_str(&form->body);
    size_t n;

    if (strncmp(s, "Action=", 7) != 0) {
        snprintf(out, size, "call");
        return;
    }
    s += 7;
    n = strcspn(s, "&");
    if (n >= size) {
        n = size - 1;
    }
    memcpy(out, s, n);
    out[n] = '\0';
}

/*
 * Parses a 2xx body into the caller's outputs; on failure it leaves them
 * empty.  A parse failure of a 2xx body is retried like a truncated transfer.
 */
typedef ec2ha_rc (*ec2_parse_fn)(const char *xml, size_t len, void *ctx, ec2ha_error *e);

/*
 * A parser fed as the 2xx body arrives (the http layer calls sink.begin on
 * every attempt, so a retry starts it afresh); finish() ends it once the
 * transfer is complete.  Error bodies still go to ec2ha_ec2_parse_error.
 */
typedef struct ec2_stream {
    ec2ha_http_sink sink;
    ec2ha_rc (*finish)(void *ctx, ec2ha_error *e);
} ec2_stream;

/*
 * After a clock-skew error code (RequestExpired for EC2): if the answer's Date
 * is more than EC2HA_CLOCK_SKEW_THRESHOLD_S from the time we signed with, keep
 * the offset for every later request of this client and return true (sign
 * again now).  A wrong clock is the operator's to fix: say so at warning level.
 */
static bool correct_clock(ec2ha_ec2_client *c, ec2ha_error *e, const char *date,
                          const char *action)
{
    int64_t offset = 0;
    long long off_abs;
    ec2ha_skew_verdict v;

    if (e->code[0] == '\0' || !ec2ha_retry_is_clock_skew_code(e->code)) {
        return false;
    }
    v = ec2ha_clock_skew_check(date, time(NULL), c->clock_offset_s, &offset);
    off_abs = (long long)(offset < 0 ? -offset : offset);
    if (v == EC2HA_SKEW_CORRECT) {
        ec2ha_warn("EC2 %s: %s (request id %s): local clock is %lld s %s EC2's Date header "
                   "(%s); signing with EC2's time -- fix NTP/chrony", action, e->code,
                   e->request_id[0] != '\0' ? e->request_id : "none", off_abs,
                   offset > 0 ? "behind" : "ahead of", date);
        c->clock_offset_s = offset;
        return true;
    }
    if (v == EC2HA_SKEW_ABSURD) {
        ec2ha_error_prefix(e, "local clock is %lld s %s EC2's Date header (%s); more than %d s "
                           "is not corrected, fix the clock (NTP/chrony)", off_abs,
                           offset > 0 ? "behind" : "ahead of", date, EC2HA_CLOCK_SKEW_MAX_S);
    }
    return false;
}

static ec2ha_rc call_internal(ec2ha_ec2_client *c, const ec2ha_form *form,
                              ec2ha_deadline deadline, ec2_parse_fn parse, void *parse_ctx,
                              const ec2_stream *stream, ec2ha_buf *body_out, char **date_out,
                              ec2ha_error *e)
{
    ec2ha_http_response resp;
    ec2ha_backoff backoff;
    ec2ha_retry_class cls;
    char action[64];
    char *last_date = NULL;
    unsigned attempts = 0;
    bool resigned = false;
    bool clock_corrected = false;
    bool got_date;
    ec2ha_deadline attempt_deadline;
    int64_t delay_ms;
    ec2ha_rc rc;

    memset(&resp, 0, sizeof(resp));
    if (date_out != NULL) {
        *date_out = NULL;
    }
    if (body_out != NULL) {
        memset(body_out, 0, sizeof(*body_out));
    }
    if (c == NULL || form == NULL || (body_out == NULL && parse == NULL && stream == NULL)) {
        return ec2ha_error_set(e, EC2HA_ERR_INVALID, "ec2_call: missing client, form or output");
    }
    if (form->rc != EC2HA_OK || form->body.data == NULL) {
        return ec2ha_error_set(e, EC2HA_ERR_INVALID,
                               "EC2 request not sent: building its body failed (%s)",
                               ec2ha_rc_str(form->rc != EC2HA_OK ? form->rc : EC2HA_ERR_INVALID));
    }
    form_action(form, action, sizeof(action));
    ec2ha_backoff_init(&backoff, 0);
    for (;;) {
        ec2ha_error_clear(e);
        attempts++;
        attempt_deadline = ec2ha_attempt_deadline(deadline);
        rc = attempt(c, form, attempt_deadline, stream != NULL ? &stream->sink : NULL, &resp, e);
        got_date = resp.date != NULL;
        if (got_date) {
            free(last_date);
            last_date = resp.date;
            resp.date = NULL;
        }
        if (rc == EC2HA_OK) {
            if (resp.status >= 200 && resp.status < 300) {
                if (resp.body_streamed) {
                    rc = stream->finish(stream->sink.ctx, e);
                } else if (parse == NULL) {
                    *body_out = resp.body;
                    memset(&resp.body, 0, sizeof(resp.body));
                    break;
                } else {
                    rc = parse(ec2ha_buf_str(&resp.body), resp.body.len, parse_ctx, e);
                }
                if (rc == EC2HA_OK) {
                    ec2ha_http_response_free(&resp);
                    break;
                }
                if (e->http_status == 0) {
                    e->http_status = resp.status;   /* a broken 2xx body: retry like a cut */
                }
            } else {
                rc = ec2ha_ec2_parse_error(resp.body.data, resp.body.len, resp.status, e);
            }
        }
        ec2ha_http_response_free(&resp);

        if (rc == EC2HA_ERR_TIMEOUT && attempt_deadline.at_ms < deadline.at_ms) {
            ec2ha_error_prefix(e, "attempt %u got no answer within its share of the deadline",
                               attempts);
        }
        if (got_date && !clock_corrected && !ec2ha_deadline_passed(deadline) &&
            correct_clock(c, e, last_date, action)) {
            clock_corrected = true;
            resigned = true;    /* the corrected signature is this call's one re-sign */
            continue;
        }
        cls = ec2ha_retry_classify(e);
        if (cls == EC2HA_RETRY_RESIGN) {
            if (!resigned && !ec2ha_deadline_passed(deadline)) {
                resigned = true;
                ec2ha_info("EC2 %s: %s (request id %s); signing again with a fresh clock",
                           action, e->code[0] != '\0' ? e->code : ec2ha_rc_str(rc),
                           e->request_id[0] != '\0' ? e->request_id : "none");
                continue;
            }
            cls = EC2HA_RETRY_NEVER;
        }
        if (cls == EC2HA_RETRY_NEVER) {
            break;
        }
        delay_ms = ec2ha_backoff_next_ms(&backoff, cls, ec2ha_deadline_remaining_ms(deadline),
                                         EC2_MIN_ATTEMPT_MS);
        if (delay_ms < 0) {
            ec2ha_error_prefix(e, "giving up after %u attempt%s, the deadline is too close",
                               attempts, attempts == 1 ? "" : "s");
            break;
        }
        if (e->code[0] != '\0') {
            ec2ha_info("EC2 %s attempt %u failed: %s (HTTP %ld, request id %s, %s); retrying "
                       "in %lld ms", action, attempts, e->code, e->http_status,
                       e->request_id[0] != '\0' ? e->request_id : "none",
                       ec2ha_retry_class_str(cls), (long long)delay_ms);
        } else {
            ec2ha_info("EC2 %s attempt %u failed (%s): %s; retrying in %lld ms", action,
                       attempts, ec2ha_retry_class_str(cls), e->message, (long long)delay_ms);
        }
        if (!ec2ha_deadline_sleep_ms(deadline, delay_ms)) {
            ec2ha_error_prefix(e, "giving up after %u attempt%s, deadline reached", attempts,
                               attempts == 1 ? "" : "s");
            break;
        }
    }
    if (rc != EC2HA_OK) {
        ec2ha_error_prefix(e, "EC2 %s", action);
    } else {
        ec2ha_error_clear(e);
    }
    if (date_out != NULL) {
        *date_out = last_date;     /* also on failure: it tells clock skew apart */
        last_date = NULL;
    }
    free(last_date);
    return rc;
}

ec2ha_rc ec2ha_ec2_call(ec2ha_ec2_client *c, const ec2ha_form *form, ec2ha_deadline deadline,
                        ec2ha_buf *body_out, char **date_out, ec2ha_error *err)
{
    ec2ha_error local;

    return call_internal(c, form, deadline, NULL, NULL, NULL, body_out, date_out,
                         err != NULL ? err : &local);
}

/* ---- parse callbacks ------------------------------------------------------------------ */

/* One DescribeInstances page, streamed through the SAX parser as it arrives. */
typedef struct instances_page {
    ec2_instances_parser *parser;
    ec2ha_instance_list *list;
    char **next_token;
} instances_page;

static ec2ha_rc page_begin(void *ctx, long status, ec2ha_error *e)
{
    instances_page *p = ctx;

    return ec2_instances_parser_reset(p->parser, status, e);
}

static ec2ha_rc page_write(void *ctx, const char *data, size_t len, ec2ha_error *e)
{
    instances_page *p = ctx;

    return ec2_instances_parser_feed(p->parser, data, len, e);
}

static ec2ha_rc page_finish(void *ctx, ec2ha_error *e)
{
    instances_page *p = ctx;

    return ec2_instances_parser_finish(p->parser, p->list, p->next_token, e);
}

static ec2ha_rc parse_addresses_cb(const char *xml, size_t len, void *ctx, ec2ha_error *e)
{
    return ec2ha_ec2_parse_describe_addresses(xml, len, ctx, e);
}

static ec2ha_rc parse_state_change_cb(const char *xml, size_t len, void *ctx, ec2ha_error *e)
{
    return ec2ha_ec2_parse_state_change(xml, len, ctx, e);
}

static ec2ha_rc parse_associate_cb(const char *xml, size_t len, void *ctx, ec2ha_error *e)
{
    return ec2ha_ec2_parse_associate_address(xml, len, ctx, e);
}

static ec2ha_rc parse_return_cb(const char *xml, size_t len, void *ctx, ec2ha_error *e)
{
    return ec2ha_ec2_parse_return(xml, len, e);
}

/* ---- typed calls -------------------------------------------------------------------- */

/* DryRunOperation means "you would have been allowed": success for a dry run. */
static ec2ha_rc dry_run_ok(ec2ha_rc rc, bool dry_run, ec2ha_error *e)
{
    if (dry_run && rc == EC2HA_ERR_AWS && strcmp(e->code, "DryRunOperation") == 0) {
        ec2ha_error_clear(e);
        return EC2HA_OK;
    }
    return rc;
}

static ec2ha_rc form_fail(ec2ha_rc rc, const char *action, ec2ha_error *e)
{
    return ec2ha_error_set(e, rc, "EC2 %s: could not build the request (%s)", action,
                           ec2ha_rc_str(rc));
}

static ec2ha_rc list_append(ec2ha_instance_list *acc, ec2ha_instance_list *page, ec2ha_error *e)
{
    ec2ha_instance *items;
    size_t i;

    if (page->count == 0) {
        return EC2HA_OK;
    }
    if (acc->count + page->count > EC2_MAX_TOTAL_INSTANCES) {
        return ec2ha_error_set(e, EC2HA_ERR_TOO_LARGE,
                               "DescribeInstances returned more than %d instances; narrow it "
                               "with a filter", EC2_MAX_TOTAL_INSTANCES);
    }
    items = realloc(acc->items, (acc->count + page->count) * sizeof(*items));
    if (items == NULL) {
        return ec2ha_error_set(e, EC2HA_ERR_NOMEM, "out of memory");
    }
    acc->items = items;
    for (i = 0; i < page->count; i++) {
        acc->items[acc->count++] = page->items[i];
    }
    free(page->items);
    page->items = NULL;
    page->count = 0;
    return EC2HA_OK;
}

ec2ha_rc ec2ha_ec2_describe_instances(ec2ha_ec2_client *c, const ec2ha_describe_instances_query *q,
                                      ec2ha_deadline deadline, ec2ha_instance_list *out,
                                      ec2ha_error *err)
{
    static const ec2ha_describe_instances_query all = { NULL, 0, NULL, 0, 0, false };
    ec2ha_instance_list acc = { NULL, 0 };
    ec2ha_instance_list page = { NULL, 0 };
    ec2ha_form form;
    ec2ha_error local;
    ec2ha_error *e = err != NULL ? err : &local;
    char *token = NULL;
    char *next = NULL;
    instances_page pctx = { NULL, &page, &next };
    const ec2_stream stream = { { page_begin, page_write, &pctx }, page_finish };
    char num[32];
    int max_results;
    unsigned pages = 0;
    ec2ha_rc rc;

    memset(&form, 0, sizeof(form));
    if (out == NULL) {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID, "describe_instances: out is NULL");
    }
    memset(out, 0, sizeof(*out));
    if (q == NULL) {
        q = &all;
    }
    /* EC2 refuses MaxResults with InstanceId: the default page size only for a listing */
    max_results = q->max_results;
    if (max_results <= 0 && q->n_instance_ids == 0) {
        max_results = EC2_DEFAULT_MAX_RESULTS;
    }
    rc = ec2_instances_parser_new(&pctx.parser, e);
    if (rc != EC2HA_OK) {
        goto cleanup;
    }
    do {
        if (++pages > EC2_MAX_PAGES) {
            rc = ec2ha_error_set(e, EC2HA_ERR_PARSE,
                                 "EC2 DescribeInstances: still paginating after %d pages; "
                                 "giving up", EC2_MAX_PAGES);
            goto cleanup;
        }
        ec2ha_form_init(&form, "DescribeInstances");
        if (q->dry_run) {
            ec2ha_form_add_bool(&form, "DryRun", true);
        }
        ec2ha_form_add_list(&form, "InstanceId", q->instance_ids, q->n_instance_ids);
        ec2ha_form_add_filters(&form, q->filters, q->n_filters);
        if (max_results > 0) {
            snprintf(num, sizeof(num), "%d", max_results);
            ec2ha_form_add(&form, "MaxResults", num);
        }
        if (token != NULL) {
            ec2ha_form_add(&form, "NextToken", token);
        }
        if (form.rc != EC2HA_OK) {
            rc = form_fail(form.rc, "DescribeInstances", e);
            goto cleanup;
        }
        rc = call_internal(c, &form, deadline, NULL, NULL, &stream, NULL, NULL, e);
        ec2ha_form_free(&form);
        if (rc != EC2HA_OK) {
            rc = dry_run_ok(rc, q->dry_run, e);
            goto cleanup;
        }
        rc = list_append(&acc, &page, e);
        if (rc != EC2HA_OK) {
            goto cleanup;
        }
        if (next != NULL && token != NULL && strcmp(next, token) == 0) {
            rc = ec2ha_error_set(e, EC2HA_ERR_PARSE,
                                 "EC2 DescribeInstances returned the same nextToken twice; "
                                 "refusing to loop");
            goto cleanup;
        }
        free(token);
        token = next;
        next = NULL;
    } while (token != NULL);
    *out = acc;
    acc.items = NULL;
    acc.count = 0;
    rc = EC2HA_OK;
cleanup:
    ec2ha_form_free(&form);
    ec2_instances_parser_free(pctx.parser);
    ec2ha_instance_list_free(&page);
    ec2ha_instance_list_free(&acc);
    free(token);
    free(next);
    return rc;
}

ec2ha_rc ec2ha_ec2_describe_instance(ec2ha_ec2_client *c, const char *instance_id,
                                     ec2ha_deadline deadline, ec2ha_instance *out,
                                     ec2ha_error *err)
{
    ec2ha_describe_instances_query q;
    ec2ha_instance_list list = { NULL, 0 };
    ec2ha_error local;
    ec2ha_error *e = err != NULL ? err : &local;
    size_t i;
    ec2ha_rc rc;

    if (out == NULL) {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID, "describe_instance: out is NULL");
    }
    memset(out, 0, sizeof(*out));
    out->state = EC2HA_STATE_UNKNOWN;
    out->state_code = -1;
    if (instance_id == NULL || instance_id[0] == '\0') {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID, "describe_instance: no instance id");
    }
    memset(&q, 0, sizeof(q));
    q.instance_ids = &instance_id;
    q.n_instance_ids = 1;
    rc = ec2ha_ec2_describe_instances(c, &q, deadline, &list, e);
    if (rc == EC2HA_ERR_AWS && strcmp(e->code, "InvalidInstanceID.NotFound") == 0) {
        e->rc = EC2HA_ERR_NOT_FOUND;
        rc = EC2HA_ERR_NOT_FOUND;
        goto cleanup;
    }
    if (rc != EC2HA_OK) {
        goto cleanup;
    }
    for (i = 0; i < list.count; i++) {
        if (strcmp(list.items[i].instance_id, instance_id) == 0) {
            *out = list.items[i];
            memset(&list.items[i], 0, sizeof(list.items[i]));
            rc = EC2HA_OK;
            goto cleanup;
        }
    }
    rc = ec2ha_error_set(e, EC2HA_ERR_NOT_FOUND,
                         "EC2 DescribeInstances does not list instance %.64s", instance_id);
cleanup:
    ec2ha_instance_list_free(&list);
    return rc;
}

/* Stop/Start share the call and the answer check. */
static ec2ha_rc state_change_call(ec2ha_ec2_client *c, ec2ha_form *form, const char *action,
                                  const char *instance_id, bool dry_run, ec2ha_deadline deadline,
                                  ec2ha_state_change *out, ec2ha_error *e)
{
    ec2ha_state_change sc;
    ec2ha_rc rc;

    memset(&sc, 0, sizeof(sc));
    if (form->rc != EC2HA_OK) {
        return form_fail(form->rc, action, e);
    }
    rc = call_internal(c, form, deadline, parse_state_change_cb, &sc, NULL, NULL, NULL, e);
    if (rc != EC2HA_OK) {
        return dry_run_ok(rc, dry_run, e);
    }
    if (strcmp(sc.instance_id, instance_id) != 0) {
        rc = ec2ha_error_set(e, EC2HA_ERR_STATE,
                             "EC2 %s for %.64s answered about instance %.64s", action,
                             instance_id, sc.instance_id);
        ec2ha_state_change_free(&sc);
        return rc;
    }
    *out = sc;
    return EC2HA_OK;
}

ec2ha_rc ec2ha_ec2_stop_instances(ec2ha_ec2_client *c, const ec2ha_stop_params *p,
                                  ec2ha_deadline deadline, ec2ha_state_change *out,
                                  ec2ha_error *err)
{
    ec2ha_form form;
    ec2ha_error local;
    ec2ha_error *e = err != NULL ? err : &local;
    ec2ha_rc rc;

    if (out == NULL) {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID, "stop_instances: out is NULL");
    }
    memset(out, 0, sizeof(*out));
    out->current = EC2HA_STATE_UNKNOWN;
    out->previous = EC2HA_STATE_UNKNOWN;
    if (p == NULL || p->instance_id == NULL || p->instance_id[0] == '\0') {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID, "stop_instances: no instance id");
    }
    ec2ha_form_init(&form, "StopInstances");
    ec2ha_form_add(&form, "InstanceId.1", p->instance_id);
    if (p->force) {
        ec2ha_form_add_bool(&form, "Force", true);
    }
    if (p->skip_os_shutdown) {
        ec2ha_form_add_bool(&form, "SkipOsShutdown", true);
    }
    if (p->dry_run) {
        ec2ha_form_add_bool(&form, "DryRun", true);
    }
    rc = state_change_call(c, &form, "StopInstances", p->instance_id, p->dry_run, deadline, out,
                           e);
    ec2ha_form_free(&form);
    return rc;
}

ec2ha_rc ec2ha_ec2_start_instances(ec2ha_ec2_client *c, const char *instance_id, bool dry_run,
                                   ec2ha_deadline deadline, ec2ha_state_change *out,
                                   ec2ha_error *err)
{
    ec2ha_form form;
    ec2ha_error local;
    ec2ha_error *e = err != NULL ? err : &local;
    ec2ha_rc rc;

    if (out == NULL) {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID, "start_instances: out is NULL");
    }
    memset(out, 0, sizeof(*out));
    out->current = EC2HA_STATE_UNKNOWN;
    out->previous = EC2HA_STATE_UNKNOWN;
    if (instance_id == NULL || instance_id[0] == '\0') {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID, "start_instances: no instance id");
    }
    ec2ha_form_init(&form, "StartInstances");
    ec2ha_form_add(&form, "InstanceId.1", instance_id);
    if (dry_run) {
        ec2ha_form_add_bool(&form, "DryRun", true);
    }
    rc = state_change_call(c, &form, "StartInstances", instance_id, dry_run, deadline, out, e);
    ec2ha_form_free(&form);
    return rc;
}

ec2ha_rc ec2ha_ec2_describe_addresses(ec2ha_ec2_client *c, const ec2ha_describe_addresses_query *q,
                                      ec2ha_deadline deadline, ec2ha_address_list *out,
                                      ec2ha_error *err)
{
    static const ec2ha_describe_addresses_query all = { NULL, 0, NULL, 0, NULL, 0, false };
    ec2ha_form form;
    ec2ha_error local;
    ec2ha_error *e = err != NULL ? err : &local;
    ec2ha_rc rc;

    if (out == NULL) {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID, "describe_addresses: out is NULL");
    }
    memset(out, 0, sizeof(*out));
    if (q == NULL) {
        q = &all;
    }
    ec2ha_form_init(&form, "DescribeAddresses");
    if (q->dry_run) {
        ec2ha_form_add_bool(&form, "DryRun", true);
    }
    ec2ha_form_add_list(&form, "AllocationId", q->allocation_ids, q->n_allocation_ids);
    ec2ha_form_add_list(&form, "PublicIp", q->public_ips, q->n_public_ips);
    ec2ha_form_add_filters(&form, q->filters, q->n_filters);
    if (form.rc != EC2HA_OK) {
        rc = form_fail(form.rc, "DescribeAddresses", e);
        goto cleanup;
    }
    rc = call_internal(c, &form, deadline, parse_addresses_cb, out, NULL, NULL, NULL, e);
    rc = dry_run_ok(rc, q->dry_run, e);
cleanup:
    ec2ha_form_free(&form);
    return rc;
}

ec2ha_rc ec2ha_ec2_associate_address(ec2ha_ec2_client *c, const ec2ha_associate_params *p,
                                     ec2ha_deadline deadline, char **association_id_out,
                                     ec2ha_error *err)
{
    ec2ha_form form;
    ec2ha_error local;
    ec2ha_error *e = err != NULL ? err : &local;
    char *id = NULL;
    bool have_instance;
    bool have_eni;
    ec2ha_rc rc;

    if (association_id_out != NULL) {
        *association_id_out = NULL;
    }
    if (p == NULL || p->allocation_id == NULL || p->allocation_id[0] == '\0') {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID,
                               "associate_address: no allocation id given");
    }
    have_instance = p->instance_id != NULL && p->instance_id[0] != '\0';
    have_eni = p->network_interface_id != NULL && p->network_interface_id[0] != '\0';
    if (have_instance == have_eni) {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID,
                               "associate_address: give exactly one of instance id and network "
                               "interface id (got %s)", have_instance ? "both" : "neither");
    }
    ec2ha_form_init(&form, "AssociateAddress");
    ec2ha_form_add(&form, "AllocationId", p->allocation_id);
    if (have_instance) {
        ec2ha_form_add(&form, "InstanceId", p->instance_id);
    } else {
        ec2ha_form_add(&form, "NetworkInterfaceId", p->network_interface_id);
    }
    if (p->private_ip != NULL && p->private_ip[0] != '\0') {
        ec2ha_form_add(&form, "PrivateIpAddress", p->private_ip);
    }
    ec2ha_form_add_bool(&form, "AllowReassociation", p->allow_reassociation);
    if (p->dry_run) {
        ec2ha_form_add_bool(&form, "DryRun", true);
    }
    if (form.rc != EC2HA_OK) {
        rc = form_fail(form.rc, "AssociateAddress", e);
        goto cleanup;
    }
    rc = call_internal(c, &form, deadline, parse_associate_cb, &id, NULL, NULL, NULL, e);
    rc = dry_run_ok(rc, p->dry_run, e);
    if (association_id_out != NULL) {
        *association_id_out = id;
        id = NULL;
    }
cleanup:
    free(id);
    ec2ha_form_free(&form);
    return rc;
}

ec2ha_rc ec2ha_ec2_disassociate_address(ec2ha_ec2_client *c, const char *association_id,
                                        bool dry_run, ec2ha_deadline deadline, ec2ha_error *err)
{
    ec2ha_form form;
    ec2ha_error local;
    ec2ha_error *e = err != NULL ? err : &local;
    ec2ha_rc rc;

    if (association_id == NULL || association_id[0] == '\0') {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID,
                               "disassociate_address: no association id given");
    }
    ec2ha_form_init(&form, "DisassociateAddress");
    ec2ha_form_add(&form, "AssociationId", association_id);
    if (dry_run) {
        ec2ha_form_add_bool(&form, "DryRun", true);
    }
    if (form.rc != EC2HA_OK) {
        rc = form_fail(form.rc, "DisassociateAddress", e);
        goto cleanup;
    }
    rc = call_internal(c, &form, deadline, parse_return_cb, NULL, NULL, NULL, NULL, e);
    rc = dry_run_ok(rc, dry_run, e);
cleanup:
    ec2ha_form_free(&form);
    return rc;
}
