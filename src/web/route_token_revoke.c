/* route_token_revoke.c - DELETE /api/tokens/<id>: your own token, or any token as admin. */
#include "web/user_util.h"

#include <errno.h>

struct find_ctx {
	int64_t id;
	int64_t owner;
	bool found;
};

static int find_token(const struct store_token *t, void *arg)
{
	struct find_ctx *f = arg;

	if (t->id != f->id)
		return 0;
	f->owner = t->user_id;
	f->found = true;
	return 1; /* stop */
}

enum MHD_Result route_token_revoke(struct http_req *req)
{
	struct find_ctx f = { 0 };

	if (!http_parse_id(http_path_tail(req, "/api/tokens/"), &f.id))
		return http_error(req, 404, "not found");
	store_token_list(web_store(req->web), find_token, &f);
	/* Someone else's token looks the same as a missing one. */
	if (!f.found || (!req->user.admin && f.owner != req->user.id))
		return http_error(req, 404, "no such token");
	if (store_token_revoke(web_store(req->web), f.id))
		return http_error(req, 500, "the token could not be revoked");
	user_audit(req, "token_revoke", json_pack("{s:I,s:I}", "id", (json_int_t)f.id, "owner_id",
						  (json_int_t)f.owner));
	return http_send_jsonv(req, 200, json_pack("{s:b}", "revoked", 1));
}
