/* server.c - libmicrohttpd daemon: limits, TLS, client address, HTTPS redirect, rate
 * limits, authentication and routing; answers carry the security headers (http_util.c). */
#include "web/auth.h"
#include "web/events.h"
#include "web/http.h"
#include "web/metrics.h"
#include "web/ratelimit.h"
#include "web/session.h"
#include "core/alert.h"
#include "core/log.h"
#include "core/netaddr.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RATE_KEYS_MAX 65536

struct web {
	struct MHD_Daemon *daemon;
	struct store *store;
	struct web_status status;
	struct web_conf conf;
	struct cidr *proxies;
	size_t proxies_n;
	struct access_log *access;
	struct sessions *sessions;
	struct ratelimit *api_limit, *login_limit, *lockout;
	struct web_metrics metrics;
	struct events *events;
	bool alert_listener; /* alerts go to /api/events as "alert" events */
	char *tls_cert, *tls_key;
};

struct req_ctx {
	struct http_req req;
	size_t body_len;
	bool too_large;
};

static const struct http_route routes[] = {
	{ "GET", "/", route_page, ACCESS_USER, true },
	{ "GET", "/calls", route_page, ACCESS_USER, true },
	{ "GET", "/calls/*", route_page, ACCESS_USER, true },
	{ "GET", "/settings", route_page, ACCESS_ADMIN, true },
	{ "GET", "/users", route_page, ACCESS_ADMIN, true },
	{ "GET", "/audit", route_page, ACCESS_ADMIN, true },
	{ "GET", "/login", route_login_page, ACCESS_PUBLIC, false },
	{ "POST", "/login", route_login, ACCESS_PUBLIC, false },
	{ "POST", "/logout", route_logout, ACCESS_USER, true },
	{ "GET", "/static/*", route_static, ACCESS_PUBLIC, false },
	{ "GET", "/favicon.ico", route_static, ACCESS_PUBLIC, false },
	{ "GET", "/metrics", route_metrics, ACCESS_METRICS, false },
	{ "GET", "/api/health", route_health, ACCESS_PUBLIC, false },
	{ "GET", "/api/me", route_me, ACCESS_USER, false },
	{ "GET", "/api/stats", route_stats, ACCESS_USER, false },
	{ "GET", "/api/calls", route_calls_list, ACCESS_USER, false },
	{ "POST", "/api/calls", route_call_originate, ACCESS_ADMIN, false },
	{ "GET", "/api/calls/*", route_call_get, ACCESS_USER, false },
	{ "DELETE", "/api/calls/*", route_call_delete, ACCESS_ADMIN, false },
	{ "GET", "/api/active_calls", route_active_calls, ACCESS_USER, false },
	{ "GET", "/api/audio/*", route_audio, ACCESS_USER, false },
	{ "GET", "/api/events", route_events, ACCESS_USER, false },
	{ "POST", "/api/test_ollama", route_test_llm, ACCESS_ADMIN, false },
	{ "POST", "/api/test_llm", route_test_llm, ACCESS_ADMIN, false },
	{ "POST", "/api/test_sip", route_test_sip, ACCESS_ADMIN, false },
	{ "POST", "/api/test_speech", route_test_speech, ACCESS_ADMIN, false },
	{ "POST", "/api/test_call", route_test_call, ACCESS_ADMIN, false },
	{ "GET", "/api/checklist", route_checklist, ACCESS_ADMIN, false },
	{ "POST", "/api/checklist/dismiss", route_checklist_dismiss, ACCESS_ADMIN, false },
	{ "GET", "/api/export", route_export, ACCESS_ADMIN, false },
	{ "GET", "/api/audit", route_audit, ACCESS_ADMIN, false },
	{ "GET", "/api/settings", route_settings_get, ACCESS_ADMIN, false },
	{ "POST", "/api/settings", route_settings_set, ACCESS_ADMIN, false },
	{ "GET", "/api/users", route_users_list, ACCESS_ADMIN, false },
	{ "POST", "/api/users", route_user_add, ACCESS_ADMIN, false },
	{ "POST", "/api/users/*", route_user_update, ACCESS_ADMIN, false },
	{ "DELETE", "/api/users/*", route_user_delete, ACCESS_ADMIN, false },
	{ "GET", "/api/tokens", route_tokens_list, ACCESS_USER, false },
	{ "POST", "/api/tokens", route_token_add, ACCESS_USER, false },
	{ "DELETE", "/api/tokens/*", route_token_revoke, ACCESS_USER, false },
};

