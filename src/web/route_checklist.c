/* route_checklist.c - GET /api/checklist and POST /api/checklist/dismiss (admin): the
 * first-run checklist (call/diag.c, the facts of `callbot check`) until done or dismissed. */
#include "web/http.h"
#include "call/diag.h"

#include <stdlib.h>
#include <string.h>

/* In the settings table, but not a configuration key: serve never applies it. */
#define DISMISSED_KEY "ui.checklist_dismissed"

enum MHD_Result route_checklist(struct http_req *req)
{
	struct diag_check items[DIAG_ITEMS];
	json_t *arr = json_array(), *o;
	char *dismissed = NULL;
	bool all = true;

	if (!arr)
		return http_error(req, 500, "internal error");
	diag_checklist(web_conf(req->web)->conf, web_store(req->web), req->https, items);
	for (int i = 0; i < DIAG_ITEMS; i++) {
		all = all && items[i].done;
		json_array_append_new(arr, json_pack("{s:s,s:s,s:b,s:s}", "id", items[i].id,
						     "title", items[i].title, "done", items[i].done,
						     "detail", items[i].detail));
	}
	store_setting_get(web_store(req->web), DISMISSED_KEY, &dismissed);
	o = json_pack("{s:o,s:b,s:b}", "items", arr, "all_done", all, "dismissed",
		      dismissed && strcmp(dismissed, "1") == 0);
	free(dismissed);
	if (o)
		json_object_set_new(
		    o, "show",
		    json_boolean(!all && !json_is_true(json_object_get(o, "dismissed"))));
	return http_send_jsonv(req, 200, o);
}

enum MHD_Result route_checklist_dismiss(struct http_req *req)
{
	int err = store_setting_set(web_store(req->web), DISMISSED_KEY, "1", req->user.name);

	if (err)
		return http_error(req, 500, "the checklist could not be dismissed");
	web_audit(req, "checklist_dismiss", NULL);
	return http_send_jsonv(req, 200, json_pack("{s:b}", "ok", 1));
}
