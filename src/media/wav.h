/* wav.h - streaming writer of 16-bit PCM WAV files (recordings: caller left, bot right). */
#ifndef CALLBOT_MEDIA_WAV_H
#define CALLBOT_MEDIA_WAV_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct wav_writer {
	FILE *f;
	unsigned channels, rate;
	uint64_t frames;
};

/* Creates path with mode 0600 (never overwrites: EEXIST) and writes a header
 * that wav_close() completes. Returns 0 or an errno value. */
int wav_open(struct wav_writer *w, const char *path, unsigned channels, unsigned rate);
/* n frames of interleaved samples (n * channels int16 values). */
int wav_write(struct wav_writer *w, const int16_t *samples, size_t n);
/* Patches the sizes, flushes and closes; 0 or an errno value. */
int wav_close(struct wav_writer *w);

#endif
