/* fuzz_recfile.c - encrypted recordings: recfile_read_all on any file (as found on disk after
 * a crash, a copy or tampering), the WAV header fix-up on any buffer, and write -> read round
 * trips of the input as audio, whole and cut at an input-chosen length. */
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/fernet.h"
#include "crypto/recfile.h"
#include "fuzz.h"

static struct fernet_keyring *kr;
static char dir[64];

static void remove_dir(void)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/raw", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/rec", dir);
	unlink(path);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	if (fernet_keyring_parse(&kr, "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=") != 0)
		abort();
	snprintf(dir, sizeof(dir), "/tmp/callbot-fuzz-recfile-%d", (int)getpid());
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		abort();
	atexit(remove_dir);
	return 0;
}

static void write_file(const char *path, const uint8_t *data, size_t size)
{
	FILE *f = fopen(path, "wb");

	if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[128];
	uint8_t *out = NULL, *copy;
	size_t len = 0, idx = 0;
	struct recfile *rf = NULL;

	if (size > 300000)
		return 0;
	copy = malloc(size ? size : 1);
	if (!copy)
		abort();
	memcpy(copy, data, size);
	recfile_wav_fixup(copy, size);

	/* the input as a file on disk */
	snprintf(path, sizeof(path), "%s/raw", dir);
	write_file(path, data, size);
	if (recfile_read_all(path, kr, true, &out, &len, &idx) == 0)
		free(out);
	out = NULL;
	unlink(path);

	/* the input as audio: written in pieces, read back identical (after the fix-up) */
	snprintf(path, sizeof(path), "%s/rec", dir);
	unlink(path);
	if (recfile_create(&rf, path, kr) != 0)
		abort();
	for (size_t off = 0, step = size ? 1 + data[0] % 97 * 700 : 1; off < size; off += step)
		if (recfile_write(rf, data + off, size - off < step ? size - off : step) != 0)
			abort();
	if (recfile_close(rf) != 0)
		abort();
	if (recfile_read_all(path, kr, false, &out, &len, &idx) != 0 || len != size ||
	    (size && memcmp(out, copy, size)) || idx != 0)
		abort();
	free(out);
	out = NULL;
	/* cut as a crash would leave it: refused, or accepted as partial, never a crash */
	if (size > 1) {
		FILE *f = fopen(path, "rb");
		long full;

		if (!f || fseek(f, 0, SEEK_END) != 0 || (full = ftell(f)) < 0 || fclose(f) != 0)
			abort();
		if (truncate(path, (off_t)(((size_t)data[1] << 8 | data[size - 1]) % (size_t)(full + 1))))
			abort();
		if (recfile_read_all(path, kr, false, &out, &len, NULL) == 0)
			free(out);
		out = NULL;
		if (recfile_read_all(path, kr, true, &out, &len, NULL) == 0)
			free(out);
	}
	unlink(path);
	free(copy);
	return 0;
}
