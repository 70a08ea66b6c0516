/* diag_speech.c - "Test STT/TTS": speak a sentence with the TTS engine and recognise it
 * back with the STT engine, timing both. */
#include "call/diag.h"
#include "core/config.h"
#include "core/util.h"
#include "stt/stt.h"
#include "tts/tts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Spoken by the TTS engine and recognised back with this grammar: what the
 * dialogue does on a call (pocketsphinx with a small grammar is reliable; its
 * open vocabulary model is not meant for one synthetic sentence). */
static const char speech_phrase[] = "what time is it";
static const char *const speech_grammar[] = {
    "hello",
    "goodbye",
    "yes please",
    "no thank you",
    "talk to a human",
    "what time is it",
    "call me back tomorrow",
    NULL,
};

struct pcmbuf {
	int16_t *v;
	size_t n, cap;
};

static int collect_pcm(const int16_t *pcm, size_t n, void *arg)
{
	struct pcmbuf *b = arg;

	if (b->n + n > (size_t)TTS_RATE_HZ * 30)
		return 1; /* a short sentence never takes 30 s */
	if (b->n + n > b->cap) {
		size_t cap = (b->n + n) * 2;
		int16_t *v = realloc(b->v, cap * sizeof(*v));

		if (!v)
			return 1;
		b->v = v;
		b->cap = cap;
	}
	memcpy(b->v + b->n, pcm, n * sizeof(*pcm));
	b->n += n;
	return 0;
}

static int synthesise(const struct conf *c, struct tts_engine **tts, struct pcmbuf *b,
		      struct diag_result *r, char *err, size_t esize)
{
	int64_t t1;
	int rc = tts_engine_alloc(tts, c, err, esize);

	if (rc)
		return rc;
	t1 = time_mono_ms();
	rc = tts_synth(*tts, speech_phrase, collect_pcm, b, NULL);
	r->tts_ms = time_mono_ms() - t1;
	if (!rc && b->n < TTS_RATE_HZ / 4)
		rc = EIO;
	if (rc)
		snprintf(err, esize, "tts %s: no usable audio: %s", tts_engine_name(*tts),
			 strerror(rc));
	return rc;
}

static int recognise(const struct conf *c, struct stt_engine **stt, const struct pcmbuf *b,
		     char **text, struct diag_result *r, char *err, size_t esize)
{
	static const int16_t quiet[STT_RATE_HZ / 4] = {0};
	struct stt_stream *s = NULL;
	int64_t t1;
	int rc = stt_engine_alloc(stt, c, err, esize);

	if (rc)
		return rc;
	t1 = time_mono_ms();
	rc = stt_stream_begin(*stt, speech_grammar, &s);
	if (!rc)
		rc = stt_stream_feed(s, quiet, ARRAY_SIZE(quiet));
	if (!rc)
		rc = stt_stream_feed(s, b->v, b->n);
	if (!rc)
		rc = stt_stream_feed(s, quiet, ARRAY_SIZE(quiet));
	if (s && rc)
		stt_stream_abort(s);
	else if (s)
		rc = stt_stream_end(s, text, NULL);
	r->stt_ms = time_mono_ms() - t1;
	if (rc)
		snprintf(err, esize, "stt %s: %s", stt_engine_name(*stt), strerror(rc));
	return rc;
}

int diag_speech(const struct conf *c, struct diag_result *r)
{
	struct tts_engine *tts = NULL;
	struct stt_engine *stt = NULL;
	struct pcmbuf b = {0};
	int64_t t0 = time_mono_ms();
	char err[256] = "", *text = NULL;
	int rc;

	memset(r, 0, sizeof(*r));
	str_copy(r->said, sizeof(r->said), speech_phrase);
	rc = synthesise(c, &tts, &b, r, err, sizeof(err));
	if (!rc)
		rc = recognise(c, &stt, &b, &text, r, err, sizeof(err));
	if (!rc) {
		str_copy(r->heard, sizeof(r->heard), text ? text : "");
		/* a network STT may spell or punctuate its own way: any text will do there */
		if (c->stt_backend == STT_POCKETSPHINX)
			r->ok = strcasecmp(r->heard, speech_phrase) == 0;
		else
			r->ok = r->heard[0] != '\0';
		snprintf(r->msg, sizeof(r->msg),
			 "said \"%s\" (%s, %lld ms for %.1f s of audio), "
			 "heard \"%s\" (%s, %lld ms)",
			 speech_phrase, tts_engine_name(tts), (long long)r->tts_ms,
			 (double)b.n / TTS_RATE_HZ, r->heard, stt_engine_name(stt),
			 (long long)r->stt_ms);
	} else {
		str_copy(r->msg, sizeof(r->msg), err[0] ? err : strerror(rc));
	}
	r->ms = time_mono_ms() - t0;
	free(text);
	free(b.v);
	stt_engine_free(stt);
	tts_engine_free(tts);
	return 0;
}
