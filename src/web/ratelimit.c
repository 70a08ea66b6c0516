/* ratelimit.c - fixed-window rate limiting ("50 per hour": at most 50 hits in each window
 * that starts at the first hit), like Flask-Limiter's default strategy. */
#include "web/ratelimit.h"
#include "core/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define BUCKETS 4096

struct window {
	int64_t start;
	uint32_t count;
};

struct entry {
	struct entry *next;
	char key[80];
	struct window w[RATESPEC_MAX];
};

struct ratelimit {
	pthread_mutex_t lock;
	struct rate_limit rules[RATESPEC_MAX];
	size_t n, keys, max_keys;
	bool full_warned;
	struct entry *bucket[BUCKETS];
};

int ratelimit_new(struct ratelimit **out, const struct rate_limit *rules, size_t n,
		  size_t max_keys)
{
	struct ratelimit *rl;

	if (n > RATESPEC_MAX)
		return EINVAL;
	rl = calloc(1, sizeof(*rl));
	if (!rl)
		return ENOMEM;
	pthread_mutex_init(&rl->lock, NULL);
	memcpy(rl->rules, rules, n * sizeof(*rules));
	rl->n = n;
	rl->max_keys = max_keys;
	*out = rl;
	return 0;
}

void ratelimit_free(struct ratelimit *rl)
{
	if (!rl)
		return;
	for (size_t i = 0; i < BUCKETS; i++) {
		while (rl->bucket[i]) {
			struct entry *nx = rl->bucket[i]->next;
			free(rl->bucket[i]);
			rl->bucket[i] = nx;
		}
	}
	pthread_mutex_destroy(&rl->lock);
	free(rl);
}

static size_t bucket_of(const char *key)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *key; key++)
		h = (h ^ (unsigned char)*key) * 1099511628211ULL;
	return (size_t)(h % BUCKETS);
}

static bool entry_idle(const struct ratelimit *rl, const struct entry *e, int64_t now)
{
	for (size_t i = 0; i < rl->n; i++)
		if (now - e->w[i].start < (int64_t)rl->rules[i].seconds * 1000)
			return false;
	return true;
}

/* Frees entries whose windows have all ended. Locked. */
static void sweep(struct ratelimit *rl, int64_t now)
{
	for (size_t i = 0; i < BUCKETS; i++) {
		for (struct entry **pp = &rl->bucket[i]; *pp;) {
			if (entry_idle(rl, *pp, now)) {
				struct entry *dead = *pp;
				*pp = dead->next;
				free(dead);
				rl->keys--;
				continue;
			}
			pp = &(*pp)->next;
		}
	}
}

/* Locked. NULL when absent and create is false, or when no room is left. */
static struct entry *find(struct ratelimit *rl, const char *key, int64_t now, bool create)
{
	size_t b = bucket_of(key);
	struct entry *e;

	for (e = rl->bucket[b]; e; e = e->next)
		if (strncmp(e->key, key, sizeof(e->key) - 1) == 0)
			return e;
	if (!create)
		return NULL;
	if (rl->keys >= rl->max_keys)
		sweep(rl, now);
	if (rl->keys >= rl->max_keys) {
		/* Failing open beats locking every client out; say so once. */
		if (!rl->full_warned)
			log_warn("web: rate limiter tracks %zu addresses; not limiting new ones",
				 rl->keys);
		rl->full_warned = true;
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	strncpy(e->key, key, sizeof(e->key) - 1);
	for (size_t i = 0; i < rl->n; i++)
		e->w[i].start = now;
	e->next = rl->bucket[b];
	rl->bucket[b] = e;
	rl->keys++;
	return e;
}

/* Rolls expired windows over; true with *retry when one is full. Locked. */
static bool check(struct ratelimit *rl, struct entry *e, int64_t now, unsigned *retry)
{
	bool over = false;
	int64_t wait = 0;

	for (size_t i = 0; i < rl->n; i++) {
		int64_t len = (int64_t)rl->rules[i].seconds * 1000;
		if (now - e->w[i].start >= len) {
			e->w[i].start = now;
			e->w[i].count = 0;
		}
		if (e->w[i].count >= rl->rules[i].count) {
			int64_t left = e->w[i].start + len - now;
			over = true;
			if (left > wait)
				wait = left;
		}
	}
	if (retry)
		*retry = over ? (unsigned)((wait + 999) / 1000) : 0;
	return over;
}

int ratelimit_hit(struct ratelimit *rl, const char *key, int64_t now_ms, unsigned *retry_after)
{
	struct entry *e;
	int err = 0;

	pthread_mutex_lock(&rl->lock);
	e = find(rl, key, now_ms, true);
	if (e && check(rl, e, now_ms, retry_after))
		err = EAGAIN;
	else if (e)
		for (size_t i = 0; i < rl->n; i++)
			e->w[i].count++;
	pthread_mutex_unlock(&rl->lock);
	return err;
}

bool ratelimit_over(struct ratelimit *rl, const char *key, int64_t now_ms, unsigned *retry_after)
{
	struct entry *e;
	bool over = false;

	pthread_mutex_lock(&rl->lock);
	e = find(rl, key, now_ms, false);
	if (e)
		over = check(rl, e, now_ms, retry_after);
	pthread_mutex_unlock(&rl->lock);
	return over;
}

void ratelimit_reset(struct ratelimit *rl, const char *key)
{
	pthread_mutex_lock(&rl->lock);
	for (struct entry **pp = &rl->bucket[bucket_of(key)]; *pp; pp = &(*pp)->next) {
		if (strncmp((*pp)->key, key, sizeof((*pp)->key) - 1) == 0) {
			struct entry *dead = *pp;
			*pp = dead->next;
			free(dead);
			rl->keys--;
			break;
		}
	}
	pthread_mutex_unlock(&rl->lock);
}
