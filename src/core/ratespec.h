/* ratespec.h - parses rate limit specs such as "200 per day, 50 per hour". */
#ifndef CALLBOT_CORE_RATESPEC_H
#define CALLBOT_CORE_RATESPEC_H

#include <stddef.h>
#include <stdint.h>

#define RATESPEC_MAX 4

struct rate_limit {
	uint32_t count;
	uint32_t seconds;
};

/* Accepts "N per UNIT" and "N/UNIT", comma or semicolon separated, where UNIT is
 * second, minute, hour or day (singular or plural). At most RATESPEC_MAX rules. */
int ratespec_parse(const char *s, struct rate_limit *out, size_t *n);

#endif
