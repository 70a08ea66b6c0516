/* test_crypto_recfile.c - tests src/crypto/recfile.c: encrypted recording files. */
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

#include "crypto/fernet.h"
#include "crypto/recfile.h"

static char dir[64], path[128];

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/callbot-recfile-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/rec.cbrec", dir);
	return 0;
}

static int teardown(void **state)
{
	char p[160];

	(void)state;
	unlink(path);
	snprintf(p, sizeof(p), "%s.rekey", path);
	unlink(p);
	rmdir(dir);
	return 0;
}

static struct fernet_keyring *ring(const char *a, const char *b)
{
	struct fernet_keyring *kr = NULL;
	char csv[100];

	snprintf(csv, sizeof(csv), "%s%s%s", a, b ? "," : "", b ? b : "");
	assert_int_equal(fernet_keyring_parse(&kr, csv), 0);
	return kr;
}

/* 200 KiB in odd-sized writes: several records and a partial last one. */
static void write_sample(const struct fernet_keyring *kr, uint8_t *data, size_t len)
{
	struct recfile *rf = NULL;

	for (size_t i = 0; i < len; i++)
		data[i] = (uint8_t)(i * 7 + (i >> 9));
	assert_int_equal(recfile_create(&rf, path, kr), 0);
	for (size_t off = 0; off < len; off += 1000)
		assert_int_equal(recfile_write(rf, data + off, len - off < 1000 ? len - off : 1000), 0);
	assert_int_equal(recfile_close(rf), 0);
}

static void test_round_trip(void **state)
{
	char k1[FERNET_KEY_LEN + 1], k2[FERNET_KEY_LEN + 1];
	struct fernet_keyring *kr, *both, *other;
	static uint8_t data[200 * 1024];
	struct recfile *rf = NULL;
	uint8_t *out = NULL;
	size_t len = 0, idx = 9;
	struct stat sb;
	bool changed = false;

	(void)state;
	assert_int_equal(fernet_key_generate(k1), 0);
	assert_int_equal(fernet_key_generate(k2), 0);
	kr = ring(k1, NULL);
	both = ring(k2, k1);
	other = ring(k2, NULL);
	write_sample(kr, data, sizeof(data));
	assert_true(recfile_is(path));
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(recfile_create(&rf, path, kr), EEXIST);

	assert_int_equal(recfile_read_all(path, kr, false, &out, &len, &idx), 0);
	assert_int_equal(len, sizeof(data));
	assert_memory_equal(out, data, len);
	assert_int_equal(idx, 0);
	free(out);
	assert_int_equal(recfile_read_all(path, both, false, &out, &len, &idx), 0);
	assert_int_equal(idx, 1);	/* made with the older key */
	free(out);
	assert_int_equal(recfile_read_all(path, other, false, &out, &len, NULL), EBADMSG);

	/* rotation rewrites it under the newest key, once */
	assert_int_equal(recfile_rekey(path, both, &changed), 0);
	assert_true(changed);
	assert_int_equal(recfile_rekey(path, both, &changed), 0);
	assert_false(changed);
	assert_int_equal(recfile_read_all(path, other, false, &out, &len, NULL), 0);
	assert_memory_equal(out, data, sizeof(data));
	free(out);

	fernet_keyring_free(kr);
	fernet_keyring_free(both);
	fernet_keyring_free(other);
}

static void test_tampering(void **state)
{
	char k[FERNET_KEY_LEN + 1];
	struct fernet_keyring *kr;
	static uint8_t data[150 * 1024];
	uint8_t *out = NULL, byte;
	size_t len = 0;
	struct stat sb;
	FILE *f;

	(void)state;
	assert_int_equal(fernet_key_generate(k), 0);
	kr = ring(k, NULL);
	write_sample(kr, data, sizeof(data));
	assert_int_equal(stat(path, &sb), 0);

	/* a flipped byte in the middle */
	f = fopen(path, "r+b");
	assert_non_null(f);
	fseek(f, sb.st_size / 2, SEEK_SET);
	byte = (uint8_t)fgetc(f);
	fseek(f, sb.st_size / 2, SEEK_SET);
	fputc(byte ^ 1, f);
	fclose(f);
	assert_int_equal(recfile_read_all(path, kr, false, &out, &len, NULL), EBADMSG);
	unlink(path);

	/* truncated after the first record: the last-record flag is missing */
	write_sample(kr, data, sizeof(data));
	assert_int_equal(truncate(path, 8 + 4 + 100000 / 1), 0);
	assert_int_not_equal(recfile_read_all(path, kr, false, &out, &len, NULL), 0);
	assert_int_equal(stat(path, &sb), 0);
	unlink(path);
	write_sample(kr, data, sizeof(data));
	assert_int_equal(stat(path, &sb), 0);
	{
		/* cut exactly at a record boundary: the first record is 4 + N bytes */
		uint8_t hdr[12];
		uint32_t n;

		f = fopen(path, "rb");
		assert_int_equal(fread(hdr, 1, 12, f), 12);
		fclose(f);
		n = (uint32_t)hdr[8] << 24 | (uint32_t)hdr[9] << 16 | (uint32_t)hdr[10] << 8 | hdr[11];
		assert_int_equal(truncate(path, 8 + 4 + (off_t)n), 0);
	}
	assert_int_equal(recfile_read_all(path, kr, false, &out, &len, NULL), ENODATA);
	assert_int_equal(recfile_read_all(path, kr, true, &out, &len, NULL), 0);
	assert_int_equal(len, RECFILE_CHUNK);
	assert_memory_equal(out, data, len);
	free(out);
	fernet_keyring_free(kr);
}

static void test_wav_fixup(void **state)
{
	uint8_t wav[44 + 8];

	(void)state;
	memset(wav, 0, sizeof(wav));
	memcpy(wav, "RIFF\xff\xff\xff\xffWAVEfmt ", 16);
	memcpy(wav + 36, "data\xff\xff\xff\xff", 8);
	recfile_wav_fixup(wav, sizeof(wav));
	assert_int_equal(wav[4], 44);	/* 52 - 8 */
	assert_int_equal(wav[40], 8);
	assert_int_equal(wav[43], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tampering, setup, teardown),
		cmocka_unit_test(test_wav_fixup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
