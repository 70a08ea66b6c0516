/* tts.c - the TTS registry and the output path shared by every backend. */
#include "tts/tts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/log.h"
#include "pipeline/resample.h"
#include "tts/tts_impl.h"

/* Indexed by enum tts_backend (core/config.h). */
static const struct tts_impl *const backends[] = {
	[TTS_ESPEAK] = &tts_espeak,
	[TTS_FLITE] = &tts_flite,
	[TTS_HTTP] = &tts_http,
};

struct tts_engine {
	const struct tts_impl *be;
	void *st;
};

int tts_engine_alloc(struct tts_engine **out, const struct conf *c, char *err, size_t errsize)
{
	struct tts_engine *e;
	char dummy[8];
	int rc;

	if (!err) {
		err = dummy;
		errsize = sizeof(dummy);
	}
	*err = '\0';
	if (!out || !c)
		return EINVAL;
	if (c->tts_backend < 0 || (size_t)c->tts_backend >= sizeof(backends) / sizeof(*backends) ||
	    !backends[c->tts_backend]) {
		snprintf(err, errsize, "TTS_BACKEND: unknown backend");
		return EINVAL;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return ENOMEM;
	e->be = backends[c->tts_backend];
	rc = e->be->alloc(&e->st, c, err, errsize);
	if (rc) {
		if (!*err)
			snprintf(err, errsize, "TTS_BACKEND=%s: cannot start (%s)", e->be->name,
				 strerror(rc));
		free(e);
		return rc;
	}
	*out = e;
	return 0;
}

void tts_engine_free(struct tts_engine *e)
{
	if (!e)
		return;
	e->be->free(e->st);
	free(e);
}

const char *tts_engine_name(const struct tts_engine *e)
{
	return e->be->name;
}

void tts_engine_set_timeout(struct tts_engine *e, unsigned ms)
{
	if (e && e->be->set_timeout)
		e->be->set_timeout(e->st, ms);
}

int tts_synth(struct tts_engine *e, const char *text, tts_pcm_h *pcmh, void *arg,
	      volatile bool *cancel)
{
	struct tts_out *o;
	int rc;

	if (!e || !text || !pcmh)
		return EINVAL;
	while (*text == ' ' || *text == '\t' || *text == '\n' || *text == '\r')
		text++;
	if (!*text)
		return EINVAL;
	o = calloc(1, sizeof(*o));
	if (!o)
		return ENOMEM;
	o->h = pcmh;
	o->arg = arg;
	o->cancel = cancel;
	rc = e->be->synth(e->st, text, o);
	if (!rc && o->rs) { /* the resampler's tail */
		size_t k = resampler_flush(o->rs, o->buf, sizeof(o->buf) / sizeof(*o->buf));

		if (k && o->h(o->buf, k, o->arg))
			rc = ECANCELED;
	}
	if (!rc && tts_out_cancelled(o))
		rc = ECANCELED;
	resampler_free(o->rs);
	free(o);
	return rc;
}

int tts_out_rate(struct tts_out *o, unsigned rate)
{
	if (!rate || rate > 192000)
		return EINVAL;
	if (rate == o->in_rate)
		return 0;
	resampler_free(o->rs);
	o->rs = NULL;
	o->in_rate = rate;
	if (rate == TTS_RATE_HZ)
		return 0;
	return resampler_alloc(&o->rs, rate, TTS_RATE_HZ, 5);
}

bool tts_out_cancelled(const struct tts_out *o)
{
	return o->cancel && *o->cancel;
}

int tts_out_push(struct tts_out *o, const int16_t *pcm, size_t n)
{
	const size_t cap = sizeof(o->buf) / sizeof(*o->buf);

	if (tts_out_cancelled(o))
		return ECANCELED;
	if (!o->in_rate)
		return EINVAL;
	while (n) {
		size_t take, k;

		if (!o->rs) {
			take = n < cap ? n : cap;
			memcpy(o->buf, pcm, take * sizeof(*pcm));
			k = take;
		} else {
			/* 1024 in -> at most ~1040 out at any ratio <= 1 */
			take = n < 1024 ? n : 1024;
			if (resampler_out_max(o->rs, take) > cap)
				take = 256;
			k = resampler_process(o->rs, pcm, take, o->buf, cap);
		}
		pcm += take;
		n -= take;
		if (k) {
			o->samples += k;
			if (o->h(o->buf, k, o->arg))
				return ECANCELED;
		}
		if (tts_out_cancelled(o))
			return ECANCELED;
	}
	return 0;
}
