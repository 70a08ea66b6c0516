/* test_vad.c - the endpointer on telephone speech (pocketsphinx-testdata recordings through
 * 8 kHz mu-law), silence, white/pink/comfort noise and clicks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/dsp_wav.h"
#include "pipeline/vad.h"

#define MAXEV 64
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct run {
	int start[MAXEV], end[MAXEV]; /* frame index of each event */
	int nstart, nend;
	unsigned max_speech_ms;
};

static uint64_t rng_state = 88172645463325252ull;

static double urand(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (double)(rng_state >> 11) / 9007199254740992.0;
}

static double grand(void)
{
	double u = urand(), w = urand();

	return sqrt(-2 * log(u + 1e-300)) * cos(2 * M_PI * w);
}

static int16_t clip16(double x)
{
	return (int16_t)(x > 32767 ? 32767 : x < -32768 ? -32768 : lrint(x));
}

/* Adds noise of the given RMS level (dBFS, 0 = full-scale square) to s. pink: Paul Kellet's
 * filter on white noise, normalised after generation. */
static void add_noise(int16_t *s, size_t n, double dbfs, bool pink)
{
	double *buf = malloc(n * sizeof(*buf)), e = 0, g;
	double b0 = 0, b1 = 0, b2 = 0, b3 = 0, b4 = 0, b5 = 0, b6 = 0;

	assert_non_null(buf);
	for (size_t i = 0; i < n; i++) {
		double w = grand();

		if (pink) {
			b0 = 0.99886 * b0 + w * 0.0555179;
			b1 = 0.99332 * b1 + w * 0.0750759;
			b2 = 0.96900 * b2 + w * 0.1538520;
			b3 = 0.86650 * b3 + w * 0.3104856;
			b4 = 0.55000 * b4 + w * 0.5329522;
			b5 = -0.7616 * b5 - w * 0.0168980;
			w = b0 + b1 + b2 + b3 + b4 + b5 + b6 + w * 0.5362;
			b6 = w * 0.115926;
		}
		buf[i] = w;
		e += w * w;
	}
	g = 32768.0 * pow(10, dbfs / 20) / sqrt(e / (double)n);
	for (size_t i = 0; i < n; i++)
		s[i] = clip16(s[i] + buf[i] * g);
	free(buf);
}

static void load(const char *name, struct dsp_pcm *p)
{
	const char *dir = getenv("CALLBOT_TEST_DATA"), *why = NULL;
	char path[512];

	assert_non_null(dir);
	snprintf(path, sizeof(path), "%s/speech/%s", dir, name);
	if (dsp_wav_read(path, p, &why))
		fail_msg("%s: %s", path, why ? why : "?");
	assert_int_equal(p->rate, 8000);
}

/* A buffer of n samples of silence; fill with memcpy. */
static int16_t *zeros(size_t n)
{
	int16_t *s = calloc(n, sizeof(*s));

	assert_non_null(s);
	return s;
}

static void run_vad(const struct vad_params *p, const int16_t *s, size_t n, struct run *r)
{
	struct vad *v;

	memset(r, 0, sizeof(*r));
	assert_int_equal(vad_alloc(&v, p), 0);
	for (size_t f = 0; (f + 1) * VAD_FRAME <= n; f++) {
		enum vad_event ev = vad_feed(v, s + f * VAD_FRAME, VAD_FRAME);
		unsigned ms = vad_speech_ms(v);

		if (ms > r->max_speech_ms)
			r->max_speech_ms = ms;
		if (ev == VAD_SPEECH_START && r->nstart < MAXEV)
			r->start[r->nstart++] = (int)f;
		if (ev == VAD_SPEECH_END && r->nend < MAXEV)
			r->end[r->nend++] = (int)f;
	}
	vad_free(v);
}

static void test_silence_and_noise(void **state)
{
	const size_t n = 8000 * 10;
	int16_t *s = zeros(n);
	struct run r;
	const double levels[] = { -50, -40 };

	(void)state;
	run_vad(NULL, s, n, &r); /* digital silence */
	assert_int_equal(r.nstart, 0);
	for (size_t i = 0; i < n; i++) /* mu-law idle pattern */
		s[i] = (int16_t)((i & 1) ? 8 : -8);
	run_vad(NULL, s, n, &r);
	assert_int_equal(r.nstart, 0);
	for (int pink = 0; pink <= 1; pink++) {
		for (size_t k = 0; k < ARRAY_SIZE(levels); k++) {
			memset(s, 0, n * sizeof(*s));
			add_noise(s, n, levels[k], pink);
			run_vad(NULL, s, n, &r);
			if (r.nstart)
				fail_msg("%s noise at %.0f dBFS started speech at %d ms",
					 pink ? "pink" : "white", levels[k], r.start[0] * 20);
		}
	}
	free(s);
}

