/*
 * test_retry_cap.c - the per-attempt time cap, the strict HTTP Date parser
 * and the clock-skew rule of retry.c (pure arithmetic, no network).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "ec2ha/retry.h"

/* ---- attempt cap --------------------------------------------------------------------- */

static void test_attempt_budget_arithmetic(void **state)
{
    (void)state;
    /* nothing left: nothing to give */
    assert_int_equal(ec2ha_attempt_budget_ms(0), 0);
    assert_int_equal(ec2ha_attempt_budget_ms(-5), 0);
    /* below the floor: all that is left, never more */
    assert_int_equal(ec2ha_attempt_budget_ms(1), 1);
    assert_int_equal(ec2ha_attempt_budget_ms(3000), 3000);
    assert_int_equal(ec2ha_attempt_budget_ms(5000), 5000);
    /* between floor and twice the floor: the floor */
    assert_int_equal(ec2ha_attempt_budget_ms(8000), 5000);
    assert_int_equal(ec2ha_attempt_budget_ms(10000), 5000);
    /* half */
    assert_int_equal(ec2ha_attempt_budget_ms(10001), 5000);
    assert_int_equal(ec2ha_attempt_budget_ms(20000), 10000);
    assert_int_equal(ec2ha_attempt_budget_ms(90000), 45000);
    assert_int_equal(ec2ha_attempt_budget_ms(120000), 60000);
    /* the ceiling: fence_ec2's default 128 s run, a day */
    assert_int_equal(ec2ha_attempt_budget_ms(128000), EC2HA_ATTEMPT_CEIL_MS);
    assert_int_equal(ec2ha_attempt_budget_ms(86400000), EC2HA_ATTEMPT_CEIL_MS);
    assert_int_equal(ec2ha_attempt_budget_ms(INT64_MAX), EC2HA_ATTEMPT_CEIL_MS);
}

static void test_attempt_budget_leaves_room_for_a_retry(void **state)
{
    int64_t r;

    (void)state;
    for (r = 1; r <= 200000; r += 997) {
        int64_t b = ec2ha_attempt_budget_ms(r);

        assert_true(b > 0 && b <= r);
        /* above twice the floor, a hung first attempt leaves at least half */
        if (r >= 2 * EC2HA_ATTEMPT_FLOOR_MS) {
            assert_true(r - b >= r / 2);
        }
        assert_true(b >= (r < EC2HA_ATTEMPT_FLOOR_MS ? r : EC2HA_ATTEMPT_FLOOR_MS));
        assert_true(b <= EC2HA_ATTEMPT_CEIL_MS);
    }
}

static void test_attempt_deadline_never_past_the_overall_one(void **state)
{
    ec2ha_deadline d;
    ec2ha_deadline a;
    int64_t now;

    (void)state;
    d = ec2ha_deadline_in_ms(3000);             /* under the floor: the same deadline */
    a = ec2ha_attempt_deadline(d);
    assert_true(a.at_ms <= d.at_ms);
    assert_true(a.at_ms >= d.at_ms - 50);

    d = ec2ha_deadline_in_ms(40000);            /* half of it */
    now = ec2ha_monotonic_ms();
    a = ec2ha_attempt_deadline(d);
    assert_true(a.at_ms < d.at_ms);
    assert_true(a.at_ms - now >= 19900 && a.at_ms - now <= 20100);

    d = ec2ha_deadline_in_ms(600000);           /* the ceiling */
    now = ec2ha_monotonic_ms();
    a = ec2ha_attempt_deadline(d);
    assert_true(a.at_ms - now >= EC2HA_ATTEMPT_CEIL_MS - 100 &&
                a.at_ms - now <= EC2HA_ATTEMPT_CEIL_MS + 100);

    d = ec2ha_deadline_in_ms(0);                /* passed: passed */
    a = ec2ha_attempt_deadline(d);
    assert_true(ec2ha_deadline_passed(a));
    assert_true(a.at_ms <= d.at_ms);
}

/* ---- HTTP Date --------------------------------------------------------------------- */

