/*
 * http.c - HTTP(S) over one reused libcurl easy handle.
 *
 * The handle is the library's one piece of global mutable state (DESIGN.md
 * §2): curl_easy_reset() between requests clears every option but keeps the
 * connection, DNS and TLS session caches, so an agent's calls reuse one
 * connection.  Everything a request needs is set again on each call, so no
 * option can leak from one request (an IMDS call without proxy) into the next.
 *
 * Security choices, each on every request:
 *   - TLS peer and host verification on, not configurable;
 *   - protocols http and https only, redirects never followed;
 *   - plain http only to a loopback host or for IMDS;
 *   - the body is capped (write callback and CURLOPT_MAXFILESIZE_LARGE);
 *   - headers are never logged (they carry Authorization and tokens); bodies
 *     only at trace level, through the redacting logger, and never a secret
 *     body (req->secret_body, the IMDS session token, IMDS role credentials):
 *     the redacting logger only knows a secret once its owner registers it,
 *     which for a token happens after this function returns it.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <curl/curl.h>

#include "ec2ha/http.h"
#include "ec2ha/log.h"

#ifndef EC2HA_VERSION
#define EC2HA_VERSION "0"
#endif

#define HTTP_USER_AGENT "ec2ha/" EC2HA_VERSION
#define HTTP_DATE_MAX 128
/* OpenSSL's hashed certificate directory (Debian's ca-certificates keeps it current). */
#define HTTP_URL_LOG_MAX 256

static CURL *g_curl;            /* the process's one easy handle */
static bool g_curl_global_done; /* curl_global_init succeeded */

typedef enum sink_mode { SINK_NONE, SINK_UNDECIDED, SINK_STREAMING, SINK_COLLECTING } sink_mode;

typedef struct xfer {
    ec2ha_buf *body;
    bool too_large;
    bool nomem;
    char date[HTTP_DATE_MAX];
    /* ec2ha_http_perform_sink */
    const ec2ha_http_sink *sink;
    sink_mode mode;
    ec2ha_error *err;           /* the caller's, filled by a failing sink */
    ec2ha_rc sink_rc;           /* != EC2HA_OK: the sink refused */
    size_t streamed;            /* bytes given to the sink */
    size_t max_bytes;
    bool trace_copy;            /* also keep the streamed body, for the trace log */
} xfer;

/* ---- URL checks -------------------------------------------------------------- */

typedef struct url_parts {
    char *scheme;
    char *host;     /* as curl gives it: "[::1]" for IPv6 */
    char *port;     /* NULL when not in the URL */
} url_parts;

static void url_parts_free(url_parts *u)
{
    curl_free(u->scheme);
    curl_free(u->host);
    curl_free(u->port);
    memset(u, 0, sizeof(*u));
}

static ec2ha_rc url_split(const char *url, url_parts *u, ec2ha_error *err)
{
    CURLU *h = NULL;
    CURLUcode uc;
    ec2ha_rc rc = EC2HA_ERR_INVALID;

    memset(u, 0, sizeof(*u));
    if (url == NULL || url[0] == '\0') {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID, "no URL given");
    }
    h = curl_url();
    if (h == NULL) {
        return ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory parsing a URL");
    }
    uc = curl_url_set(h, CURLUPART_URL, url, 0);
    if (uc != CURLUE_OK) {
        ec2ha_error_set(err, EC2HA_ERR_INVALID, "'%.200s' is not a valid URL: %s", url,
                        curl_url_strerror(uc));
        goto cleanup;
    }
    if (curl_url_get(h, CURLUPART_SCHEME, &u->scheme, 0) != CURLUE_OK ||
        curl_url_get(h, CURLUPART_HOST, &u->host, 0) != CURLUE_OK) {
        ec2ha_error_set(err, EC2HA_ERR_INVALID, "URL '%.200s' has no scheme or host", url);
        goto cleanup;
    }
    uc = curl_url_get(h, CURLUPART_PORT, &u->port, 0);
    if (uc != CURLUE_OK && uc != CURLUE_NO_PORT) {
        ec2ha_error_set(err, EC2HA_ERR_INVALID, "URL '%.200s': bad port: %s", url,
                        curl_url_strerror(uc));
        goto cleanup;
    }
    if (strcasecmp(u->scheme, "http") != 0 && strcasecmp(u->scheme, "https") != 0) {
        ec2ha_error_set(err, EC2HA_ERR_INVALID,
                        "URL '%.200s': scheme '%s' is not supported (use https://)", url,
                        u->scheme);
        goto cleanup;
    }
    rc = EC2HA_OK;
