/* session.h - server-side dashboard sessions and the SECRET_KEY MAC (private to src/web). */
#ifndef CALLBOT_WEB_SESSION_H
#define CALLBOT_WEB_SESSION_H

#include <stddef.h>
#include <stdint.h>

#define SESSION_COOKIE "callbot_session"
#define LOGIN_COOKIE "callbot_login"
#define SESSION_IDLE_MS (30LL * 60 * 1000)
#define SESSION_ABSOLUTE_MS (12LL * 3600 * 1000)
#define SESSION_MAX 4096
/* 43 chars of id, '.', 43 chars of MAC, NUL. */
#define SESSION_COOKIE_LEN 96
#define WEB_MAC_LEN 44

struct sessions;

int sessions_new(struct sessions **out, const char *secret_key);
void sessions_free(struct sessions *s);
/* A new session for user_id; writes the cookie value "id.mac". */
int session_create(struct sessions *s, int64_t user_id, int64_t now_ms,
		   char cookie[SESSION_COOKIE_LEN]);
/* Checks the cookie's MAC and the session's idle and absolute expiry, then
 * touches it. Returns 0 with the user id, session id and CSRF token, or ENOENT. */
int session_lookup(struct sessions *s, const char *cookie, int64_t now_ms, int64_t *user_id,
		   char sid[64], char csrf[64]);
void session_destroy(struct sessions *s, const char *sid);
/* Ends every session of a user (disabled, deleted, new password). */
void session_destroy_user(struct sessions *s, int64_t user_id);
size_t session_count(struct sessions *s);
/* HMAC-SHA256 of msg under a key derived from SECRET_KEY, URL-safe base64. */
void web_mac(const struct sessions *s, const char *msg, char out[WEB_MAC_LEN]);

#endif
