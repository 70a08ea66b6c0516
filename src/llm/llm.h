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

/* Facts the rules backend can put into replies ({caller}, {time}, ...). */
struct llm_ctx {
	const char *caller;
	int64_t now_ms;          /* 0 = now */
	volatile bool *cancel;   /* polled while waiting for the backend (may be NULL) */
};

enum llm_action { LLM_ACT_NONE, LLM_ACT_HANGUP, LLM_ACT_TRANSFER };

struct llm_reply {
	char *text;             /* the whole reply, malloc'd (NULL on failure) */
	enum llm_action action; /* what the dialogue asks for after speaking */
	char target[256];       /* LLM_ACT_TRANSFER: where to ("" = TRANSFER_TARGET) */
	int err;                /* 0, or ETIMEDOUT, ECONNREFUSED, EPROTO, ECANCELED, ... */
	char why[160];          /* for the log when err != 0; never spoken */
	int attempts;
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

/* The phrases the dialogue listens for (rules backend only; others have none), for an
 * STT grammar. h is called once per phrase. */
void llm_phrases(const struct llm *llm, void (*h)(const char *phrase, void *arg), void *arg);

/* What the bot says when the backend is down, so the call goes on. */
const char *llm_apology(void);

#endif
