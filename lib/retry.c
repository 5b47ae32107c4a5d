/*
 * retry.c - monotonic deadlines, retry classification, full-jitter backoff.
 *
 * Classification order: the AWS error Code (what the service says), then an
 * HTTP error status (>= 400) without a Code, then the library return code.
 * Backoff: delay = uniform[0, min(cap, base * 2^attempt)] (AWS "full jitter"),
 * clamped so that delay + min_attempt_ms never runs past the deadline.
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ec2ha/retry.h"

/* ---- deadlines ------------------------------------------------------------- */

#define MS_MAX_DEADLINE (INT64_MAX / 4)   /* far enough; keeps sums overflow-free */

int64_t ec2ha_monotonic_ms(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        return 0;   /* cannot happen on Linux; a frozen clock ends loops via attempts */
    }
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

ec2ha_deadline ec2ha_deadline_in_ms(int64_t ms)
{
    ec2ha_deadline d;

    if (ms < 0) {
        ms = 0;
    }
    if (ms > MS_MAX_DEADLINE) {
        ms = MS_MAX_DEADLINE;
    }
    d.at_ms = ec2ha_monotonic_ms() + ms;
    return d;
}

int64_t ec2ha_deadline_remaining_ms(ec2ha_deadline d)
{
    int64_t left = d.at_ms - ec2ha_monotonic_ms();

    return left > 0 ? left : 0;
}

bool ec2ha_deadline_passed(ec2ha_deadline d)
{
    return ec2ha_deadline_remaining_ms(d) == 0;
}

bool ec2ha_deadline_sleep_ms(ec2ha_deadline d, int64_t ms)
{
    int64_t left = ec2ha_deadline_remaining_ms(d);
    struct timespec req;

    if (left == 0) {
        return false;
    }
    if (ms > left) {
        ms = left;
    }
    if (ms > 0) {
        req.tv_sec = (time_t)(ms / 1000);
        req.tv_nsec = (long)(ms % 1000) * 1000000L;
        while (nanosleep(&req, &req) != 0 && errno == EINTR) {
        }
    }
    return !ec2ha_deadline_passed(d);
}

/* ---- classification ---------------------------------------------------------- */

static const char *const throttled_codes[] = {
    "RequestLimitExceeded", "Throttling", "ThrottlingException", "EC2ThrottledException",
    "RequestThrottled", "RequestThrottledException", "SlowDown", "TooManyRequestsException",
    "PriorRequestNotComplete",
};

/* Server-side transient failures only; capacity and limit errors are not retried here. */
static const char *const transient_codes[] = {
    "InternalError", "InternalFailure", "ServiceUnavailable", "Unavailable",
    "ServiceUnavailableException", "RequestTimeout", "RequestTimeoutException",
};

static bool in_list(const char *code, const char *const *list, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (strcmp(code, list[i]) == 0) {
            return true;
        }
    }
    return false;
}

ec2ha_retry_class ec2ha_retry_classify(const ec2ha_error *err)
{
    if (err == NULL) {
        return EC2HA_RETRY_NEVER;
    }
    if (err->code[0] != '\0') {
        if (in_list(err->code, throttled_codes,
                    sizeof(throttled_codes) / sizeof(throttled_codes[0]))) {
            return EC2HA_RETRY_THROTTLED;
        }
        if (in_list(err->code, transient_codes,
                    sizeof(transient_codes) / sizeof(transient_codes[0]))) {
            return EC2HA_RETRY_TRANSIENT;
        }
        if (strcmp(err->code, "RequestExpired") == 0) {
            return EC2HA_RETRY_RESIGN;
        }
        return EC2HA_RETRY_NEVER;
    }
    if (err->http_status >= 400) {
        switch (err->http_status) {
        case 500:
        case 502:
        case 503:
        case 504:
            return EC2HA_RETRY_TRANSIENT;
        case 429:
            return EC2HA_RETRY_THROTTLED;
        default:
            return EC2HA_RETRY_NEVER;
        }
    }
    switch (err->rc) {
    case EC2HA_ERR_TRANSPORT:   /* connect failure, reset, truncated transfer */
    case EC2HA_ERR_TIMEOUT:     /* one request timed out; the deadline is checked by backoff */
        return EC2HA_RETRY_TRANSIENT;
    case EC2HA_ERR_PARSE:
        /* A response body that does not parse (truncated): only with an HTTP answer. */
        return err->http_status > 0 ? EC2HA_RETRY_TRANSIENT : EC2HA_RETRY_NEVER;
    default:
        return EC2HA_RETRY_NEVER;
    }
}

const char *ec2ha_retry_class_str(ec2ha_retry_class c)
{
    switch (c) {
    case EC2HA_RETRY_NEVER:
        return "not retryable";
    case EC2HA_RETRY_TRANSIENT:
        return "transient";
    case EC2HA_RETRY_THROTTLED:
        return "throttled";
    case EC2HA_RETRY_RESIGN:
        return "re-sign";
    }
    return "unknown";
}

/* ---- backoff ------------------------------------------------------------------- */

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

static uint64_t xorshift64(uint64_t *s)
{
    uint64_t x = *s;

    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *s = x;
    return x;
}

void ec2ha_backoff_init(ec2ha_backoff *b, uint64_t seed)
{
    struct timespec ts;

    if (seed == 0) {
        clock_gettime(CLOCK_REALTIME, &ts);
        seed = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^
               ((uint64_t)getpid() << 40) ^ (uint64_t)ec2ha_monotonic_ms();
    }
    b->attempt = 0;
    b->rng = splitmix64(seed);
    if (b->rng == 0) {
        b->rng = 0x2545F4914F6CDD1Dull;
    }
}

int64_t ec2ha_backoff_next_ms(ec2ha_backoff *b, ec2ha_retry_class c, int64_t remaining_ms,
                              int64_t min_attempt_ms)
{
    int64_t base = c == EC2HA_RETRY_THROTTLED ? EC2HA_BACKOFF_THROTTLED_BASE_MS
                                              : EC2HA_BACKOFF_BASE_MS;
    int64_t ceiling = base;
    int64_t budget;
    int64_t delay;
    unsigned i;

    if (c == EC2HA_RETRY_NEVER || remaining_ms <= 0) {
        return -1;
    }
    if (min_attempt_ms < 0) {
        min_attempt_ms = 0;
    }
    budget = remaining_ms - min_attempt_ms;
    if (budget < 0) {
        return -1;
    }
    for (i = 0; i < b->attempt && ceiling < EC2HA_BACKOFF_CAP_MS; i++) {
        ceiling *= 2;
    }
    if (ceiling > EC2HA_BACKOFF_CAP_MS) {
        ceiling = EC2HA_BACKOFF_CAP_MS;
    }
    if (b->rng == 0) {
        b->rng = 0x2545F4914F6CDD1Dull;   /* never stuck at zero, even uninitialised */
    }
    delay = (int64_t)(xorshift64(&b->rng) % (uint64_t)(ceiling + 1));
    if (delay > budget) {
        delay = budget;
    }
    if (b->attempt < 64) {
        b->attempt++;
    }
    return delay;
}
