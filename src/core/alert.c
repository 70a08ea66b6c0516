/* alert.c - operator alerts: a bounded queue, one sender thread POSTing JSON to ALERT_WEBHOOK, disk watch. */
#include "core/alert.h"
#include "core/config.h"
#include "core/log.h"
#include "core/util.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#define EVENT_MAX 48
#define RATE_SLOTS 64
#define DISK_MAX 8

struct alert_item {
	char event[EVENT_MAX];
	char *details;   /* JSON text or NULL */
	int64_t when_ms; /* wall clock at emit */
	unsigned suppressed;
};

/* Per event type: when it was last let through, how many were held back since. */
struct rate_slot {
	char event[EVENT_MAX];
	int64_t last_ms;
	unsigned held;
};

struct disk_watch {
	char *path;
	dev_t dev;
	bool low;
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	bool running, stopping;
	struct alert_opts o;
	char *url;   /* NULL: log only */
	char node[128];
	struct alert_item *q;
	size_t head, n;
	struct rate_slot rates[RATE_SLOTS];
	struct disk_watch disks[DISK_MAX];
	size_t ndisks;
	bool disk_due; /* check at once (a folder was just added) */
	struct alert_stats stats;
} A = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

/* Own lock: alert_set_listener(NULL) must wait for a call in progress. */
static struct {
	pthread_mutex_t lock;
	alert_listener_h *h;
	void *arg;
} L = { .lock = PTHREAD_MUTEX_INITIALIZER };

static char *payload(const struct alert_item *it, const char *node);

static void tell_listener(const char *event, const char *details_json, int64_t now,
			  unsigned held)
{
	struct alert_item it = { .when_ms = now, .suppressed = held };
	char node[sizeof(A.node)], *json;

	pthread_mutex_lock(&L.lock);
	if (L.h) {
		str_copy(it.event, sizeof(it.event), event);
		it.details = (char *)details_json;
		pthread_mutex_lock(&A.lock);
		str_copy(node, sizeof(node), A.node);
		pthread_mutex_unlock(&A.lock);
		json = payload(&it, node);
		if (json)
			L.h(json, L.arg);
		free(json);
	}
	pthread_mutex_unlock(&L.lock);
}

void alert_set_listener(alert_listener_h *h, void *arg)
{
	pthread_mutex_lock(&L.lock);
	L.h = h;
	L.arg = arg;
	pthread_mutex_unlock(&L.lock);
}

