/* route_user_add.c - POST /api/users (admin) {"username","password","role"}. */
#include "web/user_util.h"
#include "crypto/password.h"

#include <errno.h>
#include <string.h>

enum MHD_Result route_user_add(struct http_req *req)
{
	const char *name, *pw, *role;
	char hash[PASSWORD_HASH_MAX];
	enum MHD_Result rc;
	int64_t id = 0;
	json_t *body;
	int err;

	body = http_body_json(req, &rc);
	if (!body)
		return rc;
	name = json_string_value(json_object_get(body, "username"));
	pw = json_string_value(json_object_get(body, "password"));
	role = json_string_value(json_object_get(body, "role"));
	if (!role)
		role = "viewer";
	if (!user_name_valid(name) || !store_user_role_valid(role)) {
		json_decref(body);
		return http_error(req, 400, "username: 1-63 of A-Z a-z 0-9 . _ @ -; role: admin or viewer");
	}
	if (!pw || strlen(pw) < USER_PASSWORD_MIN || strlen(pw) > 1024) {
		json_decref(body);
		return http_error(req, 400, "the password needs at least 12 characters");
	}
	err = password_hash(pw, hash);
	if (!err)
		err = store_user_add(web_store(req->web), name, hash, role, &id);
	if (err == EEXIST) {
		json_decref(body);
		return http_error(req, 409, "this user name is taken");
	}
	if (err) {
		json_decref(body);
		return http_error(req, 500, "the user could not be created");
	}
	user_audit(req, "user_add", json_pack("{s:s,s:s}", "username", name, "role", role));
	rc = http_send_jsonv(req, 201, json_pack("{s:I,s:s,s:s}", "id", (json_int_t)id, "username",
						 name, "role", role));
	json_decref(body);
	return rc;
}
