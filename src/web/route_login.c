/* route_login.c - GET/POST /login: the login form (with a signed double-submit CSRF token),
 * Argon2id check, per-address and per-name throttling, session rotation, audit. */
#include "web/assets.h"
#include "web/auth.h"
#include "web/metrics.h"
#include "web/ratelimit.h"
#include "web/session.h"
#include "core/alert.h"
#include "core/log.h"
#include "core/util.h"
#include "crypto/password.h"
#include "crypto/token.h"

#include <errno.h>
#include <pthread.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char dummy_hash[PASSWORD_HASH_MAX];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

/* Unknown names cost the same Argon2id time as known ones (no user enumeration). */
static void make_dummy(void)
{
	if (password_hash("callbot-no-such-user-password", dummy_hash))
		dummy_hash[0] = '\0';
}

static enum MHD_Result render(struct http_req *req, unsigned status, const char *nonce,
			      const char *error, const char *username)
{
	static const char *const names[] = { "csrf", "error", "username", "hidden" };
	const struct asset *tpl = asset_find("login.html");
	char msg[WEB_MAC_LEN + 8], csrf[WEB_MAC_LEN];
	const char *values[4];
	enum MHD_Result rc;
	char *page;

	snprintf(msg, sizeof(msg), "login|%s", nonce);
	web_mac(web_sessions(req->web), msg, csrf);
	values[0] = csrf;
	values[1] = error ? error : "";
	values[2] = username ? username : "";
	values[3] = error ? "" : "hidden";
	page = tpl ? html_render(tpl->body, names, values, 4) : NULL;
	if (!page)
		return http_error(req, 500, "internal error");
	rc = http_send(req, status, "text/html; charset=utf-8", page, strlen(page));
	free(page);
	return rc;
}

enum MHD_Result route_login_page(struct http_req *req)
{
	char nonce[48], cookie[160];

	if (req->user.id && !req->user.via_token)
		return http_redirect(req, 303, "/");
	if (token_random_urlsafe(32, nonce, sizeof(nonce)))
		return http_error(req, 500, "internal error");
	auth_cookie(req, LOGIN_COOKIE, nonce, false, cookie, sizeof(cookie));
	http_add_header(req, "Set-Cookie", cookie);
	return render(req, 200, nonce, NULL, NULL);
}

static bool login_csrf_ok(struct http_req *req, const char **nonce)
{
	char field[128], msg[WEB_MAC_LEN + 8], mac[WEB_MAC_LEN];

	*nonce = http_cookie(req, LOGIN_COOKIE);
	if (!*nonce || strlen(*nonce) != 43 || !http_form_get(req->body, "csrf_token", field,
								 sizeof(field)))
		return false;
	snprintf(msg, sizeof(msg), "login|%s", *nonce);
	web_mac(web_sessions(req->web), msg, mac);
	return ct_streq(mac, field);
}

static void audit_login(struct http_req *req, int64_t uid, const char *action,
			const char *username, const char *reason)
{
	json_t *o = json_pack("{s:s,s:s?}", "username", username, "reason", reason);
	char *details = o ? json_dumps(o, JSON_COMPACT) : NULL;
	int64_t saved = req->user.id;

	req->user.id = uid;
	web_audit(req, action, details);
	req->user.id = saved;
	json_decref(o);
	free(details);
}

static enum MHD_Result failed(struct http_req *req, const char *nonce, const char *username,
			      int64_t uid, const char *reason)
{
	char key[96];
	unsigned retry;

	snprintf(key, sizeof(key), "user:%s", username);
	if (ratelimit_hit(web_lockout(req->web), key, time_now_ms(), &retry) == EAGAIN ||
	    ratelimit_over(web_lockout(req->web), key, time_now_ms(), &retry))
		log_security("login_lockout", "user %s locked for %u s after repeated failures "
			     "(last from %s)", username, retry, req->client);
	log_security("login_failed", "user %s from %s: %s", username, req->client, reason);
	atomic_fetch_add(&web_metrics(req->web)->logins_failed, 1);
	audit_login(req, uid, "login_failed", username, reason);
	json_t *d = json_pack("{s:s,s:s}", "last_client", req->client, "last_user", username);
	char *dj = d ? json_dumps(d, JSON_COMPACT) : NULL;
	alert_count("login_failure_storm", 10, 60000, dj);
	free(dj);
	json_decref(d);
	/* fail2ban counts these: a failed login is always a 401 on POST /login. */
	return render(req, 401, nonce, "Invalid user name or password, or too many attempts.",
		      username);
}

