/* metrics.c - GET /metrics in the Prometheus text format (auth, or a client in TRUSTED_PROXIES). */
#include "web/http.h"
#include "web/metrics.h"
#include "web/session.h"
#include "call/callstore.h"
#include "core/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const int metrics_lat_bounds[METRICS_LAT_BUCKETS] = { 250, 500, 750, 1000, 1500, 2000,
						      3000, 5000, 8000, 15000 };

void metrics_count_http(struct web_metrics *m, unsigned status)
{
	unsigned cls = status / 100;

	if (cls >= 1 && cls <= 5)
		atomic_fetch_add(&m->http_by_class[cls], 1);
}

void web_observe_response_ms(struct web *w, int ms)
{
	struct web_metrics *m;
	size_t i = 0;

	if (!w || ms < 0)
		return;
	m = web_metrics(w);
	while (i < METRICS_LAT_BUCKETS && ms > metrics_lat_bounds[i])
		i++;
	atomic_fetch_add(&m->lat_bucket[i], 1);
	atomic_fetch_add(&m->lat_count, 1);
	atomic_fetch_add(&m->lat_sum_ms, (unsigned long long)ms);
}

struct buf {
	char *p;
	size_t len, cap;
};

__attribute__((format(printf, 2, 3)))
static void out(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!b->p)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if ((size_t)n < b->cap - b->len)
			break;
		char *np = realloc(b->p, b->cap * 2 + (size_t)n);
		if (!np) {
			free(b->p);
			b->p = NULL;
			return;
		}
		b->p = np;
		b->cap = b->cap * 2 + (size_t)n;
	}
	b->len += (size_t)n;
}

static void calls_metrics(struct http_req *req, struct buf *b)
{
	const struct web_status *s = web_status_of(req->web);
	const char *sip = s->sip_state ? s->sip_state(s->arg) : "disabled";
	json_t *active = active_calls_snapshot(req->web);
	struct store_call_stats st = { 0 };

	store_call_stats(web_store(req->web), 0, &st);
	out(b, "# HELP callbot_calls_total Calls stored in the database.\n"
	       "# TYPE callbot_calls_total counter\ncallbot_calls_total %lld\n", (long long)st.calls);
	out(b, "# HELP callbot_calls_answered_total Stored calls that were answered.\n"
	       "# TYPE callbot_calls_answered_total counter\ncallbot_calls_answered_total %lld\n",
	    (long long)st.answered);
	out(b, "# HELP callbot_turns_total Conversation turns stored in the database.\n"
	       "# TYPE callbot_turns_total counter\ncallbot_turns_total %lld\n", (long long)st.turns);
	out(b, "# HELP callbot_calls_active Calls in progress.\n"
	       "# TYPE callbot_calls_active gauge\ncallbot_calls_active %zu\n",
	    active ? json_array_size(active) : 0);
	json_decref(active);
	out(b, "# HELP callbot_sip_registered 1 when registered with SIP_SERVER.\n"
	       "# TYPE callbot_sip_registered gauge\ncallbot_sip_registered %d\n",
	    strcmp(sip ? sip : "", "registered") == 0);
}

