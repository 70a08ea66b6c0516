/* http.h - what a route handler gets and how it answers (private to src/web). */
#ifndef CALLBOT_WEB_HTTP_H
#define CALLBOT_WEB_HTTP_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

#include "web/web.h"

struct http_req {
	struct MHD_Connection *conn;
	struct web *web;
	const char *method;
	const char *url;
	char client[64]; /* real client address after trusted-proxy resolution */
	bool https;
	unsigned status; /* for the access log */
	size_t bytes;
};

typedef enum MHD_Result (http_route_h)(struct http_req *req);

struct http_route {
	const char *method;
	const char *path;
	http_route_h *handler;
};

enum MHD_Result http_send(struct http_req *req, unsigned status, const char *type,
			  const void *body, size_t len);
enum MHD_Result http_send_json(struct http_req *req, unsigned status, const char *json);
enum MHD_Result http_error(struct http_req *req, unsigned status, const char *msg);

/* Routes, one file each. */
enum MHD_Result route_health(struct http_req *req);

/* Read-only view of the daemon state kept by server.c. */
const struct web_status *web_status_of(const struct web *w);

/* access.log, combined format with the real client address first. */
struct access_log;
int access_log_open(struct access_log **out, const char *dir);
void access_log_close(struct access_log *al);
/* After logrotate moved the file: a new file takes the same descriptor, atomically. */
int access_log_reopen(struct access_log *al);
void access_log_write(struct access_log *al, const struct http_req *req, const char *referer,
		      const char *agent, const char *version);

#endif
