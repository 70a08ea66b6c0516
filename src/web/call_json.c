/* call_json.c - JSON views of calls and turns shared by the call, export and event routes. */
#include "web/http.h"
#include "core/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static json_t *str_or_null(const char *s)
{
	return s && *s ? json_string(s) : json_null();
}

json_t *call_json(const struct store_call *c)
{
	json_t *o = json_object();
	int64_t end = c->ended_at;

	if (!o)
		return NULL;
	json_object_set_new(o, "id", json_integer(c->id));
	json_object_set_new(o, "sip_call_id", str_or_null(c->sip_call_id));
	json_object_set_new(o, "caller", json_string(c->caller));
	json_object_set_new(o, "callee", json_string(c->callee));
	json_object_set_new(o, "started_at", json_time(c->started_at));
	json_object_set_new(o, "answered_at", json_time(c->answered_at));
	json_object_set_new(o, "ended_at", json_time(c->ended_at));
	json_object_set_new(o, "status", str_or_null(c->status));
	json_object_set_new(o, "end_reason", str_or_null(c->end_reason));
	json_object_set_new(o, "consent", str_or_null(c->consent));
	json_object_set_new(o, "has_recording", json_boolean(c->recording_path[0] != '\0'));
	json_object_set_new(o, "duration_s", end > 0 && c->started_at > 0 && end >= c->started_at
				      ? json_integer((end - c->started_at) / 1000)
				      : json_null());
	return o;
}

static json_t *ms_or_null(int v)
{
	return v >= 0 ? json_integer(v) : json_null();
}

/* Turn text as the store returns it (decrypted there when ENCRYPTION_KEY is set). */
static json_t *turn_text(struct http_req *req, const char *text)
{
	json_t *s;

	(void)req;
	if (!text)
		return json_null();
	s = json_string(text);
	return s ? s : json_string("(not valid UTF-8)");
}

struct turns_ctx {
	struct http_req *req;
	json_t *arr;
};

static int add_turn(struct store_turn *t, void *arg)
{
	struct turns_ctx *ctx = arg;
	json_t *o = json_object();

	if (!o)
		return ENOMEM;
	json_object_set_new(o, "seq", json_integer(t->seq));
	json_object_set_new(o, "role", json_string(t->role));
	json_object_set_new(o, "text", turn_text(ctx->req, t->text));
	json_object_set_new(o, "started_at", json_time(t->started_at));
	json_object_set_new(o, "stt_ms", ms_or_null(t->stt_ms));
	json_object_set_new(o, "llm_ms", ms_or_null(t->llm_ms));
	json_object_set_new(o, "tts_ms", ms_or_null(t->tts_ms));
	json_object_set_new(o, "response_ms", ms_or_null(t->response_ms));
	json_array_append_new(ctx->arr, o);
	return 0;
}

json_t *call_turns_json(struct http_req *req, int64_t call_id)
{
	struct turns_ctx ctx = { req, json_array() };

	if (!ctx.arr || store_turn_list(web_store(req->web), call_id, add_turn, &ctx)) {
		json_decref(ctx.arr);
		return NULL;
	}
	return ctx.arr;
}
