/* test_g711.c - G.711 mu-law/A-law: reference code points and round-trip error bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "media/g711.h"

static void test_reference_points(void **state)
{
	(void)state;
	/* Silence codes of the ITU-T tables. */
	assert_int_equal(g711_ulaw_enc(0), 0xff);
	assert_int_equal(g711_alaw_enc(0), 0xd5);
	assert_int_equal(g711_ulaw_dec(0xff), 0);
	assert_int_equal(g711_ulaw_dec(0x7f), 0);
	assert_int_equal(g711_alaw_dec(0xd5), 8);
	assert_int_equal(g711_alaw_dec(0x55), -8);
	/* Reference encodings (CCITT/Sun g711.c, as in CPython's audioop). */
	{
		static const struct { int16_t s; uint8_t u, a; } ref[] = {
			{ 1, 0xff, 0xd5 }, { -1, 0x7e, 0x55 }, { 100, 0xf2, 0xd3 },
			{ -100, 0x72, 0x53 }, { 1000, 0xce, 0xfa }, { -1000, 0x4e, 0x7a },
			{ 12345, 0x97, 0xbd }, { -12345, 0x17, 0x3d },
		};

		for (size_t i = 0; i < sizeof(ref) / sizeof(ref[0]); i++) {
			assert_int_equal(g711_ulaw_enc(ref[i].s), ref[i].u);
			assert_int_equal(g711_alaw_enc(ref[i].s), ref[i].a);
		}
	}
	/* Extremes. */
	assert_int_equal(g711_ulaw_enc(32767), 0x80);
	assert_int_equal(g711_ulaw_enc(-32768), 0x00);
	assert_int_equal(g711_ulaw_dec(0x80), 32124);
	assert_int_equal(g711_ulaw_dec(0x00), -32124);
	assert_int_equal(g711_alaw_enc(32767), 0xaa);
	assert_int_equal(g711_alaw_enc(-32768), 0x2a);
	assert_int_equal(g711_alaw_dec(0xaa), 32256);
	assert_int_equal(g711_alaw_dec(0x2a), -32256);
}

/* Every code decodes to a value that encodes back to the same code. */
static void test_codes_are_fixed_points(void **state)
{
	(void)state;
	for (int c = 0; c < 256; c++) {
		uint8_t u = (uint8_t)c;

		if (u != 0x7f) /* mu-law has two zeros; 0x7f (-0) maps to 0xff (+0) */
			assert_int_equal(g711_ulaw_enc(g711_ulaw_dec(u)), u);
		assert_int_equal(g711_alaw_enc(g711_alaw_dec(u)), u);
	}
}

/* Quantisation error stays within half a step of the segment (relative ~3 %). */
static void test_roundtrip_error(void **state)
{
	(void)state;
	for (int s = -32768; s <= 32767; s += 7) {
		int du = g711_ulaw_dec(g711_ulaw_enc((int16_t)s)) - s;
		int da = g711_alaw_dec(g711_alaw_enc((int16_t)s)) - s;
		int mag = abs(s);
		int tol = mag / 16 + 16;

		if (mag > 32124)
			tol = mag - 32124 + 1100; /* clipped top segment */
		assert_true(abs(du) <= tol);
		assert_true(abs(da) <= tol);
	}
}

static void test_monotonic(void **state)
{
	int prev_u = -40000, prev_a = -40000;

	(void)state;
	for (int s = -32768; s <= 32767; s++) {
		int u = g711_ulaw_dec(g711_ulaw_enc((int16_t)s));
		int a = g711_alaw_dec(g711_alaw_enc((int16_t)s));

		assert_true(u >= prev_u);
		assert_true(a >= prev_a);
		prev_u = u;
		prev_a = a;
	}
}

static void test_buffers(void **state)
{
	int16_t pcm[160], back[160];
	uint8_t enc[160];

	(void)state;
	for (int i = 0; i < 160; i++)
		pcm[i] = (int16_t)(i * 200 - 16000);
	g711_encode(0, pcm, enc, 160);
	g711_decode(0, enc, back, 160);
	for (int i = 0; i < 160; i++)
		assert_int_equal(back[i], g711_ulaw_dec(g711_ulaw_enc(pcm[i])));
	g711_encode(8, pcm, enc, 160);
	g711_decode(8, enc, back, 160);
	for (int i = 0; i < 160; i++)
		assert_int_equal(back[i], g711_alaw_dec(g711_alaw_enc(pcm[i])));
}

/* The buffer forms (table lookups) equal the per-sample reference for every input. */
static void test_buffers_exhaustive(void **state)
{
	static int16_t pcm[65536], back[256];
	static uint8_t out[65536], codes[256];

	(void)state;
	for (int i = 0; i < 65536; i++)
		pcm[i] = (int16_t)(i - 32768);
	for (int i = 0; i < 256; i++)
		codes[i] = (uint8_t)i;
	g711_encode(0, pcm, out, 65536);
	for (int i = 0; i < 65536; i++)
		assert_int_equal(out[i], g711_ulaw_enc(pcm[i]));
	g711_encode(8, pcm, out, 65536);
	for (int i = 0; i < 65536; i++)
		assert_int_equal(out[i], g711_alaw_enc(pcm[i]));
	g711_decode(0, codes, back, 256);
	for (int i = 0; i < 256; i++)
		assert_int_equal(back[i], g711_ulaw_dec(codes[i]));
	g711_decode(8, codes, back, 256);
	for (int i = 0; i < 256; i++)
		assert_int_equal(back[i], g711_alaw_dec(codes[i]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reference_points),
		cmocka_unit_test(test_codes_are_fixed_points),
		cmocka_unit_test(test_roundtrip_error),
		cmocka_unit_test(test_monotonic),
		cmocka_unit_test(test_buffers),
		cmocka_unit_test(test_buffers_exhaustive),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
