/* chat_http.c - request building and reply accumulation shared by HTTP chat backends. */
#include "llm/chat_http.h"
#include "llm/httpstream.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int chat_http_alloc(struct chat_http **out, const char *base, const char *path,
		    const char *model, const char *key, int timeout_ms)
{
	struct chat_http *ch = calloc(1, sizeof(*ch));
	size_t blen = strlen(base);

	if (!ch)
		return ENOMEM;
	while (blen && base[blen - 1] == '/')
		blen--;
	if (asprintf(&ch->url, "%.*s%s", (int)blen, base, path) < 0)
		ch->url = NULL;
	ch->model = strdup(model);
	ch->key = key && *key ? strdup(key) : NULL;
	ch->timeout_ms = timeout_ms;
	if (!ch->url || !ch->model || (key && *key && !ch->key)) {
		chat_http_free(ch);
		return ENOMEM;
	}
	httpstream_global_init();
	*out = ch;
	return 0;
}

void chat_http_free(void *state)
{
	struct chat_http *ch = state;

	if (!ch)
		return;
	free(ch->url);
	free(ch->model);
	if (ch->key) {
		memset(ch->key, 0, strlen(ch->key));
		free(ch->key);
	}
	free(ch);
}

#define TOOL_ARGS_MAX (64 * 1024)

static json_t *call_json(const struct chat_http *ch, const struct llm_tool_call *call)
{
	json_t *fn = json_object(), *c = json_object();
	json_t *args = ch->ollama ? json_loads(call->args, 0, NULL) : NULL;

	json_object_set_new(fn, "name", json_string(call->name));
	/* Ollama wants the arguments as an object, OpenAI as a JSON string. */
	if (ch->ollama)
		json_object_set_new(fn, "arguments", json_is_object(args) ? args : json_object());
	else
		json_object_set_new(fn, "arguments", json_string(call->args));
	if (ch->ollama && !json_is_object(args))
		json_decref(args);
	if (!ch->ollama) {
		json_object_set_new(c, "id", json_string(call->id));
		json_object_set_new(c, "type", json_string("function"));
	}
	json_object_set_new(c, "function", fn);
	return c;
}

static json_t *msg_json(const char *role, const char *text)
{
	json_t *o = json_object();

	json_object_set_new(o, "role", json_string(role));
	json_object_set_new(o, "content", json_string(text ? text : ""));
	return o;
}

/* The assistant message with its tool_calls, then one role "tool" message per result. */
static void round_json(const struct chat_http *ch, const struct llm_tool_round *r, json_t *arr)
{
	json_t *m = json_object(), *calls = json_array();
	bool said = r->text && *r->text;

	json_object_set_new(m, "role", json_string("assistant"));
	json_object_set_new(m, "content", said || ch->ollama ? json_string(said ? r->text : "") :
				json_null());
	for (size_t i = 0; i < r->ncalls; i++)
		json_array_append_new(calls, call_json(ch, &r->calls[i]));
	json_object_set_new(m, "tool_calls", calls);
	json_array_append_new(arr, m);
	for (size_t i = 0; i < r->ncalls; i++) {
		json_t *t = msg_json("tool", r->calls[i].result);
		if (ch->ollama)
			json_object_set_new(t, "tool_name", json_string(r->calls[i].name));
		else
			json_object_set_new(t, "tool_call_id", json_string(r->calls[i].id));
		json_array_append_new(arr, t);
	}
}

char *chat_http_body(const struct chat_http *ch, const struct llm_msg *msgs, size_t n,
		     const struct llm_ctx *ctx)
{
	static const char *const roles[] = { "system", "user", "assistant" };
	json_t *root = json_object(), *arr = json_array(), *tools = NULL;
	char *body = NULL;

	if (!root || !arr)
		goto out;
	json_object_set_new(root, "model", json_string(ch->model));
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, msg_json(roles[msgs[i].role], msgs[i].text));
	for (size_t i = 0; ctx && i < ctx->nrounds; i++)
		round_json(ch, &ctx->rounds[i], arr);
	json_object_set(root, "messages", arr);
	json_object_set_new(root, "stream", json_true());
	if (ctx && ctx->tools_json) {
		tools = json_loads(ctx->tools_json, 0, NULL);
		if (!json_is_array(tools))
			goto out;
		if (json_array_size(tools)) {
			json_object_set(root, "tools", tools);
			if (!ch->ollama)
				json_object_set_new(root, "tool_choice", json_string("auto"));
		}
	}
	body = json_dumps(root, JSON_COMPACT);
