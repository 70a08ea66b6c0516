/* tts.h - text-to-speech engines: text in, 8 kHz 16-bit mono PCM out, chunk by chunk. */
#ifndef CALLBOT_TTS_TTS_H
#define CALLBOT_TTS_TTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TTS_RATE_HZ 8000

struct conf;
struct tts_engine;

/* Receives the next chunk of audio (8 kHz mono) as soon as it is synthesised; return
 * non-zero to stop the synthesis (tts_synth() then returns ECANCELED). Called on the thread
 * that called tts_synth(). */
typedef int(tts_pcm_h)(const int16_t *pcm, size_t n, void *arg);

/* Picks the backend named by c->tts_backend (TTS_BACKEND) and prepares it for c->language,
 * c->tts_voice and c->tts_rate. Load once per process and share: tts_synth() may be called
 * from several worker threads at once. On error returns an errno value and writes one line
 * naming the key involved into err (may be NULL). */
int tts_engine_alloc(struct tts_engine **out, const struct conf *c, char *err, size_t errsize);
void tts_engine_free(struct tts_engine *e);
const char *tts_engine_name(const struct tts_engine *e);
/* Longest a network backend may wait for its first audio (default 10000 ms). */
void tts_engine_set_timeout(struct tts_engine *e, unsigned ms);

/* Synthesises UTF-8 text, blocking the calling (worker) thread, and delivers audio through
 * pcmh as it is produced. Polls *cancel (may be NULL) between chunks: when it becomes true
 * synthesis stops early. Returns 0, ECANCELED (cancelled or stopped by pcmh), EINVAL
 * (empty text), or the backend's error (EIO, ETIMEDOUT, ECONNREFUSED, EPROTO...) which
 * it has logged with the reason. */
int tts_synth(struct tts_engine *e, const char *text, tts_pcm_h *pcmh, void *arg,
	      volatile bool *cancel);

/* Live check for `callbot selftest speech`: synthesises a short sentence with the
 * configured engine and checks the audio is long and loud enough. Writes one line for the
 * operator into msg. Returns 0, EIO (no usable audio) or the engine's error. */
int tts_selftest(const struct conf *c, char *msg, size_t size);

#endif
