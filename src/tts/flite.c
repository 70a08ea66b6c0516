/* flite.c - TTS_BACKEND=flite: CMU Flite with its built-in "kal" voice (English only).
 * Built when Debian's flite1-dev is present (CALLBOT_HAVE_FLITE); otherwise selecting it
 * fails at start-up with a clear message. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "tts/tts_impl.h"

#ifdef CALLBOT_HAVE_FLITE
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#include <flite/flite.h>
#pragma GCC diagnostic pop

cst_voice *register_cmu_us_kal(const char *voxdir);
void unregister_cmu_us_kal(cst_voice *v);

struct flite_tts {
	cst_voice *voice;
};

/* Flite keeps global state (lexicon, voice registry): one synthesis at a time. */
static pthread_mutex_t flite_lock = PTHREAD_MUTEX_INITIALIZER;

static int flite_alloc(void **out, const struct conf *c, char *err, size_t errsize)
{
	struct flite_tts *f;

	if (c->language && strncmp(c->language, "en", 2) != 0) {
		snprintf(err, errsize, "TTS_BACKEND=flite: only English (LANGUAGE=en) is available");
		return EINVAL;
	}
	f = calloc(1, sizeof(*f));
	if (!f)
		return ENOMEM;
	pthread_mutex_lock(&flite_lock);
	flite_init();
	f->voice = register_cmu_us_kal(NULL);
	pthread_mutex_unlock(&flite_lock);
	if (!f->voice) {
		free(f);
		snprintf(err, errsize, "TTS_BACKEND=flite: cannot load the kal voice");
		return EIO;
	}
	*out = f;
	return 0;
}

static void flite_free(void *st)
{
	struct flite_tts *f = st;

	if (!f)
		return;
	pthread_mutex_lock(&flite_lock);
	unregister_cmu_us_kal(f->voice);
	pthread_mutex_unlock(&flite_lock);
	free(f);
}

/* Flite renders a whole sentence at once (the pipeline hands it one sentence at a time);
 * the audio then goes out in chunks so a cancel stops it early. */
static int flite_synth(void *st, const char *text, struct tts_out *out)
{
	struct flite_tts *f = st;
	cst_wave *w;
	int rc = 0;

	pthread_mutex_lock(&flite_lock);
	w = flite_text_to_wave(text, f->voice);
	pthread_mutex_unlock(&flite_lock);
	if (!w)
		return EIO;
	rc = tts_out_rate(out, (unsigned)w->sample_rate);
	for (int i = 0; !rc && i < w->num_samples; i += 1600) {
		int n = w->num_samples - i < 1600 ? w->num_samples - i : 1600;
		rc = tts_out_push(out, w->samples + i, (size_t)n);
	}
	delete_wave(w);
	return rc;
}
#else
static int flite_alloc(void **out, const struct conf *c, char *err, size_t errsize)
{
	(void)out;
	(void)c;
	snprintf(err, errsize,
		 "TTS_BACKEND=flite: this build of callbot has no flite support (install "
		 "flite1-dev and rebuild); use espeak or http");
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
#endif

const struct tts_impl tts_flite = {
	.name = "flite",
	.alloc = flite_alloc,
	.free = flite_free,
	.synth = flite_synth,
};
