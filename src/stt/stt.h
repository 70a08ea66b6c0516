/* stt.h - speech-to-text engines: one shared engine per process, one stream per utterance.
 * Audio in is 8 kHz 16-bit mono, fed while the caller speaks, so the text is ready right
 * after the endpointer's SPEECH_END. */
#ifndef CALLBOT_STT_STT_H
#define CALLBOT_STT_STT_H

#include <stddef.h>
#include <stdint.h>

#define STT_RATE_HZ 8000

struct conf;
struct stt_engine;
struct stt_stream;

/* Picks the backend named by c->stt_backend (STT_BACKEND) and loads what it needs (the
 * pocketsphinx model: about a second; do it once at start-up). On error returns an errno
 * value and writes one line naming the key involved into err (may be NULL). */
int stt_engine_alloc(struct stt_engine **out, const struct conf *c, char *err, size_t errsize);
void stt_engine_free(struct stt_engine *e); /* all its streams must have ended */
const char *stt_engine_name(const struct stt_engine *e);
/* Longest a network backend may take for one utterance (default 15000 ms). */
void stt_engine_set_timeout(struct stt_engine *e, unsigned ms);

/* Starts recognising one utterance. phrases (NULL-terminated, may be NULL) are what the
 * dialogue expects now: pocketsphinx then recognises only those (a JSGF grammar, far more
 * robust on the phone than its general model); other backends ignore them. Thread-safe:
 * each concurrent stream gets its own decoder. Returns 0, ENOMEM, EBUSY (all decoders in
 * use), EINVAL (no phrase has a word the recogniser knows). */
int stt_stream_begin(struct stt_engine *e, const char *const *phrases, struct stt_stream **out);
/* Feeds audio (any number of samples). Cheap for http (buffered), does the recognition
 * work for pocketsphinx. Returns 0, E2BIG (utterance longer than the backend accepts),
 * ENOMEM. */
int stt_stream_feed(struct stt_stream *s, const int16_t *pcm, size_t n);
/* Ends the utterance and frees the stream. On success *text is malloc'd UTF-8, lower case
 * for pocketsphinx, "" when nothing was recognised; *ms (may be NULL) is the time this call
 * took, i.e. the delay between end of speech and transcript. Errors: ETIMEDOUT,
 * ECONNREFUSED, EPROTO (bad answer), EIO - already logged with the reason. */
int stt_stream_end(struct stt_stream *s, char **text, unsigned *ms);
/* The words recognised so far ("" if none yet), for decisions while the caller still
 * speaks (barge-in: real words, or only "uh-huh"?). ENOTSUP for backends that only
 * recognise at the end (http). */
int stt_stream_partial(struct stt_stream *s, char *buf, size_t size);
/* Drops an utterance without recognising it (barge-in cancelled, hang-up). NULL is fine. */
void stt_stream_abort(struct stt_stream *s);

/* Live check for `callbot selftest speech`: loads the configured engine and recognises one
 * second of quiet audio (pocketsphinx: model loads, the result is empty; http: the server
 * answers a real request). Writes one line for the operator into msg. Returns 0 or the
 * errno of the failing step. */
int stt_selftest(const struct conf *c, char *msg, size_t size);

#endif
