/*
 * ec2ha/retry.h - deadlines and deadline-bounded full-jitter backoff.
 *
 * Deadlines are absolute CLOCK_MONOTONIC milliseconds.  Backoff follows the AWS
 * "full jitter" scheme: delay = random(0, min(cap, base * 2^attempt)), base
 * 100 ms (500 ms when throttled), cap 20 s, and never past the deadline.
 * Classification looks at the AWS error Code first, the HTTP status second,
 * the transport error last.  No heap memory anywhere in this module.
 */
#ifndef EC2HA_RETRY_H
#define EC2HA_RETRY_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "ec2ha/error.h"

typedef struct ec2ha_deadline {
    int64_t at_ms;      /* CLOCK_MONOTONIC, milliseconds */
} ec2ha_deadline;

int64_t ec2ha_monotonic_ms(void);
ec2ha_deadline ec2ha_deadline_in_ms(int64_t ms);
/* Milliseconds left (0 when passed, never negative). */
int64_t ec2ha_deadline_remaining_ms(ec2ha_deadline d);
bool ec2ha_deadline_passed(ec2ha_deadline d);
/* Sleep min(ms, remaining); returns false when the deadline passed. */
bool ec2ha_deadline_sleep_ms(ec2ha_deadline d, int64_t ms);

#define EC2HA_BACKOFF_BASE_MS 100
#define EC2HA_BACKOFF_THROTTLED_BASE_MS 500
#define EC2HA_BACKOFF_CAP_MS 20000

typedef enum ec2ha_retry_class {
    EC2HA_RETRY_NEVER = 0,     /* auth, parameters, not found, safety refusals */
    EC2HA_RETRY_TRANSIENT,     /* 5xx, InternalError, Unavailable, transport */
    EC2HA_RETRY_THROTTLED,     /* RequestLimitExceeded, Throttling, ... */
    EC2HA_RETRY_RESIGN         /* RequestExpired: re-sign with a fresh clock, once */
} ec2ha_retry_class;

/*
 * Code first (exact match), then an HTTP status >= 400 (500/502/503/504
 * transient, 429 throttled, others never), then rc: TRANSPORT and TIMEOUT
 * (one request) transient, PARSE transient only with an HTTP status (a
 * truncated response body), everything else never.  NULL -> NEVER.
 */
ec2ha_retry_class ec2ha_retry_classify(const ec2ha_error *err);
const char *ec2ha_retry_class_str(ec2ha_retry_class c);

typedef struct ec2ha_backoff {
    unsigned attempt;       /* retries done so far */
    uint64_t rng;           /* xorshift state, never 0 */
} ec2ha_backoff;

/* seed 0 picks one from the clock and pid. */
void ec2ha_backoff_init(ec2ha_backoff *b, uint64_t seed);

/*
 * Delay before the next attempt in ms, in [0, min(cap, base*2^attempt)] and
 * clamped to remaining_ms - min_attempt_ms, so the delay plus the least time
 * an attempt needs (min_attempt_ms) never runs past the deadline.  Returns -1
 * when no retry should be made: class NEVER, remaining_ms <= 0, or
 * min_attempt_ms alone does not fit in remaining_ms.  Increments attempt when
 * it returns a delay.  The caller enforces "RESIGN only once".
 */
int64_t ec2ha_backoff_next_ms(ec2ha_backoff *b, ec2ha_retry_class c,
                              int64_t remaining_ms, int64_t min_attempt_ms);

/*
 * Per-attempt time cap.  One request that hangs (a dead connection, a lost
 * answer) must not eat the whole deadline: each attempt gets
 * clamp(remaining / 2, EC2HA_ATTEMPT_FLOOR_MS, EC2HA_ATTEMPT_CEIL_MS), never
 * more than remaining_ms, so at least half of a long budget is left for a
 * retry on a new connection.
 *   floor 5 s: an EC2 Query API answer normally takes well under a second;
 *     5 s is also ec2ha's (and Pacemaker fence agents' usual) connect timeout;
 *   ceiling 60 s: botocore's default read_timeout, so ec2ha waits no longer
 *     for a silent endpoint than fence_aws / awseip (boto3, AWS CLI) would.
 * Returns 0 when remaining_ms <= 0.
 */
#define EC2HA_ATTEMPT_FLOOR_MS 5000
#define EC2HA_ATTEMPT_CEIL_MS 60000
int64_t ec2ha_attempt_budget_ms(int64_t remaining_ms);
/* The deadline for one attempt: now + ec2ha_attempt_budget_ms(remaining), never past d. */
ec2ha_deadline ec2ha_attempt_deadline(ec2ha_deadline d);

/*
 * Clock skew, corrected as the AWS SDKs do (Java SDK's ClockSkewAdjuster, JS
 * v3's systemClockOffset): when EC2 refuses a request for its time and the
 * answer's Date header is more than EC2HA_CLOCK_SKEW_THRESHOLD_S away from the
 * time we signed with, sign again with local time + (Date - local time).
 * Unlike the SDKs we refuse a Date more than EC2HA_CLOCK_SKEW_MAX_S off: a
 * clock that wrong breaks more than signatures (credential expiry, IMDS token
 * lifetimes), and a bounded offset bounds how far into the future an endpoint
 * could get us to sign a request.
 */
#define EC2HA_CLOCK_SKEW_THRESHOLD_S 240        /* 4 min, as the Java SDK; EC2 allows 5 */
#define EC2HA_CLOCK_SKEW_MAX_S 86400            /* one day */

/* Error codes the SDKs treat as "your clock may be wrong" (exact match). */
bool ec2ha_retry_is_clock_skew_code(const char *code);

/*
 * Strict RFC 7231 IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT", what EC2 and
 * every HTTP/1.1 server send): exact field widths, English names, GMT, ranges
 * checked, no locale.  The obsolete RFC 850 and asctime forms are refused.
 */
bool ec2ha_retry_parse_http_date(const char *s, time_t *out);

typedef enum ec2ha_skew_verdict {
    EC2HA_SKEW_NONE = 0,    /* Date within the threshold of our signing time */
    EC2HA_SKEW_CORRECT,     /* *offset_out is the offset to sign with from now on */
    EC2HA_SKEW_NO_DATE,     /* no Date header, or not a valid IMF-fixdate */
    EC2HA_SKEW_ABSURD       /* Date more than EC2HA_CLOCK_SKEW_MAX_S from the local clock */
} ec2ha_skew_verdict;

/*
 * Compare the server's Date header with local_now + current_offset_s (the time
 * the request was signed with).  *offset_out (server - local_now) is set for
 * CORRECT and ABSURD, untouched otherwise.
 */
ec2ha_skew_verdict ec2ha_clock_skew_check(const char *date, time_t local_now,
                                          int64_t current_offset_s, int64_t *offset_out);

#endif
