/* test_retry.c - classification table, backoff bounds and jitter, deadlines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ec2ha/retry.h"

typedef struct class_row {
    ec2ha_rc rc;
    long status;
    const char *code;
    ec2ha_retry_class expect;
} class_row;

static const class_row rows[] = {
    /* Code first, whatever the status says. */
    { EC2HA_ERR_AWS, 503, "RequestLimitExceeded", EC2HA_RETRY_THROTTLED },
    { EC2HA_ERR_AWS, 400, "Throttling", EC2HA_RETRY_THROTTLED },
    { EC2HA_ERR_AWS, 400, "ThrottlingException", EC2HA_RETRY_THROTTLED },
    { EC2HA_ERR_AWS, 400, "EC2ThrottledException", EC2HA_RETRY_THROTTLED },
    { EC2HA_ERR_AWS, 400, "RequestThrottled", EC2HA_RETRY_THROTTLED },
    { EC2HA_ERR_AWS, 503, "SlowDown", EC2HA_RETRY_THROTTLED },
    { EC2HA_ERR_AWS, 429, "TooManyRequestsException", EC2HA_RETRY_THROTTLED },
    { EC2HA_ERR_AWS, 400, "PriorRequestNotComplete", EC2HA_RETRY_THROTTLED },
    { EC2HA_ERR_AWS, 500, "InternalError", EC2HA_RETRY_TRANSIENT },
    { EC2HA_ERR_AWS, 500, "InternalFailure", EC2HA_RETRY_TRANSIENT },
    { EC2HA_ERR_AWS, 503, "ServiceUnavailable", EC2HA_RETRY_TRANSIENT },
    { EC2HA_ERR_AWS, 503, "Unavailable", EC2HA_RETRY_TRANSIENT },
    { EC2HA_ERR_AWS, 400, "RequestExpired", EC2HA_RETRY_RESIGN },
    { EC2HA_ERR_AWS, 500, "InsufficientInstanceCapacity", EC2HA_RETRY_NEVER },
    { EC2HA_ERR_AWS, 503, "UnauthorizedOperation", EC2HA_RETRY_NEVER },  /* code beats 503 */
    { EC2HA_ERR_AWS, 401, "AuthFailure", EC2HA_RETRY_NEVER },
    { EC2HA_ERR_AWS, 403, "SignatureDoesNotMatch", EC2HA_RETRY_NEVER },
    { EC2HA_ERR_AWS, 400, "InvalidInstanceID.NotFound", EC2HA_RETRY_NEVER },
    { EC2HA_ERR_AWS, 400, "IncorrectInstanceState", EC2HA_RETRY_NEVER },
    { EC2HA_ERR_AWS, 400, "DryRunOperation", EC2HA_RETRY_NEVER },
    { EC2HA_ERR_AWS, 400, "throttling", EC2HA_RETRY_NEVER },    /* codes are exact */
    /* Then the HTTP status. */
    { EC2HA_ERR_HTTP, 500, "", EC2HA_RETRY_TRANSIENT },
    { EC2HA_ERR_HTTP, 502, "", EC2HA_RETRY_TRANSIENT },
    { EC2HA_ERR_HTTP, 503, "", EC2HA_RETRY_TRANSIENT },
    { EC2HA_ERR_HTTP, 504, "", EC2HA_RETRY_TRANSIENT },
    { EC2HA_ERR_HTTP, 429, "", EC2HA_RETRY_THROTTLED },
    { EC2HA_ERR_HTTP, 400, "", EC2HA_RETRY_NEVER },
    { EC2HA_ERR_HTTP, 403, "", EC2HA_RETRY_NEVER },
    { EC2HA_ERR_HTTP, 404, "", EC2HA_RETRY_NEVER },
    { EC2HA_ERR_HTTP, 501, "", EC2HA_RETRY_NEVER },
    { EC2HA_ERR_TRANSPORT, 503, "", EC2HA_RETRY_TRANSIENT },
    /* Then the return code. */
    { EC2HA_ERR_TRANSPORT, 0, "", EC2HA_RETRY_TRANSIENT },
    { EC2HA_ERR_TIMEOUT, 0, "", EC2HA_RETRY_TRANSIENT },
    { EC2HA_ERR_PARSE, 200, "", EC2HA_RETRY_TRANSIENT },    /* truncated body */
    { EC2HA_ERR_PARSE, 0, "", EC2HA_RETRY_NEVER },          /* a file, not a response */
    { EC2HA_ERR_TLS, 0, "", EC2HA_RETRY_NEVER },
    { EC2HA_ERR_NO_CREDENTIALS, 0, "", EC2HA_RETRY_NEVER },
    { EC2HA_ERR_INVALID, 0, "", EC2HA_RETRY_NEVER },
    { EC2HA_ERR_NOT_FOUND, 0, "", EC2HA_RETRY_NEVER },
    { EC2HA_ERR_REFUSED, 0, "", EC2HA_RETRY_NEVER },
    { EC2HA_ERR_STATE, 0, "", EC2HA_RETRY_NEVER },
    { EC2HA_ERR_TOO_LARGE, 200, "", EC2HA_RETRY_NEVER },
    { EC2HA_ERR_NOMEM, 0, "", EC2HA_RETRY_NEVER },
    { EC2HA_OK, 0, "", EC2HA_RETRY_NEVER },
};

