/* stt_impl.h - what an STT backend implements (one file per backend, one line in stt.c). */
#ifndef CALLBOT_STT_STT_IMPL_H
#define CALLBOT_STT_STT_IMPL_H

#include "stt/stt.h"

struct stt_impl {
	const char *name;
	int (*alloc)(void **st, const struct conf *c, char *err, size_t errsize);
	void (*free)(void *st);
	int (*begin)(void *st, const char *const *phrases, void **stream);
	int (*feed)(void *stream, const int16_t *pcm, size_t n);
	int (*end)(void *stream, char **text); /* also frees the stream */
	void (*abort)(void *stream);
	void (*set_timeout)(void *st, unsigned ms); /* optional */
	/* optional: the words recognised so far in this utterance */
	int (*partial)(void *stream, char *buf, size_t size);
};

extern const struct stt_impl stt_pocketsphinx, stt_http;

#endif
