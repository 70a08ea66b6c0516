/* route_call_delete.c - DELETE /api/calls/<id> (admin): the call, its turns and its recording. */
#include "web/http.h"
#include "web/recording.h"
#include "core/log.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

enum MHD_Result route_call_delete(struct http_req *req)
{
	struct store_call c;
	char real[PATH_MAX];
	json_t *d;
	char *details;
	int64_t id;
	int err;

	if (!http_parse_id(http_path_tail(req, "/api/calls/"), &id))
		return http_error(req, 404, "not found");
	err = store_call_get(web_store(req->web), id, &c);
	if (err == ENOENT)
		return http_error(req, 404, "no such call");
	if (err || store_call_delete(web_store(req->web), id))
		return http_error(req, 500, "the database is not available");
	/* The store leaves the file to us; only ever inside AUDIO_DIR. */
	if (c.recording_path[0] &&
	    web_recording_resolve(web_conf(req->web)->audio_dir, web_conf(req->web)->base_dir,
			      c.recording_path, real, sizeof(real)) == 0 && unlink(real) != 0)
		log_warn("web: cannot delete the recording of call %lld", (long long)id);
	d = json_pack("{s:I,s:s}", "call_id", (json_int_t)id, "caller", c.caller);
	details = d ? json_dumps(d, JSON_COMPACT) : NULL;
	web_audit(req, "call_delete", details);
	free(details);
	json_decref(d);
	return http_send_jsonv(req, 200, json_pack("{s:b,s:I}", "deleted", 1, "id", (json_int_t)id));
}
