/* backend_ollama.c - Ollama /api/chat with "stream": true (one JSON object per line). */
#include "llm/chat_http.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

static int ollama_alloc(void **state, const struct conf *c, char *err, size_t errsize)
{
	(void)err; (void)errsize;
	return chat_http_alloc((struct chat_http **)state, c->ollama_url, "/api/chat",
			       c->ollama_model, NULL, c->llm_timeout_ms);
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
	} else if (json_is_string(content)) {
		rc = chat_call_text(cc, json_string_value(content), json_string_length(content));
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
