/* route_audit.c - GET /api/audit?page=&per_page= (admin): the audit log, newest first. */
#include "web/query.h"

#include <errno.h>

static int add_row(struct store_audit_row *r, void *arg)
{
	json_t *o = json_pack("{s:I,s:o,s:s?,s:s,s:s?,s:s?}", "id", (json_int_t)r->id,
			      "timestamp", json_time(r->timestamp), "user",
			      r->username[0] ? r->username : NULL, "action", r->action, "details",
			      r->details, "ip_address", r->ip_address[0] ? r->ip_address : NULL);

	return o && json_array_append_new(arg, o) == 0 ? 0 : ENOMEM;
}

enum MHD_Result route_audit(struct http_req *req)
{
	int page, per_page;
	int64_t total = 0;
	json_t *rows;

	if (!query_paging(req, &page, &per_page))
		return http_error(req, 400, "page must be >= 1 and per_page 1 to 100");
	rows = json_array();
	if (!rows || store_audit_list(web_store(req->web), (int64_t)(page - 1) * per_page, per_page,
				      add_row, rows, &total)) {
		json_decref(rows);
		return http_error(req, 500, "the database is not available");
	}
	return http_send_jsonv(req, 200, json_pack("{s:o,s:i,s:i,s:I}", "entries", rows, "page", page,
						   "per_page", per_page, "total",
						   (json_int_t)total));
}
