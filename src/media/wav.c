/* wav.c - RIFF/WAVE PCM writer; sizes are patched at close so a crash leaves a
 * file whose header says 0 bytes but whose samples are still recoverable. */
#include "media/wav.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void header(uint8_t h[44], unsigned channels, unsigned rate, uint32_t data_bytes)
{
	memcpy(h, "RIFF", 4);
	put_le32(h + 4, 36 + data_bytes);
	memcpy(h + 8, "WAVEfmt ", 8);
	put_le32(h + 16, 16);
	put_le16(h + 20, 1); /* PCM */
	put_le16(h + 22, (uint16_t)channels);
	put_le32(h + 24, rate);
	put_le32(h + 28, rate * channels * 2);
	put_le16(h + 32, (uint16_t)(channels * 2));
	put_le16(h + 34, 16);
	memcpy(h + 36, "data", 4);
	put_le32(h + 40, data_bytes);
}

int wav_open(struct wav_writer *w, const char *path, unsigned channels, unsigned rate)
{
	uint8_t h[44];
	int fd;

	memset(w, 0, sizeof(*w));
	if (!path || channels < 1 || channels > 8 || rate < 1000 || rate > 192000)
		return EINVAL;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return errno;
	w->f = fdopen(fd, "wb");
	if (!w->f) {
		int err = errno;

		close(fd);
		unlink(path);
		return err;
	}
	w->channels = channels;
	w->rate = rate;
	header(h, channels, rate, 0);
	if (fwrite(h, sizeof(h), 1, w->f) != 1) {
		int err = errno ? errno : EIO;

		fclose(w->f);
		w->f = NULL;
		return err;
	}
	return 0;
}

int wav_write(struct wav_writer *w, const int16_t *samples, size_t n)
{
	uint8_t buf[1024];
	size_t total = n * w->channels, done = 0;

	if (!w->f)
		return EBADF;
	/* Little-endian on disk whatever the host order. */
	while (done < total) {
		size_t k = total - done;

		if (k > sizeof(buf) / 2)
			k = sizeof(buf) / 2;
		for (size_t i = 0; i < k; i++)
			put_le16(buf + 2 * i, (uint16_t)samples[done + i]);
		if (fwrite(buf, 2, k, w->f) != k)
			return errno ? errno : EIO;
		done += k;
	}
	w->frames += n;
	return 0;
}

int wav_close(struct wav_writer *w)
{
	uint8_t h[44];
	uint64_t bytes;
	int err = 0;

	if (!w->f)
		return 0;
	bytes = w->frames * w->channels * 2;
	if (bytes > 0xffffffffu - 36)
		bytes = 0xffffffffu - 36;
	header(h, w->channels, w->rate, (uint32_t)bytes);
	if (fseek(w->f, 0, SEEK_SET) != 0 || fwrite(h, sizeof(h), 1, w->f) != 1)
		err = errno ? errno : EIO;
	if (fflush(w->f) != 0 && !err)
		err = errno;
	if (fsync(fileno(w->f)) != 0 && !err && errno != EINVAL)
		err = errno;
	if (fclose(w->f) != 0 && !err)
		err = errno;
	w->f = NULL;
	return err;
}
