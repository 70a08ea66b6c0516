/* route_calls_list.c - GET /api/calls: search (q over caller, callee and transcripts),
 * filters (caller, from, to, status) and pagination. */
#include "web/query.h"

#include <errno.h>

static int add_call(const struct store_call *c, void *arg)
{
	json_t *o = call_json(c);

	if (!o)
		return ENOMEM;
	return json_array_append_new(arg, o) ? ENOMEM : 0;
}

enum MHD_Result route_calls_list(struct http_req *req)
{
	struct store_call_filter f = { 0 };
	int page, per_page, err;
	int64_t total = 0;
	json_t *calls;

	if (!query_paging(req, &page, &per_page))
		return http_error(req, 400, "page must be >= 1 and per_page 1 to 100");
	if (!query_text(req, "q", 200, &f.q) || !query_text(req, "caller", 127, &f.caller) ||
	    !query_text(req, "status", 23, &f.status))
		return http_error(req, 400, "invalid q, caller or status parameter");
	if (!query_time(req, "from", &f.from_ms) || !query_time(req, "to", &f.to_ms))
		return http_error(req, 400, "from and to must be dates (YYYY-MM-DD) or ISO-8601 times");
	f.limit = per_page;
	f.offset = (int64_t)(page - 1) * per_page;
	calls = json_array();
	if (!calls)
		return http_error(req, 500, "internal error");
	err = store_call_list(web_store(req->web), &f, add_call, calls, &total);
	if (err) {
		json_decref(calls);
		return http_error(req, err == EBUSY || err == ENOTCONN ? 503 : 500,
				  "the database is not available");
	}
	return http_send_jsonv(req, 200, json_pack("{s:o,s:i,s:i,s:I}", "calls", calls, "page", page,
						   "per_page", per_page, "total",
						   (json_int_t)total));
}
