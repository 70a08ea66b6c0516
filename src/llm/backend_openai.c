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
	} else if (json_is_string(content)) {
		rc = chat_call_text(cc, json_string_value(content), json_string_length(content));
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
