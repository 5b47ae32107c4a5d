/*
 * imds.c - the EC2 instance metadata service, IMDSv2 only (see ec2ha/imds.h).
 *
 * Every GET carries a session token from PUT /latest/api/token; a 401 gets
 * one new token and one more try; a service that will not hand out tokens is
 * an error, never a reason to try IMDSv1.  Throttling (429) and 5xx answers are
 * retried a little, bounded by the caller's deadline.
 *
 * The cache file <runtime dir>/imds-cache (0600, in a 0700 directory made if
 * missing, read with O_NOFOLLOW, replaced atomically via a temp file and
 * rename) holds the token with its expiry and the identity (instance id,
 * region, interfaces) with the time it was read, for the endpoint it came
 * from.  It lets the short-lived agent processes Pacemaker starts every few
 * seconds skip the token round trip.  Line format, one field per line:
 *   ec2ha-imds-cache 1
 *   endpoint <url>
 *   token <expires epoch s> <token>
 *   identity <fetched epoch s>
 *   instance-id <id> | region <region>
 *   interface <mac> <eni|-> <device|-1> <ip,ip|->
 */
#include <ctype.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "creds_private.h"
#include "ec2ha/buf.h"
#include "ec2ha/http.h"
#include "ec2ha/imds.h"
#include "ec2ha/json.h"
#include "ec2ha/log.h"
#include "ec2ha/runtime.h"
#include "imds_private.h"

#define IMDS_IPV6_ENDPOINT "http://[fd00:ec2::254]"
#define IMDS_CONNECT_TIMEOUT_MS 1000
#define IMDS_ATTEMPT_MAX_MS 5000
#define IMDS_MAX_RESPONSE ((size_t)64 * 1024)
#define IMDS_MAX_ATTEMPTS 3
#define IMDS_CACHE_MAX ((size_t)64 * 1024)
#define IMDS_CACHE_MAGIC "ec2ha-imds-cache 1"
#define IMDS_TOKEN_MAX 4096

struct ec2ha_imds {
    char *endpoint;
    char *runtime_dir;
    char *cache_path;
    bool enabled;
    time_t (*now_fn)(void);
    ec2ha_imds_transport_fn transport;
    void *transport_ctx;
    bool cache_loaded;

    char *token;                    /* secret */
    time_t token_expires;

    time_t identity_time;           /* 0: no identity cached */
    char *instance_id;
    char *region;
    ec2ha_imds_interface *ifs;
    size_t n_ifs;
    bool have_ifs;
};

static time_t now_s(const ec2ha_imds *m)
{
    return m->now_fn != NULL ? m->now_fn() : time(NULL);
}

void ec2ha_imds_set_clock(ec2ha_imds *m, time_t (*now_fn)(void))
{
    m->now_fn = now_fn;
}

void ec2ha_imds_set_transport(ec2ha_imds *m, ec2ha_imds_transport_fn fn, void *ctx)
{
    m->transport = fn;
    m->transport_ctx = ctx;
}

const char *ec2ha_imds_cache_path(const ec2ha_imds *m)
{
    return m->cache_path;
}

/* ---- interfaces ---------------------------------------------------------------- */

static void interface_clear(ec2ha_imds_interface *i)
{
    free(i->mac);
    free(i->interface_id);
    for (size_t k = 0; k < i->n_private_ips; k++) {
        free(i->private_ips[k]);
    }
    free(i->private_ips);
    memset(i, 0, sizeof(*i));
    i->device_number = -1;
}

void ec2ha_imds_interfaces_free(ec2ha_imds_interface *ifs, size_t n)
{
    if (ifs == NULL) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        interface_clear(&ifs[i]);
    }
    free(ifs);
}

static ec2ha_rc interfaces_copy(const ec2ha_imds_interface *src, size_t n,
                                ec2ha_imds_interface **out)
{
    ec2ha_imds_interface *dst = calloc(n > 0 ? n : 1, sizeof(*dst));

    if (dst == NULL) {
        return EC2HA_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        dst[i].device_number = src[i].device_number;
        dst[i].mac = strdup(src[i].mac);
        dst[i].interface_id = src[i].interface_id != NULL ? strdup(src[i].interface_id) : NULL;
        if (dst[i].mac == NULL || (src[i].interface_id != NULL && dst[i].interface_id == NULL)) {
            ec2ha_imds_interfaces_free(dst, n);
            return EC2HA_ERR_NOMEM;
        }
        if (src[i].n_private_ips > 0) {
            dst[i].private_ips = calloc(src[i].n_private_ips, sizeof(char *));
            if (dst[i].private_ips == NULL) {
                ec2ha_imds_interfaces_free(dst, n);
                return EC2HA_ERR_NOMEM;
            }
            for (size_t k = 0; k < src[i].n_private_ips; k++) {
                dst[i].private_ips[k] = strdup(src[i].private_ips[k]);
                if (dst[i].private_ips[k] == NULL) {
                    dst[i].n_private_ips = k;
                    ec2ha_imds_interfaces_free(dst, n);
                    return EC2HA_ERR_NOMEM;
                }
            }
            dst[i].n_private_ips = src[i].n_private_ips;
        }
    }
    *out = dst;
    return EC2HA_OK;
}

static int interface_order(const void *a, const void *b)
{
    const ec2ha_imds_interface *x = a;
    const ec2ha_imds_interface *y = b;
    /* device 0 (primary) first, unknown (-1) last */
    unsigned dx = x->device_number < 0 ? UINT_MAX : (unsigned)x->device_number;
    unsigned dy = y->device_number < 0 ? UINT_MAX : (unsigned)y->device_number;

    if (dx != dy) {
        return dx < dy ? -1 : 1;
    }
    return strcmp(x->mac, y->mac);
}