static void test_classify_table(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        ec2ha_error err;
        ec2ha_retry_class got;

        ec2ha_error_clear(&err);
        err.rc = rows[i].rc;
        ec2ha_error_set_aws(&err, rows[i].status, rows[i].code, NULL);
        got = ec2ha_retry_classify(&err);
        if (got != rows[i].expect) {
            fail_msg("row %zu (rc=%s status=%ld code=%s): got %s, expected %s", i,
                     ec2ha_rc_str(rows[i].rc), rows[i].status, rows[i].code,
                     ec2ha_retry_class_str(got), ec2ha_retry_class_str(rows[i].expect));
        }
    }
    assert_int_equal(ec2ha_retry_classify(NULL), EC2HA_RETRY_NEVER);
    assert_string_equal(ec2ha_retry_class_str(EC2HA_RETRY_THROTTLED), "throttled");
    assert_string_equal(ec2ha_retry_class_str((ec2ha_retry_class)99), "unknown");
}

static int64_t ceiling_for(ec2ha_retry_class c, unsigned attempt)
{
    int64_t base = c == EC2HA_RETRY_THROTTLED ? EC2HA_BACKOFF_THROTTLED_BASE_MS
                                              : EC2HA_BACKOFF_BASE_MS;
    int64_t v = base;
    unsigned i;

    for (i = 0; i < attempt && v < EC2HA_BACKOFF_CAP_MS; i++) {
        v *= 2;
    }
    return v < EC2HA_BACKOFF_CAP_MS ? v : EC2HA_BACKOFF_CAP_MS;
}

static void test_backoff_bounds(void **state)
{
    static const ec2ha_retry_class classes[] = {
        EC2HA_RETRY_TRANSIENT, EC2HA_RETRY_THROTTLED, EC2HA_RETRY_RESIGN
    };
    uint64_t seed;
    size_t c;

    (void)state;
    for (c = 0; c < 3; c++) {
        for (seed = 1; seed <= 2000; seed++) {
            ec2ha_backoff b;
            unsigned n;
            int64_t remaining = (int64_t)(seed * 37 % 90000);   /* 0 .. 90 s */
            int64_t min_attempt = (int64_t)(seed % 7) * 250;

            ec2ha_backoff_init(&b, seed);
            assert_int_not_equal(b.rng, 0);
            for (n = 0; n < 20; n++) {
                int64_t d = ec2ha_backoff_next_ms(&b, classes[c], remaining, min_attempt);

                if (remaining - min_attempt < 0 || remaining == 0) {
                    assert_int_equal(d, -1);
                    break;
                }
                assert_true(d >= 0);
                assert_true(d <= ceiling_for(classes[c], n));
                assert_true(d + min_attempt <= remaining);     /* never past the deadline */
                assert_int_equal(b.attempt, n + 1);
                remaining -= d + min_attempt;
            }
        }
    }
}

