/* dialogue.h - one answer of the dialogue: the LLM, and the tools it calls on the way
 * (TOOLS_FILE webhooks and the built-ins transfer, hangup, send_dtmf; docs/tools.md).
 * Runs on the call's pipeline thread; blocks while the backend and the tools work. */
#ifndef CALLBOT_PIPELINE_DIALOGUE_H
#define CALLBOT_PIPELINE_DIALOGUE_H

#include "llm/llm.h"

struct tools; /* tools/tools.h; NULL = no tools but the built-ins the rules use */

/* What a tool call does to the call, reported to the conversation. */
struct dialogue_hooks {
	/* A tool ran: text says which, with what and its result (a role='tool' turn). */
	void (*tool_turn)(void *arg, const char *text);
	/* The built-in send_dtmf: digits to send to the far end now. */
	void (*send_dtmf)(void *arg, const char *digits);
	void *arg;
};

/* Like llm_chat(), with tool calls executed and fed back to the LLM until it answers in
 * words (bounded). The built-ins transfer and hangup set reply->action (and
 * reply->target) for the conversation to carry out after the spoken reply. */
int dialogue_chat(struct llm *llm, struct tools *tools, const struct llm_msg *msgs, size_t n,
		  const struct llm_ctx *ctx, llm_text_h *h, void *arg, struct llm_reply *reply,
		  const struct dialogue_hooks *hooks);

#endif
