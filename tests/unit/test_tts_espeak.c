/* test_tts_espeak.c - espeak-ng through the TTS interface: 8 kHz audio for en/de/es,
 * streaming, cancellation, errors, concurrent use. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/util.h"
#include "tts/tts.h"

struct sink {
	int16_t *s;
	size_t n, cap;
	unsigned chunks;
	int64_t t0, first_ms;
	size_t stop_after;      /* handler returns 1 once this many samples arrived (0: never) */
	volatile bool *cancel;  /* set once cancel_after samples arrived */
	size_t cancel_after;
};

static int sink_h(const int16_t *pcm, size_t n, void *arg)
{
	struct sink *k = arg;

	assert_true(n > 0);
	if (!k->chunks++)
		k->first_ms = time_mono_ms() - k->t0;
	if (k->n + n > k->cap) {
		k->cap = (k->n + n) * 2;
		k->s = realloc(k->s, k->cap * sizeof(*k->s));
		assert_non_null(k->s);
	}
	memcpy(k->s + k->n, pcm, n * sizeof(*pcm));
	k->n += n;
	if (k->cancel && k->n >= k->cancel_after)
		*k->cancel = true;
	return k->stop_after && k->n >= k->stop_after;
}

static void conf_tts(struct conf *c, int backend, const char *lang, const char *voice)
{
	memset(c, 0, sizeof(*c));
	c->tts_backend = backend;
	c->language = (char *)lang;
	c->tts_voice = (char *)voice;
	c->tts_rate = 175;
}

static double rms_dbfs(const int16_t *s, size_t n)
{
	double e = 0;

	for (size_t i = 0; i < n; i++)
		e += (double)s[i] * s[i];
	return n ? 10 * log10(e / (double)n / (32768.0 * 32768.0) + 1e-12) : -120;
}

static void speak(const char *lang, const char *text, double min_s, double max_s)
{
	struct conf c;
	struct tts_engine *e;
	struct sink k = { 0 };
	char err[256];
	int64_t total;
	double dur;

	conf_tts(&c, TTS_ESPEAK, lang, "");
	if (tts_engine_alloc(&e, &c, err, sizeof(err)))
		fail_msg("%s: %s", lang, err);
	assert_string_equal(tts_engine_name(e), "espeak");
	k.t0 = time_mono_ms();
	assert_int_equal(tts_synth(e, text, sink_h, &k, NULL), 0);
	total = time_mono_ms() - k.t0;
	dur = (double)k.n / TTS_RATE_HZ;
	print_message("%s: %.2f s of audio in %u chunks, first after %lld ms, all after %lld ms, "
		      "%.1f dBFS\n",
		      lang, dur, k.chunks, (long long)k.first_ms, (long long)total,
		      rms_dbfs(k.s, k.n));
	assert_in_range((long)(dur * 1000), (long)(min_s * 1000), (long)(max_s * 1000));
	assert_true(rms_dbfs(k.s, k.n) > -35);
	assert_true(k.chunks > 1);
	free(k.s);
	tts_engine_free(e);
}

static void test_languages(void **state)
{
	(void)state;
	speak("en", "Hello, this is callbot. How can I help you?", 1.8, 6);
	speak("de", "Guten Tag, hier ist callbot. Wie kann ich Ihnen helfen?", 1.8, 7);
	speak("es", "Hola, habla callbot. ¿En qué puedo ayudarle?", 1.5, 6);
	speak("en-GB", "Good afternoon.", 0.4, 3);
}

/* The first chunk arrives long before the whole text is synthesised. */
static void test_streaming(void **state)
{
	struct conf c;
	struct tts_engine *e;
	struct sink k = { 0 };
	int64_t total;

	(void)state;
	conf_tts(&c, TTS_ESPEAK, "en", "");
	assert_int_equal(tts_engine_alloc(&e, &c, NULL, 0), 0);
	k.t0 = time_mono_ms();
	assert_int_equal(tts_synth(e,
				   "This is a long answer with several sentences. It goes on for "
				   "a while, so that streaming matters. The caller should hear the "
				   "first words while the rest is still being produced. One more "
				   "sentence to make it long enough.",
				   sink_h, &k, NULL),
			 0);
	total = time_mono_ms() - k.t0;
	print_message("first chunk after %lld ms of %lld ms, %.1f s of audio, %u chunks\n",
		      (long long)k.first_ms, (long long)total, (double)k.n / 8000, k.chunks);
	assert_true(k.n > 8000 * 8);
	assert_true(k.chunks >= 20);
	assert_true(k.first_ms * 4 < total || total < 20);
	free(k.s);
	tts_engine_free(e);
}

