/* route_call_originate.c - POST /api/calls (admin or token): place an outbound call
 * {"to":…, "purpose":…} through the owner's originate callback. */
#include "web/http.h"
#include "core/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A number or SIP URI: no spaces, quotes, angle brackets or control characters. */
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

enum MHD_Result route_call_originate(struct http_req *req)
{
	const struct web_status *s = web_status_of(req->web);
	const char *to, *purpose;
	int64_t call_id = 0;
	enum MHD_Result rc;
	json_t *body, *d;
	char *details;
	int err;

	body = http_body_json(req, &rc);
	if (!body)
		return rc;
	to = json_string_value(json_object_get(body, "to"));
	purpose = json_string_value(json_object_get(body, "purpose"));
	if (!to || !destination_valid(to) || (purpose && strlen(purpose) > 2000)) {
		json_decref(body);
		return http_error(req, 400, "\"to\" must be a number or SIP URI; \"purpose\" at most "
					    "2000 characters");
	}
	if (!s->originate) {
		json_decref(body);
		return http_error(req, 503, "outbound calls are not available in this build");
	}
	err = s->originate(s->arg, to, purpose, &call_id);
	d = json_pack("{s:s,s:s?,s:s}", "to", to, "purpose", purpose, "result",
		      err ? "refused" : "started");
	details = d ? json_dumps(d, JSON_COMPACT) : NULL;
	web_audit(req, "call_originate", details);
	free(details);
	json_decref(d);
	json_decref(body);
	if (err == EINVAL || err == EPERM)
		return http_error(req, 403, "destination not allowed by OUTBOUND_ALLOW");
	if (err == EBUSY)
		return http_error(req, 503, "too many calls in progress");
	if (err)
		return http_error(req, 502, "the call could not be started");
	return http_send_jsonv(req, 202, json_pack("{s:s,s:I}", "status", "started", "call_id",
						   (json_int_t)call_id));
}
