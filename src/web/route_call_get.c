/* route_call_get.c - GET /api/calls/<id>: one call with its turns and their timings. */
#include "web/http.h"

#include <errno.h>

enum MHD_Result route_call_get(struct http_req *req)
{
	struct store_call c;
	int64_t id;
	json_t *o, *turns;
	int err;

	if (!http_parse_id(http_path_tail(req, "/api/calls/"), &id))
		return http_error(req, 404, "not found");
	err = store_call_get(web_store(req->web), id, &c);
	if (err == ENOENT)
		return http_error(req, 404, "no such call");
	if (err)
		return http_error(req, 500, "the database is not available");
	o = call_json(&c);
	turns = call_turns_json(req, id);
	if (!o || !turns) {
		json_decref(o);
		json_decref(turns);
		return http_error(req, 500, "internal error");
	}
	json_object_set_new(o, "turns", turns);
	return http_send_jsonv(req, 200, o);
}
