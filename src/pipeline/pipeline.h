/* pipeline.h - the conversation: VAD endpointing, STT, LLM, TTS and barge-in for every
 * call, plugged into the call service as its media handler. */
#ifndef CALLBOT_PIPELINE_PIPELINE_H
#define CALLBOT_PIPELINE_PIPELINE_H

#include <stdint.h>

#include "core/config.h"
#include "media/mediachan.h"
#include "store/store.h"

struct llm;
struct stt_engine;
struct tts_engine;
struct tools;
struct pipeline;

/* Stores one turn of a call (t->call_id is unset: record, media_call_info.record, names the
 * call). Called on the call's pipeline thread; must not keep t. */
typedef void(pipeline_turn_h)(void *arg, void *record, const struct store_turn *t);

struct pipeline_deps {
	const struct conf *conf;
	struct store *st;  /* optional: dashboard overrides of the spoken texts, per call */
	struct stt_engine *stt;
	struct llm *llm;
	struct tts_engine *tts;
	struct tools *tools; /* optional: TOOLS_FILE webhooks for the LLM (dialogue.h) */
	pipeline_turn_h *save_turn;
	/* Records the caller's consent state on the call ("announced", "given", ...). */
	void (*save_consent)(void *arg, void *record, const char *state);
	void *save_arg;
	/* Optional: each answer's response time (end of caller speech -> first bot audio). */
	void (*observe_response)(void *arg, int response_ms);
	void *observe_arg;
};

/* The engines in deps must outlive the pipeline. */
int pipeline_alloc(struct pipeline **out, const struct pipeline_deps *deps);
/* Waits (bounded) for the calls' pipeline threads to end, then frees. */
void pipeline_free(struct pipeline *p);
/* The media handler to give the call service. */
void pipeline_handler(struct pipeline *p, struct media_handler *h);

#endif
