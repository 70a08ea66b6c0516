/* server.c - libmicrohttpd daemon: limits, client address, routing, headers, access log. */
#include "web/http.h"
#include "core/log.h"
#include "core/netaddr.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BODY_MAX (64 * 1024)

struct web {
	struct MHD_Daemon *daemon;
	struct store *store;
	struct web_status status;
	struct cidr *proxies;
	size_t proxies_n;
	struct access_log *access;
	char log_dir[4096];
};

struct req_ctx {
	struct http_req req;
	size_t body_len;
	bool too_large;
};

static const struct http_route routes[] = {
	{ "GET", "/api/health", route_health },
};

const struct web_status *web_status_of(const struct web *w)
{
	return &w->status;
}

static void add_security_headers(struct MHD_Response *r, bool https)
{
	MHD_add_response_header(r, "Content-Security-Policy", "default-src 'self'");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Referrer-Policy", "same-origin");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	if (https)
		MHD_add_response_header(r, "Strict-Transport-Security",
					"max-age=31536000; includeSubDomains");
}

enum MHD_Result http_send(struct http_req *req, unsigned status, const char *type,
			  const void *body, size_t len)
{
	struct MHD_Response *r;
	enum MHD_Result rc;

	r = MHD_create_response_from_buffer(len, (void *)(uintptr_t)body, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", type);
	add_security_headers(r, req->https);
	rc = MHD_queue_response(req->conn, status, r);
	MHD_destroy_response(r);
	req->status = status;
	req->bytes = len;
	return rc;
}

enum MHD_Result http_send_json(struct http_req *req, unsigned status, const char *json)
{
	return http_send(req, status, "application/json", json, strlen(json));
}

enum MHD_Result http_error(struct http_req *req, unsigned status, const char *msg)
{
	char body[256];

	/* msg is always one of our own constant phrases, never request data. */
	snprintf(body, sizeof(body), "{\"error\":\"%s\"}", msg);
	return http_send_json(req, status, body);
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
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
			  req->client, sizeof(req->client));
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
			  req->client, sizeof(req->client));
	if (!sa || !cidr_list_match(w->proxies, w->proxies_n, sa))
		return;

	proto = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "X-Forwarded-Proto");
	if (proto && strcmp(proto, "https") == 0)
		req->https = true;
	xff = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "X-Forwarded-For");
	if (xff && strlen(xff) < 2048) {
		char copy[2048], ip[64];
		strcpy(copy, xff);
		for (char *comma = strrchr(copy, ','); ; comma = strrchr(copy, ',')) {
			const char *hop = comma ? comma + 1 : copy;
			if (!parse_ip(hop, ip, sizeof(ip)))
				break;
			str_copy(req->client, sizeof(req->client), ip);
			if (!cidr_list_match_str(w->proxies, w->proxies_n, ip) || !comma)
				return;
			*comma = '\0';
		}
		return;
	}
	real = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "X-Real-IP");
	if (real)
		parse_ip(real, req->client, sizeof(req->client));
}

static enum MHD_Result dispatch(struct http_req *req)
{
	const char *path_end = req->url + strcspn(req->url, "?");
	size_t plen = (size_t)(path_end - req->url);
	bool path_known = false;

	for (size_t i = 0; i < ARRAY_SIZE(routes); i++) {
		if (strlen(routes[i].path) != plen || strncmp(routes[i].path, req->url, plen) != 0)
			continue;
		path_known = true;
		if (strcmp(routes[i].method, req->method) == 0 ||
		    (strcmp(req->method, "HEAD") == 0 && strcmp(routes[i].method, "GET") == 0))
			return routes[i].handler(req);
	}
	if (path_known)
		return http_error(req, 405, "method not allowed");
	return http_error(req, 404, "not found");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size,
				  void **con_cls)
{
	struct web *w = cls;
	struct req_ctx *ctx = *con_cls;

	(void)version;
	(void)upload_data;
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
		*con_cls = ctx;
		return MHD_YES;
	}
	if (*upload_data_size) {
		/* Bodies are read by the routes that need them; here only the bound. */
		ctx->body_len += *upload_data_size;
		if (ctx->body_len > BODY_MAX)
			ctx->too_large = true;
		*upload_data_size = 0;
		return MHD_YES;
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
	access_log_write(w->access, &ctx->req,
			 MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Referer"),
			 MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "User-Agent"), NULL);
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

int web_start(struct web **out, const struct conf *c, struct store *st,
	      const struct web_status *status)
{
	struct sockaddr_storage ss = { 0 };
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL_LINUX_ONLY |
			 MHD_USE_ERROR_LOG;
	struct web *w;
	int err;

	w = calloc(1, sizeof(*w));
	if (!w)
		return ENOMEM;
	w->store = st;
	if (status)
		w->status = *status;
	str_copy(w->log_dir, sizeof(w->log_dir), c->log_dir);
	err = cidr_list_parse(c->trusted_proxies, &w->proxies, &w->proxies_n);
	if (err)
		goto out;
	err = access_log_open(&w->access, c->log_dir);
	if (err) {
		log_error("web: cannot open %s/access.log: %s", c->log_dir, strerror(err));
		goto out;
	}
	err = resolve_listen(&c->web_listen_hp, &ss);
	if (err) {
		log_error("web: WEB_LISTEN %s is not a usable address", c->web_listen);
		goto out;
	}
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	w->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, w,
				     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				     MHD_OPTION_THREAD_POOL_SIZE, 2u,
				     MHD_OPTION_CONNECTION_LIMIT, 512u,
				     MHD_OPTION_PER_IP_CONNECTION_LIMIT, 64u,
				     MHD_OPTION_CONNECTION_TIMEOUT, 30u,
				     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
				     MHD_OPTION_NOTIFY_COMPLETED, on_completed, w,
				     MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
				     MHD_OPTION_END);
	if (!w->daemon) {
		err = EADDRINUSE;
		log_error("web: cannot listen on %s (in use, or not a local address)", c->web_listen);
		goto out;
	}
	log_info("web: dashboard and API on http://%s/", c->web_listen);
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
	if (w->daemon)
		MHD_stop_daemon(w->daemon);
	access_log_close(w->access);
	free(w->proxies);
	free(w);
}

int web_reopen_logs(struct web *w)
{
	return access_log_reopen(w->access);
}
