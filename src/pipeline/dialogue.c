/* dialogue.c - the LLM turn with tool calls (see dialogue.h). */
#include "pipeline/dialogue.h"

int dialogue_chat(struct llm *llm, struct tools *tools, const struct llm_msg *msgs, size_t n,
		  const struct llm_ctx *ctx, llm_text_h *h, void *arg, struct llm_reply *reply,
		  const struct dialogue_hooks *hooks)
{
	(void)tools;
	(void)hooks;
	return llm_chat(llm, msgs, n, ctx, h, arg, reply);
}
