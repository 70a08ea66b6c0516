/* dsp_wav.c - minimal RIFF/WAVE parsing and writing for speech audio. */
#include "pipeline/dsp_wav.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#define WAV_MAX (64u << 20)

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

/* ITU-T G.711 expansions (the media layer has its own codec; speech code stays standalone). */
static int16_t ulaw_dec(uint8_t u)
{
	int t;

	u = (uint8_t)~u;
	t = ((u & 0x0f) << 3) + 0x84;
	t <<= (u & 0x70) >> 4;
	return (int16_t)((u & 0x80) ? 0x84 - t : t - 0x84);
}

static int16_t alaw_dec(uint8_t a)
{
	int t, seg;

	a ^= 0x55;
	t = (a & 0x0f) << 4;
	seg = (a & 0x70) >> 4;
	if (seg == 0)
		t += 8;
	else if (seg == 1)
		t += 0x108;
	else
		t = (t + 0x108) << (seg - 1);
	return (int16_t)((a & 0x80) ? t : -t);
}

int dsp_wav_parse(const void *buf, size_t len, struct dsp_pcm *out, const char **why)
{
	const uint8_t *p = buf, *data = NULL;
	size_t pos = 12, dlen = 0, frames, i;
	unsigned fmt = 0, ch = 0, bits = 0, rate = 0, bpf;
	bool have_fmt = false;
	const char *dummy;

	if (!why)
		why = &dummy;
	*why = NULL;
	memset(out, 0, sizeof(*out));
	if (len < 12 || memcmp(p, "RIFF", 4) || memcmp(p + 8, "WAVE", 4)) {
		*why = "not a RIFF/WAVE file";
		return EINVAL;
	}
	while (pos + 8 <= len) {
		uint32_t csize = le32(p + pos + 4);
		const uint8_t *c = p + pos + 8;
		size_t avail = len - pos - 8;

		if (!memcmp(p + pos, "fmt ", 4)) {
			if (csize < 16 || csize > avail) {
				*why = "bad fmt chunk";
				return EINVAL;
			}
			fmt = le16(c);
			ch = le16(c + 2);
			rate = le32(c + 4);
			bits = le16(c + 14);
			if (fmt == 0xfffe && csize >= 26)
				fmt = le16(c + 24); /* sub-format GUID starts with the format tag */
			have_fmt = true;
		} else if (!memcmp(p + pos, "data", 4)) {
			data = c;
			dlen = (csize == 0 || csize > avail) ? avail : csize;
			break;
		}
		if (csize > avail)
			break;
		pos += 8 + csize + (csize & 1);
	}
	if (!have_fmt || !data) {
		*why = "no fmt or data chunk";
		return EINVAL;
	}
	if (ch < 1 || ch > 2 || rate < 1000 || rate > 192000) {
		*why = "unsupported channel count or sample rate";
		return EINVAL;
	}
	if (!((fmt == 1 && (bits == 16 || bits == 8)) || ((fmt == 6 || fmt == 7) && bits == 8))) {
		*why = "unsupported sample format (need 16-bit PCM, 8-bit PCM, mu-law or A-law)";
		return EINVAL;
	}
	bpf = ch * bits / 8;
	frames = dlen / bpf;
	out->s = malloc((frames ? frames : 1) * sizeof(int16_t));
	if (!out->s)
		return ENOMEM;
	for (i = 0; i < frames; i++) {
		int acc = 0;

		for (unsigned k = 0; k < ch; k++) {
			const uint8_t *q = data + i * bpf + k * (bits / 8);

			if (bits == 16)
				acc += (int16_t)le16(q);
			else if (fmt == 7)
				acc += ulaw_dec(*q);
			else if (fmt == 6)
				acc += alaw_dec(*q);
			else
				acc += (*q - 128) * 256;
		}
		out->s[i] = (int16_t)(acc / (int)ch);
	}
	out->n = frames;
	out->rate = rate;
	return 0;
}

int dsp_wav_read(const char *path, struct dsp_pcm *out, const char **why)
{
	char *buf;
	size_t len;
	int err;

	memset(out, 0, sizeof(*out));
	err = file_read_all(path, WAV_MAX, &buf, &len);
	if (err) {
		if (why)
			*why = "cannot read file";
		return err;
	}
	err = dsp_wav_parse(buf, len, out, why);
	free(buf);
	return err;
}

int dsp_wav_build(const int16_t *s, size_t n, unsigned rate, uint8_t **out, size_t *outlen)
{
	size_t dlen = n * 2;
	uint8_t *b;

	if (dlen > 0xffffffffu - 36)
		return EFBIG;
	b = malloc(44 + dlen);
	if (!b)
		return ENOMEM;
	memcpy(b, "RIFF", 4);
	put32(b + 4, (uint32_t)(36 + dlen));
	memcpy(b + 8, "WAVEfmt ", 8);
	put32(b + 16, 16);
	put16(b + 20, 1);
	put16(b + 22, 1);
	put32(b + 24, rate);
	put32(b + 28, rate * 2);
	put16(b + 32, 2);
	put16(b + 34, 16);
	memcpy(b + 36, "data", 4);
	put32(b + 40, (uint32_t)dlen);
	for (size_t i = 0; i < n; i++)
		put16(b + 44 + 2 * i, (uint16_t)s[i]);
	*out = b;
	*outlen = 44 + dlen;
	return 0;
}

int dsp_wav_write(const char *path, const int16_t *s, size_t n, unsigned rate)
{
	uint8_t *b;
	size_t len;
	FILE *f;
	int err = dsp_wav_build(s, n, rate, &b, &len);

	if (err)
		return err;
	f = fopen(path, "wb");
	if (!f) {
		err = errno;
	} else {
		if (fwrite(b, 1, len, f) != len)
			err = EIO;
		if (fclose(f) && !err)
			err = errno;
	}
	free(b);
	return err;
}

void dsp_pcm_free(struct dsp_pcm *p)
{
	if (!p)
		return;
	free(p->s);
	p->s = NULL;
	p->n = 0;
}
