/* http.h - what a route handler gets and how it answers (private to src/web). */
#ifndef CALLBOT_WEB_HTTP_H
#define CALLBOT_WEB_HTTP_H

#include <jansson.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "web/web.h"

struct fernet_keyring;
struct sessions;
struct web_metrics;
struct events;

/* Largest request body any route accepts (forms, JSON). */
#define HTTP_BODY_MAX (64 * 1024)
#define HTTP_EXTRA_HEADERS 6

/* Who made the request, after the session cookie or Bearer token was checked. */
struct http_user {
	int64_t id;		/* 0 = anonymous */
	char name[64];
	char role[16];		/* "admin" or "viewer" */
	bool admin;
	bool via_token;		/* Bearer token: no CSRF needed, no session */
	char sid[64];		/* session id (cookie auth) */
	char csrf[64];		/* the session's CSRF token */
};

struct http_req {
	struct MHD_Connection *conn;
	struct web *web;
	const char *method;
	const char *url;
	char client[64]; /* real client address after trusted-proxy resolution */
	bool https;
	bool proxied;    /* the peer is a trusted proxy */
	bool peer_trusted; /* the resolved client itself is in TRUSTED_PROXIES */
	const char *proto_hdr; /* X-Forwarded-Proto from a trusted proxy, else NULL */
	unsigned status; /* for the access log */
	size_t bytes;
	char *body;      /* NUL-terminated request body (NULL when none) */
	size_t body_len;
	struct http_user user;
	bool store_down;   /* the credentials could not be checked: the database failed */
	const char *hdr_k[HTTP_EXTRA_HEADERS];
	char *hdr_v[HTTP_EXTRA_HEADERS];
	size_t hdr_n;
};

typedef enum MHD_Result (http_route_h)(struct http_req *req);

enum http_access {
	ACCESS_PUBLIC,	/* no login */
	ACCESS_USER,	/* any logged-in user or token */
	ACCESS_ADMIN,	/* role admin */
	ACCESS_METRICS,	/* a user, or a client inside TRUSTED_PROXIES */
};

struct http_route {
	const char *method;
	const char *path;	/* exact, or a prefix ending in '*' */
	http_route_h *handler;
	enum http_access access;
	bool page;		/* HTML page: anonymous users are sent to /login */
};

/* Responses; every one carries the security headers and any http_add_header(). */
enum MHD_Result http_send(struct http_req *req, unsigned status, const char *type,
			  const void *body, size_t len);
enum MHD_Result http_send_json(struct http_req *req, unsigned status, const char *json);
/* Dumps and releases obj (NULL obj: 500). */
enum MHD_Result http_send_jsonv(struct http_req *req, unsigned status, json_t *obj);
enum MHD_Result http_error(struct http_req *req, unsigned status, const char *msg);
enum MHD_Result http_redirect(struct http_req *req, unsigned status, const char *location);
enum MHD_Result http_queue(struct http_req *req, unsigned status, struct MHD_Response *r);
/* Adds a response header (copied); at most HTTP_EXTRA_HEADERS. */
void http_add_header(struct http_req *req, const char *key, const char *value);
void http_apply_headers(struct http_req *req, struct MHD_Response *r);

const char *http_header(const struct http_req *req, const char *name);
const char *http_arg(const struct http_req *req, const char *name);
const char *http_cookie(const struct http_req *req, const char *name);
/* The part of the path after prefix (for the wildcard routes such as /api/calls/ID). */
const char *http_path_tail(const struct http_req *req, const char *prefix);
/* Parses a positive decimal id; false on anything else. */
bool http_parse_id(const char *s, int64_t *out);
/* Value of name in an application/x-www-form-urlencoded body, decoded. */
bool http_form_get(const char *body, const char *name, char *out, size_t cap);
/* The body as a JSON object; NULL (and a 400 already queued via *rc) otherwise. */
json_t *http_body_json(struct http_req *req, enum MHD_Result *rc);

/* HTML escaping: the one helper every server-rendered value goes through.
 * Writes at most cap-1 bytes; returns ENOSPC when cut. */