/* ---- the handle ----------------------------------------------------------------- */

static void identity_clear(ec2ha_imds *m)
{
    free(m->instance_id);
    m->instance_id = NULL;
    free(m->region);
    m->region = NULL;
    ec2ha_imds_interfaces_free(m->ifs, m->n_ifs);
    m->ifs = NULL;
    m->n_ifs = 0;
    m->have_ifs = false;
    m->identity_time = 0;
}

static void token_clear(ec2ha_imds *m)
{
    ec2ha_free_secret(m->token);
    m->token = NULL;
    m->token_expires = 0;
}

void ec2ha_imds_free(ec2ha_imds *m)
{
    if (m == NULL) {
        return;
    }
    token_clear(m);
    identity_clear(m);
    free(m->endpoint);
    free(m->runtime_dir);
    free(m->cache_path);
    free(m);
}

static const char *env_nonempty(const char *name)
{
    const char *v = getenv(name);

    return v != NULL && v[0] != '\0' ? v : NULL;
}

ec2ha_rc ec2ha_imds_new(const char *runtime_dir, ec2ha_imds **out, ec2ha_error *err)
{
    ec2ha_imds *m = NULL;
    const char *ep = env_nonempty("AWS_EC2_METADATA_SERVICE_ENDPOINT");
    const char *mode = env_nonempty("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
    const char *disabled = env_nonempty("AWS_EC2_METADATA_DISABLED");
    size_t n;
    ec2ha_rc rc = EC2HA_ERR_NOMEM;

    m = calloc(1, sizeof(*m));
    if (m == NULL) {
        goto fail;
    }
    if (ep == NULL) {
        ep = mode != NULL && strcasecmp(mode, "IPv6") == 0 ? IMDS_IPV6_ENDPOINT :
             EC2HA_IMDS_DEFAULT_ENDPOINT;
    }
    if (strncmp(ep, "http://", 7) != 0 && strncmp(ep, "https://", 8) != 0) {
        rc = ec2ha_error_set(err, EC2HA_ERR_INVALID,
                             "AWS_EC2_METADATA_SERVICE_ENDPOINT \"%.200s\" must be an http:// URL "
                             "such as http://169.254.169.254", ep);
        goto fail_set;
    }
    for (const char *p = ep; *p != '\0'; p++) {
        if ((unsigned char)*p <= ' ' || *p == 0x7f) {
            rc = ec2ha_error_set(err, EC2HA_ERR_INVALID,
                                 "AWS_EC2_METADATA_SERVICE_ENDPOINT contains a space or control "
                                 "character");
            goto fail_set;
        }
    }
    n = strlen(ep);
    while (n > 0 && ep[n - 1] == '/') {
        n--;
    }
    m->endpoint = strndup(ep, n);
    if (runtime_dir == NULL || runtime_dir[0] == '\0') {
        runtime_dir = ec2ha_runtime_dir_default();
    }
    m->runtime_dir = strdup(runtime_dir);
    if (m->endpoint == NULL || m->runtime_dir == NULL ||
        asprintf(&m->cache_path, "%s/%s", runtime_dir, EC2HA_IMDS_CACHE_NAME) < 0) {
        m->cache_path = NULL;
        goto fail;
    }
    /* botocore: only the (case-insensitive) value "true" disables IMDS */
    m->enabled = !(disabled != NULL && strcasecmp(disabled, "true") == 0);
    *out = m;
    return EC2HA_OK;
fail:
    rc = ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory");
fail_set:
    ec2ha_imds_free(m);
    return rc;
}

bool ec2ha_imds_enabled(const ec2ha_imds *m)
{
    return m != NULL && m->enabled;
}

const char *ec2ha_imds_endpoint(const ec2ha_imds *m)
{
    return m->endpoint;
}

/* ---- the cache file ----------------------------------------------------------------- */

static bool cache_word_ok(const char *s)
{
    if (s == NULL || s[0] == '\0') {
        return false;
    }
    for (; *s != '\0'; s++) {
        if ((unsigned char)*s <= ' ' || *s == 0x7f) {
            return false;
        }
    }
    return true;
}

static bool token_fresh(const ec2ha_imds *m, time_t now)
{
    /* an expiry further out than a whole TTL means the clock went back: distrust it */
    return m->token != NULL && m->token_expires - now > EC2HA_IMDS_TOKEN_MIN_LEFT_S &&
           m->token_expires - now <= EC2HA_IMDS_TOKEN_TTL_S + 60;
}

static bool identity_fresh(const ec2ha_imds *m, time_t now)
{
    return m->identity_time != 0 && now - m->identity_time < EC2HA_IMDS_IDENTITY_MAX_AGE_S &&
           m->identity_time - now < 60;
}

static ec2ha_rc cache_render(const ec2ha_imds *m, ec2ha_buf *b)
{
    ec2ha_rc rc = ec2ha_buf_printf(b, "%s\nendpoint %s\n", IMDS_CACHE_MAGIC, m->endpoint);

    if (rc == EC2HA_OK && cache_word_ok(m->token)) {
        rc = ec2ha_buf_printf(b, "token %lld %s\n", (long long)m->token_expires, m->token);
    }
    if (rc == EC2HA_OK && m->identity_time != 0) {
        rc = ec2ha_buf_printf(b, "identity %lld\n", (long long)m->identity_time);
        if (rc == EC2HA_OK && cache_word_ok(m->instance_id)) {
            rc = ec2ha_buf_printf(b, "instance-id %s\n", m->instance_id);
        }
        if (rc == EC2HA_OK && cache_word_ok(m->region)) {
            rc = ec2ha_buf_printf(b, "region %s\n", m->region);
        }
        for (size_t i = 0; rc == EC2HA_OK && m->have_ifs && i < m->n_ifs; i++) {
            const ec2ha_imds_interface *f = &m->ifs[i];

            if (!cache_word_ok(f->mac)) {
                continue;
            }
            rc = ec2ha_buf_printf(b, "interface %s %s %d ", f->mac,
                                  cache_word_ok(f->interface_id) ? f->interface_id : "-",
                                  f->device_number);
            for (size_t k = 0; rc == EC2HA_OK && k < f->n_private_ips; k++) {
                rc = ec2ha_buf_printf(b, "%s%s", k > 0 ? "," : "", f->private_ips[k]);
            }
            if (rc == EC2HA_OK) {
                rc = ec2ha_buf_append_str(b, f->n_private_ips > 0 ? "\n" : "-\n");
            }
        }
        if (rc == EC2HA_OK && m->have_ifs && m->n_ifs == 0) {
            rc = ec2ha_buf_append_str(b, "interfaces-none\n");
        }
    }
    return rc;
}

static ec2ha_rc cache_write(const ec2ha_imds *m, ec2ha_error *err)
{
    ec2ha_buf b;
    ec2ha_rc rc;

    ec2ha_buf_init_secret(&b, IMDS_CACHE_MAX);
    rc = cache_render(m, &b);
    if (rc != EC2HA_OK) {
        ec2ha_error_set(err, rc, "cannot render the IMDS cache");
    } else {
        rc = ec2ha_runtime_file_write(m->runtime_dir, m->cache_path, b.data, b.len, err);
    }
    ec2ha_buf_free(&b);
    return rc;
}

/* Best effort: a cache that cannot be written is logged at debug and otherwise ignored. */
static void cache_save(const ec2ha_imds *m)
{
    ec2ha_error err = {0};

    if (cache_write(m, &err) != EC2HA_OK) {
        ec2ha_debug("IMDS cache not written: %s", err.message);
    }
}

static bool parse_ll(const char *s, long long *out)
{
    char *end = NULL;
    long long v;

    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0') {
        return false;
    }
    *out = v;
    return true;
}

