/* route_tokens.c - GET /api/tokens: your API tokens (admins: everyone's), never the secrets. */
#include "web/http.h"

#include <errno.h>
#include <string.h>

struct tokens_ctx {
	const struct http_req *req;
	json_t *arr;
};

static int add_token(const struct store_token *t, void *arg)
{
	struct tokens_ctx *ctx = arg;
	json_t *o;

	if (!ctx->req->user.admin && t->user_id != ctx->req->user.id)
		return 0;
	o = json_pack("{s:I,s:s,s:s,s:o,s:o}", "id", (json_int_t)t->id, "user", t->username,
		      "name", t->name, "created_at", json_time(t->created_at), "last_used_at",
		      json_time(t->last_used_at));
	return o && json_array_append_new(ctx->arr, o) == 0 ? 0 : ENOMEM;
}

enum MHD_Result route_tokens_list(struct http_req *req)
{
	struct tokens_ctx ctx = { req, json_array() };

	if (!ctx.arr || store_token_list(web_store(req->web), add_token, &ctx)) {
		json_decref(ctx.arr);
		return http_error(req, 500, "the database is not available");
	}
	return http_send_jsonv(req, 200, json_pack("{s:o}", "tokens", ctx.arr));
}