/* The call-row writer's queue (docs/reliability.md, "Database outage"). */
static void db_metrics(struct buf *b, const struct callstore_metrics *q)
{
	out(b, "# HELP callbot_db_queue_depth Call-row writes waiting for the database (memory and spool).\n"
	       "# TYPE callbot_db_queue_depth gauge\ncallbot_db_queue_depth %llu\n",
	    (unsigned long long)q->queue_depth);
	out(b, "# HELP callbot_db_spool_depth Of those, writes waiting in the spool file.\n"
	       "# TYPE callbot_db_spool_depth gauge\ncallbot_db_spool_depth %llu\n",
	    (unsigned long long)q->spool_depth);
	out(b, "# HELP callbot_db_outage 1 while call-row writes wait for an unavailable database.\n"
	       "# TYPE callbot_db_outage gauge\ncallbot_db_outage %d\n", q->outage);
	out(b, "# HELP callbot_db_write_failures_total Call-row write attempts the database refused or did not answer.\n"
	       "# TYPE callbot_db_write_failures_total counter\ncallbot_db_write_failures_total %llu\n",
	    (unsigned long long)q->write_failures);
	out(b, "# HELP callbot_db_spooled_total Call-row writes that went to the spool file.\n"
	       "# TYPE callbot_db_spooled_total counter\ncallbot_db_spooled_total %llu\n",
	    (unsigned long long)q->spooled);
	out(b, "# HELP callbot_db_dropped_total Call-row writes given up (invalid, or no room).\n"
	       "# TYPE callbot_db_dropped_total counter\ncallbot_db_dropped_total %llu\n",
	    (unsigned long long)q->dropped);
}

static void latency_metrics(struct web_metrics *m, struct buf *b)
{
	unsigned long cum = 0;

	out(b, "# HELP callbot_response_latency_ms Caller speech end to bot audio start.\n"
	       "# TYPE callbot_response_latency_ms histogram\n");
	for (size_t i = 0; i < METRICS_LAT_BUCKETS; i++) {
		cum += atomic_load(&m->lat_bucket[i]);
		out(b, "callbot_response_latency_ms_bucket{le=\"%d\"} %lu\n", metrics_lat_bounds[i],
		    cum);
	}
	cum += atomic_load(&m->lat_bucket[METRICS_LAT_BUCKETS]);
	out(b, "callbot_response_latency_ms_bucket{le=\"+Inf\"} %lu\n", cum);
	out(b, "callbot_response_latency_ms_sum %llu\ncallbot_response_latency_ms_count %lu\n",
	    atomic_load(&m->lat_sum_ms), atomic_load(&m->lat_count));
}

static void http_metrics(struct http_req *req, struct web_metrics *m, struct buf *b)
{
	out(b, "# HELP callbot_http_requests_total HTTP requests by status class.\n"
	       "# TYPE callbot_http_requests_total counter\n");
	for (int i = 1; i <= 5; i++)
		out(b, "callbot_http_requests_total{code=\"%dxx\"} %lu\n", i,
		    atomic_load(&m->http_by_class[i]));
	out(b, "# HELP callbot_rate_limited_total Requests refused with 429.\n"
	       "# TYPE callbot_rate_limited_total counter\ncallbot_rate_limited_total %lu\n",
	    atomic_load(&m->rate_limited));
	out(b, "# HELP callbot_logins_total Dashboard logins by result.\n"
	       "# TYPE callbot_logins_total counter\n"
	       "callbot_logins_total{result=\"ok\"} %lu\ncallbot_logins_total{result=\"failed\"} %lu\n",
	    atomic_load(&m->logins_ok), atomic_load(&m->logins_failed));
	out(b, "# HELP callbot_web_sessions Active dashboard sessions.\n"
	       "# TYPE callbot_web_sessions gauge\ncallbot_web_sessions %zu\n",
	    session_count(web_sessions(req->web)));
}

enum MHD_Result route_metrics(struct http_req *req)
{
	struct web_metrics *m = web_metrics(req->web);
	struct buf b = { malloc(4096), 0, 4096 };
	struct callstore_metrics q;
	enum MHD_Result rc;

	callstore_metrics(&q);
	/* During an outage the database metrics would wait for it: leave them out (a
	 * missing series, not a wrong value) so the outage itself stays visible. */
	if (!q.outage)
		calls_metrics(req, &b);
	db_metrics(&b, &q);
	latency_metrics(m, &b);
	http_metrics(req, m, &b);
	if (!b.p)
		return http_error(req, 500, "internal error");
	rc = http_send(req, 200, "text/plain; version=0.0.4; charset=utf-8", b.p, b.len);
	free(b.p);
	return rc;
}