const struct web_status *web_status_of(const struct web *w) { return &w->status; }
struct store *web_store(const struct web *w) { return w->store; }
const struct web_conf *web_conf(const struct web *w) { return &w->conf; }
struct sessions *web_sessions(const struct web *w) { return w->sessions; }
struct web_metrics *web_metrics(struct web *w) { return &w->metrics; }
struct events *web_events(struct web *w) { return w->events; }
struct ratelimit *web_login_limit(const struct web *w) { return w->login_limit; }
struct ratelimit *web_lockout(const struct web *w) { return w->lockout; }
struct ratelimit *web_api_limit(const struct web *w) { return w->api_limit; }

void web_audit(struct http_req *req, const char *action, const char *details)
{
	int err = store_audit(web_store(req->web), req->user.id, action, details, req->client);

	if (err)
		log_error("web: audit %s not recorded: %s", action, strerror(err));
}

void web_publish_event(struct web *w, const char *type, const char *json)
{
	if (w)
		events_publish(w->events, type, json);
}

static bool parse_ip(const char *s, char *out, size_t size)
{
	unsigned char buf[16];
	char tmp[64];
	size_t n = strlen(s);

	while (n && (s[n - 1] == ' '))
		n--;
	while (*s == ' ') {
		s++;
		n--;
	}
	if (n == 0 || n >= sizeof(tmp))
		return false;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (inet_pton(AF_INET, tmp, buf) != 1 && inet_pton(AF_INET6, tmp, buf) != 1)
		return false;
	return str_copy(out, size, tmp) == 0;
}

/* The peer is the client unless it is a trusted proxy; then X-Forwarded-For is read
 * from the right, skipping further trusted hops, and X-Real-IP is the fallback. */
static void resolve_client(struct web *w, struct http_req *req)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;
	const char *xff, *real, *proto;

	strcpy(req->client, "-");
	req->https = w->conf.tls;
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
			  req->client, sizeof(req->client));
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
			  req->client, sizeof(req->client));
	if (!sa || !cidr_list_match(w->proxies, w->proxies_n, sa))
		return;
	req->proxied = true;
	req->peer_trusted = true;

	proto = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "X-Forwarded-Proto");
	if (proto) {
		req->proto_hdr = proto;
		req->https = strcmp(proto, "https") == 0;
	}
	xff = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "X-Forwarded-For");
	if (xff && strlen(xff) < 2048) {
		char copy[2048], ip[64];
		strcpy(copy, xff);
		for (char *comma = strrchr(copy, ','); ; comma = strrchr(copy, ',')) {
			const char *hop = comma ? comma + 1 : copy;
			if (!parse_ip(hop, ip, sizeof(ip)))
				break;
			str_copy(req->client, sizeof(req->client), ip);
			req->peer_trusted = cidr_list_match_str(w->proxies, w->proxies_n, ip);
			if (!req->peer_trusted || !comma)
				return;
			*comma = '\0';
		}
		return;
	}
	real = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "X-Real-IP");
	if (real && parse_ip(real, req->client, sizeof(req->client)))
		req->peer_trusted = cidr_list_match_str(w->proxies, w->proxies_n, req->client);
}

static bool path_matches(const char *pattern, const char *path, size_t plen)
{
	size_t n = strlen(pattern);

	if (n && pattern[n - 1] == '*')
		return plen > n - 1 && strncmp(pattern, path, n - 1) == 0;
	return n == plen && strncmp(pattern, path, plen) == 0;
}

static bool host_valid(const char *h)
{
	if (!h || !*h || strlen(h) > 255)
		return false;
	for (; *h; h++)
		if (!isalnum((unsigned char)*h) && !strchr(".-:[]", *h))
			return false;
	return true;
}

