/* route_test_sip.c - POST /api/test_sip (admin): "Test SIP registration", one REGISTER
 * round trip with the running configuration (call/diag.c), the registrar's reply and timing. */
#include "web/http.h"
#include "call/diag.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>

#define TEST_SIP_TIMEOUT_MS 5000

enum MHD_Result route_test_sip(struct http_req *req)
{
	static atomic_flag busy = ATOMIC_FLAG_INIT;
	struct diag_result r;
	json_t *o;
	char *details;
	int err;

	/* each test holds a web thread for up to 5 s: one at a time */
	if (atomic_flag_test_and_set(&busy))
		return http_error(req, 429, "a SIP test is already running");
	err = diag_sip_register(web_conf(req->web)->conf, TEST_SIP_TIMEOUT_MS, &r);
	atomic_flag_clear(&busy);
	o = json_pack("{s:b,s:s,s:I}", "ok", !err && r.ok, "message", r.msg, "ms",
		      (json_int_t)r.ms);
	if (o && !err) {
		json_object_set_new(o, "code", json_integer(r.code));
		json_object_set_new(o, "status", json_string(r.status));
		json_object_set_new(o, "digest", json_string(r.digest));
		if (r.ok)
			json_object_set_new(o, "bindings", json_integer(r.bindings));
	}
	details = o ? json_dumps(o, JSON_COMPACT) : NULL;
	web_audit(req, "test_sip", details);
	free(details);
	if (err == ENOMEM) {
		json_decref(o);
		return http_error(req, 500, "internal error");
	}
	/* a configuration that cannot be tested (no SIP_SERVER, TLS): 409 with the reason */
	if (o && err)
		json_object_set_new(o, "error", json_string(r.msg));
	return http_send_jsonv(req, err ? 409 : 200, o);
}