static ec2ha_rc interface_from_cache(char *rest, ec2ha_imds_interface *f)
{
    char *save = NULL;
    char *mac = strtok_r(rest, " ", &save);
    char *eni = strtok_r(NULL, " ", &save);
    char *dev = strtok_r(NULL, " ", &save);
    char *ips = strtok_r(NULL, " ", &save);
    long long d;

    memset(f, 0, sizeof(*f));
    f->device_number = -1;
    if (mac == NULL || eni == NULL || dev == NULL || ips == NULL ||
        strtok_r(NULL, " ", &save) != NULL || !parse_ll(dev, &d) || d < -1 || d > INT_MAX) {
        return EC2HA_ERR_PARSE;
    }
    f->device_number = (int)d;
    f->mac = strdup(mac);
    if (f->mac == NULL) {
        return EC2HA_ERR_NOMEM;
    }
    if (strcmp(eni, "-") != 0 && (f->interface_id = strdup(eni)) == NULL) {
        return EC2HA_ERR_NOMEM;
    }
    if (strcmp(ips, "-") != 0) {
        size_t n = 1;

        for (const char *p = ips; *p != '\0'; p++) {
            n += *p == ',';
        }
        f->private_ips = calloc(n, sizeof(char *));
        if (f->private_ips == NULL) {
            return EC2HA_ERR_NOMEM;
        }
        for (char *ip = strtok_r(ips, ",", &save); ip != NULL; ip = strtok_r(NULL, ",", &save)) {
            f->private_ips[f->n_private_ips] = strdup(ip);
            if (f->private_ips[f->n_private_ips] == NULL) {
                return EC2HA_ERR_NOMEM;
            }
            f->n_private_ips++;
        }
    }
    return EC2HA_OK;
}

/* Parse the cache text into m (which holds nothing yet). */
static ec2ha_rc cache_parse(ec2ha_imds *m, char *text, ec2ha_error *err)
{
    char *save = NULL;
    char *line = strtok_r(text, "\n", &save);
    bool endpoint_ok = false;

    if (line == NULL || strcmp(line, IMDS_CACHE_MAGIC) != 0) {
        return ec2ha_error_set(err, EC2HA_ERR_PARSE, "unknown format");
    }
    while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
        char *sp = strchr(line, ' ');
        char *rest = sp != NULL ? sp + 1 : line + strlen(line);
        long long v;

        if (sp != NULL) {
            *sp = '\0';
        }
        if (strcmp(line, "endpoint") == 0) {
            if (strcmp(rest, m->endpoint) != 0) {
                return ec2ha_error_set(err, EC2HA_ERR_PARSE, "written for another endpoint");
            }
            endpoint_ok = true;
        } else if (!endpoint_ok) {
            return ec2ha_error_set(err, EC2HA_ERR_PARSE, "no endpoint line");
        } else if (strcmp(line, "token") == 0) {
            char *tok = strchr(rest, ' ');

            if (tok == NULL) {
                return ec2ha_error_set(err, EC2HA_ERR_PARSE, "bad token line");
            }
            *tok++ = '\0';
            if (!parse_ll(rest, &v) || !cache_word_ok(tok)) {
                return ec2ha_error_set(err, EC2HA_ERR_PARSE, "bad token line");
            }
            token_clear(m);
            m->token = strdup(tok);
            m->token_expires = (time_t)v;
            if (m->token == NULL) {
                return ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory");
            }
        } else if (strcmp(line, "identity") == 0) {
            if (!parse_ll(rest, &v) || v <= 0) {
                return ec2ha_error_set(err, EC2HA_ERR_PARSE, "bad identity line");
            }
            m->identity_time = (time_t)v;
        } else if (strcmp(line, "instance-id") == 0 && cache_word_ok(rest)) {
            free(m->instance_id);
            m->instance_id = strdup(rest);
        } else if (strcmp(line, "region") == 0 && cache_word_ok(rest)) {
            free(m->region);
            m->region = strdup(rest);
        } else if (strcmp(line, "interfaces-none") == 0) {
            m->have_ifs = true;
        } else if (strcmp(line, "interface") == 0) {
            ec2ha_imds_interface *p = realloc(m->ifs, (m->n_ifs + 1) * sizeof(*p));
            ec2ha_rc rc;

            if (p == NULL) {
                return ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory");
            }
            m->ifs = p;
            rc = interface_from_cache(rest, &m->ifs[m->n_ifs]);
            m->n_ifs++;
            if (rc != EC2HA_OK) {
                return ec2ha_error_set(err, rc, "bad interface line");
            }
            m->have_ifs = true;
        } else {
            return ec2ha_error_set(err, EC2HA_ERR_PARSE, "unknown line \"%.32s\"", line);
        }
    }
    if (m->identity_time == 0 && (m->instance_id != NULL || m->region != NULL || m->have_ifs)) {
        return ec2ha_error_set(err, EC2HA_ERR_PARSE, "identity values without a time");
    }
    return EC2HA_OK;
}

