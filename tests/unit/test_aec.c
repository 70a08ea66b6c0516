/* test_aec.c - the echo canceller (media/aec.c) on synthetic speech-like signals: the
 * bot's voice coming back delayed and attenuated through G.711 is removed, a different
 * voice passes, double talk keeps the caller. Also prints the cost per frame. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "media/aec.h"
#include "media/g711.h"

#define RATE 8000
#define FRAME 160
#define SECONDS 12
#define NS (RATE * SECONDS)

static unsigned rnd(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return (*s >> 8) & 0xffffff;
}

static double urand(unsigned *s, double lo, double hi)
{
	return lo + (hi - lo) * rnd(s) / (double)0x1000000;
}

/* Syllables (100-300 ms, random loudness, pitch 90-220 Hz, two formants) separated by
 * 30-150 ms pauses: what matters to an echo canceller and a VAD, without a recording. */
static int16_t *speech(unsigned seed, size_t n)
{
	int16_t *out = calloc(n, sizeof(*out));
	unsigned s = seed;
	size_t i = 0;

	assert_non_null(out);
	while (i < n) {
		size_t len = (size_t)(urand(&s, 0.1, 0.3) * RATE), gap = (size_t)(urand(&s, 0.03, 0.15) * RATE);
		double amp = urand(&s, 0.3, 1.0), f0 = urand(&s, 90, 220), phase = 0;
		double f1 = urand(&s, 400, 800), f2 = urand(&s, 1100, 2300);
		double a1 = 2 * 0.97 * cos(2 * M_PI * f1 / RATE), a2 = 2 * 0.95 * cos(2 * M_PI * f2 / RATE);
		double y1 = 0, y2 = 0, z1 = 0, z2 = 0;

		for (size_t k = 0; k < len && i < n; k++, i++) {
			double env = sin(M_PI * (double)k / (double)len), x, y, z;

			phase += f0 * (1 + 0.1 * sin(2 * M_PI * 3 * (double)k / RATE)) / RATE;
			x = phase >= 1 ? 1.0 : 0.0;
			if (phase >= 1)
				phase -= 1;
			x += urand(&s, -0.05, 0.05);
			y = x + a1 * y1 - 0.97 * 0.97 * y2;
			y2 = y1;
			y1 = y;
			z = y + a2 * z1 - 0.95 * 0.95 * z2;
			z2 = z1;
			z1 = z;
			out[i] = (int16_t)fmax(-32000, fmin(32000, 5000 * amp * env * (y + 0.5 * z)));
		}
		i += gap;
	}
	return out;
}

/* The echo path of a phone call: G.711 both ways, a delay, a loss. */
static void add_echo(int16_t *rec, const int16_t *ref, size_t n, size_t delay, double gain)
{
	for (size_t i = delay; i < n; i++) {
		double e = g711_ulaw_dec(g711_ulaw_enc(ref[i - delay])) * gain + rec[i];

		rec[i] = g711_ulaw_dec(g711_ulaw_enc((int16_t)fmax(-32768, fmin(32767, e))));
	}
}

static double energy(const int16_t *x, size_t from, size_t to)
{
	double e = 1e-3;

	for (size_t i = from; i < to; i++)
		e += (double)x[i] * x[i];
	return e;
}

static double db(double ratio)
{
	return 10 * log10(ratio);
}

