/* tts_impl.h - what a TTS backend implements (one file per backend, one line in tts.c). */
#ifndef CALLBOT_TTS_TTS_IMPL_H
#define CALLBOT_TTS_TTS_IMPL_H

#include "tts/tts.h"

struct resampler;
struct tts_out;

struct tts_impl {
	const char *name;
	int (*alloc)(void **st, const struct conf *c, char *err, size_t errsize);
	void (*free)(void *st);
	int (*synth)(void *st, const char *text, struct tts_out *out);
	void (*set_timeout)(void *st, unsigned ms); /* optional */
};

/* Backend output: resamples to 8 kHz, delivers chunks, watches the cancel flag. */
struct tts_out {
	tts_pcm_h *h;
	void *arg;
	volatile bool *cancel;
	unsigned in_rate;
	struct resampler *rs;
	int16_t buf[4096];
	size_t samples; /* delivered so far, at 8 kHz */
};

/* Declares the rate of the audio the backend will push (may be called again before any
 * audio is pushed). */
int tts_out_rate(struct tts_out *o, unsigned rate);
/* Pushes audio at the declared rate; returns 0 or ECANCELED (stop synthesising). */
int tts_out_push(struct tts_out *o, const int16_t *pcm, size_t n);
bool tts_out_cancelled(const struct tts_out *o);

extern const struct tts_impl tts_espeak, tts_flite, tts_http;

#endif
