/* backend_rules.c - the "rules" LLM backend: answers from a rules file, instantly. */
#include "llm/llm_impl.h"
#include "llm/rules.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int rules_alloc(void **state, const struct conf *c, char *err, size_t errsize)
{
	char msg[400];
	int rc = rules_load((struct rules **)state, c->rules_file, msg, sizeof(msg));

	if (rc)
		snprintf(err, errsize, "RULES_FILE: %s", msg);
	return rc;
}

static void rules_release(void *state)
{
	rules_free(state);
}

static int rules_chat(void *state, const struct llm_msg *msgs, size_t n, const struct llm_ctx *ctx,
		      llm_text_h *h, void *arg, struct llm_reply *reply)
{
	const char *said = "";
	int rc;

	for (size_t i = n; i-- > 0;) {
		if (msgs[i].role == LLM_USER) {
			said = msgs[i].text;
			break;
		}
	}
	rc = rules_answer(state, said, ctx, &reply->text, &reply->action);
	if (rc)
		return rc;
	if (!h(reply->text, strlen(reply->text), arg))
		return ECANCELED;
	return 0;
}

static void rules_list_phrases(void *state, void (*h)(const char *phrase, void *arg), void *arg)
{
	rules_phrases(state, h, arg);
}

const struct llm_be llm_rules_backend = {
	.name = "rules",
	.alloc = rules_alloc,
	.free = rules_release,
	.chat = rules_chat,
	.phrases = rules_list_phrases,
};
