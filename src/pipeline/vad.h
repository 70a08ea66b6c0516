/* vad.h - voice activity detector and endpointer for one call's received audio
 * (8 kHz 16-bit mono, 20 ms frames). */
#ifndef CALLBOT_PIPELINE_VAD_H
#define CALLBOT_PIPELINE_VAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VAD_RATE 8000
#define VAD_FRAME 160 /* samples per 20 ms frame */
#define VAD_FRAME_MS 20

enum vad_event {
	VAD_NONE = 0,
	VAD_SPEECH_START, /* min_speech_ms of voiced audio seen: an utterance began */
	VAD_SPEECH_END,   /* silence_ms without voice after an utterance */
};

struct vad_params {
	unsigned silence_ms;    /* VAD_SILENCE_MS: trailing silence that ends an utterance */
	unsigned min_speech_ms; /* voiced audio needed before SPEECH_START (rejects clicks) */
	unsigned preroll_ms;    /* audio kept from before SPEECH_START, see vad_preroll() */
	float start_db;         /* frame energy above the noise floor that counts as voice */
	float stay_db;          /* ... once in an utterance (hysteresis) */
	float min_level_db;     /* frames quieter than this (dBFS) are never voice */
	float min_tonality_db;  /* LPC prediction gain a frame needs to start an utterance */
};

struct vad;

/* silence_ms 500, min_speech_ms 60, preroll_ms 300, start_db 9, stay_db 5,
 * min_level_db -50, min_tonality_db 4. */
void vad_params_default(struct vad_params *p);
/* p NULL: defaults. Returns 0, EINVAL or ENOMEM. */
int vad_alloc(struct vad **out, const struct vad_params *p);
void vad_free(struct vad *v);
/* Forgets the current utterance (keeps the noise floor): after barge-in handling or
 * when the bot stops listening. */
void vad_reset(struct vad *v);

/* Feeds exactly VAD_FRAME samples (other sizes are ignored and return VAD_NONE). */
enum vad_event vad_feed(struct vad *v, const int16_t *pcm, size_t n);

bool vad_in_speech(const struct vad *v);
/* Voiced time of the current utterance so far, from its first voiced frame, in ms; 0
 * outside an utterance. Compare with BARGE_IN_MIN_MS: pauses inside the utterance do not
 * count, so a cough or an "uh-huh" stays short. Valid from before SPEECH_START. */
unsigned vad_speech_ms(const struct vad *v);
/* Copies the audio that led to the current SPEECH_START - up to preroll_ms before the
 * first voiced frame, through the frame that triggered the event - so a recogniser
 * gets the whole first syllable. Returns the samples copied (at most max). */
size_t vad_preroll(const struct vad *v, int16_t *out, size_t max);
/* Current estimates, dBFS (a full-scale square wave is 0). */
float vad_noise_db(const struct vad *v);
float vad_level_db(const struct vad *v);

#endif
