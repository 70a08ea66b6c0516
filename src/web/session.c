/* session.c - sessions in memory: random ids, a MAC-signed cookie, idle and absolute expiry. */
#include "web/session.h"
#include "crypto/token.h"

#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUCKETS 1024

struct session {
	struct session *next;
	char id[48];
	char csrf[WEB_MAC_LEN];
	int64_t user_id;
	int64_t created, last_seen;
};

struct sessions {
	pthread_mutex_t lock;
	unsigned char key[crypto_auth_hmacsha256_KEYBYTES];
	struct session *bucket[BUCKETS];
	size_t count;
};

int sessions_new(struct sessions **out, const char *secret_key)
{
	struct sessions *s;

	if (sodium_init() < 0)
		return EIO;
	s = calloc(1, sizeof(*s));
	if (!s)
		return ENOMEM;
	pthread_mutex_init(&s->lock, NULL);
	/* A derived key: the raw SECRET_KEY is never used for two purposes. */
	crypto_generichash(s->key, sizeof(s->key), (const unsigned char *)"callbot-web-v1", 14,
			   (const unsigned char *)secret_key, strlen(secret_key));
	*out = s;
	return 0;
}

void sessions_free(struct sessions *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < BUCKETS; i++) {
		while (s->bucket[i]) {
			struct session *n = s->bucket[i]->next;
			sodium_memzero(s->bucket[i], sizeof(*s->bucket[i]));
			free(s->bucket[i]);
			s->bucket[i] = n;
		}
	}
	pthread_mutex_destroy(&s->lock);
	sodium_memzero(s->key, sizeof(s->key));
	free(s);
}

void web_mac(const struct sessions *s, const char *msg, char out[WEB_MAC_LEN])
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];

	crypto_auth_hmacsha256(mac, (const unsigned char *)msg, strlen(msg), s->key);
	sodium_bin2base64(out, WEB_MAC_LEN, mac, sizeof(mac),
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static size_t bucket_of(const char *id)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *id; id++)
		h = (h ^ (unsigned char)*id) * 1099511628211ULL;
	return (size_t)(h % BUCKETS);
}

static bool expired(const struct session *se, int64_t now)
{
	return now - se->last_seen > SESSION_IDLE_MS || now - se->created > SESSION_ABSOLUTE_MS;
}

/* Drops expired sessions; when still full, the least recently used one. Locked. */
static void make_room(struct sessions *s, int64_t now)
{
	struct session **oldest = NULL;

	for (size_t i = 0; i < BUCKETS; i++) {
		for (struct session **pp = &s->bucket[i]; *pp;) {
			if (expired(*pp, now)) {
				struct session *dead = *pp;
				*pp = dead->next;
				free(dead);
				s->count--;
				continue;
			}
			if (!oldest || (*pp)->last_seen < (*oldest)->last_seen)
				oldest = pp;
			pp = &(*pp)->next;
		}
	}
	if (s->count >= SESSION_MAX && oldest) {
		struct session *dead = *oldest;
		*oldest = dead->next;
		free(dead);
		s->count--;
	}
}

int session_create(struct sessions *s, int64_t user_id, int64_t now_ms,
		   char cookie[SESSION_COOKIE_LEN])
{
	struct session *se = calloc(1, sizeof(*se));
	char mac[WEB_MAC_LEN], msg[80];
	size_t b;

	if (!se)
		return ENOMEM;
	if (token_random_urlsafe(32, se->id, sizeof(se->id))) {
		free(se);
		return EIO;
	}
	snprintf(msg, sizeof(msg), "csrf|%s", se->id);
	web_mac(s, msg, se->csrf);
	se->user_id = user_id;
	se->created = se->last_seen = now_ms;
	web_mac(s, se->id, mac);
	snprintf(cookie, SESSION_COOKIE_LEN, "%s.%s", se->id, mac);
	pthread_mutex_lock(&s->lock);
	if (s->count >= SESSION_MAX)
		make_room(s, now_ms);
	b = bucket_of(se->id);
	se->next = s->bucket[b];
	s->bucket[b] = se;
	s->count++;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

int session_lookup(struct sessions *s, const char *cookie, int64_t now_ms, int64_t *user_id,
		   char sid[64], char csrf[64])
{
	char id[48], mac[WEB_MAC_LEN];
	const char *dot;
	int err = ENOENT;

	if (!cookie || !(dot = strchr(cookie, '.')) || (size_t)(dot - cookie) != 43)
		return ENOENT;
	memcpy(id, cookie, 43);
	id[43] = '\0';
	web_mac(s, id, mac);
	if (!ct_streq(mac, dot + 1))
		return ENOENT;
	pthread_mutex_lock(&s->lock);
	for (struct session **pp = &s->bucket[bucket_of(id)]; *pp; pp = &(*pp)->next) {
		struct session *se = *pp;
		if (strcmp(se->id, id) != 0)
			continue;
		if (expired(se, now_ms)) {
			*pp = se->next;
			free(se);
			s->count--;
			break;
		}
		se->last_seen = now_ms;
		*user_id = se->user_id;
		snprintf(sid, 64, "%s", se->id);
		snprintf(csrf, 64, "%s", se->csrf);
		err = 0;
		break;
	}
	pthread_mutex_unlock(&s->lock);
	return err;
}

void session_destroy(struct sessions *s, const char *sid)
{
	if (!sid || !*sid)
		return;
	pthread_mutex_lock(&s->lock);
	for (struct session **pp = &s->bucket[bucket_of(sid)]; *pp; pp = &(*pp)->next) {
		if (strcmp((*pp)->id, sid) == 0) {
			struct session *dead = *pp;
			*pp = dead->next;
			free(dead);
			s->count--;
			break;
		}
	}
	pthread_mutex_unlock(&s->lock);
}

void session_destroy_user(struct sessions *s, int64_t user_id)
{
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < BUCKETS; i++) {
		for (struct session **pp = &s->bucket[i]; *pp;) {
			if ((*pp)->user_id == user_id) {
				struct session *dead = *pp;
				*pp = dead->next;
				free(dead);
				s->count--;
				continue;
			}
			pp = &(*pp)->next;
		}
	}
	pthread_mutex_unlock(&s->lock);
}

size_t session_count(struct sessions *s)
{
	size_t n;

	pthread_mutex_lock(&s->lock);
	n = s->count;
	pthread_mutex_unlock(&s->lock);
	return n;
}