static ec2ha_rc cache_read(ec2ha_imds *m, ec2ha_error *err)
{
    ec2ha_buf b;
    ec2ha_rc rc;

    ec2ha_buf_init_secret(&b, IMDS_CACHE_MAX);
    rc = ec2ha_runtime_file_read(m->cache_path, &b, NULL, err);
    if (rc != EC2HA_OK) {
        goto done;
    }
    if (b.data == NULL || memchr(b.data, '\0', b.len) != NULL) {
        rc = ec2ha_error_set(err, EC2HA_ERR_PARSE, "%s is empty or binary", m->cache_path);
        goto done;
    }
    rc = cache_parse(m, b.data, err);
    if (rc != EC2HA_OK) {
        ec2ha_error_prefix(err, "%s", m->cache_path);
    }
done:
    ec2ha_buf_free(&b);
    return rc;
}

/* Load the file once per handle and drop whatever has gone stale. */
static void cache_load(ec2ha_imds *m)
{
    ec2ha_error err = {0};
    time_t now;

    if (m->cache_loaded) {
        return;
    }
    m->cache_loaded = true;
    if (cache_read(m, &err) != EC2HA_OK) {
        token_clear(m);
        identity_clear(m);
        ec2ha_debug("IMDS cache not used: %s", err.message);
        return;
    }
    now = now_s(m);
    if (!token_fresh(m, now)) {
        token_clear(m);
    } else {
        ec2ha_log_add_secret(m->token);
    }
    if (!identity_fresh(m, now)) {
        identity_clear(m);
    }
}

ec2ha_rc ec2ha_imds_cache_put(ec2ha_imds *m, const char *token, const char *instance_id,
                              const char *region, const ec2ha_imds_interface *ifs, size_t n_ifs,
                              ec2ha_error *err)
{
    time_t now = now_s(m);

    m->cache_loaded = true;
    if (token != NULL) {
        token_clear(m);
        m->token = strdup(token);
        if (m->token == NULL) {
            return ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory");
        }
        m->token_expires = now + EC2HA_IMDS_TOKEN_TTL_S;
    }
    if (instance_id != NULL || region != NULL || ifs != NULL) {
        identity_clear(m);
        m->identity_time = now;
        m->instance_id = instance_id != NULL ? strdup(instance_id) : NULL;
        m->region = region != NULL ? strdup(region) : NULL;
        if (ifs != NULL) {
            if (interfaces_copy(ifs, n_ifs, &m->ifs) != EC2HA_OK) {
                return ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory");
            }
            m->n_ifs = n_ifs;
            m->have_ifs = true;
        }
    }
    return cache_write(m, err);
}

/* ---- HTTP ----------------------------------------------------------------------- */

static void resp_free(ec2ha_http_response *resp)
{
    resp->body.secret = true;   /* bodies may hold tokens or keys */
    ec2ha_http_response_free(resp);
    memset(resp, 0, sizeof(*resp));
}

static ec2ha_deadline attempt_deadline(ec2ha_deadline deadline)
{
    ec2ha_deadline d = ec2ha_deadline_in_ms(IMDS_ATTEMPT_MAX_MS);

    return d.at_ms < deadline.at_ms ? d : deadline;
}

/*
 * One request with a few retries on 429/5xx, bounded by the deadline.  The
 * response is returned whatever its status.
 */
static ec2ha_rc imds_http(ec2ha_imds *m, const char *method, const char *path,
                          const char *header, bool secret_body, ec2ha_deadline deadline,
                          ec2ha_http_response *resp, ec2ha_error *err)
{
    ec2ha_http_options hopts;
    ec2ha_http_request req;
    const char *headers[1];
    char *url = NULL;
    ec2ha_rc rc = EC2HA_ERR_NOMEM;

    memset(&hopts, 0, sizeof(hopts));
    hopts.connect_timeout_ms = IMDS_CONNECT_TIMEOUT_MS;
    hopts.max_response_bytes = IMDS_MAX_RESPONSE;
    if (asprintf(&url, "%s%s", m->endpoint, path) < 0) {
        return ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory");
    }
    headers[0] = header;
    memset(&req, 0, sizeof(req));
    req.method = method;
    req.url = url;
    req.headers = headers;
    req.n_headers = 1;
    req.is_imds = true;
    req.secret_body = secret_body;
    for (int attempt = 1;; attempt++) {
        int64_t delay = 100LL << (attempt - 1);

        memset(resp, 0, sizeof(*resp));
        if (m->transport != NULL) {
            rc = m->transport(m->transport_ctx, &hopts, &req, attempt_deadline(deadline), resp,
                              err);
        } else {
            rc = ec2ha_http_perform(&hopts, &req, attempt_deadline(deadline), resp, err);
        }
        if (rc != EC2HA_OK) {
            resp_free(resp);
            ec2ha_error_prefix(err, "IMDS %s %s (no answer: not on EC2, IMDS turned off for "
                               "the instance, or its hop limit too low?)", method, path);
            break;
        }
        if (resp->status != 429 && resp->status < 500) {
            break;
        }
        if (attempt >= IMDS_MAX_ATTEMPTS ||
            ec2ha_deadline_remaining_ms(deadline) < delay + IMDS_CONNECT_TIMEOUT_MS) {
            break;   /* the caller reports the status */
        }
        ec2ha_debug("IMDS %s %s: HTTP %ld, retrying in %lld ms", method, path, resp->status,
                    (long long)delay);
        resp_free(resp);
        ec2ha_deadline_sleep_ms(deadline, delay);
    }
    free(url);
    return rc;
}

