/* route_stats.c - GET /api/stats: today's totals (UTC day), mean response latency, SIP state. */
#include "web/http.h"
#include "core/util.h"

enum MHD_Result route_stats(struct http_req *req)
{
	const struct web_status *s = web_status_of(req->web);
	const char *sip = s->sip_state ? s->sip_state(s->arg) : "disabled";
	int64_t now = time_now_ms(), today = now - now % 86400000LL;
	struct store_call_stats st = { 0 };
	json_t *active = active_calls_snapshot(req->web);

	if (store_call_stats(web_store(req->web), today, &st)) {
		json_decref(active);
		return http_error(req, 500, "the database is not available");
	}
	size_t n_active = active ? json_array_size(active) : 0;

	json_decref(active);
	return http_send_jsonv(
		req, 200,
		json_pack("{s:{s:I,s:I,s:I,s:o},s:I,s:s,s:o}", "today", "calls",
			  (json_int_t)st.calls, "answered", (json_int_t)st.answered, "turns",
			  (json_int_t)st.turns, "avg_response_ms",
			  st.avg_response_ms >= 0 ? json_integer(st.avg_response_ms) : json_null(),
			  "active", (json_int_t)n_active, "sip",
			  sip ? sip : "unknown", "since", json_time(today)));
}