cleanup:
    if (rc != EC2HA_OK) {
        url_parts_free(u);
    }
    curl_url_cleanup(h);
    return rc;
}

/* 127.0.0.0/8, ::1 (also v4-mapped 127/8) and "localhost". */
static bool host_is_loopback(const char *host)
{
    char buf[64];
    size_t len = strlen(host);
    struct in_addr a4;
    struct in6_addr a6;

    if (strcasecmp(host, "localhost") == 0) {
        return true;
    }
    if (inet_pton(AF_INET, host, &a4) == 1) {
        return (ntohl(a4.s_addr) >> 24) == 127;
    }
    if (len >= 2 && host[0] == '[' && host[len - 1] == ']' && len - 2 < sizeof(buf)) {
        memcpy(buf, host + 1, len - 2);
        buf[len - 2] = '\0';
        if (inet_pton(AF_INET6, buf, &a6) == 1) {
            if (IN6_IS_ADDR_LOOPBACK(&a6)) {
                return true;
            }
            if (IN6_IS_ADDR_V4MAPPED(&a6)) {
                return a6.s6_addr[12] == 127;
            }
        }
    }
    return false;
}

ec2ha_rc ec2ha_http_url_host(const char *url, char **host_out, ec2ha_error *err)
{
    url_parts u;
    char *host = NULL;
    size_t size;
    bool default_port;
    ec2ha_rc rc;

    if (host_out == NULL) {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID, "url_host: host_out is NULL");
    }
    *host_out = NULL;
    rc = url_split(url, &u, err);
    if (rc != EC2HA_OK) {
        return rc;
    }
    default_port = u.port == NULL ||
                   (strcasecmp(u.scheme, "https") == 0 && strcmp(u.port, "443") == 0) ||
                   (strcasecmp(u.scheme, "http") == 0 && strcmp(u.port, "80") == 0);
    size = strlen(u.host) + (u.port != NULL ? strlen(u.port) : 0) + 2;
    host = malloc(size);
    if (host == NULL) {
        rc = ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory");
        goto cleanup;
    }
    if (default_port) {
        snprintf(host, size, "%s", u.host);
    } else {
        snprintf(host, size, "%s:%s", u.host, u.port);
    }
    *host_out = host;
    rc = EC2HA_OK;
cleanup:
    url_parts_free(&u);
    return rc;
}

/* ---- curl callbacks ------------------------------------------------------------- */

/* The first byte of a body (or the end of an empty one): stream it only when 2xx. */
static void sink_decide(xfer *x)
{
    long status = 0;

    curl_easy_getinfo(g_curl, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status > 299) {
        x->mode = SINK_COLLECTING;
        return;
    }
    x->mode = SINK_STREAMING;
    x->sink_rc = x->sink->begin(x->sink->ctx, status, x->err);
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
    xfer *x = userdata;
    size_t n = size * nmemb;
    ec2ha_rc rc;

    if (n == 0) {
        return 0;
    }
    if (x->mode == SINK_UNDECIDED) {
        sink_decide(x);
    }
    if (x->mode == SINK_STREAMING) {
        if (x->sink_rc != EC2HA_OK) {
            return 0;
        }
        if (n > x->max_bytes - x->streamed) {
            x->too_large = true;
            return 0;
        }
        x->streamed += n;
        x->sink_rc = x->sink->write(x->sink->ctx, data, n, x->err);
        if (x->sink_rc != EC2HA_OK) {
            return 0;   /* aborts the transfer; the sink's message is in x->err */
        }
        if (x->trace_copy && ec2ha_buf_append(x->body, data, n) != EC2HA_OK) {
            x->trace_copy = false;
        }
        return n;
    }
    rc = ec2ha_buf_append(x->body, data, n);
    if (rc == EC2HA_ERR_TOO_LARGE) {
        x->too_large = true;
        return 0;       /* aborts the transfer with CURLE_WRITE_ERROR */
    }
    if (rc != EC2HA_OK) {
        x->nomem = true;
        return 0;
    }
    return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *userdata)
{
    xfer *x = userdata;
    size_t n = size * nmemb;
    size_t start;
    size_t end;

    if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        x->date[0] = '\0';      /* a new response (after 100 Continue, say) */
    } else if (n > 5 && strncasecmp(data, "Date:", 5) == 0) {
        start = 5;
        while (start < n && (data[start] == ' ' || data[start] == '\t')) {
            start++;
        }
        end = n;
        while (end > start && (data[end - 1] == '\r' || data[end - 1] == '\n' ||
                               data[end - 1] == ' ' || data[end - 1] == '\t')) {
            end--;
        }
        if (end - start < sizeof(x->date)) {
            memcpy(x->date, data + start, end - start);
            x->date[end - start] = '\0';
        }
    }
    return n;
}

