/* route_test_speech.c - POST /api/test_speech (admin): "Test STT/TTS", synthesise a sentence
 * and recognise it back with the configured engines (call/diag.c), with timings. */
#include "web/http.h"
#include "call/diag.h"

#include <stdatomic.h>
#include <stdlib.h>

enum MHD_Result route_test_speech(struct http_req *req)
{
	static atomic_flag busy = ATOMIC_FLAG_INIT;
	struct diag_result r;
	json_t *o;
	char *details;

	/* loads both engines: CPU and memory for a second or two, so one at a time */
	if (atomic_flag_test_and_set(&busy))
		return http_error(req, 429, "a speech test is already running");
	diag_speech(web_conf(req->web)->conf, &r);
	atomic_flag_clear(&busy);
	o = json_pack("{s:b,s:s,s:s,s:s,s:I,s:I,s:I}", "ok", r.ok, "message", r.msg, "said", r.said,
		      "heard", r.heard, "tts_ms", (json_int_t)r.tts_ms, "stt_ms",
		      (json_int_t)r.stt_ms, "ms", (json_int_t)r.ms);
	details = o ? json_dumps(o, JSON_COMPACT) : NULL;
	web_audit(req, "test_speech", details);
	free(details);
	if (!o)
		return http_error(req, 500, "internal error");
	return http_send_jsonv(req, 200, o);
}
