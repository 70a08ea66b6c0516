/* route_health.c - GET /api/health: liveness for monitors and load balancers (no auth). */
#include "web/http.h"

#include <stdio.h>

enum MHD_Result route_health(struct http_req *req)
{
	const struct web_status *s = web_status_of(req->web);
	const char *sip = (s && s->sip_state) ? s->sip_state(s->arg) : "disabled";
	char body[128];

	snprintf(body, sizeof(body), "{\"status\":\"ok\",\"sip\":\"%s\"}", sip);
	return http_send_json(req, 200, body);
}
