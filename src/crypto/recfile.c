/* recfile.c - encrypted recording files (format in recfile.h and docs/security.md). */
#include "crypto/recfile.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "crypto/crypto.h"

#define ID_LEN 16
#define HDR_LEN (ID_LEN + 8 + 1)
#define FLAG_LAST 0x01
/* A record never holds more than RECFILE_CHUNK plain bytes; allow slack
 * for Fernet's overhead and foreign writers with bigger chunks. */
#define RECORD_MAX (16u << 20)

struct recfile {
	int fd;
	const struct fernet_keyring *kr;
	uint8_t id[ID_LEN];
	uint64_t seq;
	int err;
	size_t n;
	uint8_t buf[HDR_LEN + RECFILE_CHUNK];
};

static int read_all(int fd, void *data, size_t len, size_t *got)
{
	uint8_t *p = data;

	*got = 0;
	while (*got < len) {
		ssize_t r = read(fd, p + *got, len - *got);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		if (r == 0)
			break;
		*got += (size_t)r;
	}
	return 0;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static uint64_t get_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* Encrypts buf[0..HDR_LEN+n) (header filled here) and appends the record. */
static int emit(struct recfile *rf, bool last)
{
	uint8_t *bin = NULL, len4[4];
	char *tok = NULL;
	size_t toklen, binlen = 0;
	int err;

	memcpy(rf->buf, rf->id, ID_LEN);
	put_be64(rf->buf + ID_LEN, rf->seq);
	rf->buf[ID_LEN + 8] = last ? FLAG_LAST : 0;
	err = fernet_encrypt(rf->kr, rf->buf, HDR_LEN + rf->n, &tok);
	if (err)
		return err;
	toklen = strlen(tok);
	bin = malloc(toklen);
	if (!bin) {
		err = ENOMEM;
		goto out;
	}
	if (sodium_base642bin(bin, toklen, tok, toklen, NULL, &binlen, NULL,
			      sodium_base64_VARIANT_URLSAFE) != 0) {
		err = EIO;
		goto out;
	}
	put_be32(len4, (uint32_t)binlen);
	err = fd_write_all(rf->fd, len4, sizeof(len4));
	if (!err)
		err = fd_write_all(rf->fd, bin, binlen);
	if (!err) {
		rf->seq++;
		rf->n = 0;
	}
out:
	sodium_memzero(rf->buf + HDR_LEN, rf->n);
	free(bin);
	free(tok);
	return err;
}

int recfile_create(struct recfile **out, const char *path, const struct fernet_keyring *kr)
{
	struct recfile *rf;
	int err;

	if (!out || !path || !kr || !fernet_keyring_count(kr))
		return EINVAL;
	err = crypto_init();
	if (err)
		return err;
	rf = calloc(1, sizeof(*rf));
	if (!rf)
		return ENOMEM;
	rf->kr = kr;
	randombytes_buf(rf->id, sizeof(rf->id));
	rf->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (rf->fd < 0) {
		err = errno;
		free(rf);
		return err;
	}
	err = fd_write_all(rf->fd, RECFILE_MAGIC, RECFILE_MAGIC_LEN);
	if (err) {
		close(rf->fd);
		unlink(path);
		free(rf);
		return err;
	}
	*out = rf;
	return 0;
}

int recfile_write(struct recfile *rf, const void *data, size_t len)
{
	const uint8_t *p = data;

	if (!rf || (!data && len))
		return EINVAL;
	while (len && !rf->err) {
		size_t take = RECFILE_CHUNK - rf->n;

		if (take > len)
			take = len;
		memcpy(rf->buf + HDR_LEN + rf->n, p, take);
		rf->n += take;
		p += take;
		len -= take;
		if (rf->n == RECFILE_CHUNK)
			rf->err = emit(rf, false);
	}
	return rf->err;
}

int recfile_close(struct recfile *rf)
{
	int err;

	if (!rf)
		return EINVAL;
	err = rf->err;
	if (!err)
		err = emit(rf, true);
	if (!err && fsync(rf->fd) != 0)
		err = errno;
	if (close(rf->fd) != 0 && !err)
		err = errno;
	sodium_memzero(rf, sizeof(*rf));
	free(rf);
	return err;
}

bool recfile_is(const char *path)
{
	uint8_t magic[RECFILE_MAGIC_LEN];
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool is;

	if (fd < 0)
		return false;
	is = read_all(fd, magic, sizeof(magic), &got) == 0 && got == sizeof(magic) &&
	     memcmp(magic, RECFILE_MAGIC, RECFILE_MAGIC_LEN) == 0;
	close(fd);
	return is;
}

void recfile_wav_fixup(uint8_t *buf, size_t len)
{
	uint32_t riff, data;

	if (len < 44 || len > UINT32_MAX || memcmp(buf, "RIFF", 4) != 0 ||
	    memcmp(buf + 8, "WAVE", 4) != 0 || memcmp(buf + 36, "data", 4) != 0)
		return;
	riff = (uint32_t)buf[4] | (uint32_t)buf[5] << 8 | (uint32_t)buf[6] << 16 |
	       (uint32_t)buf[7] << 24;
	data = (uint32_t)buf[40] | (uint32_t)buf[41] << 8 | (uint32_t)buf[42] << 16 |
	       (uint32_t)buf[43] << 24;
	if ((riff != 0 && riff != UINT32_MAX) || (data != 0 && data != UINT32_MAX))
		return;
	riff = (uint32_t)(len - 8);
	data = (uint32_t)(len - 44);
	for (int i = 0; i < 4; i++) {
		buf[4 + i] = (uint8_t)(riff >> (8 * i));
		buf[40 + i] = (uint8_t)(data >> (8 * i));
	}
}

struct growbuf {
	uint8_t *p;
	size_t n, cap;
};

static int grow_append(struct growbuf *g, const uint8_t *data, size_t len)
{
	if (g->n + len + 1 > g->cap) {
		size_t cap = g->cap ? g->cap : 65536;
		uint8_t *p;

		while (cap < g->n + len + 1)
			cap *= 2;
		p = realloc(g->p, cap);
		if (!p)
			return ENOMEM;
		g->p = p;
		g->cap = cap;
	}
	memcpy(g->p + g->n, data, len);
	g->n += len;
	g->p[g->n] = '\0';
	return 0;
}

int recfile_read_all(const char *path, const struct fernet_keyring *kr, bool allow_partial,
		     uint8_t **out, size_t *len, size_t *key_index)
{
	struct growbuf g = { 0 };
	uint8_t magic[RECFILE_MAGIC_LEN], len4[4], id[ID_LEN];
	uint8_t *bin = NULL, *plain = NULL;
	char *tok = NULL;
	size_t got, plen, toksize, idx = 0;
	uint64_t seq = 0;
	bool last = false;
	int fd, err;

	if (!path || !kr || !out || !len)
		return EINVAL;
	err = crypto_init();
	if (err)
		return err;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	err = read_all(fd, magic, sizeof(magic), &got);
	if (!err && (got != sizeof(magic) || memcmp(magic, RECFILE_MAGIC, RECFILE_MAGIC_LEN)))
		err = EBADMSG;
	while (!err) {
		uint32_t n;

		err = read_all(fd, len4, 4, &got);
		if (err || got == 0)
			break;
		n = get_be32(len4);
		if (got != 4 || n == 0 || n > RECORD_MAX || last) {
			err = EBADMSG;
			break;
		}
		bin = malloc(n);
		toksize = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_URLSAFE);
		tok = malloc(toksize);
		if (!bin || !tok) {
			err = ENOMEM;
			break;
		}
		err = read_all(fd, bin, n, &got);
		if (!err && got != n)
			err = allow_partial ? 0 : ENODATA;
		if (err || got != n)
			break;
		sodium_bin2base64(tok, toksize, bin, n, sodium_base64_VARIANT_URLSAFE);
		if (seq == 0 && key_index)
			err = fernet_key_index(kr, tok, strlen(tok), &idx);
		if (!err)
			err = fernet_decrypt(kr, tok, strlen(tok), 0, &plain, &plen);
		if (err) {
			if (err != ENOMEM)
				err = EBADMSG;
			break;
		}
		if (plen < HDR_LEN || (seq == 0 ? (memcpy(id, plain, ID_LEN), 0) :
				       memcmp(id, plain, ID_LEN) != 0) ||
		    get_be64(plain + ID_LEN) != seq) {
			err = EBADMSG;
			break;
		}
		last = plain[ID_LEN + 8] & FLAG_LAST;
		err = grow_append(&g, plain + HDR_LEN, plen - HDR_LEN);
		sodium_memzero(plain, plen);
		free(plain);
		plain = NULL;
		free(bin);
		bin = NULL;
		free(tok);
		tok = NULL;
		seq++;
	}
	close(fd);
	if (plain) {
		sodium_memzero(plain, plen);
		free(plain);
	}
	free(bin);
	free(tok);
	if (!err && !last && !allow_partial)
		err = seq == 0 ? EBADMSG : ENODATA;
	if (!err && !g.p)
		err = grow_append(&g, (const uint8_t *)"", 0);
	if (err) {
		if (g.p)
			sodium_memzero(g.p, g.cap);
		free(g.p);
		return err;
	}
	recfile_wav_fixup(g.p, g.n);
	*out = g.p;
	*len = g.n;
	if (key_index)
		*key_index = idx;
	return 0;
}