int html_escape(char *out, size_t cap, const char *in);
/* Templates: replaces {{name}} by the html-escaped value. malloc'd result. */
char *html_render(const char *tpl, const char *const *names, const char *const *values,
		  size_t n);

/* ISO-8601 UTC text for JSON (null when ms is 0). */
json_t *json_time(int64_t ms);

/* Web-wide state kept by server.c. */
const struct web_status *web_status_of(const struct web *w);
struct store *web_store(const struct web *w);
const struct web_conf *web_conf(const struct web *w);
struct sessions *web_sessions(const struct web *w);
struct web_metrics *web_metrics(struct web *w);
struct events *web_events(struct web *w);

/* Settings of the web side copied from the configuration at start. */
struct web_conf {
	char secret_key[256];
	char audio_dir[4096];
	char base_dir[4096];
	bool force_https;
	bool tls;
	struct rate_limit rates[RATESPEC_MAX];
	size_t rates_n;
	const struct conf *conf; /* the daemon's configuration (lives as long as the web) */
};

/* Audit helper: one audit_log row with the request's user and client address. */
void web_audit(struct http_req *req, const char *action, const char *details);

/* originate.c: an outbound call for a route. A destination is an extension, a number or a
 * SIP URI (no spaces, quotes, brackets or control characters). web_originate() places the
 * call, audits `action` and answers 202 {ok, status, call_id}, 403 (OUTBOUND_ALLOW),
 * 503 (busy, or no call service) or 502. */
bool web_destination_valid(const char *to);
enum MHD_Result web_originate(struct http_req *req, const char *action, const char *to,
			      const char *purpose);

/* Routes, one file each. */
enum MHD_Result route_health(struct http_req *req);
enum MHD_Result route_login_page(struct http_req *req);
enum MHD_Result route_login(struct http_req *req);
enum MHD_Result route_logout(struct http_req *req);
enum MHD_Result route_me(struct http_req *req);
enum MHD_Result route_page(struct http_req *req);
enum MHD_Result route_static(struct http_req *req);
enum MHD_Result route_calls_list(struct http_req *req);
enum MHD_Result route_call_get(struct http_req *req);
enum MHD_Result route_call_delete(struct http_req *req);
enum MHD_Result route_call_originate(struct http_req *req);
enum MHD_Result route_active_calls(struct http_req *req);
enum MHD_Result route_stats(struct http_req *req);
enum MHD_Result route_audio(struct http_req *req);
enum MHD_Result route_test_llm(struct http_req *req);
enum MHD_Result route_test_sip(struct http_req *req);
enum MHD_Result route_test_speech(struct http_req *req);
enum MHD_Result route_test_call(struct http_req *req);
enum MHD_Result route_checklist(struct http_req *req);
enum MHD_Result route_checklist_dismiss(struct http_req *req);
enum MHD_Result route_export(struct http_req *req);
enum MHD_Result route_audit(struct http_req *req);
enum MHD_Result route_settings_get(struct http_req *req);
enum MHD_Result route_settings_set(struct http_req *req);
enum MHD_Result route_users_list(struct http_req *req);
enum MHD_Result route_user_add(struct http_req *req);
enum MHD_Result route_user_update(struct http_req *req);
enum MHD_Result route_user_delete(struct http_req *req);
enum MHD_Result route_tokens_list(struct http_req *req);
enum MHD_Result route_token_add(struct http_req *req);
enum MHD_Result route_token_revoke(struct http_req *req);
enum MHD_Result route_events(struct http_req *req);
enum MHD_Result route_metrics(struct http_req *req);

/* JSON views of store rows shared by several routes. */
json_t *call_json(const struct store_call *c);
json_t *call_turns_json(struct http_req *req, int64_t call_id);
/* Active calls: the owner's callback, else calls with status 'active' (see docs/web.md). */
json_t *active_calls_snapshot(struct web *w);

/* access.log, combined format with the real client address first. */
struct access_log;
int access_log_open(struct access_log **out, const char *dir);
void access_log_close(struct access_log *al);
/* After logrotate moved the file: a new file takes the same descriptor, atomically. */
int access_log_reopen(struct access_log *al);
void access_log_write(struct access_log *al, const struct http_req *req, const char *referer,
		      const char *agent, const char *version);

#endif