/* FORCE_HTTPS: a trusted proxy told us the client used plain HTTP. */
static bool redirect_to_https(struct http_req *req, enum MHD_Result *rc)
{
	const char *host = http_header(req, "Host");
	char loc[2048];

	if (!req->web->conf.force_https || req->https || !req->proto_hdr)
		return false;
	if (!host_valid(host)) {
		*rc = http_error(req, 400, "bad Host header");
		return true;
	}
	if (snprintf(loc, sizeof(loc), "https://%s%s", host, req->url) >= (int)sizeof(loc)) {
		*rc = http_error(req, 414, "URI too long");
		return true;
	}
	*rc = http_redirect(req, 301, loc);
	return true;
}

/* RATE_LIMITS on /api/... per client address; health checks and the event stream are exempt. */
static bool rate_limited(struct http_req *req, enum MHD_Result *rc)
{
	unsigned retry = 0;
	char secs[16];

	if (strncmp(req->url, "/api/", 5) != 0 || strcmp(req->url, "/api/health") == 0 ||
	    strcmp(req->url, "/api/events") == 0)
		return false;
	if (ratelimit_hit(req->web->api_limit, req->client, time_now_ms(), &retry) == 0)
		return false;
	atomic_fetch_add(&req->web->metrics.rate_limited, 1);
	log_security("rate_limit", "client %s exceeded RATE_LIMITS on %s %s", req->client,
		     req->method, req->url);
	snprintf(secs, sizeof(secs), "%u", retry ? retry : 1);
	http_add_header(req, "Retry-After", secs);
	*rc = http_error(req, 429, "too many requests");
	return true;
}

static enum MHD_Result refuse(struct http_req *req, const struct http_route *r, unsigned status)
{
	if (status == 401 && r->page)
		return http_redirect(req, 303, "/login");
	if (status == 401)
		return http_error(req, 401, "authentication required");
	if (status == 403 && r->page)
		return route_page(req); /* renders the "not allowed" page with 403 */
	return http_error(req, status, status == 403 ? "forbidden" : "error");
}

static enum MHD_Result run_route(struct http_req *req, const struct http_route *r)
{
	bool safe = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
	bool open_to_peer = r->access == ACCESS_PUBLIC ||
			    (r->access == ACCESS_METRICS && req->peer_trusted);

	if (!open_to_peer && !req->user.id && req->store_down) {
		http_add_header(req, "Retry-After", "5");
		return http_error(req, 503, "the database is not available");
	}
	switch (r->access) {
	case ACCESS_PUBLIC:
		break;
	case ACCESS_METRICS:
		if (!req->user.id && !req->peer_trusted)
			return refuse(req, r, 401);
		break;
	case ACCESS_USER:
	case ACCESS_ADMIN:
		if (!req->user.id)
			return refuse(req, r, 401);
		if (r->access == ACCESS_ADMIN && !req->user.admin)
			return refuse(req, r, 403);
		break;
	}
	/* Sessions need the CSRF token for anything that changes state; Bearer
	 * tokens are not sent by browsers on their own, so they do not. POST /login
	 * checks its own pre-session token. */
	if (!safe && req->user.id && !req->user.via_token && r->handler != route_login &&
	    !auth_csrf_valid(req)) {
		log_security("csrf_rejected", "%s %s from %s user %s", req->method, req->url,
			     req->client, req->user.name);
		return http_error(req, 403, "missing or invalid CSRF token");
	}
	return r->handler(req);
}

static enum MHD_Result dispatch(struct http_req *req)
{
	size_t plen = strcspn(req->url, "?");
	bool path_known = false;
	enum MHD_Result rc;

	if (redirect_to_https(req, &rc) || rate_limited(req, &rc))
		return rc;
	auth_resolve(req);
	for (size_t i = 0; i < ARRAY_SIZE(routes); i++) {
		if (!path_matches(routes[i].path, req->url, plen))
			continue;
		path_known = true;
		if (strcmp(routes[i].method, req->method) == 0 ||
		    (strcmp(req->method, "HEAD") == 0 && strcmp(routes[i].method, "GET") == 0))
			return run_route(req, &routes[i]);
	}
	if (path_known)
		return http_error(req, 405, "method not allowed");
	return http_error(req, 404, "not found");
}

static bool body_too_large(struct MHD_Connection *conn)
{
	const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");

	return cl && strtoull(cl, NULL, 10) > HTTP_BODY_MAX;
}

static enum MHD_Result read_body(struct req_ctx *ctx, const char *data, size_t n)
{
	char *nb;

