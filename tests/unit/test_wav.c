/* test_wav.c - the recording WAV writer: header fields, little-endian samples,
 * mode 0600, no overwrite; and the recorder thread writing stereo frames. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "crypto/recfile.h"
#include "media/recorder.h"
#include "media/wav.h"

static uint32_t le32(const uint8_t *p)
{
	return p[0] | (p[1] << 8) | (p[2] << 16) | ((uint32_t)p[3] << 24);
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static size_t slurp(const char *path, uint8_t *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, cap, f);
	fclose(f);
	return n;
}

static void tmpname(char *buf, size_t size, const char *tag)
{
	snprintf(buf, size, "/tmp/callbot-test-wav-%s-%d.wav", tag, (int)getpid());
	unlink(buf);
}

static void test_header_and_data(void **state)
{
	struct wav_writer w;
	char path[128];
	int16_t s[6] = { 1, -1, 0x1234, -2, 32767, -32768 };
	uint8_t buf[256];
	struct stat st;

	(void)state;
	tmpname(path, sizeof(path), "hdr");
	assert_int_equal(wav_open(&w, path, 2, 8000), 0);
	assert_int_equal(wav_write(&w, s, 3), 0);
	assert_int_equal(wav_close(&w), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(slurp(path, buf, sizeof(buf)), 44 + 12);
	assert_memory_equal(buf, "RIFF", 4);
	assert_int_equal(le32(buf + 4), 36 + 12);
	assert_memory_equal(buf + 8, "WAVEfmt ", 8);
	assert_int_equal(le32(buf + 16), 16);
	assert_int_equal(le16(buf + 20), 1);
	assert_int_equal(le16(buf + 22), 2);
	assert_int_equal(le32(buf + 24), 8000);
	assert_int_equal(le32(buf + 28), 32000);
	assert_int_equal(le16(buf + 32), 4);
	assert_int_equal(le16(buf + 34), 16);
	assert_memory_equal(buf + 36, "data", 4);
	assert_int_equal(le32(buf + 40), 12);
	for (int i = 0; i < 6; i++)
		assert_int_equal((int16_t)le16(buf + 44 + 2 * i), s[i]);
	/* Never overwrites. */
	assert_int_equal(wav_open(&w, path, 2, 8000), EEXIST);
	unlink(path);
}

static void test_bad_args(void **state)
{
	struct wav_writer w;

	(void)state;
	assert_int_equal(wav_open(&w, "/tmp/x.wav", 0, 8000), EINVAL);
	assert_int_equal(wav_open(&w, "/nonexistent-dir/x.wav", 1, 8000), ENOENT);
	assert_int_equal(wav_write(&w, NULL, 0), EBADF);
	assert_int_equal(wav_close(&w), 0);
}

static void test_recorder_thread(void **state)
{
	struct recorder *r;
	struct recording *rec;
	char path[128];
	int16_t a[160], b[160];
	static uint8_t buf[44 + 50 * 640 + 16];
	size_t n;

	(void)state;
	tmpname(path, sizeof(path), "rec");
	assert_int_equal(recorder_start(&r, NULL), 0);
	rec = recording_open(r, path);
	assert_non_null(rec);
	for (int f = 0; f < 50; f++) {
		for (int i = 0; i < 160; i++) {
			a[i] = (int16_t)(f * 100 + i);
			b[i] = (int16_t)-(f * 100 + i);
		}
		recording_frame(rec, a, b);
	}
	recording_close(rec);
	recorder_stop(r); /* writes everything queued first */
	n = slurp(path, buf, sizeof(buf));
	assert_int_equal(n, 44 + 50 * 640);
	assert_int_equal(le32(buf + 40), 50 * 640);
	/* Frame 7, sample 3: caller left, bot right. */
	assert_int_equal((int16_t)le16(buf + 44 + (7 * 160 + 3) * 4), 703);
	assert_int_equal((int16_t)le16(buf + 44 + (7 * 160 + 3) * 4 + 2), -703);
	unlink(path);
}

static void test_recorder_encrypted(void **state)
{
	static const char key[] = "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=";
	struct fernet_keyring *kr;
	struct recorder *r;
	struct recording *rec;
	char path[128];
	int16_t a[160], b[160];
	uint8_t *wav, raw[4096];
	size_t n;
	FILE *f;

	(void)state;
	assert_int_equal(fernet_keyring_parse(&kr, key), 0);
	tmpname(path, sizeof(path), "enc");
	assert_int_equal(recorder_start(&r, kr), 0);
	rec = recording_open(r, path);
	assert_non_null(rec);
	for (int fr = 0; fr < 50; fr++) {
		for (int i = 0; i < 160; i++) {
			a[i] = (int16_t)(fr * 100 + i);
			b[i] = (int16_t)-(fr * 100 + i);
		}
		recording_frame(rec, a, b);
	}
	recording_close(rec);
	recorder_stop(r);
	/* On disk: a recfile, no WAV header, no PCM in clear. */
	assert_true(recfile_is(path));
	f = fopen(path, "rb");
	assert_non_null(f);
	n = fread(raw, 1, sizeof(raw), f);
	fclose(f);
	assert_null(memmem(raw, n, "RIFF", 4));
	/* Read back: the same WAV as the plain writer makes, sizes completed. */
	assert_int_equal(recfile_read_all(path, kr, false, &wav, &n, NULL), 0);
	assert_int_equal(n, 44 + 50 * 640);
	assert_memory_equal(wav, "RIFF", 4);
	assert_int_equal(le32(wav + 40), 50 * 640);
	assert_int_equal((int16_t)le16(wav + 44 + (7 * 160 + 3) * 4), 703);
	assert_int_equal((int16_t)le16(wav + 44 + (7 * 160 + 3) * 4 + 2), -703);
	free(wav);
	fernet_keyring_free(kr);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_and_data),
		cmocka_unit_test(test_bad_args),
		cmocka_unit_test(test_recorder_thread),
		cmocka_unit_test(test_recorder_encrypted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
