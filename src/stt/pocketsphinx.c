/* pocketsphinx.c - STT_BACKEND=pocketsphinx: the embedded recogniser (CMU pocketsphinx with
 * Debian's 16 kHz en-us model).
 *
 * Telephone audio is 8 kHz. The model is wideband, and audio upsampled from 8 kHz has an
 * exactly empty 4-8 kHz band which wrecks the model's upper mel filters (log of ~0), so we
 * upsample with speexdsp and add a faint noise floor in 4-8 kHz only (measured in
 * docs/speech.md). Audio is decoded while
 * it is fed, so ending an utterance only finishes the search.
 *
 * A ps_decoder_t is not thread-safe and costs tens of MB, so the engine keeps a pool:
 * one decoder made at start-up (which checks the model), more made on demand up to
 * MAX_CALLS, each reused by one stream at a time. The model files are shared through the
 * page cache only (pocketsphinx 0.8 cannot share a loaded model between decoders).
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <pocketsphinx.h>
#include <sphinxbase/ckd_alloc.h>
#include <sphinxbase/err.h>
#include <sphinxbase/fsg_model.h>
#include <sphinxbase/jsgf.h>

#include "core/config.h"
#include "core/log.h"
#include "core/util.h"
#include "pipeline/resample.h"
#include "stt/stt_impl.h"

#define PS_MODEL_ROOT "/usr/share/pocketsphinx/model"
#define PS_RATE 16000
#define PS_GRAMMAR "callbot"
#define PS_LM_SEARCH "_default" /* pocketsphinx's name for the -lm search */
#define PS_MAX_SAMPLES (120 * STT_RATE_HZ) /* longest utterance we decode */
#define PS_FLOOR_DBFS -60.0                /* see docs/speech.md for the measurements */

struct ps_dec {
	ps_decoder_t *ps;
	char *jsgf; /* grammar text loaded as search PS_GRAMMAR, or NULL */
};

struct ps_engine {
	char *hmm, *lm, *dict;
	pthread_mutex_t lock;
	struct ps_dec **idle;
	size_t n_idle, n_total, max;
	double floor_rms; /* linear, of full scale */
};

struct ps_stream {
	struct ps_engine *eng;
	struct ps_dec *d;
	struct resampler *rs;
	uint64_t rng;
	double prev;
	unsigned long phase;
	size_t fed;
	int err;
};

static void ps_log_cb(void *arg, err_lvl_t lvl, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	(void)arg;
	if (lvl < ERR_ERROR || !log_enabled(LOGL_WARN))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	line[strcspn(line, "\n")] = '\0';
	if (*line)
		log_warn("stt: pocketsphinx: %s", line);
}

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static char *fmt_path(const char *dir, const char *a, const char *b, const char *c)
{
	char *p;

	if (asprintf(&p, "%s/%s%s%s", dir, a, b ? b : "", c ? c : "") < 0)
		return NULL;
	return p;
}

/* Finds the model files: STT_MODEL as a directory when it is one (holding a model folder,
 * *.lm.bin and *.dict), else PS_MODEL_ROOT/<lang>/ with Debian's layout
 * (<lang>/, <lang>.lm.bin, cmudict-<lang>.dict). lang is LANGUAGE lower-cased: "en" and
 * "en-gb" both use en-us, the only English model Debian ships. */
static int find_model(struct ps_engine *e, const struct conf *c, char *err, size_t errsize)
{
	char lang[16], dir[512];
	const char *l = c->language && *c->language ? c->language : "en";

	str_copy(lang, sizeof(lang), l);
	for (char *q = lang; *q; q++)
		*q = (char)tolower((unsigned char)*q);
	if (!strncmp(lang, "en", 2))
		str_copy(lang, sizeof(lang), "en-us");
	if (c->stt_model && c->stt_model[0] == '/' && exists(c->stt_model))
		str_copy(dir, sizeof(dir), c->stt_model);
	else
		snprintf(dir, sizeof(dir), "%s/%s", PS_MODEL_ROOT, lang);
	e->hmm = fmt_path(dir, lang, NULL, NULL);
	e->lm = fmt_path(dir, lang, ".lm.bin", NULL);
	e->dict = fmt_path(dir, "cmudict-", lang, ".dict");
	if (!e->hmm || !e->lm || !e->dict)
		return ENOMEM;
	if (e->dict && !exists(e->dict)) {
		free(e->dict);
		e->dict = fmt_path(dir, lang, ".dict", NULL);
		if (!e->dict)
			return ENOMEM;
	}
	if (!exists(e->hmm) || !exists(e->lm) || !exists(e->dict)) {
		snprintf(err, errsize,
			 "LANGUAGE=%s: no pocketsphinx model in %s (need %s/, %s.lm.bin and a "
			 ".dict; see docs/speech.md, or use STT_BACKEND=http)",
			 l, dir, lang, lang);
		return ENOENT;
	}
	return 0;
}

