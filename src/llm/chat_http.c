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

char *chat_http_body(const struct chat_http *ch, const struct llm_msg *msgs, size_t n)
{
	static const char *const roles[] = { "system", "user", "assistant" };
	json_t *root = json_object(), *arr = json_array();
	char *body = NULL;

	if (!root || !arr)
		goto out;
	json_object_set_new(root, "model", json_string(ch->model));
	for (size_t i = 0; i < n; i++) {
		json_t *m = json_object();
		json_object_set_new(m, "role", json_string(roles[msgs[i].role]));
		json_object_set_new(m, "content", json_string(msgs[i].text ? msgs[i].text : ""));
		json_array_append_new(arr, m);
	}
	json_object_set(root, "messages", arr);
	json_object_set_new(root, "stream", json_true());
	body = json_dumps(root, JSON_COMPACT);
out:
	json_decref(arr);
	json_decref(root);
	return body;
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
	struct chat_call cc = { .h = h, .arg = arg };
	struct httpstream_req req = { .url = ch->url, .bearer = ch->key, .timeout_ms = ch->timeout_ms,
				      .cancel = ctx ? ctx->cancel : NULL };
	int rc;

	req.body = chat_http_body(ch, msgs, n);
	if (!req.body)
		return ENOMEM;
	rc = httpstream_post(&req, parse_line, &cc, reply->why, sizeof(reply->why));
	free((char *)req.body);
	if (!rc && !cc.done) {
		rc = EPROTO;
		snprintf(reply->why, sizeof(reply->why), "the answer ended before it was complete");
	}
	if (!rc && !cc.len) {
		rc = EPROTO;
		snprintf(reply->why, sizeof(reply->why), "empty answer");
	}
	if (rc == EPROTO && cc.why[0])
		snprintf(reply->why, sizeof(reply->why), "%s", cc.why);
	reply->text = cc.text;
	return rc;
}
