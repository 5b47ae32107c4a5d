/* creds_private.h - what creds.c, creds_process.c and imds.c share inside libec2ha. */
#ifndef EC2HA_CREDS_PRIVATE_H
#define EC2HA_CREDS_PRIVATE_H

#include <stdbool.h>
#include <time.h>

#include "ec2ha/buf.h"
#include "ec2ha/error.h"
#include "ec2ha/retry.h"

#define EC2HA_CREDS_PROCESS_MAX_OUTPUT ((size_t)64 * 1024)
#define EC2HA_CREDS_PROCESS_MAX_STDERR ((size_t)8 * 1024)

/*
 * Run cmd with /bin/sh -c, stdin from /dev/null, stdout captured into out
 * (a secret buffer, capped at EC2HA_CREDS_PROCESS_MAX_OUTPUT), stderr into
 * err_out (silently truncated at its cap) for the caller to log with
 * ec2ha_creds_log_process_stderr() after the output's secrets are registered
 * for redaction.  Past the deadline the child's process group is killed
 * (SIGKILL) and reaped: EC2HA_ERR_TIMEOUT.  A non-zero exit status or a
 * signal is EC2HA_ERR_IO naming the status.
 */
ec2ha_rc ec2ha_creds_run_process(const char *cmd, ec2ha_deadline deadline, ec2ha_buf *out,
                                 ec2ha_buf *err_out, ec2ha_error *err);
/* Each stderr line at debug level. */
void ec2ha_creds_log_process_stderr(const ec2ha_buf *err_out);

/*
 * ISO 8601 / RFC 3339 timestamp as AWS writes it ("2024-05-01T12:00:00Z",
 * fractional seconds and a numeric offset accepted) to seconds since the epoch.
 */
bool ec2ha_parse_iso8601(const char *s, time_t *out);

#endif
