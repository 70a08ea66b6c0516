/* resample.c - thin wrapper of speexdsp's resampler that always consumes its input. */
#include "pipeline/resample.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <speex/speex_resampler.h>

struct resampler {
	SpeexResamplerState *st;
	unsigned in_rate, out_rate;
};

int resampler_alloc(struct resampler **out, unsigned in_rate, unsigned out_rate, int quality)
{
	struct resampler *r;
	int err = 0;

	if (!out || !in_rate || !out_rate || quality < 0 || quality > 10)
		return EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return ENOMEM;
	r->in_rate = in_rate;
	r->out_rate = out_rate;
	r->st = speex_resampler_init(1, in_rate, out_rate, quality, &err);
	if (!r->st || err != RESAMPLER_ERR_SUCCESS) {
		resampler_free(r);
		return err == RESAMPLER_ERR_ALLOC_FAILED ? ENOMEM : EINVAL;
	}
	speex_resampler_skip_zeros(r->st);
	*out = r;
	return 0;
}

void resampler_free(struct resampler *r)
{
	if (!r)
		return;
	if (r->st)
		speex_resampler_destroy(r->st);
	free(r);
}

size_t resampler_out_max(const struct resampler *r, size_t n)
{
	return (size_t)((unsigned long long)n * r->out_rate / r->in_rate) + 16;
}

size_t resampler_process(struct resampler *r, const int16_t *in, size_t n, int16_t *out,
			 size_t cap)
{
	size_t done = 0, wrote = 0;

	while (done < n && wrote < cap) {
		spx_uint32_t ilen = (spx_uint32_t)(n - done > 1u << 20 ? 1u << 20 : n - done);
		spx_uint32_t olen = (spx_uint32_t)(cap - wrote > 1u << 20 ? 1u << 20 : cap - wrote);

		speex_resampler_process_int(r->st, 0, in + done, &ilen, out + wrote, &olen);
		if (!ilen && !olen)
			break;
		done += ilen;
		wrote += olen;
	}
	return wrote;
}

size_t resampler_flush(struct resampler *r, int16_t *out, size_t cap)
{
	int lat = speex_resampler_get_input_latency(r->st);
	int16_t zeros[256];
	size_t wrote = 0;

	memset(zeros, 0, sizeof(zeros));
	while (lat > 0 && wrote < cap) {
		size_t k = (size_t)lat < 256 ? (size_t)lat : 256;

		wrote += resampler_process(r, zeros, k, out + wrote, cap - wrote);
		lat -= (int)k;
	}
	return wrote;
}

void resampler_reset(struct resampler *r)
{
	speex_resampler_reset_mem(r->st);
	speex_resampler_skip_zeros(r->st);
}

int resample_buffer(const int16_t *in, size_t n, unsigned in_rate, unsigned out_rate,
		    int16_t **out, size_t *out_n)
{
	struct resampler *r;
	size_t cap, k;
	int16_t *o;
	int err = resampler_alloc(&r, in_rate, out_rate, 5);

	if (err)
		return err;
	cap = resampler_out_max(r, n) + resampler_out_max(r, 512);
	o = malloc(cap * sizeof(*o));
	if (!o) {
		resampler_free(r);
		return ENOMEM;
	}
	k = resampler_process(r, in, n, o, cap);
	k += resampler_flush(r, o + k, cap - k);
	resampler_free(r);
	*out = o;
	*out_n = k;
	return 0;
}
