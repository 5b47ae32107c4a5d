/*
 * ec2ha/log.h - logging to stderr, syslog and HA_LOGFILE.
 *
 * Agents log; the CLI prints.  The logger is process-wide (like openlog(3)):
 * ec2ha_log_init() once in main(), ec2ha_log_close() before exit.
 *
 * Redaction: every line passes through ec2ha_log_redact() before it is
 * written anywhere.  It masks the value after "Authorization", "X-Amz-Security-Token",
 * "X-aws-ec2-metadata-token", "SecretAccessKey", "Token", "secret_key",
 * "aws_secret_access_key", "aws_session_token", "Signature=" and every string
 * registered with ec2ha_log_add_secret().  lib/ code registers each secret key,
 * session token and IMDS token as soon as it holds one.
 *
 * Lines: stderr "<ident>: <LEVEL>: msg"; syslog "<LEVEL>: msg" (ident, LOG_PID);
 * file "<ISO-8601 time> <host> <ident>[<pid>]: <LEVEL>: msg".  A multi-line
 * message becomes one line per line.  HA_LOGFACILITY=none switches syslog off.
 * ec2ha_log() keeps errno.  Not thread-safe (the agents are single-threaded).
 */
#ifndef EC2HA_LOG_H
#define EC2HA_LOG_H

#include <stdbool.h>
#include <stddef.h>

typedef enum ec2ha_log_level {
    EC2HA_LOG_ERR = 3,
    EC2HA_LOG_WARNING = 4,
    EC2HA_LOG_NOTICE = 5,
    EC2HA_LOG_INFO = 6,
    EC2HA_LOG_DEBUG = 7,
    EC2HA_LOG_TRACE = 8   /* wire-level detail (bodies), still redacted */
} ec2ha_log_level;

enum {
    EC2HA_LOG_TO_STDERR = 1u << 0,
    EC2HA_LOG_TO_SYSLOG = 1u << 1,
    EC2HA_LOG_TO_FILE = 1u << 2     /* HA_LOGFILE, or the file given */
};

/*
 * ident: program name for syslog and line prefixes.  level: the most verbose
 * level written.  sinks: EC2HA_LOG_TO_* bits.  logfile: NULL to use
 * $HA_LOGFILE when EC2HA_LOG_TO_FILE is set.  A log file is created 0600.
 * Syslog facility from $HA_LOGFACILITY (default daemon).
 */
void ec2ha_log_init(const char *ident, ec2ha_log_level level, unsigned sinks,
                    const char *logfile);
void ec2ha_log_set_level(ec2ha_log_level level);
ec2ha_log_level ec2ha_log_get_level(void);
bool ec2ha_log_enabled(ec2ha_log_level level);
void ec2ha_log_close(void);

void ec2ha_log(ec2ha_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Values shorter than this are not registered (see ec2ha_log_add_secret). */
#define EC2HA_LOG_MIN_SECRET_LEN 8

/*
 * Register a secret value to mask wherever it appears, also in its
 * percent-encoded form (copied, wiped at ec2ha_log_close()).  Values shorter
 * than EC2HA_LOG_MIN_SECRET_LEN are ignored: masked as bare substrings they
 * would garble every line; the key-based patterns still mask them.
 */
void ec2ha_log_add_secret(const char *secret);

/*
 * Redact in place: masked values become "****".  The line never grows.
 * Exposed for the redaction unit test and the fuzzers.
 */
void ec2ha_log_redact(char *line);

#define ec2ha_err(...)     ec2ha_log(EC2HA_LOG_ERR, __VA_ARGS__)
#define ec2ha_warn(...)    ec2ha_log(EC2HA_LOG_WARNING, __VA_ARGS__)
#define ec2ha_notice(...)  ec2ha_log(EC2HA_LOG_NOTICE, __VA_ARGS__)
#define ec2ha_info(...)    ec2ha_log(EC2HA_LOG_INFO, __VA_ARGS__)
#define ec2ha_debug(...)   ec2ha_log(EC2HA_LOG_DEBUG, __VA_ARGS__)
#define ec2ha_trace(...)   ec2ha_log(EC2HA_LOG_TRACE, __VA_ARGS__)

#endif
