/* events.c - Server-Sent Events: subscribers are suspended MHD connections woken by publish,
 * so an idle stream holds no thread; a watcher thread turns state changes into events. */
#include "web/events.h"
#include "web/http.h"
#include "core/log.h"
#include "core/util.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SUBS_MAX 256
#define SUB_BUF_MAX (256 * 1024)
#define HEARTBEAT_TICKS 15

struct sub {
	struct sub *next;
	struct events *ev;
	struct MHD_Connection *conn;
	char *buf;
	size_t len, off;
	bool suspended, dead;
};

struct events {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	bool running, stop, closing;
	struct sub *subs;
	size_t nsubs;
	struct web *w;
	char *last;
};

char *events_format(const char *type, const char *json)
{
	size_t tl = strlen(type), jl = strlen(json);
	char *out = malloc(tl + jl + 32), *p;

	if (!out)
		return NULL;
	p = out + sprintf(out, "event: ");
	for (size_t i = 0; i < tl; i++) {
		char c = type[i];
		*p++ = ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_') ? c : '_';
	}
	p += sprintf(p, "\ndata: ");
	/* A raw line break would end the data field early. */
	for (size_t i = 0; i < jl; i++)
		*p++ = (json[i] == '\n' || json[i] == '\r') ? ' ' : json[i];
	strcpy(p, "\n\n");
	return out;
}

/* Locked. Appends text to one subscriber and wakes its connection. */
static void sub_push(struct sub *s, const char *text, size_t n)
{
	if (s->dead)
		return;
	if (s->len + n > SUB_BUF_MAX) {
		s->dead = true; /* a client that does not read is dropped */
	} else {
		char *nb = realloc(s->buf, s->len + n);
		if (!nb) {
			s->dead = true;
		} else {
			memcpy(nb + s->len, text, n);
			s->buf = nb;
			s->len += n;
		}
	}
	if (s->suspended) {
		s->suspended = false;
		MHD_resume_connection(s->conn);
	}
}

static void push_all(struct events *ev, const char *text)
{
	size_t n = strlen(text);

	pthread_mutex_lock(&ev->lock);
	if (!ev->closing)
		for (struct sub *s = ev->subs; s; s = s->next)
			sub_push(s, text, n);
	pthread_mutex_unlock(&ev->lock);
}

void events_publish(struct events *ev, const char *type, const char *json)
{
	char *text;

	if (!ev || !type || !json)
		return;
	text = events_format(type, json);
	if (!text)
		return;
	push_all(ev, text);
	free(text);
}

static ssize_t sub_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct sub *s = cls;
	struct events *ev = s->ev;
	ssize_t n;

	(void)pos;
	pthread_mutex_lock(&ev->lock);
	if (s->off < s->len) {
		size_t avail = s->len - s->off;
		n = (ssize_t)(avail < max ? avail : max);
		memcpy(buf, s->buf + s->off, (size_t)n);
		s->off += (size_t)n;
		if (s->off == s->len)
			s->off = s->len = 0;
		pthread_mutex_unlock(&ev->lock);
		return n;
	}
	if (ev->closing || s->dead) {
		pthread_mutex_unlock(&ev->lock);
		return MHD_CONTENT_READER_END_OF_STREAM;
	}
	/* Nothing to send: park the connection until the next publish. */
	s->suspended = true;
	MHD_suspend_connection(s->conn);
	pthread_mutex_unlock(&ev->lock);
	return 0;
}

static void sub_free(void *cls)
{
	struct sub *s = cls;
	struct events *ev = s->ev;

	pthread_mutex_lock(&ev->lock);
	for (struct sub **pp = &ev->subs; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			ev->nsubs--;
			break;
		}
	}
	pthread_mutex_unlock(&ev->lock);
	free(s->buf);
	free(s);
}

