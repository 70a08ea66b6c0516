/* ratelimit.h - fixed-window counters per key (client address, user name); private to src/web. */
#ifndef CALLBOT_WEB_RATELIMIT_H
#define CALLBOT_WEB_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/ratespec.h"

struct ratelimit;

/* rules as parsed by ratespec_parse(); at most max_keys keys are tracked. */
int ratelimit_new(struct ratelimit **out, const struct rate_limit *rules, size_t n,
		  size_t max_keys);
void ratelimit_free(struct ratelimit *rl);
/* Counts one hit for key. EAGAIN when a rule's window is already full (the hit
 * is then not counted) with *retry_after = seconds until that window ends. */
int ratelimit_hit(struct ratelimit *rl, const char *key, int64_t now_ms, unsigned *retry_after);
/* Whether a rule is full for key, without counting. */
bool ratelimit_over(struct ratelimit *rl, const char *key, int64_t now_ms, unsigned *retry_after);
/* Forgets key (a successful login clears its failures). */
void ratelimit_reset(struct ratelimit *rl, const char *key);

#endif
