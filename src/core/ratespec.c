/* ratespec.c - parses rate limit specs such as "200 per day, 50 per hour". */
#include "core/ratespec.h"
#include "core/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int unit_seconds(const char *u, size_t len, uint32_t *out)
{
	static const struct { const char *name; uint32_t seconds; } units[] = {
		{ "second", 1 }, { "minute", 60 }, { "hour", 3600 }, { "day", 86400 },
	};
	if (len > 1 && u[len - 1] == 's')
		len--;
	for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
		if (strlen(units[i].name) == len && strncasecmp(u, units[i].name, len) == 0) {
			*out = units[i].seconds;
			return 0;
		}
	}
	return EINVAL;
}

static int parse_rule(const char *p, const char *end, struct rate_limit *r)
{
	unsigned long count = 0;
	size_t digits = 0;

	while (p < end && isspace((unsigned char)*p))
		p++;
	while (p < end && isdigit((unsigned char)*p) && digits < 10) {
		count = count * 10 + (unsigned long)(*p++ - '0');
		digits++;
	}
	if (digits == 0 || digits == 10 || count == 0 || count > 1000000000UL)
		return EINVAL;
	while (p < end && isspace((unsigned char)*p))
		p++;
	if (p < end && *p == '/') {
		p++;
	} else if (end - p > 3 && strncasecmp(p, "per", 3) == 0 && isspace((unsigned char)p[3])) {
		p += 3;
	} else {
		return EINVAL;
	}
	while (p < end && isspace((unsigned char)*p))
		p++;
	while (end > p && isspace((unsigned char)end[-1]))
		end--;
	r->count = (uint32_t)count;
	return unit_seconds(p, (size_t)(end - p), &r->seconds);
}

int ratespec_parse(const char *s, struct rate_limit *out, size_t *n)
{
	const char *p = s;

	*n = 0;
	while (*p) {
		const char *end = p + strcspn(p, ",;");
		int err;

		if (*n == RATESPEC_MAX)
			return E2BIG;
		err = parse_rule(p, end, &out[*n]);
		if (err)
			return err;
		(*n)++;
		p = *end ? end + 1 : end;
	}
	return *n ? 0 : EINVAL;
}
