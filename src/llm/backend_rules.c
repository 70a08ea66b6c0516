/* backend_rules.c - the "rules" LLM backend: answers from a rules file, instantly. A rule
 * with a tool: asks for that tool first and answers when its result comes back. */
#include "llm/llm_impl.h"
#include "llm/rules.h"
#include "core/log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int rules_alloc(void **state, const struct conf *c, char *err, size_t errsize)
{
	char msg[400];
	bool known;
	int rc;

	if ((!c->rules_file || !*c->rules_file)) {
		rules_builtin(c->language, &known);
		if (!known)
			log_warn("llm: no built-in rules for LANGUAGE=%s, using the English ones "
				 "(set RULES_FILE for your own)", c->language);
	}
	rc = rules_load((struct rules **)state, c->rules_file, c->language, msg, sizeof(msg));
	if (rc)
		snprintf(err, errsize, "RULES_FILE: %s", msg);
	return rc;
}

static void rules_release(void *state)
{
	rules_free(state);
}

static const char *last_said(const struct llm_msg *msgs, size_t n)
{
	for (size_t i = n; i-- > 0;) {
		if (msgs[i].role == LLM_USER)
			return msgs[i].text;
	}
	return "";
}

/* The result of the last tool run in this answer, NULL = none yet. */
static const char *last_result(const struct llm_ctx *ctx)
{
	const struct llm_tool_round *r;

	if (!ctx || !ctx->nrounds)
		return NULL;
	r = &ctx->rounds[ctx->nrounds - 1];
	return r->ncalls && r->calls[r->ncalls - 1].result ? r->calls[r->ncalls - 1].result : "";
}

static int rules_chat(void *state, const struct llm_msg *msgs, size_t n, const struct llm_ctx *ctx,
		      llm_text_h *h, void *arg, struct llm_reply *reply)
{
	struct rules_answer a;
	const char *result = last_result(ctx);
	int rc;

	/* Offered no tools (or the dialogue stopped calling them): answer in words. */
	if (!result && !(ctx && ctx->tools_json))
		result = "";
	rc = rules_respond(state, last_said(msgs, n), ctx, result, &a);
	if (rc)
		return rc;
	reply->action = a.action;
	if (a.tool)
		return llm_reply_add_call(reply, NULL, a.tool, a.tool_args);
	reply->text = a.reply;
	if (!h(reply->text, strlen(reply->text), arg))
		return ECANCELED;
	return 0;
}

static void rules_list_phrases(void *state, void (*h)(const char *phrase, void *arg), void *arg)
{
	rules_phrases(state, h, arg);
}

static void rules_list_tools(void *state, void (*h)(const char *tool, void *arg), void *arg)
{
	rules_tools(state, h, arg);
}

const struct llm_be llm_rules_backend = {
	.name = "rules",
	.alloc = rules_alloc,
	.free = rules_release,
	.chat = rules_chat,
	.phrases = rules_list_phrases,
	.tools = rules_list_tools,
};
