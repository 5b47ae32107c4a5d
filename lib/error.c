/* error.c - the return-code strings and the caller-owned error struct. */
#include <stdio.h>
#include <string.h>

#include "ec2ha/error.h"

static const char *const rc_strings[EC2HA_RC_COUNT] = {
    [EC2HA_OK] = "success",
    [EC2HA_ERR_NOMEM] = "out of memory",
    [EC2HA_ERR_INVALID] = "invalid argument or configuration",
    [EC2HA_ERR_IO] = "input/output error",
    [EC2HA_ERR_TRANSPORT] = "connection failed",
    [EC2HA_ERR_TLS] = "TLS verification failed",
    [EC2HA_ERR_TIMEOUT] = "timed out",
    [EC2HA_ERR_HTTP] = "HTTP error",
    [EC2HA_ERR_AWS] = "AWS API error",
    [EC2HA_ERR_PARSE] = "malformed response or file",
    [EC2HA_ERR_TOO_LARGE] = "response too large",
    [EC2HA_ERR_NOT_FOUND] = "not found",
    [EC2HA_ERR_AMBIGUOUS] = "ambiguous",
    [EC2HA_ERR_NO_CREDENTIALS] = "no AWS credentials found",
    [EC2HA_ERR_CIB] = "cluster information base unavailable",
    [EC2HA_ERR_STATE] = "unexpected or unknown state",
    [EC2HA_ERR_REFUSED] = "refused for safety",
    [EC2HA_ERR_UNAVAILABLE] = "source disabled or unavailable",
};

const char *ec2ha_rc_str(ec2ha_rc rc)
{
    if ((int)rc < 0 || rc >= EC2HA_RC_COUNT || rc_strings[rc] == NULL) {
        return "unknown error";
    }
    return rc_strings[rc];
}

void ec2ha_error_clear(ec2ha_error *err)
{
    if (err != NULL) {
        memset(err, 0, sizeof(*err));
    }
}

ec2ha_rc ec2ha_error_vset(ec2ha_error *err, ec2ha_rc rc, const char *fmt, va_list ap)
{
    if (err != NULL) {
        err->rc = rc;
        vsnprintf(err->message, sizeof(err->message), fmt, ap);
    }
    return rc;
}

ec2ha_rc ec2ha_error_set(ec2ha_error *err, ec2ha_rc rc, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    ec2ha_error_vset(err, rc, fmt, ap);
    va_end(ap);
    return rc;
}

void ec2ha_error_prefix(ec2ha_error *err, const char *fmt, ...)
{
    char old[EC2HA_ERROR_MESSAGE_MAX];
    va_list ap;
    int n;

    if (err == NULL) {
        return;
    }
    memcpy(old, err->message, sizeof(old));
    va_start(ap, fmt);
    n = vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < sizeof(err->message)) {
        size_t used = (size_t)n;
        size_t room = sizeof(err->message) - used;
        size_t old_len = strnlen(old, sizeof(old) - 1);

        if (room > 2) {
            memcpy(err->message + used, ": ", 2);
            used += 2;
            room -= 2;
            if (old_len >= room) {
                old_len = room - 1;
            }
            memcpy(err->message + used, old, old_len);
            err->message[used + old_len] = '\0';
        }
    }
}

static void copy_field(char *dst, size_t size, const char *src)
{
    if (src != NULL) {
        snprintf(dst, size, "%s", src);
    }
}

void ec2ha_error_set_aws(ec2ha_error *err, long http_status, const char *code,
                         const char *request_id)
{
    if (err == NULL) {
        return;
    }
    err->http_status = http_status;
    copy_field(err->code, sizeof(err->code), code);
    copy_field(err->request_id, sizeof(err->request_id), request_id);
}