static bool event_valid(const char *ev)
{
	size_t n = 0;

	if (!ev || !*ev)
		return false;
	for (; ev[n]; n++) {
		char ch = ev[n];

		if (n >= EVENT_MAX - 1 ||
		    !((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '.'))
			return false;
	}
	return true;
}

/* Under the lock. True when ev may go now; *held gets how many were held back. */
static bool rate_pass(const char *ev, int64_t now, unsigned *held)
{
	struct rate_slot *free_slot = NULL, *oldest = &A.rates[0];

	for (size_t i = 0; i < RATE_SLOTS; i++) {
		struct rate_slot *s = &A.rates[i];

		if (!s->event[0]) {
			if (!free_slot)
				free_slot = s;
			continue;
		}
		if (strcmp(s->event, ev) == 0) {
			if (now - s->last_ms < (int64_t)A.o.rate_ms) {
				s->held++;
				return false;
			}
			*held = s->held;
			s->held = 0;
			s->last_ms = now;
			return true;
		}
		if (s->last_ms < oldest->last_ms)
			oldest = s;
	}
	/* a new type: a free slot, else forget the one quiet the longest */
	if (!free_slot)
		free_slot = oldest;
	str_copy(free_slot->event, sizeof(free_slot->event), ev);
	free_slot->last_ms = now;
	free_slot->held = 0;
	*held = 0;
	return true;
}

/* Under the lock. */
static void queue_push(const char *ev, const char *details, int64_t now, unsigned held)
{
	struct alert_item *it;

	if (A.n >= A.o.queue_max) {
		A.stats.dropped_full++;
		log_warn("alert: queue full (%u events), dropped %s", A.o.queue_max, ev);
		return;
	}
	it = &A.q[(A.head + A.n) % A.o.queue_max];
	memset(it, 0, sizeof(*it));
	str_copy(it->event, sizeof(it->event), ev);
	it->details = details ? strdup(details) : NULL;
	it->when_ms = now;
	it->suppressed = held;
	A.n++;
	A.stats.queued++;
	pthread_cond_signal(&A.cond);
}

static void emit(const char *event, const char *details_json, bool limited)
{
	int64_t now = time_now_ms();
	unsigned held = 0;

	if (!event_valid(event)) {
		pthread_mutex_lock(&A.lock);
		A.stats.invalid++;
		pthread_mutex_unlock(&A.lock);
		log_warn("alert: invalid event name dropped");
		return;
	}
	pthread_mutex_lock(&A.lock);
	if (limited && !rate_pass(event, now, &held)) {
		A.stats.suppressed++;
		pthread_mutex_unlock(&A.lock);
		log_debug("alert %s: held back (rate limit)", event);
		return;
	}
	if (A.running && !A.stopping && A.url)
		queue_push(event, details_json, now, held);
	pthread_mutex_unlock(&A.lock);
	tell_listener(event, details_json, now, held);
	/* the log line is the alert of nodes without a webhook */
	log_warn("alert %s: %s", event, details_json ? details_json : "{}");
}

void alert_emit(const char *event, const char *details_json)
{
	emit(event, details_json, true);
}

/* details_json (an object, or anything else kept as "details") plus extra members. */
static char *details_with(const char *details_json, json_t *extra)
{
	json_t *d = details_json ? json_loads(details_json, JSON_DECODE_ANY, NULL) : NULL;
	char *s;

	if (!json_is_object(d)) {
		json_t *o = json_object();

		if (d)
			json_object_set_new(o, "details", d);
		else if (details_json)
			json_object_set_new(o, "details", json_string(details_json));
		d = o;
	}
	json_object_update(d, extra);
	s = json_dumps(d, JSON_COMPACT);
	json_decref(d);
	return s;
}

struct counter {
	char event[EVENT_MAX];
	int64_t start_ms;
	unsigned n;
};

static struct counter counters[16];

void alert_count(const char *event, unsigned threshold, unsigned window_ms,
		 const char *details_json)
{
	int64_t now = time_mono_ms();
	struct counter *c = NULL;
	unsigned n = 0;

	if (!event_valid(event) || !threshold)
		return;
	pthread_mutex_lock(&A.lock);
	for (size_t i = 0; i < ARRAY_SIZE(counters) && !c; i++) {
		if (strcmp(counters[i].event, event) == 0 || !counters[i].event[0])
			c = &counters[i];
	}
	if (!c) { /* more kinds than slots: reuse the oldest window */
		c = &counters[0];
		for (size_t i = 1; i < ARRAY_SIZE(counters); i++)
			if (counters[i].start_ms < c->start_ms)
				c = &counters[i];
	}
	if (strcmp(c->event, event) != 0 || now - c->start_ms >= (int64_t)window_ms) {
		str_copy(c->event, sizeof(c->event), event);
		c->start_ms = now;
		c->n = 0;
	}
	if (++c->n >= threshold) {
		n = c->n;
		c->n = 0;
		c->start_ms = now;
	}
	pthread_mutex_unlock(&A.lock);
	if (n) {
		json_t *extra = json_pack("{s:i,s:i}", "count", (int)n, "window_s",
					  (int)(window_ms / 1000));
		char *s = extra ? details_with(details_json, extra) : NULL;

		alert_emit(event, s ? s : details_json);
		free(s);
		json_decref(extra);
	}
}

struct state_slot {
	char event[EVENT_MAX];
	bool down;
};

static struct state_slot states[16];

void alert_state(const char *down_event, const char *up_event, bool ok, const char *details_json)
{
	struct state_slot *s = NULL;
	bool changed = false;

	if (!event_valid(down_event) || !event_valid(up_event))
		return;
	pthread_mutex_lock(&A.lock);
	for (size_t i = 0; i < ARRAY_SIZE(states) && !s; i++) {
		if (strcmp(states[i].event, down_event) == 0)
			s = &states[i];
	}
	if (!s && !ok) {
		for (size_t i = 0; i < ARRAY_SIZE(states) && !s; i++)
			if (!states[i].event[0])
				s = &states[i];
		if (s)
			str_copy(s->event, sizeof(s->event), down_event);
	}
	if (s && s->down == ok) {
		s->down = !ok;
		changed = true;
	}
	pthread_mutex_unlock(&A.lock);
	/* transitions bypass the rate limit: a held-back "restored" would leave
	 * the receiver believing the service is still down */
	if (changed)
		emit(ok ? up_event : down_event, details_json, false);
}

void alert_emit_msg(const char *event, const char *message)
{
	json_t *d = json_pack("{s:s}", "message", message ? message : "");
	char *s = d ? json_dumps(d, JSON_COMPACT) : NULL;

	alert_emit(event, s);
	free(s);
	json_decref(d);
}

static char *payload(const struct alert_item *it, const char *node)
{
	json_t *o, *details = NULL;
	char ts[64], *s;
	time_t secs = (time_t)(it->when_ms / 1000);
	struct tm tm;

	gmtime_r(&secs, &tm);
	snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (int)(it->when_ms % 1000));
	if (it->details) {
		details = json_loads(it->details, JSON_DECODE_ANY, NULL);
		if (!details)
			details = json_string(it->details);
		if (!details) /* not UTF-8 either */
			details = json_string("(details not valid UTF-8)");
	}
	o = json_pack("{s:s,s:o,s:s,s:s}", "event", it->event, "details",
		      details ? details : json_object(), "node", node, "timestamp", ts);
	if (o && it->suppressed)
		json_object_set_new(o, "suppressed", json_integer(it->suppressed));
	s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return s;
}

