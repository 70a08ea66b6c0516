/* test_netaddr.c - host:port parsing and CIDR allow-lists. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/netaddr.h"

static void test_hostport(void **state)
{
	struct hostport hp;
	char buf[300];

	(void)state;
	assert_int_equal(hostport_parse("pbx.example.com", &hp), 0);
	assert_string_equal(hp.host, "pbx.example.com");
	assert_int_equal(hp.port, 0);
	assert_int_equal(hostport_parse("10.1.2.3:5080", &hp), 0);
	assert_int_equal(hp.port, 5080);
	assert_int_equal(hostport_parse("[::1]:5060", &hp), 0);
	assert_string_equal(hp.host, "::1");
	hostport_format(&hp, buf, sizeof(buf));
	assert_string_equal(buf, "[::1]:5060");
	assert_int_equal(hostport_parse("[::1]", &hp), 0);
	assert_int_equal(hostport_parse("::1", &hp), EINVAL);
	assert_int_equal(hostport_parse("host:0", &hp), ERANGE);
	assert_int_equal(hostport_parse("host:65536", &hp), ERANGE);
	assert_int_equal(hostport_parse("host:12a", &hp), EINVAL);
	assert_int_equal(hostport_parse("host:", &hp), EINVAL);
	assert_int_equal(hostport_parse("", &hp), EINVAL);
	assert_int_equal(hostport_parse("bad host", &hp), EINVAL);
	assert_int_equal(hostport_parse("[nothex]:1", &hp), EINVAL);
	assert_int_equal(hostport_parse("[::1]x", &hp), EINVAL);
}

static struct sockaddr_in v4(const char *s)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	inet_pton(AF_INET, s, &sa.sin_addr);
	return sa;
}

static void test_cidr(void **state)
{
	struct cidr *l;
	size_t n;

	(void)state;
	assert_int_equal(cidr_list_parse("10.0.0.0/8, 192.168.1.5 ,::1/128,2001:db8::/32", &l, &n), 0);
	assert_int_equal(n, 4);
	struct sockaddr_in a = v4("10.200.3.4"), b = v4("11.0.0.1"), c = v4("192.168.1.5"),
			   d = v4("192.168.1.6");
	assert_true(cidr_list_match(l, n, (struct sockaddr *)&a));
	assert_false(cidr_list_match(l, n, (struct sockaddr *)&b));
	assert_true(cidr_list_match(l, n, (struct sockaddr *)&c));
	assert_false(cidr_list_match(l, n, (struct sockaddr *)&d));
	assert_true(cidr_list_match_str(l, n, "::1"));
	assert_true(cidr_list_match_str(l, n, "2001:db8:ffff::9"));
	assert_false(cidr_list_match_str(l, n, "2001:db9::1"));
	/* IPv4-mapped IPv6 matches IPv4 ranges. */
	assert_true(cidr_list_match_str(l, n, "::ffff:10.9.9.9"));
	assert_false(cidr_list_match_str(l, n, "not-an-ip"));
	free(l);

	assert_int_equal(cidr_list_parse("10.0.0.0/12", &l, &n), 0);
	assert_true(cidr_list_match_str(l, n, "10.15.255.255"));
	assert_false(cidr_list_match_str(l, n, "10.16.0.0"));
	free(l);

	assert_int_equal(cidr_list_parse("0.0.0.0/0", &l, &n), 0);
	assert_true(cidr_list_match_str(l, n, "203.0.113.9"));
	free(l);

	assert_int_equal(cidr_list_parse("", &l, &n), 0);
	assert_int_equal(n, 0);
	assert_false(cidr_list_match_str(l, n, "127.0.0.1"));

	assert_int_equal(cidr_list_parse("10.0.0.0/33", &l, &n), EINVAL);
	assert_int_equal(cidr_list_parse("10.0.0.0/", &l, &n), EINVAL);
	assert_int_equal(cidr_list_parse("10.0.0/8", &l, &n), EINVAL);
	assert_int_equal(cidr_list_parse("::1/129", &l, &n), EINVAL);
	assert_int_equal(cidr_list_parse("10.0.0.0/-1", &l, &n), EINVAL);
	assert_null(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hostport),
		cmocka_unit_test(test_cidr),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
