/* route_call_originate.c - POST /api/calls (admin or token): place an outbound call
 * {"to":…, "purpose":…} through the owner's originate callback. */
#include "web/http.h"

#include <string.h>

enum MHD_Result route_call_originate(struct http_req *req)
{
	const char *to, *purpose;
	enum MHD_Result rc;
	json_t *body;

	body = http_body_json(req, &rc);
	if (!body)
		return rc;
	to = json_string_value(json_object_get(body, "to"));
	purpose = json_string_value(json_object_get(body, "purpose"));
	if (!web_destination_valid(to) || (purpose && strlen(purpose) > 2000))
		rc = http_error(req, 400, "\"to\" must be a number or SIP URI; \"purpose\" at most "
					  "2000 characters");
	else
		rc = web_originate(req, "call_originate", to, purpose);
	json_decref(body);
	return rc;
}
