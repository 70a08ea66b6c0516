/* dsp_wav.h - minimal RIFF/WAVE reader and writer for 16-bit PCM speech audio (fixtures,
 * HTTP speech backends). Recordings of calls live in media/wav.c, not here. */
#ifndef CALLBOT_PIPELINE_DSP_WAV_H
#define CALLBOT_PIPELINE_DSP_WAV_H

#include <stddef.h>
#include <stdint.h>

struct dsp_pcm {
	int16_t *s;    /* mono samples, malloc'd */
	size_t n;
	unsigned rate; /* Hz */
};

/* Parses a WAV image in memory: PCM 16-bit (also WAVE_FORMAT_EXTENSIBLE), mu-law or A-law,
 * 8-bit unsigned, any rate, 1 or 2 channels (stereo is mixed down). A data chunk size of
 * 0 or 0xffffffff (streamed WAV) means "to the end". Returns 0, EINVAL (not a WAV we can
 * read, why set to a short reason), ENOMEM. */
int dsp_wav_parse(const void *buf, size_t len, struct dsp_pcm *out, const char **why);
/* Reads a WAV file (at most 64 MiB). Errors as above plus the errno of reading. */
int dsp_wav_read(const char *path, struct dsp_pcm *out, const char **why);
/* Builds the 44-byte header + data of a mono 16-bit WAV; *out is malloc'd. */
int dsp_wav_build(const int16_t *s, size_t n, unsigned rate, uint8_t **out, size_t *outlen);
int dsp_wav_write(const char *path, const int16_t *s, size_t n, unsigned rate);
void dsp_pcm_free(struct dsp_pcm *p);

#endif