static void dec_free(struct ps_dec *d)
{
	if (!d)
		return;
	if (d->ps)
		ps_free(d->ps);
	free(d->jsgf);
	free(d);
}

static int dec_new(struct ps_engine *e, struct ps_dec **out)
{
	struct ps_dec *d = calloc(1, sizeof(*d));
	cmd_ln_t *cfg;

	if (!d)
		return ENOMEM;
	/* Only the first (tree) search pass: the flat-lexicon and lattice passes run at the end
	 * of the utterance and cost 100-450 ms of response time for no measurable gain on
	 * telephone speech (docs/speech.md); with them off the text is ready ~5 ms after the
	 * last frame. */
	cfg = cmd_ln_init(NULL, ps_args(), TRUE, "-hmm", e->hmm, "-lm", e->lm, "-dict", e->dict,
			  "-samprate", "16000", "-fwdflat", "no", "-bestpath", "no", NULL);
	if (!cfg) {
		free(d);
		return EINVAL;
	}
	d->ps = ps_init(cfg);
	cmd_ln_free_r(cfg); /* the decoder holds its own reference */
	if (!d->ps) {
		free(d);
		return EIO;
	}
	*out = d;
	return 0;
}

static void ps_engine_free(void *p)
{
	struct ps_engine *e = p;

	if (!e)
		return;
	if (e->n_idle != e->n_total)
		log_error("stt: pocketsphinx engine freed with %zu stream(s) open",
			  e->n_total - e->n_idle);
	for (size_t i = 0; i < e->n_idle; i++)
		dec_free(e->idle[i]);
	free(e->idle);
	free(e->hmm);
	free(e->lm);
	free(e->dict);
	pthread_mutex_destroy(&e->lock);
	free(e);
}

static int ps_engine_alloc(void **out, const struct conf *c, char *err, size_t errsize)
{
	struct ps_engine *e = calloc(1, sizeof(*e));
	struct ps_dec *d = NULL;
	double floor_db;
	int rc;

	if (!e)
		return ENOMEM;
	pthread_mutex_init(&e->lock, NULL);
	/* process-wide: pocketsphinx's chatter off (the configuration dump goes straight to
	 * the log stream, hence both), its errors to our log */
	err_set_logfp(NULL);
	err_set_callback(ps_log_cb, NULL);
	/* a call holds up to two: the utterance being answered and the next one's, begun
	 * ahead on its own thread (conversation.c, prepare_standby) */
	e->max = 2 * (c->max_calls > 0 ? (size_t)c->max_calls : 16);
	/* CALLBOT_PS_FLOOR_DBFS: a tuning knob for bench/speech_wer (not a setting) */
	floor_db = getenv("CALLBOT_PS_FLOOR_DBFS") ? atof(getenv("CALLBOT_PS_FLOOR_DBFS"))
						   : PS_FLOOR_DBFS;
	e->floor_rms = floor_db < -120 ? 0 : pow(10, floor_db / 20);
	e->idle = calloc(e->max, sizeof(*e->idle));
	rc = e->idle ? find_model(e, c, err, errsize) : ENOMEM;
	if (!rc) {
		rc = dec_new(e, &d);
		if (rc)
			snprintf(err, errsize,
				 "STT_BACKEND=pocketsphinx: cannot load the model %s (%s)", e->hmm,
				 strerror(rc));
	}
	if (rc) {
		ps_engine_free(e);
		return rc;
	}
	e->idle[e->n_idle++] = d;
	e->n_total = 1;
	*out = e;
	return 0;
}

