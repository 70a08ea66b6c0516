/* test_resample.c - speexdsp resampling wrapper and the WAV helpers of src/pipeline. */
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

#include "pipeline/dsp_wav.h"
#include "pipeline/resample.h"

static int16_t *sine(unsigned rate, double hz, size_t n, double amp)
{
	int16_t *s = malloc(n * sizeof(*s));

	assert_non_null(s);
	for (size_t i = 0; i < n; i++)
		s[i] = (int16_t)lrint(amp * sin(2 * M_PI * hz * (double)i / rate));
	return s;
}

static double rms(const int16_t *s, size_t n)
{
	double e = 0;

	for (size_t i = 0; i < n; i++)
		e += (double)s[i] * s[i];
	return sqrt(e / (double)n);
}

static unsigned crossings(const int16_t *s, size_t n)
{
	unsigned c = 0;

	for (size_t i = 1; i < n; i++)
		c += (s[i - 1] < 0) != (s[i] < 0);
	return c;
}

/* Streaming in 20 ms frames gives the right length and keeps a 1 kHz tone at 1 kHz. */
static void test_up(void **state)
{
	struct resampler *r;
	int16_t *in = sine(8000, 1000, 8000, 10000), *out = malloc(20000 * sizeof(*out));
	size_t got = 0;

	(void)state;
	assert_non_null(out);
	assert_int_equal(resampler_alloc(&r, 8000, 16000, 5), 0);
	for (size_t i = 0; i < 8000; i += 160) {
		assert_true(resampler_out_max(r, 160) >= 320);
		got += resampler_process(r, in + i, 160, out + got, 20000 - got);
	}
	got += resampler_flush(r, out + got, 20000 - got);
	assert_in_range(got, 15900, 16100);
	/* 1 kHz for 1 s: 2000 zero crossings, wherever they are counted */
	assert_in_range(crossings(out + 1000, 14000), 1740, 1760);
	assert_in_range((long)rms(out + 1000, 14000), 6900, 7300);
	resampler_reset(r);
	resampler_free(r);
	resampler_free(NULL);
	assert_int_equal(resampler_alloc(&r, 0, 8000, 5), EINVAL);
	assert_int_equal(resampler_alloc(&r, 8000, 8000, 11), EINVAL);
	free(in);
	free(out);
}

/* 22050 -> 8000 (espeak): 3 kHz passes, 6 kHz is removed, not folded to 2 kHz. */
static void test_down(void **state)
{
	int16_t *a = sine(22050, 3000, 22050, 10000), *b = sine(22050, 6000, 22050, 10000), *o;
	size_t n;

	(void)state;
	assert_int_equal(resample_buffer(a, 22050, 22050, 8000, &o, &n), 0);
	assert_in_range(n, 7950, 8050);
	assert_true(rms(o + 500, n - 1000) > 6500);
	free(o);
	assert_int_equal(resample_buffer(b, 22050, 22050, 8000, &o, &n), 0);
	assert_true(rms(o + 500, n - 1000) < 70); /* at least 40 dB down */
	free(o);
	free(a);
	free(b);
}

static void test_wav(void **state)
{
	int16_t s[5] = { 0, 1000, -1000, 32767, -32768 };
	struct dsp_pcm p;
	uint8_t *buf;
	size_t len;
	const char *why;
	char path[] = "/tmp/test_resample_XXXXXX";
	int fd;

	(void)state;
	assert_int_equal(dsp_wav_build(s, 5, 8000, &buf, &len), 0);
	assert_int_equal(len, 44 + 10);
	assert_int_equal(dsp_wav_parse(buf, len, &p, &why), 0);
	assert_int_equal(p.rate, 8000);
	assert_int_equal(p.n, 5);
	assert_memory_equal(p.s, s, sizeof(s));
	dsp_pcm_free(&p);
	/* mu-law: 0xff is 0, 0x80 is +32124, 0x00 is -32124; A-law 0xd5 is +8; stereo is
	 * mixed down */
	buf[20] = 7;
	buf[34] = 8;
	buf[22] = 2;
	assert_int_equal(dsp_wav_parse(buf, len, &p, &why), 0);
	assert_int_equal(p.n, 5);
	assert_int_equal(p.s[0], -32124); /* mu-law 0x00 twice */
	dsp_pcm_free(&p);
	buf[22] = 1;
	buf[44] = 0xff;
	buf[45] = 0x80;
	assert_int_equal(dsp_wav_parse(buf, len, &p, &why), 0);
	assert_int_equal(p.n, 10);
	assert_int_equal(p.s[0], 0);
	assert_int_equal(p.s[1], 32124);
	dsp_pcm_free(&p);
	buf[20] = 6;
	buf[44] = 0xd5;
	assert_int_equal(dsp_wav_parse(buf, len, &p, &why), 0);
	assert_int_equal(p.s[0], 8);
	dsp_pcm_free(&p);
	/* refusals */
	buf[20] = 3; /* float */
	assert_int_equal(dsp_wav_parse(buf, len, &p, &why), EINVAL);
	assert_non_null(why);
	assert_int_equal(dsp_wav_parse(buf, 10, &p, &why), EINVAL);
	memcpy(buf, "RIFX", 4);
	assert_int_equal(dsp_wav_parse(buf, len, &p, &why), EINVAL);
	free(buf);
	/* file round trip */
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(dsp_wav_write(path, s, 5, 16000), 0);
	assert_int_equal(dsp_wav_read(path, &p, &why), 0);
	assert_int_equal(p.rate, 16000);
	assert_memory_equal(p.s, s, sizeof(s));
	dsp_pcm_free(&p);
	unlink(path);
	assert_int_not_equal(dsp_wav_read("/nonexistent/x.wav", &p, &why), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_up),
		cmocka_unit_test(test_down),
		cmocka_unit_test(test_wav),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