out:
	json_decref(tools);
	json_decref(arr);
	json_decref(root);
	return body;
}

int chat_call_tool_delta(struct chat_call *cc, size_t index, const char *id, const char *name,
			 const char *args_piece)
{
	struct llm_reply *r = cc->reply;
	struct llm_tool_call *c;
	size_t have, add = args_piece ? strlen(args_piece) : 0;
	char *na;
	int rc;

	if (index == r->ncalls) {
		if ((rc = llm_reply_add_call(r, id, name, "")) != 0) {
			snprintf(cc->why, sizeof(cc->why), "a tool call without a valid name");
			return rc;
		}
		/* llm_reply_add_call() made "{}" of the empty start; the pieces follow. */
		r->calls[index].args[0] = '\0';
	} else if (index > r->ncalls) {
		snprintf(cc->why, sizeof(cc->why), "tool call %zu before call %zu", index, r->ncalls);
		return EPROTO;
	}
	c = &r->calls[index];
	if (id && *id && !c->id[0])
		snprintf(c->id, sizeof(c->id), "%s", id);
	have = strlen(c->args);
	if (!add)
		return 0;
	if (have + add > TOOL_ARGS_MAX) {
		snprintf(cc->why, sizeof(cc->why), "tool call arguments larger than 64 KiB");
		return EPROTO;
	}
	na = realloc(c->args, have + add + 1);
	if (!na)
		return ENOMEM;
	memcpy(na + have, args_piece, add + 1);
	c->args = na;
	return 0;
}

int chat_call_text(struct chat_call *cc, const char *text, size_t len)
{
	char *nt;

	if (!len)
		return 0;
	nt = realloc(cc->text, cc->len + len + 1);
	if (!nt)
		return ENOMEM;
	cc->text = nt;
	memcpy(cc->text + cc->len, text, len);
	cc->len += len;
	cc->text[cc->len] = '\0';
	return cc->h(text, len, cc->arg) ? 0 : ECANCELED;
}

int chat_http_run(struct chat_http *ch, const struct llm_msg *msgs, size_t n,
		  const struct llm_ctx *ctx,
		  int (*parse_line)(const char *line, size_t len, void *cc), llm_text_h *h,
		  void *arg, struct llm_reply *reply)
{
	struct chat_call cc = { .h = h, .arg = arg, .reply = reply };
	struct httpstream_req req = { .url = ch->url, .bearer = ch->key, .timeout_ms = ch->timeout_ms,
				      .cancel = ctx ? ctx->cancel : NULL };
	int rc;

	req.body = chat_http_body(ch, msgs, n, ctx);
	if (!req.body)
		return ENOMEM;
	rc = httpstream_post(&req, parse_line, &cc, reply->why, sizeof(reply->why));
	free((char *)req.body);
	if (!rc && !cc.done) {
		rc = EPROTO;
		snprintf(reply->why, sizeof(reply->why), "the answer ended before it was complete");
	}
	if (!rc && !cc.len && !reply->ncalls) {
		rc = EPROTO;
		snprintf(reply->why, sizeof(reply->why), "empty answer");
	}
	if (rc == EPROTO && cc.why[0])
		snprintf(reply->why, sizeof(reply->why), "%s", cc.why);
	/* OpenAI may send a call's arguments as nothing at all. */
	for (size_t i = 0; i < reply->ncalls; i++) {
		if (!reply->calls[i].args[0]) {
			free(reply->calls[i].args);
			reply->calls[i].args = strdup("{}");
			if (!reply->calls[i].args && !rc)
				rc = ENOMEM;
		}
	}
	reply->text = cc.text;
	return rc;
}