static size_t discard_body(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

/* One POST; returns 0 or an errno-like value, and the reason in why. */
static int post(const char *url, const char *body, unsigned timeout_ms, char *why, size_t wsize)
{
	struct curl_slist *hdr = NULL;
	CURL *h = curl_easy_init();
	long code = 0;
	CURLcode rc;

	if (!h) {
		snprintf(why, wsize, "curl init failed");
		return ENOMEM;
	}
	hdr = curl_slist_append(hdr, "Content-Type: application/json");
	curl_easy_setopt(h, CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "callbot/" CALLBOT_VERSION);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard_body);
	rc = curl_easy_perform(h);
	if (rc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	curl_slist_free_all(hdr);
	curl_easy_cleanup(h);
	if (rc != CURLE_OK) {
		snprintf(why, wsize, "%s", curl_easy_strerror(rc));
		return rc == CURLE_OPERATION_TIMEDOUT ? ETIMEDOUT : EIO;
	}
	if (code < 200 || code > 299) {
		snprintf(why, wsize, "HTTP %ld", code);
		return EPROTO;
	}
	return 0;
}

/* Free-space check of every watched file system; queues disk_low/disk_ok.
 * Called by the sender thread without the lock held. */
static void check_disks(void)
{
	for (size_t i = 0; i < DISK_MAX; i++) {
		struct statvfs sv;
		char *path, details[600];
		double pct;
		bool low, was;

		pthread_mutex_lock(&A.lock);
		if (i >= A.ndisks) {
			pthread_mutex_unlock(&A.lock);
			return;
		}
		path = strdup(A.disks[i].path);
		was = A.disks[i].low;
		pthread_mutex_unlock(&A.lock);
		if (!path || statvfs(path, &sv) != 0 || sv.f_blocks == 0) {
			free(path);
			continue;
		}
		pct = 100.0 * (double)sv.f_bavail / (double)sv.f_blocks;
		/* 2 points of hysteresis: no flapping around the threshold */
		low = was ? pct < A.o.disk_min_pct + 2.0 : pct < (double)A.o.disk_min_pct;
		if (low != was) {
			json_t *d = json_pack("{s:s,s:f,s:I,s:i}", "path", path, "free_pct",
					      (double)(int)(pct * 10) / 10.0, "free_bytes",
					      (json_int_t)((double)sv.f_bavail * (double)sv.f_frsize),
					      "threshold_pct", (int)A.o.disk_min_pct);
			char *s = d ? json_dumps(d, JSON_COMPACT) : NULL;

			str_copy(details, sizeof(details), s ? s : "{}");
			free(s);
			json_decref(d);
			pthread_mutex_lock(&A.lock);
			A.disks[i].low = low;
			pthread_mutex_unlock(&A.lock);
			alert_emit(low ? "disk_low" : "disk_ok", details);
		}
		free(path);
	}
}

static void *sender_main(void *arg)
{
	int64_t next_disk = 0, deadline = 0;
	char why[160];

	(void)arg;
	pthread_mutex_lock(&A.lock);
	for (;;) {
		struct alert_item it;
		char *body;
		int64_t now = time_mono_ms();
		int err;

		if (A.stopping) {
			if (!deadline)
				deadline = now + A.o.stop_ms;
			if (!A.n)
				break;
			if (now >= deadline) {
				log_warn("alert: stopping: %zu queued alert(s) not sent", A.n);
				A.stats.dropped_full += A.n;
				while (A.n) {
					free(A.q[A.head].details);
					A.head = (A.head + 1) % A.o.queue_max;
					A.n--;
				}
				break;
			}
		} else if (now >= next_disk || A.disk_due) {
			A.disk_due = false;
			pthread_mutex_unlock(&A.lock);
			check_disks();
			pthread_mutex_lock(&A.lock);
			next_disk = time_mono_ms() + A.o.disk_check_ms;
			continue;
		}
		if (!A.n) {
			int64_t wait = next_disk - time_mono_ms();
			struct timespec ts = time_deadline_ms(wait < 1 ? 1 : wait);

			pthread_cond_timedwait(&A.cond, &A.lock, &ts);
			continue;
		}
		it = A.q[A.head];
		A.head = (A.head + 1) % A.o.queue_max;
		A.n--;
		pthread_mutex_unlock(&A.lock);

		body = payload(&it, A.node);
		err = body ? post(A.url, body, A.o.timeout_ms, why, sizeof(why)) : ENOMEM;
		if (err)
			log_warn("alert %s: webhook not reached: %s", it.event,
				 err == ENOMEM ? "out of memory" : why);
		free(body);
		free(it.details);

		pthread_mutex_lock(&A.lock);
		if (err)
			A.stats.failed++;
		else
			A.stats.sent++;
	}
	pthread_mutex_unlock(&A.lock);
	return NULL;
}

int alert_start(const struct conf *c)
{
	return alert_start_opts(c, NULL);
}

int alert_start_opts(const struct conf *c, const struct alert_opts *o)
{
	int err = 0;

	pthread_mutex_lock(&A.lock);
	if (A.running) {
		pthread_mutex_unlock(&A.lock);
		return EALREADY;
	}
	memset(&A.o, 0, sizeof(A.o));
	if (o)
		A.o = *o;
	A.o.rate_ms = A.o.rate_ms ? A.o.rate_ms : 60000;
	A.o.queue_max = A.o.queue_max ? A.o.queue_max : 64;
	A.o.timeout_ms = A.o.timeout_ms ? A.o.timeout_ms : 5000;
	A.o.disk_check_ms = A.o.disk_check_ms ? A.o.disk_check_ms : 60000;
	A.o.disk_min_pct = A.o.disk_min_pct ? A.o.disk_min_pct : 5;
	A.o.stop_ms = A.o.stop_ms ? A.o.stop_ms : 3000;
	memset(A.rates, 0, sizeof(A.rates));
	memset(counters, 0, sizeof(counters));
	memset(states, 0, sizeof(states));
	memset(&A.stats, 0, sizeof(A.stats));
	A.head = A.n = 0;
	A.stopping = false;
	if (c && c->node_id && *c->node_id)
		str_copy(A.node, sizeof(A.node), c->node_id);
	else if (gethostname(A.node, sizeof(A.node) - 1) != 0)
		str_copy(A.node, sizeof(A.node), "callbot");
	A.url = c && c->alert_webhook && *c->alert_webhook ? strdup(c->alert_webhook) : NULL;
	A.q = calloc(A.o.queue_max, sizeof(*A.q));
	if (!A.q || (c && c->alert_webhook && *c->alert_webhook && !A.url)) {
		err = ENOMEM;
		goto fail;
	}
	/* libcurl's global init is not thread-safe: done here, on the caller's thread */
	curl_global_init(CURL_GLOBAL_DEFAULT);
	err = pthread_create(&A.thread, NULL, sender_main, NULL);
	if (err) {
		curl_global_cleanup();
		goto fail;
	}
	pthread_setname_np(A.thread, "alert");
	A.running = true;
	pthread_mutex_unlock(&A.lock);
	if (!A.url)
		log_info("alert: ALERT_WEBHOOK is empty: alerts go to the log only");
	return 0;
fail:
	free(A.q);
	A.q = NULL;
	free(A.url);
	A.url = NULL;
	pthread_mutex_unlock(&A.lock);
	return err;
}

int alert_send_once(const struct conf *c, const char *event, const char *details_json)
{
	struct alert_item it = { .when_ms = time_now_ms() };
	char node[128], why[160], *body;
	int err;

	if (!event_valid(event))
		return EINVAL;
	log_warn("alert %s: %s", event, details_json ? details_json : "{}");
	if (!c || !c->alert_webhook || !*c->alert_webhook)
		return 0;
	if (c->node_id && *c->node_id)
		str_copy(node, sizeof(node), c->node_id);
	else if (gethostname(node, sizeof(node) - 1) != 0)
		str_copy(node, sizeof(node), "callbot");
	node[sizeof(node) - 1] = '\0';
	str_copy(it.event, sizeof(it.event), event);
	it.details = (char *)details_json;
	body = payload(&it, node);
	if (!body)
		return ENOMEM;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	err = post(c->alert_webhook, body, 5000, why, sizeof(why));
	curl_global_cleanup();
	if (err)
		log_warn("alert %s: webhook not reached: %s", event, why);
	free(body);
	return err;
}

int alert_watch_disk(const char *path)
{
	struct stat sb;
	int err = 0;

	if (!path || !*path)
		return EINVAL;
	if (stat(path, &sb) != 0)
		return errno;
	pthread_mutex_lock(&A.lock);
	for (size_t i = 0; i < A.ndisks; i++) {
		if (A.disks[i].dev == sb.st_dev) {
			pthread_mutex_unlock(&A.lock);
			return 0;
		}
	}
	if (A.ndisks >= DISK_MAX) {
		err = ENOSPC;
	} else if (!(A.disks[A.ndisks].path = strdup(path))) {
		err = ENOMEM;
	} else {
		A.disks[A.ndisks].dev = sb.st_dev;
		A.disks[A.ndisks].low = false;
		A.ndisks++;
		A.disk_due = true;
		pthread_cond_signal(&A.cond);
	}
	pthread_mutex_unlock(&A.lock);
	return err;
}

void alert_stop(void)
{
	pthread_mutex_lock(&A.lock);
	if (!A.running) {
		pthread_mutex_unlock(&A.lock);
		return;
	}
	A.stopping = true;
	pthread_cond_signal(&A.cond);
	pthread_mutex_unlock(&A.lock);
	pthread_join(A.thread, NULL);

	pthread_mutex_lock(&A.lock);
	A.running = false;
	free(A.q);
	A.q = NULL;
	free(A.url);
	A.url = NULL;
	for (size_t i = 0; i < A.ndisks; i++)
		free(A.disks[i].path);
	memset(A.disks, 0, sizeof(A.disks));
	A.ndisks = 0;
	pthread_mutex_unlock(&A.lock);
	curl_global_cleanup();
}

void alert_get_stats(struct alert_stats *out)
{
	pthread_mutex_lock(&A.lock);
	*out = A.stats;
	pthread_mutex_unlock(&A.lock);
}

void alert_fail(const struct conf *c, const char *event, int err)
{
	json_t *d = json_pack("{s:s}", "error", strerror(err));
	char *dj = d ? json_dumps(d, JSON_COMPACT) : NULL;

	alert_send_once(c, event, dj);
	free(dj);
	json_decref(d);
}
