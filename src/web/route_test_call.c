/* route_test_call.c - POST /api/test_call {"to": extension} (admin): "Place a test call",
 * an outbound call through the owner's originate callback (OUTBOUND_ALLOW applies). */
#include "web/http.h"

enum MHD_Result route_test_call(struct http_req *req)
{
	static const char purpose[] = "test call placed from the dashboard's Diagnostics";
	enum MHD_Result rc;
	json_t *body;
	const char *to;

	body = http_body_json(req, &rc);
	if (!body)
		return rc;
	to = json_string_value(json_object_get(body, "to"));
	if (!web_destination_valid(to))
		rc = http_error(req, 400, "\"to\" must be an extension, number or SIP URI");
	else
		rc = web_originate(req, "test_call", to, purpose);
	json_decref(body);
	return rc;
}