static void test_http_date_valid(void **state)
{
    time_t t = 0;

    (void)state;
    assert_true(ec2ha_retry_parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT", &t));
    assert_int_equal((long long)t, 784111777LL);       /* RFC 7231's example */
    assert_true(ec2ha_retry_parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT", &t));
    assert_int_equal((long long)t, 0);
    assert_true(ec2ha_retry_parse_http_date("Thu, 29 Feb 2024 23:59:59 GMT", &t));
    assert_int_equal((long long)t, 1709251199LL);
    assert_true(ec2ha_retry_parse_http_date("Wed, 25 Nov 2026 20:15:19 GMT", &t));
    assert_int_equal((long long)t, 1795637719LL);
}

static void test_http_date_strict(void **state)
{
    static const char *const bad[] = {
        "",
        "Sunday, 06-Nov-94 08:49:37 GMT",       /* RFC 850: obsolete, refused */
        "Sun Nov  6 08:49:37 1994",             /* asctime: refused */
        "Sun, 06 Nov 1994 08:49:37 UTC",        /* only GMT */
        "Sun, 06 Nov 1994 08:49:37 +0000",
        "Sun, 6 Nov 1994 08:49:37 GMT",         /* two-digit day */
        "Sun, 06 nov 1994 08:49:37 GMT",        /* case matters */
        "Xyz, 06 Nov 1994 08:49:37 GMT",
        "Sun, 06 Foo 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 08:49:37 GMT ",       /* trailing junk */
        "Sun, 06 Nov 1994 08:49:37 GMTX",
        " Sun, 06 Nov 1994 08:49:37 GMT",
        "Sun, 00 Nov 1994 08:49:37 GMT",        /* ranges */
        "Sun, 31 Nov 1994 08:49:37 GMT",
        "Sat, 29 Feb 2025 08:49:37 GMT",        /* not a leap year */
        "Sun, 06 Nov 1994 24:00:00 GMT",
        "Sun, 06 Nov 1994 08:60:37 GMT",
        "Sun, 06 Nov 1994 08:49:61 GMT",
        "Sun, 06 Nov 1969 08:49:37 GMT",        /* before the epoch */
        "Sun, 06 Nov 19a4 08:49:37 GMT",
        "Sun, 06 Nov 1994 08-49-37 GMT",
        "Sun,06 Nov 1994 08:49:37 GMT ",
    };
    time_t t = 12345;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (ec2ha_retry_parse_http_date(bad[i], &t)) {
            fail_msg("accepted '%s'", bad[i]);
        }
        assert_int_equal((long long)t, 12345);    /* untouched on error */
    }
    assert_false(ec2ha_retry_parse_http_date(NULL, &t));
    assert_false(ec2ha_retry_parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT", NULL));
}

/* ---- skew rule ---------------------------------------------------------------------- */

static void test_clock_skew_codes(void **state)
{
    (void)state;
    assert_true(ec2ha_retry_is_clock_skew_code("RequestExpired"));
    assert_true(ec2ha_retry_is_clock_skew_code("RequestTimeTooSkewed"));
    assert_true(ec2ha_retry_is_clock_skew_code("RequestInTheFuture"));
    assert_true(ec2ha_retry_is_clock_skew_code("InvalidSignatureException"));
    assert_true(ec2ha_retry_is_clock_skew_code("SignatureDoesNotMatch"));
    assert_true(ec2ha_retry_is_clock_skew_code("AuthFailure"));
    assert_false(ec2ha_retry_is_clock_skew_code("UnauthorizedOperation"));
    assert_false(ec2ha_retry_is_clock_skew_code("requestexpired"));
    assert_false(ec2ha_retry_is_clock_skew_code(""));
    assert_false(ec2ha_retry_is_clock_skew_code(NULL));
}

static void test_clock_skew_check(void **state)
{
    /* the Date below is 1795637719 */
    const char *date = "Wed, 25 Nov 2026 20:15:19 GMT";
    const time_t server = 1795637719;
    int64_t off = 777;

    (void)state;
    /* within 4 minutes of the signing time: nothing to do, offset untouched */
    assert_int_equal(ec2ha_clock_skew_check(date, server, 0, &off), EC2HA_SKEW_NONE);
    assert_int_equal(ec2ha_clock_skew_check(date, server - 240, 0, &off), EC2HA_SKEW_NONE);
    assert_int_equal(ec2ha_clock_skew_check(date, server + 240, 0, &off), EC2HA_SKEW_NONE);
    assert_int_equal(off, 777);
    /* local clock 612 s behind: sign with +612 */
    assert_int_equal(ec2ha_clock_skew_check(date, server - 612, 0, &off), EC2HA_SKEW_CORRECT);
    assert_int_equal(off, 612);
    /* 241 s ahead */
    assert_int_equal(ec2ha_clock_skew_check(date, server + 241, 0, &off), EC2HA_SKEW_CORRECT);
    assert_int_equal(off, -241);
    /* already signing with the right offset: no new correction */
    off = 777;
    assert_int_equal(ec2ha_clock_skew_check(date, server - 900, 900, &off), EC2HA_SKEW_NONE);
    assert_int_equal(off, 777);
    /* a stale offset (the clock was fixed meanwhile): corrected back to about 0 */
    assert_int_equal(ec2ha_clock_skew_check(date, server - 3, 900, &off), EC2HA_SKEW_CORRECT);
    assert_int_equal(off, 3);
    /* a day is the limit; beyond it the Date is not trusted */
    assert_int_equal(ec2ha_clock_skew_check(date, server - 86400, 0, &off), EC2HA_SKEW_CORRECT);
    assert_int_equal(off, 86400);
    assert_int_equal(ec2ha_clock_skew_check(date, server - 86401, 0, &off), EC2HA_SKEW_ABSURD);
    assert_int_equal(off, 86401);
    assert_int_equal(ec2ha_clock_skew_check(date, server + 10 * 86400, 0, &off),
                     EC2HA_SKEW_ABSURD);
    assert_int_equal(off, -10 * 86400);
    /* no usable Date */
    off = 777;
    assert_int_equal(ec2ha_clock_skew_check(NULL, server, 0, &off), EC2HA_SKEW_NO_DATE);
    assert_int_equal(ec2ha_clock_skew_check("yesterday", server, 0, &off), EC2HA_SKEW_NO_DATE);
    assert_int_equal(off, 777);
    /* offset_out may be NULL */
    assert_int_equal(ec2ha_clock_skew_check(date, server - 612, 0, NULL), EC2HA_SKEW_CORRECT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_attempt_budget_arithmetic),
        cmocka_unit_test(test_attempt_budget_leaves_room_for_a_retry),
        cmocka_unit_test(test_attempt_deadline_never_past_the_overall_one),
        cmocka_unit_test(test_http_date_valid),
        cmocka_unit_test(test_http_date_strict),
        cmocka_unit_test(test_clock_skew_codes),
        cmocka_unit_test(test_clock_skew_check),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
