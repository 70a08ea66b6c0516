/* llm.c - picks the configured backend and adds the retry every backend gets. */
#include "llm/llm_impl.h"
#include "core/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct llm {
	const struct llm_be *be;
	void *state;
};

/* Indexed by enum llm_backend in config.h. */
static const struct llm_be *const backends[] = {
	[LLM_RULES] = &llm_rules_backend,
	[LLM_OLLAMA] = &llm_ollama_backend,
	[LLM_OPENAI] = &llm_openai_backend,
};

int llm_alloc(struct llm **out, const struct conf *c, char *err, size_t errsize)
{
	struct llm *llm;
	int rc;

	if (c->llm_backend < 0 || (size_t)c->llm_backend >= sizeof(backends) / sizeof(backends[0]))
		return EINVAL;
	llm = calloc(1, sizeof(*llm));
	if (!llm)
		return ENOMEM;
	llm->be = backends[c->llm_backend];
	rc = llm->be->alloc(&llm->state, c, err, errsize);
	if (rc) {
		free(llm);
		return rc;
	}
	*out = llm;
	return 0;
}

void llm_free(struct llm *llm)
{
	if (!llm)
		return;
	llm->be->free(llm->state);
	free(llm);
}

const char *llm_name(const struct llm *llm)
{
	return llm->be->name;
}

struct relay {
	llm_text_h *h;
	void *arg;
	size_t delivered;
};

static bool relay_text(const char *text, size_t len, void *arg)
{
	struct relay *r = arg;

	r->delivered += len;
	return r->h ? r->h(text, len, r->arg) : true;
}

int llm_chat(struct llm *llm, const struct llm_msg *msgs, size_t n, const struct llm_ctx *ctx,
	     llm_text_h *h, void *arg, struct llm_reply *reply)
{
	struct relay r = { h, arg, 0 };
	int rc;

	memset(reply, 0, sizeof(*reply));
	for (reply->attempts = 1;; reply->attempts++) {
		rc = llm->be->chat(llm->state, msgs, n, ctx, relay_text, &r, reply);
		/* Retrying after text went out would make the caller hear it twice. */
		if (!rc || rc == ECANCELED || r.delivered || reply->attempts == 2)
			break;
		log_warn("llm: %s failed (%s), retrying once", llm->be->name,
			 reply->why[0] ? reply->why : strerror(rc));
		free(reply->text);
		reply->text = NULL;
		reply->why[0] = '\0';
	}
	reply->err = rc;
	if (rc && rc != ECANCELED)
		log_error("llm: %s unavailable: %s", llm->be->name,
			  reply->why[0] ? reply->why : strerror(rc));
	return rc;
}

void llm_reply_clear(struct llm_reply *reply)
{
	free(reply->text);
	memset(reply, 0, sizeof(*reply));
}

void llm_phrases(const struct llm *llm, void (*h)(const char *phrase, void *arg), void *arg)
{
	if (llm->be->phrases)
		llm->be->phrases(llm->state, h, arg);
}

const char *llm_apology(void)
{
	return "Sorry, I'm having trouble answering right now. Please try again in a moment.";
}