/* "Go forward, ten meters!" -> "go forward ten meters"; NULL when a word is unknown. */
static char *phrase_words(ps_decoder_t *ps, const char *phrase)
{
	size_t len = strlen(phrase);
	char *out = malloc(len + 1), *w, *save = NULL, *res;
	size_t o = 0;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)phrase[i];

		out[i] = (isalnum(ch) || ch == '\'') ? (char)tolower(ch) : ' ';
	}
	out[len] = '\0';
	res = calloc(1, len + 2);
	if (!res) {
		free(out);
		return NULL;
	}
	for (w = strtok_r(out, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		char *pron = ps_lookup_word(ps, w);

		if (!pron) {
			log_debug("stt: \"%s\" is not in the pocketsphinx dictionary", w);
			free(res);
			free(out);
			return NULL;
		}
		ckd_free(pron);
		o += (size_t)sprintf(res + o, "%s%s", o ? " " : "", w);
	}
	free(out);
	if (!o) {
		free(res);
		return NULL;
	}
	return res;
}

/* JSGF text accepting exactly one of the phrases; NULL if none is usable. */
static char *build_jsgf(ps_decoder_t *ps, const char *const *phrases)
{
	size_t cap = 128, len, n = 0;
	char *g = malloc(cap);

	if (!g)
		return NULL;
	len = (size_t)sprintf(g, "#JSGF V1.0;\ngrammar %s;\npublic <utt> = ", PS_GRAMMAR);
	for (size_t i = 0; phrases[i]; i++) {
		char *w = phrase_words(ps, phrases[i]), *ng;
		size_t need;

		if (!w)
			continue;
		need = len + strlen(w) + 16;
		if (need > cap) {
			cap = need * 2;
			ng = realloc(g, cap);
			if (!ng) {
				free(w);
				free(g);
				return NULL;
			}
			g = ng;
		}
		len += (size_t)sprintf(g + len, "%s( %s )", n++ ? " | " : "", w);
		free(w);
	}
	if (!n) {
		free(g);
		return NULL;
	}
	strcpy(g + len, ";\n");
	return g;
}

/* ps_set_jsgf_string() of pocketsphinx 0.8 leaks the parsed grammar; this is the same
 * without the leak. */
static int load_jsgf(ps_decoder_t *ps, const char *text)
{
	jsgf_t *j = jsgf_parse_string(text, NULL);
	jsgf_rule_t *rule;
	fsg_model_t *fsg = NULL;
	int rc = EINVAL;

	if (!j)
		return EINVAL;
	rule = jsgf_get_public_rule(j);
	if (rule)
		fsg = jsgf_build_fsg(j, rule, ps_get_logmath(ps),
				     cmd_ln_float32_r(ps_get_config(ps), "-lw"));
	if (fsg) {
		if (ps_set_fsg(ps, PS_GRAMMAR, fsg) >= 0)
			rc = 0;
		fsg_model_free(fsg); /* the search keeps its own reference */
	}
	jsgf_grammar_free(j);
	return rc;
}

static int set_search(struct ps_dec *d, const char *const *phrases)
{
	char *g;

	if (!phrases || !phrases[0])
		return ps_set_search(d->ps, PS_LM_SEARCH) < 0 ? EIO : 0;
	g = build_jsgf(d->ps, phrases);
	if (!g)
		return EINVAL;
	if (d->jsgf && !strcmp(d->jsgf, g)) {
		free(g); /* same grammar as this decoder's last stream: already compiled */
	} else {
		/* never replace the active search */
		ps_set_search(d->ps, PS_LM_SEARCH);
		free(d->jsgf);
		d->jsgf = NULL;
		if (load_jsgf(d->ps, g)) {
			log_warn("stt: pocketsphinx rejected the grammar built from the phrases");
			free(g);
			return EINVAL;
		}
		d->jsgf = g;
	}
	return ps_set_search(d->ps, PS_GRAMMAR) < 0 ? EIO : 0;
}

static void dec_release(struct ps_engine *e, struct ps_dec *d)
{
	pthread_mutex_lock(&e->lock);
	e->idle[e->n_idle++] = d;
	pthread_mutex_unlock(&e->lock);
}

