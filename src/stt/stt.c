/* stt.c - the STT registry and the stream wrapper that times end-of-speech to transcript. */
#include "stt/stt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/util.h"
#include "stt/stt_impl.h"

/* Indexed by enum stt_backend (core/config.h). */
static const struct stt_impl *const backends[] = {
	[STT_POCKETSPHINX] = &stt_pocketsphinx,
	[STT_HTTP] = &stt_http,
};

struct stt_engine {
	const struct stt_impl *be;
	void *st;
};

struct stt_stream {
	const struct stt_impl *be;
	void *st;
};

int stt_engine_alloc(struct stt_engine **out, const struct conf *c, char *err, size_t errsize)
{
	struct stt_engine *e;
	char dummy[8];
	int rc;

	if (!err) {
		err = dummy;
		errsize = sizeof(dummy);
	}
	*err = '\0';
	if (!out || !c)
		return EINVAL;
	if (c->stt_backend < 0 || (size_t)c->stt_backend >= ARRAY_SIZE(backends) ||
	    !backends[c->stt_backend]) {
		snprintf(err, errsize, "STT_BACKEND: unknown backend");
		return EINVAL;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return ENOMEM;
	e->be = backends[c->stt_backend];
	rc = e->be->alloc(&e->st, c, err, errsize);
	if (rc) {
		if (!*err)
			snprintf(err, errsize, "STT_BACKEND=%s: cannot start (%s)", e->be->name,
				 strerror(rc));
		free(e);
		return rc;
	}
	*out = e;
	return 0;
}

void stt_engine_free(struct stt_engine *e)
{
	if (!e)
		return;
	e->be->free(e->st);
	free(e);
}

const char *stt_engine_name(const struct stt_engine *e)
{
	return e->be->name;
}

void stt_engine_set_timeout(struct stt_engine *e, unsigned ms)
{
	if (e && e->be->set_timeout)
		e->be->set_timeout(e->st, ms);
}

int stt_stream_begin(struct stt_engine *e, const char *const *phrases, struct stt_stream **out)
{
	struct stt_stream *s;
	int rc;

	if (!e || !out)
		return EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return ENOMEM;
	s->be = e->be;
	rc = e->be->begin(e->st, phrases, &s->st);
	if (rc) {
		free(s);
		return rc;
	}
	*out = s;
	return 0;
}

int stt_stream_feed(struct stt_stream *s, const int16_t *pcm, size_t n)
{
	if (!s || (!pcm && n))
		return EINVAL;
	return n ? s->be->feed(s->st, pcm, n) : 0;
}

int stt_stream_end(struct stt_stream *s, char **text, unsigned *ms)
{
	int64_t t0 = time_mono_ms();
	int rc;

	if (!s)
		return EINVAL;
	if (!text) {
		stt_stream_abort(s);
		return EINVAL;
	}
	*text = NULL;
	rc = s->be->end(s->st, text);
	free(s);
	if (ms)
		*ms = (unsigned)(time_mono_ms() - t0);
	return rc;
}

int stt_stream_partial(struct stt_stream *s, char *buf, size_t size)
{
	if (!s || !buf || !size)
		return EINVAL;
	if (!s->be->partial)
		return ENOTSUP;
	return s->be->partial(s->st, buf, size);
}

void stt_stream_abort(struct stt_stream *s)
{
	if (!s)
		return;
	s->be->abort(s->st);
	free(s);
}
