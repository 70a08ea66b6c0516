/* g711.c - G.711 mu-law and A-law, the classic segment algorithms (no tables needed). */
#include "media/g711.h"

#define ULAW_BIAS 0x84 /* decoder */

uint8_t g711_ulaw_enc(int16_t s)
{
	/* Sun/CCITT reference: 14-bit magnitude, bias 33, clip 8159. */
	int v = s >> 2, mask = 0xff, seg = 0;

	if (v < 0) {
		v = -v;
		mask = 0x7f;
	}
	if (v > 8159)
		v = 8159;
	v += 0x21;
	while (seg < 8 && v > (0x40 << seg) - 1)
		seg++;
	if (seg >= 8)
		return (uint8_t)(0x7f ^ mask);
	return (uint8_t)(((seg << 4) | ((v >> (seg + 1)) & 0x0f)) ^ mask);
}

int16_t g711_ulaw_dec(uint8_t u)
{
	int v, exp, mant;

	u = (uint8_t)~u;
	exp = (u >> 4) & 0x07;
	mant = u & 0x0f;
	v = ((mant << 3) + ULAW_BIAS) << exp;
	v -= ULAW_BIAS;
	return (int16_t)((u & 0x80) ? -v : v);
}

uint8_t g711_alaw_enc(int16_t s)
{
	int v = s, sign, exp, mant;
	uint8_t a;

	if (v >= 0) {
		sign = 0x80;
	} else {
		sign = 0;
		v = -v - 1;
	}
	if (v > 32767)
		v = 32767;
	v >>= 3; /* 13-bit magnitude */
	if (v < 32) {
		exp = 0;
		mant = v >> 1;
	} else {
		exp = 1;
		for (int t = v >> 5; t > 1 && exp < 7; t >>= 1)
			exp++;
		mant = (v >> exp) & 0x0f;
	}
	a = (uint8_t)(sign | (exp << 4) | mant);
	return a ^ 0x55;
}

int16_t g711_alaw_dec(uint8_t a)
{
	int v, exp, mant;

	a ^= 0x55;
	exp = (a >> 4) & 0x07;
	mant = a & 0x0f;
	if (exp == 0)
		v = (mant << 4) + 8;
	else
		v = ((mant << 4) + 0x108) << (exp - 1);
	return (int16_t)((a & 0x80) ? v : -v);
}

void g711_encode(int law, const int16_t *pcm, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = law == 8 ? g711_alaw_enc(pcm[i]) : g711_ulaw_enc(pcm[i]);
}

void g711_decode(int law, const uint8_t *in, int16_t *pcm, size_t n)
{
	for (size_t i = 0; i < n; i++)
		pcm[i] = law == 8 ? g711_alaw_dec(in[i]) : g711_ulaw_dec(in[i]);
}