static int ps_begin(void *p, const char *const *phrases, void **out)
{
	struct ps_engine *e = p;
	struct ps_stream *s = calloc(1, sizeof(*s));
	struct ps_dec *d = NULL;
	int rc = 0;

	if (!s)
		return ENOMEM;
	pthread_mutex_lock(&e->lock);
	if (e->n_idle) {
		d = e->idle[--e->n_idle];
	} else if (e->n_total < e->max) {
		e->n_total++; /* reserve the slot, build outside the lock (about a second) */
		pthread_mutex_unlock(&e->lock);
		rc = dec_new(e, &d);
		pthread_mutex_lock(&e->lock);
		if (rc)
			e->n_total--;
	} else {
		rc = EBUSY;
	}
	pthread_mutex_unlock(&e->lock);
	if (rc) {
		free(s);
		return rc;
	}
	s->eng = e;
	s->d = d;
	s->rng = 0x9e3779b97f4a7c15ull;
	rc = set_search(d, phrases);
	if (!rc)
		rc = resampler_alloc(&s->rs, STT_RATE_HZ, PS_RATE, 5);
	if (!rc && ps_start_utt(d->ps) < 0)
		rc = EIO;
	if (rc) {
		resampler_free(s->rs);
		dec_release(e, d);
		free(s);
		return rc;
	}
	*out = s;
	return 0;
}

static double noise_sample(struct ps_stream *s)
{
	double acc = 0;

	for (int i = 0; i < 4; i++) { /* sum of 4 uniforms: close enough to Gaussian */
		s->rng ^= s->rng << 13;
		s->rng ^= s->rng >> 7;
		s->rng ^= s->rng << 17;
		acc += (double)(s->rng >> 11) / 9007199254740992.0 - 0.5;
	}
	return acc * 1.7320508; /* unit variance */
}

/* Adds noise confined to 4-8 kHz: white noise through (1 + z^-1)/2 (a low-pass with a
 * zero at 8 kHz), shifted up by modulating with (-1)^n. */
static void add_floor(struct ps_stream *s, int16_t *x, size_t n)
{
	const double g = s->eng->floor_rms * 32768.0 * 1.41421356;

	for (size_t i = 0; i < n; i++) {
		double w = noise_sample(s), v = (w + s->prev) * 0.5;
		long y;

		s->prev = w;
		if (s->phase++ & 1)
			v = -v;
		y = lrint(x[i] + v * g);
		x[i] = (int16_t)(y > 32767 ? 32767 : y < -32768 ? -32768 : y);
	}
}

static int ps_feed(void *p, const int16_t *pcm, size_t n)
{
	struct ps_stream *s = p;
	int16_t up[2 * 1024 + 64];

	if (s->err)
		return s->err;
	if (s->fed + n > PS_MAX_SAMPLES)
		return s->err = E2BIG;
	s->fed += n;
	while (n) {
		size_t take = n < 1024 ? n : 1024;
		size_t k = resampler_process(s->rs, pcm, take, up, sizeof(up) / sizeof(*up));

		pcm += take;
		n -= take;
		if (!k)
			continue;
		add_floor(s, up, k);
		if (ps_process_raw(s->d->ps, up, k, FALSE, FALSE) < 0)
			return s->err = EIO;
	}
	return 0;
}

static void stream_close(struct ps_stream *s)
{
	resampler_free(s->rs);
	dec_release(s->eng, s->d);
	free(s);
}

static int ps_end(void *p, char **text)
{
	struct ps_stream *s = p;
	int16_t tail[256];
	const char *hyp;
	size_t k;
	int rc = s->err;

	if (!rc) {
		k = resampler_flush(s->rs, tail, sizeof(tail) / sizeof(*tail));
		if (k) {
			add_floor(s, tail, k);
			ps_process_raw(s->d->ps, tail, k, FALSE, FALSE);
		}
	}
	if (ps_end_utt(s->d->ps) < 0 && !rc)
		rc = EIO;
	if (!rc) {
		hyp = ps_get_hyp(s->d->ps, NULL);
		*text = strdup(hyp ? hyp : "");
		if (!*text)
			rc = ENOMEM;
	}
	stream_close(s);
	return rc;
}

static int ps_partial(void *p, char *buf, size_t size)
{
	struct ps_stream *s = p;
	const char *hyp;

	if (s->err)
		return s->err;
	hyp = ps_get_hyp(s->d->ps, NULL);
	snprintf(buf, size, "%s", hyp ? hyp : "");
	return 0;
}

static void ps_abort(void *p)
{
	struct ps_stream *s = p;

	ps_end_utt(s->d->ps);
	stream_close(s);
}

const struct stt_impl stt_pocketsphinx = {
	.name = "pocketsphinx",
	.alloc = ps_engine_alloc,
	.free = ps_engine_free,
	.begin = ps_begin,
	.feed = ps_feed,
	.end = ps_end,
	.abort = ps_abort,
	.partial = ps_partial,
};