static void test_backoff_never_and_limits(void **state)
{
    ec2ha_backoff b;

    (void)state;
    ec2ha_backoff_init(&b, 42);
    assert_int_equal(ec2ha_backoff_next_ms(&b, EC2HA_RETRY_NEVER, 100000, 0), -1);
    assert_int_equal(ec2ha_backoff_next_ms(&b, EC2HA_RETRY_TRANSIENT, 0, 0), -1);
    assert_int_equal(ec2ha_backoff_next_ms(&b, EC2HA_RETRY_TRANSIENT, 999, 1000), -1);
    assert_int_equal(ec2ha_backoff_next_ms(&b, EC2HA_RETRY_TRANSIENT, 1000, 1000), 0);
    /* Huge attempt counts stay at the cap and never overflow. */
    b.attempt = 60;
    assert_true(ec2ha_backoff_next_ms(&b, EC2HA_RETRY_THROTTLED, INT64_MAX / 2, 0) <=
                EC2HA_BACKOFF_CAP_MS);
    /* Seed 0 picks one itself. */
    ec2ha_backoff_init(&b, 0);
    assert_int_not_equal(b.rng, 0);
    assert_int_equal(b.attempt, 0);
}

static void test_jitter_varies(void **state)
{
    ec2ha_backoff b;
    int64_t seen_min = INT64_MAX;
    int64_t seen_max = -1;
    int64_t first = -1;
    bool differs = false;
    unsigned i;
    unsigned buckets[4] = { 0, 0, 0, 0 };

    (void)state;
    ec2ha_backoff_init(&b, 7);
    for (i = 0; i < 4000; i++) {
        int64_t d;

        b.attempt = 3;      /* ceiling 800 ms */
        d = ec2ha_backoff_next_ms(&b, EC2HA_RETRY_TRANSIENT, 60000, 0);
        assert_true(d >= 0 && d <= 800);
        if (first < 0) {
            first = d;
        } else if (d != first) {
            differs = true;
        }
        seen_min = d < seen_min ? d : seen_min;
        seen_max = d > seen_max ? d : seen_max;
        buckets[d * 4 / 801]++;
    }
    assert_true(differs);
    assert_true(seen_min < 50);
    assert_true(seen_max > 750);
    for (i = 0; i < 4; i++) {
        assert_true(buckets[i] > 800);   /* roughly uniform: 1000 expected each */
    }

    /* Different seeds give different sequences. */
    {
        ec2ha_backoff a;
        ec2ha_backoff c;
        unsigned same = 0;

        ec2ha_backoff_init(&a, 1);
        ec2ha_backoff_init(&c, 2);
        for (i = 0; i < 16; i++) {
            a.attempt = c.attempt = 5;
            same += ec2ha_backoff_next_ms(&a, EC2HA_RETRY_TRANSIENT, 60000, 0) ==
                    ec2ha_backoff_next_ms(&c, EC2HA_RETRY_TRANSIENT, 60000, 0);
        }
        assert_true(same < 4);
    }
}

static void test_deadlines(void **state)
{
    ec2ha_deadline d;
    int64_t t0;
    int64_t t1;

    (void)state;
    t0 = ec2ha_monotonic_ms();
    d = ec2ha_deadline_in_ms(150);
    assert_true(ec2ha_deadline_remaining_ms(d) <= 150);
    assert_true(ec2ha_deadline_remaining_ms(d) > 0);
    assert_false(ec2ha_deadline_passed(d));

    assert_true(ec2ha_deadline_sleep_ms(d, 20));        /* time left afterwards */
    t1 = ec2ha_monotonic_ms();
    assert_true(t1 - t0 >= 20);

    assert_false(ec2ha_deadline_sleep_ms(d, 10000));    /* sleeps only to the deadline */
    t1 = ec2ha_monotonic_ms();
    assert_true(t1 - t0 >= 150);
    assert_true(t1 - t0 < 5000);
    assert_true(ec2ha_deadline_passed(d));
    assert_int_equal(ec2ha_deadline_remaining_ms(d), 0);
    assert_false(ec2ha_deadline_sleep_ms(d, 10));

    d = ec2ha_deadline_in_ms(-5);
    assert_true(ec2ha_deadline_passed(d));
    d = ec2ha_deadline_in_ms(INT64_MAX);                /* clamped, no overflow */
    assert_true(ec2ha_deadline_remaining_ms(d) > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classify_table),
        cmocka_unit_test(test_backoff_bounds),
        cmocka_unit_test(test_backoff_never_and_limits),
        cmocka_unit_test(test_jitter_varies),
        cmocka_unit_test(test_deadlines),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