/* ---- the request ------------------------------------------------------------------- */

static ec2ha_rc ensure_handle(ec2ha_error *err)
{
    if (!g_curl_global_done) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            return ec2ha_error_set(err, EC2HA_ERR_TRANSPORT, "libcurl could not be initialised");
        }
        g_curl_global_done = true;
    }
    if (g_curl == NULL) {
        g_curl = curl_easy_init();
        if (g_curl == NULL) {
            return ec2ha_error_set(err, EC2HA_ERR_NOMEM, "libcurl: could not create a handle");
        }
    } else {
        curl_easy_reset(g_curl);
    }
    return EC2HA_OK;
}

static bool is_tls_error(CURLcode cc)
{
    switch (cc) {
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CLIENTCERT:
    case CURLE_USE_SSL_FAILED:
        return true;
    default:
        return false;
    }
}

/* Wipe header lines (they may hold a token or a signature) before curl frees them. */
static void slist_free_wiped(struct curl_slist *list)
{
    struct curl_slist *l;

    for (l = list; l != NULL; l = l->next) {
        if (l->data != NULL) {
            ec2ha_secure_zero(l->data, strlen(l->data));
        }
    }
    curl_slist_free_all(list);
}

/* The URL for messages and logs: never longer than HTTP_URL_LOG_MAX, no query string. */
static void url_for_log(const char *url, char *out, size_t size)
{
    size_t n = strcspn(url, "?#");

    if (n >= size) {
        n = size - 1;
    }
    memcpy(out, url, n);
    out[n] = '\0';
}

/* The hashed CA directory libcurl was built with (Debian: /etc/ssl/certs), or NULL. */
static const char *builtin_ca_dir(void)
{
    char *dir = NULL;

    if (curl_easy_getinfo(g_curl, CURLINFO_CAPATH, &dir) != CURLE_OK || dir == NULL ||
        dir[0] == '\0') {
        return NULL;
    }
    return dir;
}