static bool token_valid_text(const char *t)
{
    size_t n = strlen(t);

    if (n == 0 || n > IMDS_TOKEN_MAX) {
        return false;
    }
    for (; *t != '\0'; t++) {
        if (!isgraph((unsigned char)*t)) {
            return false;
        }
    }
    return true;
}

static ec2ha_rc fetch_token(ec2ha_imds *m, ec2ha_deadline deadline, ec2ha_error *err)
{
    ec2ha_http_response resp;
    char header[128];
    char *token = NULL;
    ec2ha_rc rc;

    token_clear(m);
    snprintf(header, sizeof(header), "%s: %d", EC2HA_IMDS_TOKEN_TTL_HEADER,
             EC2HA_IMDS_TOKEN_TTL_S);
    rc = imds_http(m, "PUT", "/latest/api/token", header, true, deadline, &resp, err);
    if (rc != EC2HA_OK) {
        return rc;
    }
    resp.body.secret = true;
    if (resp.status != 200) {
        ec2ha_error_set_aws(err, resp.status, NULL, NULL);
        if (resp.status == 403) {
            rc = ec2ha_error_set(err, EC2HA_ERR_UNAVAILABLE,
                                 "IMDS at %s refused a session token (HTTP 403): the instance "
                                 "metadata service is turned off for this instance", m->endpoint);
        } else if (resp.status == 404 || resp.status == 405) {
            rc = ec2ha_error_set(err, EC2HA_ERR_UNAVAILABLE,
                                 "IMDS at %s does not hand out IMDSv2 session tokens (HTTP %ld); "
                                 "ec2ha never falls back to IMDSv1", m->endpoint, resp.status);
        } else {
            rc = ec2ha_error_set(err, EC2HA_ERR_HTTP,
                                 "IMDS at %s answered HTTP %ld to the session token request",
                                 m->endpoint, resp.status);
        }
        goto done;
    }
    token = ec2ha_buf_steal(&resp.body);
    if (token == NULL) {
        rc = ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory");
        goto done;
    }
    /* trim surrounding whitespace */
    {
        size_t n = strlen(token);
        size_t s = 0;

        while (n > 0 && isspace((unsigned char)token[n - 1])) {
            token[--n] = '\0';
        }
        while (isspace((unsigned char)token[s])) {
            s++;
        }
        memmove(token, token + s, n - s + 1);
    }
    if (!token_valid_text(token)) {
        rc = ec2ha_error_set(err, EC2HA_ERR_PARSE, "IMDS at %s sent an empty or malformed token",
                             m->endpoint);
        goto done;
    }
    ec2ha_log_add_secret(token);
    m->token = token;
    token = NULL;
    m->token_expires = now_s(m) + EC2HA_IMDS_TOKEN_TTL_S;
    ec2ha_debug("IMDS session token from %s (TTL %d s)", m->endpoint, EC2HA_IMDS_TOKEN_TTL_S);
    cache_save(m);
    rc = EC2HA_OK;
done:
    ec2ha_free_secret(token);
    resp_free(&resp);
    return rc;
}

static bool path_ok(const char *path)
{
    if (path == NULL || path[0] == '\0' || path[0] == '/' || strstr(path, "..") != NULL) {
        return false;
    }
    for (const char *p = path; *p != '\0'; p++) {
        if ((unsigned char)*p <= ' ' || *p == 0x7f || *p == '?' || *p == '#' || *p == '%') {
            return false;
        }
    }
    return true;
}

