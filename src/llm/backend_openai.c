/* backend_openai.c - OpenAI-compatible /chat/completions with Server-Sent Events. */
#include "llm/chat_http.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

static int openai_alloc(void **state, const struct conf *c, char *err, size_t errsize)
{
	(void)err; (void)errsize;
	return chat_http_alloc((struct chat_http **)state, c->openai_base_url, "/chat/completions",
			       c->openai_model, c->openai_api_key, c->llm_timeout_ms);
}

/* delta.tool_calls: [{index, id?, function: {name?, arguments: "piece"}}] */
static int openai_tool_deltas(struct chat_call *cc, json_t *calls)
{
	size_t i;
	json_t *c;
	int rc;

	json_array_foreach(calls, i, c) {
		json_t *idx = json_object_get(c, "index"), *fn = json_object_get(c, "function");
		json_t *id = json_object_get(c, "id"), *name = json_object_get(fn, "name");
		json_t *args = json_object_get(fn, "arguments");
		size_t index = json_is_integer(idx) && json_integer_value(idx) >= 0 ?
			       (size_t)json_integer_value(idx) : i;

		rc = chat_call_tool_delta(cc, index, json_string_value(id), json_string_value(name),
					  json_string_value(args));
		if (rc)
			return rc;
	}
	return 0;
}

static int openai_line(const char *line, size_t len, void *arg)
{
	struct chat_call *cc = arg;
	json_t *root, *delta, *content, *error;
	int rc = 0;

	/* SSE: only "data:" lines matter; blank lines, comments and event names do not. */
	if (len < 5 || strncmp(line, "data:", 5) != 0)
		return 0;
	line += 5;
	len -= 5;
	while (len && *line == ' ') {
		line++;
		len--;
	}
	if (len == 6 && strncmp(line, "[DONE]", 6) == 0) {
		cc->done = true;
		return 0;
	}
	root = json_loadb(line, len, 0, NULL);
	if (!json_is_object(root)) {
		json_decref(root);
		snprintf(cc->why, sizeof(cc->why), "the server sent an event that is not JSON");
		return EPROTO;
	}
	error = json_object_get(root, "error");
	delta = json_object_get(json_array_get(json_object_get(root, "choices"), 0), "delta");
	content = json_object_get(delta, "content");
	if (error) {
		json_t *m = json_object_get(error, "message");
		snprintf(cc->why, sizeof(cc->why), "server error: %.120s",
			 json_is_string(m) ? json_string_value(m) : "unknown");
		rc = EPROTO;
	} else {
		if (json_is_string(content))
			rc = chat_call_text(cc, json_string_value(content),
					    json_string_length(content));
		if (!rc && json_is_array(json_object_get(delta, "tool_calls")))
			rc = openai_tool_deltas(cc, json_object_get(delta, "tool_calls"));
	}
	json_decref(root);
	return rc;
}

static int openai_chat(void *state, const struct llm_msg *msgs, size_t n, const struct llm_ctx *ctx,
		       llm_text_h *h, void *arg, struct llm_reply *reply)
{
	return chat_http_run(state, msgs, n, ctx, openai_line, h, arg, reply);
}

const struct llm_be llm_openai_backend = {
	.name = "openai",
	.alloc = openai_alloc,
	.free = chat_http_free,
	.chat = openai_chat,
};
