/* recording.c - opens recordings strictly inside AUDIO_DIR (no "..", no symlink escape), and
 * decrypts encrypted ones into memory. */
#include "web/recording.h"
#include "core/util.h"
#include "crypto/recfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct web_recording {
	int fd;		/* plain file, or -1 */
	uint8_t *mem;	/* decrypted file */
	uint64_t size;
};

/* realpath of dir/path (or path when absolute); 0 or errno. */
static int real_of(const char *dir, const char *path, char out[PATH_MAX])
{
	char *joined = path[0] == '/' ? strdup(path) : path_join(dir, path);
	int err = 0;

	if (!joined)
		return ENOMEM;
	if (!realpath(joined, out))
		err = errno;
	free(joined);
	return err;
}

int web_recording_resolve(const char *audio_dir, const char *base_dir, const char *path,
		      char *out, size_t cap)
{
	char dir[PATH_MAX], real[PATH_MAX];
	size_t dl;
	int err;

	if (!path || !*path)
		return ENOENT;
	if (!realpath(audio_dir, dir))
		return ENOENT;
	err = real_of(dir, path, real);
	if (err == ENOENT && path[0] != '/' && base_dir)
		err = real_of(base_dir, path, real);
	if (err)
		return err == ENOENT ? ENOENT : EACCES;
	dl = strlen(dir);
	if (strncmp(real, dir, dl) != 0 || real[dl] != '/')
		return EACCES;
	return str_copy(out, cap, real);
}

static int open_encrypted(const char *real, const struct fernet_keyring *kr,
			  struct web_recording *r)
{
	size_t len = 0;
	int err;

	if (!kr)
		return EBADMSG;
	err = recfile_read_all(real, kr, true, &r->mem, &len, NULL);
	r->size = len;
	return err;
}

int web_recording_open(const char *audio_dir, const char *base_dir, const char *path,
		   const struct fernet_keyring *kr, struct web_recording **out)
{
	char real[PATH_MAX];
	struct web_recording *r;
	struct stat sb;
	int err;

	err = web_recording_resolve(audio_dir, base_dir, path, real, sizeof(real));
	if (err)
		return err;
	r = calloc(1, sizeof(*r));
	if (!r)
		return ENOMEM;
	r->fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (r->fd < 0)
		err = errno;
	else if (fstat(r->fd, &sb) || !S_ISREG(sb.st_mode))
		err = EISDIR;
	else if (recfile_is(real)) {
		close(r->fd);
		r->fd = -1;
		err = open_encrypted(real, kr, r);
	} else
		r->size = (uint64_t)sb.st_size;
	if (err) {
		web_recording_close(r);
		return err;
	}
	*out = r;
	return 0;
}

uint64_t web_recording_size(const struct web_recording *r)
{
	return r->size;
}

ssize_t web_recording_read(struct web_recording *r, uint64_t off, void *buf, size_t n)
{
	if (r->fd >= 0)
		return pread(r->fd, buf, n, (off_t)off);
	if (off >= r->size)
		return 0;
	if (n > r->size - off)
		n = (size_t)(r->size - off);
	memcpy(buf, r->mem + off, n);
	return (ssize_t)n;
}

void web_recording_close(struct web_recording *r)
{
	if (!r)
		return;
	if (r->fd >= 0)
		close(r->fd);
	free(r->mem);
	free(r);
}