ec2ha_rc ec2ha_imds_get(ec2ha_imds *m, const char *path, ec2ha_deadline deadline, char **out,
                        ec2ha_error *err)
{
    ec2ha_http_response resp;
    char *full = NULL;
    char *header = NULL;
    bool retried = false;
    ec2ha_rc rc;

    memset(&resp, 0, sizeof(resp));
    if (!ec2ha_imds_enabled(m)) {
        return ec2ha_error_set(err, EC2HA_ERR_UNAVAILABLE,
                               "IMDS is disabled (AWS_EC2_METADATA_DISABLED=true)");
    }
    if (!path_ok(path)) {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID, "bad IMDS path \"%.100s\"",
                               path != NULL ? path : "");
    }
    if (asprintf(&full, "/latest/%s%s", strncmp(path, "dynamic/", 8) == 0 ? "" : "meta-data/",
                 path) < 0) {
        return ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory");
    }
    cache_load(m);
    for (;;) {
        if (!token_fresh(m, now_s(m))) {
            rc = fetch_token(m, deadline, err);
            if (rc != EC2HA_OK) {
                goto done;
            }
        }
        ec2ha_free_secret(header);
        if (asprintf(&header, "%s: %s", EC2HA_IMDS_TOKEN_HEADER, m->token) < 0) {
            header = NULL;
            rc = ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory");
            goto done;
        }
        rc = imds_http(m, "GET", full, header,
                       strncmp(path, "iam/security-credentials/", 25) == 0, deadline, &resp,
                       err);
        if (rc != EC2HA_OK) {
            goto done;
        }
        if (resp.status == 401 && !retried) {
            /* the token expired or IMDS restarted: one new token, one more try */
            ec2ha_debug("IMDS GET %s: 401, fetching a new session token", full);
            retried = true;
            token_clear(m);
            resp_free(&resp);
            continue;
        }
        break;
    }
    if (resp.status == 200) {
        *out = ec2ha_buf_steal(&resp.body);
        rc = *out != NULL ? EC2HA_OK : ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory");
        goto done;
    }
    ec2ha_error_set_aws(err, resp.status, NULL, NULL);
    if (resp.status == 404) {
        rc = ec2ha_error_set(err, EC2HA_ERR_NOT_FOUND, "IMDS at %s has no %s", m->endpoint, full);
    } else if (resp.status == 401) {
        rc = ec2ha_error_set(err, EC2HA_ERR_HTTP,
                             "IMDS at %s rejected a fresh session token for %s (HTTP 401)",
                             m->endpoint, full);
    } else {
        rc = ec2ha_error_set(err, EC2HA_ERR_HTTP, "IMDS at %s answered HTTP %ld for %s",
                             m->endpoint, resp.status, full);
    }
done:
    ec2ha_free_secret(header);
    resp_free(&resp);
    free(full);
    return rc;
}

/* ---- identity -------------------------------------------------------------------- */

static void trim_inplace(char *s)
{
    size_t n = strlen(s);
    size_t b = 0;

    while (n > 0 && isspace((unsigned char)s[n - 1])) {
        s[--n] = '\0';
    }
    while (isspace((unsigned char)s[b])) {
        b++;
    }
    memmove(s, s + b, n - b + 1);
}

/* Start (or keep) the identity's clock before adding a value to it. */
static void identity_touch(ec2ha_imds *m)
{
    if (!identity_fresh(m, now_s(m))) {
        identity_clear(m);
        m->identity_time = now_s(m);
    }
}

static bool instance_id_ok(const char *s)
{
    size_t n = strlen(s);

    if (n < 3 || n > 32 || strncmp(s, "i-", 2) != 0) {
        return false;
    }
    for (size_t i = 2; i < n; i++) {
        if (!isxdigit((unsigned char)s[i])) {
            return false;
        }
    }
    return true;
}

ec2ha_rc ec2ha_imds_get_instance_id(ec2ha_imds *m, ec2ha_deadline deadline, char **out,
                                    ec2ha_error *err)
{
    char *v = NULL;
    ec2ha_rc rc;

    if (ec2ha_imds_enabled(m)) {
        cache_load(m);
        if (identity_fresh(m, now_s(m)) && m->instance_id != NULL) {
            *out = strdup(m->instance_id);
            return *out != NULL ? EC2HA_OK : ec2ha_error_set(err, EC2HA_ERR_NOMEM,
                                                             "out of memory");
        }
    }
    rc = ec2ha_imds_get(m, "instance-id", deadline, &v, err);
    if (rc != EC2HA_OK) {
        return rc;
    }
    trim_inplace(v);
    if (!instance_id_ok(v)) {
        free(v);
        return ec2ha_error_set(err, EC2HA_ERR_PARSE, "IMDS at %s sent a malformed instance id",
                               m->endpoint);
    }
    identity_touch(m);
    free(m->instance_id);
    m->instance_id = strdup(v);
    cache_save(m);
    *out = v;
    return EC2HA_OK;
}

static bool region_text_ok(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > 64) {
        return false;
    }
    for (; *s != '\0'; s++) {
        if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '-')) {
            return false;
        }
    }
    return true;
}

ec2ha_rc ec2ha_imds_get_region(ec2ha_imds *m, ec2ha_deadline deadline, char **out,
                               ec2ha_error *err)
{
    char *v = NULL;
    char *doc = NULL;
    ec2ha_rc rc;

    if (ec2ha_imds_enabled(m)) {
        cache_load(m);
        if (identity_fresh(m, now_s(m)) && m->region != NULL) {
            *out = strdup(m->region);
            return *out != NULL ? EC2HA_OK : ec2ha_error_set(err, EC2HA_ERR_NOMEM,
                                                             "out of memory");
        }
    }
    rc = ec2ha_imds_get(m, "placement/region", deadline, &v, err);
    if (rc == EC2HA_ERR_NOT_FOUND) {
        /* older IMDS versions: the identity document has it */
        rc = ec2ha_imds_get(m, "dynamic/instance-identity/document", deadline, &doc, err);
        if (rc == EC2HA_OK) {
            rc = ec2ha_json_get_string(doc, strlen(doc), "region", &v, err);
            if (rc != EC2HA_OK) {
                ec2ha_error_prefix(err, "IMDS instance identity document");
            }
        }
        free(doc);
    }
    if (rc != EC2HA_OK) {
        return rc;
    }
    trim_inplace(v);
    if (!region_text_ok(v)) {
        free(v);
        return ec2ha_error_set(err, EC2HA_ERR_PARSE, "IMDS at %s sent a malformed region",
                               m->endpoint);
    }
    identity_touch(m);
    free(m->region);
    m->region = strdup(v);
    cache_save(m);
    *out = v;
    return EC2HA_OK;
}

static bool mac_ok(const char *s)
{
    /* 02:ab:cd:ef:01:23 */
    if (strlen(s) != 17) {
        return false;
    }
    for (int i = 0; i < 17; i++) {
        if (i % 3 == 2 ? s[i] != ':' : !isxdigit((unsigned char)s[i])) {
            return false;
        }
    }
    return true;
}