static enum MHD_Result succeeded(struct http_req *req, const struct store_user *u)
{
	char cookie[SESSION_COOKIE_LEN], hdr[256];

	/* A new id on every login: a planted or leaked pre-login id is worthless. */
	session_destroy(web_sessions(req->web), req->user.sid);
	if (session_create(web_sessions(req->web), u->id, time_now_ms(), cookie))
		return http_error(req, 500, "internal error");
	store_user_touch_login(web_store(req->web), u->id, time_now_ms());
	log_security("login_ok", "user %s from %s", u->username, req->client);
	atomic_fetch_add(&web_metrics(req->web)->logins_ok, 1);
	audit_login(req, u->id, "login", u->username, NULL);
	auth_cookie(req, SESSION_COOKIE, cookie, false, hdr, sizeof(hdr));
	http_add_header(req, "Set-Cookie", hdr);
	auth_cookie(req, LOGIN_COOKIE, "", true, hdr, sizeof(hdr));
	http_add_header(req, "Set-Cookie", hdr);
	return http_redirect(req, 303, "/");
}

static void maybe_rehash(struct http_req *req, const struct store_user *u, const char *pw)
{
	char hash[PASSWORD_HASH_MAX];

	if (password_needs_rehash(u->password_hash) && password_hash(pw, hash) == 0)
		store_user_set_password(web_store(req->web), u->username, hash);
}

enum MHD_Result route_login(struct http_req *req)
{
	char username[64] = "", password[1024] = "", key[96], secs[16];
	struct store_user u;
	const char *nonce;
	unsigned retry = 0;
	bool found, ok;
	enum MHD_Result rc;

	if (ratelimit_hit(web_login_limit(req->web), req->client, time_now_ms(), &retry)) {
		atomic_fetch_add(&web_metrics(req->web)->rate_limited, 1);
		log_security("rate_limit", "client %s exceeded the login limit (%s)", req->client,
			     LOGIN_RATE);
		snprintf(secs, sizeof(secs), "%u", retry ? retry : 1);
		http_add_header(req, "Retry-After", secs);
		return http_error(req, 429, "too many login attempts");
	}
	if (!login_csrf_ok(req, &nonce)) {
		log_security("csrf_rejected", "POST /login from %s", req->client);
		return http_error(req, 403, "missing or invalid CSRF token; reload the login page");
	}
	if (!http_form_get(req->body, "username", username, sizeof(username)) ||
	    !http_form_get(req->body, "password", password, sizeof(password)) || !username[0])
		return failed(req, nonce, username[0] ? username : "-", 0, "malformed form");
	pthread_once(&dummy_once, make_dummy);
	found = store_user_get(web_store(req->web), username, &u) == 0;
	ok = password_verify(found ? u.password_hash : dummy_hash, password) && found;
	snprintf(key, sizeof(key), "user:%s", username);
	if (ratelimit_over(web_lockout(req->web), key, time_now_ms(), &retry))
		rc = failed(req, nonce, username, found ? u.id : 0, "locked");
	else if (!ok)
		rc = failed(req, nonce, username, found ? u.id : 0, "bad credentials");
	else if (u.disabled)
		rc = failed(req, nonce, username, u.id, "disabled");
	else {
		ratelimit_reset(web_lockout(req->web), key);
		maybe_rehash(req, &u, password);
		rc = succeeded(req, &u);
	}
	memset(password, 0, sizeof(password));
	return rc;
}