static int copy_in(struct recfile *rf, const char *src)
{
	uint8_t buf[16384];
	int fd = open(src, O_RDONLY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return errno;
	for (;;) {
		ssize_t r = read(fd, buf, sizeof(buf));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = errno;
			break;
		}
		if (r == 0)
			break;
		err = recfile_write(rf, buf, (size_t)r);
		if (err)
			break;
	}
	sodium_memzero(buf, sizeof(buf));
	close(fd);
	return err;
}

int recfile_encrypt_file(const char *src, const char *dst, const struct fernet_keyring *kr)
{
	struct recfile *rf = NULL;
	int err = recfile_create(&rf, dst, kr), err2;

	if (err)
		return err;
	err = copy_in(rf, src);
	err2 = recfile_close(rf);
	if (!err)
		err = err2;
	if (err)
		unlink(dst);
	return err;
}

static int fsync_dir_of(const char *path)
{
	char *dir = strdup(path), *slash;
	int fd, err = 0;

	if (!dir)
		return ENOMEM;
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		strcpy(dir, ".");
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		if (fsync(fd) != 0)
			err = errno;
		close(fd);
	}
	free(dir);
	return err;
}

int recfile_rekey(const char *path, const struct fernet_keyring *kr, bool *changed)
{
	struct recfile *rf = NULL;
	uint8_t *plain = NULL;
	size_t len = 0, idx = 0;
	char *tmp = NULL;
	int err, err2;

	if (!path || !kr || !changed)
		return EINVAL;
	*changed = false;
	if (asprintf(&tmp, "%s.rekey", path) < 0)
		return ENOMEM;
	unlink(tmp);	/* left over by an interrupted run */
	if (!recfile_is(path)) {
		err = access(path, F_OK) == 0 ? recfile_encrypt_file(path, tmp, kr) : errno;
		goto rename;
	}
	err = recfile_read_all(path, kr, true, &plain, &len, &idx);
	if (err || idx == 0)
		goto out;
	err = recfile_create(&rf, tmp, kr);
	if (!err) {
		/* the plain WAV header was completed on reading: keep it so */
		err = recfile_write(rf, plain, len);
		err2 = recfile_close(rf);
		if (!err)
			err = err2;
	}
rename:
	if (!err && rename(tmp, path) != 0)
		err = errno;
	if (!err) {
		*changed = true;
		err = fsync_dir_of(path);
	} else {
		unlink(tmp);
	}
out:
	if (plain) {
		sodium_memzero(plain, len);
		free(plain);
	}
	free(tmp);
	return err;
}
