/* web.h - the dashboard/API HTTP server (libmicrohttpd) as the rest of callbot sees it. */
#ifndef CALLBOT_WEB_WEB_H
#define CALLBOT_WEB_WEB_H

#include "core/config.h"

struct store;
struct web;

/* What the web side may read about the running daemon; filled by its owner. */
struct web_status {
	const char *(*sip_state)(void *arg); /* "registered", "unregistered", "disabled", ... */
	void *arg;
};

/* Starts listening on WEB_LISTEN; access.log goes to LOG_DIR. */
int web_start(struct web **out, const struct conf *c, struct store *st,
	      const struct web_status *status);
void web_stop(struct web *w);
/* Re-opens access.log (after logrotate) */
int web_reopen_logs(struct web *w);

#endif
