/* web.h - the dashboard/API HTTP server (libmicrohttpd) as the rest of callbot sees it. */
#ifndef CALLBOT_WEB_WEB_H
#define CALLBOT_WEB_WEB_H

#include <jansson.h>

#include "core/config.h"

struct store;
struct web;

/*
 * What the web side may read about the running daemon, and the commands it may
 * send; filled by its owner (cmd_serve.c). Every callback is optional and may be
 * called from any web thread at any time while the web runs, so it must be
 * thread-safe and must not block for long.
 */
struct web_status {
	/* "registered", "unregistered", "failed", "disabled", ... (NULL: "disabled"). */
	const char *(*sip_state)(void *arg);
	/* A snapshot of the calls in progress as a new JSON array of objects
	 * {"id":N,"caller":"…","callee":"…","started_at":"ISO-8601","state":"…"}.
	 * Return 0 and set *out, or an errno. NULL: the web falls back to the calls
	 * rows with status 'active' and no ended_at (see docs/web.md). */
	int (*active_calls)(void *arg, json_t **out);
	/* Originate an outbound call (POST /api/calls). On success *call_id may
	 * carry the new call's id (0 if unknown). Returns 0, EINVAL (destination
	 * refused, e.g. not in OUTBOUND_ALLOW), EBUSY (MAX_CALLS reached) or another
	 * errno. NULL: 503 "not available in this build". */
	int (*originate)(void *arg, const char *to, const char *purpose, int64_t *call_id);
	/* Reachability and a one-line answer of the configured LLM (POST
	 * /api/test_llm and /api/test_ollama). *answer is malloc'd. NULL: 503. */
	int (*test_llm)(void *arg, const char *backend, char **answer, int *latency_ms);
	void *arg;
};

/* Starts listening on WEB_LISTEN (HTTPS when WEB_TLS_CERT/WEB_TLS_KEY are set);
 * access.log goes to LOG_DIR. c must outlive the web. */
int web_start(struct web **out, const struct conf *c, struct store *st,
	      const struct web_status *status);
void web_stop(struct web *w);
/* Re-opens access.log (after logrotate) */
int web_reopen_logs(struct web *w);

/* Pushes a Server-Sent Event to every /api/events subscriber. type is a short
 * name ("call_started", "call_ended", "sip_state", ...), json one JSON value as
 * text (no newlines needed; they are escaped). Thread-safe, never blocks on
 * clients; NULL w is a no-op. */
void web_publish_event(struct web *w, const char *type, const char *json);
/* Feeds the /metrics response-latency histogram (caller speech end -> bot audio). */
void web_observe_response_ms(struct web *w, int ms);

#endif