	ctx->body_len += n;
	if (ctx->too_large || ctx->body_len > HTTP_BODY_MAX) {
		ctx->too_large = true;
		return MHD_YES; /* keep reading, answer 413 at the end */
	}
	nb = realloc(ctx->req.body, ctx->body_len + 1);
	if (!nb)
		return MHD_NO;
	memcpy(nb + ctx->req.body_len, data, n);
	ctx->req.body = nb;
	ctx->req.body_len += n;
	nb[ctx->req.body_len] = '\0';
	return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size,
				  void **con_cls)
{
	struct web *w = cls;
	struct req_ctx *ctx = *con_cls;

	(void)version;
	/* a lost database answers 503 at once here, never a hang (docs/reliability.md) */
	store_thread_impatient(true);
	if (!ctx) {
		ctx = calloc(1, sizeof(*ctx));
		if (!ctx)
			return MHD_NO;
		ctx->req.conn = conn;
		ctx->req.web = w;
		ctx->req.method = method;
		ctx->req.url = url;
		ctx->req.status = 500;
		resolve_client(w, &ctx->req);
		ctx->too_large = body_too_large(conn);
		*con_cls = ctx;
		return MHD_YES;
	}
	if (*upload_data_size) {
		enum MHD_Result rc = read_body(ctx, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return rc;
	}
	if (ctx->too_large)
		return http_error(&ctx->req, 413, "request body too large");
	return dispatch(&ctx->req);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct web *w = cls;
	struct req_ctx *ctx = *con_cls;

	(void)toe;
	if (!ctx)
		return;
	metrics_count_http(&w->metrics, ctx->req.status);
	access_log_write(w->access, &ctx->req,
			 MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Referer"),
			 MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "User-Agent"), NULL);
	for (size_t i = 0; i < ctx->req.hdr_n; i++)
		free(ctx->req.hdr_v[i]);
	free(ctx->req.body);
	free(ctx);
	*con_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	log_vwrite(LOGL_DEBUG, fmt, ap);
}

static int resolve_listen(const struct hostport *hp, struct sockaddr_storage *ss)
{
	struct addrinfo hints = { 0 }, *res = NULL;
	char port[8];
	int rc;

	hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof(port), "%u", hp->port);
	rc = getaddrinfo(hp->host, port, &hints, &res);
	if (rc != 0)
		return EADDRNOTAVAIL;
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	return 0;
}

static int load_tls(struct web *w, const struct conf *c)
{
	size_t len;
	int err;

	bool cert = c->web_tls_cert && *c->web_tls_cert, key = c->web_tls_key && *c->web_tls_key;

	if (!cert && !key)
		return 0;
	if (!cert || !key) {
		log_error("web: WEB_TLS_CERT and WEB_TLS_KEY must be set together");
		return EINVAL;
	}
	err = file_read_all(c->web_tls_cert, 1 << 20, &w->tls_cert, &len);
	if (!err)
		err = file_read_all(c->web_tls_key, 1 << 20, &w->tls_key, &len);
	if (err)
		log_error("web: cannot read WEB_TLS_CERT/WEB_TLS_KEY: %s", strerror(err));
	w->conf.tls = !err;
	return err;
}

static int make_limits(struct web *w, const struct conf *c)
{
	struct rate_limit login[RATESPEC_MAX], lock = { 5, 900 };
	size_t n;
	int err;

	err = ratespec_parse(LOGIN_RATE, login, &n);
	if (!err)
		err = ratelimit_new(&w->login_limit, login, n, RATE_KEYS_MAX);
	if (!err)
		err = ratelimit_new(&w->lockout, &lock, 1, RATE_KEYS_MAX);
	if (!err)
		err = ratelimit_new(&w->api_limit, c->rates, c->rates_n, RATE_KEYS_MAX);
	return err;
}

