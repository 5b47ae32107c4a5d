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

#endif
