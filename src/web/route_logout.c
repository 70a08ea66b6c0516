/* route_logout.c - POST /logout (CSRF-checked by the router): ends the session, audits. */
#include "web/auth.h"
#include "web/session.h"

enum MHD_Result route_logout(struct http_req *req)
{
	char hdr[160];

	web_audit(req, "logout", NULL);
	session_destroy(web_sessions(req->web), req->user.sid);
	auth_cookie(req, SESSION_COOKIE, "", true, hdr, sizeof(hdr));
	http_add_header(req, "Set-Cookie", hdr);
	return http_redirect(req, 303, "/login");
}
