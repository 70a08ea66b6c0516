/* auth.c - resolves the caller from "Authorization: Bearer cbt_…" or the session cookie;
 * the user row is read on every request so a disabled or demoted user loses access at once. */
#include "web/auth.h"
#include "web/session.h"
#include "core/log.h"
#include "core/util.h"
#include "crypto/token.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static atomic_bool store_failing; /* one log line per outage, not per request */

/* 0, ENOENT (no such user), EACCES (disabled) or the store's error. */
static int load_user(struct http_req *req, int64_t id)
{
	struct store_user u;
	int err = store_user_get_by_id(web_store(req->web), id, &u);

	if (err)
		return err;
	if (u.disabled)
		return EACCES;
	req->user.id = u.id;
	str_copy(req->user.name, sizeof(req->user.name), u.username);
	str_copy(req->user.role, sizeof(req->user.role), u.role);
	req->user.admin = strcmp(u.role, "admin") == 0;
	if (atomic_exchange(&store_failing, false))
		log_info("web: the database answers again");
	return 0;
}

/* A database outage is not a bad credential: nobody is logged out or reported to fail2ban
 * for it, and the request is answered 503 (server.c). */
static void store_failed(struct http_req *req, int err)
{
	if (!atomic_exchange(&store_failing, true))
		log_warn("web: cannot check credentials: database: %s; answering 503 until it "
			 "is back", strerror(err));
	memset(&req->user, 0, sizeof(req->user));
	req->store_down = true;
}

static void resolve_bearer(struct http_req *req, const char *authz)
{
	char hash[TOKEN_SHA256_HEX_LEN + 1];
	struct store_token t;
	const char *tok = authz + 7;
	int err;

	while (*tok == ' ')
		tok++;
	if (strlen(tok) > 128)
		return;
	token_sha256_hex(tok, hash);
	err = store_token_find(web_store(req->web), hash, &t);
	if (err == ENOENT) {
		log_security("auth_failed", "invalid API token from %s", req->client);
		return;
	}
	if (!err)
		err = load_user(req, t.user_id);
	if (!err)
		req->user.via_token = true;
	else if (err != ENOENT && err != EACCES)
		store_failed(req, err);
}

void auth_resolve(struct http_req *req)
{
	const char *authz = http_header(req, "Authorization");
	const char *cookie;
	int64_t uid;
	int err;

	memset(&req->user, 0, sizeof(req->user));
	req->store_down = false;
	if (authz && strncasecmp(authz, "Bearer ", 7) == 0) {
		resolve_bearer(req, authz);
		return;
	}
	cookie = http_cookie(req, SESSION_COOKIE);
	if (!cookie || session_lookup(web_sessions(req->web), cookie, time_now_ms(), &uid,
				      req->user.sid, req->user.csrf))
		return;
	err = load_user(req, uid);
	if (err == ENOENT || err == EACCES) {
		session_destroy(web_sessions(req->web), req->user.sid);
		memset(&req->user, 0, sizeof(req->user));
	} else if (err) {
		store_failed(req, err);
	}
}

bool auth_csrf_valid(const struct http_req *req)
{
	const char *h = http_header(req, "X-CSRF-Token");
	char field[128];

	if (!req->user.csrf[0])
		return false;
	if (h)
		return ct_streq(h, req->user.csrf);
	if (http_form_get(req->body, "csrf_token", field, sizeof(field)))
		return ct_streq(field, req->user.csrf);
	return false;
}

void auth_cookie(const struct http_req *req, const char *name, const char *value, bool clear,
		 char *out, size_t cap)
{
	snprintf(out, cap, "%s=%s; Path=/; HttpOnly; SameSite=Strict%s%s", name,
		 clear ? "" : value, req->https ? "; Secure" : "", clear ? "; Max-Age=0" : "");
}
