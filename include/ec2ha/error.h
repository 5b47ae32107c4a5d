/*
 * ec2ha/error.h - the one return-code convention of libec2ha.
 *
 * Every function that can fail returns an ec2ha_rc (EC2HA_OK == 0) and, when
 * the caller passes a non-NULL ec2ha_error, fills it with a message a human can
 * act on plus the AWS detail (HTTP status, error Code, RequestID).  The struct
 * is owned by the caller and holds no heap memory, so it never needs freeing.
 * Mapping to fence-agent or OCF exit codes happens only in the programs' main().
 */
#ifndef EC2HA_ERROR_H
#define EC2HA_ERROR_H

#include <stdarg.h>

typedef enum ec2ha_rc {
    EC2HA_OK = 0,
    EC2HA_ERR_NOMEM,          /* allocation failed */
    EC2HA_ERR_INVALID,        /* bad argument, option or configuration */
    EC2HA_ERR_IO,             /* file or process I/O */
    EC2HA_ERR_TRANSPORT,      /* connection failed, reset, truncated transfer */
    EC2HA_ERR_TLS,            /* certificate or TLS handshake problem */
    EC2HA_ERR_TIMEOUT,        /* the deadline passed */
    EC2HA_ERR_HTTP,           /* HTTP error status without an AWS error body */
    EC2HA_ERR_AWS,            /* AWS answered with an error Code (see .code) */
    EC2HA_ERR_PARSE,          /* response or file could not be parsed */
    EC2HA_ERR_TOO_LARGE,      /* response larger than the cap */
    EC2HA_ERR_NOT_FOUND,      /* the thing asked for does not exist */
    EC2HA_ERR_AMBIGUOUS,      /* more than one candidate where one was needed */
    EC2HA_ERR_NO_CREDENTIALS, /* the credential chain found nothing */
    EC2HA_ERR_CIB,            /* the cluster information base could not be used */
    EC2HA_ERR_STATE,          /* a state that makes the action unsafe or unknown */
    EC2HA_ERR_REFUSED,        /* a safety rule refused the action */
    EC2HA_ERR_UNAVAILABLE,    /* a source is switched off (e.g. IMDS disabled) */
    EC2HA_RC_COUNT
} ec2ha_rc;

#define EC2HA_ERROR_MESSAGE_MAX 1024
#define EC2HA_ERROR_FIELD_MAX 128

typedef struct ec2ha_error {
    ec2ha_rc rc;
    long http_status;                     /* 0 when no HTTP response */
    char code[EC2HA_ERROR_FIELD_MAX];       /* AWS error Code, "" when none */
    char request_id[EC2HA_ERROR_FIELD_MAX]; /* AWS RequestID, "" when none */
    char message[EC2HA_ERROR_MESSAGE_MAX];  /* human-readable, never a secret */
} ec2ha_error;

/* Short fixed description of a return code ("timed out", ...). Never NULL. */
const char *ec2ha_rc_str(ec2ha_rc rc);

/* Reset to EC2HA_OK with empty fields. Accepts NULL. */
void ec2ha_error_clear(ec2ha_error *err);

/*
 * Set rc and a formatted message; keeps http_status/code/request_id as they
 * are.  Accepts err == NULL (then only returns rc).  Returns rc so callers can
 * write `return ec2ha_error_set(err, EC2HA_ERR_INVALID, "...")`.
 */
ec2ha_rc ec2ha_error_set(ec2ha_error *err, ec2ha_rc rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
ec2ha_rc ec2ha_error_vset(ec2ha_error *err, ec2ha_rc rc, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* Prefix the existing message with context: "what: <old message>". */
void ec2ha_error_prefix(ec2ha_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Copy AWS detail fields (truncating safely). Any argument may be NULL. */
void ec2ha_error_set_aws(ec2ha_error *err, long http_status, const char *code,
                         const char *request_id);

#endif
