/* llm_impl.h - the backend vtable behind llm.h (private to src/llm). */
#ifndef CALLBOT_LLM_IMPL_H
#define CALLBOT_LLM_IMPL_H

#include "llm/llm.h"

struct llm_be {
	const char *name;
	int (*alloc)(void **state, const struct conf *c, char *err, size_t errsize);
	void (*free)(void *state);
	/* One attempt. Must set reply->text (may be partial on error) and return 0 or errno. */
	int (*chat)(void *state, const struct llm_msg *msgs, size_t n, const struct llm_ctx *ctx,
		    llm_text_h *h, void *arg, struct llm_reply *reply);
	/* Optional: phrases for an STT grammar. */
	void (*phrases)(void *state, void (*h)(const char *phrase, void *arg), void *arg);
	/* Optional: the tools the backend calls on its own (rules with tool:). */
	void (*tools)(void *state, void (*h)(const char *tool, void *arg), void *arg);
};

extern const struct llm_be llm_rules_backend;
extern const struct llm_be llm_ollama_backend;
extern const struct llm_be llm_openai_backend;

#endif
