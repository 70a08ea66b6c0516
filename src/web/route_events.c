/* route_events.c - GET /api/events: Server-Sent Events ("state" with SIP state and active
 * calls on every change, plus whatever the owner publishes with web_publish_event()). */
#include "web/events.h"
#include "web/http.h"

#include <stdlib.h>

enum MHD_Result route_events(struct http_req *req)
{
	const struct web_status *s = web_status_of(req->web);
	const char *sip = s->sip_state ? s->sip_state(s->arg) : "disabled";
	json_t *snap = json_pack("{s:s,s:o}", "sip", sip ? sip : "unknown", "calls",
				 active_calls_snapshot(req->web));
	char *text = snap ? json_dumps(snap, JSON_COMPACT) : NULL;
	char *first = text ? events_format("state", text) : NULL;
	struct MHD_Response *r;

	json_decref(snap);
	free(text);
	r = events_subscribe(web_events(req->web), req->conn, first);
	free(first);
	if (!r)
		return http_error(req, 503, "too many event streams");
	MHD_add_response_header(r, "Content-Type", "text/event-stream");
	MHD_add_response_header(r, "X-Accel-Buffering", "no"); /* nginx: do not buffer */
	return http_queue(req, 200, r);
}
