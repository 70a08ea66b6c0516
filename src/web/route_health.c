/* route_health.c - GET /api/health: liveness for monitors and load balancers (no auth). */
#include "web/http.h"

enum MHD_Result route_health(struct http_req *req)
{
	const struct web_status *s = web_status_of(req->web);
	const char *sip = (s && s->sip_state) ? s->sip_state(s->arg) : "disabled";

	return http_send_jsonv(req, 200, json_pack("{s:s,s:s}", "status", "ok", "sip",
						   sip ? sip : "unknown"));
}
