/* dialogue.c - the LLM turn with tool calls (see dialogue.h): ask, run the calls the model
 * asked for, feed the results back, ask again; at most DIALOGUE_ROUNDS rounds of tools,
 * then the model must answer in words. */
#include "pipeline/dialogue.h"
#include "core/log.h"
#include "tools/tools.h"

#include <ctype.h>
#include <jansson.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DIALOGUE_ROUNDS 3
#define TURN_TEXT_MAX 1000

/* What the rounds own until the answer is done. */
struct rounds {
	struct llm_tool_round v[DIALOGUE_ROUNDS];
	char *text[DIALOGUE_ROUNDS];
	struct llm_tool_call *calls[DIALOGUE_ROUNDS];
	size_t n;
};

static void rounds_free(struct rounds *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->text[i]);
		llm_tool_calls_free(r->calls[i], r->v[i].ncalls);
	}
}

static int set_result(struct llm_tool_call *c, const char *text)
{
	c->result = strdup(text);
	return c->result ? 0 : ENOMEM;
}

static bool dtmf_valid(const char *d)
{
	size_t n = strlen(d);

	if (!n || n > 32)
		return false;
	for (; *d; d++) {
		if (!isdigit((unsigned char)*d) && !strchr("*#ABCDabcd", *d))
			return false;
	}
	return true;
}

/* transfer, hangup and send_dtmf act on the call: the first two after the reply is
 * spoken (reply->action), send_dtmf at once. */
static int run_builtin(struct tools *tools, struct llm_tool_call *c, json_t *args,
		       struct llm_reply *reply, const struct dialogue_hooks *hooks)
{
	const char *target = json_string_value(json_object_get(args, "target"));
	const char *digits = json_string_value(json_object_get(args, "digits"));
	char audit[200];
	int rc;

	if (!strcmp(c->name, "hangup")) {
		reply->action = LLM_ACT_HANGUP;
		rc = set_result(c, "ok: the call ends after your reply");
	} else if (!strcmp(c->name, "transfer")) {
		/* The model may name a target only if the operator listed it: a caller must not
		 * talk the bot into dialling anywhere (toll fraud). */
		if (target && *target && !tools_transfer_allowed(tools, target)) {
			log_warn("tools: transfer to %s refused: not in transfer_targets", target);
			rc = set_result(c, "error: refused: that target is not allowed; call transfer "
					   "without a target for the default");
		} else {
			reply->action = LLM_ACT_TRANSFER;
			snprintf(reply->target, sizeof(reply->target), "%s", target ? target : "");
			rc = set_result(c, "ok: the caller is transferred after your reply");
		}
	} else if (digits && dtmf_valid(digits)) {
		if (hooks && hooks->send_dtmf)
			hooks->send_dtmf(hooks->arg, digits);
		rc = set_result(c, "ok: sent");
	} else {
		rc = set_result(c, "error: digits must be 1-32 of 0-9, *, #, A-D");
	}
	snprintf(audit, sizeof(audit), "%s: %.120s", c->name, c->result ? c->result : "");
	tools_audit(tools, audit);
	return rc;
}

static int run_call(struct tools *tools, struct llm_tool_call *c, const struct llm_ctx *ctx,
		    struct llm_reply *reply, const struct dialogue_hooks *hooks)
{
	json_t *args;
	int rc = 0;

	if (!tools_builtin(c->name)) {
		rc = tools_call(tools, c->name, c->args, ctx ? ctx->cancel : NULL, &c->result);
		return rc == ENOMEM ? rc : 0;
	}
	args = json_loads(c->args, 0, NULL);
	if (!json_is_object(args))
		rc = set_result(c, "error: the arguments are not a JSON object");
	else
		rc = run_builtin(tools, c, args, reply, hooks);
	json_decref(args);
	return rc;
}

/* The role='tool' turn: lookup_order({"id":"42"}) -> {"status":"shipped"} */
static void report(const struct dialogue_hooks *hooks, const struct llm_tool_call *c)
{
	char text[TURN_TEXT_MAX];

	if (!hooks || !hooks->tool_turn)
		return;
	snprintf(text, sizeof(text), "%s(%.300s) -> %s", c->name, c->args,
		 c->result ? c->result : "");
	hooks->tool_turn(hooks->arg, text);
}

static int append_text(char **acc, const char *text)
{
	size_t have = *acc ? strlen(*acc) : 0, add = text ? strlen(text) : 0;
	char *n;

	if (!add)
		return 0;
	n = realloc(*acc, have + add + 2);
	if (!n)
		return ENOMEM;
	/* The parts were heard one after the other: keep them apart as words. */
	if (have && !isspace((unsigned char)n[have - 1]) && !isspace((unsigned char)text[0]))
		n[have++] = ' ';
	memcpy(n + have, text, add + 1);
	*acc = n;
	return 0;
}

static bool cancelled(const struct llm_ctx *ctx)
{
	return ctx && ctx->cancel && *ctx->cancel;
}

int dialogue_chat(struct llm *llm, struct tools *tools, const struct llm_msg *msgs, size_t n,
		  const struct llm_ctx *ctx, llm_text_h *h, void *arg, struct llm_reply *reply,
		  const struct dialogue_hooks *hooks)
{
	struct llm_ctx c = { 0 };
	struct rounds r = { 0 };
	struct llm_reply step;
	char *said = NULL;
	int rc;

	if (ctx)
		c = *ctx;
	c.tools_json = tools_json(tools);
	c.rounds = r.v;
	memset(reply, 0, sizeof(*reply));
	for (;;) {
		/* Out of rounds: no tools on offer, so the model has to say something. */
		if (r.n == DIALOGUE_ROUNDS)
			c.tools_json = NULL;
		c.nrounds = r.n;
		rc = llm_chat(llm, msgs, n, &c, h, arg, &step);
		reply->attempts += step.attempts;
		if (step.action != LLM_ACT_NONE && reply->action == LLM_ACT_NONE)
			reply->action = step.action;
		if (!rc)
			rc = append_text(&said, step.text);
		if (rc || !step.ncalls || r.n == DIALOGUE_ROUNDS) {
			reply->err = rc;
			memcpy(reply->why, step.why, sizeof(reply->why));
			if (!rc && !said && step.text)
				said = step.text, step.text = NULL;
			llm_reply_clear(&step);
			break;
		}
		for (size_t i = 0; i < step.ncalls && !rc; i++) {
			if (cancelled(ctx))
				break;
			log_info("dialogue: the model calls %s", step.calls[i].name);
			rc = run_call(tools, &step.calls[i], ctx, reply, hooks);
			if (!rc && step.calls[i].result)
				report(hooks, &step.calls[i]);
		}
		/* The round now belongs to r: the next request sends it back with its results. */
		r.v[r.n] = (struct llm_tool_round){ step.text, step.calls, step.ncalls };
		r.text[r.n] = step.text;
		r.calls[r.n] = step.calls;
		r.n++;
		step.text = NULL;
		step.calls = NULL;
		step.ncalls = 0;
		llm_reply_clear(&step);
		if (!rc && cancelled(ctx))
			rc = ECANCELED;
		if (rc) {
			reply->err = rc;
			break;
		}
	}
	if (!reply->err && (!said || !*said) && r.n == DIALOGUE_ROUNDS) {
		/* Still asking for tools with none on offer: say the apology rather than nothing. */
		reply->err = EPROTO;
		snprintf(reply->why, sizeof(reply->why), "the model kept calling tools");
	}
	reply->text = said;
	rounds_free(&r);
	return reply->err;
}
