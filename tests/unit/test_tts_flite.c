/* test_tts_flite.c - TTS_BACKEND=flite: English audio at 8 kHz, cancel, clear errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "tts/tts.h"

struct sink {
	size_t n;
	double energy;
	volatile bool *cancel;
};

static int sink_h(const int16_t *pcm, size_t n, void *arg)
{
	struct sink *k = arg;

	for (size_t i = 0; i < n; i++)
		k->energy += (double)pcm[i] * pcm[i];
	k->n += n;
	if (k->cancel && k->n >= 2000)
		*k->cancel = true;
	return 0;
}

static void conf_flite(struct conf *c, const char *lang)
{
	memset(c, 0, sizeof(*c));
	c->tts_backend = TTS_FLITE;
	c->language = (char *)lang;
	c->tts_voice = "";
	c->tts_rate = 175;
}

static void test_speaks_english(void **state)
{
	struct conf c;
	struct tts_engine *e;
	struct sink k = { 0 };
	char err[256];

	(void)state;
	conf_flite(&c, "en");
	assert_int_equal(tts_engine_alloc(&e, &c, err, sizeof(err)), 0);
	assert_string_equal(tts_engine_name(e), "flite");
	assert_int_equal(tts_synth(e, "Hello, this is a test of the flite voice.", sink_h, &k, NULL), 0);
	/* A sentence of about two seconds at 8 kHz, and not silence. */
	assert_true(k.n > 8000 && k.n < 8000 * 6);
	assert_true(sqrt(k.energy / (double)k.n) > 300);
	tts_engine_free(e);
}

static void test_cancel(void **state)
{
	struct conf c;
	struct tts_engine *e;
	volatile bool cancel = false;
	struct sink k = { .cancel = &cancel };
	char err[256];

	(void)state;
	conf_flite(&c, "en");
	assert_int_equal(tts_engine_alloc(&e, &c, err, sizeof(err)), 0);
	assert_int_equal(tts_synth(e, "This sentence is long enough to be cut short well before "
				      "its end, because the caller started to talk.", sink_h, &k,
				   &cancel), ECANCELED);
	assert_true(k.n < 8000);
	tts_engine_free(e);
}

static void test_other_language_refused(void **state)
{
	struct conf c;
	struct tts_engine *e = NULL;
	char err[256] = "";

	(void)state;
	conf_flite(&c, "de");
	assert_int_not_equal(tts_engine_alloc(&e, &c, err, sizeof(err)), 0);
	assert_null(e);
	assert_non_null(strstr(err, "TTS_BACKEND=flite"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_speaks_english),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_other_language_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
