/* route_export.c - GET /api/export?caller=NUM (admin): every call of one caller with its
 * turns as one JSON download (recordings: `callbot export`). Audited. */
#include "web/query.h"

#include "core/util.h"

#include <errno.h>
#include <stdlib.h>

struct export_ctx {
	struct http_req *req;
	json_t *calls;
};

static int add_call(const struct store_call *c, void *arg)
{
	struct export_ctx *ctx = arg;
	json_t *o = call_json(c), *turns = call_turns_json(ctx->req, c->id);

	if (!o || !turns) {
		json_decref(o);
		json_decref(turns);
		return ENOMEM;
	}
	json_object_set_new(o, "turns", turns);
	return json_array_append_new(ctx->calls, o) ? ENOMEM : 0;
}

enum MHD_Result route_export(struct http_req *req)
{
	struct store_call_filter f = { 0 };
	struct export_ctx ctx = { req, json_array() };
	json_t *d;
	char *details;
	int err;

	if (!query_text(req, "caller", 127, &f.caller) || !f.caller) {
		json_decref(ctx.calls);
		return http_error(req, 400, "caller is required");
	}
	err = ctx.calls ? store_call_list(web_store(req->web), &f, add_call, &ctx, NULL) : ENOMEM;
	d = json_pack("{s:s,s:I,s:s}", "caller", f.caller, "calls",
		      (json_int_t)json_array_size(ctx.calls), "result", err ? "failed" : "ok");
	details = d ? json_dumps(d, JSON_COMPACT) : NULL;
	web_audit(req, "export", details);
	free(details);
	json_decref(d);
	if (err) {
		json_decref(ctx.calls);
		return http_error(req, 500, "the database is not available");
	}
	http_add_header(req, "Content-Disposition", "attachment; filename=\"callbot-export.json\"");
	return http_send_jsonv(req, 200, json_pack("{s:s,s:o,s:o}", "caller", f.caller,
						   "exported_at", json_time(time_now_ms()),
						   "calls", ctx.calls));
}
