/* netaddr.c - parsing of host:port values and CIDR allow-lists from the config. */
#include "core/netaddr.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int port_parse(const char *s, uint16_t *out)
{
	char *end;
	long v;

	if (!isdigit((unsigned char)*s))
		return EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (*end)
		return EINVAL;
	if (errno || v < 1 || v > 65535)
		return ERANGE;
	*out = (uint16_t)v;
	return 0;
}

static bool hostname_valid(const char *h)
{
	if (!*h)
		return false;
	for (; *h; h++) {
		if (!isalnum((unsigned char)*h) && *h != '.' && *h != '-' && *h != '_')
			return false;
	}
	return true;
}

int hostport_parse(const char *s, struct hostport *out)
{
	const char *colon;
	size_t hlen;

	memset(out, 0, sizeof(*out));
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		struct in6_addr a6;
		if (!close || close == s + 1)
			return EINVAL;
		hlen = (size_t)(close - s - 1);
		if (hlen >= sizeof(out->host))
			return EINVAL;
		memcpy(out->host, s + 1, hlen);
		if (inet_pton(AF_INET6, out->host, &a6) != 1)
			return EINVAL;
		if (close[1] == '\0')
			return 0;
		if (close[1] != ':')
			return EINVAL;
		return port_parse(close + 2, &out->port);
	}
	colon = strchr(s, ':');
	if (colon && strchr(colon + 1, ':'))
		return EINVAL; /* bare IPv6 needs brackets when a port may follow */
	hlen = colon ? (size_t)(colon - s) : strlen(s);
	if (hlen >= sizeof(out->host))
		return EINVAL;
	memcpy(out->host, s, hlen);
	if (!hostname_valid(out->host))
		return EINVAL;
	return colon ? port_parse(colon + 1, &out->port) : 0;
}

void hostport_format(const struct hostport *hp, char *buf, size_t size)
{
	bool v6 = strchr(hp->host, ':') != NULL;

	if (hp->port)
		snprintf(buf, size, v6 ? "[%s]:%u" : "%s:%u", hp->host, hp->port);
	else
		snprintf(buf, size, v6 ? "[%s]" : "%s", hp->host);
}

static int cidr_parse_one(const char *tok, struct cidr *c)
{
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(tok, '/');
	size_t alen = slash ? (size_t)(slash - tok) : strlen(tok);
	unsigned maxp;

	if (alen == 0 || alen >= sizeof(addr))
		return EINVAL;
	memcpy(addr, tok, alen);
	addr[alen] = '\0';
	memset(c, 0, sizeof(*c));
	if (inet_pton(AF_INET, addr, c->addr) == 1) {
		c->family = AF_INET;
		maxp = 32;
	} else if (inet_pton(AF_INET6, addr, c->addr) == 1) {
		c->family = AF_INET6;
		maxp = 128;
	} else {
		return EINVAL;
	}
	c->prefix = maxp;
	if (slash) {
		char *end;
		long p;
		if (!isdigit((unsigned char)slash[1]))
			return EINVAL;
		p = strtol(slash + 1, &end, 10);
		if (*end || p < 0 || p > (long)maxp)
			return EINVAL;
		c->prefix = (unsigned)p;
	}
	return 0;
}

int cidr_list_parse(const char *s, struct cidr **out, size_t *n)
{
	struct cidr *list = NULL;
	size_t count = 0, cap = 0;
	char *copy, *tok, *save = NULL;
	int err = 0;

	*out = NULL;
	*n = 0;
	copy = strdup(s);
	if (!copy)
		return ENOMEM;
	for (tok = strtok_r(copy, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		if (count == cap) {
			size_t ncap = cap ? cap * 2 : 4;
			struct cidr *nl = realloc(list, ncap * sizeof(*nl));
			if (!nl) {
				err = ENOMEM;
				goto out;
			}
			list = nl;
			cap = ncap;
		}
		err = cidr_parse_one(tok, &list[count]);
		if (err)
			goto out;
		count++;
	}
	*out = list;
	*n = count;
	list = NULL;
out:
	free(list);
	free(copy);
	return err;
}

static bool prefix_match(const uint8_t *a, const uint8_t *b, unsigned prefix)
{
	unsigned bytes = prefix / 8, bits = prefix % 8;

	if (memcmp(a, b, bytes) != 0)
		return false;
	if (bits == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - bits));
	return (a[bytes] & mask) == (b[bytes] & mask);
}

static bool match_raw(const struct cidr *list, size_t n, int family, const uint8_t *addr)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	for (size_t i = 0; i < n; i++) {
		if (list[i].family == family && prefix_match(list[i].addr, addr, list[i].prefix))
			return true;
		/* An IPv4 client on a dual-stack socket appears as ::ffff:a.b.c.d. */
		if (family == AF_INET6 && list[i].family == AF_INET &&
		    memcmp(addr, mapped, sizeof(mapped)) == 0 &&
		    prefix_match(list[i].addr, addr + 12, list[i].prefix))
			return true;
	}
	return false;
}

bool cidr_list_match(const struct cidr *list, size_t n, const struct sockaddr *sa)
{
	if (!sa)
		return false;
	if (sa->sa_family == AF_INET)
		return match_raw(list, n, AF_INET,
				 (const uint8_t *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr);
	if (sa->sa_family == AF_INET6)
		return match_raw(list, n, AF_INET6,
				 ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr);
	return false;
}

bool cidr_list_match_str(const struct cidr *list, size_t n, const char *addr)
{
	uint8_t buf[16];

	if (inet_pton(AF_INET, addr, buf) == 1)
		return match_raw(list, n, AF_INET, buf);
	if (inet_pton(AF_INET6, addr, buf) == 1)
		return match_raw(list, n, AF_INET6, buf);
	return false;
}
