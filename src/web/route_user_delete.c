/* route_user_delete.c - DELETE /api/users/<name> (admin; not yourself). */
#include "web/session.h"
#include "web/user_util.h"

enum MHD_Result route_user_delete(struct http_req *req)
{
	const char *name = http_path_tail(req, "/api/users/");
	struct store_user u;

	if (!user_name_valid(name) || store_user_get(web_store(req->web), name, &u))
		return http_error(req, 404, "no such user");
	if (u.id == req->user.id)
		return http_error(req, 400, "you cannot delete your own account");
	if (store_user_del(web_store(req->web), u.username))
		return http_error(req, 500, "the user could not be deleted");
	session_destroy_user(web_sessions(req->web), u.id);
	user_audit(req, "user_delete", json_pack("{s:s,s:s}", "username", u.username, "role", u.role));
	return http_send_jsonv(req, 200, json_pack("{s:b}", "deleted", 1));
}
