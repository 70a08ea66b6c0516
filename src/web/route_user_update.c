/* route_user_update.c - POST /api/users/<name> (admin) {"role"?, "disabled"?, "password"?}.
 * An admin cannot demote or disable themself (no lock-out by mistake). */
#include "web/session.h"
#include "web/user_util.h"
#include "crypto/password.h"

#include <errno.h>
#include <string.h>

static const char *check(struct http_req *req, const struct store_user *u, json_t *body)
{
	json_t *role = json_object_get(body, "role"), *dis = json_object_get(body, "disabled");
	json_t *pw = json_object_get(body, "password");
	bool self = u->id == req->user.id;

	if (!role && !dis && !pw)
		return "nothing to change (role, disabled, password)";
	if (role && (!json_is_string(role) || !store_user_role_valid(json_string_value(role))))
		return "role must be admin or viewer";
	if (dis && !json_is_boolean(dis))
		return "disabled must be true or false";
	if (pw && (!json_is_string(pw) || strlen(json_string_value(pw)) < USER_PASSWORD_MIN ||
		   strlen(json_string_value(pw)) > 1024))
		return "the password needs at least 12 characters";
	if (self && ((role && strcmp(json_string_value(role), "admin") != 0) || json_is_true(dis)))
		return "you cannot demote or disable your own account";
	return NULL;
}

static int apply(struct http_req *req, const struct store_user *u, json_t *body, json_t *d)
{
	json_t *role = json_object_get(body, "role"), *dis = json_object_get(body, "disabled");
	json_t *pw = json_object_get(body, "password");
	char hash[PASSWORD_HASH_MAX];
	int err = 0;

	if (role) {
		err = store_user_set_role(web_store(req->web), u->username, json_string_value(role));
		json_object_set_new(d, "role", json_pack("{s:s,s:s}", "old", u->role, "new",
							 json_string_value(role)));
	}
	if (!err && dis) {
		err = store_user_set_disabled(web_store(req->web), u->username, json_is_true(dis));
		json_object_set_new(d, "disabled", json_pack("{s:b,s:b}", "old", u->disabled, "new",
							     json_is_true(dis)));
	}
	if (!err && pw) {
		err = password_hash(json_string_value(pw), hash);
		if (!err)
			err = store_user_set_password(web_store(req->web), u->username, hash);
		json_object_set_new(d, "password", json_string("changed"));
	}
	/* Any change to an account ends its other sessions. */
	if (!err && (json_is_true(dis) || pw || role) && u->id != req->user.id)
		session_destroy_user(web_sessions(req->web), u->id);
	return err;
}

enum MHD_Result route_user_update(struct http_req *req)
{
	const char *name = http_path_tail(req, "/api/users/"), *msg;
	struct store_user u;
	enum MHD_Result rc;
	json_t *body, *d;
	int err;

	if (!user_name_valid(name) || store_user_get(web_store(req->web), name, &u))
		return http_error(req, 404, "no such user");
	body = http_body_json(req, &rc);
	if (!body)
		return rc;
	msg = check(req, &u, body);
	if (msg) {
		json_decref(body);
		return http_error(req, 400, msg);
	}
	d = json_pack("{s:s}", "username", u.username);
	err = d ? apply(req, &u, body, d) : ENOMEM;
	json_decref(body);
	user_audit(req, err ? "user_update_failed" : "user_update", d);
	if (err)
		return http_error(req, 500, "the user could not be changed");
	return http_send_jsonv(req, 200, json_pack("{s:b}", "ok", 1));
}
