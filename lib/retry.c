/*
 * retry.c - monotonic deadlines, retry classification, full-jitter backoff.
 *
 * Classification order: the AWS error Code (what the service says), then an
 * HTTP error status (>= 400) without a Code, then the library return code.
 * Backoff: delay = uniform[0, min(cap, base * 2^attempt)] (AWS "full jitter"),
 * clamped so that delay + min_attempt_ms never runs past the deadline.
 * Attempts: each gets at most half of what is left (5 s .. 60 s), so a hung
 * request leaves time for a retry.  Clock skew: a strict HTTP Date parser and
 * the SDKs' offset rule (see retry.h).
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

/* ---- per-attempt cap ------------------------------------------------------------- */

int64_t ec2ha_attempt_budget_ms(int64_t remaining_ms)
{
    int64_t cap;

    if (remaining_ms <= 0) {
        return 0;
    }
    cap = remaining_ms / 2;
    if (cap < EC2HA_ATTEMPT_FLOOR_MS) {
        cap = EC2HA_ATTEMPT_FLOOR_MS;
    }
    if (cap > EC2HA_ATTEMPT_CEIL_MS) {
        cap = EC2HA_ATTEMPT_CEIL_MS;
    }
    return cap < remaining_ms ? cap : remaining_ms;
}

ec2ha_deadline ec2ha_attempt_deadline(ec2ha_deadline d)
{
    ec2ha_deadline a = ec2ha_deadline_in_ms(
        ec2ha_attempt_budget_ms(ec2ha_deadline_remaining_ms(d)));

    return a.at_ms < d.at_ms ? a : d;
}

/* ---- clock skew ------------------------------------------------------------------- */

/*
 * The codes the Java SDK (AwsErrorCode.CLOCK_SKEW_ERROR_CODES) and JS SDK treat
 * as clock trouble.  EC2's Query API says RequestExpired; the others come from
 * other AWS front ends.  Several also mean something else (a wrong key, an
 * expired session token), which is why a correction also needs a Date header
 * that is really far off.
 */
static const char *const skew_codes[] = {
    "RequestExpired", "RequestTimeTooSkewed", "RequestInTheFuture",
    "InvalidSignatureException", "SignatureDoesNotMatch", "AuthFailure",
};

bool ec2ha_retry_is_clock_skew_code(const char *code)
{
    return code != NULL && in_list(code, skew_codes, sizeof(skew_codes) / sizeof(skew_codes[0]));
}

/* n decimal digits at s, exactly. */
static bool digits(const char *s, int n, int *out)
{
    int v = 0;
    int i;

    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

static int name_index(const char *s, const char *const *names, int n)
{
    int i;

    for (i = 0; i < n; i++) {
        if (strncmp(s, names[i], 3) == 0) {
            return i;
        }
    }
    return -1;
}

bool ec2ha_retry_parse_http_date(const char *s, time_t *out)
{
    static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
    static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    /* "Sun, 06 Nov 1994 08:49:37 GMT" */
    enum { LEN = 29 };
    struct tm tm;
    int mday, mon, year, hour, min, sec;
    bool leap;
    time_t t;

    if (s == NULL || out == NULL || strlen(s) != LEN) {
        return false;
    }
    if (name_index(s, days, 7) < 0 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' ||
        s[11] != ' ' || s[16] != ' ' || s[19] != ':' || s[22] != ':' ||
        strcmp(s + 25, " GMT") != 0) {
        return false;
    }
    mon = name_index(s + 8, months, 12);
    if (mon < 0 || !digits(s + 5, 2, &mday) || !digits(s + 12, 4, &year) ||
        !digits(s + 17, 2, &hour) || !digits(s + 20, 2, &min) || !digits(s + 23, 2, &sec)) {
        return false;
    }
    leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (year < 1970 || mday < 1 || mday > mdays[mon] || (mon == 1 && mday == 29 && !leap) ||
        hour > 23 || min > 59 || sec > 60) {
        return false;
    }
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = year - 1900;
    tm.tm_mon = mon;
    tm.tm_mday = mday;
    tm.tm_hour = hour;
    tm.tm_min = min;
    tm.tm_sec = sec;      /* a leap second 60 becomes the next minute's 00 */
    t = timegm(&tm);
    if (t == (time_t)-1) {
        return false;
    }
    *out = t;
    return true;
}

ec2ha_skew_verdict ec2ha_clock_skew_check(const char *date, time_t local_now,
                                          int64_t current_offset_s, int64_t *offset_out)
{
    time_t server;
    int64_t offset;
    int64_t off_signed;

    if (!ec2ha_retry_parse_http_date(date, &server)) {
        return EC2HA_SKEW_NO_DATE;
    }
    offset = (int64_t)server - (int64_t)local_now;
    off_signed = offset - current_offset_s;     /* server - (the time we signed with) */
    if (off_signed <= EC2HA_CLOCK_SKEW_THRESHOLD_S &&
        off_signed >= -EC2HA_CLOCK_SKEW_THRESHOLD_S) {
        return EC2HA_SKEW_NONE;
    }
    if (offset_out != NULL) {
        *offset_out = offset;
    }
    if (offset > EC2HA_CLOCK_SKEW_MAX_S || offset < -EC2HA_CLOCK_SKEW_MAX_S) {
        return EC2HA_SKEW_ABSURD;
    }
    return EC2HA_SKEW_CORRECT;
}
