/* test_llm_languages.c - LANGUAGE end to end for the embedded stack: the rules backend
 * answers in the language's built-in rules, and espeak-ng speaks that answer with the
 * language's voice (audible audio of a plausible length). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "llm/llm.h"
#include "tts/tts.h"

struct pcm {
	size_t n;
	double energy;
};

static int on_pcm(const int16_t *s, size_t n, void *arg)
{
	struct pcm *p = arg;

	for (size_t i = 0; i < n; i++)
		p->energy += (double)s[i] * s[i];
	p->n += n;
	return 0;
}

static bool keep(const char *text, size_t len, void *arg)
{
	(void)text; (void)len; (void)arg;
	return true;
}

static void answer_and_speak(const char *lang, const char *said, const char *expect)
{
	struct llm_msg msgs[] = { { LLM_SYSTEM, "" }, { LLM_USER, said } };
	struct llm_reply r;
	struct tts_engine *tts;
	struct llm *llm;
	struct pcm p = { 0 };
	struct conf c;
	char err[256];

	memset(&c, 0, sizeof(c));
	c.llm_backend = LLM_RULES;
	c.rules_file = "";
	c.language = (char *)lang;
	c.tts_backend = TTS_ESPEAK;
	c.tts_voice = "";
	c.tts_rate = 175;
	assert_int_equal(llm_alloc(&llm, &c, err, sizeof(err)), 0);
	assert_int_equal(llm_chat(llm, msgs, 2, NULL, keep, NULL, &r), 0);
	if (!strstr(r.text, expect))
		fail_msg("%s: \"%s\" does not contain \"%s\"", lang, r.text, expect);
	if (tts_engine_alloc(&tts, &c, err, sizeof(err)))
		fail_msg("%s: %s", lang, err);
	assert_int_equal(tts_synth(tts, r.text, on_pcm, &p, NULL), 0);
	print_message("%s: \"%s\" -> %.2f s of audio\n", lang, r.text, (double)p.n / TTS_RATE_HZ);
	/* At least half a second, and not silence (RMS above ~-40 dBFS). */
	assert_true(p.n > TTS_RATE_HZ / 2);
	assert_true(p.energy / (double)p.n > 327.0 * 327.0);
	tts_engine_free(tts);
	llm_reply_clear(&r);
	llm_free(llm);
}

static void test_german(void **state)
{
	(void)state;
	answer_and_speak("de", "Hallo", "Sie können nach der Uhrzeit fragen");
	answer_and_speak("de-AT", "Auf Wiederhören", "danke für Ihren Anruf");
}

static void test_spanish(void **state)
{
	(void)state;
	answer_and_speak("es", "Hola", "Puede preguntarme la hora");
	answer_and_speak("es-MX", "Quiero hablar con un operador", "Le paso con un compañero");
}

static void test_unknown_language_is_english(void **state)
{
	(void)state;
	answer_and_speak("fr", "hello", "You can ask me for the time");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_german),
		cmocka_unit_test(test_spanish),
		cmocka_unit_test(test_unknown_language_is_english),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