/* Noise that switches on in the middle of silence (a line fault, a fan): at most a short
 * false utterance that ends by itself, never a stuck one. */
static void test_noise_onset(void **state)
{
	const size_t n = 8000 * 8;
	int16_t *s = zeros(n);
	struct run r;

	(void)state;
	add_noise(s + 8000 * 2, n - 8000 * 2, -40, true);
	run_vad(NULL, s, n, &r);
	assert_true(r.nstart <= 1);
	assert_int_equal(r.nstart, r.nend);
	free(s);
}

/* Comfort noise: low-level shaped noise whose level steps every 200 ms (SID updates). */
static void test_comfort_noise(void **state)
{
	const size_t n = 8000 * 10, seg = 1600;
	int16_t *s = zeros(n), *t = zeros(seg);
	struct run r;

	(void)state;
	for (size_t i = 0; i + seg <= n; i += seg) {
		memset(t, 0, seg * sizeof(*t));
		add_noise(t, seg, -58 + 6 * urand(), (i / seg) & 1);
		memcpy(s + i, t, seg * sizeof(*t));
	}
	run_vad(NULL, s, n, &r);
	assert_int_equal(r.nstart, 0);
	free(s);
	free(t);
}

static void test_clicks(void **state)
{
	const size_t n = 8000 * 10;
	int16_t *s = zeros(n);
	struct run r;

	(void)state;
	add_noise(s, n, -60, false);
	for (size_t i = 4000; i + 200 < n; i += 2000) {
		s[i] = 30000; /* impulse */
		s[i + 1] = -20000;
		for (size_t k = 0; k < 40; k++) /* 5 ms ringing pop, 1 kHz */
			s[i + 800 + k] = clip16(s[i + 800 + k] + 20000 * exp(-(double)k / 8) *
							   sin(2 * M_PI * 1000 * (double)k / 8000));
		for (size_t k = 0; k < 160; k++) /* one 20 ms burst of a 400 Hz tone */
			s[i + 1400 + k] = clip16(s[i + 1400 + k] +
						 8000 * sin(2 * M_PI * 400 * (double)k / 8000));
	}
	run_vad(NULL, s, n, &r);
	if (r.nstart)
		fail_msg("a click started speech at %d ms", r.start[0] * 20);
	free(s);
}

/* pad_ms of background before and after the clip; returns the malloc'd buffer. */
static int16_t *padded(const struct dsp_pcm *p, size_t pad, size_t *n)
{
	int16_t *s = zeros(p->n + 2 * pad);

	memcpy(s + pad, p->s, p->n * sizeof(*s));
	*n = p->n + 2 * pad;
	return s;
}

static void test_speech(void **state)
{
	struct dsp_pcm p;
	struct run r;
	size_t n;
	int16_t *s;

	(void)state;
	load("goforward.wav", &p);
	s = padded(&p, 8000, &n);
	run_vad(NULL, s, n, &r);
	assert_int_equal(r.nstart, 1);
	assert_int_equal(r.nend, 1);
	/* the recording's speech starts about 0.4 s in, ends about 0.3 s before its end */
	assert_in_range(r.start[0] * 20, 1000, 1000 + 800);
	assert_in_range(r.end[0] * 20, 1000 + (int)p.n / 8 - 600, 1000 + (int)p.n / 8 + 600);
	assert_true(r.max_speech_ms >= 1000);
	free(s);

	/* the same in white and pink noise at -40 dBFS (SNR about 15 dB) */
	for (int pink = 0; pink <= 1; pink++) {
		s = padded(&p, 8000, &n);
		add_noise(s, n, -40, pink);
		run_vad(NULL, s, n, &r);
		if (r.nstart != 1 || r.nend != 1)
			fail_msg("%s noise: %d starts, %d ends", pink ? "pink" : "white", r.nstart,
				 r.nend);
		assert_in_range(r.start[0] * 20, 1000, 1000 + 800);
		free(s);
	}
	dsp_pcm_free(&p);
}

/* Pauses shorter than VAD_SILENCE_MS do not split an utterance; longer ones do. */
static void test_pauses(void **state)
{
	struct dsp_pcm a, b;
	struct vad_params vp;
	struct run r;
	const size_t gaps[] = { 2400, 6400 }; /* 300 ms, 800 ms of silence between clips */

	(void)state;
	load("goforward.wav", &a);
	load("something.wav", &b);
	vad_params_default(&vp);
	assert_int_equal(vp.silence_ms, 500);
	for (size_t g = 0; g < 2; g++) {
		/* trim the recordings' own leading/trailing quiet so the gap is what we say */
		size_t a0 = 2400, a1 = a.n - 2000, b0 = 2400, b1 = b.n;
		size_t n = 8000 + (a1 - a0) + gaps[g] + (b1 - b0) + 8000;
		int16_t *s = zeros(n);

		memcpy(s + 8000, a.s + a0, (a1 - a0) * sizeof(*s));
		memcpy(s + 8000 + (a1 - a0) + gaps[g], b.s + b0, (b1 - b0) * sizeof(*s));
		add_noise(s, n, -55, true);
		run_vad(&vp, s, n, &r);
		if (r.nstart != (int)g + 1 || r.nend != (int)g + 1)
			fail_msg("gap %zu ms: %d starts, %d ends", gaps[g] / 8, r.nstart, r.nend);
		free(s);
	}
	dsp_pcm_free(&a);
	dsp_pcm_free(&b);
}

