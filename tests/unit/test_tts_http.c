/* test_tts_http.c - the OpenAI-compatible speech client against
 * tests/mock/fake_tts_server.py: WAV/PCM decoding while streaming, 8 kHz output, cancel,
 * errors, timeout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mock_server.h"

#include "core/config.h"
#include "core/util.h"
#include "tts/tts.h"

static struct mock_server srv;

static int setup(void **state)
{
	(void)state;
	return mock_server_start_stdout(&srv, "fake_tts_server.py");
}

static int teardown(void **state)
{
	(void)state;
	mock_server_stop(&srv);
	return 0;
}

struct sink {
	int16_t *s;
	size_t n, cap;
	unsigned chunks;
	int64_t t0, first_ms;
	volatile bool *cancel;
	size_t cancel_after;
};

static int sink_h(const int16_t *pcm, size_t n, void *arg)
{
	struct sink *k = arg;

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
	return 0;
}

static void conf_http(struct conf *c, char *url, size_t cap, const char *voice)
{
	memset(c, 0, sizeof(*c));
	snprintf(url, cap, "http://127.0.0.1:%d", srv.port);
	c->tts_backend = TTS_HTTP;
	c->tts_url = url;
	c->tts_voice = (char *)voice;
	c->tts_rate = 175;
	c->language = (char *)"en";
}

/* 40 characters: 2 s of a 440 Hz tone at 24 kHz, sent in 10 pieces 100 ms apart. */
static const char text40[] = "0123456789012345678901234567890123456789";

static double rms_dbfs(const int16_t *s, size_t n)
{
	double e = 0;

	for (size_t i = 0; i < n; i++)
		e += (double)s[i] * s[i];
	return n ? 10 * log10(e / (double)n / (32768.0 * 32768.0) + 1e-12) : -120;
}

static void check_voice(const char *voice)
{
	struct conf c;
	struct tts_engine *e;
	struct sink k = { 0 };
	char url[128], err[256];
	int64_t total;

	conf_http(&c, url, sizeof(url), voice);
	if (tts_engine_alloc(&e, &c, err, sizeof(err)))
		fail_msg("%s", err);
	k.t0 = time_mono_ms();
	assert_int_equal(tts_synth(e, text40, sink_h, &k, NULL), 0);
	total = time_mono_ms() - k.t0;
	print_message("%s: %.3f s at 8 kHz in %u chunks, first after %lld ms of %lld ms, %.1f dBFS\n",
		      voice, (double)k.n / 8000, k.chunks, (long long)k.first_ms, (long long)total,
		      rms_dbfs(k.s, k.n));
	assert_in_range(k.n, 16000 - 200, 16000 + 200);
	assert_true(rms_dbfs(k.s, k.n) > -16 && rms_dbfs(k.s, k.n) < -10); /* 8000-peak sine */
	assert_true(k.chunks >= 5);
	assert_true(k.first_ms < total / 2); /* it streams */
	free(k.s);
	tts_engine_free(e);
}

static void test_formats(void **state)
{
	(void)state;
	check_voice("alloy");
	check_voice("stream");
	check_voice("pcm");
	check_voice("stereo");
}

static void test_cancel(void **state)
{
	struct conf c;
	struct tts_engine *e;
	struct sink k = { 0 };
	volatile bool cancel = false;
	char url[128];
	int64_t t0 = time_mono_ms();

	(void)state;
	conf_http(&c, url, sizeof(url), "alloy");
	assert_int_equal(tts_engine_alloc(&e, &c, NULL, 0), 0);
	k.cancel = &cancel;
	k.cancel_after = 1;
	assert_int_equal(tts_synth(e, text40, sink_h, &k, &cancel), ECANCELED);
	assert_true(k.n < 8000);
	assert_true(time_mono_ms() - t0 < 800); /* the whole answer takes about 1 s */
	free(k.s);
	tts_engine_free(e);
}

static void test_errors(void **state)
{
	struct conf c;
	struct tts_engine *e;
	struct sink k = { 0 };
	char url[128], err[256];
	int64_t t0;

	(void)state;
	conf_http(&c, url, sizeof(url), "fail500");
	assert_int_equal(tts_engine_alloc(&e, &c, NULL, 0), 0);
	assert_string_equal(tts_engine_name(e), "http");
	assert_int_equal(tts_synth(e, "hi", sink_h, &k, NULL), EIO);
	tts_engine_free(e);
	conf_http(&c, url, sizeof(url), "garbage");
	assert_int_equal(tts_engine_alloc(&e, &c, NULL, 0), 0);
	assert_int_equal(tts_synth(e, "hi", sink_h, &k, NULL), EPROTO);
	tts_engine_free(e);
	assert_int_equal(k.n, 0);
	conf_http(&c, url, sizeof(url), "slow");
	assert_int_equal(tts_engine_alloc(&e, &c, NULL, 0), 0);
	tts_engine_set_timeout(e, 500);
	t0 = time_mono_ms();
	assert_int_equal(tts_synth(e, "hi", sink_h, &k, NULL), ETIMEDOUT);
	assert_true(time_mono_ms() - t0 < 2500);
	tts_engine_free(e);
	conf_http(&c, url, sizeof(url), "alloy");
	c.tts_url = (char *)"";
	assert_int_not_equal(tts_engine_alloc(&e, &c, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "TTS_URL"));
}

static void test_selftest(void **state)
{
	struct conf c;
	char url[128], msg[256];

	(void)state;
	conf_http(&c, url, sizeof(url), "pcm");
	assert_int_equal(tts_selftest(&c, msg, sizeof(msg)), 0);
	print_message("%s\n", msg);
	assert_non_null(strstr(msg, "tts http: "));
	conf_http(&c, url, sizeof(url), "garbage");
	assert_int_equal(tts_selftest(&c, msg, sizeof(msg)), EPROTO);
	assert_non_null(strstr(msg, "synthesis failed"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_formats),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_selftest),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
