/*
 * ec2ha/http.h - HTTP(S) over libcurl: one easy handle per process, reused.
 *
 * TLS peer and host verification are always on and cannot be switched off;
 * the CA bundle comes from the options, else $AWS_CA_BUNDLE, else the system
 * store.  A plain http:// URL is refused unless its host is a loopback address
 * or the request is an IMDS request (link-local metadata endpoint).  Proxies
 * come from the option, else curl's https_proxy/no_proxy environment; IMDS
 * requests never use a proxy.  Redirects are not followed.  Every request is
 * bounded by the caller's deadline; the body by max_response_bytes.
 * The module's one piece of global state is the curl handle; call
 * ec2ha_http_cleanup() once before exit.
 */
#ifndef EC2HA_HTTP_H
#define EC2HA_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "ec2ha/buf.h"
#include "ec2ha/error.h"
#include "ec2ha/retry.h"

#define EC2HA_HTTP_MAX_RESPONSE_BYTES ((size_t)16 * 1024 * 1024)
#define EC2HA_HTTP_DEFAULT_CONNECT_TIMEOUT_MS 5000

typedef struct ec2ha_http_options {
    const char *ca_bundle;          /* NULL: $AWS_CA_BUNDLE, else system store */
    const char *proxy;              /* NULL: environment (https_proxy/no_proxy) */
    long connect_timeout_ms;        /* 0: EC2HA_HTTP_DEFAULT_CONNECT_TIMEOUT_MS */
    size_t max_response_bytes;      /* 0: EC2HA_HTTP_MAX_RESPONSE_BYTES */
} ec2ha_http_options;

typedef struct ec2ha_http_request {
    const char *method;             /* "GET", "PUT", "POST" */
    const char *url;
    const char *const *headers;     /* "Name: value" lines */
    size_t n_headers;
    const char *body;               /* may be NULL */
    size_t body_len;
    bool is_imds;                   /* no proxy, plain http allowed for the metadata address */
    bool secret_body;               /* the response body is a secret (a token, keys): never
                                     * traced; IMDS token and iam/security-credentials
                                     * answers are treated so whatever this says */
} ec2ha_http_request;

typedef struct ec2ha_http_response {
    long status;                    /* HTTP status */
    ec2ha_buf body;
    char *date;                     /* the Date header, NULL if absent */
    bool body_streamed;             /* the body went to a sink (ec2ha_http_perform_sink) */
} ec2ha_http_response;

/*
 * Where a 2xx response body goes as it arrives, instead of out->body (a push
 * parser, so a large answer is never held whole).  For a response whose final
 * status is 2xx, begin() is called once, before its first byte (or at the end
 * when the body is empty), then write() with each piece in order.  Any other
 * status is never given to the sink: its body is collected in out->body as
 * usual, for the caller's error parser.  Every perform calls begin() afresh,
 * so a sink used across retries must drop what an earlier attempt gave it
 * there.  A begin() or write() that fails fills err and returns its rc: the
 * transfer is aborted and the perform returns that rc with that message.
 * The body cap applies to the streamed bytes too.
 */
typedef struct ec2ha_http_sink {
    ec2ha_rc (*begin)(void *ctx, long status, ec2ha_error *err);
    ec2ha_rc (*write)(void *ctx, const char *data, size_t len, ec2ha_error *err);
    void *ctx;
} ec2ha_http_sink;

/*
 * Perform one request (no retries here).  Transport failures give
 * EC2HA_ERR_TRANSPORT / EC2HA_ERR_TLS / EC2HA_ERR_TIMEOUT with curl's message;
 * any HTTP status is success at this layer (the caller interprets it).
 * out must be zeroed by the caller; free it with ec2ha_http_response_free.
 */
ec2ha_rc ec2ha_http_perform(const ec2ha_http_options *opts, const ec2ha_http_request *req,
                            ec2ha_deadline deadline, ec2ha_http_response *out, ec2ha_error *err);
/*
 * ec2ha_http_perform with the 2xx body given to sink (NULL: as
 * ec2ha_http_perform).  On success out->body_streamed says whether it was;
 * when it was, out->body is empty (at trace log level it holds a copy, for
 * the log).
 */
ec2ha_rc ec2ha_http_perform_sink(const ec2ha_http_options *opts, const ec2ha_http_request *req,
                                 const ec2ha_http_sink *sink, ec2ha_deadline deadline,
                                 ec2ha_http_response *out, ec2ha_error *err);
void ec2ha_http_response_free(ec2ha_http_response *resp);

/* Host part of a URL ("ec2.us-east-1.amazonaws.com" or "127.0.0.1:8443"), heap string. */
ec2ha_rc ec2ha_http_url_host(const char *url, char **host_out, ec2ha_error *err);

/* Free the process's curl handle (safe to call when none was made). */
void ec2ha_http_cleanup(void);

#endif
