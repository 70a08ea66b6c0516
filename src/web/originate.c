/* originate.c - what POST /api/calls and POST /api/test_call share: the destination check,
 * the call through the owner's originate callback (OUTBOUND_ALLOW applies), the audit row
 * and the answer. */
#include "web/http.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

bool web_destination_valid(const char *to)
{
	size_t n = to ? strlen(to) : 0;

	if (n == 0 || n > 256)
		return false;
	for (; *to; to++)
		if (!isalnum((unsigned char)*to) && !strchr("+*#@:._-;=", *to))
			return false;
	return true;
}

enum MHD_Result web_originate(struct http_req *req, const char *action, const char *to,
			      const char *purpose)
{
	const struct web_status *s = web_status_of(req->web);
	int64_t call_id = 0;
	char *details;
	json_t *d;
	int err;

	if (!s->originate)
		return http_error(req, 503, "outbound calls are not available in this build");
	err = s->originate(s->arg, to, purpose, &call_id);
	d = json_pack("{s:s,s:s?,s:s}", "to", to, "purpose", purpose, "result",
		      err ? "refused" : "started");
	details = d ? json_dumps(d, JSON_COMPACT) : NULL;
	web_audit(req, action, details);
	free(details);
	json_decref(d);
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
