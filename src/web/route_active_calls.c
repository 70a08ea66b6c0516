/* route_active_calls.c - GET /api/active_calls, and the snapshot the event stream watches. */
#include "web/http.h"

#include <errno.h>

static int add_active(const struct store_call *c, void *arg)
{
	json_t *o;

	if (c->ended_at || json_array_size(arg) >= 200)
		return 0;
	o = json_pack("{s:I,s:s,s:s,s:o,s:s}", "id", (json_int_t)c->id, "caller", c->caller,
		      "callee", c->callee, "started_at", json_time(c->started_at), "state",
		      c->status);
	return o && json_array_append_new(arg, o) == 0 ? 0 : ENOMEM;
}

/* Statuses of a call row that has not ended (the call service writes "ringing" and
 * "in_progress"; "active" is accepted as well). */
static const char *const live_statuses[] = { "ringing", "in_progress", "active" };

/* Without the owner's callback, calls rows with one of live_statuses and no ended_at are the
 * active calls (the call service writes those rows as calls progress; tests insert them).
 * The callback, when set, replaces this. */
json_t *active_calls_snapshot(struct web *w)
{
	const struct web_status *s = web_status_of(w);
	json_t *arr = NULL;

	if (s->active_calls) {
		if (s->active_calls(s->arg, &arr) == 0 && json_is_array(arr))
			return arr;
		json_decref(arr);
		return json_array();
	}
	arr = json_array();
	for (size_t i = 0; arr && i < sizeof(live_statuses) / sizeof(live_statuses[0]); i++) {
		struct store_call_filter f = { .status = live_statuses[i], .limit = 200 };
		if (store_call_list(web_store(w), &f, add_active, arr, NULL)) {
			json_decref(arr);
			return json_array();
		}
	}
	return arr;
}

enum MHD_Result route_active_calls(struct http_req *req)
{
	const struct web_status *s = web_status_of(req->web);
	const char *sip = s->sip_state ? s->sip_state(s->arg) : "disabled";

	return http_send_jsonv(req, 200, json_pack("{s:o,s:s}", "calls",
						   active_calls_snapshot(req->web), "sip",
						   sip ? sip : "unknown"));
}
