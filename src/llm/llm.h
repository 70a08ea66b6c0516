/* llm.h - the dialogue engine: rule-based, Ollama or OpenAI-compatible, all streaming.
 *
 * An engine is shared by every call and is thread-safe; llm_chat() blocks, so it runs on a
 * pipeline worker thread, never on the SIP/media loop. Text is delivered as it streams in. */
#ifndef CALLBOT_LLM_LLM_H
#define CALLBOT_LLM_LLM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"

enum llm_role { LLM_SYSTEM, LLM_USER, LLM_ASSISTANT };

struct llm_msg {
	enum llm_role role;
	const char *text;
};

/* A function call asked for by the model, and once it ran, its result. */
struct llm_tool_call {
	char id[64];    /* the backend's id (OpenAI), or one made up (Ollama, rules) */
	char name[64];
	char *args;     /* a JSON object, malloc'd ("{}" when the model sent none) */
	char *result;   /* malloc'd by whoever ran the tool; NULL until then */
};

/* One exchange of the current answer: the model asked for calls (saying text with them,
 * may be NULL), and they ran. Sent after the messages, in order. */
struct llm_tool_round {
	const char *text;
	const struct llm_tool_call *calls;
	size_t ncalls;
};

/* Facts the rules backend can put into replies ({caller}, {time}, ...). */
struct llm_ctx {
	const char *caller;
	int64_t now_ms;          /* 0 = now */
	volatile bool *cancel;   /* polled while waiting for the backend (may be NULL) */
	/* Tool definitions offered to the model: a JSON array in OpenAI's format
	 * ([{"type":"function","function":{name, description, parameters}}]); NULL = none. */
	const char *tools_json;
	const struct llm_tool_round *rounds; /* tool calls made so far in this answer */
	size_t nrounds;
};

enum llm_action { LLM_ACT_NONE, LLM_ACT_HANGUP, LLM_ACT_TRANSFER };

struct llm_reply {
	char *text;             /* the whole reply, malloc'd (NULL on failure) */
	enum llm_action action; /* what the dialogue asks for after speaking */
	char target[256];       /* LLM_ACT_TRANSFER: where to ("" = TRANSFER_TARGET) */
	int err;                /* 0, or ETIMEDOUT, ECONNREFUSED, EPROTO, ECANCELED, ... */
	char why[160];          /* for the log when err != 0; never spoken */
	int attempts;
	struct llm_tool_call *calls; /* tools the model asked for (run them, then ask again) */
	size_t ncalls;
};

/* Receives the reply piece by piece, on the thread that called llm_chat().
 * Returning false cancels the request (barge-in): llm_chat() then ends with ECANCELED. */
typedef bool(llm_text_h)(const char *text, size_t len, void *arg);

struct llm;

int llm_alloc(struct llm **out, const struct conf *c, char *err, size_t errsize);
void llm_free(struct llm *llm);
const char *llm_name(const struct llm *llm);

/* Sends the conversation (system prompt first) and streams the answer into h.
 * A backend failure before any text arrived is retried once. Returns reply->err. */
int llm_chat(struct llm *llm, const struct llm_msg *msgs, size_t n, const struct llm_ctx *ctx,
	     llm_text_h *h, void *arg, struct llm_reply *reply);
void llm_reply_clear(struct llm_reply *reply);
/* Appends a call to reply->calls (args copied; NULL = "{}"). ENOMEM, or EPROTO for a name
 * that is empty or too long. */
int llm_reply_add_call(struct llm_reply *reply, const char *id, const char *name,
		       const char *args);
void llm_tool_calls_free(struct llm_tool_call *calls, size_t n);

/* The phrases the dialogue listens for (rules backend only; others have none), for an
 * STT grammar. h is called once per phrase. */
void llm_phrases(const struct llm *llm, void (*h)(const char *phrase, void *arg), void *arg);

/* The tools the backend names by itself (rules with tool:), to check they exist. */
void llm_tool_names(const struct llm *llm, void (*h)(const char *tool, void *arg), void *arg);

/* What the bot says when the backend is down, so the call goes on. */
const char *llm_apology(void);

#endif