static void test_cancel(void **state)
{
	struct conf c;
	struct tts_engine *e;
	struct sink k = { 0 };
	volatile bool cancel = false;
	const char *text = "One two three four five six seven eight nine ten eleven twelve "
			   "thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty.";

	(void)state;
	conf_tts(&c, TTS_ESPEAK, "en", "");
	assert_int_equal(tts_engine_alloc(&e, &c, NULL, 0), 0);
	/* the flag, set after 0.5 s of audio */
	k.cancel = &cancel;
	k.cancel_after = 4000;
	assert_int_equal(tts_synth(e, text, sink_h, &k, &cancel), ECANCELED);
	assert_in_range(k.n, 4000, 4000 + 8000);
	free(k.s);
	/* already set: nothing at all */
	memset(&k, 0, sizeof(k));
	assert_int_equal(tts_synth(e, text, sink_h, &k, &cancel), ECANCELED);
	assert_int_equal(k.n, 0);
	/* the handler asks to stop */
	memset(&k, 0, sizeof(k));
	k.stop_after = 1;
	cancel = false;
	assert_int_equal(tts_synth(e, text, sink_h, &k, &cancel), ECANCELED);
	assert_true(k.n < 8000);
	free(k.s);
	/* the engine is still usable afterwards */
	memset(&k, 0, sizeof(k));
	assert_int_equal(tts_synth(e, "Yes.", sink_h, &k, &cancel), 0);
	assert_true(k.n > 1000);
	free(k.s);
	tts_engine_free(e);
}

static void test_errors(void **state)
{
	struct conf c;
	struct tts_engine *e = NULL;
	struct sink k = { 0 };
	char err[256];

	(void)state;
	conf_tts(&c, TTS_ESPEAK, "en", "no-such-voice");
	assert_int_not_equal(tts_engine_alloc(&e, &c, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "TTS_VOICE"));
	conf_tts(&c, TTS_ESPEAK, "xx", "");
	assert_int_not_equal(tts_engine_alloc(&e, &c, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "LANGUAGE"));
	conf_tts(&c, TTS_FLITE, "de", ""); /* flite speaks English only */
	assert_int_not_equal(tts_engine_alloc(&e, &c, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "TTS_BACKEND"));
	conf_tts(&c, TTS_ESPEAK, "de-AT", ""); /* falls back to "de" */
	assert_int_equal(tts_engine_alloc(&e, &c, err, sizeof(err)), 0);
	assert_int_equal(tts_synth(e, "  ", sink_h, &k, NULL), EINVAL);
	assert_int_equal(tts_synth(e, "", sink_h, &k, NULL), EINVAL);
	assert_int_equal(k.n, 0);
	tts_engine_free(e);
	tts_engine_free(NULL);
}

struct job {
	struct tts_engine *e;
	const char *text;
	int rc;
	size_t n;
};

static void *job_run(void *arg)
{
	struct job *j = arg;
	struct sink k = { 0 };

	for (int i = 0; i < 3 && !j->rc; i++)
		j->rc = tts_synth(j->e, j->text, sink_h, &k, NULL);
	j->n = k.n;
	free(k.s);
	return NULL;
}

/* Two engines with different voices used from two threads at once. */
static void test_concurrent(void **state)
{
	struct conf c;
	struct job a = { 0 }, b = { 0 };
	pthread_t ta, tb;

	(void)state;
	conf_tts(&c, TTS_ESPEAK, "en", "");
	assert_int_equal(tts_engine_alloc(&a.e, &c, NULL, 0), 0);
	conf_tts(&c, TTS_ESPEAK, "es", "");
	assert_int_equal(tts_engine_alloc(&b.e, &c, NULL, 0), 0);
	a.text = "The quick brown fox jumps over the lazy dog.";
	b.text = "El veloz murciélago hindú comía feliz cardillo y kiwi.";
	assert_int_equal(pthread_create(&ta, NULL, job_run, &a), 0);
	assert_int_equal(pthread_create(&tb, NULL, job_run, &b), 0);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	assert_int_equal(a.rc, 0);
	assert_int_equal(b.rc, 0);
	assert_true(a.n > 3 * 8000 * 1);
	assert_true(b.n > 3 * 8000 * 1);
	tts_engine_free(a.e);
	tts_engine_free(b.e);
}

static void test_selftest(void **state)
{
	struct conf c;
	char msg[256];

	(void)state;
	conf_tts(&c, TTS_ESPEAK, "es", "");
	assert_int_equal(tts_selftest(&c, msg, sizeof(msg)), 0);
	print_message("%s\n", msg);
	assert_non_null(strstr(msg, "tts espeak: "));
	conf_tts(&c, TTS_FLITE, "de", "");
	assert_int_not_equal(tts_selftest(&c, msg, sizeof(msg)), 0);
	assert_non_null(strstr(msg, "TTS_BACKEND=flite"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_languages),
		cmocka_unit_test(test_streaming),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_concurrent),
		cmocka_unit_test(test_selftest),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
