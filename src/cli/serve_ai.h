/* serve_ai.h - the AI stack of `serve`: speech engines, dialogue and the conversation
 * pipeline, plugged into the call service when BOT_MODE=ai. */
#ifndef CALLBOT_CLI_SERVE_AI_H
#define CALLBOT_CLI_SERVE_AI_H

#include "core/config.h"

struct callsvc;
struct llm;
struct pipeline;
struct stt_engine;
struct tools;
struct tts_engine;
struct web;

struct serve_ai {
	const struct conf *conf;
	struct stt_engine *stt;
	struct llm *llm;
	struct tts_engine *tts;
	struct tools *tools;
	struct pipeline *pipe;
	struct web *web; /* set once the web runs: response times go to /metrics */
};

/* Loads the engines named by STT_BACKEND, LLM_BACKEND and TTS_BACKEND and hands the
 * pipeline to cs. Errors name the key at fault, on stderr and in the log. */
struct store;
int serve_ai_start(struct serve_ai *ai, const struct conf *c, struct callsvc *cs,
		   struct store *st);
/* After callsvc_stop(): frees the pipeline and the engines. */
void serve_ai_stop(struct serve_ai *ai);
/* For POST /api/test_llm: a one-line answer from the configured (or named) backend. */
int serve_ai_test_llm(struct serve_ai *ai, const char *backend, char **answer, int *latency_ms);

#endif
