/* netaddr.h - parsing of host:port values and CIDR allow-lists from the config. */
#ifndef CALLBOT_CORE_NETADDR_H
#define CALLBOT_CORE_NETADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct hostport {
	char host[256]; /* without IPv6 brackets */
	uint16_t port;  /* 0 when absent */
};

/* "host", "host:port", "[v6]" or "[v6]:port". EINVAL on anything else,
 * ERANGE for a port outside 1-65535. */
int hostport_parse(const char *s, struct hostport *out);
/* Formats back, bracketing IPv6 literals. */
void hostport_format(const struct hostport *hp, char *buf, size_t size);

struct cidr {
	int family;       /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	unsigned prefix;
};

/* Comma/space separated "a.b.c.d/n", "v6/n" or bare addresses.
 * *out is malloc'd (NULL with *n = 0 for an empty list). */
int cidr_list_parse(const char *s, struct cidr **out, size_t *n);
/* True when sa (IPv4, IPv6 or IPv4-mapped IPv6) is inside one of the ranges. */
bool cidr_list_match(const struct cidr *list, size_t n, const struct sockaddr *sa);
/* The same for a textual address. */
bool cidr_list_match_str(const struct cidr *list, size_t n, const char *addr);

#endif
