/* route_me.c - GET /api/me: who is logged in, and the CSRF token the pages' scripts send. */
#include "web/http.h"

enum MHD_Result route_me(struct http_req *req)
{
	return http_send_jsonv(req, 200,
			       json_pack("{s:I,s:s,s:s,s:s?,s:b}", "id", (json_int_t)req->user.id,
					 "username", req->user.name, "role", req->user.role,
					 "csrf_token", req->user.csrf[0] ? req->user.csrf : NULL,
					 "token_auth", req->user.via_token));
}