/* "eni-" and hex digits, as EC2 names network interfaces. */
static bool interface_id_valid(const char *id)
{
    size_t n;

    if (id == NULL || strncmp(id, "eni-", 4) != 0 || id[4] == '\0') {
        return false;
    }
    n = strspn(id + 4, "0123456789abcdef");
    return id[4 + n] == '\0';
}

static ec2ha_rc fetch_interface(ec2ha_imds *m, const char *mac, ec2ha_deadline deadline,
                                ec2ha_imds_interface *f, ec2ha_error *err)
{
    char path[128];
    char *v = NULL;
    char *save = NULL;
    ec2ha_rc rc;

    memset(f, 0, sizeof(*f));
    f->device_number = -1;
    f->mac = strdup(mac);
    if (f->mac == NULL) {
        return ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory");
    }
    snprintf(path, sizeof(path), "network/interfaces/macs/%s/interface-id", mac);
    rc = ec2ha_imds_get(m, path, deadline, &v, err);
    if (rc != EC2HA_OK) {
        return rc;
    }
    trim_inplace(v);
    f->interface_id = v;
    v = NULL;
    if (!interface_id_valid(f->interface_id)) {
        return ec2ha_error_set(err, EC2HA_ERR_PARSE,
                               "IMDS sent a malformed interface-id for %s (expected eni- and "
                               "hex digits)", mac);
    }

    snprintf(path, sizeof(path), "network/interfaces/macs/%s/device-number", mac);
    rc = ec2ha_imds_get(m, path, deadline, &v, err);
    if (rc == EC2HA_OK) {
        long long d;

        trim_inplace(v);
        if (!parse_ll(v, &d) || d < 0 || d > INT_MAX) {
            free(v);
            return ec2ha_error_set(err, EC2HA_ERR_PARSE,
                                   "IMDS sent a malformed device-number for %s", mac);
        }
        f->device_number = (int)d;
        free(v);
        v = NULL;
    } else if (rc == EC2HA_ERR_NOT_FOUND) {
        ec2ha_error_clear(err);
    } else {
        return rc;
    }

    snprintf(path, sizeof(path), "network/interfaces/macs/%s/local-ipv4s", mac);
    rc = ec2ha_imds_get(m, path, deadline, &v, err);
    if (rc == EC2HA_ERR_NOT_FOUND) {
        ec2ha_error_clear(err);
        return EC2HA_OK;   /* an IPv6-only interface */
    }
    if (rc != EC2HA_OK) {
        return rc;
    }
    for (char *ip = strtok_r(v, "\n", &save); ip != NULL; ip = strtok_r(NULL, "\n", &save)) {
        char **p;

        struct in_addr parsed;

        trim_inplace(ip);
        if (ip[0] == '\0') {
            continue;
        }
        if (inet_pton(AF_INET, ip, &parsed) != 1) {
            free(v);
            return ec2ha_error_set(err, EC2HA_ERR_PARSE,
                                   "IMDS sent a malformed local-ipv4s entry for %s", mac);
        }
        p = realloc(f->private_ips, (f->n_private_ips + 1) * sizeof(*p));
        if (p == NULL) {
            free(v);
            return ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory");
        }
        f->private_ips = p;
        f->private_ips[f->n_private_ips] = strdup(ip);
        if (f->private_ips[f->n_private_ips] == NULL) {
            free(v);
            return ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory");
        }
        f->n_private_ips++;
    }
    free(v);
    return EC2HA_OK;
}

ec2ha_rc ec2ha_imds_get_interfaces(ec2ha_imds *m, ec2ha_deadline deadline,
                                   ec2ha_imds_interface **out, size_t *n_out, ec2ha_error *err)
{
    ec2ha_imds_interface *ifs = NULL;
    size_t n = 0;
    char *list = NULL;
    char *save = NULL;
    ec2ha_rc rc;

    if (ec2ha_imds_enabled(m)) {
        cache_load(m);
        if (identity_fresh(m, now_s(m)) && m->have_ifs) {
            if (interfaces_copy(m->ifs, m->n_ifs, out) != EC2HA_OK) {
                return ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory");
            }
            *n_out = m->n_ifs;
            return EC2HA_OK;
        }
    }
    rc = ec2ha_imds_get(m, "network/interfaces/macs/", deadline, &list, err);
    if (rc != EC2HA_OK) {
        goto done;
    }
    for (char *mac = strtok_r(list, "\n", &save); mac != NULL; mac = strtok_r(NULL, "\n", &save)) {
        ec2ha_imds_interface *p;
        size_t len;

        trim_inplace(mac);
        len = strlen(mac);
        if (len > 0 && mac[len - 1] == '/') {
            mac[--len] = '\0';
        }
        if (len == 0) {
            continue;
        }
        if (!mac_ok(mac)) {
            rc = ec2ha_error_set(err, EC2HA_ERR_PARSE, "IMDS listed a malformed MAC address");
            goto done;
        }
        p = realloc(ifs, (n + 1) * sizeof(*p));
        if (p == NULL) {
            rc = ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory");
            goto done;
        }
        ifs = p;
        rc = fetch_interface(m, mac, deadline, &ifs[n], err);
        n++;
        if (rc != EC2HA_OK) {
            goto done;
        }
    }
    if (n > 1) {
        qsort(ifs, n, sizeof(*ifs), interface_order);
    }
    identity_touch(m);
    ec2ha_imds_interfaces_free(m->ifs, m->n_ifs);
    m->ifs = NULL;
    m->n_ifs = 0;
    m->have_ifs = false;
    if (interfaces_copy(ifs, n, &m->ifs) == EC2HA_OK) {
        m->n_ifs = n;
        m->have_ifs = true;
        cache_save(m);
    }
    *out = ifs != NULL ? ifs : calloc(1, sizeof(*ifs));
    if (*out == NULL) {
        rc = ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory");
        goto done;
    }
    *n_out = n;
    ifs = NULL;
    n = 0;
    rc = EC2HA_OK;
done:
    ec2ha_imds_interfaces_free(ifs, n);
    free(list);
    return rc;
}