/* Runs the canceller over rec/ref into out; returns microseconds per frame. */
static double run(const int16_t *rec, const int16_t *ref, int16_t *out, size_t n)
{
	struct aec *a = NULL;
	struct timespec t0, t1;

	assert_int_equal(aec_alloc(&a, RATE, FRAME, AEC_TAIL_MS), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (size_t i = 0; i + FRAME <= n; i += FRAME)
		aec_process(a, rec + i, ref + i, out + i);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	aec_free(a);
	return ((double)(t1.tv_sec - t0.tv_sec) * 1e6 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e3) /
	       (double)(n / FRAME);
}

/* Frames of out louder than dbfs between from and to. */
static unsigned loud_frames(const int16_t *out, size_t from, size_t to, double dbfs)
{
	unsigned k = 0;

	for (size_t i = from; i + FRAME <= to; i += FRAME)
		if (db(energy(out, i, i + FRAME) / FRAME / (32768.0 * 32768.0)) > dbfs)
			k++;
	return k;
}

static void test_echo_removed(void **state)
{
	int16_t *ref = speech(1, NS), *rec = calloc(NS, sizeof(*rec)), *out = calloc(NS, sizeof(*out));
	unsigned s = 7;
	double us, erle, first, ref_db;

	(void)state;
	assert_non_null(rec);
	assert_non_null(out);
	for (size_t i = 0; i < NS; i++)
		rec[i] = (int16_t)urand(&s, -10, 10); /* line noise, about -70 dBFS */
	add_echo(rec, ref, NS, RATE / 10, 0.316); /* 100 ms, -10 dB */
	us = run(rec, ref, out, NS);
	erle = db(energy(rec, 4 * RATE, NS) / energy(out, 4 * RATE, NS));
	first = db(energy(rec, 0, RATE) / energy(out, 0, RATE));
	ref_db = db(energy(ref, 0, NS) / NS / (32768.0 * 32768.0));
	printf("reference %.1f dBFS; echo reduced by %.1f dB in the first second, %.1f dB after 4 s; "
	       "%.1f us per 20 ms frame\n", ref_db, first, erle, us);
	assert_true(erle >= 25);
	assert_true(first >= 15); /* the warm-up guard, while the filter learns */
	/* Nothing a VAD would take for speech (its floor for voice is -50 dBFS). */
	assert_int_equal(loud_frames(out, 2 * RATE, NS, -50), 0);
	free(ref);
	free(rec);
	free(out);
}

/* A caller who talks while the bot talks, with no echo on the line: left alone. */
static void test_other_voice_passes(void **state)
{
	int16_t *ref = speech(1, NS), *rec = speech(2, NS), *out = calloc(NS, sizeof(*out));
	double loss;

	(void)state;
	assert_non_null(out);
	for (size_t i = 0; i < NS; i++)
		rec[i] = (int16_t)(rec[i] * 0.316);
	run(rec, ref, out, NS);
	loss = db(energy(rec, 2 * RATE, NS) / energy(out, 2 * RATE, NS));
	printf("uncorrelated voice: changed by %.2f dB\n", loss);
	assert_true(fabs(loss) < 2);
	free(ref);
	free(rec);
	free(out);
}

/* Echo and a caller at the same level from 5 s on: the caller survives, the echo does not. */
static void test_double_talk(void **state)
{
	int16_t *ref = speech(1, NS), *voice = speech(3, NS), *rec = calloc(NS, sizeof(*rec));
	int16_t *out = calloc(NS, sizeof(*out));
	double kept, before;

	(void)state;
	assert_non_null(rec);
	assert_non_null(out);
	for (size_t i = 5 * RATE; i < NS; i++)
		rec[i] = (int16_t)(voice[i] * 0.316);
	add_echo(rec, ref, NS, RATE / 10, 0.316);
	run(rec, ref, out, NS);
	before = db(energy(out, 3 * RATE, 5 * RATE) / (2.0 * RATE));
	/* what is left, against the caller's voice alone */
	for (size_t i = 0; i < NS; i++)
		voice[i] = (int16_t)(voice[i] * 0.316);
	kept = db(energy(out, 5 * RATE, NS) / energy(voice, 5 * RATE, NS));
	printf("double talk: caller kept at %.1f dB of its level; echo alone before: %.1f dB\n", kept,
	       before - db(energy(voice, 5 * RATE, NS) / (7.0 * RATE)));
	assert_true(kept > -6 && kept < 3);
	assert_true(loud_frames(out, 5 * RATE, NS, -50) > 100);
	assert_int_equal(loud_frames(out, 2 * RATE, 5 * RATE, -50), 0);
	free(ref);
	free(voice);
	free(rec);
	free(out);
}

/* The echo stops at once (the caller takes the phone off speaker) while the bot talks on:
 * the filter must not turn the echo it still expects into a voice on a silent line. */
static void test_echo_stops(void **state)
{
	int16_t *ref = speech(1, NS), *rec = calloc(NS, sizeof(*rec)), *out = calloc(NS, sizeof(*out));

	(void)state;
	assert_non_null(rec);
	assert_non_null(out);
	add_echo(rec, ref, 5 * RATE, RATE / 10, 0.316);
	run(rec, ref, out, NS);
	assert_int_equal(loud_frames(out, 5 * RATE, NS, -60), 0);
	free(ref);
	free(rec);
	free(out);
}

/* The bot silent: nothing to cancel, the caller's audio comes through bit for bit. */
static void test_silent_reference(void **state)
{
	int16_t *ref = calloc(NS, sizeof(*ref)), *rec = speech(4, NS), *out = calloc(NS, sizeof(*out));

	(void)state;
	assert_non_null(ref);
	assert_non_null(out);
	run(rec, ref, out, NS);
	assert_memory_equal(rec, out, NS * sizeof(*out));
	free(ref);
	free(rec);
	free(out);
}

static void test_args(void **state)
{
	struct aec *a = NULL;

	(void)state;
	assert_int_equal(aec_alloc(NULL, RATE, FRAME, 100), EINVAL);
	assert_int_equal(aec_alloc(&a, 0, FRAME, 100), EINVAL);
	assert_int_equal(aec_alloc(&a, RATE, 0, 100), EINVAL);
	assert_int_equal(aec_alloc(&a, RATE, FRAME, 0), EINVAL);
	assert_int_equal(aec_alloc(&a, RATE, FRAME, 5000), EINVAL);
	assert_null(a);
	aec_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_echo_removed),
		cmocka_unit_test(test_other_voice_passes),
		cmocka_unit_test(test_double_talk),
		cmocka_unit_test(test_echo_stops),
		cmocka_unit_test(test_silent_reference),
		cmocka_unit_test(test_args),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
