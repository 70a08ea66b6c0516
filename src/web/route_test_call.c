/* route_test_call.c - POST /api/test_call {"to": extension} (admin): "Place a test call",
 * an outbound call through the owner's originate callback (OUTBOUND_ALLOW applies). */
#include "web/http.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* An extension, number or SIP URI, as POST /api/calls takes it. */
static bool destination_valid(const char *to)
{
	size_t n = strlen(to);

	if (n == 0 || n > 256)
		return false;
	for (; *to; to++)
		if (!isalnum((unsigned char)*to) && !strchr("+*#@:._-;=", *to))
			return false;
	return true;
}

enum MHD_Result route_test_call(struct http_req *req)
{
	static const char purpose[] = "test call placed from the dashboard's Diagnostics";
	const struct web_status *s = web_status_of(req->web);
	int64_t call_id = 0;
	enum MHD_Result rc;
	json_t *body, *d;
	const char *to;
	char *details;
	int err;

	body = http_body_json(req, &rc);
	if (!body)
		return rc;
	to = json_string_value(json_object_get(body, "to"));
	if (!to || !destination_valid(to)) {
		json_decref(body);
		return http_error(req, 400, "\"to\" must be an extension, number or SIP URI");
	}
	if (!s->originate) {
		json_decref(body);
		return http_error(req, 503, "outbound calls are not available in this build");
	}
	err = s->originate(s->arg, to, purpose, &call_id);
	d = json_pack("{s:s,s:s}", "to", to, "result", err ? "refused" : "started");
	details = d ? json_dumps(d, JSON_COMPACT) : NULL;
	web_audit(req, "test_call", details);
	free(details);
	json_decref(d);
	json_decref(body);
	if (err == EINVAL || err == EPERM)
		return http_error(req, 403, "destination not allowed by OUTBOUND_ALLOW");
	if (err == EBUSY)
		return http_error(req, 503, "too many calls in progress");
	if (err)
		return http_error(req, 502, "the call could not be started");
	return http_send_jsonv(req, 202,
			       json_pack("{s:b,s:s,s:I}", "ok", 1, "status", "started", "call_id",
					 (json_int_t)call_id));
}
