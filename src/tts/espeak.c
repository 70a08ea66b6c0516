/* espeak.c - TTS backend on libespeak-ng (embedded, many languages).
 *
 * espeak-ng keeps its state in process globals and is not thread-safe, so one mutex
 * serialises initialisation, voice selection and synthesis for every engine in the
 * process. espeak synthesises about 20-50 times faster than real time, so a queue of a
 * few calls costs tens of milliseconds; docs/speech.md has the figures. Synchronous mode
 * hands us audio (22050 Hz) every ESPEAK_BUF_MS of speech, which we resample to 8 kHz and
 * deliver at once, so the first audio leaves before the sentence is finished.
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <espeak-ng/speak_lib.h>

#include "core/config.h"
#include "core/log.h"
#include "core/util.h"
#include "tts/tts_impl.h"

#define ESPEAK_BUF_MS 100

static pthread_mutex_t espeak_lock = PTHREAD_MUTEX_INITIALIZER;
/* Initialised on first use and kept for the life of the process: in espeak-ng 1.51 an
 * espeak_Terminate() followed by a new espeak_Initialize() hangs in the next Terminate,
 * and the library's state stays reachable (no leak report) when it is never terminated. */
static int espeak_rate; /* Hz, from espeak_Initialize; 0 until initialised */
static char espeak_cur_voice[64]; /* what the library is set to now */
static int espeak_cur_wpm;

struct espeak_tts {
	char voice[64];
	int wpm;
};

struct espeak_job {
	struct tts_out *out;
	int err;
};

static int synth_cb(short *wav, int n, espeak_EVENT *ev)
{
	struct espeak_job *job = NULL;

	/* every event carries espeak_Synth()'s user_data, the list terminator included */
	for (; ev; ev++) {
		if (ev->user_data) {
			job = ev->user_data;
			break;
		}
		if (ev->type == espeakEVENT_LIST_TERMINATED)
			break;
	}
	if (!job)
		return 0;
	if (job->err)
		return 1;
	if (wav && n > 0)
		job->err = tts_out_push(job->out, wav, (size_t)n);
	else if (tts_out_cancelled(job->out))
		job->err = ECANCELED;
	return job->err ? 1 : 0;
}

/* Under espeak_lock. */
static int select_voice(const char *voice, int wpm)
{
	if (strcmp(espeak_cur_voice, voice)) {
		if (espeak_SetVoiceByName(voice) != EE_OK)
			return ENOENT;
		str_copy(espeak_cur_voice, sizeof(espeak_cur_voice), voice);
		espeak_cur_wpm = 0; /* a new voice resets the parameters */
	}
	if (espeak_cur_wpm != wpm) {
		espeak_SetParameter(espeakRATE, wpm, 0);
		espeak_cur_wpm = wpm;
	}
	return 0;
}

static void espeak_free(void *p)
{
	if (!p)
		return;
	free(p);
}

static int espeak_alloc(void **out, const struct conf *c, char *err, size_t errsize)
{
	struct espeak_tts *t = calloc(1, sizeof(*t));
	const char *lang = c->language && *c->language ? c->language : "en";
	int rc = 0;

	if (!t)
		return ENOMEM;
	if (c->tts_voice && *c->tts_voice) {
		str_copy(t->voice, sizeof(t->voice), c->tts_voice);
	} else {
		/* LANGUAGE "en" means American English on a US-made product; espeak's "en" is
		 * British. Region codes map to espeak's lower-case names (en-GB -> en-gb). */
		str_copy(t->voice, sizeof(t->voice), strcmp(lang, "en") ? lang : "en-us");
		for (char *q = t->voice; *q; q++)
			*q = (char)tolower((unsigned char)*q);
	}
	t->wpm = c->tts_rate > 0 ? c->tts_rate : 175;

	pthread_mutex_lock(&espeak_lock);
	if (espeak_rate <= 0) {
		espeak_rate = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, ESPEAK_BUF_MS, NULL, 0);
		if (espeak_rate <= 0) {
			snprintf(err, errsize,
				 "TTS_BACKEND=espeak: cannot initialise espeak-ng (is espeak-ng-data "
				 "installed?)");
			espeak_rate = 0;
			pthread_mutex_unlock(&espeak_lock);
			free(t);
			return ENOENT;
		}
		espeak_SetSynthCallback(synth_cb);
	}
	if (select_voice(t->voice, t->wpm)) {
		/* "de-at" without its own voice: try the base language */
		char *dash = strchr(t->voice, '-');

		if (!(c->tts_voice && *c->tts_voice) && dash) {
			*dash = '\0';
			rc = select_voice(t->voice, t->wpm);
		} else {
			rc = ENOENT;
		}
		if (rc)
			snprintf(err, errsize,
				 "%s: espeak-ng has no voice \"%s\" (see espeak-ng --voices)",
				 c->tts_voice && *c->tts_voice ? "TTS_VOICE" : "LANGUAGE",
				 c->tts_voice && *c->tts_voice ? c->tts_voice : lang);
	}
	if (rc) {
		pthread_mutex_unlock(&espeak_lock);
		free(t);
		return rc;
	}
	pthread_mutex_unlock(&espeak_lock);
	*out = t;
	return 0;
}

static int espeak_synth(void *p, const char *text, struct tts_out *out)
{
	struct espeak_tts *t = p;
	struct espeak_job job = { out, 0 };
	espeak_ERROR er;
	int rc;

	pthread_mutex_lock(&espeak_lock);
	rc = select_voice(t->voice, t->wpm);
	if (!rc)
		rc = tts_out_rate(out, (unsigned)espeak_rate);
	if (!rc) {
		er = espeak_Synth(text, strlen(text) + 1, 0, POS_CHARACTER, 0,
				  espeakCHARS_UTF8, NULL, &job);
		if (job.err)
			rc = job.err;
		else if (er != EE_OK)
			rc = EIO;
	}
	pthread_mutex_unlock(&espeak_lock);
	if (rc && rc != ECANCELED)
		log_warn("tts: espeak-ng failed for voice %s: %s", t->voice, strerror(rc));
	return rc;
}

const struct tts_impl tts_espeak = {
	.name = "espeak",
	.alloc = espeak_alloc,
	.free = espeak_free,
	.synth = espeak_synth,
};