struct MHD_Response *events_subscribe(struct events *ev, struct MHD_Connection *conn,
				      const char *first)
{
	struct MHD_Response *r;
	struct sub *s;
	const char *hello = "retry: 3000\n\n";

	pthread_mutex_lock(&ev->lock);
	if (ev->nsubs >= SUBS_MAX || ev->closing) {
		pthread_mutex_unlock(&ev->lock);
		return NULL;
	}
	pthread_mutex_unlock(&ev->lock);
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->ev = ev;
	s->conn = conn;
	s->len = strlen(hello) + (first ? strlen(first) : 0);
	s->buf = malloc(s->len + 1);
	if (!s->buf) {
		free(s);
		return NULL;
	}
	snprintf(s->buf, s->len + 1, "%s%s", hello, first ? first : "");
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, sub_read, s, sub_free);
	if (!r) {
		free(s->buf);
		free(s);
		return NULL;
	}
	pthread_mutex_lock(&ev->lock);
	s->next = ev->subs;
	ev->subs = s;
	ev->nsubs++;
	pthread_mutex_unlock(&ev->lock);
	return r;
}

/* The state the dashboard shows live: SIP registration and active calls. */
static char *snapshot_text(struct web *w)
{
	const struct web_status *st = web_status_of(w);
	const char *sip = st->sip_state ? st->sip_state(st->arg) : "disabled";
	json_t *o = json_pack("{s:s?,s:o}", "sip", sip, "calls", active_calls_snapshot(w));
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	return text;
}

static void watch_tick(struct events *ev, unsigned tick)
{
	size_t nsubs;
	char *snap;

	pthread_mutex_lock(&ev->lock);
	nsubs = ev->nsubs;
	pthread_mutex_unlock(&ev->lock);
	if (!nsubs)
		return;
	snap = snapshot_text(ev->w);
	if (snap && (!ev->last || strcmp(snap, ev->last) != 0)) {
		events_publish(ev, "state", snap);
		free(ev->last);
		ev->last = snap;
		snap = NULL;
	} else if (tick % HEARTBEAT_TICKS == 0) {
		push_all(ev, ": ping\n\n"); /* keeps proxies from closing idle streams */
	}
	free(snap);
}

static void *watch(void *arg)
{
	struct events *ev = arg;
	unsigned tick = 0;

	pthread_mutex_lock(&ev->lock);
	while (!ev->stop) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&ev->cond, &ev->lock, &ts);
		if (ev->stop)
			break;
		pthread_mutex_unlock(&ev->lock);
		watch_tick(ev, ++tick);
		pthread_mutex_lock(&ev->lock);
	}
	pthread_mutex_unlock(&ev->lock);
	return NULL;
}

int events_new(struct events **out, struct web *w)
{
	struct events *ev = calloc(1, sizeof(*ev));
	pthread_condattr_t ca;
	int err;

	if (!ev)
		return ENOMEM;
	ev->w = w;
	pthread_mutex_init(&ev->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&ev->cond, &ca);
	pthread_condattr_destroy(&ca);
	err = pthread_create(&ev->thread, NULL, watch, ev);
	if (err) {
		events_free(ev);
		return err;
	}
	ev->running = true;
	*out = ev;
	return 0;
}

void events_stop(struct events *ev)
{
	if (!ev)
		return;
	pthread_mutex_lock(&ev->lock);
	ev->stop = true;
	ev->closing = true;
	for (struct sub *s = ev->subs; s; s = s->next) {
		if (s->suspended) {
			s->suspended = false;
			MHD_resume_connection(s->conn);
		}
	}
	pthread_cond_broadcast(&ev->cond);
	pthread_mutex_unlock(&ev->lock);
	if (ev->running)
		pthread_join(ev->thread, NULL);
	ev->running = false;
}

void events_free(struct events *ev)
{
	if (!ev)
		return;
	events_stop(ev);
	pthread_cond_destroy(&ev->cond);
	pthread_mutex_destroy(&ev->lock);
	free(ev->last);
	free(ev);
}
