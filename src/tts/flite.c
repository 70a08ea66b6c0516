/* flite.c - TTS_BACKEND=flite: not built in this release (Debian's flite1-dev is not a
 * build dependency). Selecting it fails at start-up with a clear message; see
 * docs/speech.md for how to add it. */
#include <errno.h>
#include <stdio.h>

#include "tts/tts_impl.h"

static int flite_alloc(void **out, const struct conf *c, char *err, size_t errsize)
{
	(void)out;
	(void)c;
	snprintf(err, errsize,
		 "TTS_BACKEND=flite: this build of callbot has no flite support; use espeak or "
		 "http");
	return ENOTSUP;
}

static void flite_free(void *st)
{
	(void)st;
}

static int flite_synth(void *st, const char *text, struct tts_out *out)
{
	(void)st;
	(void)text;
	(void)out;
	return ENOTSUP;
}

const struct tts_impl tts_flite = {
	.name = "flite",
	.alloc = flite_alloc,
	.free = flite_free,
	.synth = flite_synth,
};