#define SETOPT(opt, val)                                                                  \
    do {                                                                                  \
        if (curl_easy_setopt(g_curl, (opt), (val)) != CURLE_OK) {                         \
            rc = ec2ha_error_set(err, EC2HA_ERR_TRANSPORT,                                \
                                 "libcurl refused option %s for %s", #opt, url_log);      \
            goto cleanup;                                                                 \
        }                                                                                 \
    } while (0)

/* Bodies that must never reach a log: the caller says so, and IMDS answers that are
 * secrets by nature are recognised here too, in case a caller forgets. */
static bool body_is_secret(const ec2ha_http_request *req)
{
    if (req->secret_body)
        return true;
    if (!req->is_imds)
        return false;
    return strstr(req->url, "/api/token") != NULL ||
           strstr(req->url, "/iam/security-credentials") != NULL ||
           strstr(req->url, "/identity-credentials/") != NULL;
}

ec2ha_rc ec2ha_http_perform(const ec2ha_http_options *opts, const ec2ha_http_request *req,
                            ec2ha_deadline deadline, ec2ha_http_response *out, ec2ha_error *err)
{
    return ec2ha_http_perform_sink(opts, req, NULL, deadline, out, err);
}

ec2ha_rc ec2ha_http_perform_sink(const ec2ha_http_options *opts, const ec2ha_http_request *req,
                                 const ec2ha_http_sink *sink, ec2ha_deadline deadline,
                                 ec2ha_http_response *out, ec2ha_error *err)
{
    static const ec2ha_http_options no_opts = { NULL, NULL, 0, 0 };
    struct curl_slist *headers = NULL;
    struct curl_slist *tmp;
    url_parts u = { NULL, NULL, NULL };
    char errbuf[CURL_ERROR_SIZE];
    char url_log[HTTP_URL_LOG_MAX];
    char ca_source[96];
    const char *ca_bundle = NULL;
    const char *env_ca;
    xfer x;
    size_t max_bytes;
    long connect_ms;
    int64_t remaining_ms;
    int64_t started_ms;
    long status = 0;
    CURLcode cc;
    size_t i;
    ec2ha_rc rc = EC2HA_ERR_INVALID;

    if (out == NULL || req == NULL || req->method == NULL || req->url == NULL ||
        (req->n_headers > 0 && req->headers == NULL)) {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID, "http_perform: missing request or output");
    }
    memset(out, 0, sizeof(*out));
    if (opts == NULL) {
        opts = &no_opts;
    }
    url_for_log(req->url, url_log, sizeof(url_log));
    max_bytes = opts->max_response_bytes > 0 ? opts->max_response_bytes
                                             : EC2HA_HTTP_MAX_RESPONSE_BYTES;
    ec2ha_buf_init(&out->body, max_bytes);
    memset(&x, 0, sizeof(x));
    x.body = &out->body;
    x.sink = sink;
    x.mode = sink != NULL ? SINK_UNDECIDED : SINK_NONE;
    x.err = err;
    x.sink_rc = EC2HA_OK;
    x.max_bytes = max_bytes;
    x.trace_copy = sink != NULL && ec2ha_log_enabled(EC2HA_LOG_TRACE);
    errbuf[0] = '\0';
    if (sink != NULL && (sink->begin == NULL || sink->write == NULL)) {
        rc = ec2ha_error_set(err, EC2HA_ERR_INVALID, "http_perform: a sink without callbacks");
        goto cleanup;
    }

    rc = url_split(req->url, &u, err);
    if (rc != EC2HA_OK) {
        goto cleanup;
    }
    if (strcasecmp(u.scheme, "http") == 0 && !req->is_imds && !host_is_loopback(u.host)) {
        rc = ec2ha_error_set(err, EC2HA_ERR_INVALID,
                             "refusing plain http:// to %s: credentials and answers would "
                             "cross the network unencrypted; use https:// (http is allowed "
                             "only to a loopback address)", url_log);
        goto cleanup;
    }
    remaining_ms = ec2ha_deadline_remaining_ms(deadline);
    if (remaining_ms <= 0) {
        rc = ec2ha_error_set(err, EC2HA_ERR_TIMEOUT,
                             "%s %s not attempted: the deadline has already passed", req->method,
                             url_log);
        goto cleanup;
    }
    connect_ms = opts->connect_timeout_ms > 0 ? opts->connect_timeout_ms
                                              : EC2HA_HTTP_DEFAULT_CONNECT_TIMEOUT_MS;
    if ((int64_t)connect_ms > remaining_ms) {
        connect_ms = (long)remaining_ms;
    }

    /* CA bundle: option, else $AWS_CA_BUNDLE, else curl's system store */
    env_ca = getenv("AWS_CA_BUNDLE");
    if (opts->ca_bundle != NULL && opts->ca_bundle[0] != '\0') {
        ca_bundle = opts->ca_bundle;
        snprintf(ca_source, sizeof(ca_source), "ca_bundle (option, $AWS_CA_BUNDLE or profile)");
    } else if (env_ca != NULL && env_ca[0] != '\0') {
        ca_bundle = env_ca;
        snprintf(ca_source, sizeof(ca_source), "$AWS_CA_BUNDLE");
    } else {
        snprintf(ca_source, sizeof(ca_source), "the system CA store");
    }

    rc = ensure_handle(err);
    if (rc != EC2HA_OK) {
        goto cleanup;
    }
    rc = EC2HA_ERR_TRANSPORT;
    SETOPT(CURLOPT_URL, req->url);
    SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
    SETOPT(CURLOPT_REDIR_PROTOCOLS_STR, "https");
    SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
    SETOPT(CURLOPT_NOSIGNAL, 1L);
    SETOPT(CURLOPT_SSL_VERIFYPEER, 1L);
    SETOPT(CURLOPT_SSL_VERIFYHOST, 2L);
    if (ca_bundle != NULL) {
        SETOPT(CURLOPT_CAINFO, ca_bundle);
    } else if (builtin_ca_dir() != NULL) {
        /*
         * The system store as libcurl's built-in hashed directory alone: OpenSSL then
         * reads only the issuer it needs, instead of parsing the whole bundle file (~150
         * certificates, about 60 % of an agent call's CPU) on every run.  Same trust, same
         * verification.  A libcurl built without a CA directory keeps its bundle.
         */
        SETOPT(CURLOPT_CAINFO, (char *)NULL);
    }
    if (req->is_imds) {
        SETOPT(CURLOPT_PROXY, "");
        SETOPT(CURLOPT_NOPROXY, "*");
    } else if (opts->proxy != NULL && opts->proxy[0] != '\0') {
        SETOPT(CURLOPT_PROXY, opts->proxy);
    }
    SETOPT(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    SETOPT(CURLOPT_USERAGENT, HTTP_USER_AGENT);
    SETOPT(CURLOPT_TIMEOUT_MS, (long)remaining_ms);
    SETOPT(CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
    SETOPT(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max_bytes);
    SETOPT(CURLOPT_ERRORBUFFER, errbuf);
    SETOPT(CURLOPT_WRITEFUNCTION, on_body);
    SETOPT(CURLOPT_WRITEDATA, &x);
    SETOPT(CURLOPT_HEADERFUNCTION, on_header);
    SETOPT(CURLOPT_HEADERDATA, &x);

    if (strcmp(req->method, "GET") == 0 && req->body == NULL) {
        SETOPT(CURLOPT_HTTPGET, 1L);
    } else if (req->body != NULL || strcmp(req->method, "POST") == 0) {
        SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        SETOPT(CURLOPT_POSTFIELDS, req->body != NULL ? req->body : "");
        if (strcmp(req->method, "POST") != 0) {
            SETOPT(CURLOPT_CUSTOMREQUEST, req->method);
        }
    } else {
        SETOPT(CURLOPT_CUSTOMREQUEST, req->method);
    }

    for (i = 0; i < req->n_headers; i++) {
        if (req->headers[i] == NULL) {
            continue;
        }
        tmp = curl_slist_append(headers, req->headers[i]);
        if (tmp == NULL) {
            rc = ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory building headers");
            goto cleanup;
        }
        headers = tmp;
    }
    /* no "Expect: 100-continue" round trip for bodies over 1 KiB */
    tmp = curl_slist_append(headers, "Expect:");
    if (tmp == NULL) {
        rc = ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory building headers");
        goto cleanup;
    }
    headers = tmp;
    SETOPT(CURLOPT_HTTPHEADER, headers);

    if (req->body != NULL && req->body_len > 0 && ec2ha_log_enabled(EC2HA_LOG_TRACE)) {
        ec2ha_trace("%s %s request body: %.*s", req->method, url_log,
                    (int)(req->body_len > 65536 ? 65536 : req->body_len), req->body);
    }
    started_ms = ec2ha_monotonic_ms();
    cc = curl_easy_perform(g_curl);
    if (cc == CURLE_OK) {
        curl_easy_getinfo(g_curl, CURLINFO_RESPONSE_CODE, &status);
        if (x.mode == SINK_UNDECIDED) {
            sink_decide(&x);        /* an empty body: a 2xx one still begins */
        }
    }
    ec2ha_debug("%s %s -> %s%ld (%lld ms, %zu bytes%s)", req->method, url_log,
                cc == CURLE_OK ? "HTTP " : "curl error ", cc == CURLE_OK ? status : (long)cc,
                (long long)(ec2ha_monotonic_ms() - started_ms),
                x.mode == SINK_STREAMING ? x.streamed : out->body.len,
                x.mode == SINK_STREAMING ? ", streamed" : "");

    if (x.sink_rc != EC2HA_OK) {
        rc = x.sink_rc;             /* the sink refused the body; err holds its message */
    } else if (cc == CURLE_OK) {
        if (out->body.len > 0 && ec2ha_log_enabled(EC2HA_LOG_TRACE)) {
            if (body_is_secret(req))
                ec2ha_trace("%s %s response body: (%zu bytes, secret, not logged)",
                            req->method, url_log, out->body.len);
            else
                ec2ha_trace("%s %s response body: %.*s", req->method, url_log,
                            (int)(out->body.len > 65536 ? 65536 : out->body.len),
                            ec2ha_buf_str(&out->body));
        }
        out->status = status;
        out->body_streamed = x.mode == SINK_STREAMING;
        if (x.date[0] != '\0') {
            out->date = strdup(x.date);
            if (out->date == NULL) {
                rc = ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory");
                goto cleanup;
            }
        }
        if (out->body.data == NULL) {
            /* an empty body reads as "" */
            if (ec2ha_buf_append(&out->body, "", 0) != EC2HA_OK) {
                rc = ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory");
                goto cleanup;
            }
        }
        rc = EC2HA_OK;
    } else if (x.too_large || cc == CURLE_FILESIZE_EXCEEDED) {
        rc = ec2ha_error_set(err, EC2HA_ERR_TOO_LARGE,
                             "the response from %s is larger than %zu bytes; stopped reading "
                             "it (is the endpoint right?)", url_log, max_bytes);
    } else if (x.nomem || cc == CURLE_OUT_OF_MEMORY) {
        rc = ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory reading the response from %s",
                             url_log);
    } else if (cc == CURLE_OPERATION_TIMEDOUT) {
        rc = ec2ha_error_set(err, EC2HA_ERR_TIMEOUT,
                             "%s %s timed out (%lld ms allowed for this request, connect timeout "
                             "%ld ms): %s", req->method, url_log, (long long)remaining_ms,
                             connect_ms, errbuf[0] != '\0' ? errbuf : curl_easy_strerror(cc));
    } else if (is_tls_error(cc)) {
        rc = ec2ha_error_set(err, EC2HA_ERR_TLS,
                             "TLS failure talking to %s: %s (CA bundle: %s%s%s)", url_log,
                             errbuf[0] != '\0' ? errbuf : curl_easy_strerror(cc),
                             ca_bundle != NULL ? ca_bundle : ca_source,
                             ca_bundle != NULL ? " from " : "",
                             ca_bundle != NULL ? ca_source : "");
    } else if (cc == CURLE_UNSUPPORTED_PROTOCOL || cc == CURLE_URL_MALFORMAT) {
        rc = ec2ha_error_set(err, EC2HA_ERR_INVALID, "%s: %s", url_log,
                             errbuf[0] != '\0' ? errbuf : curl_easy_strerror(cc));
    } else {
        rc = ec2ha_error_set(err, EC2HA_ERR_TRANSPORT, "%s %s failed: %s", req->method, url_log,
                             errbuf[0] != '\0' ? errbuf : curl_easy_strerror(cc));
    }
cleanup:
    if (g_curl != NULL) {
        /* the list and the stack buffers die here: curl must not keep pointers to them */
        curl_easy_setopt(g_curl, CURLOPT_HTTPHEADER, NULL);
        curl_easy_setopt(g_curl, CURLOPT_ERRORBUFFER, NULL);
        curl_easy_setopt(g_curl, CURLOPT_POSTFIELDS, NULL);
    }
    slist_free_wiped(headers);
    url_parts_free(&u);
    if (rc != EC2HA_OK) {
        ec2ha_debug("%s", err != NULL ? err->message : "request failed");
        ec2ha_http_response_free(out);
    }
    return rc;
}

void ec2ha_http_response_free(ec2ha_http_response *resp)
{
    if (resp == NULL) {
        return;
    }
    ec2ha_buf_free(&resp->body);
    free(resp->date);
    memset(resp, 0, sizeof(*resp));
}

void ec2ha_http_cleanup(void)
{
    if (g_curl != NULL) {
        curl_easy_cleanup(g_curl);
        g_curl = NULL;
    }
    if (g_curl_global_done) {
        curl_global_cleanup();
        g_curl_global_done = false;
    }
}
