/* route_users.c - GET /api/users (admin): dashboard users (never their hashes). */
#include "web/http.h"

#include <errno.h>

static int add_user(const struct store_user *u, void *arg)
{
	json_t *o = json_pack("{s:I,s:s,s:s,s:b,s:o,s:o}", "id", (json_int_t)u->id, "username",
			      u->username, "role", u->role, "disabled", u->disabled, "created_at",
			      json_time(u->created_at), "last_login_at",
			      json_time(u->last_login_at));

	return o && json_array_append_new(arg, o) == 0 ? 0 : ENOMEM;
}

enum MHD_Result route_users_list(struct http_req *req)
{
	json_t *arr = json_array();

	if (!arr || store_user_list(web_store(req->web), add_user, arr)) {
		json_decref(arr);
		return http_error(req, 500, "the database is not available");
	}
	return http_send_jsonv(req, 200, json_pack("{s:o}", "users", arr));
}
