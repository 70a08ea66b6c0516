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
		llm_tool_calls_free(reply->calls, reply->ncalls);
		reply->calls = NULL;
		reply->ncalls = 0;
		reply->why[0] = '\0';
	}
	reply->err = rc;
	if (rc) {
		/* Half-received tool calls are never run. */
		llm_tool_calls_free(reply->calls, reply->ncalls);
		reply->calls = NULL;
		reply->ncalls = 0;
	}
	if (rc && rc != ECANCELED)
		log_error("llm: %s unavailable: %s", llm->be->name,
			  reply->why[0] ? reply->why : strerror(rc));
	return rc;
}

void llm_tool_calls_free(struct llm_tool_call *calls, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(calls[i].args);
		free(calls[i].result);
	}
	free(calls);
}

void llm_reply_clear(struct llm_reply *reply)
{
	free(reply->text);
	llm_tool_calls_free(reply->calls, reply->ncalls);
	memset(reply, 0, sizeof(*reply));
}

int llm_reply_add_call(struct llm_reply *reply, const char *id, const char *name,
		       const char *args)
{
	struct llm_tool_call *nc, *c;

	if (!name || !*name || strlen(name) >= sizeof(c->name))
		return EPROTO;
	nc = realloc(reply->calls, (reply->ncalls + 1) * sizeof(*nc));
	if (!nc)
		return ENOMEM;
	reply->calls = nc;
	c = &nc[reply->ncalls];
	memset(c, 0, sizeof(*c));
	c->args = strdup(args && *args ? args : "{}");
	if (!c->args)
		return ENOMEM;
	snprintf(c->name, sizeof(c->name), "%s", name);
	if (id && *id)
		snprintf(c->id, sizeof(c->id), "%s", id);
	else
		snprintf(c->id, sizeof(c->id), "call_%zu", reply->ncalls + 1);
	reply->ncalls++;
	return 0;
}

void llm_phrases(const struct llm *llm, void (*h)(const char *phrase, void *arg), void *arg)
{
	if (llm->be->phrases)
		llm->be->phrases(llm->state, h, arg);
}

void llm_tool_names(const struct llm *llm, void (*h)(const char *tool, void *arg), void *arg)
{
	if (llm->be->tools)
		llm->be->tools(llm->state, h, arg);
}

const char *llm_apology(void)
{
	return "Sorry, I'm having trouble answering right now. Please try again in a moment.";
}
