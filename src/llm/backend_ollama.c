/* backend_ollama.c - Ollama /api/chat with "stream": true (one JSON object per line). */
#include "llm/chat_http.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int ollama_alloc(void **state, const struct conf *c, char *err, size_t errsize)
{
	(void)err; (void)errsize;
	int rc = chat_http_alloc((struct chat_http **)state, c->ollama_url, "/api/chat",
				 c->ollama_model, NULL, c->llm_timeout_ms);

	if (!rc)
		((struct chat_http *)*state)->ollama = true;
	return rc;
}

/* message.tool_calls: [{function: {name, arguments: {...}}}], each call whole. */
static int ollama_tool_calls(struct chat_call *cc, json_t *calls)
{
	size_t i;
	json_t *c;
	int rc;

	json_array_foreach(calls, i, c) {
		json_t *fn = json_object_get(c, "function");
		json_t *args = json_object_get(fn, "arguments"), *id = json_object_get(c, "id");
		char *text = json_is_object(args) ? json_dumps(args, JSON_COMPACT) : NULL;

		if (json_is_object(args) && !text)
			return ENOMEM;
		/* Arguments sent as a string are passed on as they are; the dialogue checks them. */
		rc = chat_call_tool_delta(cc, cc->reply->ncalls, json_string_value(id),
					  json_string_value(json_object_get(fn, "name")),
					  text ? text : json_string_value(args));
		free(text);
		if (rc)
			return rc;
	}
	return 0;
}

static int ollama_line(const char *line, size_t len, void *arg)
{
	struct chat_call *cc = arg;
	json_t *root, *msg, *content, *error;
	int rc = 0;

	if (!len)
		return 0;
	root = json_loadb(line, len, 0, NULL);
	if (!json_is_object(root)) {
		json_decref(root);
		snprintf(cc->why, sizeof(cc->why), "Ollama sent a line that is not JSON");
		return EPROTO;
	}
	error = json_object_get(root, "error");
	msg = json_object_get(root, "message");
	content = json_object_get(msg, "content");
	if (json_is_string(error)) {
		snprintf(cc->why, sizeof(cc->why), "Ollama error: %.120s", json_string_value(error));
		rc = EPROTO;
	} else {
		if (json_is_string(content))
			rc = chat_call_text(cc, json_string_value(content),
					    json_string_length(content));
		if (!rc && json_is_array(json_object_get(msg, "tool_calls")))
			rc = ollama_tool_calls(cc, json_object_get(msg, "tool_calls"));
	}
	if (!rc && json_is_true(json_object_get(root, "done")))
		cc->done = true;
	json_decref(root);
	return rc;
}

static int ollama_chat(void *state, const struct llm_msg *msgs, size_t n, const struct llm_ctx *ctx,
		       llm_text_h *h, void *arg, struct llm_reply *reply)
{
	return chat_http_run(state, msgs, n, ctx, ollama_line, h, arg, reply);
}

const struct llm_be llm_ollama_backend = {
	.name = "ollama",
	.alloc = ollama_alloc,
	.free = chat_http_free,
	.chat = ollama_chat,
};
