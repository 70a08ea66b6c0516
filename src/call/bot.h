/* bot.h - the built-in behaviours used until the AI pipeline exists (and by
 * tests and benchmarks): BOT_MODE=echo and BOT_MODE=prompt, on the media API. */
#ifndef CALLBOT_CALL_BOT_H
#define CALLBOT_CALL_BOT_H

#include <stddef.h>
#include <stdint.h>

#include "media/mediachan.h"

struct bot_prompt {
	int16_t *pcm; /* 8 kHz mono greeting, malloc'd */
	size_t n;
};

/* Echo: every received frame is queued for playing back (~40-60 ms later). */
void bot_echo_handler(struct media_handler *h);
/* Prompt: plays p's audio, a second of silence, and again, until hangup.
 * p must outlive the calls. */
void bot_prompt_handler(struct media_handler *h, const struct bot_prompt *p);

struct conf;
/* Builds the greeting: GREETING spoken by the embedded TTS engine
 * (TTS_BACKEND espeak or flite, via src/tts, 8 kHz) or, when that fails or a
 * network backend is configured, a two-tone chime. Returns 0 or ENOMEM. */
int bot_prompt_make(struct bot_prompt *p, const struct conf *c);
void bot_prompt_free(struct bot_prompt *p);

#endif