/* Barge-in: a short sound is an utterance but its voiced time stays under 250 ms. */
static void test_speech_ms(void **state)
{
	struct dsp_pcm p;
	struct run r;
	size_t n = 8000 * 3, at = 0, best = 0;
	int16_t *s = zeros(n);
	double be = 0;

	(void)state;
	load("goforward.wav", &p);
	for (size_t i = 0; i + 1200 <= p.n; i += 160) { /* the loudest 150 ms: a vowel */
		double e = 0;

		for (size_t k = 0; k < 1200; k++)
			e += (double)p.s[i + k] * p.s[i + k];
		if (e > be) {
			be = e;
			best = i;
		}
	}
	at = 8000;
	memcpy(s + at, p.s + best, 1200 * sizeof(*s));
	add_noise(s, n, -60, false);
	run_vad(NULL, s, n, &r);
	assert_int_equal(r.nstart, 1);
	assert_int_equal(r.nend, 1);
	assert_in_range(r.max_speech_ms, 60, 200);
	free(s);
	dsp_pcm_free(&p);
}

static void test_preroll(void **state)
{
	struct dsp_pcm p;
	struct vad *v;
	size_t n, f, got = 0;
	int16_t *s, pre[8000];

	(void)state;
	load("goforward.wav", &p);
	s = padded(&p, 8000, &n);
	assert_int_equal(vad_alloc(&v, NULL), 0);
	assert_false(vad_in_speech(v));
	for (f = 0; (f + 1) * VAD_FRAME <= n; f++) {
		if (vad_feed(v, s + f * VAD_FRAME, VAD_FRAME) == VAD_SPEECH_START) {
			got = vad_preroll(v, pre, ARRAY_SIZE(pre));
			break;
		}
	}
	assert_true(vad_in_speech(v));
	assert_true(vad_speech_ms(v) >= 60);
	/* 300 ms before the first voiced frame + the 3 frames that started the utterance */
	assert_int_equal(got, 2400 + 3 * VAD_FRAME);
	assert_memory_equal(pre, s + (f + 1) * VAD_FRAME - got, got * sizeof(*s));
	assert_int_equal(vad_preroll(v, pre, 100), 100);
	assert_true(vad_noise_db(v) < -60);
	assert_true(vad_level_db(v) > -50);
	vad_reset(v);
	assert_false(vad_in_speech(v));
	assert_int_equal(vad_speech_ms(v), 0);
	assert_int_equal(vad_feed(v, s, 100), VAD_NONE); /* wrong frame size */
	vad_free(v);
	free(s);
	dsp_pcm_free(&p);
}

static void test_params(void **state)
{
	struct vad_params vp;
	struct vad *v;

	(void)state;
	vad_params_default(&vp);
	vp.silence_ms = 0;
	assert_int_equal(vad_alloc(&v, &vp), EINVAL);
	vad_params_default(&vp);
	vp.stay_db = vp.start_db + 1;
	assert_int_equal(vad_alloc(&v, &vp), EINVAL);
	vad_free(NULL);
}

/* Every librivox clip is one or more complete utterances. */
static void test_librivox(void **state)
{
	const char *clips[] = { "librivox-0870.wav", "librivox-0880.wav", "librivox-0890.wav",
				"librivox-0920.wav", "librivox-0930.wav" };

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(clips); i++) {
		struct dsp_pcm p;
		struct run r;
		size_t n;
		int16_t *s;

		load(clips[i], &p);
		s = padded(&p, 8000, &n);
		add_noise(s, n, -50, true);
		run_vad(NULL, s, n, &r);
		print_message("%s: %d utterance(s), first at %d ms\n", clips[i], r.nstart,
			      r.nstart ? r.start[0] * 20 : -1);
		assert_true(r.nstart >= 1 && r.nstart <= 2);
		assert_int_equal(r.nstart, r.nend);
		free(s);
		dsp_pcm_free(&p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_silence_and_noise),
		cmocka_unit_test(test_noise_onset),
		cmocka_unit_test(test_comfort_noise),
		cmocka_unit_test(test_clicks),
		cmocka_unit_test(test_speech),
		cmocka_unit_test(test_pauses),
		cmocka_unit_test(test_speech_ms),
		cmocka_unit_test(test_preroll),
		cmocka_unit_test(test_params),
		cmocka_unit_test(test_librivox),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
