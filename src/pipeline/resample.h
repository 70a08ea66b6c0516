/* resample.h - streaming sample-rate conversion of 16-bit mono audio (speexdsp). */
#ifndef CALLBOT_PIPELINE_RESAMPLE_H
#define CALLBOT_PIPELINE_RESAMPLE_H

#include <stddef.h>
#include <stdint.h>

struct resampler;

/* quality 0..10 (speexdsp); 3 is telephone-grade and cheap, 5 is speexdsp's default. */
int resampler_alloc(struct resampler **out, unsigned in_rate, unsigned out_rate, int quality);
void resampler_free(struct resampler *r);
/* An upper bound of the samples resampler_process() may write for n input samples. */
size_t resampler_out_max(const struct resampler *r, size_t n);
/* Converts all n input samples; writes at most cap samples to out (cap >=
 * resampler_out_max(n) guarantees everything fits) and returns how many it wrote. */
size_t resampler_process(struct resampler *r, const int16_t *in, size_t n, int16_t *out,
			 size_t cap);
/* Pushes the filter's delay line out (end of a stream); returns samples written. */
size_t resampler_flush(struct resampler *r, int16_t *out, size_t cap);
void resampler_reset(struct resampler *r);

/* One-shot conversion into a malloc'd buffer. */
int resample_buffer(const int16_t *in, size_t n, unsigned in_rate, unsigned out_rate,
		    int16_t **out, size_t *out_n);

#endif