static int web_init(struct web *w, const struct conf *c)
{
	int err;

	str_copy(w->conf.secret_key, sizeof(w->conf.secret_key), c->secret_key);
	str_copy(w->conf.audio_dir, sizeof(w->conf.audio_dir), c->audio_dir);
	str_copy(w->conf.base_dir, sizeof(w->conf.base_dir), c->base_dir ? c->base_dir : ".");
	w->conf.force_https = c->force_https;
	w->conf.conf = c;
	err = cidr_list_parse(c->trusted_proxies, &w->proxies, &w->proxies_n);
	if (!err)
		err = sessions_new(&w->sessions, c->secret_key);
	if (!err)
		err = make_limits(w, c);
	if (!err)
		err = load_tls(w, c);
	if (!err) {
		err = access_log_open(&w->access, c->log_dir);
		if (err)
			log_error("web: cannot open %s/access.log: %s", c->log_dir, strerror(err));
	}
	if (!err)
		err = events_new(&w->events, w);
	return err;
}

static struct MHD_Daemon *start_daemon(struct web *w, struct sockaddr_storage *ss)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL_LINUX_ONLY |
			 MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;

	if (ss->ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (w->conf.tls)
		return MHD_start_daemon(flags | MHD_USE_TLS, 0, NULL, NULL, on_request, w,
					MHD_OPTION_SOCK_ADDR, (struct sockaddr *)ss,
					MHD_OPTION_HTTPS_MEM_CERT, w->tls_cert,
					MHD_OPTION_HTTPS_MEM_KEY, w->tls_key,
					MHD_OPTION_HTTPS_PRIORITIES,
					"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2",
					MHD_OPTION_THREAD_POOL_SIZE, 4u,
					MHD_OPTION_CONNECTION_LIMIT, 512u,
					MHD_OPTION_PER_IP_CONNECTION_LIMIT, 64u,
					MHD_OPTION_CONNECTION_TIMEOUT, 30u,
					MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
					MHD_OPTION_NOTIFY_COMPLETED, on_completed, w,
					MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
					MHD_OPTION_END);
	return MHD_start_daemon(flags, 0, NULL, NULL, on_request, w,
				MHD_OPTION_SOCK_ADDR, (struct sockaddr *)ss,
				MHD_OPTION_THREAD_POOL_SIZE, 4u,
				MHD_OPTION_CONNECTION_LIMIT, 512u,
				MHD_OPTION_PER_IP_CONNECTION_LIMIT, 64u,
				MHD_OPTION_CONNECTION_TIMEOUT, 30u,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
				MHD_OPTION_NOTIFY_COMPLETED, on_completed, w,
				MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
				MHD_OPTION_END);
}

/* Operator alerts (core/alert) also reach the dashboard's event stream. */
static void alert_to_events(const char *json, void *arg)
{
	struct web *w = arg;

	events_publish(w->events, "alert", json);
}

int web_start(struct web **out, const struct conf *c, struct store *st,
	      const struct web_status *status)
{
	struct sockaddr_storage ss = { 0 };
	struct web *w;
	int err;

	w = calloc(1, sizeof(*w));
	if (!w)
		return ENOMEM;
	w->store = st;
	if (status)
		w->status = *status;
	err = web_init(w, c);
	if (err)
		goto out;
	err = resolve_listen(&c->web_listen_hp, &ss);
	if (err) {
		log_error("web: WEB_LISTEN %s is not a usable address", c->web_listen);
		goto out;
	}
	w->daemon = start_daemon(w, &ss);
	if (!w->daemon) {
		err = EADDRINUSE;
		log_error("web: cannot listen on %s (in use, not a local address, or bad TLS "
			  "certificate/key)", c->web_listen);
		goto out;
	}
	log_info("web: dashboard and API on %s://%s/", w->conf.tls ? "https" : "http",
		 c->web_listen);
	alert_set_listener(alert_to_events, w);
	w->alert_listener = true;
	*out = w;
	return 0;
out:
	web_stop(w);
	return err;
}

void web_stop(struct web *w)
{
	if (!w)
		return;
	if (w->alert_listener)
		alert_set_listener(NULL, NULL);
	events_stop(w->events);
	if (w->daemon)
		MHD_stop_daemon(w->daemon);
	events_free(w->events);
	access_log_close(w->access);
	sessions_free(w->sessions);
	ratelimit_free(w->api_limit);
	ratelimit_free(w->login_limit);
	ratelimit_free(w->lockout);
	free(w->tls_cert);
	free(w->tls_key);
	free(w->proxies);
	memset(w->conf.secret_key, 0, sizeof(w->conf.secret_key));
	free(w);
}

int web_reopen_logs(struct web *w)
{
	return access_log_reopen(w->access);
}
