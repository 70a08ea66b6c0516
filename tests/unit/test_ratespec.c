/* test_ratespec.c - "200 per day, 50 per hour" and friends. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>

#include "core/ratespec.h"

static void test_valid(void **state)
{
	struct rate_limit r[RATESPEC_MAX];
	size_t n;

	(void)state;
	assert_int_equal(ratespec_parse("200 per day, 50 per hour", r, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(r[0].count, 200);
	assert_int_equal(r[0].seconds, 86400);
	assert_int_equal(r[1].count, 50);
	assert_int_equal(r[1].seconds, 3600);
	assert_int_equal(ratespec_parse("10/minute;1 per Second", r, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(r[0].seconds, 60);
	assert_int_equal(r[1].count, 1);
	assert_int_equal(r[1].seconds, 1);
	assert_int_equal(ratespec_parse("  5 per   hours ", r, &n), 0);
	assert_int_equal(r[0].seconds, 3600);
}

static void test_invalid(void **state)
{
	struct rate_limit r[RATESPEC_MAX];
	size_t n;

	(void)state;
	assert_int_equal(ratespec_parse("", r, &n), EINVAL);
	assert_int_equal(ratespec_parse("per day", r, &n), EINVAL);
	assert_int_equal(ratespec_parse("0 per day", r, &n), EINVAL);
	assert_int_equal(ratespec_parse("5 per fortnight", r, &n), EINVAL);
	assert_int_equal(ratespec_parse("5 day", r, &n), EINVAL);
	assert_int_equal(ratespec_parse("99999999999 per day", r, &n), EINVAL);
	assert_int_equal(ratespec_parse("5 per day,", r, &n), 0); /* trailing separator tolerated */
	assert_int_equal(ratespec_parse("5 per day,,", r, &n), EINVAL);
	assert_int_equal(ratespec_parse("1/s,1/s,1/s,1/s,1/s", r, &n), EINVAL);
	assert_int_equal(ratespec_parse("1/second,1/second,1/second,1/second,1/second", r, &n), E2BIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_invalid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
