/* chat_http.h - what the Ollama and OpenAI-compatible backends share. */
#ifndef CALLBOT_LLM_CHAT_HTTP_H
#define CALLBOT_LLM_CHAT_HTTP_H

#include "llm/llm_impl.h"

#include <stdbool.h>

struct chat_http {
	char *url;    /* full endpoint URL */
	char *model;
	char *key;    /* bearer token or NULL */
	int timeout_ms;
	bool ollama;  /* Ollama's message format (tool arguments as objects, no call ids) */
};

/* One streamed request in progress. */
struct chat_call {
	llm_text_h *h;
	void *arg;
	char *text;     /* accumulated reply */
	size_t len;
	bool done;      /* the server said the answer is complete */
	struct llm_reply *reply; /* receives the tool calls */
	char why[160];
};

int chat_http_alloc(struct chat_http **out, const char *base, const char *path,
		    const char *model, const char *key, int timeout_ms);
void chat_http_free(void *state);
/* {"model":…, "messages":[{"role":…,"content":…}, …tool rounds], "stream":true,
 * "tools":…}; malloc'd. ctx (may be NULL) brings the tools and the rounds so far. */
char *chat_http_body(const struct chat_http *ch, const struct llm_msg *msgs, size_t n,
		     const struct llm_ctx *ctx);
/* Appends streamed pieces of the arguments of call index (OpenAI sends them in chunks);
 * a new index starts a call. EPROTO for indexes out of order or oversized arguments. */
int chat_call_tool_delta(struct chat_call *cc, size_t index, const char *id, const char *name,
			 const char *args_piece);
/* Appends a piece of reply text and passes it on; ECANCELED if the listener stopped. */
int chat_call_text(struct chat_call *cc, const char *text, size_t len);
/* Runs the request with a line parser; fills reply. */
int chat_http_run(struct chat_http *ch, const struct llm_msg *msgs, size_t n,
		  const struct llm_ctx *ctx,
		  int (*parse_line)(const char *line, size_t len, void *cc), llm_text_h *h,
		  void *arg, struct llm_reply *reply);

#endif