/* ---- role credentials ---------------------------------------------------------------- */

void ec2ha_imds_role_credentials_free(ec2ha_imds_role_credentials *c)
{
    if (c == NULL) {
        return;
    }
    free(c->role_name);
    free(c->access_key_id);
    ec2ha_free_secret(c->secret_access_key);
    ec2ha_free_secret(c->token);
    free(c->expiration);
    memset(c, 0, sizeof(*c));
}

ec2ha_rc ec2ha_imds_parse_role_credentials(const char *json, size_t len,
                                           ec2ha_imds_role_credentials *out, ec2ha_error *err)
{
    ec2ha_imds_role_credentials c;
    char *code = NULL;
    ec2ha_rc rc;

    memset(&c, 0, sizeof(c));
    rc = ec2ha_json_validate_object(json, len, err);
    if (rc != EC2HA_OK) {
        goto fail;
    }
    rc = ec2ha_json_get_string(json, len, "Code", &code, err);
    if (rc != EC2HA_OK) {
        goto fail;
    }
    if (strcmp(code, "Success") != 0) {
        rc = ec2ha_error_set(err, EC2HA_ERR_AWS,
                             "IMDS role credentials have Code \"%.64s\", not Success", code);
        ec2ha_error_set_aws(err, 0, code, NULL);
        goto done;
    }
    rc = ec2ha_json_get_string(json, len, "AccessKeyId", &c.access_key_id, err);
    if (rc == EC2HA_OK) {
        rc = ec2ha_json_get_string(json, len, "SecretAccessKey", &c.secret_access_key, err);
    }
    if (rc == EC2HA_OK) {
        rc = ec2ha_json_get_string(json, len, "Token", &c.token, err);
    }
    if (rc == EC2HA_OK) {
        rc = ec2ha_json_get_string(json, len, "Expiration", &c.expiration, err);
    }
    if (rc != EC2HA_OK) {
        goto fail;
    }
    if (c.access_key_id[0] == '\0' || c.secret_access_key[0] == '\0' || c.token[0] == '\0') {
        rc = ec2ha_error_set(err, EC2HA_ERR_PARSE,
                             "IMDS role credentials have an empty AccessKeyId, SecretAccessKey "
                             "or Token");
        goto done;
    }
    ec2ha_log_add_secret(c.secret_access_key);
    ec2ha_log_add_secret(c.token);
    *out = c;
    memset(&c, 0, sizeof(c));
    rc = EC2HA_OK;
    goto done;
fail:
    if (rc == EC2HA_ERR_NOT_FOUND) {
        rc = EC2HA_ERR_PARSE;
        if (err != NULL) {
            err->rc = rc;
        }
    }
    ec2ha_error_prefix(err, "IMDS role credentials");
done:
    free(code);
    ec2ha_imds_role_credentials_free(&c);
    return rc;
}

ec2ha_rc ec2ha_imds_get_role_credentials(ec2ha_imds *m, ec2ha_deadline deadline,
                                         ec2ha_imds_role_credentials *out, ec2ha_error *err)
{
    ec2ha_imds_role_credentials c;
    char *list = NULL;
    char *doc = NULL;
    char *role = NULL;
    char *path = NULL;
    char *save = NULL;
    time_t exp;
    ec2ha_rc rc;

    memset(&c, 0, sizeof(c));
    rc = ec2ha_imds_get(m, "iam/security-credentials/", deadline, &list, err);
    if (rc == EC2HA_ERR_NOT_FOUND) {
        rc = ec2ha_error_set(err, EC2HA_ERR_NOT_FOUND,
                             "no IAM role (instance profile) is attached to this instance");
        goto done;
    }
    if (rc != EC2HA_OK) {
        goto done;
    }
    for (char *line = strtok_r(list, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        trim_inplace(line);
        if (line[0] != '\0') {
            role = line;
            break;
        }
    }
    if (role == NULL || !path_ok(role) || strchr(role, '/') != NULL) {
        rc = ec2ha_error_set(err, role == NULL ? EC2HA_ERR_NOT_FOUND : EC2HA_ERR_PARSE,
                             role == NULL ?
                             "no IAM role (instance profile) is attached to this instance" :
                             "IMDS listed a malformed IAM role name");
        goto done;
    }
    if (asprintf(&path, "iam/security-credentials/%s", role) < 0) {
        path = NULL;
        rc = ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory");
        goto done;
    }
    rc = ec2ha_imds_get(m, path, deadline, &doc, err);
    if (rc != EC2HA_OK) {
        goto done;
    }
    rc = ec2ha_imds_parse_role_credentials(doc, strlen(doc), &c, err);
    if (rc != EC2HA_OK) {
        ec2ha_error_prefix(err, "role %s", role);
        goto done;
    }
    if (ec2ha_parse_iso8601(c.expiration, &exp) && exp <= time(NULL)) {
        rc = ec2ha_error_set(err, EC2HA_ERR_STATE,
                             "IMDS handed out credentials for role %s that expired at %s", role,
                             c.expiration);
        goto done;
    }
    c.role_name = strdup(role);
    if (c.role_name == NULL) {
        rc = ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory");
        goto done;
    }
    *out = c;
    memset(&c, 0, sizeof(c));
    rc = EC2HA_OK;
done:
    ec2ha_imds_role_credentials_free(&c);
    if (doc != NULL) {
        ec2ha_free_secret(doc);
    }
    free(path);
    free(list);
    return rc;
}
