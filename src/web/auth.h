/* auth.h - who is asking: session cookie or Bearer token, CSRF and login throttling (private). */
#ifndef CALLBOT_WEB_AUTH_H
#define CALLBOT_WEB_AUTH_H

#include <stdbool.h>

#include "web/http.h"

/* Per client address on POST /login, stricter than RATE_LIMITS. */
#define LOGIN_RATE "10 per minute, 60 per hour"
/* Failed logins per user name before the name is locked for the rest of the window. */
#define LOCKOUT_RATE "5 per 15 minutes"

/* Fills req->user from a valid Bearer token or session cookie (anonymous otherwise). */
void auth_resolve(struct http_req *req);
/* The request carries the session's CSRF token (X-CSRF-Token header or a
 * csrf_token form field). */
bool auth_csrf_valid(const struct http_req *req);
/* Set-Cookie value for the session cookie (empty value + Max-Age=0 clears it). */
void auth_cookie(const struct http_req *req, const char *name, const char *value, bool clear,
		 char *out, size_t cap);

struct ratelimit;
struct ratelimit *web_login_limit(const struct web *w);
struct ratelimit *web_lockout(const struct web *w);
struct ratelimit *web_api_limit(const struct web *w);

#endif
