/* test_store_time.c - tests src/store/time.c: the store's ISO-8601 UTC timestamps. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "store/time_iso.h"

static void test_format(void **state)
{
	char buf[32];

	(void)state;
	store_time_iso(0, buf);
	assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
	store_time_iso(1733331600123LL, buf);
	assert_string_equal(buf, "2024-12-04T17:00:00.123Z");
	store_time_iso(-1, buf);
	assert_string_equal(buf, "1969-12-31T23:59:59.999Z");
	store_time_iso(-2203846200000LL, buf);
	assert_string_equal(buf, "1900-03-01T12:30:00.000Z");
	store_time_iso(1709164800000LL, buf);
	assert_string_equal(buf, "2024-02-29T00:00:00.000Z");
	/* clamped, still fixed width */
	store_time_iso(INT64_MAX, buf);
	assert_string_equal(buf, "9999-12-31T23:59:59.999Z");
	store_time_iso(INT64_MIN, buf);
	assert_string_equal(buf, "0000-01-01T00:00:00.000Z");
}

static void test_parse(void **state)
{
	int64_t ms = 0;

	(void)state;
	assert_int_equal(store_time_parse("2024-12-04T17:00:00.123Z", &ms), 0);
	assert_int_equal(ms, 1733331600123LL);
	assert_int_equal(store_time_parse("2024-12-04t17:00:00.123z", &ms), 0);
	assert_int_equal(ms, 1733331600123LL);
	/* what SQLAlchemy wrote into the Python CallBot's database */
	assert_int_equal(store_time_parse("2024-12-04 17:00:00.123456", &ms), 0);
	assert_int_equal(ms, 1733331600123LL);
	assert_int_equal(store_time_parse("2024-12-04T17:00:00.1Z", &ms), 0);
	assert_int_equal(ms, 1733331600100LL);
	assert_int_equal(store_time_parse("2024-12-04T17:00Z", &ms), 0);
	assert_int_equal(ms, 1733331600000LL);
	assert_int_equal(store_time_parse("2024-12-04", &ms), 0);
	assert_int_equal(ms, 1733270400000LL);
	assert_int_equal(store_time_parse("2024-12-04T17:00:00+02:00", &ms), 0);
	assert_int_equal(ms, 1733324400000LL);
	assert_int_equal(store_time_parse("2024-12-04T17:00:00+0200", &ms), 0);
	assert_int_equal(ms, 1733324400000LL);
	assert_int_equal(store_time_parse("2024-12-04T13:00:00-02", &ms), 0);
	assert_int_equal(ms, 1733324400000LL);
	assert_int_equal(store_time_parse("2024-02-29", &ms), 0);
	assert_int_equal(ms, 1709164800000LL);
	assert_int_equal(store_time_parse("1900-03-01T12:30:00Z", &ms), 0);
	assert_int_equal(ms, -2203846200000LL);
}

static void test_parse_rejects(void **state)
{
	static const char *const bad[] = {
		"", "garbage", "2024", "2024-12", "2024-1-04", "2024-13-01",
		"2024-00-10", "2023-02-29", "2024-04-31", "2024-12-04T",
		"2024-12-04T25:00:00Z", "2024-12-04T17:60", "2024-12-04T17:00:61",
		"2024-12-04T17:00:00.Z", "2024-12-04T17:00:00Zjunk",
		"2024-12-04T17:00:00+24:00", "2024-12-04T17:00:00+2",
		"2024-12-04 ", "2024-12-04x", " 2024-12-04",
	};
	int64_t ms = 42;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (store_time_parse(bad[i], &ms) != EINVAL)
			fail_msg("accepted '%s'", bad[i]);
	}
	assert_int_equal(ms, 42);
	assert_int_equal(store_time_parse(NULL, &ms), EINVAL);
}

static void test_round_trip(void **state)
{
	char a[32], b[32];
	int64_t ms, back;

	(void)state;
	/* 1900..2100 in irregular steps, plus a few milliseconds each */
	for (ms = -2208988800000LL; ms < 4102444800000LL; ms += 7777777777LL + 3) {
		store_time_iso(ms, a);
		assert_int_equal(store_time_parse(a, &back), 0);
		assert_int_equal(back, ms);
		/* the text sorts like the time */
		store_time_iso(ms + 1, b);
		assert_true(strcmp(a, b) < 0);
	}
}

static void test_now(void **state)
{
	int64_t now = store_time_now();

	(void)state;
	/* after 2024-01-01 and before 2100 */
	assert_true(now > 1704067200000LL);
	assert_true(now < 4102444800000LL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_now),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
